package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// ProblemTypeBase prefixes every problem type: the error kind is appended.
const ProblemTypeBase = herald.ProblemTypeBase

// codes maps each herald error code to its one HTTP status and title.
var codes = map[string]struct {
	status int
	title  string
}{
	herald.EINVALID:       {http.StatusBadRequest, "Invalid request"},
	herald.EUNAUTHORIZED:  {http.StatusUnauthorized, "Unauthorized"},
	herald.EFORBIDDEN:     {http.StatusForbidden, "Forbidden"},
	herald.ENOTFOUND:      {http.StatusNotFound, "Not found"},
	herald.ECONFLICT:      {http.StatusConflict, "Conflict"},
	herald.ETOOLARGE:      {http.StatusRequestEntityTooLarge, "Request too large"},
	herald.EUNPROCESSABLE: {http.StatusUnprocessableEntity, "Unprocessable request"},
	herald.ERATELIMIT:     {http.StatusTooManyRequests, "Too many requests"},
	herald.EUNAVAILABLE:   {http.StatusServiceUnavailable, "Service unavailable"},
	herald.EINTERNAL:      {http.StatusInternalServerError, "Internal error"},
}

// StatusOf returns the HTTP status of a herald error code.
func StatusOf(code string) int {
	if c, ok := codes[code]; ok {
		return c.status
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// retryError is a rate-limit refusal carrying when to retry.
type retryError struct {
	err   *herald.Error
	after time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

var errCrossOrigin = herald.KindErrorf(herald.EFORBIDDEN, "cross-origin", "Cross-origin request refused.")

// writeError answers with the problem for err. Internal errors are logged
// and their detail is hidden.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := herald.ErrorCode(err)
	if code == herald.EINTERNAL {
		if errors.Is(err, context.Canceled) || r.Context().Err() != nil {
			// The client went away; nobody will read the answer.
			s.logger.LogAttrs(r.Context(), slog.LevelDebug, "request canceled", slog.String("route", r.Pattern))
		} else {
			s.logger.LogAttrs(r.Context(), slog.LevelError, "internal error",
				slog.String("method", r.Method), slog.String("route", r.Pattern), slog.String("err", err.Error()))
		}
	}
	kind := herald.ErrorKind(err)
	if code == herald.EINTERNAL {
		kind = "internal"
	}
	kind = strings.ReplaceAll(kind, "_", "-")
	var re *retryError
	if errors.As(err, &re) {
		secs := int((re.after + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	c, ok := codes[code]
	if !ok {
		c = codes[herald.EINTERNAL]
	}
	if c.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
	}
	writeProblem(w, c.status, kind, c.title, herald.ErrorMessage(err))
}

// writeProblem writes a problem+json response.
func writeProblem(w http.ResponseWriter, status int, kind, title, detail string) {
	b, _ := json.Marshal(Problem{Type: ProblemTypeBase + kind, Title: title, Status: status, Detail: detail})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
