package profiles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// store is the Redis projection of the PROFILES stream, kept in
// generations (pkg/projection). Generation N's keys:
//
//	clerkpath:profiles:g<N>:seeker:<id>             hash: version, seq, doc (attributes JSON), contact (sealed JSON), deleted
//	clerkpath:profiles:g<N>:seeker:<id>:employers   set of organisations the seeker consented to
//	clerkpath:profiles:g<N>:seeker:<id>:counselors  set of linked counselors
//	clerkpath:profiles:g<N>:seeker:<id>:notes       list of sealed counselor notes
//	clerkpath:profiles:g<N>:counselor:<id>:caseload set of linked seekers
//	clerkpath:profiles:g<N>:employer:<org>          hash: version, doc
//
// Every read resolves the generation first (clerkpath:profiles:gen); with
// none (Redis lost its data) it answers 503 while a rebuild runs.
type store struct {
	rdb  *redis.Client
	proj *projection.Projection
}

func seekerKey(g projection.Gen, id string) string    { return g.Key("seeker:" + id) }
func employersKey(g projection.Gen, id string) string { return seekerKey(g, id) + ":employers" }
func counselorsKey(g projection.Gen, id string) string {
	return seekerKey(g, id) + ":counselors"
}
func notesKey(g projection.Gen, id string) string { return seekerKey(g, id) + ":notes" }

func caseloadKey(g projection.Gen, counselor string) string {
	return g.Key("counselor:" + counselor + ":caseload")
}
func employerKey(g projection.Gen, org string) string { return g.Key("employer:" + org) }

// applyScript applies one change at stream sequence ARGV[1] unless the
// seeker's projection already holds that sequence or a later one (seq), so
// replays and redeliveries are harmless; each applied event adds one to the
// seeker's version, the number of events on their subject (1 for a new
// profile). A deletion leaves a tombstone (version, seq, deleted) so that a
// replay of older events cannot resurrect the seeker. Hashes written before
// seq existed kept the sequence in version: it stands in for seq, and the
// version goes on from it (still increasing; a rebuild renumbers from 1).
var applyScript = redis.NewScript(`
local n = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
local cur = tonumber(redis.call('HGET', KEYS[1], 'seq') or n)
local v = tonumber(ARGV[1])
if cur >= v then return 0 end
local op, val = ARGV[2], ARGV[3]
if op == 'attrs' then
  redis.call('HSET', KEYS[1], 'doc', val)
elseif op == 'contact' then
  redis.call('HSET', KEYS[1], 'contact', val)
elseif op == 'consent+' then
  redis.call('SADD', KEYS[2], val)
elseif op == 'consent-' then
  redis.call('SREM', KEYS[2], val)
elseif op == 'counselor+' then
  redis.call('SADD', KEYS[3], val)
  redis.call('SADD', ARGV[4], ARGV[5])
elseif op == 'counselor-' then
  redis.call('SREM', KEYS[3], val)
  redis.call('SREM', ARGV[4], ARGV[5])
elseif op == 'note' then
  redis.call('RPUSH', KEYS[4], val)
elseif op == 'delete' then
  for _, c in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    redis.call('SREM', ARGV[4] .. c .. ':caseload', ARGV[5])
  end
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
  redis.call('HSET', KEYS[1], 'deleted', '1')
elseif op == 'skip' then
  -- an event that can no longer be read (the seeker was deleted)
else
  return redis.error_reply('unknown op ' .. op)
end
redis.call('HSET', KEYS[1], 'version', n + 1, 'seq', ARGV[1])
return 1`)

func (st *store) apply(ctx context.Context, g projection.Gen, id string, version uint64, op, val, extraKey string) error {
	keys := []string{seekerKey(g, id), employersKey(g, id), counselorsKey(g, id), notesKey(g, id)}
	return applyScript.Run(ctx, st.rdb, keys, strconv.FormatUint(version, 10), op, val, extraKey, id).Err()
}

// head is where a seeker's record stands in the projection: the version
// a client sees, the stream sequence of the last event applied (what a
// write expects the subject to be at) and the attributes document.
type head struct {
	Version, Seq uint64
	Doc          string // empty: no profile
	Deleted      bool
}

