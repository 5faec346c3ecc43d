package events_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/natsserver"
	"github.com/clerkpath/clerkpath/pkg/natsx"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func startJS(t testing.TB) jetstream.JetStream {
	t.Helper()
	ns, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir(), SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	ctx := context.Background()
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "test", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// Twice: creating streams is idempotent.
	for range 2 {
		if err := events.EnsureStreams(ctx, js, 1); err != nil {
			t.Fatal(err)
		}
	}
	return js
}

func TestPublishDeduplicatesByID(t *testing.T) {
	js := startJS(t)
	ctx := context.Background()
	ev := events.Event{Subject: events.JobsPosted, ID: "fp-1", Source: "test", Payload: map[string]string{"id": "p1"}}
	a1, err := events.Publish(ctx, js, ev)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := events.Publish(ctx, js, ev)
	if err != nil {
		t.Fatal(err)
	}
	if a1.Duplicate || !a2.Duplicate || a1.Sequence != a2.Sequence {
		t.Fatalf("first %+v second %+v: want the second to be a duplicate of the first", a1, a2)
	}
	s, _ := js.Stream(ctx, events.StreamJobs)
	info, _ := s.Info(ctx)
	if info.State.Msgs != 1 {
		t.Fatalf("JOBS holds %d messages, want 1", info.State.Msgs)
	}
}

func TestPublishOptimisticConcurrency(t *testing.T) {
	js := startJS(t)
	ctx := context.Background()
	subj := events.SeekerSubjectPrefix + "s1"
	zero := uint64(0)
	a, err := events.Publish(ctx, js, events.Event{Subject: subj, ID: "e1", Payload: 1, ExpectLastSubjectSeq: &zero})
	if err != nil {
		t.Fatal(err)
	}
	// A writer that read version 0 after version a.Sequence exists must lose.
	_, err = events.Publish(ctx, js, events.Event{Subject: subj, ID: "e2", Payload: 2, ExpectLastSubjectSeq: &zero})
	if !errors.Is(err, events.ErrWrongLastSequence) {
		t.Fatalf("got %v, want ErrWrongLastSequence", err)
	}
	if _, err := events.Publish(ctx, js, events.Event{Subject: subj, ID: "e3", Payload: 3, ExpectLastSubjectSeq: &a.Sequence}); err != nil {
		t.Fatal(err)
	}
}

func TestRunRetriesThenDeadLetters(t *testing.T) {
	js := startJS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i, id := range []string{"good", "poison", "flaky"} {
		if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: id, Payload: i}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	done := make(chan error, 1)
	go func() {
		done <- events.Run(ctx, js, events.Consumer{
			Stream: events.StreamJobs, Durable: "t", Filters: []string{events.JobsPosted},
			MaxBatch: 10, Linger: 20 * time.Millisecond, MaxDeliver: 3,
			BackOff: []time.Duration{10 * time.Millisecond},
		}, zerolog.New(os.Stderr).Level(zerolog.Disabled), func(_ context.Context, msgs []jetstream.Msg) []error {
			errs := make([]error, len(msgs))
			mu.Lock()
			defer mu.Unlock()
			for i, m := range msgs {
				id := events.EnvelopeOf(m).ID
				seen[id]++
				switch {
				case id == "poison":
					errs[i] = events.Poison("cannot parse")
				case id == "flaky" && seen[id] < 2:
					errs[i] = errors.New("index down")
				}
			}
			return errs
		})
	}()
	dlq, _ := js.Stream(ctx, events.StreamDLQ)
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, _ := dlq.Info(ctx)
		mu.Lock()
		flaky := seen["flaky"]
		mu.Unlock()
		if info.State.Msgs == 1 && flaky == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dlq holds %d, flaky seen %d times", info.State.Msgs, flaky)
		}
		time.Sleep(20 * time.Millisecond)
	}
	m, err := dlq.GetLastMsgForSubject(ctx, events.DLQPrefix+events.JobsPosted)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(events.HeaderDLQReason) == "" || m.Header.Get(events.HeaderID) != "poison" {
		t.Fatalf("dlq message headers %v", m.Header)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["good"] != 1 || seen["poison"] != 1 {
		t.Fatalf("deliveries %v: good once, poison once (never retried)", seen)
	}
}

// A copy of a service configured with a replica count other than the
// streams' refuses to start, naming the setting, and changes nothing; the
// streams change only through SetReplicas (issue 12: one misconfigured
// copy took six streams from R3 to R1).
func TestReplicationChangesOnlyDeliberately(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	ctx := context.Background()
	js := testenv.JetStreamOn(t, testenv.NATSCluster(t, 3)[1])
	replicas := func() map[int]int {
		count := map[int]int{}
		for _, cfg := range events.StreamConfigs(1) {
			st, err := js.Stream(ctx, cfg.Name)
			if err != nil {
				t.Fatal(err)
			}
			count[st.CachedInfo().Config.Replicas]++
		}
		return count
	}
	if err := events.EnsureStreams(ctx, js, 3); err != nil {
		t.Fatal(err)
	}
	err := events.EnsureStreams(ctx, js, 1)
	var mismatch *events.ReplicaMismatch
	if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), "CLERKPATH_STREAM_REPLICAS is 1") || !strings.Contains(err.Error(), "clerkpath streams --replicas") {
		t.Fatalf("EnsureStreams(1) on R3 streams = %v, want a mismatch naming the setting and the command", err)
	}
	if got := replicas(); got[3] != len(events.StreamConfigs(1)) {
		t.Fatalf("replicas after a refused start: %v, want all 3", got)
	}
	if err := events.SetReplicas(ctx, js, 1); err != nil {
		t.Fatal(err)
	}
	if got := replicas(); got[1] != len(events.StreamConfigs(1)) {
		t.Fatalf("replicas after SetReplicas(1): %v, want all 1", got)
	}
	if err := events.EnsureStreams(ctx, js, 1); err != nil {
		t.Fatalf("EnsureStreams(1) on R1 streams: %v", err)
	}
}

