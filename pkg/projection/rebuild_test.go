package projection_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// start runs a projection of the PROFILES stream that applies nothing,
// and waits until a generation serves.
func start(t *testing.T, srv *testenv.Servers, name string) *projection.Projection {
	t.Helper()
	spec := projection.Spec{
		Name:      name,
		Consumers: []events.Consumer{{Stream: "PROFILES", Durable: name}},
		Apply: func(_ context.Context, _ projection.Gen, _ int, msgs []jetstream.Msg) []error {
			return make([]error, len(msgs))
		},
	}
	p := projection.New(srv.Redis, srv.JS, zerolog.Nop(), spec, projection.Options{Poll: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := p.WaitServing(ctx, 30*time.Second); err != nil {
		t.Fatalf("no generation served: %v", err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		st, err := p.Status(ctx)
		if err == nil && st.State != projection.StateDone {
			err = fmt.Errorf("first build %s", st.State)
		}
		return err
	})
	return p
}

// TestRebuildFollowsABuildThatHasTakenTheLock: another copy has taken the
// build lock but not yet recorded its build, so the status still shows the
// previous build, done. A rebuild request must answer with the build that
// is starting, not the one that ended (CI failed on this: a caller that
// asked five times in that window gave up with "no new build started").
func TestRebuildFollowsABuildThatHasTakenTheLock(t *testing.T) {
	srv := testenv.Open(t, testenv.Needs{Streams: true, Redis: true})
	const name = "locktest"
	p := start(t, srv, name)
	ctx := context.Background()
	lock, status := "clerkpath:"+name+":rebuild:lock", "clerkpath:"+name+":rebuild:status"
	before, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Redis.Set(ctx, lock, "another-copy", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	next := before.Generation + 1
	go func() {
		time.Sleep(300 * time.Millisecond) // the holder's round trips
		srv.Redis.HSet(ctx, status, "state", projection.StateBuilding, "generation", next)
	}()
	got, err := p.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != projection.StateBuilding || got.Generation != next {
		t.Fatalf("rebuild answered %s generation %d while another copy starts generation %d", got.State, got.Generation, next)
	}

	// A lock that is freed without a build (its holder failed at once):
	// the answer comes when the lock goes, not after the whole wait.
	srv.Redis.HSet(ctx, status, "state", projection.StateFailed, "generation", next)
	go func() {
		time.Sleep(200 * time.Millisecond)
		srv.Redis.Del(ctx, lock)
	}()
	// The lock is still held when Rebuild is asked: it is busy, not building.
	srv.Redis.Set(ctx, lock, "another-copy", time.Minute)
	t0 := time.Now()
	got, err = p.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(t0); took > 3*time.Second {
		t.Fatalf("rebuild waited %v for a lock freed after 200 ms", took)
	}
	if got.State != projection.StateFailed {
		t.Fatalf("rebuild answered %s, want the failed build", got.State)
	}
}
