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
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// store is the Redis projection of the CREDENTIALS stream:
//
//	clerkpath:credentials:<seeker>  hash:
//	    seq                      the highest stream sequence applied (read-your-writes)
//	    cred:<CODE>              the credential record (JSON)
//	    credseq:<CODE>           the stream sequence that record came from
//	    ceu:<event id>           one CEU record (JSON)
//	    notified:<issuer>:<end>  days left when credentials.expiring went out for that cycle
//	    deleted                  "1" once the seeker was deleted: nothing applies any more
//	clerkpath:credentials:seekers   set of seekers holding records (walked by the expiring scan)
//
// Every change is idempotent: a credential is replaced only by a record from
// a later stream sequence (so redeliveries and replays, in any order, end in
// the same state), CEUs are keyed by their event id, and a deletion leaves a
// tombstone that a replay of older events cannot get past.
type store struct{ rdb *redis.Client }

const (
	keyPrefix  = "clerkpath:credentials:"
	seekersKey = keyPrefix + "seekers"
)

func recordsKey(id string) string { return keyPrefix + id }

var applyScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'deleted') == 1 then return 0 end
local op, seq = ARGV[2], tonumber(ARGV[1])
if op == 'delete' then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'deleted', '1')
  redis.call('SREM', KEYS[2], ARGV[5])
  return 1
end
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

func (st *store) apply(ctx context.Context, id string, seq uint64, op, field, value string) error {
	err := applyScript.Run(ctx, st.rdb, []string{recordsKey(id), seekersKey}, strconv.FormatUint(seq, 10), op, field, value, id).Err()
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
	h, err := st.rdb.HGetAll(ctx, recordsKey(id)).Result()
	if err != nil {
		return rec, apierr.Wrap(err, apierr.Unavailable, "credential records are unavailable")
	}
	for k, v := range h {
		switch name, rest, _ := strings.Cut(k, ":"); name {
		case "deleted":
			rec.deleted = true
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
// sequence seq, so a caller reads its own write.
func (st *store) waitApplied(ctx context.Context, id string, seq uint64, wait time.Duration) error {
	return events.AwaitProjection(ctx, wait, func(ctx context.Context) (bool, error) {
		h, err := st.rdb.HMGet(ctx, recordsKey(id), "seq", "deleted").Result()
		if err != nil {
			return false, err
		}
		if d, _ := h[1].(string); d != "" {
			return true, nil // deleted meanwhile: nothing more will apply
		}
		s, _ := h[0].(string)
		v, _ := strconv.ParseUint(s, 10, 64)
		return v >= seq, nil
	})
}

// runProjection applies the CREDENTIALS stream to Redis until ctx ends.
func (s *Service) runProjection(ctx context.Context) error {
	return events.Run(ctx, s.p.JS, events.Consumer{
		Stream:   events.StreamCredentials,
		Durable:  "credentials-projection",
		Filters:  []string{"credentials.>"},
		MaxBatch: 100,
	}, s.p.Log, func(ctx context.Context, msgs []jetstream.Msg) []error {
		errs := make([]error, len(msgs))
		for i, m := range msgs {
			errs[i] = s.project(ctx, m)
		}
		return errs
	})
}

func (s *Service) project(ctx context.Context, m jetstream.Msg) error {
	env := events.EnvelopeOf(m)
	var sealed shred.Sealed
	if err := json.Unmarshal(m.Data(), &sealed); err != nil || sealed.Subject == "" {
		return events.Poison("credential event is not sealed")
	}
	id := sealed.Subject
	var ch profile.CredentialChange
	if err := s.keys.Open(ctx, sealed, &ch); err != nil {
		if errors.Is(err, shred.ErrShredded) {
			return nil // the seeker was deleted: their records are gone for good
		}
		return fmt.Errorf("open credential event: %w", err) // retried, then dead-lettered
	}
	if ch.SeekerID != id {
		return events.Poison("credential event sealed for another seeker")
	}
	switch env.Subject {
	case events.CredentialsEarned:
		if ch.Credential == nil {
			return events.Poison("credentials.earned without a credential")
		}
		doc, err := json.Marshal(ch.Credential)
		if err != nil {
			return err
		}
		return s.store.apply(ctx, id, env.Sequence, "cred", ch.Credential.Code, string(doc))
	case events.CredentialsCEULogged:
		if ch.CEU == nil || env.ID == "" {
			return events.Poison("credentials.ceu_logged without a CEU or an event id")
		}
		doc, err := json.Marshal(ch.CEU)
		if err != nil {
			return err
		}
		return s.store.apply(ctx, id, env.Sequence, "ceu", env.ID, string(doc))
	case events.CredentialsExpiring:
		if ch.Expiring == nil {
			return events.Poison("credentials.expiring without a cycle")
		}
		return s.store.apply(ctx, id, env.Sequence, "notified", notifiedKey(ch.Expiring.Issuer, ch.Expiring.CycleEnd), strconv.Itoa(ch.Expiring.DaysLeft))
	}
	return events.Poison("unknown credentials subject %q", env.Subject)
}

func notifiedKey(issuer, cycleEnd string) string { return issuer + ":" + cycleEnd }

// runDeletions follows seekers' profile events and drops the records of a
// deleted seeker. (Their events stay in the stream, unreadable: the
// profiles service shreds the seeker's key.)
func (s *Service) runDeletions(ctx context.Context) error {
	return events.Run(ctx, s.p.JS, events.Consumer{
		Stream:   events.StreamProfiles,
		Durable:  "credentials-seeker-deletions",
		Filters:  []string{events.SeekerSubjectPrefix + ">"},
		MaxBatch: 100,
	}, s.p.Log, func(ctx context.Context, msgs []jetstream.Msg) []error {
		errs := make([]error, len(msgs))
		for i, m := range msgs {
			env := events.EnvelopeOf(m)
			if env.Type != events.TypeSeekerDeleted {
				continue
			}
			id := strings.TrimPrefix(env.Subject, events.SeekerSubjectPrefix)
			errs[i] = s.store.apply(ctx, id, env.Sequence, "delete", "", "")
		}
		return errs
	})
}
