package matching

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/seedgen"
	"github.com/clerkpath/clerkpath/pkg/testenv"

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
	for _, part := range []string{`status = "open"`, postingindex.ShownFilter, "(geo_lat ", `OR work_mode = "remote"`, `soc_code = "29-2072"`} {
		if !strings.Contains(filter, part) {
			t.Errorf("filter %q lacks %q", filter, part)
		}
	}
	if req.Limit != DefaultSearchLimit || req.RadiusMiles != 25 || !slices.Equal(q.Sort, []string{"date_posted_ts:desc"}) {
		t.Errorf("defaults: limit %d, radius %d, sort %v", req.Limit, req.RadiusMiles, q.Sort)
	}
}

// A search answers, byte for byte, what it answered when every hit was
// decoded into Go values and encoded again (decodedHits, the code before
// hits were passed through as Meilisearch encoded them), for postings with
// routes, nested locations, fractional pay and text that JSON escapes; no
// hit shows a field only filters or cluster settling use, and every hit
// has its trust signals and its id as a string. What rpc sends
// (AppendJSON) is the same bytes.
func TestSearchHitsAnswerAsDecodedHitsDid(t *testing.T) {
	t.Parallel()
	s, ps := searchFixture(t)
	ctx := context.Background()

	req := matchingapi.SearchRequest{Limit: MaxSearchLimit}
	q, err := s.searchQuery(&req)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.mc.Index(s.index).Search(ctx, "", q)
	if err != nil {
		t.Fatal(err)
	}
	want := matchingapi.SearchResponse{EstimatedTotal: res.EstimatedTotalHits, Limit: req.Limit, Facets: map[string]map[string]int{}}
	if want.Hits, err = decodedHits(s, res.Hits); err != nil {
		t.Fatal(err)
	}
	fb, _ := json.Marshal(res.FacetDistribution)
	_ = json.Unmarshal(fb, &want.Facets)

	out, err := s.search(ctx, matchingapi.SearchRequest{Limit: MaxSearchLimit})
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(out)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Fatalf("the answer differs from the decoded one:\n got %s\nwant %s", gotJSON, wantJSON)
	}
	if sent, err := out.AppendJSON(nil); err != nil || !bytes.Equal(sent, wantJSON) { // what rpc sends
		t.Fatalf("AppendJSON differs from the decoded answer (%v):\n got %s\nwant %s", err, sent, wantJSON)
	}
	if len(out.Hits) != len(ps) || len(out.Facets["work_mode"]) == 0 {
		t.Fatalf("%d hits, facets %v", len(out.Hits), out.Facets)
	}
	for _, h := range out.Hits {
		if _, ok := h["id"].(string); !ok {
			t.Errorf("id %#v is not a string", h["id"])
		}
		for k, v := range h {
			if hiddenInHits[k] || k == "simhash" || strings.HasPrefix(k, "route_") && k != postingindex.FieldRouteCount {
				t.Errorf("hit %v shows %s", h["id"], k)
			}
			if isNull(v) {
				t.Errorf("hit %v shows %s as null: a field the posting does not have is left out", h["id"], k)
			}
		}
		i := slices.IndexFunc(ps, func(p posting.Posting) bool { return p.ID == h["id"] })
		if _, shown := h["salary_hourly_max"]; i < 0 || shown != (ps[i].SalaryHourlyMax != 0) {
			t.Errorf("hit %v: salary shown %v, posting %d", h["id"], shown, i)
		}
		for _, k := range []string{"age_days", "reposts", "cluster_size", "also_posted_by", "first_seen", "title", "location"} {
			if _, ok := h[k]; !ok {
				t.Errorf("hit %v lacks %s", h["id"], k)
			}
		}
	}
}

