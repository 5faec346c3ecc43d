package postingindex

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/seedgen"
	"github.com/clerkpath/clerkpath/pkg/supervise"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// BenchmarkTaskCost is what one Meilisearch task costs Meilisearch on an
// index of BENCH_POSTINGS generated postings (default 10,000): each op
// updates DOCS postings (sub-benchmark) in one task and waits for it, or
// adds DOCS new ones (docs=5-new);
// meili-cpu-ms/op is Meilisearch's CPU over the ops (from /proc). It
// runs with the index's own settings (a site as plain numbers), with _geo
// filterable and sortable as the index had it before session 14 (what
// Meilisearch's geo index costs a task; issue 14: the indexer's
// MinInterval), and with Meilisearch's facet search on (the index has it
// off). One Meilisearch serves every sub-benchmark, an
// index each.
//
// `go test -run '^$' -bench TaskCost -benchtime 20x .`
func BenchmarkTaskCost(b *testing.B) {
	srv := testenv.Open(b, testenv.Needs{Meili: true})
	ctx := context.Background()
	places, err := seedgen.ReadPlacesFile(srv.Config.ZCTAFile)
	if err != nil {
		b.Fatalf("ZIP centroids (run deployments/local/install.sh): %v", err)
	}
	n := testenv.EnvInt(b, "BENCH_POSTINGS", 10_000)
	// n postings are indexed first; the rest are new postings, added five
	// a task as a trickle of posting writes is (docs=5-new).
	ps := seedgen.Postings(rand.New(rand.NewPCG(1, 2)), n+2_500, seedgen.Spread(places, 300), time.Now())
	docs := make([]Document, len(ps))
	for i := range ps {
		ps[i].ID = fmt.Sprintf("p%06d", i)
		if docs[i], _, err = Doc(ps[i], Field{Key: "employer_id", Value: "org-1"}); err != nil {
			b.Fatal(err)
		}
	}
	add := func(uid string, ds []Document) {
		info, err := srv.Meili.Index(uid).UpdateDocumentsNdjson(ctx, NDJSON(ds), nil)
		if err == nil {
			err = meili.Wait(ctx, srv.Meili, info)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	withGeo := func(xs []string) []string {
		return append(slices.DeleteFunc(slices.Clone(xs), func(x string) bool { return x == match.FieldLat || x == match.FieldLon }), "_geo")
	}
	for _, settings := range []string{"index", "with facet search", "with _geo"} {
		uid := srv.Config.IndexPrefix + "cost" + strconv.Itoa(len(settings))
		ix := Settings(uid)
		switch settings {
		case "with _geo":
			ix.Settings.FilterableAttributes = withGeo(ix.Settings.FilterableAttributes)
			ix.Settings.SortableAttributes = withGeo(ix.Settings.SortableAttributes)
		case "with facet search":
			ix.Settings.FacetSearch = true
		}
		if err := meili.EnsureIndex(ctx, srv.Meili, ix); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < n; i += 1000 {
			add(uid, docs[i:min(i+1000, n)])
		}
		fresh := n // the next generated posting not yet in the index
		for _, c := range []struct {
			per int
			new bool
		}{{1, false}, {20, false}, {5, true}} {
			name := fmt.Sprintf("settings=%s/docs=%d", settings, c.per)
			if c.new {
				name += "-new"
			}
			b.Run(name, func(b *testing.B) {
				r := rand.New(rand.NewPCG(3, uint64(c.per)))
				before, err := supervise.CPUTime(srv.MeiliPID)
				if err != nil {
					b.Fatal(err)
				}
				ops := 0
				for b.Loop() {
					switch {
					case !c.new:
						from := r.IntN(n - c.per)
						add(uid, docs[from:from+c.per])
					case fresh+c.per > len(docs):
						b.Fatalf("more than %d new postings asked for", len(docs)-n)
					default:
						add(uid, docs[fresh:fresh+c.per])
						fresh += c.per
					}
					ops++
				}
				after, err := supervise.CPUTime(srv.MeiliPID)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64((after-before).Milliseconds())/float64(ops), "meili-cpu-ms/op")
			})
		}
	}
}