func (st *store) head(ctx context.Context, id string) (head, error) {
	var h head
	g, err := st.proj.Current(ctx)
	if err != nil {
		return h, err
	}
	vals, err := st.rdb.HMGet(ctx, seekerKey(g, id), "doc", "version", "seq", "deleted").Result()
	if err != nil {
		return h, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	h.Doc, _ = vals[0].(string)
	h.Version = parseUint(vals[1])
	h.Seq = h.Version // a hash written before seq existed
	if _, ok := vals[2].(string); ok {
		h.Seq = parseUint(vals[2])
	}
	h.Deleted = vals[3] == "1"
	return h, nil
}

func parseUint(v any) uint64 {
	s, _ := v.(string)
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

func (st *store) seeker(ctx context.Context, id string) (profile.Seeker, error) {
	g, err := st.proj.Current(ctx)
	if err != nil {
		return profile.Seeker{}, err
	}
	return st.seekerIn(ctx, g, id)
}

func (st *store) seekerIn(ctx context.Context, g projection.Gen, id string) (profile.Seeker, error) {
	var sk profile.Seeker
	vals, err := st.rdb.HMGet(ctx, seekerKey(g, id), "doc", "version").Result()
	if err != nil {
		return sk, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	doc, _ := vals[0].(string)
	if doc == "" {
		return sk, apierr.New(apierr.NotFound, "no seeker %s", id)
	}
	if err := json.Unmarshal([]byte(doc), &sk); err != nil {
		return sk, fmt.Errorf("decode seeker projection: %w", err)
	}
	v, _ := vals[1].(string)
	sk.Version, _ = strconv.ParseUint(v, 10, 64)
	sk.ClassifyFields() // documents written before field classes existed
	return sk, nil
}

func (st *store) sealedContact(ctx context.Context, id string) (shred.Sealed, bool, error) {
	var s shred.Sealed
	g, err := st.proj.Current(ctx)
	if err != nil {
		return s, false, err
	}
	data, err := st.rdb.HGet(ctx, seekerKey(g, id), "contact").Bytes()
	if errors.Is(err, redis.Nil) {
		return s, false, nil
	}
	if err != nil {
		return s, false, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, false, fmt.Errorf("decode sealed contact: %w", err)
	}
	return s, true, nil
}

func (st *store) sealedNotes(ctx context.Context, id string) ([]shred.Sealed, error) {
	g, err := st.proj.Current(ctx)
	if err != nil {
		return nil, err
	}
	items, err := st.rdb.LRange(ctx, notesKey(g, id), 0, -1).Result()
	if err != nil {
		return nil, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	out := make([]shred.Sealed, 0, len(items))
	for _, it := range items {
		var s shred.Sealed
		if err := json.Unmarshal([]byte(it), &s); err != nil {
			return nil, fmt.Errorf("decode sealed note: %w", err)
		}
		out = append(out, s)
	}
	return out, nil
}

func (st *store) relations(ctx context.Context, id string) (profile.Relations, error) {
	rel := profile.Relations{Counselors: []string{}, Employers: []string{}}
	g, err := st.proj.Current(ctx)
	if err != nil {
		return rel, err
	}
	sk, err := st.seekerIn(ctx, g, id)
	if apierr.CodeOf(err) == apierr.NotFound {
		return rel, nil
	}
	if err != nil {
		return rel, err
	}
	rel.Exists = true
	rel.OpenToEmployers = sk.OpenToEmployers
	if rel.Counselors, err = st.rdb.SMembers(ctx, counselorsKey(g, id)).Result(); err != nil {
		return rel, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	if rel.Employers, err = st.rdb.SMembers(ctx, employersKey(g, id)).Result(); err != nil {
		return rel, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	sort.Strings(rel.Counselors)
	sort.Strings(rel.Employers)
	return rel, nil
}

func (st *store) caseload(ctx context.Context, counselor string) ([]string, error) {
	g, err := st.proj.Current(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := st.rdb.SMembers(ctx, caseloadKey(g, counselor)).Result()
	if err != nil {
		return nil, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	sort.Strings(ids)
	return ids, nil
}

// waitSeeker waits until the seeker's projection has applied the event at
// stream sequence seq.
func (st *store) waitSeeker(ctx context.Context, id string, seq uint64, wait time.Duration) error {
	return st.awaitField(ctx, func(g projection.Gen) string { return seekerKey(g, id) }, "seq", seq, wait)
}

// waitEmployer waits until the organisation's projection holds version
// seq (an employer's version is its last event's stream sequence).
func (st *store) waitEmployer(ctx context.Context, org string, seq uint64, wait time.Duration) error {
	return st.awaitField(ctx, func(g projection.Gen) string { return employerKey(g, org) }, "version", seq, wait)
}

// awaitField waits until field of the hash at key holds seq or more. The
// generation is resolved on every look, so a swap while waiting is
// harmless: the new generation was caught up when it was swapped in and
// applies the write too.
func (st *store) awaitField(ctx context.Context, key func(projection.Gen) string, field string, seq uint64, wait time.Duration) error {
	return events.AwaitProjection(ctx, wait, func(ctx context.Context) (bool, error) {
		g, err := st.proj.Current(ctx)
		if err != nil {
			return false, err
		}
		v, err := st.rdb.HGet(ctx, key(g), field).Uint64()
		if errors.Is(err, redis.Nil) {
			return false, nil
		}
		return v >= seq, err
	})
}

var employerScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if cur >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'doc', ARGV[2])
return 1`)

func (st *store) employer(ctx context.Context, org string) (profile.Employer, error) {
	var e profile.Employer
	g, err := st.proj.Current(ctx)
	if err != nil {
		return e, err
	}
	vals, err := st.rdb.HMGet(ctx, employerKey(g, org), "doc", "version").Result()
	if err != nil {
		return e, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	doc, _ := vals[0].(string)
	if doc == "" {
		return e, apierr.New(apierr.NotFound, "no employer %s", org)
	}
	if err := json.Unmarshal([]byte(doc), &e); err != nil {
		return e, fmt.Errorf("decode employer projection: %w", err)
	}
	v, _ := vals[1].(string)
	e.Version, _ = strconv.ParseUint(v, 10, 64)
	return e, nil
}

// projectionSpec is the profiles projection: one consumer per generation
// on the seeker and employer subjects of PROFILES.
func (s *Service) projectionSpec() projection.Spec {
	return projection.Spec{
		Name: ProjectionName,
		Consumers: []events.Consumer{{
			Stream:   events.StreamProfiles,
			Durable:  ProjectionDurable,
			Filters:  []string{profilesapi.SeekerChanged.Subject + ">", profilesapi.EmployerChanged.Subject + ">"},
			MaxBatch: 100,
			Linger:   2 * time.Millisecond,
		}},
		// Each subject is one seeker or organisation: their events apply in
		// order, different ones at once (a replay is bound by round trips).
		Apply: func(ctx context.Context, g projection.Gen, _ int, msgs []jetstream.Msg) []error {
			return projection.ApplyByKey(ctx, msgs, 16, jetstream.Msg.Subject, func(ctx context.Context, m jetstream.Msg) error {
				return s.project(ctx, g, m)
			})
		},
	}
}

func (s *Service) project(ctx context.Context, g projection.Gen, m jetstream.Msg) error {
	env := events.EnvelopeOf(m)
	if strings.HasPrefix(env.Subject, events.EmployerSubjectPrefix) {
		var e profile.Employer
		if err := json.Unmarshal(m.Data(), &e); err != nil {
			return events.Poison("employer payload: %v", err)
		}
		doc, _ := json.Marshal(e)
		return employerScript.Run(ctx, s.store.rdb, []string{employerKey(g, e.Org)}, strconv.FormatUint(env.Sequence, 10), doc).Err()
	}
	id := strings.TrimPrefix(env.Subject, events.SeekerSubjectPrefix)
	if env.Type == events.TypeSeekerDeleted {
		if err := s.keys.Shred(ctx, id); err != nil {
			return err
		}
		return s.store.apply(ctx, g, id, env.Sequence, "delete", "", g.Key("counselor:"))
	}
	var sealed shred.Sealed
	if err := json.Unmarshal(m.Data(), &sealed); err != nil || sealed.Subject != id {
		return events.Poison("seeker event is not sealed for %s", id)
	}
	var ch profile.Change
	if err := s.keys.Open(ctx, sealed, &ch); err != nil {
		switch {
		case errors.Is(err, shred.ErrShredded):
			return s.store.apply(ctx, g, id, env.Sequence, "skip", "", "")
		case errors.Is(err, shred.ErrUnreadable):
			return events.Poison("open seeker event: %v", err)
		}
		// The key not seen yet (a new stream leader) or the keyring
		// unreachable: redeliver. Dead-lettering here lost acknowledged
		// seekers on a cluster whose key-stream leader changed.
		return fmt.Errorf("open seeker event: %w", err)
	}
	switch env.Type {
	case events.TypeSeekerUpdated:
		if ch.Seeker == nil {
			return events.Poison("seeker update without attributes")
		}
		doc, err := json.Marshal(ch.Seeker)
		if err != nil {
			return err
		}
		return s.store.apply(ctx, g, id, env.Sequence, "attrs", string(doc), "")
	case events.TypeSeekerContactUpdated:
		// Stored sealed: Redis never holds a seeker's contact details in the clear.
		data, _ := json.Marshal(sealed)
		return s.store.apply(ctx, g, id, env.Sequence, "contact", string(data), "")
	case events.TypeSeekerNoteAdded:
		data, _ := json.Marshal(sealed) // kept sealed, like contact details
		return s.store.apply(ctx, g, id, env.Sequence, "note", string(data), "")
	case events.TypeSeekerConsentGranted:
		return s.store.apply(ctx, g, id, env.Sequence, "consent+", ch.Employer, "")
	case events.TypeSeekerConsentRevoked:
		return s.store.apply(ctx, g, id, env.Sequence, "consent-", ch.Employer, "")
	case events.TypeSeekerCounselorLinked:
		return s.store.apply(ctx, g, id, env.Sequence, "counselor+", ch.Counselor, caseloadKey(g, ch.Counselor))
	case events.TypeSeekerCounselorUnlinked:
		return s.store.apply(ctx, g, id, env.Sequence, "counselor-", ch.Counselor, caseloadKey(g, ch.Counselor))
	}
	return events.Poison("unknown event type %q", env.Type)
}
