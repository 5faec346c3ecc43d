package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/platform"
)

var env *Env

func TestMain(m *testing.M) { os.Exit(Main(m, &env)) }

// The harness must hand out real, working and isolated servers.
func TestFreshGivesRealIsolatedServers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, b := env.Fresh(t), env.Fresh(t)
	if a.NATSURL == b.NATSURL || a.RedisURL == b.RedisURL || a.IndexPrefix == b.IndexPrefix {
		t.Fatalf("fresh configs share a server: %+v %+v", a, b)
	}
	pa, err := platform.Open(ctx, a, "test-a", platform.Needs{Redis: true, Meili: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer pa.Close()
	pb, err := platform.Open(ctx, b, "test-b", platform.Needs{Redis: true, Meili: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	for name, err := range pa.Check(ctx) {
		if err != nil {
			t.Errorf("%s not ready: %v", name, err)
		}
	}
	if err := pa.Redis.Set(ctx, "k", "a", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := pb.Redis.Exists(ctx, "k").Result(); n != 0 {
		t.Fatal("redis databases are shared between fresh configs")
	}
	v, err := pa.Meili.Version(ctx)
	if err != nil || v.PkgVersion != "1.21.0" {
		t.Fatalf("meilisearch version %+v, %v; want 1.21.0", v, err)
	}
	if _, err := pa.JS.Stream(ctx, "JOBS"); err != nil {
		t.Fatalf("JOBS stream: %v", err)
	}
}