// A consumer deleted while its service was cut off from NATS (so it never
// heard of the deletion) is recreated, and new events are handled again:
// the service does not log "no heartbeat" forever while writes pile up
// unprojected (issue 11).
func TestConsumerDeletedWhileDisconnectedIsRecreated(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := t.TempDir()
	port := testenv.FreePort(t)
	start := func() *server.Server {
		ns, err := natsserver.Start(natsserver.Options{StoreDir: store, Port: port})
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	ns := start()
	t.Cleanup(func() { ns.Shutdown() })
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "test", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	if err := events.EnsureStreams(ctx, js, 1); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	go func() {
		_ = events.Run(ctx, js, events.Consumer{Stream: events.StreamJobs, Durable: "proj", Filters: []string{events.JobsPosted}},
			zerolog.Nop(), func(_ context.Context, msgs []jetstream.Msg) []error {
				mu.Lock()
				defer mu.Unlock()
				for _, m := range msgs {
					seen[events.EnvelopeOf(m).ID] = true
				}
				return make([]error, len(msgs))
			})
	}()
	handled := func(id string) func() error {
		return func() error {
			mu.Lock()
			defer mu.Unlock()
			if !seen[id] {
				return fmt.Errorf("event %s not handled", id)
			}
			return nil
		}
	}
	if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: "before", Payload: 1}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, handled("before"))

	// The server goes down; while it is down the consumer is deleted (as a
	// rebuild from another machine would); it comes back.
	ns.Shutdown()
	ns.WaitForShutdown()
	if err := os.RemoveAll(filepath.Join(store, "jetstream", "$G", "streams", events.StreamJobs, "obs", "proj")); err != nil {
		t.Fatal(err)
	}
	ns = start()
	testenv.Eventually(t, 10*time.Second, func() error {
		if !nc.IsConnected() {
			return errors.New("not reconnected")
		}
		return nil
	})
	if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: "after", Payload: 2}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, handled("after"))
}

// Identical events published at the same moment are stored once, and every
// publisher hears success (issue 11: two identical submissions at the same
// moment got "posted" and a 503, "duplicate message id is in process").
func TestSimultaneousDuplicatesAllSucceed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	ctx := context.Background()
	// On a cluster, where a publish is "in process" while its proposal is
	// replicated.
	js := testenv.JetStreamOn(t, testenv.NATSCluster(t, 3)[0])
	if err := events.EnsureStreams(ctx, js, 3); err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		id := fmt.Sprintf("same-%d", round)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		fresh := make([]bool, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ack, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: id, Payload: round})
				errs[i] = err
				fresh[i] = err == nil && !ack.Duplicate
			}()
		}
		wg.Wait()
		stored := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d publisher %d: %v", round, i, errs[i])
			}
			if fresh[i] {
				stored++
			}
		}
		if stored != 1 {
			t.Fatalf("round %d: %d publishers stored the event, want 1", round, stored)
		}
	}
	st, _ := js.Stream(ctx, events.StreamJobs)
	info, _ := st.Info(ctx)
	if info.State.Msgs != 20 {
		t.Errorf("stream holds %d events, want 20", info.State.Msgs)
	}
}

// A consumer with a backlog and nobody acknowledging is reported stalled
// once stallAfter passes; a consumer that keeps up is not.
func TestConsumerStatusesFindAStall(t *testing.T) {
	js := startJS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, name := range []string{"idle", "busy"} {
		if _, err := js.CreateOrUpdateConsumer(ctx, events.StreamJobs, jetstream.ConsumerConfig{
			Durable: name, AckPolicy: jetstream.AckExplicitPolicy, FilterSubjects: []string{events.JobsPosted},
		}); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		_ = events.Run(ctx, js, events.Consumer{Stream: events.StreamJobs, Durable: "busy", Filters: []string{events.JobsPosted}},
			zerolog.Nop(), func(_ context.Context, msgs []jetstream.Msg) []error { return make([]error, len(msgs)) })
	}()
	for i := range 3 {
		if _, err := events.Publish(ctx, js, events.Event{Subject: events.JobsPosted, ID: fmt.Sprint("e", i), Payload: i}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		sts, err := events.ConsumerStatuses(ctx, js, time.Now().Add(time.Minute), 30*time.Second)
		if err != nil {
			return err
		}
		got := map[string]events.ConsumerStatus{}
		for _, s := range sts {
			got[s.Name] = s
		}
		if idle := got["idle"]; !idle.Stalled || idle.Pending != 3 {
			return fmt.Errorf("idle consumer %+v, want stalled with 3 pending", idle)
		}
		if busy := got["busy"]; busy.Stalled || busy.Pending+uint64(busy.AckPending) != 0 {
			return fmt.Errorf("busy consumer %+v, want caught up", busy)
		}
		return nil
	})
}
