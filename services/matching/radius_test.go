package matching

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/posting"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// A radius is a radius: the index filters by boxes of latitude and
// longitude a little larger than the circle (match.GeoRadius), and a
// search, a sort by distance and market demand leave out a site in a
// box's corner, beyond the radius, while remote work stays. Real
// Meilisearch.
func TestSearchRadiusIsExact(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	ctx := context.Background()
	at := geo.Point{Lat: 39.96, Lon: -83.0}
	const radius = 25
	// corner: beyond the radius, inside the filter's boxes.
	var corner geo.Point
	for b := 0.0; b < 360 && corner == (geo.Point{}); b += 1 {
		for miles := 26.0; miles < 32; miles += 0.5 {
			p := geo.Destination(at, miles, b)
			if slices.ContainsFunc(geo.Cover(at, radius, geo.CoverBands), func(x geo.Box) bool { return x.Contains(p) }) {
				corner = p
				break
			}
		}
	}
	if corner == (geo.Point{}) {
		t.Fatal("no point of the boxes beyond the radius: the test needs one")
	}
	now := time.Now()
	site := func(id string, p geo.Point, mode string, pay float64, daysAgo int) posting.Posting {
		lat, lon := p.Lat, p.Lon
		out := posting.Posting{ID: id, Title: "Medical records clerk", Employer: "Acme", DatePosted: now.AddDate(0, 0, -daysAgo),
			EmploymentType: []string{"FULL_TIME"}, Location: posting.Location{Lat: &lat, Lon: &lon},
			SalaryHourlyMin: pay, SalaryHourlyMax: pay}
		out.WorkMode = mode
		out.SetRoutes([]posting.Route{{Credentials: [][]string{{"RHIT"}}}})
		return out
	}
	s.loadPostings(t, []posting.Posting{
		site("near", geo.Destination(at, 5, 0), "onsite", 20, 5),
		site("mid", geo.Destination(at, 15, 90), "onsite", 22, 1),
		site("edge", geo.Destination(at, 24.5, 200), "onsite", 24, 3),
		site("corner", corner, "onsite", 90, 0),
		site("far", geo.Destination(at, 100, 10), "onsite", 90, 2),
		site("remote", geo.Point{Lat: 41.88, Lon: -87.63}, "remote", 30, 4),
	})
	ids := func(out matchingapi.SearchResponse) []string {
		var got []string
		for _, h := range out.Hits {
			got = append(got, h["id"].(string))
			for _, k := range []string{match.FieldLat, match.FieldLon} {
				if _, ok := h[k]; ok {
					t.Errorf("hit %v shows %s", h["id"], k)
				}
			}
		}
		return got
	}
	req := func(sort, cursor string, limit int) matchingapi.SearchRequest {
		return matchingapi.SearchRequest{Lat: &at.Lat, Lon: &at.Lon, RadiusMiles: radius, Sort: sort, Cursor: cursor, Limit: limit}
	}
	out, err := s.search(ctx, req("newest", "", 20))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(out), []string{"mid", "edge", "remote", "near"}; !slices.Equal(got, want) {
		t.Errorf("newest within %d miles: %v, want %v (corner at %.1f miles)", radius, got, want, geo.DistanceMiles(at, corner))
	}

	out, err = s.search(ctx, req("distance", "", 20))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(out), []string{"near", "mid", "edge", "remote"}; !slices.Equal(got, want) || out.EstimatedTotal != 4 || out.NextCursor != "" {
		t.Errorf("by distance: %v (total %d, cursor %q), want %v, total 4, no cursor", got, out.EstimatedTotal, out.NextCursor, want)
	}
	var paged []string
	cursor := ""
	for range 3 {
		out, err := s.search(ctx, req("distance", cursor, 3))
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, ids(out)...)
		if cursor = out.NextCursor; cursor == "" {
			break
		}
	}
	if want := []string{"near", "mid", "edge", "remote"}; !slices.Equal(paged, want) {
		t.Errorf("by distance, pages of 3: %v, want %v", paged, want)
	}

	m, err := s.marketDemand(ctx, matchingapi.MarketRequest{Lat: &at.Lat, Lon: &at.Lon, RadiusMiles: radius})
	if err != nil {
		t.Fatal(err)
	}
	if m.Postings != 3 || m.Credentials["RHIT"].Postings != 3 || m.MedianHourly != 22 {
		t.Errorf("market within %d miles: %d postings, RHIT %+v, median %v; want the 3 sites within it, median 22", radius, m.Postings, m.Credentials["RHIT"], m.MedianHourly)
	}
}

