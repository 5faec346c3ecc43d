package platform

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/natsserver"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// A service binary without the servers it needs stops at once, naming the
// variables to set.
func TestRunServiceNamesMissingVariables(t *testing.T) {
	var stderr bytes.Buffer
	ran := false
	err := RunService(context.Background(), func(string) string { return "" }, &stderr, "matching", Needs{Redis: true, Meili: true},
		func(context.Context, *Platform) error { ran = true; return nil })
	if err == nil || ran {
		t.Fatalf("err %v, ran %v", err, ran)
	}
	for _, v := range []string{"CLERKPATH_NATS_URL", "CLERKPATH_REDIS_URL", "CLERKPATH_MEILI_URL", "CLERKPATH_MEILI_KEY"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s: %v", v, err)
		}
	}
	err = RunService(context.Background(), func(k string) string {
		if k == "CLERKPATH_LOG_LEVEL" {
			return "chatty"
		}
		return ""
	}, &stderr, "ingest", Needs{}, func(context.Context, *Platform) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "CLERKPATH_LOG_LEVEL") {
		t.Fatalf("bad log level: %v", err)
	}
}

// While replicated streams have no leader (here: two of three servers
// gone, so no quorum) every write fails; the readiness check must say so
// although NATS itself answers (issue 12: /readyz stayed 200).
func TestCheckSeesStreamsWithoutALeader(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	ctx := context.Background()
	servers := testenv.NATSCluster(t, 3)
	js := testenv.JetStreamOn(t, servers[0])
	nc := js.Conn()
	if err := events.EnsureStreams(ctx, js, 3); err != nil {
		t.Fatal(err)
	}
	p := &Platform{NC: nc, JS: js}
	if err := p.Check(ctx)["streams"]; err != nil {
		t.Fatalf("healthy cluster: streams %v", err)
	}
	for _, ns := range servers[1:] {
		ns.Shutdown()
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		if p.Check(ctx)["streams"] == nil {
			return errors.New("streams reported ok with two of three servers down")
		}
		return nil
	})
}

// A NATS server whose max_payload is below what bulk postings need is
// refused at start, naming the setting, rather than failing large requests
// later (issue 12: a stock server broke bulk posting and nothing said so).
func TestOpenRefusesASmallMaxPayload(t *testing.T) {
	ns, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir(), MaxPayload: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	cfg, err := config.Load(func(k string) string {
		if k == config.EnvNATSURL {
			return ns.ClientURL()
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Open(ctx, cfg, "test", Needs{}, zerolog.Nop())
	if err == nil {
		p.Close()
		t.Fatal("opened against a 1 MiB max_payload")
	}
	if !strings.Contains(err.Error(), "max_payload") {
		t.Errorf("error %q does not name max_payload", err)
	}
}
