package meili_test

import (
	"context"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// countingProxy forwards TCP connections to target and counts how many it
// accepted.
func countingProxy(t *testing.T, target string) (addr string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int64)
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c); _ = up.(*net.TCPConn).CloseWrite() }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String(), accepted
}

// Concurrent requests reuse their connections: 16 at a time for 20 rounds
// open about 16 connections, not one per request (net/http's default
// transport keeps two idle connections per host and closed the rest).
func TestConnectReusesConnectionsUnderConcurrency(t *testing.T) {
	cfg := testenv.Open(t, testenv.Needs{Meili: true}).Config
	addr, accepted := countingProxy(t, strings.TrimPrefix(cfg.MeiliURL, "http://"))
	c := meili.Connect("http://"+addr, cfg.MeiliKey)
	defer c.Close() // closes the idle connections, so the proxy can stop
	const clients, rounds = 16, 20
	for range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Health(context.Background()); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	if n := accepted.Load(); n > 2*clients {
		t.Fatalf("%d requests opened %d connections; want at most %d", clients*rounds, n, 2*clients)
	}
}
