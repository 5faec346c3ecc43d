package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// freeRun returns the first of n consecutive free loopback ports.
func freeRun(t *testing.T, n int) int {
	t.Helper()
	for range 200 {
		base := 20000 + rand.IntN(30000)
		ok := true
		for i := range n {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no run of free ports")
	return 0
}

// `clerkpath run --cluster`: three nats-servers, streams at R3, two copies
// of every service behind two gateways; a seeker written through one
// gateway reads the same through the other.
func TestRunCluster(t *testing.T) {
	cfg := testenv.Open(t, testenv.Needs{Redis: true, Meili: true}).Config // its own NATS cluster
	cfg.RateLimit, cfg.RateLimitAnon = 1_000_000, 1_000_000
	privPath, pub, err := ensureDevKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.JWTPublicKey = pub
	priv, err := auth.LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	var lns [clusterCopies]net.Listener
	for i := range lns {
		if lns[i], err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	clientPort, routePort := freeRun(t, 3), freeRun(t, 3)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runErr = runCluster(ctx, cfg, obs.NewLogger(logs, "clerkpath", "info", "json"), environment{getenv: func(string) string { return "" }, stderr: logs, stdout: io.Discard}, lns, clientPort, routePort)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
			if runErr != nil {
				t.Errorf("run --cluster stopped with %v", runErr)
			}
		case <-time.After(60 * time.Second):
			t.Error("run --cluster did not stop within 60s")
		}
		if t.Failed() {
			l := logs.String()
			t.Logf("logs:\n%s", l[max(0, len(l)-5000):])
		}
	}()
	gateways := [2]string{"http://" + lns[0].Addr().String(), "http://" + lns[1].Addr().String()}
	for _, g := range gateways {
		testenv.Eventually(t, 120*time.Second, func() error {
			select {
			case <-done:
				t.Fatalf("run --cluster ended: %v", runErr)
			default:
			}
			code, body, err := clusterGet(g+"/readyz", "")
			if err != nil || code != 200 {
				return fmt.Errorf("%s/readyz: %d %s %v", g, code, body, err)
			}
			return nil
		})
	}
	tok, err := auth.Mint(priv, auth.Claims{Subject: "rc-1", Role: auth.RoleSeeker, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Ready means every service answers; a copy whose projection is still
	// being built answers 503 with Retry-After, and a client retries. The
	// first build waits for its consumers (three replicas each) in a
	// cluster that has just formed: in one make test run, beside the other
	// packages' tests, profiles answered 503 for over a minute, so this
	// waits as long as readiness does.
	retry503 := func(what string, do func() (int, string, error)) (string, error) {
		var body string
		var err error
		testenv.Eventually(t, 120*time.Second, func() error {
			var code int
			code, body, err = do()
			if err == nil && code == http.StatusServiceUnavailable {
				return fmt.Errorf("%s: %d %s", what, code, body)
			}
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("%s: %d %s", what, code, body)
			}
			return nil
		})
		return body, err
	}
	if _, err := retry503("PUT through gateway 1", func() (int, string, error) {
		return clusterDo("PUT", gateways[0]+"/v1/seekers/rc-1", tok, `{"location":{"postal_code":"10001"},"radius_miles":10}`)
	}); err != nil {
		t.Fatal(err)
	}
	var first string
	for i, g := range gateways {
		body, err := retry503(fmt.Sprintf("GET through gateway %d", i+1), func() (int, string, error) { return clusterGet(g+"/v1/seekers/rc-1", tok) })
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = body
		} else if body != first {
			t.Errorf("gateways differ:\n%s\n%s", first, body)
		}
	}
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", clientPort+2))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for _, sc := range events.StreamConfigs(3) {
		st, err := js.Stream(ctx, sc.Name)
		if err != nil {
			t.Fatalf("stream %s: %v", sc.Name, err)
		}
		if r := st.CachedInfo().Config.Replicas; r != 3 {
			t.Errorf("stream %s at R%d, want R3", sc.Name, r)
		}
	}
}

var clusterHTTP = &http.Client{Timeout: 30 * time.Second}

func clusterDo(method, url, token, body string) (int, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := clusterHTTP.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

func clusterGet(url, token string) (int, string, error) { return clusterDo("GET", url, token, "") }
