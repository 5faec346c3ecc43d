package shred_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// A Sealed, its key's subject and its associated data name the pseudonym,
// never the id; the pseudonym is stable, per id, and recognisable.
func TestSealNamesOnlyThePseudonym(t *testing.T) {
	ctx := context.Background()
	k, js := keyring(t)
	const id = "zqx-seeker-7731"
	p := k.Pseudonym(id)
	if !shred.IsPseudonym(p) || !strings.HasPrefix(p, shred.PseudonymPrefix) || strings.Contains(p, id) {
		t.Fatalf("pseudonym %q", p)
	}
	if k.Pseudonym(id) != p || k.Pseudonym(p) != p || k.Pseudonym(id+"x") == p {
		t.Fatal("a pseudonym is not stable per id, or not kept as it is")
	}
	if shred.IsPseudonym(id) || shred.IsPseudonym(shred.PseudonymPrefix+"xyz") {
		t.Fatal("IsPseudonym accepts something else")
	}
	s, err := k.Seal(ctx, id, map[string]string{"note": "hello"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(s)
	if s.Subject != p || bytes.Contains(raw, []byte(id)) {
		t.Fatalf("sealed %s names the id (or not the pseudonym %s)", raw, p)
	}
	var got map[string]string
	if err := k.Open(ctx, s, &got); err != nil || got["note"] != "hello" {
		t.Fatalf("open: %v %v", err, got)
	}
	str, _ := js.Stream(ctx, shred.Stream)
	info, err := str.Info(ctx, jetstream.WithSubjectFilter("keys.>"))
	if err != nil {
		t.Fatal(err)
	}
	for subj := range info.State.Subjects {
		if strings.Contains(subj, id) {
			t.Errorf("key subject %s names the id", subj)
		}
	}
	if info.State.Subjects["keys."+p] != 1 {
		t.Errorf("no key on keys.%s: %v", p, info.State.Subjects)
	}
}

// Two keyrings opening at once on a new stream agree on the secret: one
// creates it, the other reads that one.
func TestKeyringsOpeningTogetherAgreeOnPseudonyms(t *testing.T) {
	ctx := context.Background()
	js := testenv.Open(t, testenv.Needs{NATS: true}).JS
	const n = 4
	rings := make([]*shred.Keyring, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rings[i], errs[i] = shred.Open(ctx, js, 1)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if a, b := rings[0].Pseudonym("ana"), rings[i].Pseudonym("ana"); a != b {
			t.Fatalf("keyring %d names ana %s, keyring 0 %s", i, b, a)
		}
	}
	later, err := shred.Open(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	if later.Pseudonym("ana") != rings[0].Pseudonym("ana") {
		t.Fatal("a keyring opened later names ana differently")
	}
}

// sealLegacy writes what a version before pseudonyms wrote: a key on
// keys.<id> and a Sealed naming the id, the id its associated data.
func sealLegacy(t *testing.T, js jetstream.JetStream, id string, v any) shred.Sealed {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if _, err := js.Publish(context.Background(), "keys."+id, key); err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	plain, _ := json.Marshal(v)
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	return shred.Sealed{Subject: id, Data: gcm.Seal(nonce, nonce, plain, []byte(id))}
}

// A legacy seeker's data opens with keys.<id>; their new data is sealed
// under the pseudonym; shredding destroys both keys and leaves nothing on
// keys.<id>, the legacy tombstone included, while the legacy data still
// answers ErrShredded (never ErrNoKey).
func TestLegacySealedOpensAndShredsWithThePseudonym(t *testing.T) {
	ctx := context.Background()
	k, js := keyring(t)
	const id = "legacy-ana"
	old := sealLegacy(t, js, id, "old")
	var v string
	if err := k.Open(ctx, old, &v); err != nil || v != "old" {
		t.Fatalf("open legacy: %v %q", err, v)
	}
	fresh, err := k.Seal(ctx, id, "new")
	if err != nil || fresh.Subject != k.Pseudonym(id) {
		t.Fatalf("seal for a legacy seeker: %v %+v", err, fresh)
	}
	// An earlier version's shred left a tombstone on keys.<id> once: add
	// one to see it erased too (the stream keeps two per subject).
	if _, err := js.Publish(ctx, "keys."+id, []byte("shredded")); err != nil {
		t.Fatal(err)
	}
	if err := k.Shred(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, s := range []shred.Sealed{old, fresh} {
		if err := k.Open(ctx, s, &v); !errors.Is(err, shred.ErrShredded) {
			t.Fatalf("open %s after shred = %v, want ErrShredded", s.Subject, err)
		}
	}
	if _, err := k.Seal(ctx, id, "again"); !errors.Is(err, shred.ErrShredded) {
		t.Fatalf("seal after shred = %v, want ErrShredded", err)
	}
	str, _ := js.Stream(ctx, shred.Stream)
	info, err := str.Info(ctx, jetstream.WithSubjectFilter("keys."+id))
	if err != nil {
		t.Fatal(err)
	}
	if n := info.State.Subjects["keys."+id]; n != 0 {
		t.Errorf("keys.%s still holds %d messages", id, n)
	}
	if err := k.Shred(ctx, id); err != nil {
		t.Fatalf("shredding again: %v", err)
	}
}
