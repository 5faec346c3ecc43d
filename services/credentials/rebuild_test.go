package credentials_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/contract/credentialsapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/projection/projectiontest"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/testenv"
	"github.com/clerkpath/clerkpath/services/credentials"
)

// fastGenerations: pointer read every 50 ms, old generation dropped 300 ms after a swap.
var fastGenerations = projection.Options{Poll: 50 * time.Millisecond, Grace: 300 * time.Millisecond}

func rebuildRecords(t *testing.T, nc *nats.Conn) projection.Status {
	t.Helper()
	return projectiontest.Rebuild(t, nc, credentialsapi.Rebuild.Subject, credentialsapi.RebuildStatus.Subject)
}

// rebuildLoops: 5 in `make test`; CLERKPATH_REBUILD_LOOPS=20 in `make test-faults`.
func rebuildLoops(t *testing.T) int { return testenv.EnvInt(t, "CLERKPATH_REBUILD_LOOPS", 5) }

const (
	writePause    = 5 * time.Millisecond
	writesPerLoop = 20
)

var tmpSeq atomic.Int64 // deleted ids are never reused

// recordWriter records credentials and CEUs for its seekers, and now and
// then gives a new seeker a record and deletes that seeker.
func (h *harness) recordWriter(ctx context.Context, w int, stable []string, writes *testenv.Tally) {
	codes := []string{"RHIT", "CCS", "CPC"}
	testenv.Repeat(ctx, writesPerLoop, writePause, writes, func(ctx context.Context, i int) error {
		id := stable[i%len(stable)]
		var err error
		switch i % 4 {
		case 0, 1:
			_, err = rpc.Call[credentialsapi.SeekerRecords](ctx, h.p.NC, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: id,
				Credential: profile.CredentialRecord{Code: codes[i%3], EarnedOn: fmt.Sprintf("2024-%02d-%02d", 1+i%12, 1+w)}})
		case 2:
			_, err = rpc.Call[credentialsapi.SeekerRecords](ctx, h.p.NC, credentialsapi.CEU.Subject, credentialsapi.CEURequest{SeekerID: id,
				CEU: profile.CEURecord{Code: "RHIT", Hours: float64(1 + i%5), On: fmt.Sprintf("2025-%02d-%02d", 1+i%12, 1+w)}})
		case 3:
			err = h.recordAndDelete(ctx, fmt.Sprintf("tmp-%d-%d", w, tmpSeq.Add(1)))
		}
		if err != nil {
			return fmt.Errorf("write %d of writer %d: %w", i, w, err)
		}
		return nil
	})
}

// recordAndDelete gives a new seeker a record, then deletes the seeker as
// profiles does: the deletion event, and its key shredded.
func (h *harness) recordAndDelete(ctx context.Context, id string) error {
	if _, err := h.keys.Seal(ctx, id, "profile"); err != nil {
		return err
	}
	h.mu.Lock()
	h.seekers[id] = profile.Seeker{ID: id}
	h.mu.Unlock()
	_, err := rpc.Call[credentialsapi.SeekerRecords](ctx, h.p.NC, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: id,
		Credential: profile.CredentialRecord{Code: "CCS", EarnedOn: "2024-03-03"}})
	if err != nil {
		return err
	}
	_, err = events.Publish(ctx, h.p.JS, events.Event{Subject: events.SeekerSubjectPrefix + id, ID: "delete:" + id,
		Type: events.TypeSeekerDeleted, Source: "profiles", Payload: map[string]string{"id": id}})
	if err != nil {
		return err
	}
	return h.keys.Shred(ctx, id)
}

// TestRebuildLoopUnderWrites rebuilds the records projection again and
// again while records are written and read: a seeker's records never read
// as [] (nor fail), and each generation built under writes has the
// checksum of a generation built from scratch once the writes stop.
func TestRebuildLoopUnderWrites(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	const writers = 3
	var stable [writers][]string
	for w := range writers {
		for k := range 4 {
			id := fmt.Sprintf("w%d-s%d", w, k)
			stable[w] = append(stable[w], id)
			h.putSeeker(profile.Seeker{ID: id})
			call[credentialsapi.SeekerRecords](t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: id, Credential: profile.CredentialRecord{Code: "RHIT", EarnedOn: "2023-01-01"}})
		}
	}
	rctx, stopReads := context.WithCancel(ctx)
	var reads testenv.Tally
	var rwg sync.WaitGroup
	rwg.Go(func() {
		testenv.Repeat(rctx, 0, 0, &reads, func(ctx context.Context, i int) error {
			id := stable[i%writers][i%4]
			got, err := rpc.Call[credentialsapi.SeekerRecords](ctx, h.p.NC, credentialsapi.Records.Subject, credentialsapi.SeekerRef{SeekerID: id})
			if err != nil || len(got.Credentials) == 0 {
				return fmt.Errorf("%s: %+v %v", id, got, err)
			}
			return nil
		})
	})
	defer func() { stopReads(); rwg.Wait() }()

	loops := rebuildLoops(t)
	var writes testenv.Tally
	for i := range loops {
		var wwg sync.WaitGroup
		for w := range writers {
			wwg.Go(func() { h.recordWriter(ctx, w, stable[w], &writes) })
		}
		time.Sleep(20 * time.Millisecond)
		t0 := time.Now()
		underWrites := rebuildRecords(t, h.p.NC)
		took := time.Since(t0)
		wwg.Wait()
		// A last write, awaited: the serving generation has applied every
		// record before it; the deletions consumer is waited for below.
		call[credentialsapi.SeekerRecords](t, h, credentialsapi.CEU.Subject, credentialsapi.CEURequest{SeekerID: stable[0][0], CEU: profile.CEURecord{Code: "RHIT", Hours: 1, On: fmt.Sprintf("2026-01-%02d", 1+i%28)}})
		got, gen := h.settledChecksum(t)
		if gen != underWrites.Generation {
			t.Fatalf("loop %d: generation %d serves, want %d", i, gen, underWrites.Generation)
		}
		t1 := time.Now()
		scratch := rebuildRecords(t, h.p.NC)
		want, _, _, err := projection.Checksum(ctx, h.p.Redis, credentials.ProjectionName, scratch.Generation)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("loop %d: generation %d built under writes in %v, generation %d from scratch in %v (%d stream sequences)",
			i, gen, took.Round(time.Millisecond), scratch.Generation, time.Since(t1).Round(time.Millisecond), scratch.Total)
		if got != want {
			t.Fatalf("loop %d: generation %d built under writes has checksum %s, generation %d built from scratch %s", i, gen, got[:12], scratch.Generation, want[:12])
		}
	}
	stopReads()
	rwg.Wait()
	if err := reads.Err(); err != nil {
		t.Fatalf("reads of seekers' records during rebuilds (empty or failed): %v", err)
	}
	if err := writes.Err(); err != nil {
		t.Fatalf("writes during rebuilds: %v", err)
	}
	t.Logf("%d rebuilds under %d writes and %d reads: every checksum equal, no empty or failed read", loops, writes.Calls(), reads.Calls())
}

