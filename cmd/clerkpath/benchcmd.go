package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/seedgen"
	"github.com/clerkpath/clerkpath/services/credentials"
	"github.com/clerkpath/clerkpath/services/gateway"
	"github.com/clerkpath/clerkpath/services/ingest"
	"github.com/clerkpath/clerkpath/services/matching"
	"github.com/clerkpath/clerkpath/services/matching/postingindex"
	"github.com/clerkpath/clerkpath/services/notifications"
	"github.com/clerkpath/clerkpath/services/profiles"
)

// benchConfig is what `clerkpath bench` measures at.
type benchConfig struct {
	postings, seekers int
	seed              uint64
	hold              time.Duration     // each mixed-load step
	searchFor         time.Duration     // each search-throughput run
	out               string            // results directory
	cpuprofile        string            // CPU profile of the phases profileFrom to profileTo
	profileFrom       string            // the first phase --cpuprofile covers
	profileTo         string            // the last phase --cpuprofile covers
	until             string            // the last phase to run ("": all)
	skip              []string          // phases not to run (--skip)
	settleFor         time.Duration     // longest wait for reverse matching before the raw add
	seedWorkers       int               // concurrent clients seeding seekers
	memoryLimits      map[string]string // GOMEMLIMIT of a service (--memory-limit), by name
}

