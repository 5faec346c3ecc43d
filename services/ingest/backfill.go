package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
)

// Postings accepted before the per-organisation sets existed (the open set
// that sync=true reads, the organisation's list) are in neither, and their
// records name no organisation. backfillOpenSets puts every open posting
// in them, from the source of truth: the JOBS stream (each posting's
// organisation is its events' employer_id) and the record (whether it is
// still open). It runs once per deployment, at the start of the lifecycle
// loop, and is idempotent: each posting is one Lua step that changes
// nothing for a posting already in its sets, so two copies may run it at
// once, and a posting closed meanwhile (its record says so) is left out.
//
//	clerkpath:ingest:backfill:open-sets   "done" once a backfill finished
const backfillDoneKey = "clerkpath:ingest:backfill:open-sets"

// backfillScript records one posting as its organisation's, if it is open
// (a version and no closed status) and names no other organisation.
//
//	KEYS: the posting's record, the org's open set, the org's list
//	ARGV: id, org, list member, title, identifier, date posted, first seen (unix)
var backfillScript = redis.NewScript(`
local fp = redis.call('HGET', KEYS[1], 'fingerprint')
local status = redis.call('HGET', KEYS[1], 'status')
if not fp or fp == '' or (status and status ~= '' and status ~= 'open') then return 0 end
local org = redis.call('HGET', KEYS[1], 'org')
if org and org ~= '' and org ~= ARGV[2] then return 0 end
local added = 0
if not org or org == '' then
  redis.call('HSET', KEYS[1], 'org', ARGV[2])
  redis.call('HSETNX', KEYS[1], 'title', ARGV[4])
  redis.call('HSETNX', KEYS[1], 'identifier', ARGV[5])
  redis.call('HSETNX', KEYS[1], 'date_posted', ARGV[6])
  redis.call('HSETNX', KEYS[1], 'first_seen', ARGV[7])
  redis.call('ZADD', KEYS[3], 0, ARGV[3])
  added = 1
end
return added + redis.call('SADD', KEYS[2], ARGV[1])
`)

// seenPosting is what the backfill learns of a posting from JOBS.
type seenPosting struct {
	org, title, identifier, datePosted string
	firstSeen                          time.Time
}

// backfillOpenSets runs the backfill unless it is done, and reports how
// many postings it added to a set.
func (s *Service) backfillOpenSets(ctx context.Context) (int, error) {
	if done, err := s.store.rdb.Exists(ctx, backfillDoneKey).Result(); err != nil || done == 1 {
		return 0, err
	}
	seen, err := s.postingsInJobs(ctx)
	if err != nil {
		return 0, err
	}
	added := 0
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	for len(ids) > 0 {
		chunk := ids[:min(500, len(ids))]
		ids = ids[len(chunk):]
		pipe := s.store.rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(chunk))
		for i, id := range chunk {
			p := seen[id]
			cmds[i] = backfillScript.Eval(ctx, pipe, []string{postingKey(id), orgOpenKey(p.org), orgListKey(p.org)},
				id, p.org, listMember(p.firstSeen, id), p.title, p.identifier, p.datePosted, p.firstSeen.Unix())
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return added, fmt.Errorf("backfill the open sets: %w", err)
		}
		for _, c := range cmds {
			n, _ := c.Int()
			added += min(n, 1)
		}
	}
	return added, s.store.rdb.Set(ctx, backfillDoneKey, "done", 0).Err()
}

// backfillReaderIdle is when the server drops the backfill's reader should
// this copy stop before deleting it.
const backfillReaderIdle = 30 * time.Second

// postingsInJobs reads every jobs.posted and jobs.updated event: each
// posting's organisation and listing fields, and when it was first seen.
func (s *Service) postingsInJobs(ctx context.Context) (map[string]seenPosting, error) {
	out := map[string]seenPosting{}
	cons, err := s.js.OrderedConsumer(ctx, events.StreamJobs, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{ingestapi.Posted.Subject, ingestapi.Updated.Subject}, DeliverPolicy: jetstream.DeliverAllPolicy,
		InactiveThreshold: backfillReaderIdle})
	if err != nil {
		return nil, fmt.Errorf("backfill: read JOBS: %w", err)
	}
	// The reader is done when this returns: delete it rather than leave
	// it on JOBS, counting every later posting as pending, until its
	// inactivity threshold (a whole-stack test found it so, 1 pending).
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if info := cons.CachedInfo(); info != nil {
			_ = s.js.DeleteConsumer(dctx, events.StreamJobs, info.Name)
		}
	}()
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("backfill: read JOBS: %w", err)
	}
	empty := 0
	for left := info.NumPending; left > 0; {
		batch, err := cons.FetchNoWait(500)
		if err != nil {
			return nil, fmt.Errorf("backfill: read JOBS: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return nil, fmt.Errorf("backfill: read JOBS: %w", err)
			}
			left = md.NumPending
			var ev ingestapi.JobEvent
			if json.Unmarshal(m.Data(), &ev) != nil || ev.ID == "" || ev.EmployerID == "" {
				continue
			}
			p, ok := out[ev.ID]
			if !ok {
				p.firstSeen = md.Timestamp
			}
			p.org, p.title, p.identifier = ev.EmployerID, ev.Title, ev.Identifier
			p.datePosted = ev.DatePosted.UTC().Format(time.RFC3339)
			out[ev.ID] = p
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, fmt.Errorf("backfill: read JOBS: %w", err)
		}
		if n == 0 {
			if empty++; empty > 50 {
				return nil, fmt.Errorf("backfill: JOBS stopped delivering with %d events left", left)
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return out, nil
}
