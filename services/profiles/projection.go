package profiles

import (
	"cmp"
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
//	clerkpath:profiles:g<N>:seeker:<id>             hash: version, seq, subjectseq, doc (attributes JSON), contact (sealed JSON)
//	clerkpath:profiles:g<N>:pseudonym:<pseudonym>   the seeker id a pseudonym stands for (learnt from sealed events)
//	clerkpath:profiles:g<N>:gone:<pseudonym>        hash: seq of a deleted seeker's deletion event
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
func notesKey(g projection.Gen, id string) string    { return seekerKey(g, id) + ":notes" }
func pseudonymKey(g projection.Gen, p string) string { return g.Key("pseudonym:" + p) }
func goneKey(g projection.Gen, p string) string      { return g.Key("gone:" + p) }

func caseloadKey(g projection.Gen, counselor string) string {
	return g.Key("counselor:" + counselor + ":caseload")
}
func employerKey(g projection.Gen, org string) string { return g.Key("employer:" + org) }

// applyScript applies one change at stream sequence ARGV[1] unless the
// seeker's projection already holds that sequence or a later one (seq), so
// replays and redeliveries are harmless; each applied event adds one to the
// seeker's version, the number of events on their subject (1 for a new
// profile). ARGV[6] = '1' marks an event on the pseudonym's subject: its
// sequence is also kept as subjectseq (what the next write expects), and
// the pseudonym's id mapping (KEYS[5]) is set. A deletion drops every key
// of the seeker, the mapping included, and leaves a tombstone under the
// pseudonym (KEYS[6], the deletion's seq): no key names a deleted seeker's
// id, and their older events, shredded, can no longer be read to resurrect
// them. Hashes written before seq existed kept the sequence in version: it
// stands in for seq, and the version goes on from it (still increasing; a
// rebuild renumbers from 1).
var applyScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[6]) == 1 then return 0 end
local n = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
local cur = tonumber(redis.call('HGET', KEYS[1], 'seq') or n)
local v = tonumber(ARGV[1])
if cur >= v then return 0 end
local op, val = ARGV[2], ARGV[3]
if op ~= 'delete' then redis.call('SET', KEYS[5], ARGV[5]) end
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'subjectseq', ARGV[1]) end
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
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
  redis.call('HSET', KEYS[6], 'seq', ARGV[1])
  return 1
elseif op == 'skip' then
  -- an event that can no longer be read (the seeker was deleted)
else
  return redis.error_reply('unknown op ' .. op)
