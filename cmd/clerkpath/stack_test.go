package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// token mints a token with the stack's development key.
func (s *stack) token(t testing.TB, role, sub, org string) string {
	t.Helper()
	var out, errb bytes.Buffer
	args := []string{"token", "--role", role, "--sub", sub}
	if org != "" {
		args = append(args, "--org", org)
	}
	getenv := func(k string) string {
		if k == config.EnvDataDir {
			return s.cfg.DataDir
		}
		return ""
	}
	if err := run(context.Background(), args, environment{getenv: getenv, stdout: &out, stderr: &errb}); err != nil {
		t.Fatalf("clerkpath token: %v %s", err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// bearer returns the header pair for a token.
func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// stack is the whole backend running in-process against real servers.
type stack struct {
	js   jetstream.JetStream // opened by events(), for tests that publish or read events
	keys *shred.Keyring

	base string
	logs *syncBuffer
	cfg  config.Config
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stackConfig is a fresh configuration for a whole backend (dev signing
// key, rate limits out of the way, then tweak) and a listener for its
// gateway.
func stackConfig(t testing.TB, tweak ...func(*config.Config)) (config.Config, net.Listener) {
	t.Helper()
	cfg := testenv.Open(t, testenv.Needs{NATS: true, Redis: true, Meili: true}).Config
	// Tests drive many requests from one address; the rate-limit test
	// sets its own limits.
	cfg.RateLimit, cfg.RateLimitAnon = 1_000_000, 1_000_000
	for _, f := range tweak {
		f(&cfg)
	}
	_, pub, err := ensureDevKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.JWTPublicKey = pub
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return cfg, ln
}

func startStack(t testing.TB, tweak ...func(*config.Config)) *stack {
	t.Helper()
	cfg, ln := stackConfig(t, tweak...)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runServices(ctx, cfg, zerolog.New(logs), environment{getenv: func(string) string { return "" }, stderr: logs, stdout: io.Discard}, ln)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("services stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("services did not stop within 20s")
		}
	})
	s := &stack{base: "http://" + ln.Addr().String(), logs: logs, cfg: cfg}
	testenv.Eventually(t, 20*time.Second, func() error {
		res, err := http.Get(s.base + "/readyz")
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			return fmt.Errorf("readyz %d: %s", res.StatusCode, b)
		}
		return nil
	})
	return s
}

func (s *stack) do(t testing.TB, method, path, contentType, body string, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// The thin slice: a posting goes in over HTTP, through ingest and JetStream,
// into the Meilisearch projection, and comes back out of search.
func TestPostingIsSearchableEndToEnd(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	posting := `{"title":"Medical Records Clerk","description":"Scan and index charts. High school diploma required.","employer":"Lakeside Clinic","postal_code":"10001","date_posted":"2026-11-20"}`
	emp := bearer(s.token(t, "employer", "e-1", "lakeside"))
	code, _, body := s.do(t, "POST", "/v1/postings", "application/json", posting, emp...)
	if code != http.StatusCreated {
		t.Fatalf("POST /v1/postings: %d %s", code, body)
	}
	res := decode[struct {
		Accepted []struct{ ID, Status string } `json:"accepted"`
	}](t, body)
	if len(res.Accepted) != 1 || res.Accepted[0].Status != "posted" {
		t.Fatalf("accepted %+v", res)
	}
	id := res.Accepted[0].ID
	testenv.Eventually(t, 10*time.Second, func() error {
		code, _, body := s.do(t, "GET", "/v1/postings/search?q=records+clerk", "", "")
		if code != 200 {
			return fmt.Errorf("search %d %s", code, body)
		}
		out := decode[struct {
			Hits []struct{ ID string } `json:"hits"`
		}](t, body)
		for _, h := range out.Hits {
			if h.ID == id {
				return nil
			}
		}
		return fmt.Errorf("posting %s not among %d hits", id, len(out.Hits))
	})
	// The same posting again is a duplicate, not a second posting.
	code, _, body = s.do(t, "POST", "/v1/postings", "application/json", posting, emp...)
	if code != http.StatusCreated || !strings.Contains(string(body), `"duplicate"`) {
		t.Fatalf("second POST: %d %s", code, body)
	}
}

func TestSeekerProfileRoundTrip(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	profile := `{"education":[{"level":"high_school","status":"completed"}],"experience":[{"area":"records","months":6}],"location":{"postal_code":"10001"},"radius_miles":15}`
	me := bearer(s.token(t, "seeker", "s-1", ""))
	code, hdr, body := s.do(t, "PUT", "/v1/seekers/s-1", "application/json", profile, me...)
	if code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	etag := hdr.Get("ETag")
	code, hdr, body = s.do(t, "GET", "/v1/seekers/s-1", "", "", me...)
	if code != 200 || hdr.Get("ETag") != etag {
		t.Fatalf("GET: %d etag %q (want %q) %s", code, hdr.Get("ETag"), etag, body)
	}
	got := decode[map[string]any](t, body)
	if got["radius_miles"] != float64(15) || got["id"] != "s-1" {
		t.Fatalf("GET returned %v", got)
	}
	// A write based on a stale version loses with 412.
	code, _, _ = s.do(t, "PUT", "/v1/seekers/s-1", "application/json", profile, append(me, "If-Match", etag)...)
	if code != 200 {
		t.Fatalf("PUT with current ETag: %d", code)
	}
	code, _, body = s.do(t, "PUT", "/v1/seekers/s-1", "application/json", profile, append(me, "If-Match", etag)...)
	if code != http.StatusPreconditionFailed {
		t.Fatalf("PUT with stale ETag: %d %s", code, body)
	}
	nobody := bearer(s.token(t, "seeker", "nobody", ""))
	code, _, _ = s.do(t, "GET", "/v1/seekers/nobody", "", "", nobody...)
	if code != http.StatusNotFound {
		t.Fatalf("unknown seeker: %d", code)
	}
}

func TestBadInputGetsProblemDocuments(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		contains                        string
	}{
		{"unknown route", "GET", "/v1/nope", "", "", 404, "no such route"},
		{"malformed JSON", "PUT", "/v1/seekers/s-2", "application/json", "{\"radius_miles\": 5,,}", 400, "line 1, column"},
		{"unknown field", "PUT", "/v1/seekers/s-2", "application/json", `{"favourite_colour":"blue"}`, 400, "favourite_colour"},
		{"bad value", "PUT", "/v1/seekers/s-2", "application/json", `{"experience":[{"area":"juggling","months":-1}]}`, 400, "experience[0].area"},
		{"wrong content type", "POST", "/v1/postings", "text/plain", "hello", 415, "application/json"},
		{"missing fields", "POST", "/v1/postings", "application/json", `{"title":"x"}`, 400, "description"},
		{"method not allowed", "DELETE", "/v1/postings/search", "", "", 405, `"code":"method_not_allowed"`},
		{"NaN latitude", "GET", "/v1/postings/search?lat=NaN&lon=-84.4", "", "", 400, "finite number"},
		{"infinite pay", "GET", "/v1/postings/search?min_hourly=%2BInf", "", "", 400, "min_hourly"},
		{"NUL in an id", "GET", "/v1/postings/abc%00def", "", "", 400, "control character"},
	}
	hdrs := append(bearer(s.token(t, "seeker", "s-2", "")), bearer(s.token(t, "employer", "e-2", "acme"))...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := hdrs[:2]
			if tc.path == "/v1/postings" {
				h = hdrs[2:]
			}
			code, hdr, body := s.do(t, tc.method, tc.path, tc.ctype, tc.body, h...)
			if code != tc.status || hdr.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(body), tc.contains) {
				t.Fatalf("%d %s %s", code, hdr.Get("Content-Type"), body)
			}
		})
	}
}

func TestMetricsCountRequestsPerRoute(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	s.do(t, "GET", "/healthz", "", "")
	code, _, body := s.do(t, "GET", "/metrics", "", "")
	if code != 200 || !strings.Contains(string(body), `clerkpath_http_requests_total{code="200",method="GET",route="GET /healthz"}`) {
		t.Fatalf("metrics %d:\n%s", code, body)
	}
}

// A service that cannot open its connections stops the whole run: the
// services already started are cancelled and runServices returns, rather
// than waiting forever for them (issue 10: an inner cancel shadowed the
// outer one).
func TestRunServicesStopsWhenALaterServiceCannotStart(t *testing.T) {
	t.Parallel()
	cfg, ln := stackConfig(t, func(c *config.Config) {
		c.MeiliURL, c.MeiliKey = "", "" // matching needs Meilisearch; the services before it do not
	})
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runServices(context.Background(), cfg, zerolog.New(logs), environment{getenv: func(string) string { return "" }, stderr: logs, stdout: io.Discard}, ln)
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "matching") {
			t.Errorf("runServices = %v, want an error naming the matching service", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("runServices did not return within 30s after a service failed to start")
	}
}
