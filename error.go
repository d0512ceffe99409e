// Package herald holds Herald's domain: the types of a broadcast-channel
// server, their validation rules, the error type every layer speaks, and the
// interfaces that storage and delivery implementations satisfy. It imports
// only the standard library; sqlite/, postgres/, http/ and friends depend on it.
package herald

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status at the edge (http/).
const (
	EINVALID       = "invalid"       // 400: the input breaks a rule
	EUNAUTHORIZED  = "unauthorized"  // 401: no valid credentials
	EFORBIDDEN     = "forbidden"     // 403: authenticated but not allowed
	ENOTFOUND      = "not_found"     // 404: absent, deleted, expired or invisible to the caller
	ECONFLICT      = "conflict"      // 409: clashes with existing state
	ETOOLARGE      = "too_large"     // 413: body too large
	EUNPROCESSABLE = "unprocessable" // 422: well-formed but contradicts an earlier request (an idempotency key reused)
	ERATELIMIT     = "rate_limited"  // 429: too many requests
	EUNAVAILABLE   = "unavailable"   // 503: shutting down or overloaded
	EINTERNAL      = "internal"      // 500: a bug or an infrastructure failure
)

// ProblemTypeBase prefixes the type of every RFC 9457 problem Herald
// writes (the API's and the web app's): the error's Kind is appended.
const ProblemTypeBase = "https://herald.example/problems/"

// Error is Herald's one error type. Code is one of the E* constants; Kind is a
// stable, finer-grained slug (for example "invalid-json" or "text-too-long")
// that becomes the problem type URI; Message is safe to show to the caller.
type Error struct {
	Code    string
	Kind    string
	Message string
}

func (e *Error) Error() string {
	if e.Kind != "" {
		return fmt.Sprintf("herald error: code=%s kind=%s message=%s", e.Code, e.Kind, e.Message)
	}
	return fmt.Sprintf("herald error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// KindErrorf returns an *Error with a code, a stable kind slug and a message.
func KindErrorf(code, kind, format string, args ...any) *Error {
	return &Error{Code: code, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error,
// EINTERNAL for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorKind returns the kind slug of err, defaulting to its code.
func ErrorKind(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Kind != "" {
			return e.Kind
		}
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err. Errors that are not
// *Error are internal and never shown: they may contain anything.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
