package matching

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Redis keys of the match lists:
//
//	clerkpath:matches:<seeker>         sorted set: posting id → score
//	clerkpath:posting-matches:<posting> set of seekers whose list holds it
func listKey(seeker string) string     { return "clerkpath:matches:" + seeker }
func postingKey(posting string) string { return "clerkpath:posting-matches:" + posting }

// MatchListSize bounds a seeker's stored match list.
const MatchListSize = 200

// Found is the body of a matches.found event (sealed with the seeker's key:
// which jobs match whom is personal data).
type Found struct {
	SeekerID string   `json:"seeker_id"`
	Postings []string `json:"postings"`
}

// reverseMatch finds the seekers a new or changed posting suits, adds it to
// their lists and announces the new matches. The pairs are found in memory;
// the lists are written in one Redis pipeline and the announcements
// published concurrently.
func (s *Service) reverseMatch(ctx context.Context, p posting.Posting) error {
	today := s.now()
	var at *geo.Point
	if pt, ok := p.Location.Point(); ok {
		at = &pt
	}
	listed, err := s.p.Redis.SMembers(ctx, postingKey(p.ID)).Result()
	if err != nil {
		return err
	}
	had := map[string]bool{}
	for _, id := range listed {
		had[id] = true
	}
	pairs := s.pairs(at, &p, today)
	defer pairs.release()
	pipe := s.p.Redis.TxPipeline()
	var added []string
	adds := map[string]*redis.IntCmd{}
	pairs.each(func(pr pair) {
		delete(had, pr.seeker)
		adds[pr.seeker] = pipe.ZAdd(ctx, listKey(pr.seeker), redis.Z{Score: pr.score, Member: p.ID})
		pipe.SAdd(ctx, postingKey(p.ID), pr.seeker)
		pipe.ZRemRangeByRank(ctx, listKey(pr.seeker), 0, -MatchListSize-1)
	})
	for id := range had { // a changed posting no longer suits a seeker who had it
		pipe.ZRem(ctx, listKey(id), p.ID)
		pipe.SRem(ctx, postingKey(p.ID), id)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	for id, cmd := range adds {
		if cmd.Val() > 0 {
			added = append(added, id)
		}
	}
	slices.Sort(added)
	return s.announceAll(ctx, added, p.ID)
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
	s.seekers.scan(at, p.WorkMode == "remote", workers, func(w int, sk *match.Seeker) {
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

// announceAll publishes matches.found for each seeker, a few at a time.
func (s *Service) announceAll(ctx context.Context, seekers []string, postingID string) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, id := range seekers {
		g.Go(func() error { return s.announce(ctx, id, []string{postingID}) })
	}
	return g.Wait()
}

// list puts a posting in a seeker's list; added reports a new entry.
func (s *Service) list(ctx context.Context, seeker, postingID string, score float64) (bool, error) {
	pipe := s.p.Redis.TxPipeline()
	add := pipe.ZAdd(ctx, listKey(seeker), redis.Z{Score: score, Member: postingID})
	pipe.SAdd(ctx, postingKey(postingID), seeker)
	// Keep the best MatchListSize.
	pipe.ZRemRangeByRank(ctx, listKey(seeker), 0, -MatchListSize-1)
	if _, err := pipe.Exec(ctx); err != nil {
		return false, err
	}
	return add.Val() > 0, nil
}

func (s *Service) unlist(ctx context.Context, seeker, postingID string) error {
	pipe := s.p.Redis.TxPipeline()
	pipe.ZRem(ctx, listKey(seeker), postingID)
	pipe.SRem(ctx, postingKey(postingID), seeker)
	_, err := pipe.Exec(ctx)
	return err
}

// unlistPosting removes a closed posting from every list that holds it.
func (s *Service) unlistPosting(ctx context.Context, postingID string) error {
	seekers, err := s.p.Redis.SMembers(ctx, postingKey(postingID)).Result()
	if err != nil {
		return err
	}
	pipe := s.p.Redis.TxPipeline()
	for _, sk := range seekers {
		pipe.ZRem(ctx, listKey(sk), postingID)
	}
	pipe.Del(ctx, postingKey(postingID))
	_, err = pipe.Exec(ctx)
	return err
}

func (s *Service) announce(ctx context.Context, seeker string, postings []string) error {
	sealed, err := s.keys.Seal(ctx, seeker, Found{SeekerID: seeker, Postings: postings})
	if err != nil {
		return err
	}
	id := "found:" + seeker
	for _, p := range postings {
		id += ":" + p
	}
	_, err = events.Publish(ctx, s.p.JS, events.Event{Subject: events.MatchesFound, ID: id, Source: Name, Time: s.now(), Payload: sealed})
	return err
}

// runSeekerChanges recomputes a seeker's list when their profile or
// credentials change (a durable consumer: each change is handled once,
// also across restarts).
func (s *Service) runSeekerChanges(ctx context.Context) error {
	handle := func(ctx context.Context, msgs []jetstream.Msg) []error {
		errs := make([]error, len(msgs))
		for i, m := range msgs {
			env := events.EnvelopeOf(m)
			id, err := s.applySeekerEvent(ctx, m.Subject(), env.Type, m.Data())
			if err != nil || id == "" {
				errs[i] = err
				continue
			}
			errs[i] = s.refreshList(ctx, id)
		}
		return errs
	}
	g := make(chan error, 2)
	go func() {
		g <- events.Run(ctx, s.p.JS, events.Consumer{Stream: events.StreamProfiles, Durable: "matching-seeker-changes",
			Filters: []string{events.SeekerSubjectPrefix + ">"}, MaxBatch: 50}, s.p.Log, handle)
	}()
	go func() {
		g <- events.Run(ctx, s.p.JS, events.Consumer{Stream: events.StreamCredentials, Durable: "matching-credential-changes",
			Filters: []string{events.CredentialsEarned}, MaxBatch: 50}, s.p.Log, handle)
	}()
	err1, err2 := <-g, <-g
	if err1 != nil {
		return err1
	}
	return err2
}

// refreshList recomputes a seeker's whole list with a forward match and
// announces the postings that are new in it. A deleted seeker's list goes.
func (s *Service) refreshList(ctx context.Context, id string) error {
	if _, _, ok := s.seekers.view(id, s.now()); !ok {
		old, err := s.p.Redis.ZRange(ctx, listKey(id), 0, -1).Result()
		if err != nil {
			return err
		}
		for _, p := range old {
			if err := s.unlist(ctx, id, p); err != nil {
				return err
			}
		}
		return nil
	}
	res, err := s.forwardMatch(ctx, id, MatchListSize, false)
	if err != nil {
		return err
	}
	old, err := s.p.Redis.ZRange(ctx, listKey(id), 0, -1).Result()
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	var added []string
	for _, r := range res.Matches {
		keep[r.PostingID] = true
		if !slices.Contains(old, r.PostingID) {
			added = append(added, r.PostingID)
		}
		if _, err := s.list(ctx, id, r.PostingID, r.Score); err != nil {
			return err
		}
	}
	for _, p := range old {
		if !keep[p] {
			if err := s.unlist(ctx, id, p); err != nil {
				return err
			}
		}
	}
	if len(added) > 0 {
		slices.Sort(added)
		return s.announce(ctx, id, added)
	}
	return nil
}

// ListEntry is one posting in a seeker's stored match list.
type ListEntry struct {
	PostingID string  `json:"posting_id"`
	Score     float64 `json:"score"`
}

// matchList returns a seeker's stored match list, best first.
func (s *Service) matchList(ctx context.Context, r rpc.Request) (any, error) {
	var req struct {
		SeekerID string `json:"seeker_id"`
	}
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if !profile.ValidID(req.SeekerID) {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "seeker_id", Message: "1 to 64 letters, digits, '-' or '_'"})
	}
	zs, err := s.p.Redis.ZRevRangeWithScores(ctx, listKey(req.SeekerID), 0, -1).Result()
	if err != nil {
		return nil, apierr.Wrap(err, apierr.Unavailable, "match lists are unavailable")
	}
	out := make([]ListEntry, 0, len(zs))
	for _, z := range zs {
		out = append(out, ListEntry{PostingID: z.Member.(string), Score: z.Score})
	}
	return map[string]any{"seeker_id": req.SeekerID, "postings": out}, nil
}