// searchHits reads the trust fields as DecodeInto did: a null is the zero
// value, a value of the wrong type fails the search instead of being
// shown; hidden fields go, the rest stay as Meilisearch encoded them.
func TestSearchHitsReadTrustFieldsAsDecodeIntoDid(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	s := &Service{now: func() time.Time { return now }}
	raw := func(v string) json.RawMessage { return json.RawMessage(v) }
	hit := map[string]any{"id": raw(`"p1"`), "title": raw(`"Coder \u003c1\u003e"`), "simhash": raw(`123`),
		postingindex.FieldClusterHidden: raw(`false`), postingindex.FieldClusterOwner: raw(`"org-1"`),
		"date_posted_ts": raw(fmt.Sprint(now.AddDate(0, 0, -3).Unix())), postingindex.FieldClusterSize: raw(`null`),
		postingindex.FieldClusterReposts: raw(`2`), postingindex.FieldClusterFirstSeen: raw(fmt.Sprint(now.AddDate(0, 0, -9).Unix()))}
	out, err := s.searchHits([]map[string]any{hit})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(out[0])
	want := `{"age_days":3,"also_posted_by":0,"cluster_size":1,"date_posted_ts":` + fmt.Sprint(now.AddDate(0, 0, -3).Unix()) +
		`,"first_seen":"2026-11-23","id":"p1","reposts":2,"title":"Coder \u003c1\u003e"}`
	if string(got) != want {
		t.Fatalf("hit\n got %s\nwant %s", got, want)
	}
	for _, bad := range []map[string]any{{"id": raw(`7`)}, {postingindex.FieldClusterSize: raw(`"two"`)}, {postingindex.FieldClusterHidden: raw(`"no"`)}} {
		if _, err := s.searchHits([]map[string]any{bad}); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// searchFixture is a Service whose postings index holds 40 generated
// postings with cluster fields and a simhash, the first with text JSON
// escapes and the second with fractional pay.
func searchFixture(tb testing.TB) (*Service, []posting.Posting) {
	tb.Helper()
	srv := testenv.Open(tb, testenv.Needs{Meili: true})
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	s := &Service{mc: srv.Meili, index: srv.Config.IndexPrefix + PostingsIndex, now: func() time.Time { return now }}
	if err := meili.EnsureIndex(ctx, s.mc, postingindex.Settings(s.index)); err != nil {
		tb.Fatal(err)
	}
	ps := seedgen.Postings(rand.New(rand.NewPCG(1, 2)), 40, []geo.Point{{Lat: 39.96, Lon: -83.0}, {Lat: 41.88, Lon: -87.63}}, now)
	ps[0].Title = "Coder <ROI> & \"Billing\" \\ café – line\u2028sep\ttab"
	ps[1].SalaryHourlyMin, ps[1].SalaryHourlyMax = 23.75, 31.1
	var docs []postingindex.Document
	for i, p := range ps {
		p.SimHash = uint64(1)<<63 + uint64(i)
		doc, _, err := postingindex.Doc(p, postingindex.Field{Key: "employer_id", Value: fmt.Sprintf("org-%d", i%3)},
			postingindex.Field{Key: postingindex.FieldCluster, Value: p.ID}, postingindex.Field{Key: postingindex.FieldClusterHidden, Value: false},
			postingindex.Field{Key: postingindex.FieldClusterSize, Value: 1 + i%3}, postingindex.Field{Key: postingindex.FieldClusterReposts, Value: i % 2},
			postingindex.Field{Key: postingindex.FieldClusterOwner, Value: "org-0"}, postingindex.Field{Key: postingindex.FieldClusterFirstSeen, Value: p.DatePosted.AddDate(0, 0, -i).Unix()})
		if err != nil {
			tb.Fatal(err)
		}
		docs = append(docs, doc)
	}
	info, err := s.mc.Index(s.index).AddDocumentsNdjson(ctx, postingindex.NDJSON(docs), nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := meili.Wait(ctx, s.mc, info); err != nil {
		tb.Fatal(err)
	}
	return s, ps
}

// BenchmarkSearchAnswer is matching's CPU per search answer (20 hits)
// from Meilisearch's bytes to the reply's: decoded is the code before
// issue 14's fix (meilisearch-go's decoding, every value decoded and
// encoded again), passthrough meilisearch-go's decoding with values passed
// through, split DecodeSearch with values passed through (each hit copied
// into a map of the reply's), all encoded by json.Marshal; and now the
// code now (the answer read raw without a check of its own,
// DecodeSearchHits, hits changed in place, encoded by AppendJSON).
func BenchmarkSearchAnswer(b *testing.B) {
	s, _ := searchFixture(b)
	req := matchingapi.SearchRequest{}
	q, err := s.searchQuery(&req)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := s.mc.Index(s.index).SearchRaw(context.Background(), "", q)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(*raw)
	b.Logf("answer: %d bytes", len(body))
	reply := func(b *testing.B, out matchingapi.SearchResponse, err error) {
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(out); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("decoded", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			var res meilisearch.SearchResponse
			if err := json.Unmarshal(body, &res); err != nil {
				b.Fatal(err)
			}
			out := matchingapi.SearchResponse{EstimatedTotal: res.EstimatedTotalHits, Facets: map[string]map[string]int{}}
			out.Hits, err = decodedHits(s, res.Hits)
			fb, _ := json.Marshal(res.FacetDistribution)
			_ = json.Unmarshal(fb, &out.Facets)
			reply(b, out, err)
		}
	})
	b.Run("passthrough", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			var res meilisearch.SearchResponse
			if err := json.Unmarshal(body, &res); err != nil {
				b.Fatal(err)
			}
			out, err := s.searchAnswer(req, asSearchHits(&res))
			reply(b, out, err)
		}
	})
	b.Run("split", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			var rm json.RawMessage // as SearchRaw reads the answer
			if err := json.Unmarshal(body, &rm); err != nil {
				b.Fatal(err)
			}
			res, err := meili.DecodeSearch(rm)
			if err != nil {
				b.Fatal(err)
			}
			out, err := s.searchAnswer(req, asSearchHits(res))
			reply(b, out, err)
		}
	})
	b.Run("now", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			rm := append(json.RawMessage(nil), body...) // as SearchRaw now reads the answer
			res, err := meili.DecodeSearchHits(rm)
			if err != nil {
				b.Fatal(err)
			}
			out, err := s.searchAnswer(req, res)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := out.AppendJSON(nil); err != nil { // as rpc sends it
				b.Fatal(err)
			}
		}
	})
}

