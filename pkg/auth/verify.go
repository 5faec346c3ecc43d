package auth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

const (
	algEdDSA = "EdDSA"
	algRS256 = "RS256"

	// maxTokenLen bounds the work an unauthenticated caller can make us do
	// before the signature is checked; clerkpath's tokens are a few hundred
	// bytes.
	maxTokenLen = 8 << 10

	// minRSABits refuses keys that are too weak to sign anything today.
	minRSABits = 2048

	jwksTimeout         = 10 * time.Second
	jwksRefreshInterval = time.Hour
)

// Options configure a Verifier. Exactly one of PublicKeyPEM and JWKSURL must
// be set.
type Options struct {
	// PublicKeyPEM is an Ed25519 or RSA public key, PEM-encoded as PKIX
	// ("PUBLIC KEY") or, for RSA, PKCS #1 ("RSA PUBLIC KEY"). Ed25519 keys
	// accept only EdDSA tokens and RSA keys only RS256 tokens.
	PublicKeyPEM []byte

	// JWKSURL is an identity provider's JSON Web Key Set. Tokens must name
	// their key with a kid header and may use EdDSA or RS256. The URL must be
	// https, or http on a loopback host (development), because whoever can
	// alter the key set can mint any principal.
	JWKSURL string

	// Issuer and Audience must match the token's iss and aud claims.
	Issuer   string
	Audience string

	// Leeway tolerates clock skew between the issuer and us when checking
	// exp, nbf and iat.
	Leeway time.Duration

	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time

	// OnRefreshError is told when a background refresh of the JWKS fails
	// (the last good key set stays in use). Nil logs with log/slog.
	OnRefreshError func(error)
}

// Verifier checks bearer tokens. It is safe for concurrent use. A Verifier
// built from a JWKS URL refreshes the key set in a background goroutine that
// stops when the context given to NewVerifier ends or Close is called.
type Verifier struct {
	parser  *jwt.Parser
	keyfunc jwt.Keyfunc
	stop    context.CancelFunc
	once    sync.Once
}

// NewVerifier builds a Verifier from opts. With a JWKS URL it fetches the key
// set once before returning, so a wrong URL is reported at start rather than
// as every request failing.
func NewVerifier(ctx context.Context, opts Options) (*Verifier, error) {
	if (len(opts.PublicKeyPEM) == 0) == (opts.JWKSURL == "") {
		return nil, errors.New("auth: give exactly one of a public key and a JWKS URL")
	}
	if opts.Issuer == "" || opts.Audience == "" {
		return nil, errors.New("auth: issuer and audience are required")
	}
	if opts.Leeway < 0 {
		return nil, errors.New("auth: leeway must not be negative")
	}

	v := &Verifier{stop: func() {}}
	var methods []string
	if len(opts.PublicKeyPEM) > 0 {
		key, alg, err := parsePublicKey(opts.PublicKeyPEM)
		if err != nil {
			return nil, err
		}
		methods = []string{alg}
		v.keyfunc = func(t *jwt.Token) (any, error) {
			if err := checkHeader(t); err != nil {
				return nil, err
			}
			return key, nil
		}
	} else {
		kf, stop, err := newJWKSKeyfunc(ctx, opts)
		if err != nil {
			return nil, err
		}
		methods = []string{algEdDSA, algRS256}
		v.keyfunc, v.stop = kf, stop
	}

	parserOpts := []jwt.ParserOption{
		// The allow-list is what defeats alg=none and key confusion (an HS256
		// token "signed" with the bytes of our public key).
		jwt.WithValidMethods(methods),
		jwt.WithIssuer(opts.Issuer),
		jwt.WithAudience(opts.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(opts.Leeway),
		jwt.WithStrictDecoding(),
	}
	if opts.Now != nil {
		parserOpts = append(parserOpts, jwt.WithTimeFunc(opts.Now))
	}
	v.parser = jwt.NewParser(parserOpts...)
	return v, nil
}

// Close stops the JWKS refresh goroutine, if any. It is safe to call more
// than once; Verify keeps working with the key set last fetched.
func (v *Verifier) Close() error {
	v.once.Do(v.stop)
	return nil
}

// tokenClaims is the payload clerkpath expects.
type tokenClaims struct {
	jwt.RegisteredClaims
	Role string `json:"role"`
	Org  string `json:"org,omitempty"`
}

// Verify checks token and returns the principal it names. Any failure is an
// apierr.Unauthenticated error; its message says what class of problem it
// was without repeating the token.
func (v *Verifier) Verify(token string) (Principal, error) {
	if token == "" {
		return Principal{}, reject(nil, "missing bearer token")
	}
	if len(token) > maxTokenLen {
		return Principal{}, reject(nil, "bearer token is too long")
	}
	var c tokenClaims
	t, err := v.parser.ParseWithClaims(token, &c, v.keyfunc)
	if err != nil {
		return Principal{}, classify(err)
	}
	if !t.Valid {
		return Principal{}, reject(nil, "invalid bearer token")
	}
	return c.principal()
}

func (c *tokenClaims) principal() (Principal, error) {
	if !validID(c.Subject) {
		return Principal{}, reject(nil, "token subject is missing or malformed")
	}
	role, err := ParseRole(c.Role)
	if err != nil {
		return Principal{}, reject(nil, "token role is missing or unknown")
	}
	p := Principal{Subject: c.Subject, Role: role}
	switch {
	case role == RoleEmployer && !validID(c.Org):
		return Principal{}, reject(nil, "employer token has a missing or malformed org")
	case role != RoleEmployer && c.Org != "":
		// Only employers act for an organisation; an org on any other role
		// means the issuer and clerkpath disagree about the model.
		return Principal{}, reject(nil, "token has an org but its role is not employer")
	case role == RoleEmployer:
		p.Org = c.Org
	}
	return p, nil
}

// checkHeader refuses header features that golang-jwt does not implement:
// RFC 7515 says a token with critical extensions we do not understand must
// be rejected.
func checkHeader(t *jwt.Token) error {
	if _, ok := t.Header["crit"]; ok {
		return errors.New("crit header is not supported")
	}
	return nil
}

func reject(err error, msg string) error {
	if err == nil {
		return apierr.New(apierr.Unauthenticated, "%s", msg)
	}
	return apierr.Wrap(err, apierr.Unauthenticated, msg)
}

// classify turns a golang-jwt error into a caller-safe message; the original
// error stays attached for logs. Claim errors are checked before signature
// errors only for readability: golang-jwt checks claims only after the
// signature verified, so a claim error implies a genuine token.
func classify(err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return reject(err, "malformed bearer token")
	case errors.Is(err, jwt.ErrTokenExpired):
		return reject(err, "token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return reject(err, "token is not valid yet")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return reject(err, "token lacks a required claim")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return reject(err, "token issuer is not accepted")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return reject(err, "token audience is not accepted")
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return reject(err, "token claims are invalid")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return reject(err, "token signature or algorithm is not accepted")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return reject(err, "token cannot be verified")
	}
	return reject(err, "invalid bearer token")
}

// parsePublicKey decodes a PEM public key for NewVerifier and returns it with
// the one JWS algorithm it may verify.
func parsePublicKey(pemBytes []byte) (key any, alg string, err error) {
	block, rest := pem.Decode(pemBytes)
	if block == nil {
		return nil, "", errors.New("auth: public key: no PEM block found")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		// Two keys in one file would leave it unclear which one is trusted.
		return nil, "", errors.New("auth: public key: more than one PEM block")
	}
	var pub any
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
		return nil, "", fmt.Errorf("auth: public key: the PEM block is a %s; give the public key", block.Type)
	default:
		return nil, "", fmt.Errorf("auth: public key: unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, "", fmt.Errorf("auth: public key: %w", err)
	}
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return k, algEdDSA, nil
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, "", fmt.Errorf("auth: public key: RSA key has %d bits, want at least %d", k.N.BitLen(), minRSABits)
		}
		return k, algRS256, nil
	default:
		return nil, "", fmt.Errorf("auth: public key: unsupported key type %T (want Ed25519 or RSA)", pub)
	}
}

