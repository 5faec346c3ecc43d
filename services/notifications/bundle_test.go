package notifications_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	napi "github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/testenv"
	"github.com/clerkpath/clerkpath/services/notifications"
)

// announcement is one entry of a bundle as matching publishes it.
type announcement struct {
	id, seeker string
	postings   []string
}

// bundle publishes a matches.found.batch as the matching service does:
// each entry sealed with its own seeker's key.
func (st *stack) bundle(t *testing.T, msgID string, as ...announcement) {
	t.Helper()
	ctx := context.Background()
	var b matchingapi.FoundBatch
	for _, a := range as {
		sealed, err := st.keys.Seal(ctx, a.seeker, matchingapi.Found{SeekerID: a.seeker, Postings: a.postings})
		if err != nil {
			t.Fatal(err)
		}
		b.Announcements = append(b.Announcements, matchingapi.SealedFound{ID: a.id, Sealed: sealed})
	}
	if _, err := events.Publish(ctx, st.srv.JS, events.Event{Subject: matchingapi.MatchesFoundBatch.Subject, ID: msgID, Source: "test", Payload: b}); err != nil {
		t.Fatal(err)
	}
}

// told counts, per posting, the items of an owner's feed naming it, and
// the notifications.
func (st *stack) told(t *testing.T, owner napi.Owner) (map[string]int, int) {
	t.Helper()
	f, err := napi.FeedRead.Call(context.Background(), st.srv.NC, napi.FeedRequest{Owner: owner, After: "0-0"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, n := range f.Notifications {
		var b napi.Body
		if err := json.Unmarshal(n.Body, &b); err != nil {
			t.Fatal(err)
		}
		for _, raw := range b.Data.Items {
			var it struct {
				PostingID string `json:"posting_id"`
			}
			if err := json.Unmarshal(raw, &it); err != nil {
				t.Fatal(err)
			}
			out[it.PostingID]++
		}
	}
	return out, len(f.Notifications)
}

func seekerOwner(id string) napi.Owner { return napi.Owner{Kind: napi.OwnerSeeker, ID: id} }

// Old single matches.found messages and bundles are both told; a retried
// flush's bundle that repeats an announcement (same id, other grouping)
// tells it once; a deleted seeker's entry (key shredded) is skipped while
// the others in the same bundle are told, to the seeker, their counselor
// and, opted in, the posting's employer.
func TestBundlesAndSingleAnnouncementsAreToldOncePerAnnouncement(t *testing.T) {
	st := newStack(t)
	st.rel["seeker-a"] = profile.Relations{Exists: true, OpenToEmployers: true, Counselors: []string{"coun-a"}}
	st.rel["seeker-b"] = profile.Relations{Exists: true}
	st.rel["seeker-c"] = profile.Relations{Exists: true}
	st.rel["seeker-gone"] = profile.Relations{Exists: true}
	st.org["p-1"] = "org-1"
	st.start(t, fast)
	ctx := context.Background()
	// The deleted seeker's announcement was sealed before their key was shredded.
	st.found(t, "found:old", "seeker-a", "p-old")
	st.bundle(t, "found-batch:1",
		announcement{"found:a1", "seeker-a", []string{"p-1"}},
		announcement{"found:b2", "seeker-b", []string{"p-2"}},
		announcement{"found:gone4", "seeker-gone", []string{"p-4"}})
	if err := st.keys.Shred(ctx, "seeker-gone"); err != nil {
		t.Fatal(err)
	}
	st.bundle(t, "found-batch:2",
		announcement{"found:b2", "seeker-b", []string{"p-2"}},
		announcement{"found:c3", "seeker-c", []string{"p-3"}})
	want := map[napi.Owner]map[string]int{
		seekerOwner("seeker-a"):                   {"p-old": 1, "p-1": 1},
		seekerOwner("seeker-b"):                   {"p-2": 1},
		seekerOwner("seeker-c"):                   {"p-3": 1},
		{Kind: napi.OwnerCounselor, ID: "coun-a"}: {"p-old": 1, "p-1": 1},
		{Kind: napi.OwnerEmployer, ID: "org-1"}:   {"p-1": 1},
	}
	check := func() error {
		for owner, w := range want {
			if got, _ := st.told(t, owner); fmt.Sprint(got) != fmt.Sprint(w) {
				return fmt.Errorf("%s %s told %v, want %v", owner.Kind, owner.ID, got, w)
			}
		}
		if got, n := st.told(t, seekerOwner("seeker-gone")); n != 0 {
			return fmt.Errorf("the deleted seeker was told %v", got)
		}
		return nil
	}
	testenv.Eventually(t, 10*time.Second, check)
	time.Sleep(300 * time.Millisecond) // nothing more comes
	if err := check(); err != nil {
		t.Error(err)
	}
}

// An announcement that fails (profiles does not answer for its seeker)
// makes its bundle be redelivered: it is told then, and the bundle's other
// announcement, told the first time, is not told again.
func TestFailingAnnouncementRedeliversItsBundleTellingNobodyTwice(t *testing.T) {
	st := newStack(t)
	st.rel["seeker-e"] = profile.Relations{Exists: true, Counselors: []string{"coun-e"}}
	st.rel["seeker-f"] = profile.Relations{Exists: true, Counselors: []string{"coun-f"}}
	st.fail["seeker-e"] = 2
	st.start(t, fast)
	st.bundle(t, "found-batch:ef",
		announcement{"found:e1", "seeker-e", []string{"p-e"}},
		announcement{"found:f1", "seeker-f", []string{"p-f"}})
	want := map[napi.Owner]map[string]int{
		seekerOwner("seeker-e"):                   {"p-e": 1},
		seekerOwner("seeker-f"):                   {"p-f": 1},
		{Kind: napi.OwnerCounselor, ID: "coun-e"}: {"p-e": 1},
		{Kind: napi.OwnerCounselor, ID: "coun-f"}: {"p-f": 1},
	}
	check := func() error {
		for owner, w := range want {
			if got, n := st.told(t, owner); fmt.Sprint(got) != fmt.Sprint(w) || n != 1 {
				return fmt.Errorf("%s %s told %v in %d notifications, want %v in 1", owner.Kind, owner.ID, got, n, w)
			}
		}
		return nil
	}
	testenv.Eventually(t, 15*time.Second, check)
	st.mu.Lock()
	left := st.fail["seeker-e"]
	st.mu.Unlock()
	if left != 0 {
		t.Fatalf("profiles failed %d of 2 times: the bundle was not redelivered", 2-left)
	}
	time.Sleep(300 * time.Millisecond)
	if err := check(); err != nil {
		t.Error(err)
	}
}

// Bundles are told once per announcement through a second copy, a deleted
// consumer (recreated, it replays MATCHES from the start), a copy started
// afterwards and a regrouped retry of announcements already told.
func TestBundlesToldOnceThroughTwoCopiesADeletedConsumerAndARegroupedRetry(t *testing.T) {
	st := newStack(t)
	const seekers = 6
	var all []announcement
	for i := range seekers {
		id := fmt.Sprintf("seeker-%d", i)
		st.rel[id] = profile.Relations{Exists: true}
		all = append(all, announcement{fmt.Sprintf("found:%d", i), id, []string{fmt.Sprintf("p-%d", i)}})
	}
	st.start(t, fast)
	st.start(t, fast)
	for i := 0; i < seekers; i += 2 {
		st.bundle(t, fmt.Sprintf("found-batch:%d", i), all[i], all[i+1])
	}
	check := func() error {
		for _, a := range all {
			if got, _ := st.told(t, seekerOwner(a.seeker)); fmt.Sprint(got) != fmt.Sprintf("map[%s:1]", a.postings[0]) {
				return fmt.Errorf("%s told %v, want %s once", a.seeker, got, a.postings[0])
			}
		}
		return nil
	}
	testenv.Eventually(t, 10*time.Second, check)
	ctx := context.Background()
	if err := st.srv.JS.DeleteConsumer(ctx, events.StreamMatches, notifications.ConsumerMatches); err != nil {
		t.Fatal(err)
	}
	st.start(t, fast)
	st.bundle(t, "found-batch:regrouped", all[1], all[2], all[5])
	// A message the recreated consumer gave a copy's pull just as that
	// copy found its consumer gone is delivered again after AckWait (30 s,
	// pkg/events): the replay may take that long, never lose it.
	testenv.Eventually(t, 45*time.Second, func() error {
		c, err := st.srv.JS.Consumer(ctx, events.StreamMatches, notifications.ConsumerMatches)
		if err != nil {
			return err
		}
		info, err := c.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumPending > 0 || info.NumAckPending > 0 || info.Delivered.Stream < uint64(seekers/2+1) {
			return fmt.Errorf("replay not done: %d pending, %d unacknowledged, delivered up to %d", info.NumPending, info.NumAckPending, info.Delivered.Stream)
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond)
	if err := check(); err != nil {
		t.Error(err)
	}
}

// bundleToCounseledSeekers gives n seekers (ids prefix-0, prefix-1, …) a
// counselor each, publishes one bundle announcing a posting to each, and
// waits until every seeker and counselor was told it in one notification.
func (st *stack) bundleToCounseledSeekers(t *testing.T, prefix string, n int) {
	t.Helper()
	var all []announcement
	st.mu.Lock()
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		st.rel[id] = profile.Relations{Exists: true, Counselors: []string{"coun-" + id}}
		all = append(all, announcement{fmt.Sprintf("found:%s", id), id, []string{fmt.Sprintf("p-%s", id)}})
	}
	st.mu.Unlock()
	st.bundle(t, "found-batch:"+prefix, all...)
	testenv.Eventually(t, 10*time.Second, func() error {
		for _, a := range all {
			for _, owner := range []napi.Owner{seekerOwner(a.seeker), {Kind: napi.OwnerCounselor, ID: "coun-" + a.seeker}} {
				if got, k := st.told(t, owner); fmt.Sprint(got) != fmt.Sprintf("map[%s:1]", a.postings[0]) || k != 1 {
					return fmt.Errorf("%s %s told %v in %d notifications", owner.Kind, owner.ID, got, k)
				}
			}
		}
		return nil
	})
}

// The relations of a bundle's seekers are asked of profiles in one
// relations-batch request, not one request a seeker; a profiles from
// before that endpoint (a rolling upgrade) is asked once a seeker, and
// the same notifications are told either way.
func TestABundlesRelationsAreAskedInOneRequest(t *testing.T) {
	for _, batch := range []bool{true, false} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			st := newStackOf(t, batch)
			const seekers = 6
			st.start(t, fast)
			st.bundleToCounseledSeekers(t, "seeker", seekers)
			st.mu.Lock()
			defer st.mu.Unlock()
			single, batched := st.asks["relations"], st.asks["relations-batch"]
			if batch && (batched != 1 || single != 0) {
				t.Fatalf("profiles was asked %d relations-batch and %d relations requests for one bundle of %d seekers, want 1 and 0", batched, single, seekers)
			}
			if !batch && single != seekers {
				t.Fatalf("a profiles without relations-batch was asked %d relations requests for %d seekers", single, seekers)
			}
		})
	}
}