// asSearchHits is res with each hit copied into a map[string]any, as
// searchHits did before it changed DecodeSearchHits' maps in place.
func asSearchHits(res *meilisearch.SearchResponse) *meili.SearchHits {
	out := &meili.SearchHits{EstimatedTotalHits: res.EstimatedTotalHits, FacetDistribution: res.FacetDistribution}
	for _, h := range res.Hits {
		doc := make(map[string]any, len(h)+5)
		for k, v := range h {
			doc[k] = v
		}
		out.Hits = append(out.Hits, doc)
	}
	return out
}

// BenchmarkSearch is matching's own CPU per public search (20 hits and
// facets, as the gateway sends it) from the request to the reply's
// bytes, against a real Meilisearch: the HTTP call and reading the answer,
// decoding it, building the reply and encoding it as rpc sends it.
// Meilisearch's CPU is not in cpu-ns/op (another process).
func BenchmarkSearch(b *testing.B) {
	s, _ := searchFixture(b)
	ctx := context.Background()
	defer reportCPU(b)()
	for b.Loop() {
		out, err := s.search(ctx, matchingapi.SearchRequest{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := out.AppendJSON(nil); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU reports the process's CPU time (user and system, every
// thread, the garbage collector's too) per operation as cpu-ns/op: on a
// shared machine wall time per operation says more about the neighbours.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// decodedHits is searchHits as it was before hits were passed through:
// every value decoded into Go values, the trust signals added, the hidden
// fields deleted.
func decodedHits(s *Service, hits meilisearch.Hits) ([]map[string]any, error) {
	out := []map[string]any{}
	for _, h := range hits {
		var doc map[string]any
		if err := h.DecodeInto(&doc); err != nil {
			return nil, err
		}
		var m postingindex.Member
		if err := h.DecodeInto(&m); err != nil {
			return nil, err
		}
		t := trustSignals(m, s.now())
		doc["age_days"], doc["reposts"], doc["cluster_size"], doc["also_posted_by"] = t.AgeDays, t.Reposts, t.ClusterSize, t.AlsoPostedBy
		if t.FirstSeen != "" {
			doc["first_seen"] = t.FirstSeen
		}
		for _, k := range hiddenInResults {
			delete(doc, k)
		}
		for _, k := range postingindex.RouteFields()[1:] {
			delete(doc, k)
		}
		for k, v := range doc {
			if v == nil {
				delete(doc, k) // a field the posting does not have
			}
		}
		out = append(out, doc)
	}
	return out, nil
}

// The bench's raw baseline of the public search (PublicSearch, sent as
// json.Marshal encodes it) is byte for byte the request a public search
// sends to Meilisearch: the same text, filter (shown postings only),
// limit and facets.
func TestPublicSearchIsTheRequestSearchSends(t *testing.T) {
	s, _ := searchFixture(t)
	srv := testenv.Open(t, testenv.Needs{Meili: true}) // the same Meilisearch: its URL and key
	target, err := url.Parse(srv.Config.MeiliURL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var sent [][]byte
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		if strings.HasSuffix(r.URL.Path, "/search") {
			mu.Lock()
			sent = append(sent, body)
			mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	s.mc = meili.Connect(proxy.URL, srv.Config.MeiliKey)
	t.Cleanup(s.mc.Close)
	for _, q := range []string{"medical records", "  coder ", "", `"RHIT" <&>`} {
		mu.Lock()
		sent = nil
		mu.Unlock()
		if _, err := s.search(context.Background(), matchingapi.SearchRequest{Q: q}); err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		want, err := PublicSearch(q)
		if err != nil {
			t.Fatal(err)
		}
		wantBody, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := sent
		mu.Unlock()
		if len(got) != 1 || !bytes.Equal(got[0], wantBody) {
			t.Errorf("search %q sent %q, PublicSearch is %s", q, got, wantBody)
		}
		if !bytes.Contains(wantBody, []byte(postingindex.ShownFilter)) {
			t.Errorf("PublicSearch(%q) = %s: not only shown postings", q, wantBody)
		}
	}
}
