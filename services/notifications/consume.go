package notifications

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/credentialsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	napi "github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// follower is one durable consumer and its handler.
type follower struct {
	events.Consumer
	handle events.BatchHandler
}

// consumers are the service's durable consumers, one per stream, shared by
// every copy: each event is handled by one copy, and a redelivered event
// tells nobody twice (the seen flags of notifyScript).
func (s *Service) consumers() []follower {
	return []follower{
		{events.Consumer{Stream: events.StreamMatches, Durable: ConsumerMatches, Filters: []string{matchingapi.MatchesFound.Subject},
			MaxBatch: 200, Linger: s.opts.Linger}, s.handleFound},
		{events.Consumer{Stream: events.StreamJobs, Durable: ConsumerJobs, Filters: []string{ingestapi.Closed.Subject, ingestapi.Stale.Subject},
			MaxBatch: 100, Linger: s.opts.Linger}, s.handleClosed},
		{events.Consumer{Stream: events.StreamCredentials, Durable: ConsumerCredentials, Filters: []string{credentialsapi.Expiring.Subject},
			MaxBatch: 100, Linger: s.opts.Linger}, s.handleExpiring},
		{events.Consumer{Stream: events.StreamProfiles, Durable: ConsumerProfiles, Filters: []string{profilesapi.SeekerChanged.Subject + ">"},
			MaxBatch: 100}, s.handleProfiles},
	}
}

func (s *Service) follow(ctx context.Context, f follower) error {
	return events.Run(ctx, s.js, f.Consumer, s.log.With().Str("consumer", f.Durable).Logger(), f.handle)
}

// eventName names a source event for the seen flags: stream and sequence.
func eventName(m jetstream.Msg) string {
	env := events.EnvelopeOf(m)
	return strings.ToLower(m.Subject()) + ":" + strconv.FormatUint(env.Sequence, 10)
}

// open decodes a sealed payload. A deleted seeker's event is skipped (nil
// error, ok false); unreadable data is poison; anything else is retried.
func (s *Service) open(ctx context.Context, m jetstream.Msg, v any) (ok bool, err error) {
	var sealed shred.Sealed
	if err := json.Unmarshal(m.Data(), &sealed); err != nil {
		return false, events.Poison("%s is not sealed: %v", m.Subject(), err)
	}
	err = s.keys.Open(ctx, sealed, v)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, shred.ErrShredded):
		return false, nil
	case errors.Is(err, shred.ErrUnreadable):
		return false, events.Poison("%s: %v", m.Subject(), err)
	}
	return false, err
}

// failRest gives err to every message that has no error yet.
func failRest(errs []error, err error) []error {
	if err == nil {
		return errs
	}
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
	return errs
}

// relations asks profiles who is linked to a seeker; a deleted seeker has none.
func (s *Service) relations(ctx context.Context, seeker string) (profile.Relations, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rel, err := profilesapi.Relations.Call(ctx, s.nc, profilesapi.SeekerRef{ID: seeker})
	if apierr.CodeOf(err) == apierr.NotFound {
		return profile.Relations{}, nil
	}
	if err != nil {
		return rel, fmt.Errorf("relations: %w", err)
	}
	return rel, nil
}

// handleFound tells new matches: to the seeker, to each counselor on whose
// caseload the seeker is (naming the client), and, when the seeker opted in
// to be seen by employers, to each posting's employer as a new candidate.
// One notification per owner per batch (up to 200 events or Linger).
func (s *Service) handleFound(ctx context.Context, msgs []jetstream.Msg) []error {
	errs := make([]error, len(msgs))
	var ns notices
	matched := map[string][]string{}
	orgs := map[string]string{}
	for i, m := range msgs {
		var f matchingapi.Found
		ok, err := s.open(ctx, m, &f)
		if !ok {
			errs[i] = err
			continue
		}
		if gone, err := s.forgotten(ctx, []string{s.names.seekerOwner(f.SeekerID)}); err != nil || gone[s.names.seekerOwner(f.SeekerID)] {
			errs[i] = err // deleted while the event was on its way: nobody to tell
			continue
		}
		errs[i] = s.found(ctx, &ns, orgs, eventName(m), f)
		for _, p := range f.Postings {
			matched[p] = append(matched[p], s.names.seekerOwner(f.SeekerID))
		}
	}
	if err := s.tell(ctx, &ns); err != nil {
		return failRest(errs, err)
	}
	if len(matched) > 0 {
		pipe := s.rdb.Pipeline()
		for p, owners := range matched {
			members := make([]any, len(owners))
			for i, o := range owners {
				members[i] = o
			}
			pipe.SAdd(ctx, matchedKey(p), members...)
			pipe.Expire(ctx, matchedKey(p), MatchedTTL*time.Second)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return failRest(errs, fmt.Errorf("remember matched postings: %w", err))
		}
	}
	return errs
}

func (s *Service) found(ctx context.Context, ns *notices, orgs map[string]string, event string, f matchingapi.Found) error {
	if !profile.ValidID(f.SeekerID) || len(f.Postings) == 0 {
		return nil
	}
	own, named, nearOwn, nearNamed := foundItems(f)
	ns.add(s.names.seekerOwner(f.SeekerID), napi.TypeMatchesNew, event, nil, own...)
	// The seen flag is per owner and event: the second type of one event
	// has its own (nearSeen).
	nearSeen := event + ":near"
	ns.add(s.names.seekerOwner(f.SeekerID), napi.TypeNearMissMatched, nearSeen, nil, nearOwn...)
	rel, err := s.relations(ctx, f.SeekerID)
	if err != nil {
		return err
	}
	refs := []string{s.names.of(f.SeekerID)}
	for _, c := range rel.Counselors {
		ns.add(counselorOwner(c), napi.TypeMatchesNew, event, refs, named...)
		ns.add(counselorOwner(c), napi.TypeNearMissMatched, nearSeen, refs, nearNamed...)
	}
	if !rel.OpenToEmployers {
		return nil
	}
	byOrg := map[string][]any{}
	for _, p := range f.Postings {
		org, err := s.postingOrg(ctx, orgs, p)
		if err != nil {
			return err
		}
		if org != "" {
			byOrg[org] = append(byOrg[org], napi.CandidateItem{PostingID: p, SeekerID: f.SeekerID})
		}
	}
	for org, items := range byOrg {
		ns.add(employerOwner(org), napi.TypeCandidateNew, event, refs, items...)
	}
	return nil
}

