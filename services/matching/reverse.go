package matching

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/luascript"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// Redis keys of the match lists:
//
//	clerkpath:matches:<seeker>         sorted set: posting id → score
//	clerkpath:posting-matches:<posting> set of seekers whose list holds it
func listKey(seeker string) string     { return "clerkpath:matches:" + seeker }
func postingKey(posting string) string { return "clerkpath:posting-matches:" + posting }

// MatchListSize bounds a seeker's stored match list.
const MatchListSize = 200

// reverseMatch finds the seekers a new or changed posting suits, adds it to
// their lists and queues the new pairs for announcement (announce.go). The
// pairs are found in memory and written reverseChunk at a time by
// pairsScript (reverseCalls calls a round trip), which counts a pair as
// new (and queues it) only when it adds the seeker to the posting's set:
// atomic per pair, so two copies handling the same posting at once never
// both count one pair as new. Then the
// seekers the posting no longer suits (listed before, not among the pairs)
// lose it.
//
// Chunks, not one transaction of every pair (issue 14): a remote posting
// can suit 75,000 of 100,000 seekers, and one MULTI of 150,000 commands
// held about 50 MB of client-side command objects per posting in flight,
// which was much of matching's peak memory and garbage collection.
func (s *Service) reverseMatch(ctx context.Context, p posting.Posting) error {
	today := s.now()
	var at *geo.Point
	if pt, ok := p.Location.Point(); ok {
		at = &pt
	}
	listed, err := s.rdb.SMembers(ctx, postingKey(p.ID)).Result()
	if err != nil {
		return fmt.Errorf("seekers listing %s: %w", p.ID, err)
	}
	pairs := s.pairs(at, &p, today)
	defer pairs.release()
	stale := make(map[string]bool, len(listed))
	for _, id := range listed {
		stale[id] = true
	}
	w := pairWriter{posting: p.ID}
	var werr error
	pairs.each(func(pr pair) {
		if werr == nil {
			delete(stale, pr.seeker)
			werr = w.add(ctx, s.rdb, pr)
		}
	})
	if werr == nil {
		werr = w.flush(ctx, s.rdb)
	}
	if werr != nil {
		return fmt.Errorf("list %s: %w", p.ID, werr)
	}
	if len(stale) == 0 {
		return nil
	}
	// A changed posting no longer suits these seekers.
	pipe := s.rdb.Pipeline()
	for id := range stale {
		pipe.ZRem(ctx, listKey(id), p.ID)
		pipe.SRem(ctx, postingKey(p.ID), id)
		pipe.SRem(ctx, pendingKey(id), p.ID)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("unlist %s: %w", p.ID, err)
	}
	return nil
}

// reverseChunk is how many pairs one pairsScript call writes, and
// reverseCalls how many calls one round trip sends. Redis runs nothing
// else while a script runs, and every gateway request's rate limit waits
// on it: a call of 1,000 pairs held it 14 ms at the median and up to
// 325 ms in the bench (issue 14).
const (
	reverseChunk = 100
	reverseCalls = 10
)

// pairWriter writes one posting's pairs with pairsScript, reverseChunk a
// call and reverseCalls calls a round trip, reusing its calls' buffers.
type pairWriter struct {
	posting string
	calls   []luascript.Call // the first n are to send
	n       int
}

func (w *pairWriter) add(ctx context.Context, rdb *redis.Client, pr pair) error {
	if w.n == 0 || len(w.calls[w.n-1].Args) >= 1+2*reverseChunk {
		if w.n == reverseCalls {
			if err := w.flush(ctx, rdb); err != nil {
				return err
			}
		}
		if w.n == len(w.calls) {
			w.calls = append(w.calls, luascript.Call{})
		}
		c := &w.calls[w.n]
		c.Keys = append(c.Keys[:0], postingKey(w.posting), announceDue)
		c.Args = append(c.Args[:0], w.posting)
		w.n++
	}
	c := &w.calls[w.n-1]
	c.Keys = append(c.Keys, listKey(pr.seeker), pendingKey(pr.seeker))
	c.Args = append(c.Args, pr.seeker, pr.score)
	return nil
}

// flush sends the calls not sent yet (go-redis copies their keys and
// arguments, so the buffers are free again when it returns).
func (w *pairWriter) flush(ctx context.Context, rdb *redis.Client) error {
	if w.n == 0 {
		return nil
	}
	_, err := luascript.Pipelined(ctx, rdb, pairsScript, w.calls[:w.n])
	w.n = 0
	return err
}

