package matching

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/luascript"
	"github.com/clerkpath/clerkpath/pkg/shred"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// Announcements of new matches go through an outbox in Redis, so that each
// new (seeker, posting) pair is announced once: not lost when a publish
// fails, not doubled by a redelivery, a restart or a second copy.
//
//	clerkpath:announce:pending:<seeker> set: posting ids new in the seeker's list, not yet announced
//	clerkpath:announce:out:<seeker>     string "<n> <id> <id>…": the announcement being published
//	clerkpath:announce:seq:<seeker>     counter: n of the seeker's last announcement
//	clerkpath:announce:sent:<seeker>    set: MATCHES stream sequences of the seeker's legacy announcements
//	clerkpath:announce:due              set: seekers with pending or outgoing announcements
//
// A posting enters pending in the same Redis script call that puts it in
// the seeker's list. Flushing claims the pending set atomically as one
// numbered announcement (out, "<n> ~<token> <posting ids>", the token
// random) whose id is found:<token>, publishes it, then deletes out. A
// flush that fails or dies after the claim leaves out in place; the next
// flush, in this copy or another, publishes the same announcement under
// the same id.
//
// A flush chunk's announcements are published together: one
// matches.found.batch message (matchingapi.FoundBatch) holds up to
// flushChunk seekers' entries, each sealed with its own seeker's key and
// carrying its own id, so a chunk costs one stored (fsynced) message, not
// one per seeker. The message id is a digest of the entry ids: a retry of
// the same announcements is dropped by JetStream's duplicate window; a
// retry that bundles them with others is a new message, and consumers
// handle each entry id once (notifications' seen flags).
//
// Neither the entry ids nor the bundle's message id name a seeker, and an
// entry names only the seeker's pseudonym: once the seeker's key is
// shredded their entries are unreadable ciphertext in bundles that stay,
// since they hold other seekers' entries (docs/privacy.md). Announcements
// published one per message before bundles (matches.found) were erased
// individually: their stream sequences are kept (sent) and a deleted
// seeker's are securely erased (eraseAnnouncements). An announcement
// claimed before tokens (its id names the seeker) is still published that
// way.
const announceDue = "clerkpath:announce:due"

// AnnouncementsDue is how many seekers have announcements queued and not
// yet published: reverse matching acknowledges a batch once its
// announcements are queued, and the flusher publishes them after.
func AnnouncementsDue(ctx context.Context, rdb redis.Cmdable) (int64, error) {
	return rdb.SCard(ctx, announceDue).Result()
}

func pendingKey(seeker string) string { return "clerkpath:announce:pending:" + seeker }
func outKey(seeker string) string     { return "clerkpath:announce:out:" + seeker }
func seqKey(seeker string) string     { return "clerkpath:announce:seq:" + seeker }
func sentKey(seeker string) string    { return "clerkpath:announce:sent:" + seeker }

// sentKeep is how long an announcement's sequence is kept: as long as the
// MATCHES stream keeps the announcement, and a day more.
const sentKeep = events.MatchesMaxAge + 24*time.Hour

