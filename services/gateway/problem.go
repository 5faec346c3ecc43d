package gateway

import (
	"encoding/json"
	"net/http"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/obs"
)

// problem is an RFC 9457 problem document with field-level details.
type problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance,omitempty"`
	Code      apierr.Code         `json:"code"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []apierr.FieldError `json:"errors,omitempty"`
}

// writeError answers with the problem document for err. Internal errors are
// logged with their cause and shown to the caller only as "internal error".
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := apierr.As(err)
	status := e.Code.HTTPStatus()
	if status >= 500 {
		obs.Logger(r.Context(), s.log).Error().Err(err).Str("route", r.Pattern).Msg("request failed")
	}
	if e.Code == apierr.Unavailable && w.Header().Get("Retry-After") == "" {
		// A dependency is down or busy: tell clients when to try again
		// rather than leaving them to guess (or hammer).
		w.Header().Set("Retry-After", "2")
	}
	if e.Code == apierr.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="clerkpath"`)
	}
	writeProblem(w, r, status, e.Code, e.Message, e.Fields)
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, code apierr.Code, detail string, fields []apierr.FieldError) {
	p := problem{
		Type:      "urn:clerkpath:problem:" + string(code),
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		Instance:  r.URL.Path,
		Code:      code,
		RequestID: obs.RequestID(r.Context()),
		Errors:    fields,
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeRawJSON answers with a JSON body a service already encoded.
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
