package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/seedgen"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func meiliClient(s *stack) meilisearch.ServiceManager {
	return meili.Connect(s.cfg.MeiliURL, s.cfg.MeiliKey)
}

// BenchmarkProfileChangeToMatchList measures, end to end through the
// running stack, how long a profile change takes to show in the seeker's
// match list in Redis: PUT /v1/seekers/{id} (profiles publishes the event)
// → matching's durable consumer → forward match → Redis sorted set. Each
// iteration flips the commute radius between 5 and 60 miles, which changes
// the list. Reports p50 and p95 in milliseconds.
func BenchmarkProfileChangeToMatchList(b *testing.B) {
	s := startStack(b)
	emp := bearer(s.token(b, "employer", "e-bench", "bench"))
	r := rand.New(rand.NewPCG(3, 4))
	today := time.Now().UTC().Format("2006-01-02")
	// 1,000 postings around Manhattan at 0-60 miles, in bulk.
	var recs []string
	for i := range 1000 {
		lat := 40.75 + (r.Float64()-0.5)*1.6
		lon := -74.0 + (r.Float64()-0.5)*2.0
		recs = append(recs, fmt.Sprintf(`{"identifier":"B%d","title":"Medical Records Clerk","description":"High school diploma required. Scanning and indexing.","employer":"Bench Health","date_posted":"%s","latitude":%f,"longitude":%f}`, i, today, lat, lon))
	}
	for i := 0; i < len(recs); i += 200 {
		code, _, body := s.do(b, "POST", "/v1/postings:bulk", "application/json", "["+strings.Join(recs[i:i+200], ",")+"]", emp...)
		if code != 200 {
			b.Fatalf("bulk: %d %s", code, body)
		}
	}
	opt, _ := redis.ParseURL(s.cfg.RedisURL)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	me := bearer(s.token(b, "seeker", "bench-seeker", ""))
	profile := func(radius int) string {
		return fmt.Sprintf(`{"education":[{"level":"high_school","status":"completed"}],"location":{"postal_code":"10001"},"radius_miles":%d}`, radius)
	}
	listSize := func() int64 { n, _ := rdb.ZCard(ctx, "clerkpath:matches:bench-seeker").Result(); return n }
	// Wait until the postings are indexed: the wide radius sees many.
	s.do(b, "PUT", "/v1/seekers/bench-seeker", "application/json", profile(60), me...)
	deadline := time.Now().Add(60 * time.Second)
	for listSize() < 150 {
		if time.Now().After(deadline) {
			b.Fatalf("list never filled: %d", listSize())
		}
		time.Sleep(200 * time.Millisecond)
		s.do(b, "PUT", "/v1/seekers/bench-seeker", "application/json", profile(60+r.IntN(2)), me...)
	}
	var ds []time.Duration
	radius := 60
	b.ResetTimer()
	for b.Loop() {
		before := listSize()
		if radius == 60 {
			radius = 5
		} else {
			radius = 60
		}
		t0 := time.Now()
		if code, _, body := s.do(b, "PUT", "/v1/seekers/bench-seeker", "application/json", profile(radius), me...); code != 200 {
			b.Fatalf("PUT: %d %s", code, body)
		}
		for listSize() == before {
			if time.Since(t0) > 10*time.Second {
				b.Fatal("the list did not change within 10s")
			}
			time.Sleep(500 * time.Microsecond)
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	q := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(float64(len(ds))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
}

// BenchmarkIngestVsRawMeilisearch compares getting 1,000 postings
// searchable through clerkpath (bulk HTTP → validation, extraction,
// de-duplication → JetStream, fsynced → indexer → Meilisearch task
// succeeded) with a raw Meilisearch bulk add of the same normalised
// documents. Reports seconds per 1,000 postings for each; the ratio is
// in docs/performance.md.
func BenchmarkIngestVsRawMeilisearch(b *testing.B) {
	s := startStack(b)
	emp := bearer(s.token(b, "employer", "e-bench", "bench"))
	today := time.Now().UTC().Format("2006-01-02")
	desc := strings.Repeat("Review inpatient records and assign ICD-10-CM and ICD-10-PCS codes. ", 30)
	batch := func(round, from int) string {
		var recs []string
		for i := from; i < from+200; i++ {
			recs = append(recs, fmt.Sprintf(`{"identifier":"R%d-%d","title":"Inpatient Coder %d","description":"RHIT and (CCS or CIC) required. %s","employer":"Bench Health","date_posted":"%s","postal_code":"10001"}`, round, i, i, desc, today))
		}
		return "[" + strings.Join(recs, ",") + "]"
	}
	meili := meiliClient(s)
	countIndexed := func(index string) int64 {
		st, err := meili.Index(index).GetStats(context.Background(), nil)
		if err != nil {
			return -1
		}
		return st.NumberOfDocuments
	}
	postings := s.cfg.IndexPrefix + "postings"
	raw := s.cfg.IndexPrefix + "raw"
	var ours, theirs []time.Duration
	round := 0
	for b.Loop() {
		round++
		before := countIndexed(postings)
		t0 := time.Now()
		var docs []map[string]any
		for from := 0; from < 1000; from += 200 {
			code, _, body := s.do(b, "POST", "/v1/postings:bulk", "application/json", batch(round, from), emp...)
			if code != 200 {
				b.Fatalf("bulk: %d %s", code, body)
			}
		}
		for countIndexed(postings) < before+1000 {
			time.Sleep(5 * time.Millisecond)
		}
		ours = append(ours, time.Since(t0))
		// The same documents, as indexed, straight into another index.
		res, err := meili.Index(postings).Search(context.Background(), "", &meilisearch.SearchRequest{Limit: 1000, Filter: `employer_id = "bench"`, Sort: []string{"date_posted_ts:desc"}})
		if err != nil {
			b.Fatal(err)
		}
		for _, h := range res.Hits {
			var d map[string]any
			_ = h.DecodeInto(&d)
			d["id"] = fmt.Sprint(d["id"], "-raw-", round)
			docs = append(docs, d)
		}
		pk := "id"
		t1 := time.Now()
		info, err := meili.Index(raw).AddDocuments(context.Background(), docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := meili.WaitForTask(context.Background(), info.TaskUID, 10*time.Millisecond); err != nil {
			b.Fatal(err)
		}
		theirs = append(theirs, time.Since(t1))
	}
	med := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return ds[len(ds)/2].Seconds()
	}
	b.ReportMetric(med(ours), "clerkpath-s/1000")
	b.ReportMetric(med(theirs), "raw-meili-s/1000")
}

// BenchmarkSearchThroughput sends public searches through the gateway from
// 16 concurrent clients for 10 s, then the same Meilisearch queries (same
// text, filter and facets as matching sends) straight to Meilisearch, as
// clerkpath bench's search phase does (vegeta, closed loop), and reports
// both rates.
func BenchmarkSearchThroughput(b *testing.B) {
	s := startStack(b)
	emp := bearer(s.token(b, "employer", "e-bench", "bench"))
	today := time.Now().UTC().Format("2006-01-02")
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 5 {
		var recs []string
		for i := range 200 {
			t := seedTemplates[(round*200+i)%len(seedTemplates)]
			recs = append(recs, fmt.Sprintf(`{"identifier":"S%d-%d","title":%q,"description":%q,"employer":"Bench Health","date_posted":"%s","latitude":%f,"longitude":%f}`,
				round, i, t.Title, t.Description, today, 40.75+(r.Float64()-0.5)*1.6, -74.0+(r.Float64()-0.5)*2.0))
		}
		if code, _, body := s.do(b, "POST", "/v1/postings:bulk", "application/json", "["+strings.Join(recs, ",")+"]", emp...); code != 200 {
			b.Fatalf("bulk: %d %s", code, body)
		}
	}
	mc := meiliClient(s)
	postings := s.cfg.IndexPrefix + "postings"
	testenv.Eventually(b, 60*time.Second, func() error {
		st, err := mc.Index(postings).GetStats(context.Background(), nil)
		if err != nil || st.NumberOfDocuments < 1000 {
			return fmt.Errorf("indexed %v %v", st, err)
		}
		return nil
	})
	const clients, dur = 16, 10 * time.Second
	h := &benchHTTP{base: s.base, c: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}}
	st := &benchStack{cfg: s.cfg}
	b.ResetTimer()
	for b.Loop() {
		// The same closed loops as clerkpath bench's search phase.
		gw, raw := benchSearch(context.Background(), st, h, clients, dur, st.meter(nil))
		if gw.errors > 0 || raw.errors > 0 {
			b.Errorf("failed requests: %d through the gateway, %d raw", gw.errors, raw.errors)
		}
		b.ReportMetric(gw.throughput, "gateway-req/s")
		b.ReportMetric(raw.throughput, "raw-meili-req/s")
	}
}

// clerkpath bench checks its flags before it starts anything: an unknown
// --until phase is refused with the phases it knows.
func TestBenchRefusesAnUnknownPhase(t *testing.T) {
	_, _, err := runCLI(t, func(string) string { return "" }, "bench", "--until", "lunch")
	if err == nil || !strings.Contains(err.Error(), "seed, ingest, event, reverse, forward, plan, search, mixed") {
		t.Fatalf("bench --until lunch: %v, want the list of phases", err)
	}
}

// The services the bench starts get the bench's configuration, not the
// caller's: every CLERKPATH_ variable of the caller's environment is
// blanked, and what the bench set reads back through config.Load.
func TestBenchServiceEnvIsTheBenchsOwn(t *testing.T) {
	want, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want.NATSURL, want.RedisURL, want.MeiliURL, want.MeiliKey = "nats://127.0.0.1:4333", "redis://127.0.0.1:6390/0", "http://127.0.0.1:7711", "k3y-k3y-k3y-k3y-k3y"
	want.HTTPAddr, want.DataDir, want.JWTPublicKey, want.LogLevel = "127.0.0.1:8099", "/tmp/bench-x", "/tmp/bench-x/dev-keys/pub.pem", "warn"
	want.RateLimit, want.RateLimitAnon, want.IndexPrefix = 1_000_000, 999_999, "b_"
	env := serviceEnv(want, []string{"CLERKPATH_JWKS_URL=https://example.org/jwks", "CLERKPATH_HTTP_ADDR=:8080", "HOME=/root"})
	vars := map[string]string{}
	for _, kv := range env { // later entries win, as in exec.Cmd.Env
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	if _, ok := vars["HOME"]; ok {
		t.Errorf("serviceEnv passes on a variable that is not clerkpath's: %v", env)
	}
	got, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got.JWKSURL != "" {
		t.Errorf("the caller's CLERKPATH_JWKS_URL reached the service: %q", got.JWKSURL)
	}
	for name, pair := range map[string][2]string{
		"NATS": {got.NATSURL, want.NATSURL}, "Redis": {got.RedisURL, want.RedisURL}, "Meili": {got.MeiliURL, want.MeiliURL},
		"MeiliKey": {got.MeiliKey, want.MeiliKey}, "HTTPAddr": {got.HTTPAddr, want.HTTPAddr}, "DataDir": {got.DataDir, want.DataDir},
		"JWT key": {got.JWTPublicKey, want.JWTPublicKey}, "LogLevel": {got.LogLevel, want.LogLevel}, "IndexPrefix": {got.IndexPrefix, want.IndexPrefix},
		"ZCTA": {got.ZCTAFile, want.ZCTAFile},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s: the service reads %q, the bench set %q", name, pair[0], pair[1])
		}
	}
	if got.RateLimit != want.RateLimit || got.RateLimitAnon != want.RateLimitAnon {
		t.Errorf("rate limits: the service reads %d/%d, the bench set %d/%d", got.RateLimit, got.RateLimitAnon, want.RateLimit, want.RateLimitAnon)
	}
}

func TestBenchProfilePathNamesTheProcess(t *testing.T) {
	for in, want := range map[string]string{"cpu.pprof": "cpu.matching.pprof", "/tmp/x/cpu": "/tmp/x/cpu.matching", "a.b/p.out": "a.b/p.matching.out"} {
		if got := profilePath(in, "matching"); got != want {
			t.Errorf("profilePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// The debug endpoint of a service run with --only --debug-addr profiles
// from start to stop and answers stop with the profile; a second start
// while one runs, or a stop without one, is refused.
func TestDebugMuxCPUProfileFromStartToStop(t *testing.T) {
	srv := httptest.NewServer(debugMux())
	defer srv.Close()
	post := func(path string) (int, []byte) {
		res, err := http.Post(srv.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	if code, b := post("/debug/cpuprofile/stop"); code != http.StatusConflict {
		t.Fatalf("stop before start: %d %s, want 409", code, b)
	}
	if code, b := post("/debug/cpuprofile/start"); code != http.StatusNoContent {
		t.Fatalf("start: %d %s", code, b)
	}
	if code, b := post("/debug/cpuprofile/start"); code != http.StatusConflict {
		t.Fatalf("second start: %d %s, want 409", code, b)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { // something to sample
	}
	code, b := post("/debug/cpuprofile/stop")
	if code != http.StatusOK {
		t.Fatalf("stop: %d %s", code, b)
	}
	// A CPU profile is a gzipped protocol buffer.
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("stop did not answer with a CPU profile: %v (%d bytes)", err, len(b))
	}
	if raw, err := io.ReadAll(zr); err != nil || len(raw) == 0 {
		t.Fatalf("stop's profile does not unzip: %d bytes, %v", len(raw), err)
	}
	if code, _ := post("/debug/cpuprofile/stop"); code != http.StatusConflict {
		t.Fatalf("second stop: %d, want 409", code)
	}
}

// `clerkpath run --only NAME` runs that one service against configured
// servers: profiles answers its micro PING, the others do not (no
// responders), and an unknown name is refused with the list.
func TestRunOnlyRunsOneService(t *testing.T) {
	srv := testenv.Open(t, testenv.Needs{Streams: true, Redis: true})
	vars := map[string]string{}
	for _, kv := range serviceEnv(srv.Config, nil) {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	if _, _, err := runCLI(t, getenv, "run", "--only", "lunch"); err == nil || !strings.Contains(err.Error(), "profiles, credentials, ingest, matching, notifications, gateway") {
		t.Fatalf("run --only lunch: %v, want the list of services", err)
	}
	if _, _, err := runCLI(t, func(string) string { return "" }, "run", "--only", "profiles"); err == nil || !strings.Contains(err.Error(), config.EnvNATSURL) {
		t.Fatalf("run --only without servers: %v, want it to ask for %s", err, config.EnvNATSURL)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run", "--only", "profiles"}, environment{getenv: getenv, stdout: io.Discard, stderr: io.Discard})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run --only profiles: %v", err)
		}
	}()
	testenv.Eventually(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return rpc.Serving(ctx, srv.NC, "profiles", profilesapi.Endpoints())
	})
	for _, other := range []string{"credentials", "ingest", "matching", "notifications"} {
		if _, err := srv.NC.Request("$SRV.PING."+other, nil, time.Second); !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("PING %s: %v, want no responders (only profiles runs)", other, err)
		}
	}
}

// The mixed load is, of every 20 requests, 12 public searches, 5 plans
// and 3 posting writes, each write a different posting with the
// employer's token.
func TestBenchMixedTargetsMix(t *testing.T) {
	h := &benchHTTP{base: "http://gw"}
	tr := mixedTargets(h, "tok", population{places: testSampler(t), seed: 1, now: time.Now()}, 100)
	counts := map[string]int{}
	bodies := map[string]bool{}
	for range 40 {
		var tg vegeta.Target
		if err := tr(&tg); err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(tg.URL)
		counts[tg.Method+" "+u.Path]++
		if u.Path == "/v1/postings" {
			if tg.Header.Get("Authorization") != "Bearer tok" {
				t.Errorf("a posting write without the employer's token: %v", tg.Header)
			}
			bodies[string(tg.Body)] = true
		}
	}
	want := map[string]int{"GET /v1/postings/search": 24, "POST /v1/pathways/plan": 10, "POST /v1/postings": 6}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: %d of 40, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
	if len(bodies) != 6 {
		t.Errorf("%d different posting bodies of 6 writes", len(bodies))
	}
}

// A closed loop of c clients never has more than c requests in flight,
// and an open loop counts every request the server failed as an error.
func TestBenchAttacksCountWhatTheServerSaw(t *testing.T) {
	var inFlight, peak, served, failed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		if served.Add(1)%10 == 0 {
			failed.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	tr := targets(func(i int, t *vegeta.Target) { *t = vegeta.Target{Method: "GET", URL: srv.URL} })
	s := closedLoop(context.Background(), c, 3, 300*time.Millisecond, tr, "closed")
	if peak.Load() > 3 {
		t.Errorf("closed loop of 3 clients had %d requests in flight", peak.Load())
	}
	if int64(s.requests) != served.Load() || s.errors != failed.Load() {
		t.Errorf("closed loop: %d requests, %d errors; the server saw %d, failed %d", s.requests, s.errors, served.Load(), failed.Load())
	}
	served.Store(0)
	failed.Store(0)
	s = attack(context.Background(), c, tr, vegeta.Rate{Freq: 100, Per: time.Second}, 500*time.Millisecond, 2, 64, "open")
	if s.requests == 0 || int64(s.requests) != served.Load() || s.errors != failed.Load() {
		t.Errorf("open loop: %d requests, %d errors; the server saw %d, failed %d", s.requests, s.errors, served.Load(), failed.Load())
	}
	if s.p99ms < s.p50ms || s.p50ms <= 0 {
		t.Errorf("latencies: p50 %.2f ms, p99 %.2f ms", s.p50ms, s.p99ms)
	}
}

// An attack tells each kind of request's p99 apart (method and path, not
// the query), so that a mixed load says which part of it is slow.
func TestBenchAttackGivesEachKindsP99(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(40 * time.Millisecond)
		}
	}))
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	tr := targets(func(i int, t *vegeta.Target) {
		if i%2 == 0 {
			*t = vegeta.Target{Method: "GET", URL: srv.URL + "/slow?q=" + strconv.Itoa(i)}
			return
		}
		*t = vegeta.Target{Method: "POST", URL: srv.URL + "/fast"}
	})
	s := attack(context.Background(), c, tr, vegeta.Rate{Freq: 100, Per: time.Second}, 500*time.Millisecond, 2, 64, "kinds")
	slow, fast := s.kinds["GET /slow"], s.kinds["POST /fast"]
	if len(s.kinds) != 2 || slow < 40 || fast <= 0 || fast >= slow {
		t.Fatalf("kinds %v: want GET /slow (p99 ≥ 40 ms) and POST /fast, faster", s.kinds)
	}
	if got := s.kindsP99(); !strings.HasPrefix(got, "GET /slow p99 ") || !strings.Contains(got, ", POST /fast p99 ") {
		t.Fatalf("kindsP99 %q", got)
	}
}

// The scaling curve plots results of different sizes side by side, the
// newer per-service RSS and the older one-process figure alike.
func TestPlotCurveOfDifferentSizes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r benchResult) string {
		b, _ := json.Marshal(r)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rows := func(ingest, p95, fwd, search float64, seekers int) []benchRow {
		return []benchRow{
			{Name: "ingest 1000 postings to searchable", Ours: ingest, Baseline: ingest / 2},
			{Name: fmt.Sprintf("posting acknowledged → reverse matched and announced, %d seekers, p95", seekers), Ours: p95},
			{Name: "forward match (GET /v1/seekers/{id}/matches), p99", Ours: fwd, Baseline: fwd / 3},
			{Name: "public search throughput, 32 clients", Ours: search, Baseline: 2 * search},
		}
	}
	big := write("big.json", benchResult{Postings: 100_000, Seekers: 100_000, Rows: rows(90, 4321, 77, 500, 100_000),
		RSSPeakMB: map[string]float64{"matching": 287, "gateway": 40, "profiles": 30, "credentials": 30, "ingest": 50, "notifications": 20, benchProcessRSS: 900}})
	small := write("small.json", benchResult{Postings: 10_000, Seekers: 10_000, Rows: rows(9, 1234, 55, 600, 10_000),
		RSSPeakMB: map[string]float64{"matching": 123, "gateway": 40, "profiles": 30, "credentials": 30, "ingest": 50, "notifications": 20}})
	old := write("old.json", benchResult{Postings: 1000, Seekers: 500, Rows: []benchRow{{Name: "posting acknowledged → reverse matched and announced, p95", Ours: 999}},
		RSSPeakMB: map[string]float64{"clerkpath (all five services in one process)": 111}})
	var out strings.Builder
	if err := plotCurve(&out, []string{big, small, old}); err != nil {
		t.Fatal(err)
	}
	svg := out.String()
	for _, want := range []string{
		"ingest to searchable (s), max 90", "reverse matched p95 (ms), max 4321", "forward match p99 (ms), max 77",
		"public search, 32 clients (req/s), max 1200", "peak RSS, matching (MB), max 287", "peak RSS, all services (MB), max 457",
		">1000<", ">10000<", ">100000<",
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("the plot lacks %q", want)
		}
	}
	// Per panel a line for clerkpath; ingest, forward and search have a
	// baseline too.
	if n := strings.Count(svg, "<polyline"); n != 6+3 {
		t.Errorf("%d lines, want 9", n)
	}
}