// claimScript claims the announcements of up to claimPerCall seekers, in
// order, until it has done claimWork units of work (a seeker, a posting
// pending, an entry trimmed from the list), so that a call holds Redis
// about as long whether the seekers have one posting pending (a trickle)
// or hundreds (after a bulk): the seekers after the one that passed the
// budget are left to the next call. For each seeker claimed: their
// outgoing announcement, or one made from their pending postings if there
// is none. It returns two values a seeker claimed: the body and 1 when it
// was already outgoing (left by a flush that failed or stopped: pending
// may hold more), the body and 0 when it was just made, "" and 0 when
// there is nothing to announce (and the seeker leaves the due set). Each
// seeker's list is first trimmed to its best ARGV[1] (MatchListSize):
// since session 17 reverse matching and refreshes keep lists to that size
// themselves (pairsScript, listScript), so this only cuts back lists stored
// before; a posting it cuts stays in its set of seekers, which costs that
// posting's unlisting one command that finds nothing.
// KEYS: the due set, then each seeker's pending, out, seq, near and list;
// ARGV: MatchListSize, the work budget, then each seeker's id and new
// token.
//
// Many seekers a call, not one (issue 14): a call's own cost (its keys and
// arguments read, the script entered) was about what its commands cost,
// and under a trickle of postings (a flush per posting) claims were most
// of Redis's time per new posting. The near misses (at most MaxNearMisses)
// are read whole, not looked up posting by posting: a seeker's pending
// postings after a bulk are hundreds.
var claimScript = redis.NewScript(`
local keep, budget = -tonumber(ARGV[1]) - 1, tonumber(ARGV[2])
local res, work = {}, 0
for j = 1, (#ARGV - 2) / 2 do
  local k = 5 * (j - 1) + 1
  local pending, out, seq, near = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  work = work + 1 + redis.call('ZREMRANGEBYRANK', KEYS[k + 5], 0, keep)
  local body = redis.call('GET', out)
  local outgoing = 0
  if body then
    outgoing = 1
  else
    local ps = redis.call('SMEMBERS', pending)
    work = work + #ps
    if #ps == 0 then
      redis.call('SREM', KEYS[1], ARGV[2 * j + 1])
      body = ''
    else
      table.sort(ps)
      local n = redis.call('INCR', seq)
      body = n .. ' ~' .. ARGV[2 * j + 2] .. ' ' .. table.concat(ps, ' ')
      local was, nearby = {}, redis.call('HGETALL', near)
      for i = 1, #nearby, 2 do was[nearby[i]] = nearby[i + 1] end
      for _, p in ipairs(ps) do
        if was[p] then
          body = body .. ' ^' .. p .. '=' .. was[p]
          redis.call('HDEL', near, p)
        end
      end
      redis.call('SET', out, body)
      redis.call('DEL', pending)
    end
  end
  res[#res + 1] = body
  res[#res + 1] = outgoing
  if work >= budget then break end
end
return res
`)

// doneScript deletes announcements once published (each only if it is
// still the one published), and takes each seeker out of the due set when
// nothing new is pending: in the same step, so a pair queued meanwhile
// keeps them due. KEYS: the due set, then each seeker's out and pending;
// ARGV: each seeker's published body and id.
//
// Before (issue 14), a seeker left the due set only when a claim found
// nothing, so every flush claimed each seeker twice, the second time
// for nothing: 60 % of the claims in a bulk's reverse matching (426,000
// claims for 170,000 announcements at 3,000 postings and 10,000 seekers).
var doneScript = redis.NewScript(`
for j = 1, #ARGV / 2 do
  local out, pending = KEYS[2 * j], KEYS[2 * j + 1]
  if redis.call('GET', out) == ARGV[2 * j - 1] then
    redis.call('DEL', out)
    if redis.call('SCARD', pending) == 0 then redis.call('SREM', KEYS[1], ARGV[2 * j]) end
  end
end
return 1
`)

// claimPerCall is how many seekers one claimScript or doneScript call
// handles at most, and claimWork how much work a claim call does before
// it leaves the rest of its seekers to the next (claimScript). Redis runs
// nothing else meanwhile: a claim is about ten commands, more for a seeker
// with many postings pending (after a bulk). Calls of 50 seekers held
// Redis 18 ms at the median and up to 206 ms while a bulk's reverse
// matching settled, calls of 20 seekers 17 and 207 ms (issue 14): the
// seekers then had hundreds of postings pending each. With the budget at
// 1,000, 14 and 127 ms; at 500, 15 and 27 ms, and a bulk's claims were
// no longer longer than its pair writes (bin/clerkpath bench --postings
// 3000 --seekers 10000 --until ingest, the Redis line).
const (
	claimPerCall = 20
	claimWork    = 500
)

