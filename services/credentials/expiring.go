package credentials

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// ScanResult counts what one expiring-cycle scan did.
type ScanResult struct {
	Seekers   int // seekers whose records were looked at
	Published int // credentials.expiring notices published
	Skipped   int // seekers whose records the engine could not evaluate
}

// runExpiringScans scans once shortly after start and then every
// ScanInterval until ctx ends.
func (s *Service) runExpiringScans(ctx context.Context) {
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		res, err := s.ScanExpiring(ctx, s.now())
		if err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("expiring scan failed; the next scan retries")
		} else if err == nil {
			s.log.Info().Int("seekers", res.Seekers).Int("published", res.Published).Int("skipped", res.Skipped).Msg("expiring scan done")
		}
		timer.Reset(s.opts.ScanInterval)
	}
}

// ScanExpiring publishes credentials.expiring for every seeker's renewal
// cycle that is active and ends within the notice window
// (config.Config.ExpiringDays) of today. Each (seeker, issuer, cycle end)
// is announced once: the message id is deterministic (JetStream drops a
// repeat within its duplicate window), and the projection remembers the
// notice (from the event itself, so a replay rebuilds that too) so later
// scans skip it.
func (s *Service) ScanExpiring(ctx context.Context, today time.Time) (ScanResult, error) {
	var res ScanResult
	window := s.opts.ExpiringDays
	g, err := s.proj.Current(ctx)
	if err != nil {
		return res, fmt.Errorf("expiring scan: %w", err)
	}
	var cursor uint64
	for {
		ids, next, err := s.store.rdb.SScan(ctx, seekersKey(g), cursor, "", 200).Result()
		if err != nil {
			return res, fmt.Errorf("expiring scan: list seekers: %w", err)
		}
		for _, id := range ids {
			n, ok, err := s.scanSeeker(ctx, id, today, window)
			if err != nil {
				return res, fmt.Errorf("expiring scan: %w", err)
			}
			res.Seekers++
			res.Published += n
			if !ok {
				res.Skipped++
			}
		}
		if cursor = next; cursor == 0 {
			return res, nil
		}
	}
}

// scanSeeker announces the seeker's cycles ending within window days. ok
// is false when the records could not be evaluated (a code the catalog no
// longer knows, say); that is logged and skipped, not fatal.
func (s *Service) scanSeeker(ctx context.Context, id string, today time.Time, window int) (published int, ok bool, err error) {
	rec, err := s.store.load(ctx, id)
	if err != nil || rec.deleted || len(rec.creds) == 0 {
		return 0, err == nil, err
	}
	st := profile.PathwayState(profile.Seeker{}, rec.creds, rec.ceus)
	plan, err := pathway.Recommend(s.cat, st, pathway.Options{Today: today})
	if err != nil {
		// No seeker id in the log: it is enough to know records need care.
		s.log.Warn().Str("code", string(apierr.CodeOf(err))).Msg("expiring scan: a seeker's records do not evaluate; skipped")
		return 0, false, nil
	}
	for _, r := range plan.Recertification {
		if r.Status != pathway.RecertActive || r.CycleEnd == "" || r.DaysLeft < 0 || r.DaysLeft > window {
			continue
		}
		if rec.notified[notifiedKey(r.Issuer, r.CycleEnd)] {
			continue
		}
		done, err := s.announce(ctx, id, r, today)
		if err != nil {
			return published, true, err
		}
		if done {
			published++
		}
	}
	return published, true, nil
}

// announce publishes one notice. False means nothing new went out: the
// seeker was deleted meanwhile, or JetStream already held the notice.
func (s *Service) announce(ctx context.Context, seeker string, r pathway.Recert, today time.Time) (bool, error) {
	ex := profile.Expiring{Issuer: r.Issuer, CycleEnd: r.CycleEnd, DaysLeft: r.DaysLeft}
	sealed, err := s.keys.Seal(ctx, seeker, profile.CredentialChange{SeekerID: seeker, Expiring: &ex})
	if errors.Is(err, shred.ErrShredded) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("seal notice: %w", err)
	}
	ack, err := events.Publish(ctx, s.js, events.Event{
		Subject: events.CredentialsExpiring,
		ID:      eventID("expiring", seeker, r.Issuer, r.CycleEnd),
		Source:  Name,
		Time:    today,
		Payload: sealed,
	})
	if err != nil {
		return false, err
	}
	// The projection records the notice when it applies the event; record
	// it now too, so that a scan right after this one skips it.
	g, err := s.proj.Current(ctx)
	if err != nil {
		return !ack.Duplicate, err
	}
	return !ack.Duplicate, s.store.apply(ctx, g, seeker, ack.Sequence, "notified", notifiedKey(r.Issuer, r.CycleEnd), strconv.Itoa(r.DaysLeft))
}
