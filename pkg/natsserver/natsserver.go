// Package natsserver runs an embedded nats-server with JetStream, for the
// all-in-one runner (clerkpath run) and the test harness. It lives apart
// from pkg/natsx, the client helpers, so that a service that only connects
// to NATS does not link the server.
package natsserver

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/clerkpath/clerkpath/pkg/natsx"
)

// Options configure an embedded nats-server.
type Options struct {
	Host     string // default 127.0.0.1
	Port     int    // 0 or -1: a free port
	StoreDir string // JetStream file storage
	// SyncAlways makes JetStream fsync every write before acknowledging it.
	// clerkpath always sets it for data it keeps (see docs/operations.md).
	SyncAlways bool
	// MaxPayload is the largest message the server accepts; 0 means
	// natsx.RecommendedMaxPayload.
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

// Start starts an embedded nats-server with JetStream and waits until it
// accepts connections.
func Start(o Options) (*server.Server, error) {
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
		MaxPayload: cmp.Or(o.MaxPayload, natsx.RecommendedMaxPayload),
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
