package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/platform"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// The harness must hand out real, working and isolated servers, with
// clients connected to them.
func TestOpenGivesRealIsolatedServers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, b := Open(t, All), Open(t, All)
	if a.Config.NATSURL == b.Config.NATSURL || a.Config.RedisURL == b.Config.RedisURL || a.Config.IndexPrefix == b.Config.IndexPrefix {
		t.Fatalf("two Opens share a server: %+v %+v", a.Config, b.Config)
	}
	if err := a.Redis.Set(ctx, "k", "a", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.Redis.Exists(ctx, "k").Result(); n != 0 {
		t.Fatal("redis databases are shared between Opens")
	}
	v, err := a.Meili.Version(ctx)
	if err != nil || v.PkgVersion != "1.21.0" {
		t.Fatalf("meilisearch version %+v, %v; want 1.21.0", v, err)
	}
	if _, err := a.JS.Stream(ctx, "JOBS"); err != nil {
		t.Fatalf("JOBS stream (Needs.Streams): %v", err)
	}
	if _, err := b.NC.Request("nobody.listens", nil, 100*time.Millisecond); err == nil {
		t.Fatal("request to a subject nobody serves succeeded")
	}

	// The configuration reaches the same servers through the services' own
	// connection code.
	p, err := platform.Open(ctx, a.Config, "test-a", platform.Needs{Redis: true, Meili: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for name, err := range p.Check(ctx) {
		if err != nil {
			t.Errorf("%s not ready: %v", name, err)
		}
	}
	if got, _ := p.Redis.Get(ctx, "k").Result(); got != "a" {
		t.Fatalf("platform's Redis sees %q, want the test's database with k=a", got)
	}
}

// A test asks only for what it uses: the others are absent, not shared.
func TestOpenGivesOnlyWhatIsNeeded(t *testing.T) {
	srv := Open(t, Needs{Redis: true})
	if srv.NC != nil || srv.JS != nil || srv.Meili != nil || srv.Config.NATSURL != "" || srv.Config.MeiliURL != "" {
		t.Fatalf("asked for Redis only, got %+v", srv)
	}
	if err := srv.Redis.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	n := Open(t, Needs{NATS: true})
	if n.Redis != nil || n.Config.RedisURL != "" {
		t.Fatalf("asked for NATS only, got a Redis database %q", n.Config.RedisURL)
	}
	if _, err := n.JS.Stream(context.Background(), "JOBS"); err == nil {
		t.Fatal("event streams created without Needs.Streams")
	}
}

// Everything Open started is gone when the test ends.
func TestOpenCleansUp(t *testing.T) {
	var srv *Servers
	t.Run("inner", func(t *testing.T) { srv = Open(t, Needs{NATS: true}) })
	if srv.NATS.Running() {
		t.Fatal("nats-server still running after its test ended")
	}
	if !srv.NC.IsClosed() {
		t.Fatal("NATS client still open after its test ended")
	}
}
