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
	"time"

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
	srv := &http.Server{
		Handler:           NewServer(p),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
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
