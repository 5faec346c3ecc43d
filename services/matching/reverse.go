package matching

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"strconv"
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

// MatchListSize bounds a seeker's stored match list (Service.listSize,
// which tests make small).
const MatchListSize = 200

// reverseMatch finds the seekers a new or changed posting suits and puts
// it in the lists it enters: a seeker's list holds their best listSize
// postings, so a posting scoring below a full list's lowest is neither
// listed nor announced, and one that enters a full list pushes the lowest
// out (unannounced, if it was still pending). What is stored is then
// bounded by seekers × listSize, not postings × seekers (issue 14: at
// 100,000 × 100,000 about 475 million pairs, which one Redis could
// neither hold nor write in time). The pairs are found in memory; a pair
// the floors cache (floors.go) knows cannot enter is skipped, and the rest
// are written reverseChunk at a time by pairsScript, reverseCalls calls a
// round trip, which decides and queues each one atomically: two copies
// handling the same posting at once never both count one pair as new. The
// seekers the posting no longer suits (listed before, not among the pairs)
// lose it.
//
// Chunks, not one transaction of every pair (issue 14): a remote posting
// can suit 75,000 of 100,000 seekers, and one MULTI of 150,000 commands
// held about 50 MB of client-side command objects per posting in flight,
// which was much of matching's peak memory and garbage collection.
func (s *Service) reverseMatch(ctx context.Context, p posting.Posting) error {
	today := s.now()
	listed, err := s.rdb.SMembers(ctx, postingKey(p.ID)).Result()
	if err != nil {
		return fmt.Errorf("seekers listing %s: %w", p.ID, err)
	}
	pairs := s.pairs(siteOf(&p), &p, today)
	defer pairs.release()
	stale := make(map[string]bool, len(listed))
	for _, id := range listed {
		stale[id] = true
	}
	if err := s.writePairs(ctx, p.ID, stale, pairs.all()); err != nil {
		return fmt.Errorf("list %s: %w", p.ID, err)
	}
	if len(stale) == 0 {
		return nil
	}
	// A changed posting no longer suits these seekers.
	pipe := s.rdb.Pipeline()
	ids := make([]string, 0, len(stale))
	for id := range stale {
		ids = append(ids, id)
		pipe.ZRem(ctx, listKey(id), p.ID)
		pipe.SRem(ctx, postingKey(p.ID), id)
		pipe.SRem(ctx, pendingKey(id), p.ID)
	}
	s.floors.forget(ids...)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("unlist %s: %w", p.ID, err)
	}
	return nil
}

// writePairs writes a posting's pairs (pairsScript). listed holds the
// seekers whose list held the posting before; the seekers of the pairs
// are taken out of it, so what is left is the seekers it no longer suits.
// A pair whose seeker did not list it and whose score the seeker's floor
// turns away is not sent.
func (s *Service) writePairs(ctx context.Context, postingID string, listed map[string]bool, pairs iter.Seq[pair]) error {
	w := pairWriter{posting: postingID, size: s.listSize}
	var todo []pair
	s.floors.view(func(below func(string, float64) bool) {
		for pr := range pairs {
			was := listed[pr.seeker]
			delete(listed, pr.seeker)
			if was || !below(pr.seeker, pr.score) {
				todo = append(todo, pr)
			}
		}
	})
	for _, pr := range todo {
		if err := w.add(ctx, s, pr); err != nil {
			return err
		}
	}
	return w.flush(ctx, s)
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
	size    int
	calls   []luascript.Call // the first n are to send
	n       int
	evicted []eviction
}

// An eviction is a posting pushed out of a seeker's full list.
type eviction struct{ seeker, posting string }

func (w *pairWriter) add(ctx context.Context, s *Service, pr pair) error {
	if w.n == 0 || len(w.calls[w.n-1].Args) >= 2+2*reverseChunk {
		if w.n == reverseCalls {
			if err := w.flush(ctx, s); err != nil {
				return err
			}
		}
		if w.n == len(w.calls) {
			w.calls = append(w.calls, luascript.Call{})
		}
		c := &w.calls[w.n]
		c.Keys = append(c.Keys[:0], postingKey(w.posting), announceDue)
		c.Args = append(c.Args[:0], w.posting, w.size)
		w.n++
	}
	c := &w.calls[w.n-1]
	c.Keys = append(c.Keys, listKey(pr.seeker), pendingKey(pr.seeker))
	c.Args = append(c.Args, pr.seeker, pr.score)
	return nil
}

// flush sends the calls not sent yet (go-redis copies their keys and
// arguments, so the buffers are free again when it returns), learns the
// floors of the full lists they met, and takes each seeker whose list
// pushed a posting out out of that posting's set.
func (w *pairWriter) flush(ctx context.Context, s *Service) error {
	if w.n == 0 {
		return nil
	}
	cmds, err := luascript.Pipelined(ctx, s.rdb, pairsScript, w.calls[:w.n])
	if err != nil {
		w.n = 0
		return err
	}
	for i, cmd := range cmds {
		res, err := cmd.StringSlice()
		if err != nil {
			w.n = 0
			return fmt.Errorf("pairs written: %w", err)
		}
		args := w.calls[i].Args
		for j := 0; 2*j+1 < len(res) && 2*j+3 < len(args); j++ {
			seeker := args[2*j+2].(string)
			if f := res[2*j]; f != "" {
				if v, err := strconv.ParseFloat(f, 64); err == nil {
					s.floors.learn(seeker, v)
				}
			}
			if e := res[2*j+1]; e != "" {
				w.evicted = append(w.evicted, eviction{seeker, e})
			}
		}
	}
	w.n = 0
	err = s.forgetEvicted(ctx, w.evicted)
	w.evicted = w.evicted[:0]
	return err
}