// pairsScript writes a chunk of one posting's pairs. KEYS: the posting's set
// of seekers, the due set, then each pair's list and pending set; ARGV: the
// posting id, then each pair's seeker and score. A pair goes in the seeker's
// list; a pair whose seeker is new in the posting's set is queued for
// announcement. Lists are trimmed to MatchListSize when their announcement
// is claimed (claimScript), which the copy's flusher does within seconds
// of the batch (flushLoop). A pair is one command (ZADD) when already announced, two
// when new (and SADD to pending); the chunk's seekers are looked up in the
// posting's set and added to it and to the due set in one command each
// (SMISMEMBER, SADD): each command a script calls has its own cost, and
// pair writes were most of Redis's time in a bulk's reverse matching
// (issue 14: 100,000 pairs in 0.82–0.86 s one SADD a pair, 0.70–0.77 s so).
var pairsScript = redis.NewScript(`
local id = ARGV[1]
local seekers = {}
for i = 2, #ARGV, 2 do seekers[#seekers + 1] = ARGV[i] end
local listed = redis.call('SMISMEMBER', KEYS[1], unpack(seekers))
local new = {}
for j, seeker in ipairs(seekers) do
  redis.call('ZADD', KEYS[2 * j + 1], ARGV[2 * j + 1], id)
  if listed[j] == 0 then
    new[#new + 1] = seeker
    redis.call('SADD', KEYS[2 * j + 2], id)
  end
end
if #new > 0 then
  redis.call('SADD', KEYS[1], unpack(new))
  redis.call('SADD', KEYS[2], unpack(new))
end
return 1
`)

// noLongerSuits returns the postings among ids that are no longer in the
// index or that the seeker no longer qualifies for.
func (s *Service) noLongerSuits(ctx context.Context, seeker string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	sk, _, ok := s.seekers.View(seeker)
	if !ok {
		return ids, nil
	}
	var res meilisearch.DocumentsResult
	q := &meilisearch.DocumentsQuery{Ids: ids, Limit: int64(len(ids)), Fields: candidateAttributes}
	if err := s.mc.Index(s.index).GetDocuments(ctx, q, &res); err != nil {
		return nil, fmt.Errorf("read listed postings: %w", err)
	}
	suits := map[string]bool{}
	for _, h := range res.Results {
		var p posting.Posting
		var m postingindex.Member
		if err := h.DecodeInto(&p); err != nil {
			return nil, fmt.Errorf("decode listed posting: %w", err)
		}
		if err := h.DecodeInto(&m); err != nil {
			return nil, fmt.Errorf("decode listed posting: %w", err)
		}
		if !m.Hidden && match.Qualifies(&sk, &p) {
			suits[p.ID] = true
		}
	}
	return slices.DeleteFunc(ids, func(id string) bool { return suits[id] }), nil
}

// pair is a seeker a posting suits, with the score.
type pair struct {
	seeker string
	score  float64
}

// pairs returns the seekers a posting suits, with their scores: the
// in-memory half of a reverse match.
//
// The result is pooled: call release when done with it. A remote posting
// can suit most seekers, and allocating tens of thousands of pairs per
// posting would make the garbage collector, not the matching, the cost.
func (s *Service) pairs(at *geo.Point, p *posting.Posting, today time.Time) *pairSet {
	workers := runtime.GOMAXPROCS(0)
	ps := pairPool.Get().(*pairSet)
	for len(ps.parts) < workers {
		ps.parts = append(ps.parts, nil)
	}
	s.seekers.Scan(at, p.WorkMode == "remote", workers, func(w int, sk *match.Seeker) {
		if match.Qualifies(sk, p) {
			ps.parts[w] = append(ps.parts[w], pair{sk.ID, match.Points(sk, p, today)})
		}
	})
	return ps
}

// pairSet holds one reverse match's pairs, per scanning worker.
type pairSet struct{ parts [][]pair }

var pairPool = sync.Pool{New: func() any { return &pairSet{} }}

func (ps *pairSet) len() int {
	n := 0
	for _, p := range ps.parts {
		n += len(p)
	}
	return n
}

func (ps *pairSet) each(fn func(pair)) {
	for _, part := range ps.parts {
		for _, p := range part {
			fn(p)
		}
	}
}

func (ps *pairSet) release() {
	for i := range ps.parts {
		clear(ps.parts[i])
		ps.parts[i] = ps.parts[i][:0]
	}
	pairPool.Put(ps)
}