// flushAnnouncements publishes every due announcement, in chunks of
// flushChunk seekers, flushParallel chunks at once: one pipelined Redis
// round trip claims a chunk's announcements, they are sealed and published
// asynchronously, awaited, and cleared in one more round trip. It fails if
// any publish failed; what failed stays due.
func (s *Service) flushAnnouncements(ctx context.Context) error {
	due, err := s.rdb.SMembers(ctx, announceDue).Result()
	if err != nil {
		return fmt.Errorf("announcements due: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(flushParallel)
	for len(due) > 0 {
		chunk := due[:min(flushChunk, len(due))]
		due = due[len(chunk):]
		g.Go(func() error { return s.flushChunk(gctx, chunk) })
	}
	return g.Wait()
}

const flushChunk = 500

// flushParallel is how many chunks a flush works on at once. Chunks hold
// different seekers, so they are independent; one after another, a chunk's
// Redis round trips and its publish's fsynced acknowledgement left
// matching idle between them (issue 14: a remote posting new to 75,000 of
// 100,000 seekers is 150 chunks).
const flushParallel = 3

// flushChunk publishes the outgoing and then the pending announcements of
// some seekers: one pass, and a second for the seekers whose claim found
// an outgoing one left by a failed flush (their pending postings follow).
func (s *Service) flushChunk(ctx context.Context, seekers []string) error {
	// The scripts are called by their digest (luascript.Pipelined, which
	// loads them into a Redis that does not have them): sending a script's
	// text with each call (EVAL) cost Redis a digest of the text per call
	// and the client a copy (issue 14: claiming was most of a flush's
	// client-side time at 100,000 seekers).
	for range 2 {
		work, again, err := s.claimAnnouncements(ctx, seekers)
		if err != nil || len(work) == 0 {
			return err
		}
		if err := s.publishAnnouncements(ctx, work); err != nil {
			return err
		}
		seekers = again
	}
	return nil
}

// claimed is one seeker's claimed announcement (the outbox's out body).
type claimed struct{ seeker, body string }

// claimAnnouncements claims the announcements of some seekers
// (claimScript, claimPerCall seekers a call, the calls pipelined; the
// seekers a call left for its work budget in a next round trip): each
// seeker's outgoing one, or one made of their pending postings. again are
// the seekers whose claim was an outgoing one: they may have pending
// postings too.
func (s *Service) claimAnnouncements(ctx context.Context, seekers []string) (work []claimed, again []string, err error) {
	for todo := seekers; len(todo) > 0; {
		var calls []luascript.Call
		for chunk := range slices.Chunk(todo, claimPerCall) {
			c := luascript.Call{Keys: make([]string, 0, 1+5*len(chunk)), Args: make([]any, 0, 2+2*len(chunk))}
			c.Keys = append(c.Keys, announceDue)
			c.Args = append(c.Args, s.listSize, claimWork)
			for _, id := range chunk {
				c.Keys = append(c.Keys, pendingKey(id), outKey(id), seqKey(id), nearKey(id), listKey(id))
				c.Args = append(c.Args, id, announcementToken())
			}
			calls = append(calls, c)
		}
		cmds, err := luascript.Pipelined(ctx, s.rdb, claimScript, calls)
		if err != nil {
			return nil, nil, fmt.Errorf("claim announcements: %w", err)
		}
		var left []string
		for k, cmd := range cmds {
			chunk := todo[k*claimPerCall : min((k+1)*claimPerCall, len(todo))]
			reply, err := cmd.Slice()
			if err != nil || len(reply) == 0 || len(reply)%2 != 0 || len(reply) > 2*len(chunk) {
				return nil, nil, fmt.Errorf("claim announcements: %d values for %d seekers (%v)", len(reply), len(chunk), err)
			}
			claimedHere := len(reply) / 2
			for j, id := range chunk[:claimedHere] {
				body, _ := reply[2*j].(string)
				if body == "" {
					continue
				}
				work = append(work, claimed{id, body})
				if outgoing, _ := reply[2*j+1].(int64); outgoing == 1 {
					again = append(again, id)
				}
			}
			left = append(left, chunk[claimedHere:]...)
		}
		todo = left
	}
	return work, again, nil
}

// publishAnnouncements seals each claimed announcement with its seeker's
// key, publishes them bundled (publishBundles; an announcement claimed
// before tokens alone, as matches.found, publishLegacy), and clears the
// published ones from the outbox in one round trip. A deleted seeker's is
// cleared unpublished: nobody to tell. It fails if anything failed; what
// failed stays claimed and is published under the same id next time.
func (s *Service) publishAnnouncements(ctx context.Context, work []claimed) error {
	entries := make([]matchingapi.SealedFound, len(work))
	legacy := make([]bool, len(work))
	errs := make([]error, len(work))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i, w := range work {
		g.Go(func() error {
			id, tokened, postings, near := parseAnnouncement(w.seeker, w.body)
			sealed, err := s.keys.Seal(gctx, w.seeker, matchingapi.Found{SeekerID: w.seeker, Postings: postings, WasNearMiss: near})
			entries[i], legacy[i], errs[i] = matchingapi.SealedFound{ID: id, Sealed: sealed}, !tokened, err
			return nil
		})
	}
	_ = g.Wait()
	var bundled, single []int
	for i := range work {
		switch {
		case errs[i] != nil:
		case legacy[i]:
			single = append(single, i)
		default:
			bundled = append(bundled, i)
		}
	}
	seqs := s.publishLegacy(ctx, entries, single, errs)
	s.publishBundles(ctx, entries, bundled, errs)
	var failed error
	var done []luascript.Call
	pipe := s.rdb.Pipeline()
	for i, w := range work {
		if errs[i] != nil && !errors.Is(errs[i], shred.ErrShredded) {
			failed = fmt.Errorf("announce matches to %s: %w", w.seeker, errs[i])
			continue
		}
		if len(done) == 0 || len(done[len(done)-1].Args) == 2*claimPerCall {
			done = append(done, luascript.Call{Keys: []string{announceDue}})
		}
		c := &done[len(done)-1]
		c.Keys = append(c.Keys, outKey(w.seeker), pendingKey(w.seeker))
		c.Args = append(c.Args, w.body, w.seeker)
		if seqs[i] != 0 {
			pipe.SAdd(ctx, sentKey(w.seeker), seqs[i])
			pipe.Expire(ctx, sentKey(w.seeker), sentKeep)
		}
	}
	// The legacy announcements' sequences first: once done, an
	// announcement is not published again, so its sequence must be kept.
	if pipe.Len() > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("announcements published; keep their sequences: %w", err)
		}
	}
	if _, err := luascript.Pipelined(ctx, s.rdb, doneScript, done); err != nil {
		return fmt.Errorf("announcements published; clear them: %w", err)
	}
	return failed
}