// notifyCalls counts the calls of the notify script (the only one with
// three keys: feed, hooks, due) made alone and made in pipelines.
type notifyCalls struct{ alone, piped, pipelines atomic.Int64 }

func isNotify(cmd redis.Cmder) bool {
	a := cmd.Args()
	name, _ := a[0].(string)
	return (strings.EqualFold(name, "evalsha") || strings.EqualFold(name, "eval")) && len(a) > 2 && fmt.Sprint(a[2]) == "3"
}

func (c *notifyCalls) watch(_ context.Context, cmds []redis.Cmder, pipelined bool) error {
	n := 0
	for _, cmd := range cmds {
		if isNotify(cmd) {
			n++
		}
	}
	switch {
	case !pipelined:
		c.alone.Add(int64(n))
	case n > 0:
		c.piped.Add(int64(n))
		c.pipelines.Add(1)
	}
	return nil
}

// A bundle's notifications (a seeker's own and their counselor's, for each
// of its seekers) are written in one pipelined round trip, not one round
// trip an owner, and each is told once; a Redis without the script
// (flushed, as after a restart) refuses the pipeline's calls, which are
// sent again, once each, after the script is loaded.
func TestABundlesNotificationsAreWrittenInOneRoundTrip(t *testing.T) {
	st := newStack(t)
	calls := &notifyCalls{}
	st.srv.Redis.AddHook(testenv.RedisWatch(calls.watch))
	st.start(t, fast)
	const seekers = 8
	check := func(step string, pipes int64) {
		t.Helper()
		alone, piped, got := calls.alone.Swap(0), calls.piped.Swap(0), calls.pipelines.Swap(0)
		if alone != 0 || piped != pipes*2*seekers || got != pipes {
			t.Fatalf("%s: the notify script was called %d times alone and %d times in %d pipelines, want 0 and %d in %d",
				step, alone, piped, got, pipes*2*seekers, pipes)
		}
	}
	if err := st.srv.Redis.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	st.bundleToCounseledSeekers(t, "flushed", seekers)
	check("after SCRIPT FLUSH", 2)
	st.bundleToCounseledSeekers(t, "loaded", seekers)
	check("with the script loaded", 1)
}

