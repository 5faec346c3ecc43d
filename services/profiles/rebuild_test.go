package profiles_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/projection/projectiontest"
	"github.com/clerkpath/clerkpath/pkg/testenv"
	"github.com/clerkpath/clerkpath/services/profiles"
)

// fast generations: pointer read every 50 ms, old generation dropped 300 ms after a swap.
var fastGenerations = profiles.Options{Projection: projection.Options{Poll: 50 * time.Millisecond, Grace: 300 * time.Millisecond}}

func rebuildProfiles(t *testing.T, nc *nats.Conn) projection.Status {
	t.Helper()
	return projectiontest.Rebuild(t, nc, profilesapi.Rebuild.Subject, profilesapi.RebuildStatus.Subject)
}

// rebuildLoops is how many rebuilds under writes TestRebuildLoopUnderWrites
// runs: 5 in `make test`; CLERKPATH_REBUILD_LOOPS=20 in `make test-faults`
// (issue 11's 20, about 100 s with -race on a shared two-core machine).
func rebuildLoops(t *testing.T) int { return testenv.EnvInt(t, "CLERKPATH_REBUILD_LOOPS", 5) }

// writePause paces each writer: a rebuild catches up with writes that
// come slower than it replays them.
const writePause = 5 * time.Millisecond

// writesPerLoop bounds each writer's writes per rebuild, so that the
// stream, and each rebuild's replay, grow linearly over the loop.
const writesPerLoop = 20

var tmpSeq atomic.Int64 // deleted ids are never reused

// writer changes profiles (writesPerLoop changes, or until ctx ends): attributes of its own seekers,
// counselor links and consent, its employer, and new seekers it deletes.
func writer(ctx context.Context, nc *nats.Conn, w int, stable []string, writes *testenv.Tally) {
	testenv.Repeat(ctx, writesPerLoop, writePause, writes, func(ctx context.Context, i int) error {
		id := stable[i%len(stable)]
		var err error
		switch i % 5 {
		case 0, 1:
			_, err = profilesapi.SeekerPut.Call(ctx, nc, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: id, RadiusMiles: 5 + i%40}})
		case 2:
			_, err = profilesapi.CounselorLink.Call(ctx, nc, profilesapi.CounselorLinkRequest{ID: id, Counselor: fmt.Sprintf("c%d", i%3), Linked: i%2 == 0})
		case 3:
			_, err = profilesapi.Consent.Call(ctx, nc, profilesapi.ConsentRequest{ID: id, Employer: fmt.Sprintf("org%d", w), Granted: i%2 == 1})
		case 4:
			tmp := fmt.Sprintf("tmp-%d-%d", w, tmpSeq.Add(1))
			if _, err = profilesapi.SeekerPut.Call(ctx, nc, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: tmp}}); err == nil {
				_, err = profilesapi.Delete.Call(ctx, nc, profilesapi.SeekerRef{ID: tmp})
			}
		}
		if err != nil {
			return fmt.Errorf("write %d of writer %d: %w", i, w, err)
		}
		return nil
	})
}

// TestRebuildLoopUnderWrites rebuilds the profiles projection again and
// again while profiles change and are read: reads of seekers who exist
// never answer 404 or fail, and each generation built under writes has the
// checksum of a generation built from scratch once the writes stop.
func TestRebuildLoopUnderWrites(t *testing.T) {
	cfg := testenv.Open(t, testenv.Needs{Streams: true, Redis: true}).Config
	p := startCopy(t, cfg, "profiles")
	ctx := context.Background()
	const writers = 3
	var stable [writers][]string
	for w := range writers {
		for k := range 4 {
			id := fmt.Sprintf("w%d-s%d", w, k)
			stable[w] = append(stable[w], id)
			do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: id}})
		}
	}
	// Readers: every stable seeker, all the time.
	rctx, stopReads := context.WithCancel(ctx)
	var reads testenv.Tally
	var rwg sync.WaitGroup
	rwg.Go(func() {
		testenv.Repeat(rctx, 0, 0, &reads, func(ctx context.Context, i int) error {
			id := stable[i%writers][i%4]
			if _, err := profilesapi.SeekerGet.Call(ctx, p.NC, profilesapi.SeekerRef{ID: id}); err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			return nil
		})
	})
	defer func() { stopReads(); rwg.Wait() }()

	loops := rebuildLoops(t)
	var writes testenv.Tally
	barrier := 0
	for i := range loops {
		wctx, stopWrites := context.WithCancel(ctx)
		var wwg sync.WaitGroup
		for w := range writers {
			wwg.Go(func() { writer(wctx, p.NC, w, stable[w], &writes) })
		}
		time.Sleep(20 * time.Millisecond)
		t0 := time.Now()
		underWrites := rebuildProfiles(t, p.NC)
		t.Logf("loop %d: generation %d built under writes in %v", i, underWrites.Generation, time.Since(t0))
		wwg.Wait()
		stopWrites()
		// A last write, awaited: the serving generation has applied everything before it.
		barrier++
		do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "barrier", RadiusMiles: barrier}})
		matchesScratchBuild(t, p, i, underWrites.Generation)
	}
	stopReads()
	rwg.Wait()
	if err := reads.Err(); err != nil {
		t.Fatalf("reads of existing seekers during rebuilds: %v", err)
	}
	if err := writes.Err(); err != nil {
		t.Fatalf("writes during rebuilds: %v", err)
	}
	t.Logf("%d rebuilds under %d writes and %d reads: every checksum equal, no failed read", loops, writes.Calls(), reads.Calls())
}

