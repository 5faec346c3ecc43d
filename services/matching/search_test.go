package matching

import (
	"slices"
	"strings"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// A bad search names every field in error; a good one keeps open, shown
// postings near the place (or remote), newest first when asked.
func TestSearchQueryNamesEveryBadField(t *testing.T) {
	t.Parallel()
	s := &Service{}
	_, err := s.searchQuery(&matchingapi.SearchRequest{Limit: 500, Offset: -1, Sort: "distance", RadiusMiles: 10, WorkMode: "moon", MinHourly: -3})
	var fields []string
	for _, f := range apierr.As(err).Fields {
		fields = append(fields, f.Field)
	}
	if want := []string{"limit", "min_hourly", "offset", "radius_miles", "sort", "work_mode"}; !slices.Equal(fields, want) {
		t.Fatalf("fields %v, want %v (%v)", fields, want, err)
	}
	if _, err := s.searchQuery(&matchingapi.SearchRequest{PostalCode: "43215"}); !strings.Contains(err.Error(), "postal_code: ZIP code lookups are unavailable") {
		t.Fatalf("a ZIP without centroids: %v", err)
	}

	lat, lon := 39.96, -83.0
	req := matchingapi.SearchRequest{Lat: &lat, Lon: &lon, Sort: "newest", SOCCode: "29-2072"}
	q, err := s.searchQuery(&req)
	if err != nil {
		t.Fatal(err)
	}
	filter, _ := q.Filter.(string)
	for _, part := range []string{`status = "open"`, postingindex.ShownFilter, "_geoRadius(", `OR work_mode = "remote"`, `soc_code = "29-2072"`} {
		if !strings.Contains(filter, part) {
			t.Errorf("filter %q lacks %q", filter, part)
		}
	}
	if req.Limit != DefaultSearchLimit || req.RadiusMiles != 25 || !slices.Equal(q.Sort, []string{"date_posted_ts:desc"}) {
		t.Errorf("defaults: limit %d, radius %d, sort %v", req.Limit, req.RadiusMiles, q.Sort)
	}
}
