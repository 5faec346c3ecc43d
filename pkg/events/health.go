package events

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultStallAfter is how long a durable consumer may hold a backlog
// without acknowledging anything before it counts as stalled: longer than
// a failing event's whole back-off, so a retry is not a stall.
const DefaultStallAfter = 2 * time.Minute

// ConsumerStatus is the progress of one durable consumer.
type ConsumerStatus struct {
	Stream string `json:"stream"`
	Name   string `json:"name"`
	// Pending are events not yet delivered; AckPending delivered and not
	// yet acknowledged. Their sum is the consumer's lag.
	Pending    uint64 `json:"pending"`
	AckPending int    `json:"ack_pending"`
	// LastProgress is when the consumer last acknowledged an event (or was
	// created, before its first).
	LastProgress time.Time `json:"last_progress"`
	// Stalled: a lag and no progress for stallAfter — its service is down,
	// stuck, or lost its subscription.
	Stalled bool `json:"stalled"`
}

// ConsumerStatuses reports every durable consumer of clerkpath's streams as
// of now, sorted by stream and name. Ephemeral (ordered) consumers are left
// out: they live and die with one process.
func ConsumerStatuses(ctx context.Context, js jetstream.JetStream, now time.Time, stallAfter time.Duration) ([]ConsumerStatus, error) {
	var out []ConsumerStatus
	for _, cfg := range StreamConfigs(1) {
		st, err := js.Stream(ctx, cfg.Name)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", cfg.Name, err)
		}
		list := st.ListConsumers(ctx)
		for ci := range list.Info() {
			if ci.Config.Durable == "" {
				continue
			}
			out = append(out, consumerStatus(ci, now, stallAfter))
		}
		if err := list.Err(); err != nil {
			return nil, fmt.Errorf("consumers of %s: %w", cfg.Name, err)
		}
	}
	slices.SortFunc(out, func(a, b ConsumerStatus) int {
		return strings.Compare(a.Stream+"/"+a.Name, b.Stream+"/"+b.Name)
	})
	return out, nil
}

func consumerStatus(ci *jetstream.ConsumerInfo, now time.Time, stallAfter time.Duration) ConsumerStatus {
	s := ConsumerStatus{
		Stream: ci.Stream, Name: ci.Name,
		Pending: ci.NumPending, AckPending: ci.NumAckPending,
		LastProgress: ci.Created,
	}
	if l := ci.AckFloor.Last; l != nil && l.After(s.LastProgress) {
		s.LastProgress = *l
	}
	s.Stalled = (s.Pending > 0 || s.AckPending > 0) && now.Sub(s.LastProgress) > stallAfter
	return s
}