// bundleMaxBytes bounds a bundle's payload, below NATS's default
// max_payload (1 MiB) with room for the headers: a chunk whose
// announcements are long (many postings each) is split.
const bundleMaxBytes = 512 << 10

// publishBundles publishes the entries at idx in as few matches.found.batch
// messages as fit bundleMaxBytes, ordered by id, each under a message id
// derived from its entries' ids: a retried flush of the same announcements
// is the same message, which JetStream's duplicate window drops. A failed
// publish is the error of each of its entries.
func (s *Service) publishBundles(ctx context.Context, entries []matchingapi.SealedFound, idx []int, errs []error) {
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(entries[a].ID, entries[b].ID) })
	var groups [][]int
	size := 0
	for _, i := range idx {
		n := len(entries[i].ID) + len(entries[i].Sealed.Subject) + base64.StdEncoding.EncodedLen(len(entries[i].Sealed.Data)) + 48
		if len(groups) == 0 || size+n > bundleMaxBytes {
			groups, size = append(groups, nil), 0
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], i)
		size += n
	}
	futs := make([]jetstream.PubAckFuture, len(groups))
	gerrs := make([]error, len(groups))
	for g, group := range groups {
		b := matchingapi.FoundBatch{Announcements: make([]matchingapi.SealedFound, len(group))}
		for k, i := range group {
			b.Announcements[k] = entries[i]
		}
		futs[g], gerrs[g] = events.PublishAsync(s.js, events.Event{Subject: matchingapi.MatchesFoundBatch.Subject, ID: bundleID(b),
			Source: Name, Time: s.now(), Payload: b})
	}
	for g, group := range groups {
		if futs[g] != nil {
			_, gerrs[g] = events.Await(ctx, s.js, matchingapi.MatchesFoundBatch.Subject, futs[g])
		}
		for _, i := range group {
			errs[i] = gerrs[g]
		}
	}
}