func testSampler(t *testing.T) *seedgen.Sampler {
	t.Helper()
	return seedgen.NewSampler([]seedgen.Place{{ZIP: "10001", Point: geo.Point{Lat: 40.75, Lon: -73.99}, Weight: 1}, {ZIP: "73102", Point: geo.Point{Lat: 35.47, Lon: -97.52}, Weight: 1}})
}

// The forward baseline sends matching's own searches: for seeded seekers,
// every match the gateway returns is among the hits of the raw searches
// matching.ForwardSearches builds (a narrower raw filter would leave
// matches out), and some seekers have matches (else the check is empty).
func TestForwardBaselineSendsMatchingsSearches(t *testing.T) {
	s := startStack(t)
	places, err := seedgen.ReadPlacesFile(s.cfg.ZCTAFile)
	if err != nil {
		t.Fatalf("ZIP centroids (deployments/local/install.sh): %v", err)
	}
	h := &benchHTTP{base: s.base, c: &http.Client{Timeout: time.Minute},
		mint: func(role, sub, org string) (string, error) { return s.token(t, role, sub, org), nil }}
	pop := population{places: seedgen.NewSampler(places), seed: 7, now: time.Now().UTC()}
	ctx := context.Background()
	const seekers = 30
	if _, _, err := pop.seekers(ctx, h, seekers, 4, nil); err != nil {
		t.Fatal(err)
	}
	acc, err := pop.postings(ctx, h, 300, "bench", "T")
	if err != nil {
		t.Fatal(err)
	}
	st := &benchStack{cfg: s.cfg, mc: meiliClient(s)}
	testenv.Eventually(t, 2*time.Minute, func() error {
		if n := st.indexed(ctx, st.postingsIndex()); n < int64(acc) {
			return fmt.Errorf("%d of %d postings indexed", n, acc)
		}
		for i := range seekers {
			tok, _ := h.mint("seeker", seekerID(i), "")
			if code, b, err := h.do(ctx, "GET", "/v1/seekers/"+seekerID(i)+"/matches", tok, nil); err != nil || code != 200 {
				return fmt.Errorf("matches of %s: %d %.100s %v", seekerID(i), code, b, err)
			}
		}
		return nil
	})
	fb, err := newForwardBaseline(ctx, st, h, pop)
	if err != nil {
		t.Fatal(err)
	}
	for _, near := range []bool{false, true} {
		fr, err := benchForward(ctx, h, fb, seekers, near, 40)
		if err != nil {
			t.Fatal(err)
		}
		if len(fr.raw) != 40 || len(fr.ours) != 40 {
			t.Fatalf("near misses %t: %d raw and %d gateway timings of 40", near, len(fr.raw), len(fr.ours))
		}
		if fr.matched == 0 {
			t.Fatalf("near misses %t: no seeker had a match, the check says nothing", near)
		}
		if fr.outside > 0 {
			t.Errorf("near misses %t: %d of 40 seekers had matches outside the raw searches' hits (%d had matches)", near, fr.outside, fr.matched)
		}
	}
}