// newJWKSKeyfunc fetches the key set at opts.JWKSURL and returns a keyfunc
// selecting keys by kid, plus the function that stops the refresh goroutine.
func newJWKSKeyfunc(ctx context.Context, opts Options) (jwt.Keyfunc, context.CancelFunc, error) {
	if err := checkJWKSURL(opts.JWKSURL); err != nil {
		return nil, nil, err
	}
	onErr := opts.OnRefreshError
	if onErr == nil {
		onErr = func(err error) { slog.Default().Error("auth: refresh JWKS", "error", err) }
	}
	noStartWithoutKeys := false
	// The refresh goroutine lives as long as this context: cancelled by
	// Close, by the caller's ctx ending, or right here if the first fetch
	// fails.
	kctx, cancel := context.WithCancel(ctx)
	kf, err := keyfunc.NewDefaultOverrideCtx(kctx, []string{opts.JWKSURL}, keyfunc.Override{
		Client:                    &http.Client{Timeout: jwksTimeout},
		HTTPTimeout:               jwksTimeout,
		NoErrorReturnFirstHTTPReq: &noStartWithoutKeys,
		RefreshInterval:           jwksRefreshInterval,
		// An unknown kid triggers a refetch (key rotation) at most once per
		// the library's default 5 minutes; a request never waits longer
		// than this for it.
		RateLimitWaitMax: jwksTimeout,
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(_ context.Context, err error) { onErr(err) }
		},
	})
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("auth: load JWKS: %w", err)
	}
	lookup := kf.Keyfunc
	return func(t *jwt.Token) (any, error) {
		if err := checkHeader(t); err != nil {
			return nil, err
		}
		// Without a kid keyfunc would try every key in the set; requiring it
		// keeps one token bound to one key.
		if kid, _ := t.Header["kid"].(string); kid == "" {
			return nil, errors.New("token has no kid header")
		}
		key, err := lookup(t)
		if err != nil {
			return nil, err
		}
		if k, ok := key.(*rsa.PublicKey); ok && k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("JWKS RSA key has only %d bits", k.N.BitLen())
		}
		return key, nil
	}, cancel, nil
}

func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("auth: JWKS URL: %w", err)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return errors.New("auth: JWKS URL must use https unless it is on a loopback host")
	}
	return fmt.Errorf("auth: JWKS URL scheme %q is not http(s)", u.Scheme)
}
