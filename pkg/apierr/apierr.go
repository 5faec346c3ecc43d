// Package apierr is the one error vocabulary shared by every boundary of
// clerkpath: domain validation returns field errors, services carry a code
// across NATS, and the gateway maps codes to HTTP statuses and RFC 9457
// problem documents.
package apierr

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Code classifies an error for the edge. Each code has one HTTP status
// (Code.HTTPStatus), used by the gateway for its answers and by pkg/rpc for
// micro's error statistics.
type Code string

const (
	Invalid          Code = "invalid"            // 400: the input is wrong; Fields say where
	Unauthenticated  Code = "unauthenticated"    // 401
	Forbidden        Code = "forbidden"          // 403
	NotFound         Code = "not_found"          // 404
	MethodNotAllowed Code = "method_not_allowed" // 405: the route exists, the method does not
	Conflict         Code = "conflict"           // 409
	PreconditionFail Code = "precondition_fail"  // 412: If-Match did not match
	TooLarge         Code = "too_large"          // 413
	Unsupported      Code = "unsupported"        // 415: wrong content type
	Unprocessable    Code = "unprocessable"      // 422
	RateLimited      Code = "rate_limited"       // 429
	Unavailable      Code = "unavailable"        // 503: a dependency is down
	Internal         Code = "internal"           // 500: never shown in detail
)

// httpStatus is the one mapping of codes to HTTP statuses.
var httpStatus = map[Code]int{
	Invalid:          http.StatusBadRequest,
	Unauthenticated:  http.StatusUnauthorized,
	Forbidden:        http.StatusForbidden,
	NotFound:         http.StatusNotFound,
	MethodNotAllowed: http.StatusMethodNotAllowed,
	Conflict:         http.StatusConflict,
	PreconditionFail: http.StatusPreconditionFailed,
	TooLarge:         http.StatusRequestEntityTooLarge,
	Unsupported:      http.StatusUnsupportedMediaType,
	Unprocessable:    http.StatusUnprocessableEntity,
	RateLimited:      http.StatusTooManyRequests,
	Unavailable:      http.StatusServiceUnavailable,
	Internal:         http.StatusInternalServerError,
}

// HTTPStatus is the HTTP status of the code; 500 for a code it does not know.
func (c Code) HTTPStatus() int {
	if s, ok := httpStatus[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// FieldError names one bad input field. Field is a JSON-pointer-like path
// ("education[0].status", "records[12].title") so a client can show the
// message next to the right input.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (f FieldError) String() string { return f.Field + ": " + f.Message }

// Error is an error with a code, a message safe to show to a caller, and
// optional field-level details.
type Error struct {
	Code    Code         `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
	err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.String())
	}
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.err }

// New returns an error with a code and a caller-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a code and a caller-safe message to an underlying error. The
// underlying error is kept for logs but never shown to callers.
func Wrap(err error, code Code, message string) *Error {
	return &Error{Code: code, Message: message, err: err}
}

// InvalidFields returns an Invalid error listing the given fields, sorted by
// field name so that the same input always gives the same message.
//
// Fields are sorted by name with numbers in their numeric order
// ("records[2]" before "records[10]"), and at most MaxFieldErrors are kept:
// the last entry then says how many more there were, so that a request
// with thousands of bad entries gets an answer of a readable size.
func InvalidFields(fields ...FieldError) *Error {
	fs := append([]FieldError(nil), fields...)
	sort.SliceStable(fs, func(i, j int) bool { return naturalLess(fs[i].Field, fs[j].Field) })
	if n := len(fs); n > MaxFieldErrors {
		fs = append(fs[:MaxFieldErrors-1], FieldError{Field: "", Message: fmt.Sprintf("and %d more problems like these", n-(MaxFieldErrors-1))})
	}
	return &Error{Code: Invalid, Message: "invalid input", Fields: fs}
}

// MaxFieldErrors bounds the field errors of one error.
const MaxFieldErrors = 100

// naturalLess orders strings with runs of digits compared as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitsPrefix(a), digitsPrefix(b)
		if da != "" && db != "" {
			na, nb := strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitsPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// CodeOf returns the code of err, Internal when it carries none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns err as an *Error, converting unknown errors into an Internal
// error whose message reveals nothing.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal error", err: err}
}

// Fields collects field errors; the zero value is ready to use.
type Fields []FieldError

// Add records a problem with one field.
func (fs *Fields) Add(field, format string, args ...any) {
	*fs = append(*fs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when no field was added, otherwise an Invalid error.
func (fs Fields) Err() error {
	if len(fs) == 0 {
		return nil
	}
	return InvalidFields(fs...)
}
