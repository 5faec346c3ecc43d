package gateway

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/idempotency"
	"github.com/clerkpath/clerkpath/pkg/obs"
)

// guard runs, in order: authentication (when a token is sent, also on
// public routes, so a bad token is never silently ignored), rate limiting,
// the route's authorization rule, Idempotency-Key handling for POSTs, and
// the handler.
func (s *server) guard(rt route) http.Handler {
	wildcards := pathWildcards(rt.pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkPathValues(r, wildcards); err != nil {
			s.writeError(w, r, err)
			return
		}
		p, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ctx := auth.WithPrincipal(r.Context(), p)
		r = r.WithContext(ctx)
		if !rt.access.unlimited {
			if err := s.rateLimit(w, r, p); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if err := s.authorize(ctx, p, r, rt.access); err != nil {
			s.writeError(w, r, err)
			return
		}
		if r.Method == http.MethodPost && r.Header.Get(idempotency.Header) != "" {
			s.idempotent(w, r, p, rt)
			return
		}
		rt.handler.ServeHTTP(w, r)
	})
}

func (s *server) authenticate(r *http.Request) (auth.Principal, error) {
	token, present, err := auth.FromRequest(r)
	if err != nil {
		return auth.Principal{}, err
	}
	if !present {
		return auth.Principal{}, nil
	}
	return s.verifier.Verify(token)
}

// rateLimit allows CLERKPATH_RATE_LIMIT requests a minute per token and
// CLERKPATH_RATE_LIMIT_ANON per anonymous client address, in a sliding
// window kept in Redis. If Redis is down the request is let through and the
// failure logged: rate limiting protects capacity, it is not an
// authorization control.
func (s *server) rateLimit(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	key, limit := "tok:"+p.Key(), s.opts.RateLimit
	if p.IsAnonymous() {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		key, limit = "ip:"+host, s.opts.RateLimitAnon
	}
	d, err := s.limiter.Allow(r.Context(), key, limit, time.Minute, time.Now())
	if err != nil {
		obs.Logger(r.Context(), s.log).Warn().Err(err).Msg("rate limiter unavailable; request let through")
		return nil
	}
	if !d.Allowed {
		w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds()))
	}
	return d.Err()
}

// idempotent runs a POST at most once per Idempotency-Key: the first
// response is stored in Redis and replayed to retries; the same key with a
// different request is 422, and with a request still running is 409.
func (s *server) idempotent(w http.ResponseWriter, r *http.Request, p auth.Principal, rt route) {
	key := r.Header.Get(idempotency.Header)
	if err := idempotency.ValidateKey(key); err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := readBody(w, r, rt.maxBody())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h := sha256.New()
	io.WriteString(h, r.Method+" "+r.URL.RequestURI()+"\n"+r.Header.Get("Content-Type")+"\n")
	h.Write(body)
	scope := rt.pattern + "|" + p.Key()
	if p.IsAnonymous() {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		scope = rt.pattern + "|ip:" + host
	}
	out, err := s.idem.Begin(r.Context(), scope, key, h.Sum(nil))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch out.Kind {
	case idempotency.Replay:
		for k, v := range out.Response.Header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(out.Response.Status)
		_, _ = w.Write(out.Response.Body)
		return
	case idempotency.Fresh:
	default:
		s.writeError(w, r, out.Err())
		return
	}
	rec := &capture{ResponseWriter: w, status: http.StatusOK}
	rt.handler.ServeHTTP(rec, r)
	if rec.status >= 500 {
		// A failure is not an answer worth replaying: let a retry run.
		if err := s.idem.Abandon(r.Context(), scope, key); err != nil {
			obs.Logger(r.Context(), s.log).Warn().Err(err).Msg("abandon idempotency key")
		}
		return
	}
	resp := idempotency.Response{Status: rec.status, Header: map[string]string{}, Body: rec.body.Bytes()}
	for _, k := range []string{"Content-Type", "Location", "ETag"} {
		if v := w.Header().Get(k); v != "" {
			resp.Header[k] = v
		}
	}
	if err := s.idem.Complete(r.Context(), scope, key, resp); err != nil {
		obs.Logger(r.Context(), s.log).Warn().Err(err).Msg("store idempotent response")
	}
}

// capture passes a response through and keeps a copy of it.
type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	wrote  bool
}

func (c *capture) WriteHeader(code int) {
	if !c.wrote {
		c.status, c.wrote = code, true
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(b []byte) (int, error) {
	c.wrote = true
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

// pathWildcards lists the {names} of a route pattern.
func pathWildcards(pattern string) []string {
	var names []string
	for rest := pattern; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return names
		}
		names = append(names, strings.TrimSuffix(rest[i+1:i+j], "..."))
		rest = rest[i+j+1:]
	}
}

// checkPathValues refuses ids no object can have (control characters such
// as an escaped NUL, invalid UTF-8, over 200 bytes) before they reach a
// service, where they would make an invalid NATS subject or key.
func checkPathValues(r *http.Request, names []string) error {
	var fs apierr.Fields
	for _, name := range names {
		v := r.PathValue(name)
		switch {
		case len(v) > 200:
			fs.Add(name, "at most 200 characters")
		case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
			fs.Add(name, "contains a control character or invalid UTF-8")
		}
	}
	return fs.Err()
}
