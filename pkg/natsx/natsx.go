// Package natsx connects clerkpath to NATS and runs an embedded nats-server
// with JetStream for the all-in-one runner and the test harness.
package natsx

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Connect dials url with unbounded reconnects, so that a NATS restart never
// takes a service down; it fails only when the first connection cannot be
// made before ctx ends.
func Connect(ctx context.Context, url, name string, log zerolog.Logger) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn().Err(err).Msg("nats disconnected")
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info().Str("server", c.ConnectedServerId()).Msg("nats reconnected") }),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			ev := log.Error().Err(err)
			if s != nil {
				ev = ev.Str("subject", s.Subject)
			}
			ev.Msg("nats async error")
		}),
	}
	var lastErr error
	for {
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			return nc, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to nats: %w", errors.Join(ctx.Err(), lastErr))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Drain drains nc, waiting at most timeout for in-flight messages, and closes it.
func Drain(nc *nats.Conn, timeout time.Duration) {
	if nc == nil || nc.IsClosed() {
		return
	}
	done := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(done) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		return
	}
	select {
	case <-done:
	case <-time.After(timeout):
		nc.Close()
	}
}

// ServerOptions configure an embedded nats-server.
type ServerOptions struct {
	Host     string // default 127.0.0.1
	Port     int    // 0 or -1: a free port
	StoreDir string // JetStream file storage
	// SyncAlways makes JetStream fsync every write before acknowledging it.
	// clerkpath always sets it for data it keeps (see docs/operations.md).
	SyncAlways bool
}

// StartServer starts an embedded nats-server with JetStream and waits until
// it accepts connections.
func StartServer(o ServerOptions) (*server.Server, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = -1
	}
	opts := &server.Options{
		ServerName: "clerkpath",
		Host:       o.Host,
		Port:       o.Port,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		SyncAlways: o.SyncAlways,
		NoSigs:     true,
		// Postings bulk requests may be a few MiB.
		MaxPayload: 8 << 20,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats-server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded nats-server: not ready after 10s")
	}
	return ns, nil
}