// A counselor told about many clients at once (one bundle announcing a
// posting to each) gets them in notifications of at most NotifyParts
// clients, each client once, so that no one script call holds Redis for
// long; each notification is recorded under the clients it names, so a
// deleted client's is found and removed and the others stay.
func TestManyClientsAreToldInBoundedNotifications(t *testing.T) {
	st := newStack(t)
	st.start(t, fast)
	ctx := context.Background()
	const clients = 2*notifications.NotifyParts + 5
	counselor := napi.Owner{Kind: napi.OwnerCounselor, ID: "coun-many"}
	var all []announcement
	st.mu.Lock()
	for i := range clients {
		id := fmt.Sprintf("client%03dx", i)
		st.rel[id] = profile.Relations{Exists: true, Counselors: []string{counselor.ID}}
		all = append(all, announcement{fmt.Sprintf("found:%03d", i), id, []string{fmt.Sprintf("p-%03d", i)}})
	}
	st.mu.Unlock()
	st.bundle(t, "found-batch:many", all...)
	feed := func() []napi.Notification {
		t.Helper()
		f, err := napi.FeedRead.Call(ctx, st.srv.NC, napi.FeedRequest{Owner: counselor, After: "0-0"})
		if err != nil {
			t.Fatal(err)
		}
		return f.Notifications
	}
	const want = (clients + notifications.NotifyParts - 1) / notifications.NotifyParts
	testenv.Eventually(t, 15*time.Second, func() error {
		if got, k := st.told(t, counselor); len(got) != clients || k != want {
			return fmt.Errorf("told %d of %d clients' postings in %d notifications, want %d", len(got), clients, k, want)
		}
		return nil
	})
	got, _ := st.told(t, counselor)
	for p, n := range got {
		if n != 1 {
			t.Errorf("posting %s told %d times", p, n)
		}
	}
	var gone string
	for _, n := range feed() {
		var b napi.Body
		if err := json.Unmarshal(n.Body, &b); err != nil {
			t.Fatal(err)
		}
		if len(b.Data.Items) > notifications.NotifyParts {
			t.Errorf("a notification holds %d items, more than %d", len(b.Data.Items), notifications.NotifyParts)
		}
		if gone == "" && len(b.Data.Items) == notifications.NotifyParts {
			var it struct {
				SeekerID string `json:"seeker_id"`
			}
			if err := json.Unmarshal(b.Data.Items[notifications.NotifyParts/2], &it); err != nil {
				t.Fatal(err)
			}
			gone = it.SeekerID
		}
	}
	if gone == "" {
		t.Fatal("no full notification names a client")
	}
	if err := redisNames(ctx, st.srv.Redis, gone); err == nil {
		t.Fatal("before the deletion no key or value names the client: the check below would prove nothing")
	}
	if _, err := events.Publish(ctx, st.srv.JS, events.Event{Subject: events.SeekerSubjectPrefix + gone, Type: events.TypeSeekerDeleted,
		ID: "delete:" + gone, Source: "test", Payload: profilesapi.SeekerRef{ID: gone}}); err != nil {
		t.Fatal(err)
	}
	if err := st.keys.Shred(ctx, gone); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error { return redisNames(ctx, st.srv.Redis, gone) })
	if k := len(feed()); k != want-1 {
		t.Errorf("after one client's deletion the counselor has %d notifications, want the %d that do not name them", k, want-1)
	}
}

