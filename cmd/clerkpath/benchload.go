// The bench's load runs (vegeta as a library): search throughput against
// raw Meilisearch at the same concurrency, and the open-loop mixed load.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/clerkpath/clerkpath/pkg/seedgen"

	"github.com/clerkpath/clerkpath/services/matching"
)

// loadStats is one vegeta attack's figures.
type loadStats struct {
	rate       float64 // requests a second sent (the pacer's rate, open loop)
	throughput float64 // successful requests a second
	requests   uint64
	errors     int64
	p50ms      float64
	p99ms      float64
	// kinds is the p99 of each kind of request (method and path, without
	// the query), to tell which part of a mixed load is slow.
	kinds map[string]float64
	// cpu is each process's CPU over the attack, when it was metered.
	cpu phaseCPU
}

// kindOf names a result's kind of request: its method and path.
func kindOf(res *vegeta.Result) string {
	path := res.URL
	if u, err := url.Parse(res.URL); err == nil {
		path = u.Path
	}
	return res.Method + " " + path
}

// kindsP99 is "KIND p99 X ms" for each kind, by name.
func (s loadStats) kindsP99() string {
	names := slices.Sorted(maps.Keys(s.kinds))
	out := make([]string, len(names))
	for i, k := range names {
		out[i] = fmt.Sprintf("%s p99 %.0f ms", k, s.kinds[k])
	}
	return strings.Join(out, ", ")
}

// attack runs a vegeta attack until d is over (or ctx ends) and collects
// its metrics; a result with an error (transport error or status outside
// 200-399) counts as an error.
func attack(ctx context.Context, c *http.Client, tr vegeta.Targeter, p vegeta.Pacer, d time.Duration, workers uint64, maxWorkers uint64, name string) loadStats {
	a := vegeta.NewAttacker(vegeta.Client(c), vegeta.Workers(workers), vegeta.MaxWorkers(maxWorkers))
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	var m vegeta.Metrics
	kinds := map[string]*vegeta.Metrics{}
	var failed int64
	for res := range a.Attack(tr, p, d, name) {
		if res.Error != "" {
			failed++
		}
		m.Add(res)
		k := kindOf(res)
		if kinds[k] == nil {
			kinds[k] = &vegeta.Metrics{}
		}
		kinds[k].Add(res)
	}
	m.Close()
	st := loadStats{rate: m.Rate, throughput: m.Throughput, requests: m.Requests, errors: failed, p50ms: ms(m.Latencies.P50), p99ms: ms(m.Latencies.P99), kinds: map[string]float64{}}
	for k, km := range kinds {
		km.Close()
		st.kinds[k] = ms(km.Latencies.P99)
	}
	return st
}

// closedLoop is clients vegeta workers each sending one request after
// another for d (rate 0: as fast as the answers come).
func closedLoop(ctx context.Context, c *http.Client, clients int, d time.Duration, tr vegeta.Targeter, name string) loadStats {
	return attack(ctx, c, tr, vegeta.Rate{Freq: 0}, d, uint64(clients), uint64(clients), name)
}

// targets is a vegeta targeter of the i-th request, i counted from 0.
func targets(next func(i int, t *vegeta.Target)) vegeta.Targeter {
	var n atomic.Int64
	return func(t *vegeta.Target) error {
		next(int(n.Add(1)-1), t)
		return nil
	}
}

// searchTarget is the i-th public search through the gateway.
func (h *benchHTTP) searchTarget(i int, t *vegeta.Target) {
	*t = vegeta.Target{Method: "GET", URL: h.base + "/v1/postings/search?q=" + url.QueryEscape(searchQueries[i%len(searchQueries)])}
}

// rawSearchTarget is the Meilisearch request the gateway's i-th search
// becomes (matching.PublicSearch: text, filter, limit, facets; byte for
// byte what matching sends), sent straight to Meilisearch. searchQueries
// are constants PublicSearch accepts (short plain text): an error is a bug
// in them, and panics as regexp.MustCompile does.
func rawSearchTarget(st *benchStack) func(i int, t *vegeta.Target) {
	path := st.cfg.MeiliURL + "/indexes/" + st.postingsIndex() + "/search"
	hdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + st.cfg.MeiliKey}}
	bodies := make([][]byte, len(searchQueries))
	for i, q := range searchQueries {
		req, err := matching.PublicSearch(q)
		if err == nil {
			bodies[i], err = json.Marshal(req)
		}
		if err != nil {
			panic(fmt.Sprintf("bench: search %q: %v", q, err))
		}
	}
	return func(i int, t *vegeta.Target) {
		*t = vegeta.Target{Method: "POST", URL: path, Body: bodies[i%len(bodies)], Header: hdr}
	}
}

