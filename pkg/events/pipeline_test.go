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

// A pipelined consumer hands the next batch over once the handler of the
// one before released it, while that one still waits; without Pipeline the
// batches take turns. Every event is acknowledged either way.
func TestPipelinedConsumerOverlapsBatches(t *testing.T) {
	for _, pipeline := range []int{1, 3} {
		t.Run(fmt.Sprint("pipeline ", pipeline), func(t *testing.T) {
			js := startJS(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := range 30 {
				if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: fmt.Sprint("e", i), Payload: i}); err != nil {
					t.Fatal(err)
				}
			}
			var mu sync.Mutex
			in, most, handled := 0, 0, 0
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = events.Run(ctx, js, events.Consumer{Stream: events.StreamJobs, Durable: "piped", Filters: []string{events.JobsPosted},
					MaxBatch: 5, Linger: 5 * time.Millisecond, Pipeline: pipeline}, zerolog.Nop(),
					func(ctx context.Context, msgs []jetstream.Msg) []error {
						mu.Lock()
						in++
						most = max(most, in)
						mu.Unlock()
						events.Release(ctx) // the in-order part is done; now wait
						time.Sleep(150 * time.Millisecond)
						mu.Lock()
						in--
						handled += len(msgs)
						mu.Unlock()
						return make([]error, len(msgs))
					})
			}()
			defer func() { cancel(); <-done }()
			testenv.Eventually(t, 20*time.Second, func() error {
				// Handled first: a consumer's info read just as it is
				// created can show nothing pending before the server has
				// counted the stream (seen once in make test).
				mu.Lock()
				h := handled
				mu.Unlock()
				if h < 30 {
					return fmt.Errorf("handled %d of 30", h)
				}
				sts, err := events.ConsumerStatuses(ctx, js, time.Now(), time.Minute)
				if err != nil {
					return err
				}
				for _, s := range sts {
					if s.Name == "piped" && s.Pending+uint64(s.AckPending) == 0 {
						return nil
					}
				}
				return fmt.Errorf("not all acknowledged yet")
			})
			mu.Lock()
			defer mu.Unlock()
			if handled < 30 {
				t.Fatalf("handled %d events, want 30", handled)
			}
			if pipeline == 1 && most != 1 || pipeline > 1 && most < 2 || most > pipeline {
				t.Fatalf("pipeline %d: at most %d batches in the handler at once", pipeline, most)
			}
		})
	}
}

// A batch whose handler takes longer than AckWait is not delivered again
// while it is handled: the loop tells the server it is in progress.
func TestSlowHandlerIsNotRedelivered(t *testing.T) {
	js := startJS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: "slow", Payload: 1}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	deliveries := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = events.Run(ctx, js, events.Consumer{Stream: events.StreamJobs, Durable: "slow", Filters: []string{events.JobsPosted},
			AckWait: 2 * time.Second}, zerolog.Nop(),
			func(ctx context.Context, msgs []jetstream.Msg) []error {
				mu.Lock()
				deliveries += len(msgs)
				mu.Unlock()
				select {
				case <-time.After(7 * time.Second): // three and a half AckWaits
				case <-ctx.Done():
				}
				return make([]error, len(msgs))
			})
	}()
	defer func() { cancel(); <-done }()
	testenv.Eventually(t, 20*time.Second, func() error {
		// A consumer just created may report nothing pending before it
		// has counted the stream (make test saw the check pass at once,
		// with no delivery): first the handler must have had the event.
		mu.Lock()
		had := deliveries
		mu.Unlock()
		if had == 0 {
			return fmt.Errorf("not delivered yet")
		}
		sts, err := events.ConsumerStatuses(ctx, js, time.Now(), time.Minute)
		if err != nil {
			return err
		}
		for _, s := range sts {
			if s.Name == "slow" && s.Pending+uint64(s.AckPending) == 0 {
				return nil
			}
		}
		return fmt.Errorf("not acknowledged yet")
	})
	mu.Lock()
	defer mu.Unlock()
	if deliveries != 1 {
		t.Fatalf("the event was delivered %d times, want once", deliveries)
	}
}
