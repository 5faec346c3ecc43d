package platform

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/obs"
)

// RunFunc runs a service on its platform until ctx ends.
type RunFunc func(ctx context.Context, p *Platform) error

// Main is the whole main function of a service binary: it reads the
// configuration from the environment, connects, runs the service until
// SIGINT or SIGTERM, and shuts down cleanly.
func Main(service string, needs Needs, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := RunService(ctx, os.Getenv, os.Stderr, service, needs, run); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", service, err)
		stop()
		os.Exit(1)
	}
}

// RunService is Main without the process: tests call it directly.
func RunService(ctx context.Context, getenv func(string) string, stderr io.Writer, service string, needs Needs, run RunFunc) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := obs.NewLogger(stderr, service, cfg.LogLevel, cfg.LogFormat)
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	p, err := Open(openCtx, cfg, service, needs, log)
	cancel()
	if err != nil {
		return err
	}
	defer p.Close()
	err = run(ctx, p)
	log.Info().Msg("stopped")
	return err
}
