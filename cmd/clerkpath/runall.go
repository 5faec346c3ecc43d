package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/natsserver"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/supervise"
	"github.com/clerkpath/clerkpath/services/credentials"
	"github.com/clerkpath/clerkpath/services/gateway"
	"github.com/clerkpath/clerkpath/services/ingest"
	"github.com/clerkpath/clerkpath/services/matching"
	"github.com/clerkpath/clerkpath/services/notifications"
	"github.com/clerkpath/clerkpath/services/profiles"
)

// Local ports of the servers `clerkpath run` starts when no URL is given.
const (
	defaultNATSPort  = 4222
	defaultRedisPort = 6380 // not 6379: leave a system Redis alone
	defaultMeiliPort = 7700
)

func cmdRun(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "Usage: clerkpath run\n\nStarts an embedded nats-server (JetStream under $CLERKPATH_DATA_DIR/nats, fsync always),")
		fmt.Fprintln(env.stderr, "redis-server and meilisearch as supervised children (data under $CLERKPATH_DATA_DIR), every service")
		fmt.Fprintln(env.stderr, "and the HTTP gateway on $CLERKPATH_HTTP_ADDR (default :8080). Set CLERKPATH_NATS_URL,")
		fmt.Fprintln(env.stderr, "CLERKPATH_REDIS_URL or CLERKPATH_MEILI_URL (+ CLERKPATH_MEILI_KEY) to use servers of your own.")
		fmt.Fprintln(env.stderr, "\n--cluster runs it as production does, on this machine: three clustered nats-servers (clients on")
		fmt.Fprintln(env.stderr, "4222-4224), streams at R3, two copies of every service, gateways on the port of $CLERKPATH_HTTP_ADDR and")
		fmt.Fprintln(env.stderr, "the next; data under $CLERKPATH_DATA_DIR/cluster (docs/deploy.md).")
		fmt.Fprintln(env.stderr, "\n--only NAME runs one service alone against the servers the CLERKPATH_ URLs name, as its own")
		fmt.Fprintln(env.stderr, "binary does (clerkpath bench starts each service so).")
		fs.PrintDefaults()
	}
	cluster := fs.Bool("cluster", false, "three nats-servers and two copies of every service")
	only := fs.String("only", "", "run this one service (profiles, credentials, ingest, matching, notifications or gateway) in this process against the servers configured by CLERKPATH_NATS_URL, CLERKPATH_REDIS_URL and CLERKPATH_MEILI_URL; the gateway listens on CLERKPATH_HTTP_ADDR")
	debugAddr := fs.String("debug-addr", "", "with --only: serve /debug/pprof/ and POST /debug/cpuprofile/start and /stop (the CPU profile in the reply) on this address (clerkpath bench uses it)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := obs.NewLogger(env.stderr, "clerkpath", cfg.LogLevel, cfg.LogFormat)
	if *debugAddr != "" && *only == "" {
		return errors.New("--debug-addr goes with --only")
	}
	if *only != "" && cfg.NATSURL == "" {
		return fmt.Errorf("--only runs one service against servers already running: set %s (and %s, %s, %s)", config.EnvNATSURL, config.EnvRedisURL, config.EnvMeiliURL, config.EnvMeiliKey)
	}
	if cfg.JWTPublicKey == "" && cfg.JWKSURL == "" {
		_, pub, err := ensureDevKeys(cfg)
		if err != nil {
			return err
		}
		cfg.JWTPublicKey = pub
		log.Warn().Str("key", pub).Msg("no token key configured: trusting the local development key (mint tokens with `clerkpath token`)")
	}
	if *only != "" {
		return runOnly(ctx, cfg, log, env, *only, *debugAddr)
	}
	if *cluster {
		lns, err := clusterListeners(cfg.HTTPAddr)
		if err != nil {
			return err
		}
		return runCluster(ctx, cfg, log, env, lns, clusterClientPort, clusterRoutePort)
	}
	infra, err := startInfra(ctx, &cfg, env.getenv, log)
	if err != nil {
		return err
	}
	defer infra.stop()
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (%s): %w", cfg.HTTPAddr, config.EnvHTTPAddr, err)
	}
	return runServices(ctx, cfg, log, env, ln)
}

// infra is the servers `clerkpath run` started itself.
type infra struct {
	nats  *server.Server
	redis *supervise.Process
	meili *supervise.Process
	log   zerolog.Logger
}

