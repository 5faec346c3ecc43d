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

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/platform"
)

// Name identifies the gateway in logs and NATS connection names.
const Name = "gateway"

// Run serves HTTP on the configured address until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error {
	ln, err := net.Listen("tcp", p.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("gateway: listen on %s: %w", p.Config.HTTPAddr, err)
	}
	return Serve(ctx, p, ln)
}

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully,
// letting in-flight requests finish for up to 10 seconds.
func Serve(ctx context.Context, p *platform.Platform, ln net.Listener) error {
	verifier, err := newVerifier(ctx, p.Config)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("gateway: %w", err)
	}
	defer verifier.Close()
	srv := &http.Server{
		Handler:           NewServer(p, verifier),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      150 * time.Second, // bulk uploads may take two minutes
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	p.Log.Info().Str("addr", ln.Addr().String()).Msg("gateway listening")
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

// newVerifier builds the token verifier from the configuration: a local
// public key file or a JWKS URL, exactly one.
func newVerifier(ctx context.Context, cfg config.Config) (*auth.Verifier, error) {
	opts := auth.Options{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Leeway: 30 * time.Second}
	switch {
	case cfg.JWTPublicKey != "" && cfg.JWKSURL != "":
		return nil, &config.VarError{Var: config.EnvJWKSURL, Problem: "set either it or " + config.EnvJWTPublicKey + ", not both"}
	case cfg.JWTPublicKey != "":
		pem, err := os.ReadFile(cfg.JWTPublicKey)
		if err != nil {
			return nil, &config.VarError{Var: config.EnvJWTPublicKey, Value: cfg.JWTPublicKey, Problem: err.Error()}
		}
		opts.PublicKeyPEM = pem
	case cfg.JWKSURL != "":
		opts.JWKSURL = cfg.JWKSURL
	default:
		return nil, &config.VarError{Var: config.EnvJWTPublicKey, Problem: "set it (a PEM public key) or " + config.EnvJWKSURL + " to verify bearer tokens"}
	}
	return auth.NewVerifier(ctx, opts)
}
