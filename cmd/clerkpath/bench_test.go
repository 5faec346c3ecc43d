package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/meili"
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
// text, filter and facets as matching sends) straight to Meilisearch, and
// reports both rates.
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
	run := func(one func(q string) error) float64 {
		var n atomic.Int64
		var failed atomic.Int64
		stop := time.Now().Add(dur)
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := c; time.Now().Before(stop); i++ {
					if err := one(searchQueries[i%len(searchQueries)]); err != nil {
						failed.Add(1)
						continue
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		if failed.Load() > 0 {
			b.Errorf("%d failed requests", failed.Load())
		}
		return float64(n.Load()) / dur.Seconds()
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	b.ResetTimer()
	for b.Loop() {
		gw := run(func(q string) error {
			res, err := hc.Get(s.base + "/v1/postings/search?q=" + url.QueryEscape(q))
			if err != nil {
				return err
			}
			defer res.Body.Close()
			_, _ = io.Copy(io.Discard, res.Body)
			if res.StatusCode != 200 {
				return fmt.Errorf("status %d", res.StatusCode)
			}
			return nil
		})
		raw := run(func(q string) error {
			body := fmt.Sprintf(`{"q":%q,"limit":20,"offset":0,"filter":"status = \"open\"","facets":["credentials_any","work_mode","employment_type","soc_code"]}`, q)
			req, _ := http.NewRequest("POST", s.cfg.MeiliURL+"/indexes/"+postings+"/search", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+s.cfg.MeiliKey)
			res, err := hc.Do(req)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			_, _ = io.Copy(io.Discard, res.Body)
			if res.StatusCode != 200 {
				return fmt.Errorf("status %d", res.StatusCode)
			}
			return nil
		})
		b.ReportMetric(gw, "gateway-req/s")
		b.ReportMetric(raw, "raw-meili-req/s")
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
