package matching

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/testenv"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// BenchmarkRadiusCost is what a public search near a place costs
// Meilisearch, in its own CPU (from /proc) per search, on BENCH_POSTINGS
// postings (default 10,000) made as the bench makes them: the search as
// matching sends it (within 25 miles of one of ten cities, or remote; a
// text query of the bench's or none; the four facets), against the index's
// settings (a site as plain numbers, match.GeoRadius's bands) and against
// the settings before session 14 (_geo filterable and sortable, a
// _geoRadius filter). It says what replacing _geo costs a search, beside
// what it saves each indexing task (BenchmarkTaskCost).
//
// `go test -run '^$' -bench RadiusCost -benchtime 500x .`
func BenchmarkRadiusCost(b *testing.B) {
	srv := testenv.Open(b, testenv.Needs{Meili: true})
	ctx := context.Background()
	n := testenv.EnvInt(b, "BENCH_POSTINGS", 10_000)
	docs := benchPostingDocs(b, srv.Config.ZCTAFile, n, 1, "R")
	cities := [][2]float64{{40.75, -73.99}, {34.05, -118.24}, {41.88, -87.63}, {29.76, -95.37}, {33.45, -112.07},
		{39.95, -75.17}, {39.96, -83.0}, {39.74, -104.99}, {47.61, -122.33}, {33.75, -84.39}}
	queries := []string{"", "medical records", "coder", "", "release of information", "health information"}
	geoFields := func(xs []string) []string {
		return append(slices.DeleteFunc(slices.Clone(xs), func(x string) bool { return x == match.FieldLat || x == match.FieldLon }), "_geo")
	}
	for _, layout := range []string{"index", "with _geo"} {
		uid := srv.Config.IndexPrefix + "radius" + strings.ReplaceAll(layout, " ", "")
		ix := postingindex.Settings(uid)
		if layout == "with _geo" {
			ix.Settings.FilterableAttributes = geoFields(ix.Settings.FilterableAttributes)
			ix.Settings.SortableAttributes = geoFields(ix.Settings.SortableAttributes)
		}
		benchIndex(b, srv.Meili, ix, docs)
		b.Run("layout="+layout, func(b *testing.B) {
			cpu := meiliCPU(b, srv.MeiliPID)
			ops, hits := 0, 0
			for b.Loop() {
				c := cities[ops%len(cities)]
				req, err := PublicSearch(queries[ops%len(queries)])
				if err != nil {
					b.Fatal(err)
				}
				place := match.GeoRadius(c[0], c[1], 25)
				if layout == "with _geo" {
					place = fmt.Sprintf("_geoRadius(%.6f, %.6f, %d)", c[0], c[1], 40234)
				}
				req.Filter = fmt.Sprintf("%s AND (%s OR work_mode = \"remote\")", req.Filter, place)
				res, err := srv.Meili.Index(uid).Search(ctx, req.Query, req)
				if err != nil {
					b.Fatal(err)
				}
				hits += int(res.EstimatedTotalHits)
				ops++
			}
			cpu(ops)
			b.ReportMetric(float64(hits)/float64(ops), "hits/op")
		})
	}
}
