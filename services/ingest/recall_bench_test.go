package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// BenchmarkNearDuplicateRecall measures how many near-duplicates clusters
// finds among remembered postings: N postings with random SimHashes are
// remembered in the band sets, then 300 postings, each a remembered one's
// hash with 0, 3 or 6 bits flipped, are clustered one at a time (no
// neighbour in their own batch). It reports the share whose remembered
// original was found (recall-dN) at N = 1,000, 10,000 and 100,000
// (BENCH_REMEMBERED overrides the largest). Random hashes are the easy
// case: real postings' hashes crowd together.
//
// `cd services/ingest && go test -run '^$' -bench NearDuplicateRecall -benchtime 1x .`
func BenchmarkNearDuplicateRecall(b *testing.B) {
	srv := testenv.Open(b, testenv.Needs{Redis: true})
	d := &store{rdb: srv.Redis}
	ctx := context.Background()
	for _, n := range []int{1000, 10_000, testenv.EnvInt(b, "BENCH_REMEMBERED", 100_000)} {
		b.Run(fmt.Sprintf("remembered=%d", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, uint64(n)))
			if err := srv.Redis.FlushDB(ctx).Err(); err != nil {
				b.Fatal(err)
			}
			hashes := make([]uint64, n)
			pipe := srv.Redis.Pipeline()
			for i := range hashes {
				hashes[i] = r.Uint64()
				id := "s" + strconv.Itoa(i)
				pipe.HSet(ctx, postingKey(id), "simhash", strconv.FormatUint(hashes[i], 10), "cluster", id)
				for band := range bands {
					pipe.SAdd(ctx, bandKey(band, hashes[i]), id)
				}
				if pipe.Len() >= 40_000 {
					if _, err := pipe.Exec(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				for _, dist := range []int{0, 3, 6} {
					const q = 300
					found := 0
					for k := range q {
						j := r.IntN(n)
						h := hashes[j]
						for _, bit := range r.Perm(64)[:dist] {
							h ^= 1 << bit
						}
						p := posting.Posting{ID: "q" + strconv.Itoa(k), SimHash: h, Title: "q" + strconv.Itoa(k)}
						out, err := d.clusters(ctx, []posting.Posting{p}, []known{{}})
						if err != nil {
							b.Fatal(err)
						}
						if out[0] == "s"+strconv.Itoa(j) {
							found++
						}
					}
					b.ReportMetric(float64(found)/q, fmt.Sprintf("recall-d%d", dist))
				}
			}
		})
	}
}
