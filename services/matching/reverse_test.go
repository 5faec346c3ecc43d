package matching

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/meilisearch/meilisearch-go"
	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/testenv"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// A posting suiting more seekers than one round trip writes is listed for
// each of them and each new pair is queued once, also when copies write it
// at once, in script calls of at most reverseChunk pairs (Redis serves
// nobody else while one runs) and round trips of at most reverseCalls
// calls; written again after its announcements were claimed it queues
// nothing; changed so that it suits nobody, it leaves every list.
func TestReverseMatchChunksQueueEachNewPairOnceAndUnlist(t *testing.T) {
	t.Parallel()
	s := newTestService(t).Service
	ctx := context.Background()
	calls := &scriptCalls{keys: 2 + 2*reverseChunk}
	s.rdb.AddHook(testenv.RedisWatch(calls.watch))
	n := 2*reverseChunk*reverseCalls + 50
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
	if big, most := calls.big.Load(), calls.most.Load(); big > 0 || most > reverseCalls {
		t.Fatalf("%d script calls of more than %d pairs; at most %d calls a round trip, want %d", big, reverseChunk, most, reverseCalls)
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

// Reverse matching reads the postings it matches without their text, which
// it does not use and which is most of a document, and still finds their
// seekers.
func TestReverseMatchReadsPostingsWithoutTheirText(t *testing.T) {
	t.Parallel()
	s := newTestService(t).Service
	ctx := context.Background()
	s.seekers.SetAttrs(profile.Seeker{ID: "far-away", RemotePref: "remote"}, 1)
	p := posting.Posting{ID: "remote-text", Title: "Medical records clerk", Employer: "Clinic",
		Description: strings.Repeat("Scan, index and release medical records. ", 100)}
	p.WorkMode = "remote"
	s.loadPostings(t, []posting.Posting{p})
	pk := "id"
	info, err := s.mc.Index(s.index).UpdateDocuments(ctx, []map[string]any{{"id": p.ID, postingindex.FieldCluster: p.ID}}, &meilisearch.DocumentOptions{PrimaryKey: &pk})
	if err == nil {
		err = meili.Wait(ctx, s.mc, info)
	}
	if err != nil {
		t.Fatal(err)
	}

	srv := testenv.Open(t, testenv.Needs{Meili: true})
	target, err := url.Parse(srv.Config.MeiliURL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var fetched []string
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		if strings.HasSuffix(r.URL.Path, "/documents/fetch") {
			mu.Lock()
			fetched = append(fetched, string(body))
			mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	s.mc = meili.Connect(proxy.URL, srv.Config.MeiliKey)
	t.Cleanup(s.mc.Close)

	if err := s.matchClusters(ctx, []string{p.ID}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(fetched) == 0 {
		t.Fatal("no documents fetched")
	}
	for _, body := range fetched {
		var q struct{ Fields []string }
		if err := json.Unmarshal([]byte(body), &q); err != nil {
			t.Fatal(err)
		}
		if len(q.Fields) == 0 || slices.Contains(q.Fields, "description") {
			t.Fatalf("reverse matching fetched %s: every field, or the text", body)
		}
	}
	if _, err := s.rdb.ZScore(ctx, listKey("far-away"), p.ID).Result(); err != nil {
		t.Fatalf("the seeker's list lacks the posting: %v", err)
	}
}

// scriptCalls records pairsScript calls with more than keys keys (big),
// the most of its calls one round trip carried, and the pairs they sent.
type scriptCalls struct {
	keys             int
	big, most, pairs atomic.Int64
}

func (c *scriptCalls) watch(_ context.Context, cmds []redis.Cmder, _ bool) error {
	var n int64
	for _, cmd := range cmds {
		a := cmd.Args()
		if len(a) < 3 || !strings.EqualFold(fmt.Sprint(a[0]), "evalsha") || a[1] != pairsScript.Hash() {
			continue
		}
		n++
		keys, _ := strconv.Atoi(fmt.Sprint(a[2]))
		if keys > c.keys {
			c.big.Add(1)
		}
		c.pairs.Add(int64(keys-2) / 2)
	}
	atLeast(&c.most, n)
	return nil
}

// atLeast raises v to n unless it is already as large.
func atLeast(v *atomic.Int64, n int64) {
	for {
		most := v.Load()
		if n <= most || v.CompareAndSwap(most, n) {
			return
		}
	}
}

// A closed posting listed for more seekers than one round trip updates
// leaves every list and pending set, in round trips of at most
// unlistChunk seekers and no MULTI (Redis would serve nobody else while
// it ran), and its set of seekers goes last.
func TestUnlistPostingLeavesEveryListInShortRoundTrips(t *testing.T) {
	t.Parallel()
	s := newTestService(t).Service
	ctx := context.Background()
	n := 2*unlistChunk + 30
	for i := range n {
		s.seekers.SetAttrs(profile.Seeker{ID: "u" + strconv.Itoa(i), RemotePref: "remote"}, 1)
	}
	p := posting.Posting{ID: "remote-closing", Title: "Release of information specialist"}
	p.WorkMode = "remote"
	if err := s.reverseMatch(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got := s.rdb.SCard(ctx, postingKey(p.ID)).Val(); got != int64(n) {
		t.Fatalf("listed for %d seekers, want %d", got, n)
	}
	trips := &roundTrips{}
	s.rdb.AddHook(testenv.RedisWatch(trips.watch))
	if err := s.unlistPosting(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if trips.multi.Load() > 0 || trips.most.Load() > 2*unlistChunk {
		t.Fatalf("%d MULTI; the largest round trip carried %d commands, want none and at most %d", trips.multi.Load(), trips.most.Load(), 2*unlistChunk)
	}
	if got := s.rdb.Exists(ctx, postingKey(p.ID)).Val(); got != 0 {
		t.Fatal("the closed posting's set of seekers is still there")
	}
	for _, i := range []int{0, unlistChunk, n - 1} {
		id := "u" + strconv.Itoa(i)
		if _, err := s.rdb.ZScore(ctx, listKey(id), p.ID).Result(); err == nil {
			t.Fatalf("%s's list still holds the closed posting", id)
		}
		if s.rdb.SIsMember(ctx, pendingKey(id), p.ID).Val() {
			t.Fatalf("%s is still to be told of the closed posting", id)
		}
	}
}

// roundTrips records MULTI transactions and the most commands one
// pipelined round trip carried.
type roundTrips struct{ multi, most atomic.Int64 }

func (r *roundTrips) watch(_ context.Context, cmds []redis.Cmder, pipelined bool) error {
	if !pipelined {
		return nil
	}
	for _, c := range cmds {
		if strings.EqualFold(c.Name(), "multi") {
			r.multi.Add(1)
		}
	}
	atLeast(&r.most, int64(len(cmds)))
	return nil
}
