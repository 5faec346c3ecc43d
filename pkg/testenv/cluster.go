package testenv

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/clerkpath/clerkpath/pkg/natsx"
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
		ports[i] = freePort(t)
	}
	servers := make([]*server.Server, n)
	for i := range servers {
		var routes []string
		for j, p := range ports {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
			}
		}
		ns, err := natsx.StartServer(natsx.ServerOptions{
			Name:       fmt.Sprintf("n%d", i+1),
			StoreDir:   t.TempDir(),
			SyncAlways: true, // as production runs: followers then lag the way they do there
			Cluster:    natsx.ClusterOptions{Name: "clerkpath-test", Port: ports[i], Routes: routes},
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

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
