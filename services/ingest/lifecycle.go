package ingest

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/obs"
)

// runLifecycle first backfills the organisations' open sets (once per
// deployment, backfill.go), then closes postings whose validThrough passed
// and marks stale those not received again for the stale period, every
// interval.
func (s *Service) runLifecycle(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	backfilled := false
	for {
		if !backfilled {
			n, err := s.backfillOpenSets(ctx)
			backfilled = err == nil
			if err != nil && ctx.Err() == nil {
				s.log.Warn().Err(err).Msg("backfill of the organisations' open postings; will retry")
			} else if n > 0 {
				s.log.Info().Int("postings", n).Msg("organisations' open postings backfilled")
			}
		}
		if err := s.Sweep(ctx, s.now()); err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("posting lifecycle sweep")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sweep closes what is due at now: postings whose validThrough passed
// (jobs.closed, reason expired) and postings not received again for the
// stale period (jobs.stale). It is idempotent.
func (s *Service) Sweep(ctx context.Context, now time.Time) error {
	expired, err := s.store.due(ctx, expiresKey, now)
	if err != nil {
		return err
	}
	for _, id := range expired {
		if err := s.closeByID(ctx, id, ingestapi.StatusClosed, ingestapi.ReasonExpired); err != nil {
			return err
		}
	}
	stale, err := s.store.due(ctx, seenKey, now.AddDate(0, 0, -s.opts.StaleAfterDays))
	if err != nil {
		return err
	}
	for _, id := range stale {
		if err := s.closeByID(ctx, id, ingestapi.StatusStale, ingestapi.ReasonStale); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) closeByID(ctx context.Context, id, status, reason string) error {
	r, err := s.store.load(ctx, id)
	if errors.Is(err, errNoPosting) {
		// Remembered in a due set only: nothing to announce, drop it.
		return s.store.markClosed(ctx, record{id: id}, status, reason, s.now())
	}
	if err != nil {
		return err
	}
	return s.close(ctx, r, status, reason)
}

// close publishes the posting's closing (jobs.closed, or jobs.stale for
// status stale) and then records it. The message id names the posting,
// its version and how often it was reopened, so a retry is one event and
// a close after a reopen is a new one.
func (s *Service) close(ctx context.Context, r record, status, reason string) error {
	topic := ingestapi.Closed
	if status == ingestapi.StatusStale {
		topic = ingestapi.Stale
	}
	ev := topic.New("", ingestapi.Closure{ID: r.id, Reason: reason, EmployerID: r.org})
	ev.ID = ev.Subject + ":" + r.id + ":" + r.fingerprint
	if r.opens > 0 {
		ev.ID += ":" + strconv.Itoa(r.opens)
	}
	ev.Source, ev.Time, ev.RequestID = Name, s.now(), obs.RequestID(ctx)
	if _, err := events.Publish(ctx, s.js, ev); err != nil {
		return err
	}
	return s.store.markClosed(ctx, r, status, reason, s.now())
}
