package credentials

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// store is the Redis projection of the CREDENTIALS stream (and of seekers'
// deletions in PROFILES), kept in generations (pkg/projection). Generation
// N's keys:
//
//	clerkpath:credential-records:g<N>:seeker:<seeker>  hash:
//	    seq                      the highest stream sequence applied (read-your-writes)
//	    cred:<CODE>              the credential record (JSON)
//	    credseq:<CODE>           the stream sequence that record came from
//	    ceu:<event id>           one CEU record (JSON)
//	    notified:<issuer>:<end>  days left when credentials.expiring went out for that cycle
//	clerkpath:credential-records:g<N>:seekers   set of seekers holding records (walked by the expiring scan)
//	clerkpath:credential-records:g<N>:pseudonym:<pseudonym>  the seeker's id, learnt from their
//	    sealed events; "-" once the seeker was deleted: nothing applies any more
//	clerkpath:credential-records:g<N>:legacy:<pseudonym>  set of stream sequences of the seeker's
//	    events sealed before pseudonyms (their Sealed names the id), erased on deletion
//
// Every change is idempotent: a credential is replaced only by a record from
// a later stream sequence (so redeliveries and replays, in any order, end in
// the same state), CEUs are keyed by their event id, and a deletion leaves a
// tombstone under the pseudonym (never the id) that a replay of older
// events cannot get past; a rebuild, which cannot read a deleted seeker's
// events, ends with the same tombstone. Every read
// resolves the generation first; with none (Redis lost its data) it
// answers 503 while a rebuild runs, never an empty list.
type store struct {
	rdb       *redis.Client
	proj      *projection.Projection
	pseudonym func(id string) string // the keyring's Pseudonym
}

// ProjectionName names the projection's keys: clerkpath:credential-records:….
const ProjectionName = "credential-records"

// Base names of the projection's consumers; generation N has its own,
// <name>-g<N>.
const (
	ProjectionDurable = "credentials-projection"
	DeletionsDurable  = "credentials-seeker-deletions"
)

func recordsKey(g projection.Gen, id string) string  { return g.Key("seeker:" + id) }
func seekersKey(g projection.Gen) string             { return g.Key("seekers") }
func pseudonymKey(g projection.Gen, p string) string { return g.Key("pseudonym:" + p) }
func legacyKey(g projection.Gen, p string) string    { return g.Key("legacy:" + p) }

// applyScript applies one change to KEYS[1], the records of seeker ARGV[5]
// whose pseudonym's id mapping is KEYS[3]. A deletion names the seeker by
// the mapping when ARGV[5] is empty (the deletion event names only the
// pseudonym), drops their records and leaves "-" in the mapping.
var applyScript = redis.NewScript(`
local known = redis.call('GET', KEYS[3])
if known == '-' then return 0 end
local op, seq = ARGV[2], tonumber(ARGV[1])
if op == 'delete' then
  local id = ARGV[5]
  if id == '' and known then id = known end
  if id ~= '' then
    redis.call('DEL', ARGV[6] .. id)
    redis.call('SREM', KEYS[2], id)
  end
  redis.call('SET', KEYS[3], '-')
  return 1
end
if not known then redis.call('SET', KEYS[3], ARGV[5]) end
local applied = 1
if op == 'cred' then
  local cur = tonumber(redis.call('HGET', KEYS[1], 'credseq:' .. ARGV[3]) or '0')
  if seq > cur then
    redis.call('HSET', KEYS[1], 'cred:' .. ARGV[3], ARGV[4], 'credseq:' .. ARGV[3], ARGV[1])
  else
    applied = 0
  end
elseif op == 'ceu' then
  redis.call('HSET', KEYS[1], 'ceu:' .. ARGV[3], ARGV[4])
elseif op == 'notified' then
  redis.call('HSET', KEYS[1], 'notified:' .. ARGV[3], ARGV[4])
else
  return redis.error_reply('unknown op ' .. op)
end
redis.call('SADD', KEYS[2], ARGV[5])
if seq > tonumber(redis.call('HGET', KEYS[1], 'seq') or '0') then
  redis.call('HSET', KEYS[1], 'seq', ARGV[1])
end
return applied`)

func (st *store) apply(ctx context.Context, g projection.Gen, id string, seq uint64, op, field, value string) error {
	keys := []string{recordsKey(g, id), seekersKey(g), pseudonymKey(g, st.pseudonym(id))}
	err := applyScript.Run(ctx, st.rdb, keys, strconv.FormatUint(seq, 10), op, field, value, id, recordsKey(g, "")).Err()
	if err != nil {
		return fmt.Errorf("apply %s: %w", op, err)
	}
	return nil
}

// seekerRecords is everything the projection holds about one seeker.
type seekerRecords struct {
	deleted  bool
	seq      uint64
	creds    []profile.CredentialRecord // sorted by code
	ceus     []profile.CEURecord        // sorted by date, then code
	notified map[string]bool            // "<issuer>:<cycle end>"
}