// bundleID is a bundle's message id: a digest of its entries' ids (which
// name no seeker).
func bundleID(b matchingapi.FoundBatch) string {
	h := sha256.New()
	for _, a := range b.Announcements {
		h.Write([]byte(a.ID))
		h.Write([]byte{0})
	}
	return "found-batch:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// publishLegacy publishes announcements claimed before tokens (their id
// names the seeker) alone, as matches.found, as they were first published,
// and returns the stream sequences (by index into entries) to erase when
// the seeker is deleted.
func (s *Service) publishLegacy(ctx context.Context, entries []matchingapi.SealedFound, idx []int, errs []error) []uint64 {
	seqs := make([]uint64, len(entries))
	futs := make([]jetstream.PubAckFuture, len(entries))
	for _, i := range idx {
		futs[i], errs[i] = events.PublishAsync(s.js, events.Event{Subject: matchingapi.MatchesFound.Subject, ID: entries[i].ID,
			Source: Name, Time: s.now(), Payload: entries[i].Sealed})
	}
	for _, i := range idx {
		if futs[i] != nil {
			var ack *jetstream.PubAck
			if ack, errs[i] = events.Await(ctx, s.js, events.MatchesFound, futs[i]); ack != nil {
				seqs[i] = ack.Sequence
			}
		}
	}
	return seqs
}

// flushSeeker publishes one seeker's outgoing and pending announcements.
func (s *Service) flushSeeker(ctx context.Context, seeker string) error {
	return s.flushChunk(ctx, []string{seeker})
}

// announcementToken is the random part of a new announcement's message id.
func announcementToken() string {
	return rand.Text()
}

// parseAnnouncement reads a claimed announcement ("<n> ~<token> <ids…>
// ^<id>=<codes>…") into its id, posting ids and the postings that were
// near misses (nearmiss.go). An announcement claimed before tokens ("<n>
// <ids…>") keeps the id it was first published under (tokened false).
func parseAnnouncement(seeker, body string) (id string, tokened bool, postings []string, near []matchingapi.FormerNearMiss) {
	f := strings.Fields(body)
	for i := len(f) - 1; i >= 0 && strings.HasPrefix(f[i], "^"); i-- {
		if nm, ok := formerNearMiss(f[i]); ok {
			near = append([]matchingapi.FormerNearMiss{nm}, near...)
		}
		f = f[:i]
	}
	if len(f) > 1 && strings.HasPrefix(f[1], "~") {
		return "found:" + f[1][1:], true, f[2:], near
	}
	if len(f) == 0 {
		return "found:" + seeker, false, nil, near
	}
	return "found:" + seeker + ":" + f[0], false, f[1:], near
}

// forgetAnnouncements drops a deleted seeker's queued announcements.
func forgetAnnouncements(ctx context.Context, pipe redis.Pipeliner, seeker string) {
	pipe.Del(ctx, pendingKey(seeker), outKey(seeker), seqKey(seeker), nearKey(seeker))
	pipe.SRem(ctx, announceDue, seeker)
}

// eraseAnnouncements securely erases a deleted seeker's announcements from
// the MATCHES stream (overwritten on disk, not only marked deleted), then
// forgets their sequences. One already gone (aged out) is skipped. Only
// single-seeker messages are recorded: a bundle holds other seekers'
// entries, and the deleted seeker's is unreadable once their key is
// shredded.
func (s *Service) eraseAnnouncements(ctx context.Context, seeker string) error {
	seqs, err := s.rdb.SMembers(ctx, sentKey(seeker)).Result()
	if err != nil {
		return fmt.Errorf("announcements sent: %w", err)
	}
	if len(seqs) > 0 {
		stream, err := s.js.Stream(ctx, matchingapi.MatchesFound.Stream)
		if err != nil {
			return fmt.Errorf("erase announcements: %w", err)
		}
		for _, v := range seqs {
			seq, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			if err := stream.SecureDeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
				return fmt.Errorf("erase announcement %d: %w", seq, err)
			}
		}
	}
	return s.rdb.Del(ctx, sentKey(seeker)).Err()
}

// runReverse follows JOBS on its own durable consumer: each new or changed
// posting is matched against the seekers in memory, its pairs written to
// the match lists, and the new ones queued in the outbox (pending, due).
// The batch (up to ReverseBatch postings or ReverseLinger after the first)
// is acknowledged once they are queued; the copy's flusher (flushLoop,
// which runReverse owns) then announces them, coalesced per seeker: one
// announcement per seeker per flush, carrying every new posting id queued
// since the last, bundled up to flushChunk seekers per message.
//
// What a failed publish leaves due stays due, and the next flush, in this
// copy or another, publishes it; the outbox is in Redis, so a copy that
// stops after the acknowledgement and before the flush loses nothing
// (another copy's flusher finds it due within FlushEvery).
func (s *Service) runReverse(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		s.flushLoop(ctx)
	}()
	err := events.Run(ctx, s.js, events.Consumer{
		Stream:     events.StreamJobs,
		Durable:    ReverseDurable,
		Filters:    []string{ingestapi.Posted.Subject, ingestapi.Updated.Subject, ingestapi.Closed.Subject, ingestapi.Stale.Subject},
		MaxBatch:   ReverseBatch,
		Linger:     ReverseLinger,
		MaxDeliver: ReverseMaxDeliver,
		AckWait:    ReverseAckWait,
	}, s.log, s.reverseBatch)
	stop()
	<-flushed
	return err
}

