package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald"
)

// Publishing for machines (issue 15): channel API keys, plain-text posting
// and Idempotency-Key retries. Who may act is decided in principal.go.

func (s *Server) handleCreateKey(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	var req struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Scopes) > 2*len(herald.Scopes) {
		return herald.KindErrorf(herald.EINVALID, "invalid-scopes", "Too many scopes.")
	}
	secret, hash := newKeySecret()
	k := &herald.ChannelKey{Name: req.Name, Scopes: req.Scopes}
	if err := s.Store.CreateChannelKey(r.Context(), a.ID, id, k, hash); err != nil {
		return err
	}
	// The one time the secret is shown.
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, struct {
		*herald.ChannelKey
		Secret string `json:"secret"`
	}{k, secret})
}

func (s *Server) handleListKeys(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	keys, err := s.Store.ListChannelKeys(r.Context(), a.ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Keys []*herald.ChannelKey `json:"keys"`
	}{keys})
}

func (s *Server) handleDeleteKey(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	kid, err := pathID(r, "key_id")
	if err != nil {
		return err
	}
	if err := s.Store.DeleteChannelKey(r.Context(), a.ID, id, kid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// plainTextBody reports whether a new update's body is its text rather
// than JSON: Content-Type text/plain, or a form body (curl -d's default)
// that is not a JSON object, so that `curl -d "Ciel clair"` posts.
func plainTextBody(r *http.Request, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "text/plain":
		return true
	case "application/x-www-form-urlencoded":
		return !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))
	}
	return false
}

type bodyCtx struct{}

// readBody reads a whole request body, at most MaxBodyBytes (once: a body
// already read for an Idempotency-Key's fingerprint is handed on).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if b, ok := r.Context().Value(bodyCtx{}).([]byte); ok {
		return b, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, herald.KindErrorf(herald.ETOOLARGE, "body-too-large", "Request body must be at most %d bytes.", MaxBodyBytes)
		}
		return nil, herald.KindErrorf(herald.EINVALID, "invalid-body", "Could not read the request body.")
	}
	return b, nil
}

// idempotencyHeader is the request header of
// draft-ietf-httpapi-idempotency-key-header.
const idempotencyHeader = "Idempotency-Key"

// idempotencyKey returns the request's Idempotency-Key: a Structured
// Fields string ("..."), or a bare token as many clients send.
func idempotencyKey(r *http.Request) (string, error) {
	vs := r.Header.Values(idempotencyHeader)
	if len(vs) == 0 {
		return "", nil
	}
	v := strings.TrimSpace(vs[0])
	if len(vs) > 1 {
		return "", herald.KindErrorf(herald.EINVALID, "invalid-idempotency-key", "Send one Idempotency-Key.")
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" || len(v) > herald.IdempotencyKeyMaxLen || !utf8.ValidString(v) {
		return "", herald.KindErrorf(herald.EINVALID, "invalid-idempotency-key",
			"Idempotency-Key must be 1 to %d printable characters.", herald.IdempotencyKeyMaxLen)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return "", herald.KindErrorf(herald.EINVALID, "invalid-idempotency-key",
				"Idempotency-Key must be 1 to %d printable characters.", herald.IdempotencyKeyMaxLen)
		}
	}
	return v, nil
}

// replayedHeaders are the response headers kept with an idempotent answer.
var replayedHeaders = []string{"Content-Type", "Location", "Cache-Control"}

// idempotent wraps a POST that creates something: with an Idempotency-Key,
// the first successful answer is stored (per principal, for 24 hours, in
// the store so that every node sees it) and replayed for a retry with the
// same body; a different body is a 422, a retry while the first request
// runs a 409. Unsuccessful answers are not kept: the client may retry them.
// This generic form claims the key and keeps the answer in two small
// transactions of their own; idempotentInTx does it in the write's.
func (s *Server) idempotent(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		principal, key, fp, r, err := s.idempotencyRequest(w, r)
		if err != nil || key == "" {
			if err != nil {
				return err
			}
			return h(w, r)
		}
		prior, err := s.Store.ClaimIdempotencyKey(r.Context(), principal, key, fp)
		if err != nil {
			return err
		}
		if prior != nil {
			return writeReplay(w, prior)
		}
		rec := &recordingWriter{ResponseWriter: w, status: http.StatusOK}
		if err := h(rec, r); err != nil {
			s.writeError(rec, r, err)
		}
		ctx := context.WithoutCancel(r.Context())
		if rec.status >= 200 && rec.status < 300 && !rec.truncated {
			resp := &herald.IdempotentResponse{Status: rec.status, Headers: map[string]string{}, Body: rec.body.Bytes(),
				ChannelID: r.PathValue("id")}
			var created struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(resp.Body, &created) == nil {
				resp.ResourceID = created.ID
			}
			for _, name := range replayedHeaders {
				if v := rec.Header().Get(name); v != "" {
					resp.Headers[name] = v
				}
			}
			err := s.Store.CompleteIdempotencyKey(ctx, principal, key, resp)
			if err == nil {
				return nil
			}
			s.logger.LogAttrs(ctx, slog.LevelError, "idempotency: store answer", slog.String("err", err.Error()))
		}
		if err := s.Store.ReleaseIdempotencyKey(ctx, principal, key); err != nil {
			s.logger.LogAttrs(ctx, slog.LevelError, "idempotency: release key", slog.String("err", err.Error()))
		}
		return nil
	}
}