// A posting announced to more seekers than one command adds at once is
// remembered for each of them (its closure is told to all), in SADD
// commands of at most MatchedChunk seekers: Redis serves nobody else while
// one runs.
func TestAPostingToldToManyIsRememberedInShortCommands(t *testing.T) {
	st := newStack(t)
	st.start(t, fast)
	ctx := context.Background()
	big := &largestSAdd{}
	st.srv.Redis.AddHook(testenv.RedisWatch(big.watch))
	n := notifications.MatchedChunk + 40
	var all []announcement
	st.mu.Lock()
	for i := range n {
		id := fmt.Sprintf("wide-%04d", i)
		st.rel[id] = profile.Relations{Exists: true}
		all = append(all, announcement{fmt.Sprintf("found:w%04d", i), id, []string{"p-wide"}})
	}
	st.mu.Unlock()
	st.bundle(t, "found-batch:wide", all...)
	testenv.Eventually(t, 30*time.Second, func() error {
		if got := st.srv.Redis.SCard(ctx, notifications.KeyPrefix+"matched:p-wide").Val(); got != int64(n) {
			return fmt.Errorf("p-wide remembered for %d of %d seekers", got, n)
		}
		return nil
	})
	if got := big.most.Load(); got > notifications.MatchedChunk {
		t.Fatalf("one SADD added %d seekers to a matched set, want at most %d", got, notifications.MatchedChunk)
	}
}

// largestSAdd records the most members one SADD to a matched set carried.
type largestSAdd struct{ most atomic.Int64 }

func (l *largestSAdd) watch(_ context.Context, cmds []redis.Cmder, _ bool) error {
	for _, c := range cmds {
		a := c.Args()
		if len(a) < 2 || !strings.EqualFold(c.Name(), "sadd") || !strings.Contains(fmt.Sprint(a[1]), ":matched:") {
			continue
		}
		for n := int64(len(a) - 2); ; {
			most := l.most.Load()
			if n <= most || l.most.CompareAndSwap(most, n) {
				break
			}
		}
	}
	return nil
}
