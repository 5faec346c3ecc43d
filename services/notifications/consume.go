package notifications

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

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
		{events.Consumer{Stream: events.StreamMatches, Durable: ConsumerMatches, Filters: []string{matchingapi.MatchesFound.Subject, matchingapi.MatchesFoundBatch.Subject},
			MaxBatch: FoundBatch, Linger: s.opts.Linger}, s.handleFound},
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
	err = s.openSealed(ctx, m.Subject(), sealed, v)
	if errors.Is(err, shred.ErrShredded) {
		return false, nil
	}
	return err == nil, err
}

// openSealed decrypts sealed into v: shred.ErrShredded for a deleted
// seeker's, poison for unreadable data, anything else to retry.
func (s *Service) openSealed(ctx context.Context, subject string, sealed shred.Sealed, v any) error {
	err := s.keys.Open(ctx, sealed, v)
	if errors.Is(err, shred.ErrUnreadable) {
		return events.Poison("%s: %v", subject, err)
	}
	return err
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
// One notification per owner per batch (up to FoundBatch messages or
// Linger).
//
// A message is a bundle of announcements (matches.found.batch) or, before
// bundles, one (matches.found). The batch's announcements are opened
// concurrently, profiles is asked once per distinct seeker and matching
// once per distinct posting, concurrently (foundLimit at a time). A failing
// announcement fails its message, which is redelivered; the seen flags,
// named by announcement (foundEntries), tell nobody twice.
func (s *Service) handleFound(ctx context.Context, msgs []jetstream.Msg) []error {
	errs := make([]error, len(msgs))
	var es []*foundEntry
	for i, m := range msgs {
		got, err := foundEntries(m, i)
		errs[i] = err
		es = append(es, got...)
	}
	es, err := s.openFound(ctx, es, errs)
	if err != nil {
		return failAll(errs, err)
	}
	rels := s.relationsOf(ctx, es)
	orgs := s.postingOrgs(ctx, es, rels)
	var ns notices
	matched := map[string][]string{}
	for _, e := range es {
		setErr(errs, e.msg, s.found(&ns, e, rels[e.f.SeekerID], orgs))
		for _, p := range e.f.Postings {
			matched[p] = append(matched[p], e.owner())
		}
	}
	if err := s.tell(ctx, &ns); err != nil {
		return failAll(errs, err)
	}
	if len(matched) > 0 {
		pipe := s.rdb.Pipeline()
		for p, owners := range matched {
			// A posting announced to thousands in one batch is several
			// short commands: Redis serves nobody else while one runs.
			for chunk := range slices.Chunk(owners, matchedChunk) {
				members := make([]any, len(chunk))
				for i, o := range chunk {
					members[i] = o
				}
				pipe.SAdd(ctx, matchedKey(p), members...)
			}
			pipe.Expire(ctx, matchedKey(p), MatchedTTL*time.Second)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return failAll(errs, fmt.Errorf("remember matched postings: %w", err))
		}
	}
	return errs
}

// FoundBatch is the most MATCHES messages handled at once: a bundle holds
// up to 500 seekers' announcements (matching's flush chunk), so a batch of
// 20 is up to 10,000, and the pull buffers at most 64 messages.
const FoundBatch = 20

// foundLimit is how many keyring reads, profiles requests or matching
// requests handleFound makes at once.
const foundLimit = 16

// foundEntry is one announcement of a batch: a whole matches.found message
// or one entry of a matches.found.batch.
type foundEntry struct {
	msg    int    // index of its message in the batch
	event  string // the name of its seen flags
	sealed shred.Sealed
	f      matchingapi.Found
	err    error // from opening it
	// pseud is the seeker's pseudonym here (pseudonyms.of), set once
	// opened: two HMACs a call, which every announcement needed six times
	// (issue 14's mixed-load profile).
	pseud string
}

// owner is the owner key of the announced seeker's own notifications.
func (e *foundEntry) owner() string { return seekerOwnerOf(e.pseud) }

// foundEntries reads a message's announcements. A bundle's are named by
// their ids (found:<token>), the same in whichever bundle a retried flush
// put them; a single matches.found keeps the name it had before bundles
// (stream and sequence), so that a redelivery of one handled before the
// upgrade is still recognised.
func foundEntries(m jetstream.Msg, i int) ([]*foundEntry, error) {
	if m.Subject() != matchingapi.MatchesFoundBatch.Subject {
		var sealed shred.Sealed
		if err := json.Unmarshal(m.Data(), &sealed); err != nil {
			return nil, events.Poison("%s is not sealed: %v", m.Subject(), err)
		}
		return []*foundEntry{{msg: i, event: eventName(m), sealed: sealed}}, nil
	}
	b, err := matchingapi.MatchesFoundBatch.Decode(m.Data())
	if err != nil {
		return nil, events.Poison("%v", err)
	}
	out := make([]*foundEntry, 0, len(b.Announcements))
	for _, a := range b.Announcements {
		if !strings.HasPrefix(a.ID, "found:") {
			return nil, events.Poison("%s: announcement id %q", m.Subject(), a.ID)
		}
		out = append(out, &foundEntry{msg: i, event: a.ID, sealed: a.Sealed})
	}
	return out, nil
}

// openFound opens the announcements concurrently and returns the ones to
// tell: a deleted seeker's (shredded, or forgotten here while the event
// was on its way) and empty ones are skipped; one that fails to open gives
// its message the error. The error is the deleted-seeker check's.
func (s *Service) openFound(ctx context.Context, es []*foundEntry, errs []error) ([]*foundEntry, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(foundLimit)
	for _, e := range es {
		g.Go(func() error {
			e.err = s.openSealed(gctx, matchingapi.MatchesFound.Subject, e.sealed, &e.f)
			return nil
		})
	}
	_ = g.Wait()
	var open []*foundEntry
	var owners []string
	for _, e := range es {
		switch {
		case e.err != nil:
			if !errors.Is(e.err, shred.ErrShredded) {
				setErr(errs, e.msg, e.err)
			}
		case profile.ValidID(e.f.SeekerID) && len(e.f.Postings) > 0:
			e.pseud = s.names.of(e.f.SeekerID)
			open = append(open, e)
			owners = append(owners, e.owner())
		}
	}
	gone, err := s.forgotten(ctx, owners)
	if err != nil {
		return nil, err
	}
	live := open[:0]
	for _, e := range open {
		if !gone[e.owner()] {
			live = append(live, e)
		}
	}
	return live, nil
}

// result is what one request gave.
type result[T any] struct {
	v   T
	err error
}

// relationsOf asks profiles for the relations of each distinct seeker of
// the announcements, relationsChunk seekers a request, foundLimit requests
// at once. One request a seeker was most of notifications' and profiles'
// work while new postings were announced to thousands of seekers under a
// mixed load (issue 14).
func (s *Service) relationsOf(ctx context.Context, es []*foundEntry) map[string]result[profile.Relations] {
	var ids []string
	for _, e := range es {
		ids = append(ids, e.f.SeekerID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	chunks := slices.Collect(slices.Chunk(ids, relationsChunk))
	got := make([]map[string]result[profile.Relations], len(chunks))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(foundLimit)
	for i, chunk := range chunks {
		g.Go(func() error {
			got[i] = s.relationsBatch(gctx, chunk)
			return nil
		})
	}
	_ = g.Wait()
	out := make(map[string]result[profile.Relations], len(ids))
	for _, m := range got {
		maps.Copy(out, m)
	}
	return out
}

// relationsChunk is how many seekers one relations-batch request names: a
// reply stays far below NATS's max_payload (1 MB) however many counselors
// and employers a seeker has in practice.
const relationsChunk = 100

// relationsBatch asks profiles for the relations of the seekers ids in one
// request; a failed request fails each of them. A profiles from before the
// relations-batch endpoint (no responders on its subject, as during a
// rolling upgrade) is asked once a seeker instead.
func (s *Service) relationsBatch(ctx context.Context, ids []string) map[string]result[profile.Relations] {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	rep, err := profilesapi.RelationsBatch.Call(rctx, s.nc, profilesapi.RelationsRequest{IDs: ids})
	cancel()
	if errors.Is(err, nats.ErrNoResponders) {
		return fetchAll(ctx, ids, s.relations)
	}
	if err == nil && len(rep.Relations) != len(ids) {
		err = fmt.Errorf("profiles answered %d relations for %d seekers", len(rep.Relations), len(ids))
	}
	out := make(map[string]result[profile.Relations], len(ids))
	for i, id := range ids {
		if err != nil {
			out[id] = result[profile.Relations]{err: fmt.Errorf("relations: %w", err)}
			continue
		}
		out[id] = result[profile.Relations]{v: rep.Relations[i]}
	}
	return out
}

// postingOrgs asks matching for the organisation of each distinct posting
// announced to a seeker who opted in to be seen by employers,
// concurrently.
func (s *Service) postingOrgs(ctx context.Context, es []*foundEntry, rels map[string]result[profile.Relations]) map[string]result[string] {
	var ids []string
	for _, e := range es {
		if r := rels[e.f.SeekerID]; r.err == nil && r.v.OpenToEmployers {
			ids = append(ids, e.f.Postings...)
		}
	}
	return fetchAll(ctx, ids, s.postingOrg)
}

// fetchAll calls get once for each distinct key, foundLimit at a time.
func fetchAll[T any](ctx context.Context, keys []string, get func(context.Context, string) (T, error)) map[string]result[T] {
	slices.Sort(keys)
	keys = slices.Compact(keys)
	got := make([]result[T], len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(foundLimit)
	for i, k := range keys {
		g.Go(func() error {
			got[i].v, got[i].err = get(gctx, k)
			return nil
		})
	}
	_ = g.Wait()
	out := make(map[string]result[T], len(keys))
	for i, k := range keys {
		out[k] = got[i]
	}
	return out
}

// found collects the notifications of one announcement.
func (s *Service) found(ns *notices, e *foundEntry, rel result[profile.Relations], orgs map[string]result[string]) error {
	f := e.f
	own, named, nearOwn, nearNamed := foundItems(f)
	ns.add(e.owner(), napi.TypeMatchesNew, e.event, nil, own...)
	// The seen flag is per owner and event: the second type of one event
	// has its own (nearSeen).
	nearSeen := e.event + ":near"
	ns.add(e.owner(), napi.TypeNearMissMatched, nearSeen, nil, nearOwn...)
	if rel.err != nil {
		return rel.err
	}
	refs := []string{e.pseud}
	for _, c := range rel.v.Counselors {
		ns.add(counselorOwner(c), napi.TypeMatchesNew, e.event, refs, named...)
		ns.add(counselorOwner(c), napi.TypeNearMissMatched, nearSeen, refs, nearNamed...)
	}
	if !rel.v.OpenToEmployers {
		return nil
	}
	byOrg := map[string][]any{}
	for _, p := range f.Postings {
		o := orgs[p]
		if o.err != nil {
			return o.err
		}
		if o.v != "" {
			byOrg[o.v] = append(byOrg[o.v], napi.CandidateItem{PostingID: p, SeekerID: f.SeekerID})
		}
	}
	for org, items := range byOrg {
		ns.add(employerOwner(org), napi.TypeCandidateNew, e.event, refs, items...)
	}
	return nil
}

// setErr gives message i the error err, unless it has one already; an
// error to retry replaces a poison one, so that a bundle with one
// unreadable announcement is redelivered while another of its
// announcements is yet to be told.
func setErr(errs []error, i int, err error) {
	if err != nil && (errs[i] == nil || errors.Is(errs[i], events.ErrPoison) && !errors.Is(err, events.ErrPoison)) {
		errs[i] = err
	}
}

// failAll gives err to every message, also to poison ones: nothing was
// told, and a bundle's other announcements are still to be told.
func failAll(errs []error, err error) []error {
	for i := range errs {
		setErr(errs, i, err)
	}
	return errs
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
// longer indexed: closed meanwhile).
func (s *Service) postingOrg(ctx context.Context, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p, err := matchingapi.Posting.Call(ctx, s.nc, matchingapi.PostingRequest{ID: id})
	if apierr.CodeOf(err) == apierr.NotFound {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("posting %s: %w", id, err)
	}
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
