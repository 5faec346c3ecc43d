//go:build faults

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// clusterCopy is one copy of one service, running in-process on its own
// NATS connection.
type clusterCopy struct {
	name   string
	cancel context.CancelFunc
	done   chan error
}

func (c *clusterCopy) stop(t *testing.T) {
	t.Helper()
	c.cancel()
	select {
	case err := <-c.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("%s stopped with %v", c.name, err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30s", c.name)
	}
}

// startCopy starts one copy of every service against cfg (its own NATS
// node), the gateway on addr, in the order runServices uses.
func startCopy(cfg config.Config, copyN int, addr string, logs io.Writer) ([]*clusterCopy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("copy %d: listen %s: %w", copyN, addr, err)
	}
	var out []*clusterCopy
	for _, s := range allServices(ln) {
		name := fmt.Sprintf("%s-%d", s.name, copyN)
		log := obs.NewLogger(logs, name, "warn", "json")
		openCtx, cancelOpen := context.WithTimeout(context.Background(), 60*time.Second)
		p, err := platform.Open(openCtx, cfg, s.name, s.needs, log)
		cancelOpen()
		if err != nil {
			for _, c := range out {
				c.cancel()
				<-c.done
			}
			_ = ln.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		c := &clusterCopy{name: name, cancel: cancel, done: make(chan error, 1)}
		go func() {
			defer p.Close()
			c.done <- s.run(ctx, p)
		}()
		out = append(out, c)
	}
	return out, nil
}

// TestFaultClusterSeekers is issue 12's cluster test: three nats-servers
// (JetStream clustered, sync always), streams at R3, two copies of every
// service, each copy on a different node, behind two gateways. 1,000 seekers
// are created at once through both gateways while the PROFILES stream's
// leader node is shut down and one copy of every service (gateway included)
// is stopped, and later started again. A write the client saw fail is
// retried through the other gateway, as a load balancer would. At the end
// every acknowledged seeker must be readable through both gateways with the
// same answer (lost 0), no seeker may have more events than writes were
// attempted for it (duplicated 0), and matching must know every seeker
// through both gateways.
func TestFaultClusterSeekers(t *testing.T) {
	const seekers = 1000
	started := time.Now()
	servers := testenv.NATSCluster(t, 3)
	base := testenv.Open(t, testenv.Needs{Redis: true, Meili: true}).Config
	base.StreamReplicas = 3
	base.RateLimit, base.RateLimitAnon = 1_000_000, 1_000_000
	privPath, pub, err := ensureDevKeys(base)
	if err != nil {
		t.Fatal(err)
	}
	base.JWTPublicKey = pub
	priv, err := auth.LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	defer func() {
		if t.Failed() {
			l := logs.String()
			t.Logf("service logs (last 6000 bytes):\n%s", l[max(0, len(l)-6000):])
		}
	}()

	addrs := [2]string{}
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = ln.Addr().String()
		ln.Close()
	}
	cfgs := [2]config.Config{}
	copies := [2][]*clusterCopy{}
	for i := range 2 {
		cfgs[i] = base
		cfgs[i].NATSURL = servers[i].ClientURL() // copy i on node i; it learns the others
		if copies[i], err = startCopy(cfgs[i], i, addrs[i], logs); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, cs := range copies {
			for _, c := range cs {
				c.stop(t)
			}
		}
	}()
	gateways := [2]string{"http://" + addrs[0], "http://" + addrs[1]}
	for _, g := range gateways {
		testenv.Eventually(t, 60*time.Second, func() error {
			code, body, err := clusterGet(g+"/readyz", "")
			if err != nil || code != 200 {
				return fmt.Errorf("%s/readyz: %d %s %v", g, code, body, err)
			}
			return nil
		})
	}

	// A client on node 3, which stays up unless it leads PROFILES.
	js := clusterJS(t, servers)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := js.Stream(ctx, events.StreamProfiles)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.Config.Replicas != 3 || info.Cluster == nil {
		t.Fatalf("PROFILES: %+v %v", info, err)
	}
	leaderName := info.Cluster.Leader
	var leader *server.Server
	for _, ns := range servers {
		if ns.Name() == leaderName {
			leader = ns
		}
	}
	if leader == nil {
		t.Fatalf("PROFILES leader %q is none of the cluster's nodes", leaderName)
	}
	t.Logf("cluster up in %v; PROFILES leader %s", time.Since(started).Round(time.Millisecond), leaderName)

	tokens := make([]string, seekers)
	for i := range tokens {
		tokens[i], err = auth.Mint(priv, auth.Claims{Subject: clusterSeeker(i), Role: auth.RoleSeeker, Issuer: base.JWTIssuer, Audience: base.JWTAudience, TTL: time.Hour}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}

	// Writes, with the faults injected once 300 are acknowledged and the
	// stopped copies started again once 700 are.
	attempts := make([]int, seekers)
	acked := make([]bool, seekers)
	var nAcked, failures atomic.Int64
	faultsDone := make(chan struct{})
	var downMu sync.RWMutex // held for writing while gateway 1 is away
	gatewayDown := false
	go func() {
		defer close(faultsDone)
		for nAcked.Load() < 300 {
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("at %d acknowledged: shutting down node %s (PROFILES leader) and copy 1 of every service", nAcked.Load(), leaderName)
		leader.Shutdown()
		downMu.Lock()
		gatewayDown = true
		downMu.Unlock()
		for _, c := range copies[1] {
			c.stop(t)
		}
		for nAcked.Load() < 700 && nAcked.Load()+failures.Load() < 5*seekers {
			time.Sleep(5 * time.Millisecond)
		}
		// Copy 1 comes back on a node that is still up.
		cfg := cfgs[1]
		for _, ns := range servers {
			if ns != leader {
				cfg.NATSURL = ns.ClientURL()
				break
			}
		}
		t.Logf("at %d acknowledged: starting copy 1 again", nAcked.Load())
		restarted, err := startCopy(cfg, 1, addrs[1], logs)
		if err != nil {
			t.Errorf("copy 1 does not start again: %v", err)
			return
		}
		copies[1] = restarted
		downMu.Lock()
		gatewayDown = false
		downMu.Unlock()
	}()
	profile := `{"education":[{"level":"high_school","status":"completed"}],"experience":[{"area":"records","months":6}],"location":{"postal_code":"10001"},"radius_miles":25}`
	writeStart := time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 32 {
		wg.Go(func() {
			for i := range work {
				for try := 0; ; try++ {
					g := (i + try) % 2
					downMu.RLock()
					if g == 1 && gatewayDown {
						g = 0 // the load balancer no longer sends to a gateway that is gone
					}
					downMu.RUnlock()
					attempts[i]++
					code, body, err := clusterDo("PUT", gateways[g]+"/v1/seekers/"+clusterSeeker(i), tokens[i], profile)
					if err == nil && code == 200 {
						acked[i] = true
						nAcked.Add(1)
						break
					}
					failures.Add(1)
					if err == nil && code != 503 && code != 502 && code != 504 {
						t.Errorf("seeker %d: PUT through gateway %d: %d %s", i, g, code, body)
						break
					}
					if try > 60 {
						t.Errorf("seeker %d: no success in %d tries: %d %s %v", i, try, code, body, err)
						break
					}
					time.Sleep(time.Duration(50+try*50) * time.Millisecond)
				}
			}
		})
	}
	for i := range seekers {
		work <- i
	}
	close(work)
	wg.Wait()
	<-faultsDone
	t.Logf("writes: %d of %d acknowledged in %v, %d failed attempts retried", nAcked.Load(), seekers, time.Since(writeStart).Round(time.Millisecond), failures.Load())
	for _, g := range gateways {
		testenv.Eventually(t, 60*time.Second, func() error {
			code, body, err := clusterGet(g+"/readyz", "")
			if err != nil || code != 200 {
				return fmt.Errorf("%s/readyz after the faults: %d %s %v", g, code, body, err)
			}
			return nil
		})
	}

	// Every acknowledged seeker, through both gateways, the same answer;
	// and matching knows them through both.
	readStart := time.Now()
	var lost, differ atomic.Int64
	var mu sync.Mutex
	var examples []string
	note := func(s string) {
		mu.Lock()
		if len(examples) < 10 {
			examples = append(examples, s)
		}
		mu.Unlock()
	}
	work = make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				if !acked[i] {
					continue
				}
				id := clusterSeeker(i)
				var bodies [2]string
				ok := true
				for g := range 2 {
					deadline := time.Now().Add(20 * time.Second)
					for {
						code, body, err := clusterGet(gateways[g]+"/v1/seekers/"+id, tokens[i])
						if err == nil && code == 200 {
							bodies[g] = body
							break
						}
						if time.Now().After(deadline) {
							lost.Add(1)
							ok = false
							note(fmt.Sprintf("%s through gateway %d: %d %s %v", id, g, code, body, err))
							break
						}
						time.Sleep(100 * time.Millisecond)
					}
					if !ok {
						break
					}
					code, body, err := clusterGet(gateways[g]+"/v1/seekers/"+id+"/matches", tokens[i])
					if err != nil || code != 200 {
						ok = false
						lost.Add(1)
						note(fmt.Sprintf("%s matches through gateway %d: %d %s %v", id, g, code, body, err))
						break
					}
				}
				if ok && bodies[0] != bodies[1] {
					differ.Add(1)
					note(fmt.Sprintf("%s: gateways answer differently:\n%s\n%s", id, bodies[0], bodies[1]))
				}
			}
		})
	}
	for i := range seekers {
		work <- i
	}
	close(work)
	wg.Wait()

	// Events in the PROFILES stream, read from a node that is up.
	perSeeker := map[string]int{}
	cons, err := js.OrderedConsumer(ctx, events.StreamProfiles, jetstream.OrderedConsumerConfig{FilterSubjects: []string{events.SeekerSubjectPrefix + ">"}})
	if err != nil {
		t.Fatal(err)
	}
	info, err = st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for read := uint64(0); read < info.State.Msgs; {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(3*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			perSeeker[strings.TrimPrefix(m.Subject(), events.SeekerSubjectPrefix)]++
			got++
		}
		if got == 0 {
			break // the rest of the stream is not seekers' events
		}
		read += uint64(got)
	}
	keys, err := openKeyring(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	var duplicated, retriedTwice int
	for i := range seekers {
		n := perSeeker[keys.Pseudonym(clusterSeeker(i))] // subjects name pseudonyms
		if acked[i] && n == 0 {
			lost.Add(1)
			note(fmt.Sprintf("%s acknowledged but has no event", clusterSeeker(i)))
		}
		if n > attempts[i] {
			duplicated++
			note(fmt.Sprintf("%s: %d events for %d attempts", clusterSeeker(i), n, attempts[i]))
		}
		if n > 1 {
			retriedTwice++
		}
	}
	t.Logf("reads in %v; acknowledged %d, lost %d, duplicated %d, gateways differing %d; %d seekers with a second event from a retried write; total %v",
		time.Since(readStart).Round(time.Millisecond), nAcked.Load(), lost.Load(), duplicated, differ.Load(), retriedTwice, time.Since(started).Round(time.Millisecond))
	if nAcked.Load() != seekers || lost.Load() != 0 || duplicated != 0 || differ.Load() != 0 {
		t.Errorf("want %d acknowledged, lost 0, duplicated 0, both gateways the same; examples:\n%s", seekers, strings.Join(examples, "\n"))
	}
}

func clusterSeeker(i int) string { return fmt.Sprintf("cl-%04d", i) }

// clusterJS connects to the cluster as a client that fails over between
// nodes.
func clusterJS(t *testing.T, servers []*server.Server) jetstream.JetStream {
	t.Helper()
	var urls []string
	for i := len(servers) - 1; i >= 0; i-- {
		urls = append(urls, servers[i].ClientURL())
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.DontRandomize(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}
