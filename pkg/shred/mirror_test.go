package shred_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// keyReads counts the requests for a message of the keyring stream (how a
// keyring reads a key from the stream leader), seen by a subscriber beside
// the JetStream API's own.
func keyReads(t *testing.T, nc *nats.Conn) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	sub, err := nc.Subscribe("$JS.API.STREAM.MSG.GET."+shred.Stream, func(*nats.Msg) { n.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return &n
}

// A mirrored keyring seals for the subjects it mirrors without one request
// to the keyring stream: sealing for many seekers over and over must not
// cost a read each.
func TestMirroredSealsWithoutReadingTheKeyring(t *testing.T) {
	ctx := t.Context()
	srv := testenv.Open(t, testenv.Needs{NATS: true})
	k, err := shred.Open(ctx, srv.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	reads := keyReads(t, srv.NC)
	type note struct{ Text string }
	const n = 50
	for i := range n {
		if _, err := k.Seal(ctx, "s"+strconv.Itoa(i), note{"first"}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	mirrored, err := k.Mirrored(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Mirrored took %s: it did not see itself catch up", took)
	}
	if reads.Load() < n {
		t.Fatalf("the keyring without a mirror read %d keys for %d seals: the count is wrong", reads.Load(), n)
	}
	reads.Store(0)
	var sealed []shred.Sealed
	for i := range n {
		s, err := mirrored.Seal(ctx, "s"+strconv.Itoa(i), note{"again"})
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, s)
	}
	// Flush a round trip through the server, so the subscriber has seen
	// any request made before it.
	if err := srv.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	if r := reads.Load(); r != 0 {
		t.Fatalf("sealing for %d mirrored subjects read %d keys from the stream", n, r)
	}
	for _, s := range sealed { // sealed with the keyring's own keys
		var got note
		if err := k.Open(ctx, s, &got); err != nil || got.Text != "again" {
			t.Fatalf("open: %v %+v", err, got)
		}
	}

	// A subject created after the mirror started: read once, then mirrored.
	if _, err := mirrored.Seal(ctx, "late", note{"new"}); err != nil {
		t.Fatal(err)
	}
	_ = srv.NC.Flush()
	reads.Store(0)
	s, err := mirrored.Seal(ctx, "late", note{"again"})
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.NC.Flush()
	if r := reads.Load(); r != 0 {
		t.Fatalf("sealing again for a subject the mirror learnt read %d keys", r)
	}
	var got note
	if err := k.Open(ctx, s, &got); err != nil {
		t.Fatal(err)
	}
}

// A subject shredded by another keyring stops sealing here once its
// tombstone reaches the mirror, and what was sealed meanwhile never opens;
// Forget makes the next seal ask the keyring; and after Mirrored's context
// ends the mirror no longer follows the stream.
func TestMirroredFollowsShredsAndNeverOpensShreddedData(t *testing.T) {
	ctx := t.Context()
	k, js := keyring(t)
	other, err := shred.Open(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	type note struct{ Text string }
	for _, id := range []string{"s1", "s2"} {
		if _, err := k.Seal(ctx, id, note{"first"}); err != nil {
			t.Fatal(err)
		}
	}
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	mirrored, err := k.Mirrored(mctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Shred(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := mirrored.Seal(ctx, "s1", note{"after the shred"})
		if errors.Is(err, shred.ErrShredded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var got note
		if err := other.Open(ctx, s, &got); !errors.Is(err, shred.ErrShredded) {
			t.Fatalf("data sealed with a shredded key opened: %v %+v", err, got)
		}
		if time.Now().After(deadline) {
			t.Fatal("the tombstone did not reach the mirror within 5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// With the mirror stopped, a shred elsewhere is not seen; Forget makes
	// the next seal read the keyring, which says so.
	stop()
	time.Sleep(100 * time.Millisecond)
	if err := other.Shred(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := mirrored.Seal(ctx, "s2", note{"stale mirror"}); err != nil {
		t.Fatalf("a stopped mirror still followed the stream? %v", err)
	}
	mirrored.Forget("s2")
	if _, err := mirrored.Seal(ctx, "s2", note{"forgotten"}); !errors.Is(err, shred.ErrShredded) {
		t.Fatalf("sealed after Forget for a shredded subject: %v", err)
	}
	// Forget records no tombstone: a live subject still seals.
	if _, err := mirrored.Seal(ctx, "s3", note{"new"}); err != nil {
		t.Fatal(err)
	}
	mirrored.Forget("s3")
	if _, err := mirrored.Seal(ctx, "s3", note{"still here"}); err != nil {
		t.Fatalf("Forget stopped sealing for a subject that was not shredded: %v", err)
	}
}