// TestTwoCopiesRebuildOnceAndBothSwitch runs two copies of the service on
// the same servers: a rebuild asked of either is built by one of them, both
// serve the new generation, and the old generation's consumer is deleted.
func TestTwoCopiesRebuildOnceAndBothSwitch(t *testing.T) {
	cfg := testenv.Open(t, testenv.Needs{Streams: true, Redis: true}).Config
	a := startCopy(t, cfg, "profiles-a")
	b := startCopy(t, cfg, "profiles-b")
	ctx := context.Background()
	for k := range 20 {
		do(t, a.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: fmt.Sprintf("s%d", k)}})
	}
	first, _, _, err := projection.Checksum(ctx, a.Redis, profiles.ProjectionName, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Two rebuild requests at once, one through each connection: one build.
	gen := projectiontest.RebuildFromEach(t, []*nats.Conn{a.NC, b.NC}, profilesapi.Rebuild.Subject, profilesapi.RebuildStatus.Subject).Generation
	got, _, _, err := projection.Checksum(ctx, a.Redis, profiles.ProjectionName, gen)
	if err != nil {
		t.Fatal(err)
	}
	if got != first {
		t.Fatal("the rebuilt generation differs from the first")
	}
	// Both copies serve the new generation: writes through each are read
	// back through each, and only the new generation's consumer exists.
	for k, p := range []*platform.Platform{a, b, a, b} {
		id := fmt.Sprintf("after-%d", k)
		do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: id}})
		do(t, p.NC, profilesapi.SeekerGet, profilesapi.SeekerRef{ID: id})
	}
	projectiontest.OnlyConsumer(t, a.JS, "PROFILES", profiles.ProjectionDurable, gen)
}

// dump is generation gen's keys (without the prefix) and values, for
// telling what differs when checksums do.
func dump(t *testing.T, p *platform.Platform, gen uint64) map[string]string {
	ctx := context.Background()
	prefix := fmt.Sprintf("clerkpath:profiles:g%d:", gen)
	keys, err := p.Redis.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		var v any
		switch typ, _ := p.Redis.Type(ctx, k).Result(); typ {
		case "hash":
			v, _ = p.Redis.HGetAll(ctx, k).Result()
		case "set":
			m, _ := p.Redis.SMembers(ctx, k).Result()
			slices.Sort(m)
			v = m
		case "list":
			v, _ = p.Redis.LRange(ctx, k, 0, -1).Result()
		}
		out[k[len(prefix):]] = fmt.Sprint(v)
	}
	return out
}

// matchesScratchBuild checks, after loop i, that generation want (built
// under writes) serves and has the checksum of a generation built from
// scratch now, and that it is gone once that one is swapped in.
func matchesScratchBuild(t *testing.T, p *platform.Platform, i int, want uint64) {
	t.Helper()
	ctx := context.Background()
	got, gen, keys, err := projection.Checksum(ctx, p.Redis, profiles.ProjectionName, 0)
	if err != nil {
		t.Fatal(err)
	}
	if gen != want {
		t.Fatalf("loop %d: generation %d serves, want %d", i, gen, want)
	}
	dumpA := dump(t, p, gen)
	t1 := time.Now()
	scratch := rebuildProfiles(t, p.NC)
	t.Logf("loop %d: generation %d built from scratch in %v (%d stream sequences)", i, scratch.Generation, time.Since(t1), scratch.Total)
	wantSum, _, wantKeys, err := projection.Checksum(ctx, p.Redis, profiles.ProjectionName, scratch.Generation)
	if err != nil {
		t.Fatal(err)
	}
	if got != wantSum || keys != wantKeys {
		dumpB := dump(t, p, scratch.Generation)
		for k, v := range dumpB {
			if dumpA[k] != v {
				t.Logf("key %s: under writes %q, from scratch %q", k, dumpA[k], v)
			}
		}
		for k, v := range dumpA {
			if _, ok := dumpB[k]; !ok {
				t.Logf("key %s: under writes %q, not from scratch", k, v)
			}
		}
		t.Fatalf("loop %d: generation %d built under writes has %d keys, checksum %s; generation %d built from scratch %d keys, %s",
			i, gen, keys, got[:12], scratch.Generation, wantKeys, wantSum[:12])
	}
	// The old generations are gone: one generation's keys, one consumer.
	n, err := p.Redis.Keys(ctx, fmt.Sprintf("clerkpath:profiles:g%d:*", gen)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(n) != 0 {
		v, _ := p.Redis.HGetAll(ctx, n[0]).Result()
		t.Fatalf("loop %d: generation %d still has %d keys after the next swap (%s %v)", i, gen, len(n), n[0], v)
	}
}
