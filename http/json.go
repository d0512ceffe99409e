package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/heraldhq/herald"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// decodeJSON reads r's body (at most MaxBodyBytes) into v, a pointer to a
// struct, strictly: valid UTF-8, one JSON value, no unknown fields, right
// types. Every failure is a 400 (or 413) with its own problem kind.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 64<<10 {
			bufPool.Put(buf)
		}
	}()
	// A body trickled in slowly is cut by the server's ReadTimeout (herald
	// serve --read-timeout); streams clear it when they take over.
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return herald.KindErrorf(herald.ETOOLARGE, "body-too-large", "Request body must be at most %d bytes.", MaxBodyBytes)
		}
		return herald.KindErrorf(herald.EINVALID, "invalid-body", "Could not read the request body.")
	}
	return decodeJSONBytes(buf.Bytes(), v)
}

// decodeJSONBytes is decodeJSON for a body already read.
func decodeJSONBytes(body []byte, v any) error {
	// encoding/json silently replaces invalid UTF-8 with U+FFFD; refuse it instead.
	if !utf8.Valid(body) {
		return herald.KindErrorf(herald.EINVALID, "invalid-utf8", "Request body must be valid UTF-8.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return herald.KindErrorf(herald.EINVALID, "invalid-json", "Request body must be a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return herald.KindErrorf(herald.EINVALID, "trailing-data", "Request body must hold a single JSON value.")
	}
	return nil
}

// jsonError turns an encoding/json error into a problem.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return herald.KindErrorf(herald.EINVALID, "invalid-json", "Malformed JSON.")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return herald.KindErrorf(herald.EINVALID, "wrong-type", "Request body must be a JSON object.")
		}
		return herald.KindErrorf(herald.EINVALID, "wrong-type", "Field %q must be %s.", typ.Field, jsonTypeName(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if uq, e := strconv.Unquote(name); e == nil {
			name = uq
		}
		if len(name) > 64 {
			name = name[:64]
		}
		return herald.KindErrorf(herald.EINVALID, "unknown-field", "Unknown field %q.", name)
	}
	return herald.KindErrorf(herald.EINVALID, "invalid-json", "Malformed JSON.")
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	if strings.HasPrefix(kind, "int") || strings.HasPrefix(kind, "uint") || strings.HasPrefix(kind, "float") {
		return "a number"
	}
	return "of another type"
}

// readOnly is a field a client may see but never set. A request naming one
// is refused rather than silently ignored, so clients learn early.
type readOnly = *json.RawMessage

func refuseReadOnly(fields map[string]readOnly) error {
	for name, v := range fields {
		if v != nil {
			return herald.KindErrorf(herald.EINVALID, "read-only-field", "Field %q cannot be set.", name)
		}
	}
	return nil
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 256<<10 {
			bufPool.Put(buf)
		}
	}()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	writeBody(w, status, buf.Bytes())
	return nil
}

// writeBody writes an encoded JSON body.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// queryInt parses an optional integer query parameter strictly.
func queryInt(r *http.Request, name, kind string, min, max int64) (int64, bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < min || n > max {
		return 0, false, herald.KindErrorf(herald.EINVALID, kind, "%s must be an integer between %d and %d.", name, min, max)
	}
	return n, true, nil
}