// A postings index written before sites were plain numbers (documents with
// _geo only) is re-indexed at start, so that a radius finds its sites; a
// second start rewrites nothing. Real Meilisearch.
func TestMigrateGivesOldDocumentsTheirSites(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	ctx := context.Background()
	at := geo.Point{Lat: 39.96, Lon: -83.0}
	var docs []map[string]any
	for i, b := range []float64{0, 120, 240} {
		p := geo.Destination(at, 3+float64(i), b)
		lat, lon := p.Lat, p.Lon
		ps := posting.Posting{ID: fmt.Sprintf("old-%d", i), Title: "Coder", Employer: "Acme", DatePosted: time.Now(),
			Location: posting.Location{Lat: &lat, Lon: &lon}}
		ps.WorkMode = "onsite"
		d, _, err := postingindex.Doc(ps)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(d.JSON, &doc); err != nil {
			t.Fatal(err)
		}
		delete(doc, match.FieldLat)
		delete(doc, match.FieldLon)
		docs = append(docs, doc)
	}
	s.addRawDocs(t, docs)
	near := func() int {
		res, err := s.mc.Index(s.index).Search(ctx, "", &meilisearch.SearchRequest{Filter: match.GeoRadius(at.Lat, at.Lon, 10)})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Hits)
	}
	if n := near(); n != 0 {
		t.Fatalf("%d old documents found by a radius before the migration: the test shows nothing", n)
	}
	if n, err := postingindex.Migrate(ctx, s.mc, s.index); err != nil || n != len(docs) {
		t.Fatalf("migrated %d of %d: %v", n, len(docs), err)
	}
	if n := near(); n != len(docs) {
		t.Errorf("%d of %d migrated postings within the radius", n, len(docs))
	}
	if n, err := postingindex.Migrate(ctx, s.mc, s.index); err != nil || n != 0 {
		t.Fatalf("second start migrated %d: %v", n, err)
	}
}

// A sort by distance among more candidates than its pool reads still
// starts with the nearest: the pool (here 5) holds the most relevant
// candidates, not the nearest, and a smaller circle whose candidates it
// holds gives the page. Real Meilisearch.
func TestSortByDistanceBeyondItsPool(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	s.distancePool = 5
	ctx := context.Background()
	at := geo.Point{Lat: 41.5, Lon: -81.7}
	var ps []posting.Posting
	// Indexed farthest first: with no query words, the index's relevance
	// order is its own, and the first five read are the farthest.
	for i, miles := range []float64{24, 22, 20, 18, 14, 8, 4, 1} {
		p := geo.Destination(at, miles, float64(45*i))
		lat, lon := p.Lat, p.Lon
		x := posting.Posting{ID: fmt.Sprintf("site-%02.0f", miles), Title: "Coder", Employer: "Acme", DatePosted: time.Now(),
			Location: posting.Location{Lat: &lat, Lon: &lon}}
		x.WorkMode = "onsite"
		ps = append(ps, x)
	}
	for i := range 2 {
		x := posting.Posting{ID: fmt.Sprintf("remote-%d", i), Title: "Coder", Employer: "Acme", DatePosted: time.Now()}
		x.WorkMode = "remote"
		ps = append(ps, x)
	}
	s.loadPostings(t, ps)
	out, err := s.search(ctx, matchingapi.SearchRequest{Lat: &at.Lat, Lon: &at.Lon, RadiusMiles: 25, Sort: "distance", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range out.Hits {
		got = append(got, h["id"].(string))
	}
	if want := []string{"site-01", "site-04"}; !slices.Equal(got, want) || out.NextCursor == "" {
		t.Errorf("nearest two of ten candidates with a pool of 5: %v (cursor %q), want %v and a next page", got, out.NextCursor, want)
	}
}

// Meilisearch accepts the radius filter wherever the circle is: across the
// antimeridian, around a pole, at the largest radius and at the smallest.
// Real Meilisearch.
func TestRadiusFilterIsValidEverywhere(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	ctx := context.Background()
	for _, c := range []struct {
		at    geo.Point
		miles int
	}{{geo.Point{Lat: 51.9, Lon: 179.95}, 50}, {geo.Point{Lat: 52, Lon: -179.99}, 500}, {geo.Point{Lat: 89.5, Lon: 10}, 100},
		{geo.Point{Lat: -89.9, Lon: -170}, MaxRadiusMiles}, {geo.Point{Lat: 0.5, Lon: 0.5}, 1}, {geo.Point{Lat: 64.8, Lon: -147.7}, MaxRadiusMiles}} {
		for _, sort := range []string{"relevance", "distance"} {
			if _, err := s.search(ctx, matchingapi.SearchRequest{Lat: &c.at.Lat, Lon: &c.at.Lon, RadiusMiles: c.miles, Sort: sort}); err != nil {
				t.Errorf("search within %d miles of %v by %s: %v", c.miles, c.at, sort, err)
			}
		}
	}
}
