package matching

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// Lists page with opaque cursors: a client passes back next_cursor and
// never builds one itself, so the encoding can change.

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

// decodeCursor returns the offset a cursor stands for.
func decodeCursor(c string, max int) (int, error) {
	bad := apierr.InvalidFields(apierr.FieldError{Field: "cursor", Message: "use next_cursor from the previous page"})
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, bad
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(raw), "o:"))
	if err != nil || !strings.HasPrefix(string(raw), "o:") || n < 0 || n > max {
		return 0, bad
	}
	return n, nil
}
