package profiles

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/apierr"
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

// count is a testenv.RedisWatch: one round trip for the counter in ctx.
func count(ctx context.Context, _ []redis.Cmder, _ bool) error {
	if r, ok := ctx.Value(roundTripsKey{}).(*roundTrips); ok {
		r.n.Add(1)
	}
	return nil
}

// serveRelations runs the service with a seeker linked to a counselor and
// an employer, and returns its store and the round-trip counter.
func serveRelations(t testing.TB) (*store, *roundTrips) {
	t.Helper()
	st, rt, _ := serveRelationsOn(t)
	return st, rt
}

// serveRelationsOn is serveRelations that also gives the test's servers.
func serveRelationsOn(t testing.TB) (*store, *roundTrips, *testenv.Servers) {
	t.Helper()
	srv := testenv.Open(t, testenv.Needs{Streams: true, Redis: true})
	rt := &roundTrips{}
	srv.Redis.AddHook(testenv.RedisWatch(count))
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
	return s.store, rt, srv
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

// The relations of many seekers take the same two round trips as one
// seeker's, come back in the order asked (an unknown seeker's exists is
// false, a repeated one's repeated), and the endpoint names each bad id by
// its position and refuses more than MaxRelationsIDs.
func TestRelationsBatchReadsManySeekersInTwoRoundTrips(t *testing.T) {
	st, rt, srv := serveRelationsOn(t)
	ctx := rt.counting(context.Background())
	rels, err := st.relationsMany(ctx, []string{"nobody", "s1", "s1"})
	if err != nil {
		t.Fatal(err)
	}
	if n := rt.n.Load(); n != 2 {
		t.Fatalf("three seekers' relations took %d Redis round trips, want 2", n)
	}
	if len(rels) != 3 || rels[0].Exists || rels[0].Counselors == nil || rels[0].Employers == nil {
		t.Fatalf("relations %+v: want an unknown seeker first, with empty lists", rels)
	}
	for _, rel := range rels[1:] {
		if !rel.Exists || !rel.OpenToEmployers || !slices.Equal(rel.Counselors, []string{"c1"}) || !slices.Equal(rel.Employers, []string{"acme"}) {
			t.Fatalf("s1's relations %+v", rel)
		}
	}

	got, err := profilesapi.RelationsBatch.Call(context.Background(), srv.NC, profilesapi.RelationsRequest{IDs: []string{"s1", "nobody"}})
	if err != nil || len(got.Relations) != 2 || !got.Relations[0].Exists || got.Relations[1].Exists {
		t.Fatalf("relations-batch of s1 and nobody: %+v, %v", got, err)
	}
	if got, err := profilesapi.RelationsBatch.Call(context.Background(), srv.NC, profilesapi.RelationsRequest{}); err != nil || len(got.Relations) != 0 {
		t.Fatalf("relations-batch of no seekers: %+v, %v", got, err)
	}

	_, err = profilesapi.RelationsBatch.Call(context.Background(), srv.NC, profilesapi.RelationsRequest{IDs: []string{"s1", "not an id", "s1", ""}})
	var e *apierr.Error
	if !errors.As(err, &e) || e.Code != apierr.Invalid {
		t.Fatalf("bad ids: %v, want %s", err, apierr.Invalid)
	}
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Field)
	}
	if !slices.Equal(fields, []string{"ids[1]", "ids[3]"}) {
		t.Fatalf("bad ids named %v, want [ids[1] ids[3]]", fields)
	}

	many := make([]string, profilesapi.MaxRelationsIDs+1)
	for i := range many {
		many[i] = "s1"
	}
	_, err = profilesapi.RelationsBatch.Call(context.Background(), srv.NC, profilesapi.RelationsRequest{IDs: many})
	if apierr.CodeOf(err) != apierr.Invalid {
		t.Fatalf("%d ids: %v, want %s", len(many), err, apierr.Invalid)
	}
}

// BenchmarkRelationsBatch is the relations of 100 seekers in one read
// (notifications' chunk); compare its ns/op with 100 × BenchmarkRelations.
func BenchmarkRelationsBatch(b *testing.B) {
	st, _ := serveRelations(b)
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = "s1"
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := st.relationsMany(ctx, ids); err != nil {
			b.Fatal(err)
		}
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
