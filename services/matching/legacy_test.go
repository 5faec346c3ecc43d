package matching

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// legacySealer seals as a version before pseudonyms did: with a key on
// keys.<id> and the id as Sealed.Subject.
func (f feed) legacySealer(t *testing.T, id string) func(v any) map[string]any {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if _, err := f.js.Publish(context.Background(), "keys."+id, key); err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	return func(v any) map[string]any {
		plain, _ := json.Marshal(v)
		nonce := make([]byte, gcm.NonceSize())
		_, _ = rand.Read(nonce)
		return map[string]any{"subject": id, "sealed": gcm.Seal(nonce, nonce, plain, []byte(id))}
	}
}

// A seeker indexed from events written before pseudonyms (profiles.seeker.<id>,
// a Sealed naming the id, a legacy credential) is indexed as one written
// after: their later write on the pseudonym's subject updates them, a
// deletion naming only the pseudonym removes them, and a copy started
// afterwards (a replay of the mixed streams) holds the same index.
func TestLegacyAndPseudonymSeekerEventsIndexAlike(t *testing.T) {
	srv := testenv.Open(t, testenv.All)
	ctx := context.Background()
	c := startCopy(t, srv.Config, true)
	f := newFeed(t, srv.Config)
	const old, gone = "legacy-seeker-1", "legacy-seeker-2"
	for _, id := range []string{old, gone} {
		seal := f.legacySealer(t, id)
		sk := profile.Seeker{ID: id, RemotePref: "remote", RadiusMiles: 25, Skills: []string{"scanning"}}
		if _, err := events.Publish(ctx, f.js, events.Event{Subject: events.SeekerSubjectPrefix + id, Type: events.TypeSeekerUpdated,
			ID: "legacy:" + id, Source: "test", Payload: seal(profile.Change{Seeker: &sk})}); err != nil {
			t.Fatal(err)
		}
		ch := profile.CredentialChange{SeekerID: id, Credential: &profile.CredentialRecord{Code: "CCA", EarnedOn: "2024-01-01"}}
		if _, err := events.Publish(ctx, f.js, events.Event{Subject: events.CredentialsEarned, ID: "legacy-earned:" + id, Source: "test", Payload: seal(ch)}); err != nil {
			t.Fatal(err)
		}
	}
	f.seeker(t, profile.Seeker{ID: old, RemotePref: "remote", RadiusMiles: 25, Skills: []string{"indexing"}}) // the pseudonym's subject
	f.seeker(t, profile.Seeker{ID: "fresh-seeker", RemotePref: "remote", RadiusMiles: 25})
	testenv.Eventually(t, 20*time.Second, func() error {
		sk, _, ok := c.s.seekers.View(old)
		if !ok || !slices.Equal(sk.Skills, []string{"indexing"}) || !slices.Contains(sk.Held, "CCA") {
			return fmt.Errorf("legacy seeker after a new write: %+v (known %v)", sk, ok)
		}
		if _, _, ok := c.s.seekers.View(gone); !ok {
			return fmt.Errorf("legacy seeker %s not indexed", gone)
		}
		return nil
	})
	if err := f.keys.Shred(ctx, gone); err != nil {
		t.Fatal(err)
	}
	p := f.keys.Pseudonym(gone)
	if _, err := events.Publish(ctx, f.js, events.Event{Subject: events.SeekerSubjectPrefix + p, Type: events.TypeSeekerDeleted,
		ID: "delete:" + p, Source: "test", Payload: map[string]string{"id": p}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		if _, _, ok := c.s.seekers.View(gone); ok {
			return fmt.Errorf("deleted legacy seeker still indexed")
		}
		return nil
	})
	again := startCopy(t, srv.Config, false)
	for _, id := range []string{old, gone, "fresh-seeker"} {
		a, _, okA := c.s.seekers.View(id)
		b, _, okB := again.s.seekers.View(id)
		if okA != okB || !slices.Equal(a.Skills, b.Skills) || !slices.Equal(a.Held, b.Held) {
			t.Errorf("%s: live %+v (%v), replayed %+v (%v)", id, a, okA, b, okB)
		}
	}
}
