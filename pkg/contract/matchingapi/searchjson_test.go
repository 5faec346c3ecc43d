package matchingapi

import (
	"encoding/json"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// A search reply's AppendJSON is json.Marshal's bytes, with and without
// hits, facets and a next cursor; the reply is what rpc sends by it.
func TestSearchResponseAppendsWhatMarshalGives(t *testing.T) {
	t.Parallel()
	hit := map[string]any{"id": "p1", "title": json.RawMessage(`"Coder <ROI> & \"Billing\""`), "location": json.RawMessage(`{"lat":39.9,"lng":-83}`),
		"age_days": 3, "reposts": 0, "first_seen": "2026-11-30", "salary_hourly_max": json.RawMessage(`31.1`)}
	for _, r := range []SearchResponse{
		{},
		{Hits: []map[string]any{}, Facets: map[string]map[string]int{}},
		{Hits: []map[string]any{hit, hit}, EstimatedTotal: 120, Limit: 2, Offset: 40, NextCursor: "b2Zmc2V0PTQy",
			Facets: map[string]map[string]int{"work_mode": {"remote": 3, "onsite": 9}, "credentials_any": {"CCA": 1}}},
	} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.AppendJSON(nil)
		if err != nil || string(got) != string(want) {
			t.Fatalf("AppendJSON\n got %s (%v)\nwant %s", got, err, want)
		}
	}
	if _, ok := any(SearchResponse{}).(rpc.JSONAppender); !ok {
		t.Fatal("SearchResponse is not an rpc.JSONAppender: rpc would encode it with json.Marshal")
	}
}
