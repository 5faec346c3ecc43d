package matching

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/supervise"
	"github.com/clerkpath/clerkpath/pkg/testenv"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// BenchmarkIndexGrowth adds generated postings (benchPostingDocs) to an
// index with the postings index's settings, BENCH_STEP at a time (default
// 50,000, in tasks of 1,000 enqueued together) up to BENCH_POSTINGS
// (default 100,000), and logs for each step the wall time, Meilisearch's
// CPU, its resident memory (VmRSS, and VmHWM so far) and its database's
// size on disk; then what one task of one new posting costs at the
// final size (five such tasks). BENCH_BUDGET (default 30m) stops it after
// the step that passes it, logging how far it got: the scaling curve's
// 1,000,000 point (issue 14) is this run with BENCH_POSTINGS=1000000.
//
// `BENCH_POSTINGS=1000000 go test -run '^$' -bench IndexGrowth -benchtime 1x -timeout 3h -v .`
func BenchmarkIndexGrowth(b *testing.B) {
	srv := testenv.Open(b, testenv.Needs{Meili: true})
	ctx := context.Background()
	total := testenv.EnvInt(b, "BENCH_POSTINGS", 100_000)
	step := testenv.EnvInt(b, "BENCH_STEP", 50_000)
	budget := 30 * time.Minute
	if v := os.Getenv("BENCH_BUDGET"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("BENCH_BUDGET: %v", err)
		}
		budget = d
	}
	uid := srv.Config.IndexPrefix + "growth"
	if err := meili.EnsureIndex(ctx, srv.Meili, postingindex.Settings(uid)); err != nil {
		b.Fatal(err)
	}
	add := func(docs []postingindex.Document, per int) {
		var tasks []*meilisearch.TaskInfo
		for i := 0; i < len(docs); i += per {
			info, err := srv.Meili.Index(uid).UpdateDocumentsNdjson(ctx, postingindex.NDJSON(docs[i:min(i+per, len(docs))]), nil)
			if err != nil {
				b.Fatal(err)
			}
			tasks = append(tasks, info)
		}
		for _, t := range tasks {
			if err := meili.Wait(ctx, srv.Meili, t); err != nil {
				b.Fatal(err)
			}
		}
	}
	for b.Loop() {
		start := time.Now()
		indexed := 0
		for indexed < total && time.Since(start) < budget {
			n := min(step, total-indexed)
			docs := benchPostingDocs(b, srv.Config.ZCTAFile, n, uint64(indexed+1), fmt.Sprintf("g%d-", indexed/step))
			cpu0, err := supervise.CPUTime(srv.MeiliPID)
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			add(docs, 1000)
			took := time.Since(t0)
			cpu1, err := supervise.CPUTime(srv.MeiliPID)
			if err != nil {
				b.Fatal(err)
			}
			indexed += n
			rss, err := supervise.MemoryMB(srv.MeiliPID, "VmRSS")
			if err != nil {
				b.Fatal(err)
			}
			hwm, err := supervise.MemoryMB(srv.MeiliPID, "VmHWM")
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%7d postings: step of %d in %6.1f s, Meilisearch CPU %6.1f s, RSS %5.0f MB (peak %5.0f MB), database %6d MB, elapsed %v",
				indexed, n, took.Seconds(), (cpu1 - cpu0).Seconds(), rss, hwm, dirMB(srv.MeiliDB), time.Since(start).Round(time.Second))
		}
		if indexed < total {
			b.Logf("stopped at %d of %d postings: BENCH_BUDGET %v passed", indexed, total, budget)
		}
		docs := benchPostingDocs(b, srv.Config.ZCTAFile, 5, 999_999, "new-")
		cpu0, _ := supervise.CPUTime(srv.MeiliPID)
		t0 := time.Now()
		for i := range docs {
			add(docs[i:i+1], 1)
		}
		cpu1, _ := supervise.CPUTime(srv.MeiliPID)
		b.Logf("one new posting a task at %d postings: %.0f ms a task, Meilisearch CPU %.0f ms a task", indexed,
			float64(time.Since(t0).Milliseconds())/5, float64((cpu1-cpu0).Milliseconds())/5)
	}
}

// dirMB is the size of the files under dir in MB (allocated blocks are
// not counted: LMDB's files are sparse until written).
func dirMB(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n >> 20
}
