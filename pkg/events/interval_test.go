package events_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// batches runs a consumer of jobs.posted on its own nats-server until the
// test ends and records the batches it hands over: their sizes and when
// each was handled. work, if set, is the handler's time for a batch of n.
type batches struct {
	t     *testing.T
	ctx   context.Context
	js    jetstream.JetStream
	mu    sync.Mutex
	sizes []int
	at    []time.Time
}

func runBatches(t *testing.T, c events.Consumer, work func(n int) time.Duration) *batches {
	t.Helper()
	b := &batches{t: t, js: startJS(t)}
	ctx, cancel := context.WithCancel(context.Background())
	b.ctx = ctx
	c.Stream, c.Filters = events.StreamJobs, []string{events.JobsPosted}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = events.Run(ctx, b.js, c, zerolog.Nop(), func(ctx context.Context, msgs []jetstream.Msg) []error {
			if work != nil {
				time.Sleep(work(len(msgs)))
			}
			b.mu.Lock()
			b.sizes, b.at = append(b.sizes, len(msgs)), append(b.at, time.Now())
			b.mu.Unlock()
			return make([]error, len(msgs))
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

// publish stores n events, pause apart.
func (b *batches) publish(n int, prefix string, pause time.Duration) {
	b.t.Helper()
	for i := range n {
		if _, err := events.Publish(b.ctx, b.js, events.Event{Subject: events.JobsPosted, ID: fmt.Sprint(prefix, i), Payload: i}); err != nil {
			b.t.Fatal(err)
		}
		time.Sleep(pause)
	}
}

// waitHandled waits until n events have been handled.
func (b *batches) waitHandled(n int) {
	b.t.Helper()
	testenv.Eventually(b.t, 20*time.Second, func() error {
		if h := b.handled(); h < n {
			return fmt.Errorf("handled %d of %d", h, n)
		}
		return nil
	})
}

func (b *batches) handled() (n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.sizes {
		n += s
	}
	return n
}

// seen is a copy of the batches' sizes and handling times so far.
func (b *batches) seen() ([]int, []time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.sizes...), append([]time.Time(nil), b.at...)
}

// Under a trickle of events a consumer with MinInterval hands over one
// batch about every MinInterval, not one every Linger; an event after a
// quiet spell goes after Linger, not after MinInterval; a full batch goes
// at once. Without MinInterval the same trickle is many small batches.
func TestMinIntervalGathersATrickle(t *testing.T) {
	t.Parallel()
	const trickle, every = 40, 25 * time.Millisecond // one event every 25 ms for a second
	for _, tc := range []struct {
		name        string
		minInterval time.Duration
	}{{"without", 0}, {"with 800ms", 800 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := runBatches(t, events.Consumer{Durable: "trickle", MaxBatch: 30, Linger: 10 * time.Millisecond, MinInterval: tc.minInterval}, nil)
			start := time.Now()
			b.publish(trickle, "t", every)
			took := time.Since(start) // about a second; longer on a loaded machine
			b.waitHandled(trickle)
			sizes, _ := b.seen()
			// At most one partial batch per 800 ms over the trickle: the
			// first at once, then one per interval, and the rest after it.
			most := int(took/(800*time.Millisecond)) + 2
			switch {
			case tc.minInterval == 0 && len(sizes) < trickle/3:
				t.Errorf("without MinInterval the trickle of %d was %d batches, want many small ones", trickle, len(sizes))
			case tc.minInterval > 0 && len(sizes) > most:
				t.Errorf("with MinInterval 800ms the trickle of %d over %v was %d batches %v, want at most %d", trickle, took, len(sizes), sizes, most)
			}
			// After a quiet spell, one event goes after Linger, not MinInterval.
			time.Sleep(time.Second)
			sent := time.Now()
			b.publish(1, "q", 0)
			b.waitHandled(trickle + 1)
			if _, at := b.seen(); at[len(at)-1].Sub(sent) > 300*time.Millisecond {
				t.Errorf("an event after a quiet spell waited %v for its batch", at[len(at)-1].Sub(sent))
			}
			// A full batch goes at once, though within MinInterval of the
			// last: well before the 800 ms a partial one would wait.
			sent = time.Now()
			b.publish(30, "f", 0)
			b.waitHandled(trickle + 31)
			if tc.minInterval > 0 {
				sizes, at := b.seen()
				if sizes[len(sizes)-1] != 30 {
					t.Errorf("30 events at once: batches %v, want a full batch of 30 last", sizes)
				}
				if wait := at[len(at)-1].Sub(sent); wait > 500*time.Millisecond {
					t.Errorf("a full batch waited %v", wait)
				}
			}
		})
	}
}

// With IntervalPerBusy a handler that takes 300 ms a batch is handed a
// partial batch about every 3 × 300 ms (from one batch's start to the
// next's) under a trickle; without it, one after another as the handler
// frees. (The trickle's batches are
// small, at most a tenth of MaxBatch, so their time counts.)
func TestIntervalPerBusyFollowsTheHandlersTime(t *testing.T) {
	t.Parallel()
	count := func(t *testing.T, perBusy float64) (int, time.Duration) {
		b := runBatches(t, events.Consumer{Durable: "busy", MaxBatch: 1000, Linger: 10 * time.Millisecond, IntervalPerBusy: perBusy},
			func(int) time.Duration { return 300 * time.Millisecond })
		start := time.Now()
		b.publish(60, "b", 50*time.Millisecond) // a trickle over about 3 s
		took := time.Since(start)
		b.waitHandled(60)
		sizes, _ := b.seen()
		return len(sizes), took
	}
	var without, with int
	var took time.Duration
	t.Run("without", func(t *testing.T) { without, _ = count(t, 0) })
	t.Run("with 3", func(t *testing.T) { with, took = count(t, 3) })
	// About 3 s of events: 300 ms a batch is 9 or 10 batches back to back;
	// one batch every 900 ms is 4 or 5 (the first at once, the rest after
	// the trickle), one more per 900 ms the trickle took beyond that on a
	// loaded machine.
	if most := int(took/(900*time.Millisecond)) + 2; without < 7 || with > most {
		t.Errorf("batches of a %v trickle to a 300 ms handler: %d without IntervalPerBusy, %d with 3; want ≥ 7 and ≤ %d", took, without, with, most)
	}
}

// A bulk's large batch does not lengthen the wait of the partial batch
// after it: with IntervalPerBusy 3, an event after a 1 s batch of 50 (of
// MaxBatch 100) goes at once, not 3 s after that batch began.
func TestIntervalPerBusyLeavesOutLargeBatches(t *testing.T) {
	t.Parallel()
	b := runBatches(t, events.Consumer{Durable: "bulk", MaxBatch: 100, Linger: 50 * time.Millisecond, IntervalPerBusy: 3},
		func(n int) time.Duration {
			if n > 10 {
				return time.Second
			}
			return 0
		})
	b.publish(50, "bulk", 0)
	b.waitHandled(50)
	sent := time.Now()
	b.publish(1, "after", 0)
	b.waitHandled(51)
	if sizes, at := b.seen(); at[len(at)-1].Sub(sent) > time.Second {
		t.Errorf("the event after a bulk waited %v (batches %v)", at[len(at)-1].Sub(sent), sizes)
	}
}

// What IntervalPerBusy makes of the interval is bounded by MaxInterval,
// and never falls below MinInterval.
func TestMinIntervalBounds(t *testing.T) {
	for _, tc := range []struct {
		c    events.Consumer
		took time.Duration
		want time.Duration
	}{
		{events.Consumer{}, time.Second, 0},
		{events.Consumer{MinInterval: time.Second}, 5 * time.Second, time.Second},
		{events.Consumer{MinInterval: time.Second, IntervalPerBusy: 3}, 100 * time.Millisecond, time.Second},
		{events.Consumer{MinInterval: time.Second, IntervalPerBusy: 3}, time.Second, 3 * time.Second},
		{events.Consumer{MinInterval: time.Second, IntervalPerBusy: 3, MaxInterval: 2 * time.Second}, time.Second, 2 * time.Second},
		{events.Consumer{MinInterval: 3 * time.Second, IntervalPerBusy: 3, MaxInterval: 2 * time.Second}, time.Second, 3 * time.Second},
	} {
		if got := events.MinIntervalAfter(tc.c, tc.took); got != tc.want {
			t.Errorf("%+v after a batch of %v: %v, want %v", tc.c, tc.took, got, tc.want)
		}
	}
}
