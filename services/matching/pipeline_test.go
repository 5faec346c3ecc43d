package matching

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// copyOf is one running copy of the service, on its own connections.
type copyOf struct {
	s    *Service
	stop context.CancelFunc
	done chan error
}

// startCopy runs a copy of the service (Run's work: index, seekers,
// endpoints and, with consume, the JOBS and seeker consumers) and waits
// until it serves. tune, when given, changes the Service before it starts.
func startCopy(t testing.TB, cfg config.Config, consume bool, tune ...func(*Service)) *copyOf {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p, err := openPlatform(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s, err := New(p.NC, p.JS, p.Redis, p.Meili, p.Log, OptionsFromConfig(cfg, p.Log))
	if err != nil {
		cancel()
		p.Close()
		t.Fatal(err)
	}
	for _, f := range tune {
		f(s)
	}
	c := &copyOf{s: s, stop: cancel, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		err := s.serve(ctx, ready, consume)
		p.Close()
		c.done <- err
	}()
	select {
	case <-ready:
	case err := <-c.done:
		t.Fatalf("copy stopped before serving: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("copy not serving after 60 s")
	}
	t.Cleanup(c.close)
	return c
}

func (c *copyOf) close() {
	c.stop()
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
	}
}

// feed publishes what the other services would: seekers and postings.
type feed struct {
	js   jetstream.JetStream
	keys *shred.Keyring
}

// newFeed opens the feed's own connections.
func newFeed(t testing.TB, cfg config.Config) feed {
	t.Helper()
	ctx := context.Background()
	p, err := openPlatform(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	keys, err := shred.Open(ctx, p.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	return feed{js: p.JS, keys: keys}
}

func (f feed) seeker(t testing.TB, sk profile.Seeker) {
	t.Helper()
	ctx := context.Background()
	sealed, err := f.keys.Seal(ctx, sk.ID, profile.Change{Seeker: &sk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Publish(ctx, f.js, events.Event{Subject: events.SeekerSubjectPrefix + sealed.Subject, Type: events.TypeSeekerUpdated,
		ID: "seeker:" + sk.ID, Source: "test", Payload: sealed}); err != nil {
		t.Fatal(err)
	}
}

func (f feed) post(t testing.TB, p posting.Posting) {
	t.Helper()
	if _, err := events.Publish(context.Background(), f.js, events.Event{Subject: events.JobsPosted, ID: "posted:" + p.ID, Source: "test",
		Payload: ingestapi.JobEvent{Posting: p, EmployerID: "org-1"}}); err != nil {
		t.Fatal(err)
	}
}

// found reads every announcement (matches.found events and the entries of
// matches.found.batch ones), oldest first; a deleted seeker's (shredded
// key) is skipped.
func (f feed) found(t *testing.T) []matchingapi.Found {
	t.Helper()
	var out []matchingapi.Found
	seen := map[string]bool{}
	for _, m := range f.foundMsgs(t) {
		for k, fd := range m.found {
			if !seen[m.ids[k]] { // a retried flush may bundle an announcement again
				seen[m.ids[k]] = true
				out = append(out, fd)
			}
		}
	}
	return out
}

// foundMsg is one message of the MATCHES stream: its subject and its
// announcements that open (ids[k] is the id of found[k]).
type foundMsg struct {
	seq     uint64
	subject string
	ids     []string
	found   []matchingapi.Found
}

// foundMsgs reads every message of the MATCHES stream, oldest first.
func (f feed) foundMsgs(t *testing.T) []foundMsg {
	t.Helper()
	ctx := context.Background()
	st, err := f.js.Stream(ctx, events.StreamMatches)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []foundMsg
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		entries := []matchingapi.SealedFound{{ID: m.Header.Get("Nats-Msg-Id")}}
		if m.Subject == matchingapi.MatchesFoundBatch.Subject {
			b, err := matchingapi.MatchesFoundBatch.Decode(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			entries = b.Announcements
		} else if err := json.Unmarshal(m.Data, &entries[0].Sealed); err != nil {
			t.Fatal(err)
		}
		fm := foundMsg{seq: seq, subject: m.Subject}
		for _, e := range entries {
			var fd matchingapi.Found
			err := f.keys.Open(ctx, e.Sealed, &fd)
			if errors.Is(err, shred.ErrShredded) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			fm.ids, fm.found = append(fm.ids, e.ID), append(fm.found, fd)
		}
		out = append(out, fm)
	}
	return out
}

// announced counts every announcement: per seeker, how many times each
// posting was announced, and how many announcements there were.
func (f feed) announced(t *testing.T) (map[string]map[string]int, int) {
	t.Helper()
	all := f.found(t)
	out := map[string]map[string]int{}
	for _, fd := range all {
		if out[fd.SeekerID] == nil {
			out[fd.SeekerID] = map[string]int{}
		}
		for _, p := range fd.Postings {
			out[fd.SeekerID][p]++
		}
	}
	return out, len(all)
}

// remoteOpening is a remote posting with no requirement: every seeker who
// works remotely qualifies.
func remoteOpening(id string, now time.Time) posting.Posting {
	p := posting.Posting{ID: id, Title: "Release of Information Specialist", Employer: "Remote Health", Description: "Remote ROI work.",
		DatePosted: now, EmploymentType: []string{"FULL_TIME"}}
	p.WorkMode = "remote"
	return p
}

// settled waits until the reverse consumer has handled every JOBS event
// and no announcement is due.
func settled(t testing.TB, s *Service, wait time.Duration) {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, wait, func() error {
		c, err := s.js.Consumer(ctx, events.StreamJobs, ReverseDurable)
		if err != nil {
			return err
		}
		info, err := c.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumPending > 0 || info.NumAckPending > 0 {
			return fmt.Errorf("reverse consumer: %d pending, %d unacknowledged (delivered %d, ack floor %d, waiting %d, redelivered %d)", info.NumPending, info.NumAckPending, info.Delivered.Stream, info.AckFloor.Stream, info.NumWaiting, info.NumRedelivered)
		}
		if n, err := s.rdb.SCard(ctx, announceDue).Result(); err != nil || n > 0 {
			return fmt.Errorf("%d seekers with announcements due (%v)", n, err)
		}
		return nil
	})
}

// Every new (seeker, posting) pair is announced exactly once while a
// second copy runs beside the first, publishes to MATCHES fail for a while
// (the batch is redelivered), the reverse consumer is deleted (the stream
// is replayed from the start) and a copy restarts — and announcements are
// coalesced: one event per seeker per batch, not one per pair.
func TestAnnouncementsOnceThroughRedeliveryDeletionRestartAndTwoCopies(t *testing.T) {
	t.Parallel()
	cfg := ownServers(t)
	ctx := context.Background()
	a := startCopy(t, cfg, true)
	b := startCopy(t, cfg, true)
	f := newFeed(t, cfg)
	r := rand.New(rand.NewPCG(11, 12))
	places := zipPoints(t, cfg.ZCTAFile, 10)
	const seekers = 30
	for i := range seekers {
		sk := genSeeker(r, fmt.Sprintf("s%03d", i), places)
		sk.RemotePref = "any"
		f.seeker(t, sk)
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		if a.s.seekers.Size() < seekers || b.s.seekers.Size() < seekers {
			return fmt.Errorf("seekers: %d and %d of %d", a.s.seekers.Size(), b.s.seekers.Size(), seekers)
		}
		return nil
	})
	now := time.Now()
	n := 0
	postSome := func(k int) {
		for range k {
			f.post(t, remoteOpening(fmt.Sprintf("r%03d", n), now))
			n++
		}
	}

	// 1. Two copies share the reverse consumer.
	postSome(30)
	settled(t, a.s, 60*time.Second)

	// 2. Publishing to MATCHES fails (the stream refuses new messages):
	// the batches are acknowledged once their pairs are queued, and the
	// announcements wait in Redis while the flushers' publishes fail.
	st, err := a.s.js.Stream(ctx, events.StreamMatches)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	full := info.Config
	full.MaxMsgs, full.Discard = int64(info.State.Msgs), jetstream.DiscardNew
	if _, err := a.s.js.UpdateStream(ctx, full); err != nil {
		t.Fatal(err)
	}
	postSome(10)
	testenv.Eventually(t, 30*time.Second, func() error {
		c, err := a.s.js.Consumer(ctx, events.StreamJobs, ReverseDurable)
		if err != nil {
			return err
		}
		ci, err := c.Info(ctx)
		if err != nil {
			return err
		}
		if ci.NumPending+uint64(ci.NumAckPending) > 0 {
			return errors.New("reverse matching has not handled the postings yet")
		}
		return nil
	})
	time.Sleep(2 * FlushEvery) // the flushers try, and fail
	if due, _ := a.s.rdb.SCard(ctx, announceDue).Result(); due == 0 {
		t.Fatal("a failed publish left nothing due")
	}
	if si, err := st.Info(ctx); err != nil || si.State.Msgs != info.State.Msgs {
		t.Fatalf("MATCHES took announcements while it refused them (%v)", err)
	}
	restored := info.Config
	restored.MaxMsgs = -1
	if _, err := a.s.js.UpdateStream(ctx, restored); err != nil {
		t.Fatal(err)
	}
	settled(t, a.s, 90*time.Second)

	// 3. The reverse consumer is deleted: it is recreated and replays JOBS
	// from the start; and copy a restarts while postings arrive.
	if err := a.s.js.DeleteConsumer(ctx, events.StreamJobs, ReverseDurable); err != nil {
		t.Fatal(err)
	}
	a.close()
	postSome(5)
	a = startCopy(t, cfg, true)
	postSome(5)
	settled(t, a.s, 90*time.Second)
	// The replay has reached the end of the stream on the recreated consumer.
	testenv.Eventually(t, 30*time.Second, func() error {
		c, err := a.s.js.Consumer(ctx, events.StreamJobs, ReverseDurable)
		if err != nil {
			return err
		}
		ci, err := c.Info(ctx)
		if err != nil {
			return err
		}
		if ci.AckFloor.Stream < uint64(n) {
			return fmt.Errorf("replay at %d of %d", ci.AckFloor.Stream, n)
		}
		return nil
	})
	settled(t, a.s, 30*time.Second)

	got, events := f.announced(t)
	pairs := 0
	for i := range seekers {
		id := fmt.Sprintf("s%03d", i)
		list, err := a.s.rdb.ZRange(ctx, listKey(id), 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != n {
			t.Errorf("%s: %d postings in the list, want all %d", id, len(list), n)
		}
		for _, p := range list {
			if got[id][p] != 1 {
				t.Errorf("%s: posting %s announced %d times", id, p, got[id][p])
			}
		}
		for p := range got[id] {
			if !slices.Contains(list, p) {
				t.Errorf("%s: posting %s announced but not in the list", id, p)
			}
		}
		pairs += len(list)
	}
	t.Logf("%d pairs announced in %d events", pairs, events)
	if events*3 > pairs {
		t.Errorf("%d events for %d pairs: announcements are not coalesced", events, pairs)
	}
}

// Two copies answer the market and forward matches (with near misses)
// identically after a burst of postings that only one of them indexed:
// neither keeps what it alone indexed in memory.
func TestCopiesAgreeAfterABurstIndexedByOne(t *testing.T) {
	t.Parallel()
	cfg := ownServers(t)
	ctx := context.Background()
	a := startCopy(t, cfg, true)
	b := startCopy(t, cfg, false) // serves, indexes nothing
	f := newFeed(t, cfg)
	r := rand.New(rand.NewPCG(21, 22))
	places := zipPoints(t, cfg.ZCTAFile, 8)
	var ids []string
	for i := range 12 {
		sk := genSeeker(r, fmt.Sprintf("c%03d", i), places)
		sk.RadiusMiles = 50
		f.seeker(t, sk)
		ids = append(ids, sk.ID)
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		if a.s.seekers.Size() < len(ids) || b.s.seekers.Size() < len(ids) {
			return fmt.Errorf("seekers: %d and %d", a.s.seekers.Size(), b.s.seekers.Size())
		}
		return nil
	})
	lat, lon := places[0].Lat, places[0].Lon
	market := matchingapi.MarketRequest{Lat: &lat, Lon: &lon, RadiusMiles: 100, Held: []string{"CCA"}}
	read := func(c *copyOf) string {
		t.Helper()
		m, err := c.s.marketDemand(ctx, market)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]any{"market": m}
		for _, id := range ids {
			res, err := c.s.forwardMatch(ctx, id, 50, true)
			if err != nil {
				t.Fatal(err)
			}
			out[id] = res
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// Both copies have read (and cached) the empty market before the burst.
	if read(a) != read(b) {
		t.Fatal("copies disagree before the burst")
	}

	now := time.Now()
	ps := genPostings(r, 300, places, now)
	for i := range ps {
		ps[i].ID = fmt.Sprintf("b%04d", i)
	}
	// A credential group no posting had before, and a posting Meilisearch
	// never sees (an id it refuses: dead-lettered alone).
	ps[7].CredentialsRequired, ps[7].Routes = [][]string{{"CDIP"}}, nil
	ps[8].CredentialsRequired, ps[8].Routes = [][]string{{"CDIP", "CCDS"}}, nil
	bad := remoteOpening("bad id!", now)
	for i, p := range ps {
		f.post(t, p)
		if i == 150 {
			f.post(t, bad)
		}
	}
	testenv.Eventually(t, 120*time.Second, func() error {
		stats, err := a.s.mc.Index(a.s.index).GetStats(ctx, nil)
		if err != nil {
			return err
		}
		if stats.NumberOfDocuments != int64(len(ps)) || stats.IsIndexing {
			return fmt.Errorf("%d of %d postings indexed", stats.NumberOfDocuments, len(ps))
		}
		// The indexer acknowledges a batch once its clusters are settled.
		c, err := a.s.js.Consumer(ctx, events.StreamJobs, postingindex.Durable)
		if err != nil {
			return err
		}
		info, err := c.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumPending > 0 || info.NumAckPending > 0 {
			return fmt.Errorf("indexer: %d pending, %d unacknowledged", info.NumPending, info.NumAckPending)
		}
		return nil
	})
	first := read(a)
	if !strings.Contains(first, `"CDIP"`) {
		t.Fatal("the new credential group is not in the market")
	}
	// Each copy answers twice more, the second time from its market cache.
	// (A read is a market and twelve forward matches with near misses,
	// seconds under -race: twenty reads were 100 s of the package's time.)
	for i := range 4 {
		c := []*copyOf{a, b}[i%2]
		if got := read(c); got != first {
			t.Fatalf("read %d from copy %d differs from copy a's first answer", i, i%2)
		}
	}

	// The refused posting went to the dead-letter stream alone.
	dlq := deadLettered(t, a.s.js)
	if len(dlq) != 1 || !strings.Contains(dlq[0], "Meilisearch ids") {
		t.Fatalf("dead-lettered: %q", dlq)
	}
}

// deadLettered returns the reasons of every dead-lettered event.
func deadLettered(t *testing.T, js jetstream.JetStream) []string {
	t.Helper()
	ctx := context.Background()
	st, err := js.Stream(ctx, events.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		out = append(out, m.Header.Get(events.HeaderDLQConsumer)+": "+m.Header.Get(events.HeaderDLQReason))
	}
	return out
}

// A batch holding one document Meilisearch refuses is split until the
// refused document is found: it alone fails, as poison with Meilisearch's
// reason, and every other document of the batch is indexed.
func TestRefusedDocumentIsolatedByBisection(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	ps := genPostings(r, 64, zipPoints(t, s.cfg.ZCTAFile, 10), time.Now())
	var docs []postingindex.Document
	for _, p := range ps {
		doc, _, err := postingindex.Doc(p)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
	}
	// What a validation before the add does not know about: Meilisearch
	// refuses a document id with a space in it.
	var bad map[string]any
	if err := json.Unmarshal(docs[41].JSON, &bad); err != nil {
		t.Fatal(err)
	}
	bad["id"] = "bad id"
	b, err := json.Marshal(bad)
	if err != nil {
		t.Fatal(err)
	}
	docs[41].JSON = b
	errs := s.postings.Upsert(ctx, docs)
	for i, err := range errs {
		switch {
		case i == 41 && (!errors.Is(err, events.ErrPoison) || !strings.Contains(err.Error(), "identifier")):
			t.Errorf("refused document: %v", err)
		case i != 41 && err != nil:
			t.Errorf("document %d: %v", i, err)
		}
	}
	stats, err := s.mc.Index(s.index).GetStats(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.NumberOfDocuments != 63 {
		t.Fatalf("%d documents indexed, want 63", stats.NumberOfDocuments)
	}
}

func openPlatform(ctx context.Context, cfg config.Config) (*platform.Platform, error) {
	return platform.Open(ctx, cfg, Name, platform.Needs{Redis: true, Meili: true}, zerolog.Nop())
}
