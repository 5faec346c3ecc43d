package matching

import (
	"cmp"
	"context"

	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/supervise"
)

// Benchmarks of the targets, on 100,000 postings and 100,000
// seekers (BENCH_POSTINGS / BENCH_SEEKERS change the sizes). They report
// p50 and p99 latencies as custom metrics; docs/performance.md records the
// figures and the command.

// benchFixture holds the loaded service for the sub-benchmarks.
type benchFixture struct {
	s     *Service
	ids   []string
	posts []posting.Posting
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func loadBench(b *testing.B) benchFixture {
	s := newTestService(b)
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	places := zipPoints(b, s.cfg.ZCTAFile, 3000)
	start := time.Now()
	f := benchFixture{s: s.Service, posts: genPostings(r, envInt("BENCH_POSTINGS", 100_000), places, now)}
	s.loadPostings(b, f.posts)
	b.Logf("indexed %d postings in %s", len(f.posts), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	for i := range envInt("BENCH_SEEKERS", 100_000) {
		id := "s" + strconv.Itoa(i)
		s.seekers.SetAttrs(genSeeker(r, id, places), 1)
		for _, c := range pick(r, credentialPool, r.IntN(3)) {
			s.seekers.AddCredential(id, profile.CredentialRecord{Code: c, EarnedOn: "2024-01-01"}, 1)
		}
		if i < 500 {
			f.ids = append(f.ids, id)
		}
	}
	b.Logf("indexed %d seekers in %s", s.seekers.Size(), time.Since(start).Round(time.Millisecond))
	return f
}

// BenchmarkMatching runs the targets on one loaded fixture.
func BenchmarkMatching(b *testing.B) {
	f := loadBench(b)
	b.Run("forward", func(b *testing.B) { benchForward(b, f) })
	b.Run("reverse", func(b *testing.B) { benchReverse(b, f) })
	b.Run("candidate-counts", func(b *testing.B) { benchCandidateCounts(b, f) })
}

// benchCandidateCounts is one page of an employer's postings list asking
// for its candidate counts: 50 postings (the list's default page) read
// from the index and counted against the seekers index.
func benchCandidateCounts(b *testing.B, f benchFixture) {
	ctx := context.Background()
	const page = 50
	var counted int
	latencies(b, func(i int) {
		req := matchingapi.CandidateCountsRequest{}
		for j := range page {
			req.PostingIDs = append(req.PostingIDs, f.posts[(i*page+j)%len(f.posts)].ID)
		}
		res, err := f.s.candidateCounts(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range res.Counts {
			counted += n
		}
	})
	b.ReportMetric(float64(counted)/float64(b.N*page), "candidates/posting")
}

// latencies runs fn b.N times and reports p50/p99 in milliseconds.
func latencies(b *testing.B, fn func(i int)) {
	var ds []time.Duration
	b.ResetTimer()
	i := 0
	for b.Loop() {
		t0 := time.Now()
		fn(i)
		ds = append(ds, time.Since(t0))
		i++
	}
	slices.Sort(ds)
	q := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(float64(len(ds))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// benchForward compares a forward match (filter built from the
// seeker, one Meilisearch query, scoring and explaining the pool) with the
// raw Meilisearch search it runs, same filter, same pool size.
func benchForward(b *testing.B, f benchFixture) {
	s, benchIDs := f.s, f.ids
	ctx := context.Background()
	if err := s.postings.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	// The searches a forward match sends, as the bench command's baseline
	// builds them (ForwardSearches): the candidates, then the near misses.
	searches := make([][]meilisearch.SearchRequest, len(benchIDs))
	for i, id := range benchIDs {
		sk, attrs, _ := s.seekers.View(id)
		searches[i] = ForwardSearches(sk, attrs, s.postings.Vocabulary(), true)
	}
	raw := func(n int) func(i int) {
		return func(i int) {
			for _, q := range searches[i%len(searches)][:n] {
				if _, err := s.mc.Index(s.index).SearchRaw(ctx, "", &q); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("raw-meilisearch", func(b *testing.B) { latencies(b, raw(1)) })
	b.Run("raw-meilisearch-both-in-turn", func(b *testing.B) { latencies(b, raw(2)) })
	b.Run("clerkpath", func(b *testing.B) {
		latencies(b, func(i int) {
			if _, err := s.forwardMatch(ctx, benchIDs[i%len(benchIDs)], DefaultMatches, false); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("clerkpath-with-near-misses", func(b *testing.B) {
		latencies(b, func(i int) {
			if _, err := s.forwardMatch(ctx, benchIDs[i%len(benchIDs)], DefaultMatches, true); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// benchReverse finds the seekers one new posting suits among all
// seekers in the index: "pairs" is the in-memory search and scoring,
// "with-redis" adds writing the matches into the seekers' lists.
func benchReverse(b *testing.B, f benchFixture) {
	s := f.s
	ctx := context.Background()
	now := time.Now()
	ps := f.posts[:min(1000, len(f.posts))]
	b.Run("pairs", func(b *testing.B) {
		var found int
		latencies(b, func(i int) {
			p := ps[i%len(ps)]
			var at *geo.Point
			if pt, ok := p.Location.Point(); ok {
				at = &pt
			}
			ps := s.pairs(at, &p, now)
			found += ps.len()
			ps.release()
		})
		b.ReportMetric(float64(found)/float64(b.N), "matches/posting")
	})
	match := func(b *testing.B, ps []posting.Posting) {
		defer redisCPU(b, s)()
		latencies(b, func(i int) {
			if err := s.reverseMatch(ctx, ps[i%len(ps)]); err != nil {
				b.Fatal(err)
			}
			// What the copy's flusher does after a batch (here a batch of
			// one, flushed at once as after a quiet spell): publish the
			// queued announcements.
			if err := s.flushAnnouncements(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.Run("with-redis", func(b *testing.B) { match(b, ps) })
	// The steady state of a large index: every seeker's list already
	// holds their best MatchListSize among the postings not matched here
	// (those after the first 2,000), and the postings matched are new.
	if len(f.posts) < 3*len(ps) {
		return
	}
	fresh := f.posts[len(ps) : 2*len(ps)]
	filled := false
	b.Run("with-redis-full-lists", func(b *testing.B) {
		if !filled { // once, not for each run of b.N
			fillLists(b, s, f.posts[2*len(ps):], now)
			filled = true
		}
		match(b, fresh)
	})
}

// fillLists stores, for every seeker, their best MatchListSize pairs among
// posts, as if each had been reverse matched: the pairs are found in
// memory and written in pipelined round trips.
func fillLists(b *testing.B, s *Service, posts []posting.Posting, now time.Time) {
	ctx := context.Background()
	start := time.Now()
	type entry struct {
		posting string
		score   float64
	}
	best := map[string][]entry{}
	keep := func(es []entry) []entry {
		slices.SortFunc(es, func(a, b entry) int { return cmp.Compare(b.score, a.score) })
		return es[:min(len(es), MatchListSize)]
	}
	for _, p := range posts {
		var at *geo.Point
		if pt, ok := p.Location.Point(); ok {
			at = &pt
		}
		ps := s.pairs(at, &p, now)
		for _, part := range ps.parts {
			for _, pr := range part {
				es := append(best[pr.seeker], entry{p.ID, pr.score})
				if len(es) >= 2*MatchListSize {
					es = keep(es)
				}
				best[pr.seeker] = es
			}
		}
		ps.release()
	}
	pipe := s.rdb.Pipeline()
	n := 0
	for seeker, es := range best {
		for _, e := range keep(es) {
			pipe.ZAdd(ctx, listKey(seeker), redis.Z{Score: e.score, Member: e.posting})
			pipe.SAdd(ctx, postingKey(e.posting), seeker)
			n++
		}
		pipe.ZRemRangeByRank(ctx, listKey(seeker), 0, -MatchListSize-1)
		if pipe.Len() > 10_000 {
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d lists with %d pairs in %s", len(best), n, time.Since(start).Round(time.Millisecond))
}

// redisCPU reports the redis-server's CPU time (user and system, from
// /proc) per operation as redis-cpu-ms/op: what the operation cost Redis,
// which every copy and service shares. The Redis is the package's, so
// nothing else may run meanwhile (benchmarks run one at a time).
func redisCPU(b *testing.B, s *Service) func() {
	info, err := s.rdb.Info(context.Background(), "server").Result()
	if err != nil {
		b.Fatal(err)
	}
	var pid int
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	start, err := supervise.CPUTime(pid)
	if err != nil {
		b.Fatal(err)
	}
	return func() {
		end, err := supervise.CPUTime(pid)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64((end-start).Microseconds())/1000/float64(b.N), "redis-cpu-ms/op")
	}
}

// BenchmarkSeekerIndexWrite is the cost of applying one seeker's profile
// and one credential to the in-memory index: what a replay at start pays
// per seeker.
func BenchmarkSeekerIndexWrite(b *testing.B) {
	s := newTestService(b)
	r := rand.New(rand.NewPCG(5, 6))
	places := zipPoints(b, s.cfg.ZCTAFile, 3000)
	n := 0
	for b.Loop() {
		id := "w" + strconv.Itoa(n)
		s.seekers.SetAttrs(genSeeker(r, id, places), 1)
		s.seekers.AddCredential(id, profile.CredentialRecord{Code: "CCA", EarnedOn: "2024-01-01"}, 1)
		n++
	}
}
