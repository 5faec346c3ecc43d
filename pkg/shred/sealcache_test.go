package shred_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/shred"
)

// A seal cache keeps a key for its ttl: a key shredded by another keyring
// still seals here until then, but what it seals never opens, and after the
// ttl (or Forget, or Shred here) sealing reads the keyring again and fails.
func TestSealCacheKeepsKeysForItsTTLAndNeverOpensShreddedData(t *testing.T) {
	ctx := context.Background()
	k, js := keyring(t)
	other, err := shred.Open(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 400 * time.Millisecond
	cached := k.SealCached(ttl)
	type note struct{ Text string }
	for _, id := range []string{"s1", "s2", "s3"} {
		if _, err := cached.Seal(ctx, id, note{"first"}); err != nil {
			t.Fatal(err)
		}
		if err := other.Shred(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.Seal(ctx, "s1", note{"uncached"}); !errors.Is(err, shred.ErrShredded) {
		t.Fatalf("an uncached keyring sealed for a shredded subject: %v", err)
	}
	s, err := cached.Seal(ctx, "s1", note{"after the shred, from the cache"})
	if err != nil {
		t.Fatalf("the cached key was read again within its ttl: %v", err)
	}
	var got note
	if err := other.Open(ctx, s, &got); !errors.Is(err, shred.ErrShredded) {
		t.Fatalf("data sealed with a shredded key opened: %v %+v", err, got)
	}
	if err := cached.Open(ctx, s, &got); !errors.Is(err, shred.ErrShredded) {
		t.Fatalf("the caching keyring opened data under a shredded key: %v %+v", err, got)
	}
	cached.Forget("s2")
	if _, err := cached.Seal(ctx, "s2", note{"forgotten"}); !errors.Is(err, shred.ErrShredded) {
		t.Fatalf("sealed after Forget: %v", err)
	}
	time.Sleep(ttl + 100*time.Millisecond)
	if _, err := cached.Seal(ctx, "s3", note{"expired"}); !errors.Is(err, shred.ErrShredded) {
		t.Fatalf("sealed with a key past its ttl: %v", err)
	}
	if _, err := cached.Seal(ctx, "s4", note{"new subject"}); err != nil {
		t.Fatal(err)
	}
	if err := cached.Shred(ctx, "s4"); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.Seal(ctx, "s4", note{"shredded here"}); !errors.Is(err, shred.ErrShredded) {
		t.Fatalf("sealed after this keyring shredded the subject: %v", err)
	}
}