func cmdBench(ctx context.Context, args []string, env environment) error {
	if len(args) > 0 && args[0] == "plot" {
		// clerkpath bench plot results.json... > curve.svg
		if len(args) < 2 {
			fmt.Fprintln(env.stderr, "Usage: clerkpath bench plot RESULTS.json... > curve.svg")
			return errUsage
		}
		return plotCurve(env.stdout, args[1:])
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var bc benchConfig
	fs.IntVar(&bc.postings, "postings", 10_000, "postings to ingest (the scaling curve uses 10000 and 100000)")
	fs.IntVar(&bc.seekers, "seekers", 10_000, "seekers present while measuring")
	fs.Uint64Var(&bc.seed, "seed", 1, "random seed of the population")
	fs.IntVar(&bc.seedWorkers, "seed-workers", defaultSeedWorkers, "concurrent clients seeding seekers (PUT profile + POST credentials each)")
	fs.DurationVar(&bc.hold, "hold", 30*time.Second, "how long each mixed-load rate must hold")
	fs.DurationVar(&bc.searchFor, "search-for", 10*time.Second, "length of each search-throughput run")
	fs.StringVar(&bc.out, "out", "bench/results", "directory for <timestamp>.json and latest.json")
	fs.StringVar(&bc.cpuprofile, "cpuprofile", "", "CPU profiles of the phases --profile-from to --profile-to, one a process: PATH.matching.pprof for cpu.pprof and each other service, PATH.bench.pprof for the bench's own (embedded nats-server, load generator)")
	fs.StringVar(&bc.profileFrom, "profile-from", "ingest", "the first phase --cpuprofile covers, one of: "+benchPhaseNames())
	fs.StringVar(&bc.profileTo, "profile-to", "reverse", "the last phase --cpuprofile covers")
	fs.DurationVar(&bc.settleFor, "settle-for", 10*time.Minute, "longest wait for reverse matching to settle before the raw Meilisearch add (it then runs beside it, noted)")
	fs.StringVar(&bc.until, "until", "", "stop after this phase, one of: "+benchPhaseNames())
	fs.Func("skip", "phases not to run, comma-separated (seed and ingest cannot be skipped: the others need their population)", func(v string) error {
		for _, ph := range strings.Split(v, ",") {
			if ph == "seed" || ph == "ingest" || !strings.Contains(", "+benchPhaseNames()+",", ", "+ph+",") {
				return fmt.Errorf("not a phase that can be skipped: %q", ph)
			}
			bc.skip = append(bc.skip, ph)
		}
		return nil
	})
	fs.Func("memory-limit", "NAME=LIMIT: run service NAME with GOMEMLIMIT=LIMIT (Go's soft memory limit, e.g. matching=250MiB), as a deployment may; repeatable", func(v string) error {
		name, limit, ok := strings.Cut(v, "=")
		if !ok || !slices.Contains(benchServices, name) || !validMemoryLimit(limit) {
			return fmt.Errorf("want NAME=LIMIT, NAME one of %s and LIMIT as GOMEMLIMIT takes it (e.g. 250MiB): %q", strings.Join(benchServices, ", "), v)
		}
		if bc.memoryLimits == nil {
			bc.memoryLimits = map[string]string{}
		}
		bc.memoryLimits[name] = limit
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "Usage: clerkpath bench [--postings 10000] [--seekers 10000] [--seed 1] [--hold 30s]\n\nStarts its own stack (nats-server with sync always in the bench's process; redis-server, meilisearch and")
		fmt.Fprintln(env.stderr, "each service as its own child process, `clerkpath run --only NAME`),")
		fmt.Fprintln(env.stderr, "seeds a population through the HTTP API, runs each measurement beside its baseline, prints one table")
		fmt.Fprintln(env.stderr, "and writes it as JSON (docs/performance.md). `clerkpath bench plot FILES... > curve.svg` plots results.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if bc.postings < 1000 || bc.postings > 1_000_000 || bc.seekers < 0 || bc.seekers > 1_000_000 {
		return errors.New("--postings: 1000 to 1000000; --seekers: 0 to 1000000")
	}
	for flag, phase := range map[string]string{"until": bc.until, "profile-from": bc.profileFrom, "profile-to": bc.profileTo} {
		if phase != "" && !strings.Contains(", "+benchPhaseNames()+",", ", "+phase+",") {
			return fmt.Errorf("--%s: one of %s", flag, benchPhaseNames())
		}
	}
	st, err := startBenchStack(ctx, env, bc.memoryLimits)
	if err != nil {
		return err
	}
	defer st.stop()
	res, err := runBench(ctx, st, bc, env.stderr)
	if err != nil {
		return err
	}
	printBench(env.stdout, res)
	printPhaseCPU(env.stdout, res.PhaseCPU)
	return writeBench(bc.out, res)
}

// benchServices are the services the bench runs, each in its own process
// (`clerkpath run --only NAME`), as production runs them.
var benchServices = []string{profiles.Name, credentials.Name, ingest.Name, matching.Name, notifications.Name, gateway.Name}

// benchResult is one run's figures: the JSON written to bench/results.
type benchResult struct {
	Started   time.Time          `json:"started"`
	Postings  int                `json:"postings"`
	Seekers   int                `json:"seekers"`
	Seed      uint64             `json:"seed"`
	CPUs      int                `json:"cpus"`
	LoadAvg   []string           `json:"load_average"` // at start and at end
	Rows      []benchRow         `json:"rows"`
	RSSPeakMB map[string]float64 `json:"peak_rss_mb"`
	// PhaseCPU is each phase's CPU by process, and that of parts of a
	// phase (each search run, each mixed-load rate).
	PhaseCPU []phaseCPU `json:"cpu_by_phase,omitempty"`
	Seconds  float64    `json:"seconds"`
	Notes    []string   `json:"notes,omitempty"`
}

// benchRow is one measurement beside its baseline.
type benchRow struct {
	Name     string  `json:"name"`
	Unit     string  `json:"unit"`
	Ours     float64 `json:"clerkpath"`
	Baseline float64 `json:"baseline,omitempty"`
	BaseName string  `json:"baseline_name,omitempty"`
	// Ratio is clerkpath's share of the baseline's speed: clerkpath /
	// baseline for rates, baseline / clerkpath for times; 1 is parity and
	// 0.5 half as fast.
	Ratio  float64 `json:"ratio,omitempty"`
	Target string  `json:"target,omitempty"`
	Note   string  `json:"note,omitempty"`
}

func (r *benchResult) add(row benchRow, higherIsBetter bool) {
	if row.Baseline > 0 && row.Ours > 0 {
		if higherIsBetter {
			row.Ratio = row.Ours / row.Baseline
		} else {
			row.Ratio = row.Baseline / row.Ours
		}
	}
	r.Rows = append(r.Rows, row)
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// benchProcessRSS names the bench's own process in peak_rss_mb: the
// embedded nats-server and the load generator, no service.
const benchProcessRSS = "bench process (embedded nats-server + load generator)"

func runBench(ctx context.Context, st *benchStack, bc benchConfig, logw io.Writer) (*benchResult, error) {
	r, err := newBenchRun(st, bc, logw)
	if err != nil {
		return nil, err
	}
	stopProfile := func() error { return nil }
	defer func() { _ = stopProfile() }()
	if !slices.Contains(bc.skip, "plan") {
		// The engine's own time, before the population loads the machine
		// (planPhase also measures it beside the loaded stack).
		if r.planIdle, err = benchPlanInProcess(1000); err != nil {
			return nil, fmt.Errorf("bench plan: %w", err)
		}
	}
	for _, ph := range benchPhases {
		if ph.name == bc.profileFrom && bc.cpuprofile != "" {
			if stopProfile, err = st.startCPUProfiles(ctx, bc.cpuprofile); err != nil {
				return nil, err
			}
		}
		if slices.Contains(bc.skip, ph.name) {
			r.res.Notes = append(r.res.Notes, "the "+ph.name+" phase was skipped (--skip)")
		} else {
			end := r.meter(ph.name)
			if err := ph.run(r, ctx); err != nil {
				return nil, fmt.Errorf("bench %s: %w", ph.name, err)
			}
			end()
		}
		if ph.name == bc.profileTo {
			if err := stopProfile(); err != nil {
				return nil, err
			}
			stopProfile = func() error { return nil }
		}
		if ph.name == bc.until {
			r.res.Notes = append(r.res.Notes, "stopped after the "+ph.name+" phase (--until)")
			break
		}
	}
	r.res.RSSPeakMB[benchProcessRSS] = peakRSSMB(0)
	for name, pid := range st.pids {
		r.res.RSSPeakMB[name] = peakRSSMB(pid)
	}
	r.res.LoadAvg = append(r.res.LoadAvg, loadAvg())
	r.res.Seconds = time.Since(r.t0).Seconds()
	return r.res, nil
}

// benchRun is one bench run in progress: the stack, the population, the
// API client and the figures so far.
type benchRun struct {
	st  *benchStack
	bc  benchConfig
	h   *benchHTTP
	pop population
	res *benchResult
	t0  time.Time
	log io.Writer
	// planIdle is pathway.Recommend timed before seeding, the stack idle.
	planIdle []time.Duration
}

func newBenchRun(st *benchStack, bc benchConfig, logw io.Writer) (*benchRun, error) {
	t0 := time.Now()
	res := &benchResult{Started: t0.UTC(), Postings: bc.postings, Seekers: bc.seekers, Seed: bc.seed, CPUs: runtime.NumCPU(), LoadAvg: []string{loadAvg()}, RSSPeakMB: map[string]float64{}}
	places, err := seedgen.ReadPlacesFile(st.cfg.ZCTAFile)
	if err != nil {
		return nil, fmt.Errorf("ZIP centroids (run deployments/local/install.sh): %w", err)
	}
	// A generous timeout: on a loaded machine a bulk request of 1,000
	// postings has taken over 30 s; slowness shows in the figures instead.
	// No gzip, so that raw Meilisearch answers as it does to matching.
	h := &benchHTTP{base: st.base, c: &http.Client{Timeout: 3 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}}}
	if h.mint, err = devMinter(st.keyDir, st.cfg); err != nil {
		return nil, err
	}
	pop := population{places: seedgen.NewSampler(places), seed: bc.seed, now: time.Now().UTC()}
	for _, name := range slices.Sorted(maps.Keys(bc.memoryLimits)) {
		res.Notes = append(res.Notes, fmt.Sprintf("%s ran with GOMEMLIMIT=%s (--memory-limit)", name, bc.memoryLimits[name]))
	}
	return &benchRun{st: st, bc: bc, h: h, pop: pop, res: res, t0: t0, log: logw}, nil
}

func (r *benchRun) say(format string, a ...any) {
	fmt.Fprintf(r.log, "bench %5.0fs: %s\n", time.Since(r.t0).Seconds(), fmt.Sprintf(format, a...))
}

// benchPhases run in this order; --until names the last one to run.
var benchPhases = []struct {
	name string
	run  func(*benchRun, context.Context) error
}{
	{"seed", (*benchRun).seedPhase},
	{"ingest", (*benchRun).ingestPhase},
	{"event", (*benchRun).eventPhase},
	{"reverse", (*benchRun).reversePhase},
	{"forward", (*benchRun).forwardPhase},
	{"plan", (*benchRun).planPhase},
	{"search", (*benchRun).searchPhase},
	{"mixed", (*benchRun).mixedPhase},
}

func benchPhaseNames() string {
	names := make([]string, len(benchPhases))
	for i, ph := range benchPhases {
		names[i] = ph.name
	}
	return strings.Join(names, ", ")
}

func (r *benchRun) seedPhase(ctx context.Context) error {
	r.say("seeding %d seekers", r.bc.seekers)
	d, retries, err := r.pop.seekers(ctx, r.h, r.bc.seekers, max(1, r.bc.seedWorkers), func(done int) {
		r.say("  %d of %d seekers seeded", done, r.bc.seekers)
	})
	if err != nil {
		return err
	}
	row := benchRow{Name: "seed seekers (PUT profile + POST credentials)", Unit: "seekers/s", Ours: float64(r.bc.seekers) / d.Seconds()}
	if retries > 0 {
		row.Note = fmt.Sprintf("%d credential writes answered 404 'no seeker' after the profile's 200 and were sent again", retries)
		r.say("  %s", row.Note)
	}
	r.res.add(row, true)
	// Matching applies the events as they come; allow 10 ms a seeker
	// beyond five minutes for it to catch up.
	if err := waitSeekersApplied(ctx, r.st, 5*time.Minute+time.Duration(r.bc.seekers)*10*time.Millisecond); err != nil {
		return err
	}
	r.say("seekers applied by matching")
	return nil
}

func (r *benchRun) ingestPhase(ctx context.Context) error {
	r.say("ingest %d postings to searchable", r.bc.postings)
	_ = r.st.redis.stalls(ctx) // from the ingest on
	t0 := time.Now()
	end := r.meter("ingest: to searchable")
	ours, accepted, err := ingestToSearchable(ctx, r.st, r.h, r.pop, r.bc.postings)
	if err != nil {
		return err
	}
	r.say("ingest: accepted in %.1f s, searchable in %.1f s; cores busy: %s", accepted.Seconds(), ours.Seconds(), coresBusy(end()))
	if shown, err := r.st.mc.Index(r.st.postingsIndex()).Search(ctx, "", &meilisearch.SearchRequest{Filter: postingindex.ShownFilter, Limit: 1}); err == nil {
		r.say("  %d postings shown (one per duplicate cluster) of %d indexed", shown.EstimatedTotalHits, r.st.indexed(ctx, r.st.postingsIndex()))
	}
	for _, line := range meiliTaskSummary(ctx, r.st.mc, t0) {
		r.say("  meilisearch %s", line)
	}
	r.say("  meilisearch %s, where its batches' time went: %s", r.st.postingsIndex(), meiliSteps(ctx, r.st.mc, r.st.postingsIndex(), t0))
	r.say("  redis: %s", r.st.redis.stalls(ctx))
	// The baseline runs once reverse matching has settled, beside nothing.
	left, err := awaitReverseSettled(ctx, r.st, r.bc.settleFor, r.say)
	r.say("  redis while reverse matching settled: %s", r.st.redis.stalls(ctx))
	if err != nil {
		return err
	}
	row := benchRow{Name: fmt.Sprintf("ingest %d postings to searchable, %d seekers present", r.bc.postings, r.bc.seekers), Unit: "s",
		Ours: ours.Seconds(), BaseName: "raw Meilisearch add (batches of 1,000) into an index with the same settings", Target: "≥ 0.8"}
	if left > 0 {
		note := fmt.Sprintf("reverse matching still had %d postings to match %.0f s after ingest began (--settle-for %s): the raw add ran beside it", left, time.Since(t0).Seconds(), r.bc.settleFor)
		r.say("  %s", note)
		row.Note = note
	}
	r.say("  reverse matching settled or given up at %.0f s after ingest began", time.Since(t0).Seconds())
	end = r.meter("ingest: raw add")
	raw, err := rawAdd(ctx, r.st)
	if err != nil {
		return err
	}
	r.say("  raw add: cores busy: %s", coresBusy(end()))
	r.say("  raw Meilisearch add %.1f s", raw.Seconds())
	row.Baseline = raw.Seconds()
	r.res.add(row, false)
	return nil
}

func (r *benchRun) eventPhase(ctx context.Context) error {
	r.say("event path")
	ev, evRaw, err := benchEventPath(ctx, r.st, r.h, r.pop)
	if err != nil {
		return err
	}
	for _, q := range []float64{0.50, 0.99} {
		r.res.add(benchRow{Name: fmt.Sprintf("accept one posting (POST /v1/postings), p%02.0f", q*100), Unit: "ms", Ours: ms(pct(ev, q)), Baseline: ms(pct(evRaw, q)),
			BaseName: "raw JetStream publish of a 3 KB message, file stream, sync always"}, false)
	}
	return nil
}

func (r *benchRun) reversePhase(ctx context.Context) error {
	r.say("reverse match: posting acknowledged → matches announced")
	// The postings of the phases before (the event path's 300) are matched
	// first: a sample times one posting, not the queue ahead of it (at
	// 100,000 seekers those 300 took over a minute and the first sample
	// timed out behind them).
	if left, err := awaitReverseSettled(ctx, r.st, r.bc.settleFor, r.say); err != nil {
		return err
	} else if left > 0 {
		return fmt.Errorf("reverse: %d earlier postings still not matched after --settle-for %s", left, r.bc.settleFor)
	}
	rev, err := benchReverse(ctx, r.st, r.h, r.pop, reverseSamples)
	if err != nil {
		return err
	}
	r.say("reverse: p50 %.0f ms, p95 %.0f ms, p99 %.0f ms", ms(pct(rev, 0.5)), ms(pct(rev, 0.95)), ms(pct(rev, 0.99)))
	name := fmt.Sprintf("posting acknowledged → reverse matched and announced, %d seekers", r.bc.seekers)
	r.res.add(benchRow{Name: name + ", p50", Unit: "ms", Ours: ms(pct(rev, 0.5))}, false)
	r.res.add(benchRow{Name: name + ", p95", Unit: "ms", Ours: ms(pct(rev, 0.95)), Target: "≤ 5000 at 100,000 seekers"}, false)
	r.res.add(benchRow{Name: name + ", p99", Unit: "ms", Ours: ms(pct(rev, 0.99)), Note: fmt.Sprintf("%d postings, one at a time", len(rev))}, false)
	return nil
}

// reverseSamples is how many postings the reverse phase times.
const reverseSamples = 40

func (r *benchRun) forwardPhase(ctx context.Context) error {
	r.say("forward match through the gateway, beside the raw same-filter searches")
	fb, err := newForwardBaseline(ctx, r.st, r.h, r.pop)
	if err != nil {
		return err
	}
	for _, near := range []bool{false, true} {
		fr, err := benchForward(ctx, r.h, fb, r.bc.seekers, near, 200)
		if err != nil {
			return err
		}
		name, target := "forward match (GET /v1/seekers/{id}/matches)", "≤ 1.5× (ratio ≥ 0.67)"
		base := "raw Meilisearch search with matching's filter, sort and limit (matching.ForwardSearches)"
		if near {
			name += " with near misses"
			target = "≤ 2× (ratio ≥ 0.5)"
			base = "matching's two raw Meilisearch searches (candidates, near-miss candidates), one after the other"
		}
		note := fmt.Sprintf("%d of %d seekers had matches, all among the raw search's hits", fr.matched, len(fr.ours))
		if fr.outside > 0 {
			note = fmt.Sprintf("%d of %d seekers had a match outside the raw search's hits: the filters differ", fr.outside, len(fr.ours))
		}
		r.res.add(benchRow{Name: name + ", p50", Unit: "ms", Ours: ms(pct(fr.ours, 0.5)), Baseline: ms(pct(fr.raw, 0.5)), BaseName: base}, false)
		r.res.add(benchRow{Name: name + ", p99", Unit: "ms", Ours: ms(pct(fr.ours, 0.99)), Baseline: ms(pct(fr.raw, 0.99)), BaseName: base, Target: target, Note: note}, false)
		r.say("forward near_misses=%t: p99 %.1f ms vs raw %.1f ms", near, ms(pct(fr.ours, 0.99)), ms(pct(fr.raw, 0.99)))
	}
	return nil
}

func (r *benchRun) planPhase(ctx context.Context) error {
	r.say("plan")
	inproc, gw, err := benchPlan(ctx, r.h, 1000)
	if err != nil {
		return err
	}
	if r.planIdle != nil {
		r.res.add(benchRow{Name: "plan in-process (pathway.Recommend), stack idle, p50", Unit: "ms", Ours: ms(pct(r.planIdle, 0.5))}, false)
		r.res.add(benchRow{Name: "plan in-process (pathway.Recommend), stack idle, p99", Unit: "ms", Ours: ms(pct(r.planIdle, 0.99)), Target: "< 1",
			Note: "measured before seeding, the services started and idle: the engine's own time"}, false)
	}
	r.res.add(benchRow{Name: "plan in-process (pathway.Recommend) beside the loaded stack, p50", Unit: "ms", Ours: ms(pct(inproc, 0.5))}, false)
	r.res.add(benchRow{Name: "plan in-process (pathway.Recommend) beside the loaded stack, p99", Unit: "ms", Ours: ms(pct(inproc, 0.99)),
		Note: "measured in this phase, while the services still work on the ingested postings: adds the machine's scheduling and this process's collections (it also runs the embedded nats-server)"}, false)
	r.res.add(benchRow{Name: "plan through the gateway (POST /v1/pathways/plan), p50", Unit: "ms", Ours: ms(pct(gw, 0.5))}, false)
	r.res.add(benchRow{Name: "plan through the gateway (POST /v1/pathways/plan), p99", Unit: "ms", Ours: ms(pct(gw, 0.99))}, false)
	return nil
}

func (r *benchRun) searchPhase(ctx context.Context) error {
	for _, c := range []int{8, 32} {
		r.say("search throughput at concurrency %d", c)
		g, raw := benchSearch(ctx, r.st, r.h, c, r.bc.searchFor, r.meter)
		if err := ctx.Err(); err != nil {
			return err
		}
		r.res.add(benchRow{Name: fmt.Sprintf("public search throughput, %d clients", c), Unit: "req/s", Ours: g.throughput, Baseline: raw.throughput,
			BaseName: "the same Meilisearch query (text, filter, facets) over HTTP, closed loop (vegeta, rate 0)", Target: "≥ 0.7, zero errors",
			Note: fmt.Sprintf("errors %d of %d vs %d of %d; p50 %.1f vs %.1f ms; p99 %.1f vs %.1f ms; CPU a search (ms): ours %s; raw %s", g.errors, g.requests, raw.errors, raw.requests, g.p50ms, raw.p50ms, g.p99ms, raw.p99ms,
				perRequestMS(g.cpu, g.requests), perRequestMS(raw.cpu, raw.requests))}, true)
	}
	return nil
}

func (r *benchRun) mixedPhase(ctx context.Context) error {
	r.say("mixed load (60%% search, 25%% plan, 15%% posting writes), %s per rate", r.bc.hold)
	tasks := func(since time.Time) []string {
		var out []string
		for _, l := range meiliTaskSummary(ctx, r.st.mc, since) {
			out = append(out, "meilisearch "+l)
		}
		out = append(out, "meilisearch "+r.st.postingsIndex()+", where its batches' time went: "+meiliSteps(ctx, r.st.mc, r.st.postingsIndex(), since))
		return append(out, "redis: "+r.st.redis.stalls(ctx))
	}
	best, steps, err := benchMixed(ctx, r.h, r.pop, r.bc.hold, r.say, r.meter, tasks)
	if err != nil {
		return err
	}
	r.res.add(benchRow{Name: fmt.Sprintf("mixed load: highest rate held %s, zero errors, p99 ≤ %d ms", r.bc.hold, mixedMaxP99ms), Unit: "req/s", Ours: best.rate, Target: "≥ 200 with p99 ≤ 250 ms",
		Note: fmt.Sprintf("open loop (vegeta, constant rate); its p50 %.1f ms, p99 %.1f ms; steps %s", best.p50ms, best.p99ms, steps)}, true)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pct is the nearest-rank percentile of ds (sorted in place).
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p+0.999999) - 1
	return ds[max(0, min(len(ds)-1, i))]
}

// defaultSeedWorkers is how many clients seed seekers at once: seeding is
// bound by the nats-server's fsync of each event (sync always), and more
// requests in flight share them.
const defaultSeedWorkers = 64

// planBody is the plan the bench asks for: docs/examples/clerk-to-rhit.json.
const planBody = `{"education":[{"level":"high_school","status":"completed"},{"level":"associate","field":"HIM","cahiim_accredited":true,"status":"in_progress"}],"experience":[{"area":"records","months":18}],"target":"RHIT"}`

// searchQueries are the public searches the throughput runs send.
var searchQueries = []string{"medical records", "coder", "RHIT", "release of information", "cancer registrar", "inpatient coding", "privacy", "remote coder", "health information", "data analyst"}

// mixedMaxP99ms is the p99 above which a mixed-load rate does not count as
// held even without errors (requests are queueing, not being served).
const mixedMaxP99ms = 1000

func printBench(w io.Writer, r *benchResult) {
	fmt.Fprintf(w, "\nclerkpath bench: %d postings, %d seekers, seed %d, %d CPUs, load average %s, %.0f s\n\n", r.Postings, r.Seekers, r.Seed, r.CPUs, strings.Join(r.LoadAvg, " → "), r.Seconds)
	fmt.Fprintf(w, "%-78s %12s %12s %7s  %s\n", "measurement", "clerkpath", "baseline", "ratio", "target / baseline / note")
	for _, row := range r.Rows {
		base, ratio := "", ""
		if row.Baseline > 0 {
			base = fmt.Sprintf("%.2f", row.Baseline)
		}
		if row.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", row.Ratio)
		}
		var parts []string
		for _, p := range []string{row.Target, row.BaseName, row.Note} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		extra := strings.Join(parts, "; ")
		fmt.Fprintf(w, "%-78s %12s %12s %7s  %s\n", row.Name+" ("+row.Unit+")", fmt.Sprintf("%.2f", row.Ours), base, ratio, extra)
	}
	fmt.Fprintln(w, "\npeak RSS (VmHWM):")
	names := make([]string, 0, len(r.RSSPeakMB))
	for n := range r.RSSPeakMB {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-50s %8.0f MB\n", n, r.RSSPeakMB[n])
	}
	fmt.Fprintln(w, "\nratio: clerkpath's share of the baseline's speed (1 = parity; for times baseline/clerkpath, for rates clerkpath/baseline)")
}

func writeBench(dir string, r *benchResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	name := filepath.Join(dir, r.Started.Format("20060102T150405Z")+".json")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "latest.json"), b, 0o644)
}

// validMemoryLimit is a GOMEMLIMIT value: a number of bytes with an
// optional B, KiB, MiB, GiB or TiB suffix.
func validMemoryLimit(v string) bool {
	num := v
	for _, unit := range []string{"KiB", "MiB", "GiB", "TiB", "B"} {
		if n, ok := strings.CutSuffix(v, unit); ok {
			num = n
			break
		}
	}
	n, err := strconv.ParseUint(num, 10, 63)
	return err == nil && n > 0
}
