package matching

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// queue marks postings as new matches of each seeker, as reverse matching
// does, without matching anything.
func queue(t *testing.T, s *Service, seekers []string, postings ...string) {
	t.Helper()
	ctx := context.Background()
	members := make([]any, len(postings))
	for i, p := range postings {
		members[i] = p
	}
	pipe := s.rdb.TxPipeline()
	for _, id := range seekers {
		pipe.SAdd(ctx, pendingKey(id), members...)
		pipe.SAdd(ctx, announceDue, id)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

func seekerIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return ids
}

// A flush publishes one matches.found.batch message per chunk of
// flushChunk seekers, not one message per seeker, and each seeker's entry
// opens with their own key to their own announcement.
func TestAnnouncementsBundledOneMessagePerChunk(t *testing.T) {
	t.Parallel()
	cfg := ownServers(t)
	ctx := context.Background()
	c := startCopy(t, cfg, false)
	f := newFeed(t, cfg)
	seekers := seekerIDs("bundled-", 2*flushChunk+1)
	queue(t, c.s, seekers, "p1", "p2")
	if err := c.s.flushAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := f.foundMsgs(t)
	if len(msgs) != 3 {
		t.Fatalf("%d messages for %d seekers, want 3 (one per chunk of %d)", len(msgs), len(seekers), flushChunk)
	}
	told := map[string]int{}
	for _, m := range msgs {
		if m.subject != matchingapi.MatchesFoundBatch.Subject || len(m.found) > flushChunk {
			t.Errorf("message %d: %s with %d announcements, want a bundle of at most %d", m.seq, m.subject, len(m.found), flushChunk)
		}
		if !slices.IsSorted(m.ids) {
			t.Errorf("message %d: entries not in id order", m.seq)
		}
		for _, fd := range m.found {
			if !slices.Equal(fd.Postings, []string{"p1", "p2"}) {
				t.Errorf("%s was told %v, want [p1 p2]", fd.SeekerID, fd.Postings)
			}
			told[fd.SeekerID]++
		}
	}
	for _, id := range seekers {
		if told[id] != 1 {
			t.Errorf("%s announced %d times, want once", id, told[id])
		}
	}
	if n, err := c.s.rdb.SCard(ctx, announceDue).Result(); err != nil || n != 0 {
		t.Errorf("%d seekers still due after the flush (%v)", n, err)
	}
}

// A flush that dies after publishing, before it clears the outbox, leaves
// its announcements claimed: the next flush publishes the same bundle
// under the same message id (dropped as a duplicate), and one that bundles
// them with a newer announcement carries them under their same ids, so a
// consumer keyed by entry id tells each once.
func TestRetriedFlushRepublishesUnderTheSameIDs(t *testing.T) {
	t.Parallel()
	cfg := ownServers(t)
	ctx := context.Background()
	c := startCopy(t, cfg, false)
	f := newFeed(t, cfg)
	first := []string{"retry-a", "retry-b"}
	queue(t, c.s, first, "p1")
	// The flush dies after the publish: its claims are left as they were.
	unclear := func(work []claimed) {
		t.Helper()
		for _, w := range work {
			if err := c.s.rdb.Set(ctx, outKey(w.seeker), w.body, 0).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.s.rdb.SAdd(ctx, announceDue, w.seeker).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	work, _, err := c.s.claimAnnouncements(ctx, first)
	if err != nil || len(work) != 2 {
		t.Fatalf("claimed %v (%v), want both seekers", work, err)
	}
	if err := c.s.publishAnnouncements(ctx, work); err != nil {
		t.Fatal(err)
	}
	unclear(work)
	if err := c.s.flushAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := f.foundMsgs(t)
	if len(msgs) != 1 {
		t.Fatalf("%d messages after the same announcements were flushed twice, want 1 (a duplicate)", len(msgs))
	}
	ids := msgs[0].ids

	// Dying again, then flushed beside a newer announcement of another seeker.
	unclear(work)
	queue(t, c.s, []string{"retry-c"}, "p2")
	if err := c.s.flushAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	msgs = f.foundMsgs(t)
	if len(msgs) != 2 || len(msgs[1].ids) != 3 {
		t.Fatalf("messages %+v, want the first bundle and one of all three seekers", msgs)
	}
	for _, id := range ids {
		if !slices.Contains(msgs[1].ids, id) {
			t.Errorf("announcement %s is not in the second bundle under its id (%v)", id, msgs[1].ids)
		}
	}
	got, n := f.announced(t)
	if n != 3 || got["retry-a"]["p1"] != 1 || got["retry-b"]["p1"] != 1 || got["retry-c"]["p2"] != 1 {
		t.Errorf("announced %v in %d announcements, want each seeker's posting once", got, n)
	}
	for _, id := range append(first, "retry-c") {
		if n, err := c.s.rdb.Exists(ctx, outKey(id), pendingKey(id)).Result(); err != nil || n != 0 {
			t.Errorf("%s: announcement still outgoing or pending (%d, %v)", id, n, err)
		}
	}
}

// watchClaims counts the claimScript calls s sends and the seekers they
// name. The script is loaded first: a call refused with NOSCRIPT is sent
// again, and would be counted twice.
func watchClaims(t *testing.T, s *Service) (calls, seekers *atomic.Int64) {
	t.Helper()
	if err := claimScript.Load(context.Background(), s.rdb).Err(); err != nil {
		t.Fatal(err)
	}
	calls, seekers = new(atomic.Int64), new(atomic.Int64)
	s.rdb.AddHook(testenv.RedisWatch(func(_ context.Context, cmds []redis.Cmder, _ bool) error {
		for _, cmd := range cmds {
			if a := cmd.Args(); len(a) > 2 && fmt.Sprint(a[0]) == "evalsha" && fmt.Sprint(a[1]) == claimScript.Hash() {
				keys, _ := a[2].(int)
				calls.Add(1)
				seekers.Add(int64(keys-1) / 5) // the due set, then five keys a seeker
			}
		}
		return nil
	}))
	return calls, seekers
}

// A flush claims each due seeker once (issue 14: every flush claimed each
// seeker a second time only to find nothing pending and take them out of
// the due set, 60 % of the claims in a bulk): publishing an announcement
// takes the seeker out of the due set when nothing more is pending. A
// seeker whose claim finds an outgoing announcement left by a failed flush
// is claimed again in the same flush, for what is pending behind it.
func TestFlushClaimsEachSeekerOnce(t *testing.T) {
	t.Parallel()
	cfg := ownServers(t)
	ctx := context.Background()
	c := startCopy(t, cfg, false)
	f := newFeed(t, cfg)
	_, claims := watchClaims(t, c.s)
	seekers := seekerIDs("once-", 50)
	queue(t, c.s, seekers, "p1")
	const left = "once-left" // a failed flush left "p0" outgoing; "p2" is pending behind it
	pipe := c.s.rdb.TxPipeline()
	pipe.Set(ctx, outKey(left), "1 ~lefttoken p0", 0)
	pipe.Set(ctx, seqKey(left), 1, 0)
	pipe.SAdd(ctx, pendingKey(left), "p2")
	pipe.SAdd(ctx, announceDue, left)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.s.flushAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	if n := claims.Load(); n != int64(len(seekers))+2 {
		t.Errorf("the flush claimed %d seekers, want %d: each seeker once, the one with an outgoing announcement twice", n, len(seekers)+2)
	}
	if due, err := c.s.rdb.SCard(ctx, announceDue).Result(); err != nil || due != 0 {
		t.Errorf("%d seekers still due after the flush (%v), want none", due, err)
	}
	got, n := f.announced(t)
	if n != len(seekers)+2 || got[left]["p0"] != 1 || got[left]["p2"] != 1 {
		t.Errorf("%d announcements, %s told %v: want one for each seeker and two for %s (p0, then p2)", n, left, got[left], left)
	}
	for _, id := range seekers {
		if got[id]["p1"] != 1 {
			t.Errorf("%s told p1 %d times, want once", id, got[id]["p1"])
		}
	}

	// A pair queued after the claim and before the announcement is done
	// keeps the seeker due, and the next flush tells it.
	queue(t, c.s, []string{"once-late"}, "p3")
	work, again, err := c.s.claimAnnouncements(ctx, []string{"once-late"})
	if err != nil || len(work) != 1 || len(again) != 0 {
		t.Fatalf("claimed %v, again %v (%v): want one fresh announcement", work, again, err)
	}
	queue(t, c.s, []string{"once-late"}, "p4")
	if err := c.s.publishAnnouncements(ctx, work); err != nil {
		t.Fatal(err)
	}
	if due, err := c.s.rdb.SIsMember(ctx, announceDue, "once-late").Result(); err != nil || !due {
		t.Fatalf("a seeker with a posting pending left the due set (%v)", err)
	}
	if err := c.s.flushAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.announced(t); got["once-late"]["p3"] != 1 || got["once-late"]["p4"] != 1 {
		t.Errorf("once-late told %v, want p3 and p4 once each", got["once-late"])
	}
}

// A claim call stops once it has done claimWork units of work, and the
// seekers it left are claimed in the next round trip: a call holds Redis
// about as long for seekers with hundreds of postings pending (after a
// bulk) as for seekers with one.
func TestClaimCallsStopAtTheirWorkBudget(t *testing.T) {
	t.Parallel()
	cfg := ownServers(t)
	ctx := context.Background()
	c := startCopy(t, cfg, false)
	f := newFeed(t, cfg)
	calls, _ := watchClaims(t, c.s)
	per := claimWork * 6 / 10 // two seekers pass the budget, one does not
	postings := make([]string, per)
	for i := range postings {
		postings[i] = fmt.Sprintf("b%04d", i)
	}
	seekers := []string{"budget-a", "budget-b", "budget-c"}
	queue(t, c.s, seekers, postings...)
	if err := c.s.flushAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d claim calls, want 2: the first stops after the second seeker's %d postings, the third seeker in the next", n, per)
	}
	got, n := f.announced(t)
	if n != len(seekers) {
		t.Errorf("%d announcements, want one for each of %d seekers", n, len(seekers))
	}
	for _, id := range seekers {
		if len(got[id]) != per {
			t.Errorf("%s told %d postings, want %d", id, len(got[id]), per)
		}
	}
	if due, err := c.s.rdb.SCard(ctx, announceDue).Result(); err != nil || due != 0 {
		t.Errorf("%d seekers still due (%v), want none", due, err)
	}
}

// The flusher announces what a reverse batch queued as soon as it is woken
// after a quiet spell, and paces the flushes after that: what is queued
// within FlushMinGap of a flush goes out together in the next, one
// announcement per seeker, not one per batch.
func TestFlusherPacesFlushes(t *testing.T) {
	t.Parallel()
	cfg := ownServers(t)
	c := startCopy(t, cfg, true)
	f := newFeed(t, cfg)
	queue(t, c.s, []string{"pace-a"}, "p1")
	woken := time.Now()
	c.s.wakeFlusher()
	testenv.EventuallyEvery(t, 10*time.Second, 20*time.Millisecond, func() error {
		if got, n := f.announced(t); n != 1 || got["pace-a"]["p1"] != 1 {
			return fmt.Errorf("announced %v in %d announcements, want p1 to pace-a", got, n)
		}
		return nil
	})
	if took := time.Since(woken); took >= FlushEvery {
		t.Errorf("a woken flusher announced after %s, not before its every-%s pass", took, FlushEvery)
	}
	// Two batches' worth queued within FlushMinGap of that flush, each
	// waking the flusher, the second long after an unpaced flusher would
	// have flushed the first.
	queue(t, c.s, []string{"pace-a", "pace-b"}, "p2")
	c.s.wakeFlusher()
	time.Sleep(250 * time.Millisecond) // a quarter of FlushMinGap
	queue(t, c.s, []string{"pace-a"}, "p3")
	c.s.wakeFlusher()
	testenv.Eventually(t, 10*time.Second, func() error {
		if got, _ := f.announced(t); got["pace-a"]["p3"] != 1 || got["pace-b"]["p2"] != 1 {
			return fmt.Errorf("announced %v, want p2 and p3 to pace-a, p2 to pace-b", got)
		}
		return nil
	})
	got, n := f.announced(t)
	if n != 3 || got["pace-a"]["p2"] != 1 {
		t.Errorf("announced %v in %d announcements, want 3: p1 to pace-a, then p2 and p3 to pace-a together, p2 to pace-b", got, n)
	}
}

// While reverse matching has a bulk to work through, the flusher holds
// what is due, for up to hold.most after its last flush began: a seeker is
// told once of everything the bulk brought them meanwhile, not once per
// flush. Once the backlog is gone it flushes at its usual pace again.
func TestFlusherHoldsAnnouncementsThroughABulk(t *testing.T) {
	t.Parallel()
	cfg := ownServers(t)
	const most = 6 * time.Second
	c := startCopy(t, cfg, true, func(s *Service) { s.hold = bulkHold{backlog: 5, most: most} })
	f := newFeed(t, cfg)
	ctx := context.Background()
	queue(t, c.s, []string{"hold-a"}, "p1")
	c.s.wakeFlusher()
	testenv.EventuallyEvery(t, 10*time.Second, 20*time.Millisecond, func() error {
		if got, n := f.announced(t); n != 1 || got["hold-a"]["p1"] != 1 {
			return fmt.Errorf("announced %v in %d announcements, want p1 to hold-a", got, n)
		}
		return nil
	})
	flushed := time.Now() // the first flush began before this

	// A bulk: reverse matching paused, more postings behind it than the
	// hold's backlog.
	if _, err := c.s.js.PauseConsumer(ctx, events.StreamJobs, ReverseDurable, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		f.post(t, remoteOpening(fmt.Sprintf("hold-bulk-%d", i), time.Now()))
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		cons, err := c.s.js.Consumer(ctx, events.StreamJobs, ReverseDurable)
		if err != nil {
			return err
		}
		if b := backlog(cons.CachedInfo()); b < 5 {
			return fmt.Errorf("reverse backlog %d, want at least 5", b)
		}
		return nil
	})
	if time.Since(flushed) > most/2 {
		t.Skipf("the bulk took %s to set up, too close to the hold's end (%s) to tell a hold", time.Since(flushed), most)
	}
	queue(t, c.s, []string{"hold-a", "hold-b"}, "p2")
	c.s.wakeFlusher()
	time.Sleep(FlushMinGap + 300*time.Millisecond) // an unheld flusher has flushed p2 by now
	queue(t, c.s, []string{"hold-a"}, "p3")
	c.s.wakeFlusher()
	if got, n := f.announced(t); n != 1 {
		t.Fatalf("announced %v in %d announcements %s after the first flush, during a bulk; want only the first until the hold (%s) ends", got, n, time.Since(flushed), most)
	}
	testenv.Eventually(t, most+FlushEvery+5*time.Second, func() error {
		if got, _ := f.announced(t); got["hold-a"]["p3"] != 1 || got["hold-b"]["p2"] != 1 {
			return fmt.Errorf("announced %v, want p2 and p3 to hold-a, p2 to hold-b", got)
		}
		return nil
	})
	if got, n := f.announced(t); n != 3 || got["hold-a"]["p2"] != 1 {
		t.Errorf("announced %v in %d announcements, want 3: p1 to hold-a, then p2 and p3 to hold-a together, p2 to hold-b", got, n)
	}

	// The bulk handled: no hold.
	if _, err := c.s.js.ResumeConsumer(ctx, events.StreamJobs, ReverseDurable); err != nil {
		t.Fatal(err)
	}
	settled(t, c.s, 60*time.Second)
	queue(t, c.s, []string{"hold-a"}, "p4")
	woken := time.Now()
	c.s.wakeFlusher()
	testenv.EventuallyEvery(t, 10*time.Second, 20*time.Millisecond, func() error {
		if got, _ := f.announced(t); got["hold-a"]["p4"] != 1 {
			return fmt.Errorf("announced %v, want p4 to hold-a", got)
		}
		return nil
	})
	if took := time.Since(woken); took >= most {
		t.Errorf("with no backlog, p4 was announced %s after it was queued, not within the usual pace", took)
	}
}

func TestFlushGap(t *testing.T) {
	for _, c := range []struct{ took, want time.Duration }{
		{0, FlushMinGap},
		{100 * time.Millisecond, FlushMinGap},
		{time.Second, FlushPerBusy * time.Second},
		{time.Minute, FlushMaxGap},
	} {
		if got := flushGap(c.took); got != c.want {
			t.Errorf("flushGap(%s) = %s, want %s", c.took, got, c.want)
		}
	}
}

// A list longer than MatchListSize (stored before reverse matching kept
// lists to that size) is trimmed to its best MatchListSize when the
// seeker's announcement is claimed.
func TestClaimingAnAnnouncementTrimsTheList(t *testing.T) {
	t.Parallel()
	cfg := ownServers(t)
	ctx := context.Background()
	c := startCopy(t, cfg, false)
	newFeed(t, cfg)
	const seeker, n = "long-list", MatchListSize + 50
	var postings []string
	pipe := c.s.rdb.TxPipeline()
	for i := range n {
		id := fmt.Sprintf("p%03d", i)
		postings = append(postings, id)
		pipe.ZAdd(ctx, listKey(seeker), redis.Z{Score: float64(i), Member: id})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	queue(t, c.s, []string{seeker}, postings...)
	if err := c.s.flushAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	kept, err := c.s.rdb.ZRange(ctx, listKey(seeker), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != MatchListSize || kept[0] != fmt.Sprintf("p%03d", n-MatchListSize) || kept[len(kept)-1] != postings[n-1] {
		t.Fatalf("list of %d after the claim (lowest %v), want the best %d", len(kept), kept[:1], MatchListSize)
	}
}