// awaitIndexed waits until the indexer has handled every event of the
// batch: a posting is matched and announced only once it is searchable, so
// that an announced posting can be opened, and a seeker's list refresh
// (a forward match, in Meilisearch) never sees fewer postings than the
// reverse matches that wrote the list. It fails after IndexWait.
//
// Then, while the indexer has a backlog of y.backlog events or more (a
// bulk ingest), it yields: matching the batch, writing the lists, sealing
// and publishing the announcements (and notifications handling them) take
// the same cores Meilisearch indexes with, and a posting counts as
// ingested once it is searchable (issue 14: at 2,000 postings and seekers
// ingest to searchable took 0.46 of the raw add's speed beside reverse
// matching, 0.77 before reverse matching was fast enough to keep up with
// the indexer). The yield ends at yieldDeadline: at most y.bound after the
// batch's oldest event was stored, so announcements are delayed, never
// starved, and a batch redelivered or read after a restart (its events
// already old) does not yield at all. Batches waiting in the pull's buffer
// meanwhile have their deadlines too, so yields do not add up batch after
// batch (ReverseAckWait covers them). The backlog is read from the
// indexer's consumer info, one request per yieldPoll: a stale answer can
// only end the yield early or keep it to its deadline, and the batch's own
// events, once seen indexed, stay indexed (the ack floor never goes back).
func (s *Service) awaitIndexed(ctx context.Context, msgs []jetstream.Msg, y yielding) error {
	last, oldest := batchSpan(msgs)
	start := time.Now()
	until := yieldDeadline(start, oldest, y.bound)
	indexed := false
	delay := 5 * time.Millisecond
	for {
		info, err := s.indexerInfo(ctx)
		if err == nil && info.AckFloor.Stream >= last {
			indexed = true
		}
		if indexed && (y.backlog <= 0 || (err == nil && backlog(info) < uint64(y.backlog)) || !time.Now().Before(until)) {
			return nil
		}
		if !indexed && time.Since(start) > IndexWait {
			if err == nil {
				err = fmt.Errorf("indexer at stream sequence %d", info.AckFloor.Stream)
			}
			return fmt.Errorf("postings up to stream sequence %d not indexed after %s: %w", last, IndexWait, err)
		}
		if indexed {
			delay = min(yieldPoll, max(time.Until(until), time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		if !indexed {
			delay = min(2*delay, 100*time.Millisecond)
		}
	}
}

// yielding is how reverse matching yields to the indexer (awaitIndexed).
type yielding struct {
	backlog int           // the indexer's backlog at which to yield; 0: never yield
	bound   time.Duration // how long after the batch's oldest event was stored the yield ends
}

// yieldDeadline is when a batch stops yielding: bound after its oldest
// event was stored, never later than bound from now (a clock behind the
// server's) nor before now.
func yieldDeadline(now, oldest time.Time, bound time.Duration) time.Time {
	until := oldest.Add(bound)
	if until.After(now.Add(bound)) {
		return now.Add(bound)
	}
	if until.Before(now) {
		return now
	}
	return until
}

// batchSpan is the last stream sequence of a batch and when its oldest
// event was stored (now when the metadata says nothing).
func batchSpan(msgs []jetstream.Msg) (last uint64, oldest time.Time) {
	oldest = time.Now()
	for _, m := range msgs {
		if md, err := m.Metadata(); err == nil {
			last = max(last, md.Sequence.Stream)
			if md.Timestamp.Before(oldest) {
				oldest = md.Timestamp
			}
		}
	}
	return last, oldest
}

// indexerInfo reads the indexer's consumer info (jobsConsumerInfo).
func (s *Service) indexerInfo(ctx context.Context) (*jetstream.ConsumerInfo, error) {
	return s.jobsConsumerInfo(ctx, postingindex.Durable)
}

// jobsConsumerInfo reads the info of a JOBS consumer (one JetStream API
// request), within consumerInfoTimeout.
func (s *Service) jobsConsumerInfo(ctx context.Context, durable string) (*jetstream.ConsumerInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, consumerInfoTimeout)
	defer cancel()
	c, err := s.js.Consumer(ctx, events.StreamJobs, durable)
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", durable, err)
	}
	return c.CachedInfo(), nil
}

// backlog is how many events a consumer has not acknowledged: not yet
// delivered, or delivered and not yet handled (the indexer acknowledges a
// batch once its Meilisearch task succeeded, so this counts the postings
// Meilisearch is still indexing too).
func backlog(info *jetstream.ConsumerInfo) uint64 {
	return info.NumPending + uint64(max(info.NumAckPending, 0))
}

// flushLoop is the copy's flusher: it publishes what is due when a
// reverse batch wakes it (wakeFlusher), and every FlushEvery what a failed
// publish (or another copy that stopped) left due. Flushes are paced: one
// starts FlushMinGap after the last ended at the soonest, or FlushPerBusy
// times as long as the last took (at most FlushMaxGap), so that what
// reverse batches queue meanwhile goes out together, each seeker claimed
// and told once for all of it (issue 14: a flush after every reverse
// batch, four a second under the bench's mixed load, claimed, sealed,
// published and notified the same seekers four times a second; each
// remote posting is new to most of them). A posting alone, after a quiet
// spell, is flushed as soon as its batch is matched. One flusher a copy:
// two copies may flush the same seeker at once, which publishes the same
// announcement twice under one id (the outbox's claim), dropped as a
// duplicate.
//
// While reverse matching works through a bulk (holdForBulk), the flusher
// holds what is due for up to FlushHoldMax after its last flush began.
func (s *Service) flushLoop(ctx context.Context) {
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	var next, last time.Time // no flush starts before next; last: when the last began
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.floors.sweep() // at most once a floorTTL
		case <-s.flushWake:
		}
		if wait := time.Until(next); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		if n, err := s.rdb.SCard(ctx, announceDue).Result(); err != nil || n == 0 {
			continue
		}
		if s.holdForBulk(ctx, last) {
			next = time.Now().Add(FlushMinGap) // look again then, or at the next tick
			continue
		}
		start := time.Now()
		if err := s.flushAnnouncements(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("announcements still due; will retry")
		}
		last, next = start, time.Now().Add(flushGap(time.Since(start)))
	}
}

