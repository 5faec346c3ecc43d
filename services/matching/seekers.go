package matching

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// Seeker events reach matching for two purposes, each through its own
// consumer, and each applies an event once:
//
//   - the seekers index (seekerindex) follows PROFILES and CREDENTIALS with
//     ordered consumers (loadSeekers), replayed from the start at every
//     start; each write carries the event's stream sequence, and the index
//     ignores one no newer than what it holds;
//   - the match lists follow them with durable consumers (runSeekerChanges):
//     each event waits until the index has applied it, then recomputes the
//     seeker's list, unless the list was already recomputed for that event
//     or a later one (refreshedKey).
//
// The index is the only writer of seeker state: the list consumer reads it.

// seekerStreams are the streams matching follows for seekers, with the
// subjects it reads of each.
var seekerStreams = []struct {
	stream  string
	filters []string
}{
	{events.StreamProfiles, []string{events.SeekerSubjectPrefix + ">"}},
	{events.StreamCredentials, []string{events.CredentialsEarned}},
}

// appliedSeqs are the stream sequences the seekers index has applied, per
// stream: what a list refresh waits for.
type appliedSeqs struct {
	profiles, credentials atomic.Uint64
}

func (a *appliedSeqs) of(stream string) *atomic.Uint64 {
	if stream == events.StreamCredentials {
		return &a.credentials
	}
	return &a.profiles
}

// seekerRef names the seeker a PROFILES or CREDENTIALS event is about, when
// matching uses it (a profile update or deletion, or an earned credential),
// as the event does: by pseudonym, or by id in an event written before
// pseudonyms (s.names.idOf gives the id). It reads no sealed content.
func seekerRef(subject, typ string, data []byte) (string, error) {
	switch {
	case strings.HasPrefix(subject, events.SeekerSubjectPrefix):
		if typ != events.TypeSeekerUpdated && typ != events.TypeSeekerDeleted {
			return "", nil
		}
		return strings.TrimPrefix(subject, events.SeekerSubjectPrefix), nil
	case subject == events.CredentialsEarned:
		var sealed shred.Sealed
		if err := json.Unmarshal(data, &sealed); err != nil || sealed.Subject == "" {
			return "", events.Poison("credential event is not sealed: %v", err)
		}
		return sealed.Subject, nil
	}
	return "", nil
}

// applySeekerEvent applies one PROFILES or CREDENTIALS event, whose stream
// sequence is version, to the seekers index, and reports whether it
// changed the index (an event no newer than what the index holds does not).
// The seeker's id comes from the opened payload; a deletion names only the
// pseudonym, whose id the index learnt from the seeker's earlier events.
func (s *Service) applySeekerEvent(ctx context.Context, subject, typ string, data []byte, version uint64) (bool, error) {
	ref, err := seekerRef(subject, typ, data)
	if err != nil || ref == "" {
		return false, err
	}
	switch {
	case typ == events.TypeSeekerDeleted:
		id := s.names.idOf(ref)
		s.names.drop(s.keys.Pseudonym(ref), s.now())
		if id == "" {
			return false, nil // none of their events could be read: not indexed
		}
		s.seekers.Remove(id)
		return true, nil
	case subject == events.CredentialsEarned:
		var ch profile.CredentialChange
		if err := s.open(ctx, ref, data, &ch); err != nil || ch.Credential == nil {
			return false, err
		}
		if err := s.learn(ref, ch.SeekerID); err != nil {
			return false, err
		}
		return s.seekers.AddCredential(ch.SeekerID, *ch.Credential, version), nil
	}
	var ch profile.Change
	if err := s.open(ctx, ref, data, &ch); err != nil || ch.Seeker == nil {
		return false, err
	}
	if err := s.learn(ref, ch.Seeker.ID); err != nil {
		return false, err
	}
	return s.seekers.SetAttrs(*ch.Seeker, version), nil
}

// learn checks that the id an opened payload names is the seeker its event
// refers to (by pseudonym, or by id before pseudonyms) and remembers it.
func (s *Service) learn(ref, id string) error {
	p := s.keys.Pseudonym(ref)
	if id == "" || s.keys.Pseudonym(id) != p {
		return events.Poison("event sealed for another seeker")
	}
	s.names.learn(p, id)
	return nil
}

// open unseals an event about the seeker ref names. A shredded seeker's
// events are skipped (nil error, v untouched).
func (s *Service) open(ctx context.Context, ref string, data []byte, v any) error {
	var sealed shred.Sealed
	if err := json.Unmarshal(data, &sealed); err != nil || sealed.Subject != ref {
		return events.Poison("event is not sealed for its seeker")
	}
	err := s.keys.Open(ctx, sealed, v)
	if errors.Is(err, shred.ErrShredded) {
		return nil
	}
	return err
}

