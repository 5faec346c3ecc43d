package projection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
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

// TestRequestRebuildWaitsOutABuildReplacedByANewerOne: a request that finds
// a build still in its grace period (swapped in, its predecessor not yet
// dropped) waits for it to end, then asks again. If meanwhile another
// caller's request started a newer build, the caller follows that one:
// being "replaced" means the build waited for has ended (two copies asked
// at once in make test; one caller failed with "generation 1 was replaced
// by a build of generation 2").
func TestRequestRebuildWaitsOutABuildReplacedByANewerOne(t *testing.T) {
	srv := testenv.Open(t, testenv.Needs{Streams: true, Redis: true})
	const name = "replacetest"
	p := start(t, srv, name)
	ctx := context.Background()
	nc := srv.NC
	subj := "test.replacetest."
	for _, ep := range []struct {
		sub string
		h   func(context.Context) (projection.Status, error)
	}{{subj + "rebuild", p.Rebuild}, {subj + "status", p.Status}} {
		sub, err := nc.Subscribe(ep.sub, func(m *nats.Msg) {
			st, err := ep.h(ctx)
			if err != nil {
				t.Errorf("%s: %v", ep.sub, err)
			}
			b, _ := json.Marshal(st)
			_ = m.Respond(b)
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	lock, status, pointer := "clerkpath:"+name+":rebuild:lock", "clerkpath:"+name+":rebuild:status", "clerkpath:"+name+":gen"
	g, err := srv.Redis.Get(ctx, pointer).Uint64()
	if err != nil {
		t.Fatal(err)
	}
	// Generation g swapped in and still in its grace period, built by
	// another copy that holds the lock.
	srv.Redis.Set(ctx, lock, "another-copy", time.Minute)
	srv.Redis.HSet(ctx, status, "state", projection.StateBuilding, "generation", g)
	go func() {
		time.Sleep(300 * time.Millisecond)
		// Another caller's request: g ended and g+1 started.
		srv.Redis.HSet(ctx, status, "state", projection.StateBuilding, "generation", g+1)
		time.Sleep(300 * time.Millisecond)
		srv.Redis.Set(ctx, pointer, g+1, 0)
		srv.Redis.HSet(ctx, status, "state", projection.StateDone)
		srv.Redis.Del(ctx, lock)
	}()
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	st, err := projection.RequestRebuild(rctx, nc, subj+"rebuild", subj+"status", 20*time.Millisecond, nil)
	if err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	if st.Generation != g+1 || st.Serving != g+1 {
		t.Fatalf("followed generation %d (serving %d), want the newer build %d", st.Generation, st.Serving, g+1)
	}
}
