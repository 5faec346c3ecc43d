package ingest

import (
	"context"
	"time"

	"github.com/clerkpath/clerkpath/pkg/events"
)

// Closed is the payload of jobs.closed and jobs.stale.
type Closed struct {
	ID     string `json:"id"`
	Reason string `json:"reason"` // expired (validThrough passed) or stale (not refreshed)
}

// runLifecycle closes postings whose validThrough passed and marks stale
// those not received again for CLERKPATH_STALE_AFTER_DAYS, every interval.
func (s *Service) runLifecycle(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.sweep(ctx, s.now()); err != nil && ctx.Err() == nil {
			s.p.Log.Warn().Err(err).Msg("posting lifecycle sweep")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// sweep closes what is due at now. It is idempotent: event ids are derived
// from the posting and the reason.
func (s *Service) sweep(ctx context.Context, now time.Time) error {
	expired, err := s.dedup.due(ctx, expiresKey, now)
	if err != nil {
		return err
	}
	for _, id := range expired {
		if err := s.close(ctx, events.JobsClosed, Closed{ID: id, Reason: "expired"}); err != nil {
			return err
		}
	}
	stale, err := s.dedup.due(ctx, seenKey, now.AddDate(0, 0, -s.p.Config.StaleAfterDays))
	if err != nil {
		return err
	}
	for _, id := range stale {
		if err := s.close(ctx, events.JobsStale, Closed{ID: id, Reason: "stale"}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) close(ctx context.Context, subject string, c Closed) error {
	fp, err := s.dedup.version(ctx, c.ID)
	if err != nil {
		return err
	}
	if _, err := events.Publish(ctx, s.p.JS, events.Event{Subject: subject, ID: subject + ":" + c.ID + ":" + fp, Source: Name, Time: s.now(), Payload: c}); err != nil {
		return err
	}
	return s.dedup.forget(ctx, c.ID)
}