// listScript puts a posting in a seeker's list and, when the pair is new
// (the seeker was not in the posting's set), queues it for announcement, in
// one step: a reverse match writing the same pair at once (pairsScript)
// cannot count it as new too.
var listScript = redis.NewScript(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  redis.call('SADD', KEYS[3], ARGV[3])
  redis.call('SADD', KEYS[4], ARGV[1])
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[4]) - 1)
return 1
`)

// list puts a posting in a seeker's list (keeping the best MatchListSize).
func (s *Service) list(ctx context.Context, seeker, postingID string, score float64) error {
	return listScript.Run(ctx, s.rdb, []string{listKey(seeker), postingKey(postingID), pendingKey(seeker), announceDue},
		seeker, score, postingID, MatchListSize).Err()
}

func (s *Service) unlist(ctx context.Context, seeker, postingID string) error {
	pipe := s.rdb.TxPipeline()
	pipe.ZRem(ctx, listKey(seeker), postingID)
	pipe.SRem(ctx, postingKey(postingID), seeker)
	pipe.SRem(ctx, pendingKey(seeker), postingID)
	_, err := pipe.Exec(ctx)
	return err
}

// unlistPosting removes a closed (or hidden) posting from every list that
// holds it, unlistChunk seekers a pipelined round trip, and then forgets
// its set of seekers; a failure part way leaves the set, so the retry
// finds every seeker again. Not one MULTI: Redis would run a remote
// posting's tens of thousands of commands with nobody else served
// meanwhile (issue 14), and the MULTI did not make the removal atomic
// with a reverse match anyway (the set is read before it).
func (s *Service) unlistPosting(ctx context.Context, postingID string) error {
	seekers, err := s.rdb.SMembers(ctx, postingKey(postingID)).Result()
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(seekers, unlistChunk) {
		pipe := s.rdb.Pipeline()
		for _, sk := range chunk {
			pipe.ZRem(ctx, listKey(sk), postingID)
			pipe.SRem(ctx, pendingKey(sk), postingID)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
	}
	return s.rdb.Del(ctx, postingKey(postingID)).Err()
}

// unlistChunk is how many seekers' lists unlistPosting updates in one
// round trip.
const unlistChunk = 500

// refreshList recomputes a seeker's whole list with a forward match and
// announces the postings that are new in it. A deleted seeker's list goes.
func (s *Service) refreshList(ctx context.Context, id string) error {
	if err := s.recordConsent(ctx, id); err != nil {
		return err
	}
	if _, _, ok := s.seekers.View(id); !ok {
		old, err := s.rdb.ZRange(ctx, listKey(id), 0, -1).Result()
		if err != nil {
			return err
		}
		for _, p := range old {
			if err := s.unlist(ctx, id, p); err != nil {
				return err
			}
		}
		s.keys.Forget(id) // nothing more is sealed for them here
		pipe := s.rdb.TxPipeline()
		forgetAnnouncements(ctx, pipe, id)
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		return s.eraseAnnouncements(ctx, id)
	}
	res, err := s.forwardMatch(ctx, id, MatchListSize, true)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, r := range res.Matches {
		keep[r.PostingID] = true
		if err := s.list(ctx, id, r.PostingID, r.Score); err != nil {
			return err
		}
	}
	// What was listed and is not among the best matches now leaves only if
	// the seeker no longer qualifies for it (or it is gone): a posting a
	// reverse match listed meanwhile stays.
	old, err := s.rdb.ZRange(ctx, listKey(id), 0, -1).Result()
	if err != nil {
		return err
	}
	old = slices.DeleteFunc(old, func(p string) bool { return keep[p] })
	gone, err := s.noLongerSuits(ctx, id, old)
	if err != nil {
		return err
	}
	for _, p := range gone {
		if err := s.unlist(ctx, id, p); err != nil {
			return err
		}
	}
	if err := s.flushSeeker(ctx, id); err != nil {
		return err
	}
	// After the flush, whose claim consulted the near misses of the
	// refresh before (nearmiss.go).
	return s.rememberNearMisses(ctx, id, res.NearMisses)
}

// matchList returns a seeker's stored match list, best first.
func (s *Service) matchList(ctx context.Context, req matchingapi.MatchListRequest) (matchingapi.StoredList, error) {
	if !profile.ValidID(req.SeekerID) {
		return matchingapi.StoredList{}, apierr.InvalidFields(apierr.FieldError{Field: "seeker_id", Message: "1 to 64 letters, digits, '-' or '_'"})
	}
	zs, err := s.rdb.ZRevRangeWithScores(ctx, listKey(req.SeekerID), 0, -1).Result()
	if err != nil {
		return matchingapi.StoredList{}, apierr.Wrap(err, apierr.Unavailable, "match lists are unavailable")
	}
	out := make([]matchingapi.ListEntry, 0, len(zs))
	for _, z := range zs {
		out = append(out, matchingapi.ListEntry{PostingID: z.Member.(string), Score: z.Score})
	}
	return matchingapi.StoredList{SeekerID: req.SeekerID, Postings: out}, nil
}
