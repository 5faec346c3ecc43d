package profiles

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// Writes about a seeker go through write: the change is built from the
// record as the projection shows it and published expecting the seeker's
// subject to be at that record's stream sequence (JetStream's
// Nats-Expected-Last-Subject-Sequence), so a write that raced another one
// fails instead of silently overwriting it. The subject is
// profiles.seeker.<pseudonym>; a seeker written before pseudonyms existed
// has older events on profiles.seeker.<id>, and the record keeps both the
// last sequence applied from any subject (seq: what a write waits for) and
// from the pseudonym's (subjectSeq: what a write expects). A profile's
// version is the number of events about the seeker on both subjects (1 for
// a new profile), which the projection counts; the stream sequence stays
// internal.

// writeAttempts bounds how often a write without If-Match is built again
// after meeting a concurrent write: each round one of the writers racing
// for a profile wins, so this many writers at once all get through.
const writeAttempts = 16

// projectionWait bounds how long a write waits for the projection to catch
// up (after its own publish, or with a newer event it has not applied yet).
const projectionWait = 2 * time.Second

// change is what one write records about a seeker.
type change struct {
	typ  string // events.TypeSeeker*
	body profile.Change
}

// write records the change build makes of the seeker's current record and
// returns the profile's new version. With ifMatch (the version the caller
// last read) a record at another version is 412; without, a write that met
// a concurrent one is built again from the newer record.
func (s *Service) write(ctx context.Context, id string, ifMatch *uint64, build func(cur head) (change, error)) (uint64, error) {
	for attempt := 1; ; attempt++ {
		cur, err := s.current(ctx, id, attempt > 1, ifMatch)
		if err != nil {
			return 0, err
		}
		if ifMatch != nil && *ifMatch != cur.Version {
			return 0, stale()
		}
		ch, err := build(cur)
		if err != nil {
			return 0, err
		}
		seq, err := s.publishSealed(ctx, id, ch, cur.SubjectSeq)
		if errors.Is(err, events.ErrWrongLastSequence) {
			if ifMatch != nil {
				return 0, stale()
			}
			if attempt == writeAttempts {
				return 0, apierr.New(apierr.Unavailable, "the profile is being changed by other requests; try again")
			}
			continue // current catches the projection up before reading again
		}
		if err != nil {
			return 0, err
		}
		if err := s.store.waitSeeker(ctx, id, seq, projectionWait); err != nil {
			obs.Logger(ctx, s.log).Warn().Err(err).Msg("projection lagging behind a write")
		}
		return cur.Version + 1, nil
	}
}

func stale() error {
	return apierr.New(apierr.PreconditionFail, "the profile changed since you read it; read it again and retry")
}

// current is the seeker's record as the projection shows it. When it may
// be behind — on a retry, or when the caller's If-Match is not its version
// — the stream is asked for the subject's last sequence and the projection
// is given projectionWait to apply it (still behind after that, the write
// fails its expected sequence: it is refused, never lost).
func (s *Service) current(ctx context.Context, id string, retry bool, ifMatch *uint64) (head, error) {
	cur, err := s.store.head(ctx, id)
	if err != nil || !retry && (ifMatch == nil || *ifMatch == cur.Version) {
		return cur, err
	}
	last, err := s.lastSeq(ctx, id)
	if err != nil || last <= cur.SubjectSeq {
		return cur, err
	}
	if err := s.store.waitSeeker(ctx, id, last, projectionWait); err != nil {
		obs.Logger(ctx, s.log).Warn().Err(err).Msg("projection lagging behind the stream")
	}
	return s.store.head(ctx, id)
}

// lastSeq is the stream sequence of the last event on the seeker's subject,
// profiles.seeker.<pseudonym> (0 when there is none).
func (s *Service) lastSeq(ctx context.Context, id string) (uint64, error) {
	st, err := s.js.Stream(ctx, events.StreamProfiles)
	if err != nil {
		return 0, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	m, err := st.GetLastMsgForSubject(ctx, profilesapi.SeekerChanged.SubjectFor(s.keys.Pseudonym(id)))
	if err != nil {
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return 0, nil
		}
		return 0, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	return m.Sequence, nil
}

// publishSealed publishes a change about a seeker, sealed with their key
// and naming their id only inside, on their pseudonym's subject expecting
// its last stream sequence to be expect, and returns the event's stream
// sequence.
func (s *Service) publishSealed(ctx context.Context, id string, ch change, expect uint64) (uint64, error) {
	ch.body.SeekerID = id
	sealed, err := s.keys.Seal(ctx, id, ch.body)
	if errors.Is(err, shred.ErrShredded) {
		return 0, apierr.New(apierr.Conflict, "seeker %s was deleted; the id cannot be reused", id)
	}
	if err != nil {
		return 0, apierr.Wrap(err, apierr.Unavailable, "could not save; try again")
	}
	ack, err := events.Publish(ctx, s.js, events.Event{
		Subject:              profilesapi.SeekerChanged.SubjectFor(sealed.Subject),
		ID:                   obs.NewRequestID(),
		Type:                 ch.typ,
		Source:               Name,
		Time:                 s.opts.Now(),
		RequestID:            obs.RequestID(ctx),
		Payload:              sealed,
		ExpectLastSubjectSeq: &expect,
	})
	if errors.Is(err, events.ErrWrongLastSequence) {
		return 0, err
	}
	if err != nil {
		return 0, apierr.Wrap(err, apierr.Unavailable, "could not save; try again")
	}
	return ack.Sequence, nil
}
