package matching

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// A seeker's list holds their best listSize postings: a posting scoring
// below a full list's lowest is neither listed nor announced nor in the
// posting's set; one beating it pushes the lowest out of the list, the
// pending announcement and that posting's set; a listed posting whose
// score falls stays. A list refresh keeps the bound the same way.
func TestListsHoldOnlyEachSeekersBest(t *testing.T) {
	t.Parallel()
	s := newTestService(t).Service
	s.listSize = 3
	ctx := context.Background()
	sent := &scriptCalls{keys: 2 + 2*reverseChunk}
	s.rdb.AddHook(testenv.RedisWatch(sent.watch))
	write := func(posting string, score float64) {
		t.Helper()
		listed := map[string]bool{}
		for _, id := range s.rdb.SMembers(ctx, postingKey(posting)).Val() {
			listed[id] = true
		}
		if err := s.writePairs(ctx, posting, listed, slices.Values([]pair{{"a", score}})); err != nil {
			t.Fatal(err)
		}
	}
	want := func(list, pending string) {
		t.Helper()
		got := s.rdb.ZRange(ctx, listKey("a"), 0, -1).Val()
		pend := s.rdb.SMembers(ctx, pendingKey("a")).Val()
		sort.Strings(pend)
		if fmt.Sprint(got) != list || fmt.Sprint(pend) != pending {
			t.Fatalf("list %v and pending %v, want %s and %s", got, pend, list, pending)
		}
		// Each posting's set holds exactly the seekers whose list holds it.
		for _, p := range []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"} {
			in := s.rdb.SIsMember(ctx, postingKey(p), "a").Val()
			if in != slices.Contains(got, p) {
				t.Fatalf("%s's set holds the seeker: %v; the list %v", p, in, got)
			}
		}
	}
	write("p1", 10)
	write("p2", 20)
	write("p3", 30)
	want("[p1 p2 p3]", "[p1 p2 p3]")
	write("p4", 5) // below the floor
	want("[p1 p2 p3]", "[p1 p2 p3]")
	write("p5", 40) // pushes p1 out, unannounced
	want("[p2 p3 p5]", "[p2 p3 p5]")
	write("p5", 1) // listed: its new score counts, it stays, and the floor it lowers is learnt
	want("[p5 p2 p3]", "[p2 p3 p5]")

	// p6 enters and p5 leaves; the floor learnt is the list's lowest after
	// p6 entered (p6's 15), which turns away lower postings without a
	// word to Redis.
	write("p6", 15)
	want("[p6 p2 p3]", "[p2 p3 p6]")
	before := sent.pairs.Load()
	write("p4", 14)
	if sent.pairs.Load() != before {
		t.Fatal("a posting below the known floor was sent to Redis")
	}
	want("[p6 p2 p3]", "[p2 p3 p6]")

	// Another copy takes p3 out (a closure): this copy believes the floor
	// until it expires, then the gap is filled.
	s.rdb.ZRem(ctx, listKey("a"), "p3")
	s.rdb.SRem(ctx, postingKey("p3"), "a")
	s.rdb.SRem(ctx, pendingKey("a"), "p3")
	write("p7", 0.7)
	want("[p6 p2]", "[p2 p6]")
	base := s.floors.now
	s.floors.now = func() time.Duration { return base() + floorTTL }
	write("p7", 0.7)
	want("[p7 p6 p2]", "[p2 p6 p7]")
	s.floors.now = base

	// This copy's own unlisting forgets the floor at once.
	write("p8", 0.8) // turned away by the floor still known
	want("[p7 p6 p2]", "[p2 p6 p7]")
	if err := s.unlistPosting(ctx, "p2"); err != nil {
		t.Fatal(err)
	}
	write("p8", 0.8)
	want("[p7 p8 p6]", "[p6 p7 p8]")

	// A refresh's listing keeps the bound and the sets.
	if err := s.list(ctx, "a", "p9", 50); err != nil {
		t.Fatal(err)
	}
	want("[p8 p6 p9]", "[p6 p8 p9]")
}