// holdForBulk says whether the flusher holds what is due: while reverse
// matching's consumer has a backlog of s.hold.backlog postings or more (a
// bulk), until s.hold.most after the last flush began. Its first flush is
// never held, nor one when the backlog cannot be read (a hold only saves
// work; it is never needed).
//
// Why (issue 14): in a bulk, the postings come in no order of score, so
// lists churn: most postings that enter a seeker's best 200 are pushed out
// again by better ones later in the bulk (about 830 entries a seeker at
// 100,000 × 100,000, for 200 that stay). Flushed every few seconds, each
// seeker was claimed, told and notified about once per entry (88,000
// claims against 116,000 postings pushed out of lists in 15 s of that
// run). Held, a seeker is told once per hold of all that entered and is
// still listed; what was pushed out meanwhile is never announced
// (pairsScript takes it out of pending). The postings of a bulk wait in its queue anyway, so the hold
// adds at most FlushHoldMax to announcements that are already late, and
// none to a posting written alone.
func (s *Service) holdForBulk(ctx context.Context, last time.Time) bool {
	if s.hold.backlog <= 0 || last.IsZero() || time.Since(last) >= s.hold.most {
		return false
	}
	info, err := s.jobsConsumerInfo(ctx, ReverseDurable)
	return err == nil && backlog(info) >= uint64(s.hold.backlog)
}

// bulkHold is when the flusher holds announcements (holdForBulk).
type bulkHold struct {
	backlog int           // the reverse consumer's backlog that counts as a bulk; 0: never hold
	most    time.Duration // the longest hold after a flush began
}

// flushGap is how long after a flush that took took the next may start.
func flushGap(took time.Duration) time.Duration {
	return min(max(FlushMinGap, FlushPerBusy*took), FlushMaxGap)
}

