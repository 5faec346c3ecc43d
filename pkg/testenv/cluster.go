package testenv

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/natsserver"
	"github.com/clerkpath/clerkpath/pkg/natsx"
	"github.com/clerkpath/clerkpath/pkg/supervise"
)

// NATSCluster starts n in-process nats-servers with JetStream joined in one
// cluster, and waits until JetStream has a meta leader, so that streams with
// n replicas can be created at once. The servers stop when the test ends.
// Reads from a replica may be stale here, as in production: that is what
// cluster tests are for.
func NATSCluster(t testing.TB, n int) []*server.Server {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ports[i] = FreePort(t)
	}
	servers := make([]*server.Server, n)
	for i := range servers {
		var routes []string
		for j, p := range ports {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
			}
		}
		ns, err := natsserver.Start(natsserver.Options{
			Name:       fmt.Sprintf("n%d", i+1),
			StoreDir:   t.TempDir(),
			SyncAlways: true, // as production runs: followers then lag the way they do there
			Cluster:    natsserver.ClusterOptions{Name: "clerkpath-test", Port: ports[i], Routes: routes},
		})
		if err != nil {
			t.Fatalf("testenv: cluster member %d: %v", i+1, err)
		}
		t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
		servers[i] = ns
	}
	Eventually(t, 30*time.Second, func() error {
		for _, ns := range servers {
			if ns.NumRoutes() < n-1 {
				return fmt.Errorf("%s has %d routes, want %d", ns.Name(), ns.NumRoutes(), n-1)
			}
			if !ns.JetStreamIsClustered() || !ns.JetStreamIsCurrent() {
				return fmt.Errorf("%s: JetStream not current", ns.Name())
			}
		}
		for _, ns := range servers {
			if ns.JetStreamIsLeader() {
				return nil
			}
		}
		return fmt.Errorf("no JetStream meta leader yet")
	})
	return servers
}

// FreePort returns a loopback TCP port free at the time of the call.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := supervise.FreePort()
	if err != nil {
		t.Fatalf("testenv: free port: %v", err)
	}
	return p
}

// JetStreamOn connects to ns (closed when the test ends) and returns its
// JetStream context.
func JetStreamOn(t testing.TB, ns *server.Server) jetstream.JetStream {
	t.Helper()
	nc, err := natsx.Connect(context.Background(), ns.ClientURL(), "test", zerolog.Nop())
	if err != nil {
		t.Fatalf("testenv: connect to %s: %v", ns.Name(), err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("testenv: jetstream: %v", err)
	}
	return js
}

// EnvInt reads a whole number of at least 1 from the environment variable
// name, or returns def when it is unset: a knob such as the number of
// rebuild loops, larger under `make test-faults` than under `make test`.
func EnvInt(t testing.TB, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a whole number of at least 1", name, v)
	}
	return n
}