// benchSearch runs the public search through the gateway and then raw
// against Meilisearch, clients at a time for d each, each metered apart.
func benchSearch(ctx context.Context, st *benchStack, h *benchHTTP, clients int, d time.Duration, meter cpuMeter) (gw, raw loadStats) {
	end := meter(fmt.Sprintf("search %d ours", clients))
	gw = closedLoop(ctx, h.c, clients, d, targets(h.searchTarget), "gateway search")
	gw.cpu = end()
	end = meter(fmt.Sprintf("search %d raw", clients))
	raw = closedLoop(ctx, h.c, clients, d, targets(rawSearchTarget(st)), "raw meilisearch search")
	raw.cpu = end()
	return gw, raw
}

// mixedTargets is the mixed load: of every 20 requests 12 public searches,
// 5 plans and 3 single posting writes (each a new generated posting).
func mixedTargets(h *benchHTTP, tok string, pop population, n int) vegeta.Targeter {
	r := rand.New(rand.NewPCG(pop.seed, 5<<40))
	recs := seedgen.Records(r, n, pop.places, pop.now, "M")
	var written atomic.Int64
	auth := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + tok}}
	plan := http.Header{"Content-Type": {"application/json"}}
	return targets(func(i int, t *vegeta.Target) {
		switch k := i % 20; {
		case k < 12:
			h.searchTarget(i, t)
		case k < 17:
			*t = vegeta.Target{Method: "POST", URL: h.base + "/v1/pathways/plan", Body: []byte(planBody), Header: plan}
		default:
			body, _ := json.Marshal(recs[int(written.Add(1)-1)%len(recs)])
			*t = vegeta.Target{Method: "POST", URL: h.base + "/v1/postings", Body: body, Header: auth}
		}
	})
}

// benchMixed finds the highest rate of the mixed load held for hold with
// zero errors and a p99 within mixedMaxP99ms, sent open loop by vegeta at
// a constant rate of 25, 50, 100, 150, 200, 300, 400 a second until one
// fails.
//
// Each step's line gives the cores each process kept busy and, from
// tasks, Meilisearch's tasks enqueued during the step.
func benchMixed(ctx context.Context, h *benchHTTP, pop population, hold time.Duration, say func(string, ...any), meter cpuMeter, tasks func(since time.Time) []string) (loadStats, string, error) {
	tok, err := h.mint("employer", "bench-employer", "bench-mixed")
	if err != nil {
		return loadStats{}, "", err
	}
	tr := mixedTargets(h, tok, pop, 400*int(hold.Seconds()+1)*2)
	var best loadStats
	var steps []string
	for _, rate := range []int{25, 50, 100, 150, 200, 300, 400} {
		end, t0 := meter(fmt.Sprintf("mixed %d/s", rate)), time.Now()
		s := attack(ctx, h.c, tr, vegeta.Rate{Freq: rate, Per: time.Second}, hold, vegeta.DefaultWorkers, 4096, fmt.Sprintf("mixed %d/s", rate))
		s.cpu = end()
		steps = append(steps, fmt.Sprintf("%d/s (sent %.0f/s): %d errors of %d, p50 %.0f ms, p99 %.0f ms (%s)", rate, s.rate, s.errors, s.requests, s.p50ms, s.p99ms, s.kindsP99()))
		say("mixed %d/s: sent %.1f/s, %d errors of %d, p50 %.1f ms, p99 %.1f ms, throughput %.0f/s; %s; cores busy: %s", rate, s.rate, s.errors, s.requests, s.p50ms, s.p99ms, s.throughput, s.kindsP99(), coresBusy(s.cpu))
		for _, l := range tasks(t0) {
			say("mixed %d/s: %s", rate, l)
		}
		// A rate whose p99 passes a second is not held: the queue grows;
		// nor one vegeta could not send (4,096 requests outstanding).
		if s.errors > 0 || s.p99ms > mixedMaxP99ms || s.rate < 0.95*float64(rate) || ctx.Err() != nil {
			break
		}
		best = s
		time.Sleep(2 * time.Second) // let queues drain between steps
	}
	return best, strings.Join(steps, "; "), ctx.Err()
}
