package matching

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
)

// A posting suiting more seekers than one write chunk is listed for each of
// them and each new pair is queued once, also when copies write it at once;
// written again after its announcements were claimed it queues nothing;
// changed so that it suits nobody, it leaves every list.
func TestReverseMatchChunksQueueEachNewPairOnceAndUnlist(t *testing.T) {
	t.Parallel()
	s := newTestService(t).Service
	ctx := context.Background()
	n := 2*reverseChunk + 500
	for i := range n {
		s.seekers.SetAttrs(profile.Seeker{ID: "r" + strconv.Itoa(i), RemotePref: "remote"}, 1)
	}
	p := posting.Posting{ID: "remote-1", Title: "Release of information specialist"}
	p.WorkMode = "remote"
	together := func() {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for c := range errs {
			wg.Go(func() { errs[c] = s.reverseMatch(ctx, p) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	together()
	if got := s.rdb.SCard(ctx, postingKey(p.ID)).Val(); got != int64(n) {
		t.Fatalf("the posting's set holds %d seekers, want %d", got, n)
	}
	if got := s.rdb.SCard(ctx, announceDue).Val(); got != int64(n) {
		t.Fatalf("%d seekers due an announcement, want %d", got, n)
	}
	for _, i := range []int{0, reverseChunk, n - 1} {
		id := "r" + strconv.Itoa(i)
		if _, err := s.rdb.ZScore(ctx, listKey(id), p.ID).Result(); err != nil {
			t.Fatalf("%s's list lacks the posting: %v", id, err)
		}
		if pend := s.rdb.SMembers(ctx, pendingKey(id)).Val(); len(pend) != 1 || pend[0] != p.ID {
			t.Fatalf("%s's pending announcements: %v", id, pend)
		}
	}

	// The announcements are claimed; the same posting matched again (a
	// redelivery, another copy) is no new pair.
	pipe := s.rdb.Pipeline()
	for i := range n {
		pipe.Del(ctx, pendingKey("r"+strconv.Itoa(i)))
	}
	pipe.Del(ctx, announceDue)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	together()
	if got := s.rdb.SCard(ctx, announceDue).Val(); got != 0 {
		t.Fatalf("matched again, %d seekers were queued an announcement of a pair already announced", got)
	}

	p.CredentialsOrEligible = []string{"RHIA"}
	if err := s.reverseMatch(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got := s.rdb.SCard(ctx, postingKey(p.ID)).Val(); got != 0 {
		t.Fatalf("a posting that suits nobody is still listed for %d seekers", got)
	}
	if _, err := s.rdb.ZScore(ctx, listKey("r7"), p.ID).Result(); err == nil {
		t.Fatal("a seeker the changed posting no longer suits still lists it")
	}
}