func (in *infra) stop() {
	if in.meili != nil {
		in.meili.Stop(10 * time.Second)
	}
	if in.redis != nil {
		in.redis.Stop(10 * time.Second)
	}
	if in.nats != nil {
		in.nats.Shutdown()
		in.nats.WaitForShutdown()
	}
	in.log.Info().Msg("servers stopped")
}

// startInfra starts each server whose URL is not configured and fills in
// its URL.
func startInfra(ctx context.Context, cfg *config.Config, getenv func(string) string, log zerolog.Logger) (*infra, error) {
	in := &infra{log: log}
	data, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if cfg.NATSURL == "" {
		dir := filepath.Join(data, "nats")
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		ns, err := natsserver.Start(natsserver.Options{Port: defaultNATSPort, StoreDir: dir, SyncAlways: true})
		if err != nil {
			return nil, fmt.Errorf("%w (is another NATS on port %d? set %s to use it)", err, defaultNATSPort, config.EnvNATSURL)
		}
		in.nats = ns
		cfg.NATSURL = ns.ClientURL()
		log.Info().Str("url", cfg.NATSURL).Str("store", dir).Msg("embedded nats-server with JetStream (sync always)")
	}
	if cfg.RedisURL == "" {
		bin, err := supervise.FindRedis(getenv)
		if err != nil {
			in.stop()
			return nil, err
		}
		dir := filepath.Join(data, "redis")
		if err := os.MkdirAll(dir, 0o750); err != nil {
			in.stop()
			return nil, err
		}
		spec := supervise.RedisSpec(bin, dir, defaultRedisPort)
		spec.Restart = true
		spec.Output = logFile(filepath.Join(dir, "redis.log"))
		if in.redis, err = supervise.Start(ctx, spec, log); err != nil {
			in.stop()
			return nil, fmt.Errorf("%w (is port %d taken? set %s to use your own Redis)", err, defaultRedisPort, config.EnvRedisURL)
		}
		cfg.RedisURL = "redis://127.0.0.1:" + strconv.Itoa(defaultRedisPort) + "/0"
		log.Info().Str("url", cfg.RedisURL).Int("pid", in.redis.Pid()).Msg("redis-server started")
	}
	if cfg.MeiliURL == "" {
		cwd, _ := os.Getwd()
		bin, err := supervise.FindMeili(getenv, cwd)
		if err != nil {
			in.stop()
			return nil, err
		}
		dir := filepath.Join(data, "meili")
		if err := os.MkdirAll(dir, 0o750); err != nil {
			in.stop()
			return nil, err
		}
		key, err := masterKey(filepath.Join(dir, "master.key"))
		if err != nil {
			in.stop()
			return nil, err
		}
		spec := supervise.MeiliSpec(bin, dir, defaultMeiliPort, key)
		spec.Restart = true
		spec.Output = logFile(filepath.Join(dir, "meilisearch.log"))
		url := "http://127.0.0.1:" + strconv.Itoa(defaultMeiliPort)
		client := meili.Connect(url, key)
		spec.Ready = func(ctx context.Context) error { _, err := client.Health(ctx); return err }
		if in.meili, err = supervise.Start(ctx, spec, log); err != nil {
			in.stop()
			return nil, fmt.Errorf("%w (is port %d taken? set %s to use your own Meilisearch)", err, defaultMeiliPort, config.EnvMeiliURL)
		}
		cfg.MeiliURL, cfg.MeiliKey = url, key
		log.Info().Str("url", url).Int("pid", in.meili.Pid()).Msg("meilisearch started")
	}
	return in, nil
}

// masterKey reads the local Meilisearch master key, creating it once.
func masterKey(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	key := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write meilisearch master key: %w", err)
	}
	return key, nil
}

// logFile opens a child's log for appending; without one the output is
// dropped rather than failing the start.
func logFile(path string) io.Writer {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return io.Discard
	}
	return f
}

// serviceSpec is one service of the backend.
type serviceSpec struct {
	name  string
	needs platform.Needs
	run   platform.RunFunc
}

func allServices(ln net.Listener) []serviceSpec {
	closeLn := func() {
		if ln != nil {
			_ = ln.Close()
		}
	}
	return []serviceSpec{
		{profiles.Name, platform.Needs{Redis: true}, profiles.Run},
		{credentials.Name, platform.Needs{Redis: true}, credentials.Run},
		{ingest.Name, platform.Needs{Redis: true}, ingest.Run},
		{matching.Name, platform.Needs{Redis: true, Meili: true}, matching.Run},
		{notifications.Name, platform.Needs{Redis: true}, notifications.Run},
		{gateway.Name, platform.Needs{Redis: true}, func(ctx context.Context, p *platform.Platform) error {
			g, err := gateway.New(p.NC, p.JS, p.Redis, p.Log, gateway.OptionsFrom(p.Config))
			if err != nil {
				closeLn()
				return err
			}
			return g.Serve(ctx, ln)
		}},
	}
}

