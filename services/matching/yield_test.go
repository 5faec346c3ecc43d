package matching

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/testenv"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// runIndexer runs the postings indexer of s until the returned stop is
// called (stop waits for it to return).
func runIndexer(t *testing.T, s *Service) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.postings.Run(ctx); err != nil {
			t.Errorf("indexer: %v", err)
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// indexerInfo reads the indexer's consumer info.
func indexerInfo(ctx context.Context, js jetstream.JetStream) (*jetstream.ConsumerInfo, error) {
	c, err := js.Consumer(ctx, events.StreamJobs, postingindex.Durable)
	if err != nil {
		return nil, err
	}
	return c.Info(ctx)
}

// indexedUpTo waits until the indexer has acknowledged every JOBS event up
// to seq and has nothing left.
func indexedUpTo(t *testing.T, js jetstream.JetStream, seq uint64) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error {
		info, err := indexerInfo(context.Background(), js)
		if err != nil {
			return err
		}
		if info.AckFloor.Stream < seq || backlog(info) > 0 {
			return fmt.Errorf("indexer at %d with %d left, want %d and none", info.AckFloor.Stream, backlog(info), seq)
		}
		return nil
	})
}

// postRemote publishes remote openings (every seeker working remotely
// suits them) and returns the stream sequence of the last.
func postRemote(t *testing.T, js jetstream.JetStream, ids ...string) uint64 {
	t.Helper()
	var seq uint64
	for _, id := range ids {
		ack, err := events.Publish(context.Background(), js, events.Event{Subject: events.JobsPosted, ID: "posted:" + id, Source: "test",
			Payload: ingestapi.JobEvent{Posting: remoteOpening(id, time.Now()), EmployerID: "org-1"}})
		if err != nil {
			t.Fatal(err)
		}
		seq = ack.Sequence
	}
	return seq
}

// jobsReader hands out JOBS events as a reverse consumer receives them,
// for calling the reverse handler directly.
type jobsReader struct{ c jetstream.Consumer }