// settledChecksum is the serving generation's checksum once its consumers
// have nothing pending (deletions come from PROFILES and are not awaited
// by any write).
func (h *harness) settledChecksum(t *testing.T) (string, uint64) {
	t.Helper()
	ctx := context.Background()
	var sum string
	var gen uint64
	testenv.Eventually(t, 10*time.Second, func() error {
		g, err := h.p.Redis.Get(ctx, "clerkpath:"+credentials.ProjectionName+":gen").Uint64()
		if err != nil {
			return err
		}
		for stream, base := range map[string]string{events.StreamCredentials: credentials.ProjectionDurable, events.StreamProfiles: credentials.DeletionsDurable} {
			c, err := h.p.JS.Consumer(ctx, stream, fmt.Sprintf("%s-g%d", base, g))
			if err != nil {
				return err
			}
			ci, err := c.Info(ctx)
			if err != nil {
				return err
			}
			if ci.NumPending > 0 || ci.NumAckPending > 0 {
				return fmt.Errorf("%s: %d pending, %d unacknowledged", ci.Name, ci.NumPending, ci.NumAckPending)
			}
		}
		sum, gen, _, err = projection.Checksum(ctx, h.p.Redis, credentials.ProjectionName, g)
		return err
	})
	return sum, gen
}

// TestTwoCopiesRebuildOnceAndBothSwitch runs a second copy of the service
// on the same servers: rebuilds asked of both at once make one build, and
// both copies then serve the new generation.
func TestTwoCopiesRebuildOnceAndBothSwitch(t *testing.T) {
	h := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	nc2, err := nats.Connect(h.p.NATS.ClientURL(), nats.Name("credentials-b"))
	if err != nil {
		t.Fatal(err)
	}
	js2, err := jetstream.New(nc2)
	if err != nil {
		t.Fatal(err)
	}
	svc2 := newService(ctx, t, h.p, nc2, js2)
	done := make(chan error, 1)
	go func() { done <- svc2.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		nc2.Close()
	})
	for k := range 10 {
		id := fmt.Sprintf("s%d", k)
		h.putSeeker(profile.Seeker{ID: id})
		call[credentialsapi.SeekerRecords](t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: id, Credential: profile.CredentialRecord{Code: "CCS", EarnedOn: "2022-02-02"}})
	}
	first, _ := h.settledChecksum(t)
	// Two rebuild requests at once, one through each connection: one build.
	built := projectiontest.RebuildFromEach(t, []*nats.Conn{h.p.NC, nc2}, credentialsapi.Rebuild.Subject, credentialsapi.RebuildStatus.Subject).Generation
	if got, gen := h.settledChecksum(t); got != first || gen != built {
		t.Fatalf("after the rebuild: generation %d (want %d), checksum equal to before: %v", gen, built, got == first)
	}
	// Both copies answer from the new generation, reading their own writes.
	for k, nc := range []*nats.Conn{h.p.NC, nc2, h.p.NC, nc2} {
		id := fmt.Sprintf("after-%d", k)
		h.putSeeker(profile.Seeker{ID: id})
		got, err := rpc.Call[credentialsapi.SeekerRecords](ctx, nc, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: id, Credential: profile.CredentialRecord{Code: "RHIT", EarnedOn: "2025-05-05"}})
		if err != nil || len(got.Credentials) != 1 {
			t.Fatalf("write after the swap through copy %d: %+v %v", k%2, got, err)
		}
	}
	projectiontest.OnlyConsumer(t, h.p.JS, events.StreamCredentials, credentials.ProjectionDurable, built)
	projectiontest.OnlyConsumer(t, h.p.JS, events.StreamProfiles, credentials.DeletionsDurable, built)
}
