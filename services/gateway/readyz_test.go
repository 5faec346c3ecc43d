package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// A dependency that is down makes /readyz say which, with 503, and
// crashes nothing: the gateway keeps answering.
func TestReadyzNamesWhatIsDown(t *testing.T) {
	srv := testenv.Open(t, testenv.Needs{Streams: true})
	opt, err := redis.ParseURL("redis://127.0.0.1:1/0?dial_timeout=1s&max_retries=1") // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	_, pub, err := auth.WriteKeyPair(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts := OptionsFrom(srv.Config)
	opts.JWTPublicKeyFile = pub
	g, err := New(srv.NC, srv.JS, rdb, zerolog.Nop(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	var body struct {
		Status       string
		Dependencies map[string]struct{ Status, Error string }
		Services     map[string]struct{ Status string }
	}
	testenv.Eventually(t, 5*time.Second, func() error {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("readyz %d: %s", res.StatusCode, b)
		}
		return json.Unmarshal(b, &body)
	})
	if body.Dependencies["redis"].Status != "down" || body.Dependencies["redis"].Error == "" ||
		body.Dependencies["nats"].Status != "ok" || body.Dependencies["streams"].Status != "ok" {
		t.Fatalf("dependencies %+v", body.Dependencies)
	}
	// The search index is matching's to report, and matching is not
	// running here.
	if m := body.Dependencies["meilisearch"]; m.Status != "unknown" || !strings.Contains(m.Error, "matching") {
		t.Errorf("meilisearch without matching: %+v", m)
	}
	if body.Services["ingest"].Status != "down" {
		t.Fatalf("services %+v", body.Services)
	}
	// Still alive, and requests that need Redis fail cleanly rather than crash.
	if res, err := http.Get(base + "/healthz"); err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	res, err := http.Get(base + "/v1/postings/search?q=x")
	if err != nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("search with matching down: %v %v", res.StatusCode, err)
	}
	if res.Header.Get("Retry-After") == "" {
		t.Error("a 503 without Retry-After")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// /readyz asks the notifications service for its endpoints like every
// other: down while no copy answers, down while a copy has started but not
// yet added its endpoints (it answers PING then, but its requests get "no
// responders"), ok once every endpoint of its contract is served.
func TestReadyzWaitsForNotificationsEndpoints(t *testing.T) {
	srv := testenv.Open(t, testenv.Needs{Streams: true, Redis: true})
	_, pub, err := auth.WriteKeyPair(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts := OptionsFrom(srv.Config)
	opts.JWTPublicKeyFile = pub
	g, err := New(srv.NC, srv.JS, srv.Redis, zerolog.Nop(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	notifications := func() (string, string) {
		t.Helper()
		res, err := http.Get("http://" + ln.Addr().String() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct {
			Services map[string]struct{ Status, Error string }
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		st := body.Services["notifications"]
		return st.Status, st.Error
	}
	if st, _ := notifications(); st != "down" {
		t.Fatalf("notifications with no copy running: %q, want down", st)
	}
	svc, err := micro.AddService(srv.NC, micro.Config{Name: "notifications", Version: "0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = svc.Stop() }()
	if st, msg := notifications(); st != "down" || !strings.Contains(msg, "not served yet") {
		t.Fatalf("notifications started without endpoints: %q %q, want down, starting", st, msg)
	}
	for _, ep := range notificationsapi.Endpoints() {
		err := svc.AddEndpoint(ep.Name, micro.HandlerFunc(func(r micro.Request) { _ = r.Respond([]byte("{}")) }), micro.WithEndpointSubject(ep.Subject))
		if err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 5*time.Second, func() error {
		if st, msg := notifications(); st != "ok" {
			return fmt.Errorf("notifications serving its endpoints: %q %q, want ok", st, msg)
		}
		return nil
	})
}
