// Package gateway is clerkpath's public HTTP API. It authenticates callers,
// authorizes every object access in one place, and forwards work to the
// services over NATS request/reply; it owns no domain state itself.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/platform"
)

// Name identifies the gateway in logs and NATS connection names.
const Name = "gateway"

// Options are the gateway's settings.
type Options struct {
	// Addr is where Run listens (host:port).
	Addr string
	// RateLimit is requests a minute per token, RateLimitAnon per anonymous
	// client address.
	RateLimit, RateLimitAnon int
	// Tokens are verified with the Ed25519 public key in JWTPublicKeyFile or
	// the keys published at JWKSURL: exactly one of them.
	JWTPublicKeyFile, JWKSURL string
	JWTIssuer, JWTAudience    string
}

// OptionsFrom takes the gateway's settings from the configuration.
func OptionsFrom(cfg config.Config) Options {
	return Options{
		Addr:      cfg.HTTPAddr,
		RateLimit: cfg.RateLimit, RateLimitAnon: cfg.RateLimitAnon,
		JWTPublicKeyFile: cfg.JWTPublicKey, JWKSURL: cfg.JWKSURL,
		JWTIssuer: cfg.JWTIssuer, JWTAudience: cfg.JWTAudience,
	}
}

// Gateway is the HTTP API with the clients it uses: NATS for requests to
// the services, JetStream for the access log (AUDIT) and consumer health,
// Redis for rate limits and idempotency keys. It has no Meilisearch client:
// the search index is matching's, reached through matching's endpoints.
type Gateway struct {
	clients clients
	opts    Options
}

// New checks the dependencies and options; Serve runs the gateway.
func New(nc *nats.Conn, js jetstream.JetStream, rdb *redis.Client, log zerolog.Logger, opts Options) (*Gateway, error) {
	switch {
	case nc == nil:
		return nil, errors.New("gateway: a NATS connection is required")
	case js == nil:
		return nil, errors.New("gateway: a JetStream context is required")
	case rdb == nil:
		return nil, errors.New("gateway: a Redis client is required (rate limits and idempotency keys)")
	}
	if _, err := verifierOptions(opts); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return &Gateway{clients: clients{NC: nc, JS: js, Redis: rdb, Log: log}, opts: opts}, nil
}

// Run is the gateway on a service's platform connections, listening on the
// configured address until ctx ends (the service binary's main and
// clerkpath's test rigs use it).
func Run(ctx context.Context, p *platform.Platform) error {
	g, err := New(p.NC, p.JS, p.Redis, p.Log, OptionsFrom(p.Config))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", g.opts.Addr)
	if err != nil {
		return fmt.Errorf("gateway: listen on %s: %w", g.opts.Addr, err)
	}
	return g.Serve(ctx, ln)
}

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully,
// letting in-flight requests finish for up to 10 seconds. It closes ln.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	verifier, err := newVerifier(ctx, g.opts)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("gateway: %w", err)
	}
	defer verifier.Close()
	streamsBase, stopStreams := eventStreamStop()
	srv := &http.Server{
		Handler:           newHandler(g.clients, g.opts, verifier),
		BaseContext:       streamsBase,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      150 * time.Second, // bulk uploads may take two minutes
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	srv.RegisterOnShutdown(stopStreams) // event streams end when the server stops
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	g.clients.Log.Info().Str("addr", ln.Addr().String()).Msg("gateway listening")
	select {
	case err := <-errc:
		return fmt.Errorf("gateway: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("gateway: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}

// verifierOptions reads the token key settings: a local public key file or
// a JWKS URL, exactly one.
func verifierOptions(o Options) (auth.Options, error) {
	opts := auth.Options{Issuer: o.JWTIssuer, Audience: o.JWTAudience, Leeway: 30 * time.Second}
	switch {
	case o.JWTPublicKeyFile != "" && o.JWKSURL != "":
		return opts, &config.VarError{Var: config.EnvJWKSURL, Problem: "set either it or " + config.EnvJWTPublicKey + ", not both"}
	case o.JWTPublicKeyFile != "":
		pem, err := os.ReadFile(o.JWTPublicKeyFile)
		if err != nil {
			return opts, &config.VarError{Var: config.EnvJWTPublicKey, Value: o.JWTPublicKeyFile, Problem: err.Error()}
		}
		opts.PublicKeyPEM = pem
	case o.JWKSURL != "":
		opts.JWKSURL = o.JWKSURL
	default:
		return opts, &config.VarError{Var: config.EnvJWTPublicKey, Problem: "set it (a PEM public key) or " + config.EnvJWKSURL + " to verify bearer tokens"}
	}
	return opts, nil
}

// newVerifier builds the token verifier; with a JWKS URL it fetches the
// keys and refreshes them until Close.
func newVerifier(ctx context.Context, o Options) (*auth.Verifier, error) {
	opts, err := verifierOptions(o)
	if err != nil {
		return nil, err
	}
	return auth.NewVerifier(ctx, opts)
}