// foundItems splits an announcement's postings into new matches and near
// misses that became matches (each posting told once, as one or the
// other), as the seeker's items and as their counselors' (naming them).
func foundItems(f matchingapi.Found) (own, named, nearOwn, nearNamed []any) {
	was := map[string][]string{}
	for _, nm := range f.WasNearMiss {
		was[nm.PostingID] = nm.Missing
	}
	for _, p := range f.Postings {
		missing, near := was[p]
		if near {
			nearOwn = append(nearOwn, napi.NearMissItem{PostingID: p, Missing: missing})
			nearNamed = append(nearNamed, napi.NearMissItem{PostingID: p, SeekerID: f.SeekerID, Missing: missing})
			continue
		}
		own = append(own, napi.MatchItem{PostingID: p})
		named = append(named, napi.MatchItem{PostingID: p, SeekerID: f.SeekerID})
	}
	return own, named, nearOwn, nearNamed
}

// postingOrg is the organisation that owns a posting ("" when it is no
// longer indexed: closed meanwhile), remembered for the batch.
func (s *Service) postingOrg(ctx context.Context, orgs map[string]string, id string) (string, error) {
	if org, ok := orgs[id]; ok {
		return org, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p, err := matchingapi.Posting.Call(ctx, s.nc, matchingapi.PostingRequest{ID: id})
	if apierr.CodeOf(err) == apierr.NotFound {
		orgs[id] = ""
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("posting %s: %w", id, err)
	}
	orgs[id] = p.EmployerID
	return p.EmployerID, nil
}

// handleClosed tells the seekers who were told they matched a posting that
// it was closed (or went stale). Their counselors are not told: the
// caseload view shows it (docs/notifications.md).
func (s *Service) handleClosed(ctx context.Context, msgs []jetstream.Msg) []error {
	errs := make([]error, len(msgs))
	var ns notices
	var done []string
	for i, m := range msgs {
		var c ingestapi.Closure
		if err := json.Unmarshal(m.Data(), &c); err != nil || c.ID == "" {
			errs[i] = events.Poison("closure payload: %v", err)
			continue
		}
		owners, err := s.rdb.SMembers(ctx, matchedKey(c.ID)).Result()
		if err != nil {
			errs[i] = fmt.Errorf("matched seekers of %s: %w", c.ID, err)
			continue
		}
		gone, err := s.forgotten(ctx, owners)
		if err != nil {
			errs[i] = err
			continue
		}
		for _, o := range owners {
			if !gone[o] {
				ns.add(o, napi.TypePostingClosed, eventName(m), nil, napi.ClosedItem{PostingID: c.ID, Reason: c.Reason})
			}
		}
		done = append(done, matchedKey(c.ID))
	}
	if err := s.tell(ctx, &ns); err != nil {
		return failRest(errs, err)
	}
	if len(done) > 0 {
		if err := s.rdb.Del(ctx, done...).Err(); err != nil {
			s.log.Warn().Err(err).Msg("forget closed postings' matched seekers; they expire")
		}
	}
	return errs
}

// handleExpiring tells a seeker, and the counselors on whose caseload they
// are, that a credential's renewal cycle ends soon.
func (s *Service) handleExpiring(ctx context.Context, msgs []jetstream.Msg) []error {
	errs := make([]error, len(msgs))
	var ns notices
	for i, m := range msgs {
		var ch profile.CredentialChange
		ok, err := s.open(ctx, m, &ch)
		if !ok || ch.Expiring == nil || !profile.ValidID(ch.SeekerID) {
			errs[i] = err
			continue
		}
		if gone, err := s.forgotten(ctx, []string{s.names.seekerOwner(ch.SeekerID)}); err != nil || gone[s.names.seekerOwner(ch.SeekerID)] {
			errs[i] = err
			continue
		}
		item := napi.ExpiringItem{Issuer: ch.Expiring.Issuer, CycleEnd: ch.Expiring.CycleEnd, DaysLeft: ch.Expiring.DaysLeft}
		ns.add(s.names.seekerOwner(ch.SeekerID), napi.TypeCredentialExpiring, eventName(m), nil, item)
		rel, err := s.relations(ctx, ch.SeekerID)
		if err != nil {
			errs[i] = err
			continue
		}
		item.SeekerID = ch.SeekerID
		for _, c := range rel.Counselors {
			ns.add(counselorOwner(c), napi.TypeCredentialExpiring, eventName(m), []string{s.names.of(ch.SeekerID)}, item)
		}
	}
	return failRest(errs, s.tell(ctx, &ns))
}

// handleProfiles forgets a deleted seeker.
func (s *Service) handleProfiles(ctx context.Context, msgs []jetstream.Msg) []error {
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		if events.EnvelopeOf(m).Type != events.TypeSeekerDeleted {
			continue
		}
		id := strings.TrimPrefix(m.Subject(), profilesapi.SeekerChanged.Subject)
		errs[i] = s.forgetSeeker(ctx, id)
	}
	return errs
}