// pairsScript writes a chunk of one posting's pairs. KEYS: the posting's set
// of seekers, the due set, then each pair's list and pending set; ARGV: the
// posting id, the list size, then each pair's seeker and score. A posting
// the list holds has its score updated. Otherwise it enters when the list
// has room or it beats the list's lowest, which then leaves the list and,
// if not yet announced, the seeker's pending set; an entering posting is
// queued for announcement, and its seeker added to the posting's set and
// the due set. Returns, for each pair, the list's floor when it is full
// (after the pair: in a bulk, floors rise fast, and a floor learnt before
// the pair entered turned away, at 100,000 × 100,000, two pairs sent for
// each that entered) or empty, and the posting pushed out (empty when
// none): the caller remembers the floors (floors.go) and takes each seeker
// out of the set of the posting it pushed out (evictScript). Each command
// a script calls has its own cost: a pair the list already holds is three
// (its new score may lower the floor, which the caller must then learn), a
// pair turned away two, one entering a full list seven.
var pairsScript = redis.NewScript(`
local id, size = ARGV[1], tonumber(ARGV[2])
local res, new = {}, {}
for j = 1, (#ARGV - 2) / 2 do
  local list, pending = KEYS[2 * j + 1], KEYS[2 * j + 2]
  local seeker, score = ARGV[2 * j + 1], ARGV[2 * j + 2]
  local floor, out = '', ''
  if redis.call('ZSCORE', list, id) then
    redis.call('ZADD', list, score, id)
    floor = redis.call('ZRANGE', list, -size, -size, 'WITHSCORES')[2] or ''
  else
    local low = redis.call('ZRANGE', list, -size, -size, 'WITHSCORES')
    local enter = true
    if #low > 0 then
      floor = low[2]
      enter = tonumber(score) > tonumber(floor)
    end
    if enter then
      redis.call('ZADD', list, score, id)
      if #low > 0 then
        out = redis.call('ZPOPMIN', list)[1]
        redis.call('SREM', pending, out)
        floor = redis.call('ZRANGE', list, -size, -size, 'WITHSCORES')[2] or ''
      end
      redis.call('SADD', pending, id)
      new[#new + 1] = seeker
    end
  end
  res[#res + 1] = floor
  res[#res + 1] = out
end
if #new > 0 then
  redis.call('SADD', KEYS[1], unpack(new))
  redis.call('SADD', KEYS[2], unpack(new))
end
return res
`)

// evictScript takes seekers out of the sets of postings their lists pushed
// out, unless the list holds the posting again by then (a refresh may have
// put it back). KEYS: each eviction's list and posting set; ARGV: each
// eviction's seeker and posting.
var evictScript = redis.NewScript(`
for j = 1, #ARGV / 2 do
  if not redis.call('ZSCORE', KEYS[2 * j - 1], ARGV[2 * j]) then
    redis.call('SREM', KEYS[2 * j], ARGV[2 * j - 1])
  end
end
return 1
`)

// forgetEvicted runs evictScript over evictions, evictChunk a call.
func (s *Service) forgetEvicted(ctx context.Context, evs []eviction) error {
	if len(evs) == 0 {
		return nil
	}
	var calls []luascript.Call
	for chunk := range slices.Chunk(evs, evictChunk) {
		var c luascript.Call
		for _, e := range chunk {
			c.Keys = append(c.Keys, listKey(e.seeker), postingKey(e.posting))
			c.Args = append(c.Args, e.seeker, e.posting)
		}
		calls = append(calls, c)
	}
	if _, err := luascript.Pipelined(ctx, s.rdb, evictScript, calls); err != nil {
		return fmt.Errorf("forget postings pushed out of lists: %w", err)
	}
	return nil
}

const evictChunk = 200

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

func (ps *pairSet) all() iter.Seq[pair] {
	return func(yield func(pair) bool) {
		for _, part := range ps.parts {
			for _, p := range part {
				if !yield(p) {
					return
				}
			}
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
// cannot count it as new too. A list longer than its size then loses its
// lowest postings (unannounced, if still pending), which it returns: the
// caller takes the seeker out of their sets (evictScript).
// KEYS: the list, the posting's set, the pending set, the due set; ARGV:
// the seeker, the score, the posting, the list size.
var listScript = redis.NewScript(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  redis.call('SADD', KEYS[3], ARGV[3])
  redis.call('SADD', KEYS[4], ARGV[1])
end
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
local out = {}
if over > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[1], over)
  for i = 1, #popped, 2 do
    out[#out + 1] = popped[i]
    redis.call('SREM', KEYS[3], popped[i])
  end
end
return out
`)

// list puts a posting in a seeker's list (keeping the best listSize).
func (s *Service) list(ctx context.Context, seeker, postingID string, score float64) error {
	out, err := listScript.Run(ctx, s.rdb, []string{listKey(seeker), postingKey(postingID), pendingKey(seeker), announceDue},
		seeker, score, postingID, s.listSize).StringSlice()
	if err != nil {
		return err
	}
	evs := make([]eviction, len(out))
	for i, p := range out {
		evs[i] = eviction{seeker, p}
	}
	return s.forgetEvicted(ctx, evs)
}

func (s *Service) unlist(ctx context.Context, seeker, postingID string) error {
	s.floors.forget(seeker)
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
		s.floors.forget(chunk...)
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
	s.floors.forget(id)
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
	res, err := s.forwardMatch(ctx, id, s.listSize, true)
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