func (st *store) load(ctx context.Context, id string) (seekerRecords, error) {
	rec := seekerRecords{creds: []profile.CredentialRecord{}, ceus: []profile.CEURecord{}, notified: map[string]bool{}}
	g, err := st.proj.Current(ctx)
	if err != nil {
		return rec, err
	}
	h, err := st.rdb.HGetAll(ctx, recordsKey(g, id)).Result()
	if err != nil {
		return rec, apierr.Wrap(err, apierr.Unavailable, "credential records are unavailable")
	}
	if rec.deleted, err = st.deleted(ctx, g, id); err != nil {
		return rec, apierr.Wrap(err, apierr.Unavailable, "credential records are unavailable")
	}
	for k, v := range h {
		switch name, rest, _ := strings.Cut(k, ":"); name {
		case "seq":
			rec.seq, _ = strconv.ParseUint(v, 10, 64)
		case "cred":
			var c profile.CredentialRecord
			if err := json.Unmarshal([]byte(v), &c); err != nil {
				return rec, fmt.Errorf("decode credential projection: %w", err)
			}
			rec.creds = append(rec.creds, c)
		case "ceu":
			var c profile.CEURecord
			if err := json.Unmarshal([]byte(v), &c); err != nil {
				return rec, fmt.Errorf("decode CEU projection: %w", err)
			}
			rec.ceus = append(rec.ceus, c)
		case "notified":
			rec.notified[rest] = true
		}
	}
	slices.SortFunc(rec.creds, func(a, b profile.CredentialRecord) int { return strings.Compare(a.Code, b.Code) })
	slices.SortFunc(rec.ceus, func(a, b profile.CEURecord) int {
		if c := strings.Compare(a.On, b.On); c != 0 {
			return c
		}
		if c := strings.Compare(a.Code, b.Code); c != 0 {
			return c
		}
		return cmp.Compare(a.Hours, b.Hours)
	})
	return rec, nil
}

// waitApplied waits until the projection of seeker id has applied stream
// sequence seq, so a caller reads its own write. The generation is
// resolved on every look: a swap while waiting is harmless.
func (st *store) waitApplied(ctx context.Context, id string, seq uint64, wait time.Duration) error {
	return events.AwaitProjection(ctx, wait, func(ctx context.Context) (bool, error) {
		g, err := st.proj.Current(ctx)
		if err != nil {
			return false, err
		}
		if gone, err := st.deleted(ctx, g, id); err != nil || gone {
			return gone, err // deleted meanwhile: nothing more will apply
		}
		v, err := st.rdb.HGet(ctx, recordsKey(g, id), "seq").Uint64()
		if errors.Is(err, redis.Nil) {
			return false, nil
		}
		return v >= seq, err
	})
}

// projectionSpec is the credentials projection: per generation, one
// consumer of CREDENTIALS and one of seekers' events in PROFILES (for
// deletions).
func (s *Service) projectionSpec() projection.Spec {
	return projection.Spec{
		Name: ProjectionName,
		Consumers: []events.Consumer{
			{Stream: events.StreamCredentials, Durable: ProjectionDurable, Filters: []string{"credentials.>"}, MaxBatch: 100, Linger: 2 * time.Millisecond},
			{Stream: events.StreamProfiles, Durable: DeletionsDurable, Filters: []string{events.SeekerSubjectPrefix + ">"}, MaxBatch: 100, Linger: 2 * time.Millisecond},
		},
		// One seeker's events apply in order, different seekers' at once (a
		// replay is bound by round trips).
		Apply: func(ctx context.Context, g projection.Gen, consumer int, msgs []jetstream.Msg) []error {
			if consumer == 1 {
				return projection.ApplyByKey(ctx, msgs, 16, s.seekerKeyOf, func(ctx context.Context, m jetstream.Msg) error {
					return s.projectDeletion(ctx, g, m)
				})
			}
			return projection.ApplyByKey(ctx, msgs, 16, s.sealedSubject, func(ctx context.Context, m jetstream.Msg) error {
				return s.project(ctx, g, m)
			})
		},
	}
}

// deleted reports whether generation g has applied the seeker's deletion.
func (st *store) deleted(ctx context.Context, g projection.Gen, id string) (bool, error) {
	v, err := st.rdb.Get(ctx, pseudonymKey(g, st.pseudonym(id))).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return v == "-", err
}

func (s *Service) project(ctx context.Context, g projection.Gen, m jetstream.Msg) error {
	env := events.EnvelopeOf(m)
	var sealed shred.Sealed
	if err := json.Unmarshal(m.Data(), &sealed); err != nil || sealed.Subject == "" {
		return events.Poison("credential event is not sealed")
	}
	var ch profile.CredentialChange
	if err := s.keys.Open(ctx, sealed, &ch); err != nil {
		if errors.Is(err, shred.ErrShredded) {
			return nil // the seeker was deleted: their records are gone for good
		}
		return fmt.Errorf("open credential event: %w", err) // retried, then dead-lettered
	}
	id := ch.SeekerID
	if s.keys.Pseudonym(id) != s.keys.Pseudonym(sealed.Subject) {
		return events.Poison("credential event sealed for another seeker")
	}
	if !shred.IsPseudonym(sealed.Subject) {
		// Sealed before pseudonyms: the payload names the id. Remember it,
		// to erase it when the seeker is deleted.
		if err := s.store.rdb.SAdd(ctx, legacyKey(g, s.keys.Pseudonym(id)), env.Sequence).Err(); err != nil {
			return err
		}
	}
	return s.projectChange(ctx, g, id, env, ch)
}

