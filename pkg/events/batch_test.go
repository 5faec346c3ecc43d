package events_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/events"
)

func jobEvents(prefix string, n int) []events.Event {
	evs := make([]events.Event, n)
	for i := range evs {
		id := prefix + strconv.Itoa(i)
		evs[i] = events.Event{Subject: events.JobsPosted, ID: id, Source: "test", Payload: map[string]string{"id": id}}
	}
	return evs
}

// checkStoredAt reads each ack's message back and checks it is its event.
func checkStoredAt(t *testing.T, js jetstream.JetStream, stream string, evs []events.Event, acks []*jetstream.PubAck) {
	t.Helper()
	ctx := context.Background()
	if len(acks) != len(evs) {
		t.Fatalf("%d acks for %d events", len(acks), len(evs))
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	for i, ack := range acks {
		m, err := s.GetMsg(ctx, ack.Sequence)
		if err != nil {
			t.Fatalf("event %d (%s): sequence %d: %v", i, evs[i].ID, ack.Sequence, err)
		}
		if got := m.Header.Get(events.HeaderID); got != evs[i].ID {
			t.Fatalf("event %d: the ack says sequence %d, which holds %q, want %q", i, ack.Sequence, got, evs[i].ID)
		}
	}
}

// Batches go as atomic batches of at most BatchMax, while another client
// publishes event by event on the same stream: each ack still names its
// own event's sequence.
func TestPublishBatchStoresEachEventAtItsSequence(t *testing.T) {
	js := startJS(t)
	ctx := context.Background()
	evs := jobEvents("batch-", 2*events.BatchMax+100)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var beside int
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := "beside-" + strconv.Itoa(i)
			if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsUpdated, ID: id, Payload: id}); err != nil {
				t.Error(err)
				return
			}
			beside++
		}
	}()
	acks, err := events.PublishBatch(ctx, js, evs)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for i, ack := range acks {
		if ack.Duplicate || ack.Stream != events.StreamJobs {
			t.Fatalf("event %d: %+v, want stored on %s", i, ack, events.StreamJobs)
		}
	}
	checkStoredAt(t, js, events.StreamJobs, evs, acks)
	t.Logf("%d events beside the batch", beside)
}

// An id JetStream already has makes the whole atomic batch refused; the
// events then go one by one, the repeat reported as a duplicate of the
// first copy and the others stored.
func TestPublishBatchReportsRepeatsAsDuplicates(t *testing.T) {
	js := startJS(t)
	ctx := context.Background()
	evs := jobEvents("rep-", 5)
	first, err := events.Publish(ctx, js, evs[2])
	if err != nil {
		t.Fatal(err)
	}
	acks, err := events.PublishBatch(ctx, js, evs)
	if err != nil {
		t.Fatal(err)
	}
	checkStoredAt(t, js, events.StreamJobs, evs, acks)
	for i, ack := range acks {
		if want := i == 2; ack.Duplicate != want {
			t.Fatalf("event %d: duplicate %v, want %v", i, ack.Duplicate, want)
		}
	}
	if acks[2].Sequence != first.Sequence {
		t.Fatalf("the repeat's sequence is %d, want the first copy's %d", acks[2].Sequence, first.Sequence)
	}
	s, _ := js.Stream(ctx, events.StreamJobs)
	info, _ := s.Info(ctx)
	if info.State.Msgs != 5 {
		t.Fatalf("JOBS holds %d messages, want 5", info.State.Msgs)
	}
	// The same batch again: every event is a duplicate.
	again, err := events.PublishBatch(ctx, js, evs)
	if err != nil {
		t.Fatal(err)
	}
	for i, ack := range again {
		if !ack.Duplicate || ack.Sequence != acks[i].Sequence {
			t.Fatalf("event %d again: %+v, want a duplicate of sequence %d", i, ack, acks[i].Sequence)
		}
	}
}

// A stream without atomic publish (made before it existed, or on a server
// that does not have it) still gets every event.
func TestPublishBatchWithoutAtomicPublish(t *testing.T) {
	js := startJS(t)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "PLAIN", Subjects: []string{"plain.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	evs := make([]events.Event, 30)
	for i := range evs {
		evs[i] = events.Event{Subject: "plain.x", ID: fmt.Sprint("p", i), Payload: i}
	}
	acks, err := events.PublishBatch(ctx, js, evs)
	if err != nil {
		t.Fatal(err)
	}
	checkStoredAt(t, js, "PLAIN", evs, acks)
}

// A JOBS stream created before atomic publish gets it at the next start.
func TestEnsureStreamsTurnsOnAtomicPublish(t *testing.T) {
	js := startJS(t)
	ctx := context.Background()
	s, err := js.Stream(ctx, events.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	cfg.AllowAtomicPublish = false
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		// nats-server may refuse to turn it off again; then it is on.
		t.Logf("turning atomic publish off: %v", err)
	}
	if err := events.EnsureStreams(ctx, js, 1); err != nil {
		t.Fatal(err)
	}
	info, err := js.Stream(ctx, events.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	if !info.CachedInfo().Config.AllowAtomicPublish {
		t.Fatal("JOBS does not allow atomic publish after EnsureStreams")
	}
}

// BenchmarkPublishJobs stores 2,000 posting-sized events on a SyncAlways
// server: event by event, all in flight (what ingest did), against atomic
// batches (PublishBatch). An op is one event.
func BenchmarkPublishJobs(b *testing.B) {
	payload := map[string]string{"description": string(make([]byte, 1500))}
	for _, mode := range []string{"async", "batch"} {
		b.Run(mode, func(b *testing.B) {
			js := startJS(b)
			ctx := context.Background()
			const n = 2000
			round := 0
			b.ResetTimer()
			for done := 0; done < b.N; done += n {
				evs := make([]events.Event, n)
				for i := range evs {
					evs[i] = events.Event{Subject: events.JobsPosted, ID: fmt.Sprintf("%d-%d", round, i), Payload: payload}
				}
				round++
				switch mode {
				case "async":
					fs := make([]jetstream.PubAckFuture, n)
					for i, ev := range evs {
						f, err := events.PublishAsync(js, ev)
						if err != nil {
							b.Fatal(err)
						}
						fs[i] = f
					}
					for i, f := range fs {
						if _, err := events.Await(ctx, js, evs[i].Subject, f); err != nil {
							b.Fatal(err)
						}
					}
				case "batch":
					for from := 0; from < n; from += 200 {
						if _, err := events.PublishBatch(ctx, js, evs[from:from+200]); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
	}
}
