package profiles

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// roundTrips counts the Redis round trips (a command or a pipeline) made
// with a context that carries it.
type roundTrips struct{ n atomic.Int64 }

type roundTripsKey struct{}

func (r *roundTrips) counting(ctx context.Context) context.Context {
	return context.WithValue(ctx, roundTripsKey{}, r)
}

func count(ctx context.Context) {
	if r, ok := ctx.Value(roundTripsKey{}).(*roundTrips); ok {
		r.n.Add(1)
	}
}

func (*roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (*roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { count(ctx); return next(ctx, cmd) }
}
func (*roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { count(ctx); return next(ctx, cmds) }
}

// serveRelations runs the service with a seeker linked to a counselor and
// an employer, and returns its store and the round-trip counter.
func serveRelations(t testing.TB) (*store, *roundTrips) {
	t.Helper()
	srv := testenv.Open(t, testenv.Needs{Streams: true, Redis: true})
	rt := &roundTrips{}
	srv.Redis.AddHook(rt)
	s, err := New(srv.NC, srv.JS, srv.Redis, zerolog.Nop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	testenv.Eventually(t, 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return rpc.Serving(ctx, srv.NC, "profiles", profilesapi.Endpoints())
	})
	for _, call := range []func() error{
		func() error {
			_, err := profilesapi.SeekerPut.Call(ctx, srv.NC, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "s1", OpenToEmployers: true}})
			return err
		},
		func() error {
			_, err := profilesapi.CounselorLink.Call(ctx, srv.NC, profilesapi.CounselorLinkRequest{ID: "s1", Counselor: "c1", Linked: true})
			return err
		},
		func() error {
			_, err := profilesapi.Consent.Call(ctx, srv.NC, profilesapi.ConsentRequest{ID: "s1", Employer: "acme", Granted: true})
			return err
		},
	} {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	return s.store, rt
}

// A seeker's relations take two Redis round trips (the projection's
// generation, then the seeker, counselors and employers together), not
// four: notifications asks for them once per seeker of every batch of
// announcements.
func TestRelationsReadInTwoRoundTrips(t *testing.T) {
	st, rt := serveRelations(t)
	ctx := rt.counting(context.Background())
	rel, err := st.relations(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if !rel.Exists || !rel.OpenToEmployers || !slices.Equal(rel.Counselors, []string{"c1"}) || !slices.Equal(rel.Employers, []string{"acme"}) {
		t.Fatalf("relations %+v", rel)
	}
	if n := rt.n.Load(); n != 2 {
		t.Fatalf("relations took %d Redis round trips, want 2", n)
	}
	rt.n.Store(0)
	rel, err = st.relations(ctx, "nobody")
	if err != nil || rel.Exists || rel.Counselors == nil || len(rel.Counselors)+len(rel.Employers) != 0 {
		t.Fatalf("an unknown seeker's relations: %+v, %v", rel, err)
	}
	if n := rt.n.Load(); n != 2 {
		t.Fatalf("an unknown seeker's relations took %d round trips, want 2", n)
	}
}

// BenchmarkRelations is one relations read (what notifications asks per
// seeker announced).
func BenchmarkRelations(b *testing.B) {
	st, _ := serveRelations(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := st.relations(ctx, "s1"); err != nil {
			b.Fatal(err)
		}
	}
}
