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

// A durable deleted under two running copies comes back fresh: the stream
// is replayed from the start at once, nothing waits out AckWait, and the
// recreated consumer can still be updated. Recreating it the moment the
// pulls hear of the deletion raced the server's removal of the old
// consumer's files (nats-server answers the pulls before it deletes the
// store): the new consumer started from the old one's stale state on disk,
// replayed nothing, held events it counted as delivered until AckWait ran
// out, and then lost its directory, so that every later update failed with
// "…/obs/<durable>/meta.inf.tmp: no such file or directory" (matching's
// TestAnnouncementsOnce… failed on it about one run in two).
func TestDeletedConsumerComesBackFreshUnderTwoCopies(t *testing.T) {
	js := startJS(t)
	ctx, cancel := context.WithCancel(context.Background())
	cons := events.Consumer{Stream: events.StreamJobs, Durable: "recreated", Filters: []string{events.JobsPosted},
		MaxBatch: 10, Linger: 20 * time.Millisecond, AckWait: 2 * time.Minute}
	var mu sync.Mutex
	handled := map[string]int{}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			_ = events.Run(ctx, js, cons, zerolog.Nop(), func(_ context.Context, msgs []jetstream.Msg) []error {
				mu.Lock()
				defer mu.Unlock()
				for _, m := range msgs {
					handled[events.EnvelopeOf(m).ID]++
				}
				return make([]error, len(msgs))
			})
		})
	}
	t.Cleanup(func() { cancel(); wg.Wait() })

	published := 0
	publish := func(k int) {
		for range k {
			if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: fmt.Sprint("e", published), Payload: published}); err != nil {
				t.Fatal(err)
			}
			published++
		}
	}
	// everyHandled waits until each event so far was handled at least want
	// times and the consumer holds nothing unacknowledged.
	everyHandled := func(round int, want func(i int) int) {
		t.Helper()
		testenv.Eventually(t, 20*time.Second, func() error {
			mu.Lock()
			for i := range published {
				if got := handled[fmt.Sprint("e", i)]; got < want(i) {
					mu.Unlock()
					return fmt.Errorf("round %d: e%d handled %d times, want %d", round, i, got, want(i))
				}
			}
			mu.Unlock()
			c, err := js.Consumer(ctx, cons.Stream, cons.Durable)
			if err != nil {
				return err
			}
			ci, err := c.Info(ctx)
			if err != nil {
				return err
			}
			if ci.NumPending > 0 || ci.NumAckPending > 0 {
				return fmt.Errorf("round %d: %d pending, %d unacknowledged", round, ci.NumPending, ci.NumAckPending)
			}
			return nil
		})
	}
	publish(30)
	everyHandled(0, func(int) int { return 1 })
	const rounds = 4
	for round := 1; round <= rounds; round++ {
		if err := js.DeleteConsumer(ctx, cons.Stream, cons.Durable); err != nil {
			t.Fatal(err)
		}
		publish(5)
		// Every event published before this deletion is replayed once more;
		// the new ones are handled.
		everyHandled(round, func(i int) int {
			k := 0 // the round e<i> was published in
			if i >= 30 {
				k = (i-30)/5 + 1
			}
			return round - k + 1
		})
		// The recreated consumer has its files: it can be updated.
		cfg := jetstream.ConsumerConfig{Durable: cons.Durable, FilterSubjects: cons.Filters, AckPolicy: jetstream.AckExplicitPolicy,
			AckWait: time.Minute, MaxDeliver: 8, DeliverPolicy: jetstream.DeliverAllPolicy, MaxAckPending: 1000}
		if _, err := js.UpdateConsumer(ctx, cons.Stream, cfg); err != nil {
			t.Fatalf("round %d: the recreated consumer cannot be updated: %v", round, err)
		}
		cfg.AckWait = cons.AckWait
		if _, err := js.UpdateConsumer(ctx, cons.Stream, cfg); err != nil {
			t.Fatal(err)
		}
	}
}