end
redis.call('HSET', KEYS[1], 'version', n + 1, 'seq', ARGV[1])
return 1`)

// at is where an event about a seeker stands: its stream sequence, the
// seeker's pseudonym, and whether it is on the pseudonym's subject (false:
// a legacy profiles.seeker.<id>).
type at struct {
	seq       uint64
	pseudonym string
	own       bool
}

func (st *store) apply(ctx context.Context, g projection.Gen, id string, a at, op, val, extraKey string) error {
	keys := []string{seekerKey(g, id), employersKey(g, id), counselorsKey(g, id), notesKey(g, id), pseudonymKey(g, a.pseudonym), goneKey(g, a.pseudonym)}
	own := "0"
	if a.own {
		own = "1"
	}
	return applyScript.Run(ctx, st.rdb, keys, strconv.FormatUint(a.seq, 10), op, val, extraKey, id, own).Err()
}

// idOf is the seeker id a pseudonym stands for, as far as generation g has
// learnt it ("" when it has not: no event about the seeker could be read).
func (st *store) idOf(ctx context.Context, g projection.Gen, pseudonym string) (string, error) {
	id, err := st.rdb.Get(ctx, pseudonymKey(g, pseudonym)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return id, err
}

// head is where a seeker's record stands in the projection: the version
// a client sees, the stream sequence of the last event applied, that of
// the last one applied from the pseudonym's subject (what a write expects
// the subject to be at) and the attributes document.
type head struct {
	Version, Seq, SubjectSeq uint64
	Doc                      string // empty: no profile
}

func (st *store) head(ctx context.Context, id string) (head, error) {
	var h head
	g, err := st.proj.Current(ctx)
	if err != nil {
		return h, err
	}
	vals, err := st.rdb.HMGet(ctx, seekerKey(g, id), "doc", "version", "seq", "subjectseq").Result()
	if err != nil {
		return h, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	h.Doc, _ = vals[0].(string)
	h.Version = parseUint(vals[1])
	h.Seq = h.Version // a hash written before seq existed
	if _, ok := vals[2].(string); ok {
		h.Seq = parseUint(vals[2])
	}
	h.SubjectSeq = parseUint(vals[3]) // none: all events on a legacy subject
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
	vals, err := st.rdb.HMGet(ctx, seekerKey(g, id), "doc", "version").Result()
	if err != nil {
		return profile.Seeker{}, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	return decodeSeeker(id, vals)
}

// decodeSeeker reads a seeker's projection from its "doc" and "version"
// fields (HMGET's answer).
func decodeSeeker(id string, vals []any) (profile.Seeker, error) {
	var sk profile.Seeker
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
	rels, err := st.relationsMany(ctx, []string{id})
	if err != nil {
		return profile.Relations{Counselors: []string{}, Employers: []string{}}, err
	}
	return rels[0], nil
}

// relationsMany reads the relations of the seekers ids, in their order, in
// two Redis round trips however many they are: the projection's
// generation, then each seeker's document, counselors and employers in one
// pipeline. Notifications asks for the relations of every seeker of every
// batch of announcements; four round trips a seeker, one request a seeker,
// were most of profiles' work under a mixed load with posting writes
// (issue 14). A seeker the projection does not hold has Exists false.
func (st *store) relationsMany(ctx context.Context, ids []string) ([]profile.Relations, error) {
	g, err := st.proj.Current(ctx)
	if err != nil {
		return nil, err
	}
	type reads struct {
		doc                   *redis.SliceCmd
		counselors, employers *redis.StringSliceCmd
	}
	rs := make([]reads, len(ids))
	pipe := st.rdb.Pipeline()
	for i, id := range ids {
		rs[i] = reads{
			doc:        pipe.HMGet(ctx, seekerKey(g, id), "doc", "version"),
			counselors: pipe.SMembers(ctx, counselorsKey(g, id)),
			employers:  pipe.SMembers(ctx, employersKey(g, id)),
		}
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
		}
	}
	out := make([]profile.Relations, len(ids))
	for i, id := range ids {
		rel := profile.Relations{Counselors: []string{}, Employers: []string{}}
		sk, err := decodeSeeker(id, rs[i].doc.Val())
		switch {
		case apierr.CodeOf(err) == apierr.NotFound:
		case err != nil:
			return nil, err
		default:
			rel.Exists = true
			rel.OpenToEmployers = sk.OpenToEmployers
			rel.Counselors, rel.Employers = rs[i].counselors.Val(), rs[i].employers.Val()
			sort.Strings(rel.Counselors)
			sort.Strings(rel.Employers)
		}
		out[i] = rel
	}
	return out, nil
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

// waitGone waits until the projection has applied the deletion, at stream
// sequence seq, of the seeker with that pseudonym.
func (st *store) waitGone(ctx context.Context, pseudonym string, seq uint64, wait time.Duration) error {
	return st.awaitField(ctx, func(g projection.Gen) string { return goneKey(g, pseudonym) }, "seq", seq, wait)
}

// waitSeekerOrGone waits until the projection has applied the event at
// stream sequence seq on the seeker's subject: as their record, or as
// their deletion (pseudonym's tombstone).
func (st *store) waitSeekerOrGone(ctx context.Context, id, pseudonym string, seq uint64, wait time.Duration) error {
	return events.AwaitProjection(ctx, wait, func(ctx context.Context) (bool, error) {
		g, err := st.proj.Current(ctx)
		if err != nil {
			return false, err
		}
		pipe := st.rdb.Pipeline()
		rec := pipe.HGet(ctx, seekerKey(g, id), "seq")
		gone := pipe.HGet(ctx, goneKey(g, pseudonym), "seq")
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return false, err
		}
		r, _ := rec.Uint64()
		d, _ := gone.Uint64()
		return max(r, d) >= seq, nil
	})
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
		// A legacy seeker's events on profiles.seeker.<id> share the key of
		// their pseudonym's subject, so they apply in order too.
		Apply: func(ctx context.Context, g projection.Gen, _ int, msgs []jetstream.Msg) []error {
			return projection.ApplyByKey(ctx, msgs, 16, s.seekerKeyOf, func(ctx context.Context, m jetstream.Msg) error {
				return s.project(ctx, g, m)
			})
		},
	}
}

// seekerKeyOf orders a PROFILES event: the pseudonym of the seeker it is
// about (from a pseudonym's subject or a legacy profiles.seeker.<id>), or
// its subject.
func (s *Service) seekerKeyOf(m jetstream.Msg) string {
	if token, ok := strings.CutPrefix(m.Subject(), events.SeekerSubjectPrefix); ok {
		return s.keys.Pseudonym(token)
	}
	return m.Subject()
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
	token := strings.TrimPrefix(env.Subject, events.SeekerSubjectPrefix)
	a := at{seq: env.Sequence, pseudonym: s.keys.Pseudonym(token), own: shred.IsPseudonym(token)}
	if env.Type == events.TypeSeekerDeleted {
		return s.projectDeletion(ctx, g, token, a)
	}
	var sealed shred.Sealed
	if err := json.Unmarshal(m.Data(), &sealed); err != nil || sealed.Subject != token {
		return events.Poison("seeker event is not sealed for its subject")
	}
	var ch profile.Change
	if err := s.keys.Open(ctx, sealed, &ch); err != nil {
		switch {
		case errors.Is(err, shred.ErrShredded):
			return s.skipShredded(ctx, g, token, a)
		case errors.Is(err, shred.ErrUnreadable):
			return events.Poison("open seeker event: %v", err)
		}
		// The key not seen yet (a new stream leader) or the keyring
		// unreachable: redeliver. Dead-lettering here lost acknowledged
		// seekers on a cluster whose key-stream leader changed.
		return fmt.Errorf("open seeker event: %w", err)
	}
	id := token
	if a.own {
		id = ch.SeekerID
		if !profile.ValidID(id) || s.keys.Pseudonym(id) != token {
			return events.Poison("seeker event sealed for another seeker")
		}
	}
	return s.projectChange(ctx, g, id, a, env.Type, sealed, ch)
}

// projectDeletion shreds the seeker's keys (again: the profiles service did
// when it published the deletion), drops their projection, and erases what
// the stream still holds on their legacy subjects. token is the subject's:
// the pseudonym, or a legacy deletion's id.
func (s *Service) projectDeletion(ctx context.Context, g projection.Gen, token string, a at) error {
	id := token
	if a.own {
		var err error
		if id, err = s.store.idOf(ctx, g, token); err != nil {
			return err
		}
	}
	if err := s.keys.Shred(ctx, cmp.Or(id, token)); err != nil {
		return err
	}
	if id == "" {
		// Nothing about the seeker could be read in this generation (a
		// rebuild after the deletion): only the tombstone is written.
		return s.store.apply(ctx, g, "~", a, "delete", "", g.Key("counselor:"))
	}
	var keep uint64 // a legacy deletion stays for the other consumers
	if !a.own {
		keep = a.seq
	}
	if err := s.eraseLegacy(ctx, id, keep); err != nil {
		return err
	}
	return s.store.apply(ctx, g, id, a, "delete", "", g.Key("counselor:"))
}

// skipShredded counts an event that can no longer be read (the seeker was
// deleted) when the seeker is still known by id; otherwise it is dropped.
func (s *Service) skipShredded(ctx context.Context, g projection.Gen, token string, a at) error {
	id := token
	if a.own {
		var err error
		if id, err = s.store.idOf(ctx, g, token); err != nil || id == "" {
			return err
		}
	}
	return s.store.apply(ctx, g, id, a, "skip", "", "")
}

func (s *Service) projectChange(ctx context.Context, g projection.Gen, id string, a at, typ string, sealed shred.Sealed, ch profile.Change) error {
	switch typ {
	case events.TypeSeekerUpdated:
		if ch.Seeker == nil {
			return events.Poison("seeker update without attributes")
		}
		doc, err := json.Marshal(ch.Seeker)
		if err != nil {
			return err
		}
		return s.store.apply(ctx, g, id, a, "attrs", string(doc), "")
	case events.TypeSeekerContactUpdated:
		// Stored sealed: Redis never holds a seeker's contact details in the clear.
		data, _ := json.Marshal(sealed)
		return s.store.apply(ctx, g, id, a, "contact", string(data), "")
	case events.TypeSeekerNoteAdded:
		data, _ := json.Marshal(sealed) // kept sealed, like contact details
		return s.store.apply(ctx, g, id, a, "note", string(data), "")
	case events.TypeSeekerConsentGranted:
		return s.store.apply(ctx, g, id, a, "consent+", ch.Employer, "")
	case events.TypeSeekerConsentRevoked:
		return s.store.apply(ctx, g, id, a, "consent-", ch.Employer, "")
	case events.TypeSeekerCounselorLinked:
		return s.store.apply(ctx, g, id, a, "counselor+", ch.Counselor, caseloadKey(g, ch.Counselor))
	case events.TypeSeekerCounselorUnlinked:
		return s.store.apply(ctx, g, id, a, "counselor-", ch.Counselor, caseloadKey(g, ch.Counselor))
	}
	return events.Poison("unknown event type %q", typ)
}
