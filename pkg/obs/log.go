// Package obs provides clerkpath's observability plumbing: structured logs
// with zerolog and request ids carried through contexts and NATS headers.
//
// Logs never carry personal data: log ids, codes, counts and durations, never
// names, contact details or free text a person typed.
package obs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// NewLogger returns a JSON logger for service, or a human-readable console
// logger when format is "console", or "auto" and w is a terminal.
func NewLogger(w io.Writer, service, level, format string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	out := w
	if format == "console" || (format == "auto" && IsTerminal(w)) {
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Str("service", service).Logger()
}

// IsTerminal reports whether w is a terminal (a character device).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// RequestIDHeader is the HTTP and NATS header that carries a request id.
const RequestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// WithRequestID returns ctx carrying id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewRequestID returns a random 16-byte hex id.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidRequestID reports whether a caller-supplied id is safe to adopt:
// short, and only letters, digits, '-', '_' and '.', so it cannot inject
// into logs.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// Logger returns log with the request id of ctx attached, when there is one.
func Logger(ctx context.Context, log zerolog.Logger) *zerolog.Logger {
	if id := RequestID(ctx); id != "" {
		log = log.With().Str("request_id", id).Logger()
	}
	return &log
}