func (s *Service) projectChange(ctx context.Context, g projection.Gen, id string, env events.Envelope, ch profile.CredentialChange) error {
	switch env.Subject {
	case events.CredentialsEarned:
		if ch.Credential == nil {
			return events.Poison("credentials.earned without a credential")
		}
		doc, err := json.Marshal(ch.Credential)
		if err != nil {
			return err
		}
		return s.store.apply(ctx, g, id, env.Sequence, "cred", ch.Credential.Code, string(doc))
	case events.CredentialsCEULogged:
		if ch.CEU == nil || env.ID == "" {
			return events.Poison("credentials.ceu_logged without a CEU or an event id")
		}
		doc, err := json.Marshal(ch.CEU)
		if err != nil {
			return err
		}
		return s.store.apply(ctx, g, id, env.Sequence, "ceu", env.ID, string(doc))
	case events.CredentialsExpiring:
		if ch.Expiring == nil {
			return events.Poison("credentials.expiring without a cycle")
		}
		return s.store.apply(ctx, g, id, env.Sequence, "notified", notifiedKey(ch.Expiring.Issuer, ch.Expiring.CycleEnd), strconv.Itoa(ch.Expiring.DaysLeft))
	}
	return events.Poison("unknown credentials subject %q", env.Subject)
}

// sealedSubject is the pseudonym of the seeker a credential event is
// sealed for, also for one sealed before pseudonyms (which names the id),
// so that a seeker's events apply in order ("" when it does not parse:
// project dead-letters it).
func (s *Service) sealedSubject(m jetstream.Msg) string {
	var sealed struct {
		Subject string `json:"subject"`
	}
	if json.Unmarshal(m.Data(), &sealed) != nil || sealed.Subject == "" {
		return ""
	}
	return s.keys.Pseudonym(sealed.Subject)
}

func notifiedKey(issuer, cycleEnd string) string { return issuer + ":" + cycleEnd }

// seekerKeyOf orders a seeker's profile events: by their pseudonym, also
// on a legacy profiles.seeker.<id>.
func (s *Service) seekerKeyOf(m jetstream.Msg) string {
	return s.keys.Pseudonym(strings.TrimPrefix(m.Subject(), events.SeekerSubjectPrefix))
}

// projectDeletion drops the records of a deleted seeker, from seekers'
// profile events, and securely erases their events sealed before
// pseudonyms (whose payload names the id). (Their other events stay in the
// stream, unreadable: the profiles service shreds the seeker's key.) The
// deletion names the pseudonym (or, before pseudonyms, the id): the id is
// the one the projection learnt from the seeker's events.
func (s *Service) projectDeletion(ctx context.Context, g projection.Gen, m jetstream.Msg) error {
	env := events.EnvelopeOf(m)
	if env.Type != events.TypeSeekerDeleted {
		return nil
	}
	token := strings.TrimPrefix(env.Subject, events.SeekerSubjectPrefix)
	p := s.keys.Pseudonym(token)
	if err := s.eraseLegacy(ctx, g, p); err != nil {
		return err
	}
	id := token
	if shred.IsPseudonym(token) {
		id = ""
	}
	keys := []string{recordsKey(g, id), seekersKey(g), pseudonymKey(g, p)}
	err := applyScript.Run(ctx, s.store.rdb, keys, strconv.FormatUint(env.Sequence, 10), "delete", "", "", id, recordsKey(g, "")).Err()
	if err != nil {
		return fmt.Errorf("apply delete: %w", err)
	}
	return nil
}

// eraseLegacy securely erases the deleted seeker's events sealed before
// pseudonyms from CREDENTIALS, then forgets their sequences.
func (s *Service) eraseLegacy(ctx context.Context, g projection.Gen, p string) error {
	seqs, err := s.store.rdb.SMembers(ctx, legacyKey(g, p)).Result()
	if err != nil || len(seqs) == 0 {
		return err
	}
	st, err := s.js.Stream(ctx, events.StreamCredentials)
	if err != nil {
		return fmt.Errorf("erase legacy credential events: %w", err)
	}
	for _, v := range seqs {
		seq, _ := strconv.ParseUint(v, 10, 64)
		if err := st.SecureDeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			if _, gerr := st.GetMsg(ctx, seq); !errors.Is(gerr, jetstream.ErrMsgNotFound) {
				return fmt.Errorf("erase legacy credential event %d: %w", seq, err)
			}
		}
	}
	return s.store.rdb.Del(ctx, legacyKey(g, p)).Err()
}
