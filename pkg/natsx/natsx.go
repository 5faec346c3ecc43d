// Package natsx connects clerkpath to NATS: Connect, Drain and Security.
// The embedded nats-server is in pkg/natsserver, so that a service that
// only connects does not link it.
package natsx

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Connect dials url with unbounded reconnects, so that a NATS restart never
// takes a service down; it fails only when the first connection cannot be
// made before ctx ends.
//
// extra adds options such as Security's.
func Connect(ctx context.Context, url, name string, log zerolog.Logger, extra ...nats.Option) (*nats.Conn, error) {
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
	opts = append(opts, extra...)
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

// RecommendedMaxPayload is the NATS max_payload clerkpath needs: a bulk
// postings request may be up to 8 MiB (the gateway's limit), and replies
// such as exports carry a seeker's whole record. A stock nats-server allows
// 1 MiB; docs/operations.md says how to raise it.
const RecommendedMaxPayload = 8 << 20

// Security is how a client proves itself to a production NATS and checks
// the server: a credentials file (user JWT and NKey seed) or an NKey seed
// file, and TLS with the server verified by CAFile and, for mutual TLS, a
// client certificate. Empty fields are not used.
type Security struct {
	CredsFile    string
	NKeySeedFile string
	CAFile       string
	CertFile     string
	KeyFile      string
}

// Options returns the nats.go options for s.
func (s Security) Options() ([]nats.Option, error) {
	var opts []nats.Option
	if s.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(s.CredsFile))
	}
	if s.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(s.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("nats nkey seed %s: %w", s.NKeySeedFile, err)
		}
		opts = append(opts, o)
	}
	if s.CAFile != "" {
		opts = append(opts, nats.RootCAs(s.CAFile))
	}
	if s.CertFile != "" || s.KeyFile != "" {
		opts = append(opts, nats.ClientCert(s.CertFile, s.KeyFile))
	}
	return opts, nil
}
