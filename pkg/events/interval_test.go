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
			js := startJS(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			var sizes []int
			var at []time.Time
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = events.Run(ctx, js, events.Consumer{Stream: events.StreamJobs, Durable: "trickle", Filters: []string{events.JobsPosted},
					MaxBatch: 30, Linger: 10 * time.Millisecond, MinInterval: tc.minInterval}, zerolog.Nop(),
					func(ctx context.Context, msgs []jetstream.Msg) []error {
						mu.Lock()
						sizes, at = append(sizes, len(msgs)), append(at, time.Now())
						mu.Unlock()
						return make([]error, len(msgs))
					})
			}()
			defer func() { cancel(); <-done }()
			publish := func(n int, prefix string, pause time.Duration) {
				for i := range n {
					if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: fmt.Sprint(prefix, i), Payload: i}); err != nil {
						t.Fatal(err)
					}
					time.Sleep(pause)
				}
			}
			handled := func() (n int) {
				mu.Lock()
				defer mu.Unlock()
				for _, s := range sizes {
					n += s
				}
				return n
			}
			waitFor := func(n int) {
				testenv.Eventually(t, 20*time.Second, func() error {
					if h := handled(); h < n {
						return fmt.Errorf("handled %d of %d", h, n)
					}
					return nil
				})
			}
			// The trickle.
			publish(trickle, "t", every)
			waitFor(trickle)
			mu.Lock()
			batches := len(sizes)
			mu.Unlock()
			switch {
			case tc.minInterval == 0 && batches < trickle/3:
				t.Errorf("without MinInterval the trickle of %d was %d batches, want many small ones", trickle, batches)
			case tc.minInterval > 0 && batches > 4:
				// About a second of events, at most one partial batch per
				// 800 ms: the first at once, a full one or the rest later.
				t.Errorf("with MinInterval 800ms the trickle of %d was %d batches %v, want at most 4", trickle, batches, sizes)
			}
			// After a quiet spell, one event goes after Linger, not MinInterval.
			time.Sleep(time.Second)
			sent := time.Now()
			publish(1, "q", 0)
			waitFor(trickle + 1)
			mu.Lock()
			wait := at[len(at)-1].Sub(sent)
			mu.Unlock()
			if wait > 300*time.Millisecond {
				t.Errorf("an event after a quiet spell waited %v for its batch", wait)
			}
			// A full batch goes at once, though within MinInterval of the
			// last: well before the 800 ms a partial one would wait.
			sent = time.Now()
			publish(30, "f", 0)
			waitFor(trickle + 31)
			mu.Lock()
			defer mu.Unlock()
			if tc.minInterval > 0 {
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
// partial batch about every (1+3) × 300 ms under a trickle; without it,
// one after another as the handler frees. (The trickle's batches are
// small, at most a tenth of MaxBatch, so their time counts.)
func TestIntervalPerBusyFollowsTheHandlersTime(t *testing.T) {
	t.Parallel()
	count := func(t *testing.T, perBusy float64) int {
		js := startJS(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		handled, batches := 0, 0
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = events.Run(ctx, js, events.Consumer{Stream: events.StreamJobs, Durable: "busy", Filters: []string{events.JobsPosted},
				MaxBatch: 1000, Linger: 10 * time.Millisecond, IntervalPerBusy: perBusy}, zerolog.Nop(),
				func(ctx context.Context, msgs []jetstream.Msg) []error {
					time.Sleep(300 * time.Millisecond)
					mu.Lock()
					handled, batches = handled+len(msgs), batches+1
					mu.Unlock()
					return make([]error, len(msgs))
				})
		}()
		defer func() { cancel(); <-done }()
		for i := range 60 { // a trickle over about 3 s
			if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: fmt.Sprint("b", i), Payload: i}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		testenv.Eventually(t, 20*time.Second, func() error {
			mu.Lock()
			defer mu.Unlock()
			if handled < 60 {
				return fmt.Errorf("handled %d of 60", handled)
			}
			return nil
		})
		mu.Lock()
		defer mu.Unlock()
		return batches
	}
	without, with := count(t, 0), count(t, 3)
	// About 3 s of events: 300 ms a batch is 9 or 10 batches back to back;
	// 1.2 s a batch (300 ms and 900 ms waiting) is 3 or 4.
	if without < 7 || with > 5 {
		t.Errorf("batches of a 3 s trickle to a 300 ms handler: %d without IntervalPerBusy, %d with 3; want ≥ 7 and ≤ 5", without, with)
	}
}

// A bulk's large batch does not lengthen the wait of the partial batch
// after it: with IntervalPerBusy 3, an event after a 1 s batch of 50 (of
// MaxBatch 100) goes at once, not 3 s after that batch began.
func TestIntervalPerBusyLeavesOutLargeBatches(t *testing.T) {
	t.Parallel()
	js := startJS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var sizes []int
	var at []time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = events.Run(ctx, js, events.Consumer{Stream: events.StreamJobs, Durable: "bulk", Filters: []string{events.JobsPosted},
			MaxBatch: 100, Linger: 50 * time.Millisecond, IntervalPerBusy: 3}, zerolog.Nop(),
			func(ctx context.Context, msgs []jetstream.Msg) []error {
				if len(msgs) > 10 {
					time.Sleep(time.Second)
				}
				mu.Lock()
				sizes, at = append(sizes, len(msgs)), append(at, time.Now())
				mu.Unlock()
				return make([]error, len(msgs))
			})
	}()
	defer func() { cancel(); <-done }()
	for i := range 50 {
		if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: fmt.Sprint("bulk", i), Payload: i}); err != nil {
			t.Fatal(err)
		}
	}
	n := func() int {
		mu.Lock()
		defer mu.Unlock()
		total := 0
		for _, s := range sizes {
			total += s
		}
		return total
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		if h := n(); h < 50 {
			return fmt.Errorf("handled %d of 50", h)
		}
		return nil
	})
	sent := time.Now()
	if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: "after", Payload: 0}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		if h := n(); h < 51 {
			return fmt.Errorf("handled %d of 51", h)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if wait := at[len(at)-1].Sub(sent); wait > time.Second {
		t.Errorf("the event after a bulk waited %v (batches %v)", wait, sizes)
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
