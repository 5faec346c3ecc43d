package meili_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/meili"
)

// DecodeSearch reads hits, estimatedTotalHits and facetDistribution as
// json.Unmarshal into a meilisearch.SearchResponse does: the same keys and
// the same value bytes for every hit, for answers with whitespace, escaped
// keys, brackets and quotes inside strings, nested objects and arrays,
// exponents, nulls, no hits and no facets; and it refuses what is not a
// search answer instead of misreading it.
func TestDecodeSearchReadsAsUnmarshalDoes(t *testing.T) {
	t.Parallel()
	answers := []string{
		`{"hits":[],"estimatedTotalHits":0,"facetDistribution":{}}`,
		`{"hits":null,"facetDistribution":null}`,
		`{"query":"x","processingTimeMs":1,"limit":20,"offset":0,"estimatedTotalHits":3}`,
		`{"hits":[{"id":"a","title":"Coder <ROI> & \"Billing\" \\ [x] {y} , : caf\u00e9 \u2028"}],"estimatedTotalHits":1,"facetDistribution":{"work_mode":{"remote":1}}}`,
		" {\n \"hits\" : [ { \"id\" : \"a\" , \"n\" : -1.5e+3 , \"t\" : true , \"f\" : false , \"z\" : null } ,\n\t{ \"id\":\"b\",\"loc\":{\"lat\":39.9,\"lng\":-83.0,\"tags\":[[],[{}],\"]\"]} } ] ,\r\n \"estimatedTotalHits\" : 2 } ",
		`{"hits":[{"a\"b":1,"\u0069d":"esc","c\\":"\\"}],"facetDistribution":{"credentials_any":{"CCA":12,"RHIT":3},"work_mode":{}},"facetStats":{"x":{"min":1,"max":2}}}`,
		`{"hits":[{"id":"dup","id":"last"}],"estimatedTotalHits":1}`,
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		answers = append(answers, randomAnswer(r))
	}
	for _, a := range answers {
		got, err := meili.DecodeSearch([]byte(a))
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		var want meilisearch.SearchResponse
		if err := json.Unmarshal([]byte(a), &want); err != nil {
			t.Fatal(err)
		}
		if got.EstimatedTotalHits != want.EstimatedTotalHits || !bytes.Equal(got.FacetDistribution, want.FacetDistribution) {
			t.Errorf("%s: total %d facets %s, want %d %s", a, got.EstimatedTotalHits, got.FacetDistribution, want.EstimatedTotalHits, want.FacetDistribution)
		}
		if len(got.Hits) != len(want.Hits) || (got.Hits == nil) != (want.Hits == nil) {
			t.Fatalf("%s: %d hits (nil %v), want %d (nil %v)", a, len(got.Hits), got.Hits == nil, len(want.Hits), want.Hits == nil)
		}
		for i, h := range want.Hits {
			if len(got.Hits[i]) != len(h) {
				t.Errorf("%s: hit %d has %d keys, want %d", a, i, len(got.Hits[i]), len(h))
			}
			for k, v := range h {
				if !bytes.Equal(got.Hits[i][k], v) {
					t.Errorf("%s: hit %d key %q is %s, want %s", a, i, k, got.Hits[i][k], v)
				}
			}
		}
	}
	for _, bad := range []string{``, `[]`, `{"hits":{}}`, `{"hits":[1]}`, `{"hits":[{"id":"a"}]`, `{"estimatedTotalHits":"3"}`} {
		if _, err := meili.DecodeSearch([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
		if _, err := meili.DecodeSearchHits([]byte(bad)); err == nil {
			t.Errorf("%q: DecodeSearchHits: no error", bad)
		}
	}
	for _, a := range answers {
		testDecodeSearchHitsAsDecodeSearch(t, a)
	}
}

// DecodeSearchHits reads what DecodeSearch reads, each hit's values the
// same bytes as json.RawMessage, in maps of their own.
func testDecodeSearchHitsAsDecodeSearch(t *testing.T, a string) {
	t.Helper()
	want, err := meili.DecodeSearch([]byte(a))
	if err != nil {
		t.Fatal(err)
	}
	got, err := meili.DecodeSearchHits([]byte(a))
	if err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if got.EstimatedTotalHits != want.EstimatedTotalHits || !bytes.Equal(got.FacetDistribution, want.FacetDistribution) ||
		len(got.Hits) != len(want.Hits) || (got.Hits == nil) != (want.Hits == nil) {
		t.Fatalf("%s: %+v, want %+v", a, got, want)
	}
	for i, h := range want.Hits {
		if len(got.Hits[i]) != len(h) {
			t.Errorf("%s: hit %d has %d keys, want %d", a, i, len(got.Hits[i]), len(h))
		}
		for k, v := range h {
			if g, ok := got.Hits[i][k].(json.RawMessage); !ok || !bytes.Equal(g, v) {
				t.Errorf("%s: hit %d key %q is %#v, want %s", a, i, k, got.Hits[i][k], v)
			}
		}
	}
}

// randomAnswer is a search answer with random hits, encoded by
// encoding/json, sometimes indented.
func randomAnswer(r *rand.Rand) string {
	var hits []map[string]any
	for i := range r.IntN(5) {
		h := map[string]any{"id": fmt.Sprint(i)}
		for range r.IntN(6) {
			h[randomString(r)] = randomValue(r, 3)
		}
		hits = append(hits, h)
	}
	a := map[string]any{"hits": hits, "estimatedTotalHits": r.IntN(1000), "facetDistribution": map[string]any{"work_mode": map[string]int{"remote": r.IntN(9)}}}
	b, _ := json.Marshal(a)
	if r.IntN(2) == 0 {
		b, _ = json.MarshalIndent(a, " ", "\t")
	}
	return string(b)
}

func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(7); {
	case k == 0 && depth > 0:
		return []any{randomValue(r, depth-1), randomValue(r, depth-1)}
	case k == 1 && depth > 0:
		return map[string]any{randomString(r): randomValue(r, depth-1)}
	case k == 2:
		return r.NormFloat64() * 1e6
	case k == 3:
		return r.IntN(2) == 0
	case k == 4:
		return nil
	default:
		return randomString(r)
	}
}

func randomString(r *rand.Rand) string {
	const chars = `ab "\{}[],:` + "\n\t\u00e9\u2028<>&\x01"
	rs := []rune(chars)
	var sb strings.Builder
	for range r.IntN(8) {
		sb.WriteRune(rs[r.IntN(len(rs))])
	}
	return sb.String()
}
