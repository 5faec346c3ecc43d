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

// A copy that stops hands back what its pull holds but has not handled, so
// the other copy gets it at once, not after AckWait: with the reverse
// consumer's two minutes, a copy restarted in a deploy held its postings'
// announcements back that long.
func TestStoppingCopyHandsBackWhatItHolds(t *testing.T) {
	js := startJS(t)
	ctx := context.Background()
	const n = 40
	for i := range n {
		if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: fmt.Sprint("e", i), Payload: i}); err != nil {
			t.Fatal(err)
		}
	}
	cons := events.Consumer{Stream: events.StreamJobs, Durable: "handed-back", Filters: []string{events.JobsPosted},
		MaxBatch: 1, AckWait: 2 * time.Minute}

	// Copy a takes one event into its handler and holds it until it stops;
	// its pull has meanwhile buffered the others.
	actx, stopA := context.WithCancel(ctx)
	inHandler := make(chan struct{}, n)
	aDone := make(chan struct{})
	go func() {
		defer close(aDone)
		_ = events.Run(actx, js, cons, zerolog.Nop(), func(ctx context.Context, msgs []jetstream.Msg) []error {
			inHandler <- struct{}{}
			<-ctx.Done()
			return []error{ctx.Err()}
		})
	}()
	<-inHandler
	testenv.Eventually(t, 10*time.Second, func() error {
		c, err := js.Consumer(ctx, events.StreamJobs, cons.Durable)
		if err != nil {
			return err
		}
		ci, err := c.Info(ctx)
		if err != nil {
			return err
		}
		if ci.NumPending > 0 {
			return fmt.Errorf("%d events not yet delivered to copy a", ci.NumPending)
		}
		return nil
	})
	stopA()
	<-aDone

	// Copy b gets every event well within AckWait.
	bctx, stopB := context.WithCancel(ctx)
	var mu sync.Mutex
	seen := map[string]bool{}
	bDone := make(chan struct{})
	go func() {
		defer close(bDone)
		_ = events.Run(bctx, js, cons, zerolog.Nop(), func(ctx context.Context, msgs []jetstream.Msg) []error {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range msgs {
				seen[events.EnvelopeOf(m).ID] = true
			}
			return make([]error, len(msgs))
		})
	}()
	defer func() { stopB(); <-bDone }()
	testenv.Eventually(t, 15*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) < n {
			return fmt.Errorf("copy b has handled %d of %d events", len(seen), n)
		}
		return nil
	})
}