// loadSeekers replays PROFILES and CREDENTIALS into the index with ordered
// consumers (no side effects), then keeps following them until ctx ends.
// ready is closed once the replay has caught up.
func (s *Service) loadSeekers(ctx context.Context, ready chan<- struct{}) error {
	var wg sync.WaitGroup
	var caught sync.WaitGroup
	errc := make(chan error, len(seekerStreams))
	for _, f := range seekerStreams {
		caught.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- s.follow(ctx, f.stream, f.filters, caught.Done)
		}()
	}
	go func() { caught.Wait(); close(ready) }()
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) follow(ctx context.Context, stream string, filters []string, caughtUp func()) error {
	cons, err := s.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: filters, DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	var once sync.Once
	if info.NumPending == 0 {
		once.Do(caughtUp)
	}
	applied := s.applied.of(stream)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			s.log.Warn().Err(err).Str("stream", stream).Msg("seeker event without metadata skipped")
			return
		}
		if err := s.applyUntilDone(ctx, m, md.Sequence.Stream); err != nil {
			s.log.Warn().Err(err).Str("stream", stream).Uint64("seq", md.Sequence.Stream).Msg("seeker event skipped")
		}
		if ctx.Err() != nil {
			return // stopping: the event is applied by the next start's replay
		}
		applied.Store(md.Sequence.Stream)
		if md.NumPending == 0 {
			once.Do(caughtUp)
		}
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	cc.Stop()
	once.Do(caughtUp)
	return nil
}

// applyUntilDone applies one event of an ordered consumer to the index,
// retrying until it is applied, ctx ends, or the event can never be applied
// (poison, or sealed data that does not open), which is returned. An
// ordered consumer does not redeliver: skipping an event on a transient
// error (a key read timing out while the key stream elects a leader) would
// leave the seeker out of the index for good, so the replay waits here
// instead, keeping the events in order.
func (s *Service) applyUntilDone(ctx context.Context, m jetstream.Msg, seq uint64) error {
	typ := events.EnvelopeOf(m).Type
	delay := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := s.applySeekerEvent(ctx, m.Subject(), typ, m.Data(), seq)
		if err == nil || errors.Is(err, events.ErrPoison) || errors.Is(err, shred.ErrUnreadable) {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if attempt == 1 || attempt%20 == 0 {
			s.log.Warn().Err(err).Str("type", typ).Uint64("seq", seq).Int("attempt", attempt).Msg("seeker event not applied yet; retrying")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// runSeekerChanges recomputes a seeker's list when their profile or
// credentials change: a durable consumer per stream, so each change is
// handled once, also across restarts.
func (s *Service) runSeekerChanges(ctx context.Context) error {
	g := make(chan error, len(seekerStreams))
	for _, f := range seekerStreams {
		go func() {
			g <- events.Run(ctx, s.js, events.Consumer{Stream: f.stream, Durable: listDurable(f.stream),
				Filters: f.filters, MaxBatch: 50}, s.log, func(ctx context.Context, msgs []jetstream.Msg) []error {
				return s.seekerChangeBatch(ctx, f.stream, msgs)
			})
		}()
	}
	var first error
	for range seekerStreams {
		if err := <-g; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// listDurable is the durable consumer that refreshes match lists from a
// seeker stream.
func listDurable(stream string) string {
	if stream == events.StreamCredentials {
		return "matching-credential-changes"
	}
	return "matching-seeker-changes"
}

func (s *Service) seekerChangeBatch(ctx context.Context, stream string, msgs []jetstream.Msg) []error {
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		ref, err := seekerRef(m.Subject(), events.EnvelopeOf(m).Type, m.Data())
		if err != nil || ref == "" {
			errs[i] = err
			continue
		}
		md, err := m.Metadata()
		if err != nil {
			errs[i] = fmt.Errorf("seeker event metadata: %w", err)
			continue
		}
		// The index names the seeker once it has applied the event.
		if errs[i] = s.awaitApplied(ctx, stream, md.Sequence.Stream); errs[i] != nil {
			continue
		}
		if id := s.names.idOf(ref); id != "" {
			_, errs[i] = s.refreshFor(ctx, id, stream, md.Sequence.Stream)
		}
	}
	return errs
}

// refreshedKey is a hash: for each seeker stream, the sequence of the last
// event the seeker's list was recomputed for.
func refreshedKey(seeker string) string { return "clerkpath:matches:refreshed:" + seeker }

// refreshFor recomputes a seeker's list for the event at seq of stream,
// once the seekers index has applied it, and reports whether it did: an
// event no newer than the last one the list was recomputed for changes
// nothing.
func (s *Service) refreshFor(ctx context.Context, seeker, stream string, seq uint64) (bool, error) {
	done, err := s.rdb.HGet(ctx, refreshedKey(seeker), stream).Result()
	if err == nil {
		if n, perr := strconv.ParseUint(done, 10, 64); perr == nil && n >= seq {
			return false, nil
		}
	}
	if err := s.awaitApplied(ctx, stream, seq); err != nil {
		return false, err
	}
	if err := s.refreshList(ctx, seeker); err != nil {
		return false, err
	}
	if err := s.rdb.HSet(ctx, refreshedKey(seeker), stream, seq).Err(); err != nil {
		return true, fmt.Errorf("record the list refresh: %w", err)
	}
	return true, nil
}

// awaitApplied waits until the seekers index has applied stream's event
// at seq (at most IndexWait: the event is then redelivered).
func (s *Service) awaitApplied(ctx context.Context, stream string, seq uint64) error {
	applied := s.applied.of(stream)
	deadline := time.Now().Add(IndexWait)
	for applied.Load() < seq {
		if time.Now().After(deadline) {
			return fmt.Errorf("seekers index at %s sequence %d, not %d, after %s", stream, applied.Load(), seq, IndexWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}