func newJobsReader(t *testing.T, js jetstream.JetStream) jobsReader {
	t.Helper()
	c, err := js.CreateOrUpdateConsumer(context.Background(), events.StreamJobs, jetstream.ConsumerConfig{
		Durable: "test-yield-reader", FilterSubject: events.JobsPosted, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	return jobsReader{c}
}

// next returns the event at stream sequence seq, acknowledging the ones
// before it.
func (r jobsReader) next(t *testing.T, seq uint64) jetstream.Msg {
	t.Helper()
	for {
		m, err := r.c.Next(jetstream.FetchMaxWait(10 * time.Second))
		if err != nil {
			t.Fatalf("event %d: %v", seq, err)
		}
		md, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		if md.Sequence.Stream == seq {
			return m
		}
		_ = m.Ack()
	}
}

// A reverse batch whose postings are indexed does not announce while the
// indexer has a backlog (a bulk ingest behind them): it announces once the
// indexer has drained it, and, when the backlog stays, once its bound after
// the batch's oldest event has passed, not before and not long after.
func TestReverseMatchingYieldsToTheIndexersBacklog(t *testing.T) {
	t.Parallel()
	cfg := ownServers(t)
	ctx := t.Context()            // ends a reverse batch left waiting by a failure
	c := startCopy(t, cfg, false) // no consumers: the test runs the indexer and calls the reverse handler
	f := newFeed(t, cfg)
	f.seeker(t, profile.Seeker{ID: "yielder", RemotePref: "remote", RadiusMiles: 25})
	testenv.Eventually(t, 20*time.Second, func() error {
		if _, _, ok := c.s.seekers.View("yielder"); !ok {
			return fmt.Errorf("seeker not indexed yet")
		}
		return nil
	})
	reader := newJobsReader(t, f.js)
	const threshold = 5

	// The posting is indexed, then the indexer stops and a bulk arrives.
	stop := runIndexer(t, c.s)
	seq := postRemote(t, f.js, "yield-1")
	indexedUpTo(t, f.js, seq)
	stop()
	postRemote(t, f.js, seekerIDs("bulk-a-", 2*threshold)...)
	done := make(chan []error, 1)
	msg := reader.next(t, seq)
	go func() {
		done <- c.s.reverseBatchYielding(ctx, []jetstream.Msg{msg}, yielding{backlog: threshold, bound: 5 * time.Minute})
	}()
	select {
	case errs := <-done:
		t.Fatalf("the reverse batch went ahead (%v) while the indexer had %d events to index", errs, 2*threshold)
	case <-time.After(2 * time.Second):
	}
	if msgs := f.foundMsgs(t); len(msgs) != 0 {
		t.Fatalf("%d announcements published while the indexer had a backlog, want none", len(msgs))
	}
	stop = runIndexer(t, c.s)
	select {
	case errs := <-done:
		for _, err := range errs {
			if err != nil {
				t.Fatalf("reverse batch after the backlog drained: %v", err)
			}
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the reverse batch still waits 60 s after the indexer started draining its backlog")
	}
	// The batch queued the announcement; the copy's flusher (not running
	// here) publishes it.
	if err := c.s.flushAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.announced(t); got["yielder"]["yield-1"] != 1 {
		t.Fatalf("announced %v once the backlog drained, want yield-1 to yielder once", got)
	}
	stop()
	info, err := indexerInfo(ctx, f.js)
	if err != nil {
		t.Fatal(err)
	}
	stop = runIndexer(t, c.s)
	seq = postRemote(t, f.js, "yield-2")
	indexedUpTo(t, f.js, max(seq, info.AckFloor.Stream))
	stop()

	// The backlog never drains: the batch goes ahead at its bound.
	postRemote(t, f.js, seekerIDs("bulk-b-", 2*threshold)...)
	msg = reader.next(t, seq)
	md, err := msg.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	const bound = 4 * time.Second
	go func() {
		done <- c.s.reverseBatchYielding(ctx, []jetstream.Msg{msg}, yielding{backlog: threshold, bound: bound})
	}()
	select {
	case errs := <-done:
		for _, err := range errs {
			if err != nil {
				t.Fatalf("reverse batch at its bound: %v", err)
			}
		}
	case <-time.After(bound + time.Minute):
		t.Fatalf("the reverse batch still waits a minute past its bound (%s)", bound)
	}
	// Not before its bound; not long after it is the minute above (the
	// batch's own work after the yield, a Redis transaction and a fsynced
	// publish, took 22 s past the bound once under -race at load 12, so a
	// tighter check here would measure the machine, not the yield).
	if took := time.Since(md.Timestamp); took < bound-100*time.Millisecond {
		t.Errorf("the batch went ahead %s after its event was stored, before its bound (%s)", took.Round(time.Millisecond), bound)
	}
	if info, err := indexerInfo(ctx, f.js); err != nil || backlog(info) < threshold {
		t.Fatalf("indexer backlog %v (%v) when the batch went ahead, want the bulk still there", info, err)
	}
	if err := c.s.flushAnnouncements(ctx); err != nil { // as the flusher would
		t.Fatal(err)
	}
	if got, _ := f.announced(t); got["yielder"]["yield-2"] != 1 {
		t.Fatalf("announced %v at the bound, want yield-2 to yielder once", got)
	}
}

// A batch yields until bound after its oldest event was stored: never
// longer than bound from now (a clock behind the server's), and not at
// all when its events are older than that (a redelivery, a restart).
func TestYieldDeadline(t *testing.T) {
	now := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	const bound = 30 * time.Second
	for _, c := range []struct {
		name   string
		oldest time.Time
		want   time.Time
	}{
		{"stored now", now, now.Add(bound)},
		{"stored 10 s ago", now.Add(-10 * time.Second), now.Add(20 * time.Second)},
		{"stored longer ago than the bound", now.Add(-time.Hour), now},
		{"stored in the future (clock skew)", now.Add(time.Hour), now.Add(bound)},
	} {
		if got := yieldDeadline(now, c.oldest, bound); !got.Equal(c.want) {
			t.Errorf("%s: yields until %s, want %s", c.name, got.Sub(now), c.want.Sub(now))
		}
	}
}