// idempotentInTx is idempotent for a handler whose success is one store
// write honouring herald.IdempotentWrite (posting, scheduling): the key is
// claimed, the update written and the answer kept in one transaction, so a
// keyed post costs about what an unkeyed one does. The handler renders its
// answer with keepAnswer; a replay comes back from the store as
// *herald.IdempotentReplay.
func (s *Server) idempotentInTx(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		principal, key, fp, r, err := s.idempotencyRequest(w, r)
		if err != nil || key == "" {
			if err != nil {
				return err
			}
			return h(w, r)
		}
		iw := &herald.IdempotentWrite{Principal: principal, Key: key, Fingerprint: fp}
		err = h(w, r.WithContext(herald.WithIdempotentWrite(r.Context(), iw)))
		var replay *herald.IdempotentReplay
		if errors.As(err, &replay) {
			return writeReplay(w, replay.Response)
		}
		return err
	}
}

// idempotencyRequest reads a request's Idempotency-Key ("" without one),
// who makes it, and the fingerprint of the request (method, path, type and
// body; the body is read and put back).
func (s *Server) idempotencyRequest(w http.ResponseWriter, r *http.Request) (principal, key string, fp []byte, _ *http.Request, err error) {
	key, err = idempotencyKey(r)
	if err != nil || key == "" {
		return "", "", nil, r, err
	}
	principal, r, err = s.principalID(r)
	if err != nil || principal == "" {
		// Nothing to scope the key to: the handler refuses anonymous callers.
		return "", "", nil, r, err
	}
	body, err := readBody(w, r)
	if err != nil {
		return "", "", nil, r, err
	}
	r = r.WithContext(context.WithValue(r.Context(), bodyCtx{}, body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	h := sha256.New()
	for _, part := range []string{r.Method, r.URL.Path, r.PathValue("id"), r.Header.Get("Content-Type")} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return principal, key, h.Sum(nil), r, nil
}

func writeReplay(w http.ResponseWriter, prior *herald.IdempotentResponse) error {
	for k, v := range prior.Headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.Header().Set("Content-Length", strconv.Itoa(len(prior.Body)))
	w.WriteHeader(prior.Status)
	_, _ = w.Write(prior.Body)
	return nil
}

// keptAnswer is a JSON answer that a store may keep for Idempotency-Key
// replays: rendered once, in the write's transaction when one asks for it
// (what the write filled in included), then sent.
type keptAnswer struct {
	status int
	v      any
	body   []byte
}

// keepAnswer prepares the answer writeJSON(status, v) would give, and has
// the request's herald.IdempotentWrite (if any) keep it with the write.
func keepAnswer(r *http.Request, status int, v any) *keptAnswer {
	a := &keptAnswer{status: status, v: v}
	if iw := herald.IdempotentWriteOf(r.Context()); iw != nil {
		channelID := r.PathValue("id")
		iw.Answer = func() (*herald.IdempotentResponse, error) {
			b, err := json.Marshal(a.v)
			if err != nil {
				return nil, fmt.Errorf("encode response: %w", err)
			}
			a.body = append(b, '\n') // as json.Encoder writes it
			return &herald.IdempotentResponse{Status: status, Body: a.body, ChannelID: channelID, ResourceID: createdID(a.v),
				Headers: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}}, nil
		}
	}
	return a
}

// createdID is the id of what a kept answer describes (its erasure erases
// the answer).
func createdID(v any) string {
	switch v := v.(type) {
	case *herald.Update:
		return v.ID
	case *herald.ScheduledUpdate:
		return v.ID
	}
	// Anything else: read the id back from its JSON.
	b, _ := json.Marshal(v)
	var created struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(b, &created)
	return created.ID
}

// write sends the answer, as kept when it was.
func (a *keptAnswer) write(w http.ResponseWriter) error {
	if a.body != nil {
		writeBody(w, a.status, a.body)
		return nil
	}
	return writeJSON(w, a.status, a.v)
}

// recordingWriter keeps a copy of a (small, JSON) answer while writing it.
type recordingWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	truncated   bool
	body        bytes.Buffer
}

func (w *recordingWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	if w.body.Len()+len(b) <= MaxBodyBytes {
		w.body.Write(b)
	} else {
		w.truncated = true
	}
	return w.ResponseWriter.Write(b)
}
