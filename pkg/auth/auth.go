// Package auth authenticates callers of the HTTP gateway with bearer JWTs.
//
// A Verifier checks a token's signature against one configured key source (a
// PEM public key or a JWKS URL), its registered claims (issuer, audience,
// exp/nbf/iat) and clerkpath's own claims (role, org), and yields a
// Principal. Every rejection is an apierr.Unauthenticated error whose message
// is safe to show and never repeats any part of the token.
//
// Mint and the key helpers exist for development and tests, where clerkpath
// issues its own Ed25519-signed tokens instead of trusting an identity
// provider.
package auth

import (
	"context"
	"net/url"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// Role is what a principal is allowed to act as.
type Role string

const (
	RoleSeeker    Role = "seeker"
	RoleEmployer  Role = "employer"
	RoleCounselor Role = "counselor"
	RoleAdmin     Role = "admin"
)

// ParseRole returns the Role named by s. Matching is exact: "Admin" is not
// a role, so that two spellings never mean the same grant.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleSeeker, RoleEmployer, RoleCounselor, RoleAdmin:
		return r, nil
	}
	return "", apierr.InvalidFields(apierr.FieldError{
		Field:   "role",
		Message: "must be one of seeker, employer, counselor, admin",
	})
}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	_, err := ParseRole(string(r))
	return err == nil
}

// Principal is the authenticated caller of a request. The zero Principal is
// the anonymous caller: handlers that need a signed-in user check
// IsAnonymous rather than comparing fields.
type Principal struct {
	Subject string // stable user id from the token's sub claim
	Role    Role
	Org     string // the employer organisation; empty for every other role
}

// Key names p for per-caller state (rate-limit buckets, idempotency keys):
// the subject alone is not unique, since two organisations may each have
// an employer user "hr". Empty for the anonymous caller.
func (p Principal) Key() string {
	if p.IsAnonymous() {
		return ""
	}
	return string(p.Role) + ":" + url.PathEscape(p.Org) + ":" + url.PathEscape(p.Subject)
}

// IsAnonymous reports whether p is the unauthenticated caller.
func (p Principal) IsAnonymous() bool { return p.Subject == "" }

type principalKey struct{}

// WithPrincipal returns a context carrying p, for handlers further down the
// chain to read with PrincipalFrom.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal stored by WithPrincipal, or the
// anonymous (zero) Principal when there is none.
func PrincipalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

// validID reports whether s can be used as a subject or organisation id:
// 1 to 64 characters of [A-Za-z0-9_-]. The ids end up in Redis keys, NATS
// subjects and logs, so anything outside this set is refused at the edge.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
