package gateway

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// Request body limits.
const (
	MaxJSONBody = 1 << 20 // 1 MiB for ordinary JSON requests
	MaxBulkBody = 8 << 20 // 8 MiB for bulk posting uploads
)

// readBody reads at most limit bytes of the request body; a larger body is
// an apierr.TooLarge naming the limit.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, apierr.New(apierr.TooLarge, "request body larger than the limit of %d bytes", limit)
	}
	if err != nil {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "body", Message: "could not read the request body"})
	}
	return body, nil
}

// mediaType returns the request's media type without parameters.
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

// requireJSON answers 415 unless the body is JSON.
func requireJSON(r *http.Request) error {
	mt := mediaType(r)
	if mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return apierr.New(apierr.Unsupported, "Content-Type %q is not supported here; send application/json", r.Header.Get("Content-Type"))
}

// readJSON checks the content type and reads a JSON body of at most MaxJSONBody.
func readJSON(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if err := requireJSON(r); err != nil {
		return nil, err
	}
	return readBody(w, r, MaxJSONBody)
}