// runServices runs every service, each on its own connections (as separate
// processes would), until ctx ends or one fails.
//
// An error a service returns after the run was told to stop (ctx ended, or
// another service failed first) is a consequence of stopping, not a
// failure of its own: a service still starting up when Ctrl-C comes returns
// "context canceled" from whatever it was waiting for.
func runServices(parent context.Context, cfg config.Config, log zerolog.Logger, env environment, ln net.Listener) error {
	return runServiceSet(parent, cfg, log, env, ln, allServices(ln))
}

// runServiceSet runs the given services as runServices runs them all; ln
// is the gateway's listener (nil when the gateway is not among them).
func runServiceSet(parent context.Context, cfg config.Config, log zerolog.Logger, env environment, ln net.Listener, specs []serviceSpec) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	for _, s := range specs {
		slog := obs.NewLogger(env.stderr, s.name, cfg.LogLevel, cfg.LogFormat)
		openCtx, cancelOpen := context.WithTimeout(ctx, 30*time.Second)
		p, err := platform.Open(openCtx, cfg, s.name, s.needs, slog)
		cancelOpen()
		if err != nil {
			if ln != nil {
				_ = ln.Close()
			}
			cancel() // stop the services already started, then wait for them
			if werr := g.Wait(); werr != nil {
				return werr // the first failure, which stopped this one
			}
			if parent.Err() != nil {
				return nil // asked to stop while starting
			}
			return fmt.Errorf("%s: %w", s.name, err)
		}
		g.Go(func() error {
			defer p.Close()
			if err := s.run(ctx, p); err != nil && ctx.Err() == nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			return nil
		})
	}
	if ln != nil {
		log.Info().Str("http", ln.Addr().String()).Msg("clerkpath running; Ctrl-C stops it")
	}
	return g.Wait()
}

// runOnly runs one service in this process against configured servers
// (cmdRun checked that NATS is configured), as its own binary
// (services/<name>/cmd/<name>) does: `clerkpath run --only matching`.
// clerkpath bench starts each service this way, so that each has its own
// process and peak RSS. With debugAddr it serves the debug endpoints
// (debugMux) there while the service runs.
func runOnly(ctx context.Context, cfg config.Config, log zerolog.Logger, env environment, name, debugAddr string) error {
	var ln net.Listener
	if name == gateway.Name {
		var err error
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("listen on %s (%s): %w", cfg.HTTPAddr, config.EnvHTTPAddr, err)
		}
	}
	var specs []serviceSpec
	var names []string
	for _, s := range allServices(ln) {
		names = append(names, s.name)
		if s.name == name {
			specs = append(specs, s)
		}
	}
	if len(specs) == 0 {
		return fmt.Errorf("--only: no service %q (one of %s)", name, strings.Join(names, ", "))
	}
	if debugAddr != "" {
		dln, err := net.Listen("tcp", debugAddr)
		if err != nil {
			if ln != nil {
				_ = ln.Close()
			}
			return fmt.Errorf("--debug-addr %s: %w", debugAddr, err)
		}
		srv := &http.Server{Handler: debugMux(), ReadHeaderTimeout: 5 * time.Second}
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.Serve(dln) }()
		defer func() { _ = srv.Close(); <-done }()
	}
	return runServiceSet(ctx, cfg, log, env, ln, specs)
}

// debugMux is what --debug-addr serves: net/http/pprof under /debug/pprof/,
// and a CPU profile that runs from POST /debug/cpuprofile/start until POST
// /debug/cpuprofile/stop, which answers with it (pprof's own CPU profile
// runs for a number of seconds fixed up front; the bench profiles phases).
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
	var mu sync.Mutex
	var buf *bytes.Buffer
	mux.HandleFunc("POST /debug/cpuprofile/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if buf != nil {
			http.Error(w, "a CPU profile is already running", http.StatusConflict)
			return
		}
		b := &bytes.Buffer{}
		if err := pprof.StartCPUProfile(b); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		buf = b
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /debug/cpuprofile/stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if buf == nil {
			http.Error(w, "no CPU profile is running", http.StatusConflict)
			return
		}
		pprof.StopCPUProfile()
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(buf.Bytes())
		buf = nil
	})
	return mux
}
