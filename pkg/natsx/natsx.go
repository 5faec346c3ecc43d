// Package natsx connects clerkpath to NATS and runs an embedded nats-server
// with JetStream for the all-in-one runner and the test harness.
package natsx

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/nats-io/nats-server/v2/server"
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

// ServerOptions configure an embedded nats-server.
type ServerOptions struct {
	Host     string // default 127.0.0.1
	Port     int    // 0 or -1: a free port
	StoreDir string // JetStream file storage
	// SyncAlways makes JetStream fsync every write before acknowledging it.
	// clerkpath always sets it for data it keeps (see docs/operations.md).
	SyncAlways bool
	// MaxPayload is the largest message the server accepts; 0 means
	// RecommendedMaxPayload.
	MaxPayload int32
	// Name is the server's name; it must be unique within a cluster.
	// Default "clerkpath".
	Name string
	// Cluster, when its Name is set, joins the server to a cluster.
	Cluster ClusterOptions
}

// ClusterOptions join an embedded server to a NATS cluster.
type ClusterOptions struct {
	Name   string   // the cluster's name, the same on every member
	Port   int      // the port for routes from other members
	Routes []string // nats-route://host:port of the other members
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
	if o.Name == "" {
		o.Name = "clerkpath"
	}
	opts := &server.Options{
		ServerName: o.Name,
		Host:       o.Host,
		Port:       o.Port,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		SyncAlways: o.SyncAlways,
		NoSigs:     true,
		MaxPayload: cmp.Or(o.MaxPayload, RecommendedMaxPayload),
	}
	if o.Cluster.Name != "" {
		opts.Cluster = server.ClusterOpts{Name: o.Cluster.Name, Host: o.Host, Port: o.Cluster.Port}
		for _, r := range o.Cluster.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("embedded nats-server: route %q: %w", r, err)
			}
			opts.Routes = append(opts.Routes, u)
		}
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
