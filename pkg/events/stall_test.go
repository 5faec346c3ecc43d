package events_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/natsserver"
	"github.com/clerkpath/clerkpath/pkg/natsx"
)

// freezer is a TCP proxy that can stop forwarding for a while, in both
// directions, without closing anything: to the client behind it the server
// looks stalled (as a server blocked in fsync on a busy disk does), and the
// server goes on writing into the proxy's socket buffers.
type freezer struct {
	mu     sync.Mutex
	frozen bool
	thawed *sync.Cond
}

func newFreezer(t *testing.T, target string) (addr string, f *freezer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f = &freezer{}
	f.thawed = sync.NewCond(&f.mu)
	var wg sync.WaitGroup
	var conns []net.Conn
	var connsMu sync.Mutex
	t.Cleanup(func() {
		_ = ln.Close()
		f.set(false)
		connsMu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		connsMu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				return
			}
			connsMu.Lock()
			conns = append(conns, c, up)
			connsMu.Unlock()
			wg.Go(func() { f.pipe(up, c) })
			wg.Go(func() { f.pipe(c, up) })
		}
	})
	return ln.Addr().String(), f
}

// pipe copies src to dst, holding every chunk while frozen.
func (f *freezer) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			f.mu.Lock()
			for f.frozen {
				f.thawed.Wait()
			}
			f.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) set(frozen bool) {
	f.mu.Lock()
	f.frozen = frozen
	f.mu.Unlock()
	f.thawed.Broadcast()
}

// A server that stops answering for longer than two heartbeats (issue 14:
// at 10,000 postings both of matching's JOBS consumers failed with "no
// heartbeat received" and the indexer then acknowledged nothing) must not
// cost the consumer the events the server sent it in the meantime. Before
// the fix, a missed heartbeat stopped the pull and subscribed anew: what the
// server had delivered to the old pull was dropped by the client and sat
// unacknowledged until AckWait (30 s) ran out, and every further stall did
// it again. Now the pull is kept and the events are handled when the server
// answers again.
func TestConsumerSurvivesAStalledServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir(), SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	addr, freeze := newFreezer(t, ns.Addr().String())
	connect := func(url string) jetstream.JetStream {
		nc, err := natsx.Connect(ctx, url, "test", zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := jetstream.New(nc)
		return js
	}
	direct, behind := connect(ns.ClientURL()), connect("nats://"+addr)
	if err := events.EnsureStreams(ctx, direct, 1); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = events.Run(ctx, behind, events.Consumer{Stream: events.StreamJobs, Durable: "stalled", Filters: []string{events.JobsPosted},
			MaxBatch: 10, Linger: 10 * time.Millisecond}, zerolog.Nop(),
			func(_ context.Context, msgs []jetstream.Msg) []error {
				mu.Lock()
				defer mu.Unlock()
				for _, m := range msgs {
					seen[events.EnvelopeOf(m).ID] = true
				}
				return make([]error, len(msgs))
			})
	}()
	defer func() { cancel(); <-done }()
	unseen := func(ids ...string) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, id := range ids {
			if !seen[id] {
				out = append(out, id)
			}
		}
		return out
	}
	publish := func(id string) {
		if _, err := events.Publish(ctx, direct, events.Event{Subject: events.JobsPosted, ID: id, Payload: id}); err != nil {
			t.Fatal(err)
		}
	}
	publish("before")
	waitFor(t, 10*time.Second, func() []string { return unseen("before") })

	// The server stalls for three heartbeat periods; meanwhile it goes on
	// delivering what is published to the pull it has.
	freeze.set(true)
	var during []string
	for i := range 20 {
		id := fmt.Sprint("during-", i)
		during = append(during, id)
		publish(id)
	}
	time.Sleep(7 * time.Second)
	freeze.set(false)

	// Well within AckWait: the events are handled because they arrived,
	// not because the server gave up on them and redelivered.
	waitFor(t, 12*time.Second, func() []string { return unseen(during...) })
	publish("after")
	waitFor(t, 10*time.Second, func() []string { return unseen("after") })
}

func waitFor(t *testing.T, wait time.Duration, missing func() []string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		m := missing()
		if len(m) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %d events not handled: %v", wait, len(m), m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