// wakeFlusher has the flusher flush what is due (at its pace).
func (s *Service) wakeFlusher() {
	select {
	case s.flushWake <- struct{}{}:
	default: // already woken
	}
}

// ReverseDurable is reverse matching's consumer of JOBS.
const ReverseDurable = "matching-reverse"

// Coalescing of announcements.
const (
	ReverseBatch      = 200
	ReverseLinger     = 250 * time.Millisecond
	ReverseMaxDeliver = 1000
	FlushEvery        = 2 * time.Second
	// Pacing of the flusher (flushLoop).
	FlushMinGap  = time.Second
	FlushPerBusy = 3
	FlushMaxGap  = 5 * time.Second
	// Holding announcements through a bulk (holdForBulk): two reverse
	// batches behind is a bulk (a posting written alone is a backlog of
	// one; 30 writes a second, the bench's mixed load at 200/s, are about
	// eight a ReverseLinger), and a hold lasts at most FlushHoldMax after
	// the last flush began.
	FlushHoldBacklog = 2 * ReverseBatch
	FlushHoldMax     = 30 * time.Second
	// IndexWait bounds how long a batch waits for the indexer before it
	// fails and is redelivered.
	IndexWait = 20 * time.Second
)

// Yielding to the indexer (awaitIndexed).
const (
	// YieldBacklog is the indexer's backlog (JOBS events not yet
	// acknowledged by postingindex.Durable) at which reverse matching
	// yields: a bulk ingest, not the trickle of postings written one at a
	// time, whose batches the indexer takes within a second.
	YieldBacklog = 100
	// YieldMax bounds the yield: a batch goes ahead once its oldest event
	// was stored YieldMax ago, whatever the backlog.
	YieldMax = 30 * time.Second
	// yieldPoll is how often a yielding batch reads the indexer's consumer
	// info (a JetStream API request each).
	yieldPoll = 250 * time.Millisecond
	// consumerInfoTimeout bounds one read of a JOBS consumer's info (the
	// indexer's, reverse matching's own).
	consumerInfoTimeout = 2 * time.Second
	// ReverseAckWait is the reverse consumer's AckWait. A batch in the
	// handler is kept alive (events.Consumer), but the batches behind it in
	// the pull's buffer are not: they wait out the one before (up to
	// IndexWait, or its yield, and its matching) and their own yield ends
	// with it, so 30 s would have them delivered again while they wait.
	// The cost: a batch held by a copy that stops is delivered to another
	// ReverseAckWait later.
	ReverseAckWait = 2 * time.Minute
)

// reverseBatch is the reverse consumer's handler: it yields to the
// indexer's backlog of YieldBacklog events for up to YieldMax.
func (s *Service) reverseBatch(ctx context.Context, msgs []jetstream.Msg) []error {
	return s.reverseBatchYielding(ctx, msgs, yielding{backlog: YieldBacklog, bound: YieldMax})
}

func (s *Service) reverseBatchYielding(ctx context.Context, msgs []jetstream.Msg, y yielding) []error {
	errs := make([]error, len(msgs))
	if err := s.awaitIndexed(ctx, msgs, y); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	var clusters []string
	for i, m := range msgs {
		if m.Subject() == events.JobsClosed || m.Subject() == events.JobsStale {
			id, err := postingindex.ClosedID(m.Data())
			if err != nil {
				continue // the indexer dead-letters it
			}
			cluster, err := s.closeListed(ctx, id)
			errs[i] = wrap("remove closed posting from match lists", err)
			if cluster != "" {
				clusters = append(clusters, cluster)
			}
			continue
		}
		var ev ingestapi.JobEvent
		if err := json.Unmarshal(m.Data(), &ev); err != nil || !postingindex.ValidID(ev.ID) {
			continue // the indexer dead-letters it
		}
		cluster := cmp.Or(ev.ClusterID, ev.ID)
		errs[i] = wrap("remember the cluster of "+ev.ID, s.rdb.Set(ctx, postingClusterKey(ev.ID), cluster, 0).Err())
		clusters = append(clusters, cluster)
	}
	if err := s.matchClusters(ctx, clusters); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	// The new pairs are queued in the outbox (pending, due): the flusher
	// publishes them, and whatever it fails to publish stays due until it
	// succeeds, in this copy or another, so the batch need not wait.
	s.wakeFlusher()
	return errs
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
