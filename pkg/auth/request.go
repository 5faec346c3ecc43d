package auth

import (
	"net/http"
	"strings"
)

// FromRequest extracts the bearer token from r's Authorization header
// (RFC 6750). A request without the header is anonymous: present is false
// and err nil. A header that is there but is not a well-formed bearer
// credential is an apierr.Unauthenticated error, so that a client with a
// broken header hears about it instead of silently being anonymous.
func FromRequest(r *http.Request) (token string, present bool, err error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", false, nil
	case 1:
	default:
		return "", true, reject(nil, "more than one Authorization header")
	}
	scheme, rest, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true, reject(nil, "Authorization header must be \"Bearer <token>\"")
	}
	token = strings.TrimLeft(rest, " ")
	if !isB64Token(token) {
		return "", true, reject(nil, "malformed bearer token")
	}
	return token, true, nil
}

// isB64Token reports whether s matches RFC 6750's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" || len(s) > maxTokenLen {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}
