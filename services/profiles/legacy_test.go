package profiles_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"
	"github.com/clerkpath/clerkpath/services/profiles"
)

// legacy writes what a version before pseudonyms wrote about a seeker: a
// key on keys.<id>, events on profiles.seeker.<id> sealed for the id.
type legacy struct {
	t   *testing.T
	js  jetstream.JetStream
	id  string
	key []byte
}

func newLegacy(t *testing.T, js jetstream.JetStream, id string) *legacy {
	l := &legacy{t: t, js: js, id: id, key: make([]byte, 32)}
	_, _ = rand.Read(l.key)
	if _, err := js.Publish(context.Background(), "keys."+id, l.key); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *legacy) publish(typ string, ch profile.Change) {
	l.t.Helper()
	block, _ := aes.NewCipher(l.key)
	gcm, _ := cipher.NewGCM(block)
	plain, _ := json.Marshal(ch)
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := shred.Sealed{Subject: l.id, Data: gcm.Seal(nonce, nonce, plain, []byte(l.id))}
	if _, err := events.Publish(context.Background(), l.js, events.Event{Subject: events.SeekerSubjectPrefix + l.id, Type: typ,
		ID: fmt.Sprintf("legacy-%s-%x", l.id, nonce[:4]), Source: "profiles", Payload: sealed}); err != nil {
		l.t.Fatal(err)
	}
}

func subjectMsgs(t *testing.T, js jetstream.JetStream, stream, subject string) uint64 {
	t.Helper()
	st, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects[subject]
}

// A seeker written before pseudonyms keeps working: their version goes on
// (an If-Match taken before still matches), their old contact details
// open, new writes go to the pseudonym's subject; deleting them erases
// every message naming their id; and a rebuild over the mixed stream
// gives the same projection as the live one.
func TestARebuildOverLegacyAndPseudonymEventsAgrees(t *testing.T) {
	p := start(t, fastGenerations)
	ctx := context.Background()
	keys, err := shred.Open(ctx, p.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	ana, bo := newLegacy(t, p.JS, "old-ana"), newLegacy(t, p.JS, "old-bo")
	for _, l := range []*legacy{ana, bo} {
		l.publish(events.TypeSeekerUpdated, profile.Change{Seeker: &profile.Seeker{ID: l.id, Skills: []string{"scanning"}}})
		l.publish(events.TypeSeekerContactUpdated, profile.Change{Contact: &profile.Contact{DisplayName: "Old " + l.id}})
		l.publish(events.TypeSeekerCounselorLinked, profile.Change{Counselor: "c-old"})
		if _, err := p.JS.Publish(ctx, events.AuditSeekerPrefix+l.id, []byte(`{"actor":"c-old"}`)); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		sk, err := profilesapi.SeekerGet.Call(ctx, p.NC, profilesapi.SeekerRef{ID: ana.id})
		if err != nil || sk.Version != 3 {
			return fmt.Errorf("legacy seeker %+v %v", sk, err)
		}
		return nil
	})
	three := uint64(3)
	w := do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{IfMatch: &three, Seeker: profile.Seeker{ID: ana.id, Skills: []string{"indexing"}}})
	if w.Version != 4 {
		t.Fatalf("a legacy seeker's next write is version %d, want 4", w.Version)
	}
	w = do(t, p.NC, profilesapi.SeekerPatch, profilesapi.PatchSeekerRequest{ID: ana.id, Patch: json.RawMessage(`{"radius_miles":30}`)})
	if w.Version != 5 {
		t.Fatalf("then version %d, want 5", w.Version)
	}
	if _, err := profilesapi.SeekerPut.Call(ctx, p.NC, profilesapi.PutSeekerRequest{IfMatch: &three, Seeker: profile.Seeker{ID: ana.id}}); apierr.CodeOf(err) != apierr.PreconditionFail {
		t.Fatalf("a stale If-Match: %v", err)
	}
	if c := do(t, p.NC, profilesapi.ContactGet, profilesapi.SeekerRef{ID: ana.id}); c.DisplayName != "Old old-ana" {
		t.Fatalf("legacy contact %+v", c)
	}
	if n := subjectMsgs(t, p.JS, events.StreamProfiles, events.SeekerSubjectPrefix+keys.Pseudonym(ana.id)); n != 2 {
		t.Fatalf("%d events on the pseudonym's subject, want the 2 new writes", n)
	}

	do(t, p.NC, profilesapi.Delete, profilesapi.SeekerRef{ID: bo.id})
	for _, s := range []struct{ stream, subject string }{
		{shred.Stream, "keys." + bo.id}, {events.StreamProfiles, events.SeekerSubjectPrefix + bo.id}, {events.StreamAudit, events.AuditSeekerPrefix + bo.id},
	} {
		if n := subjectMsgs(t, p.JS, s.stream, s.subject); n != 0 {
			t.Errorf("%s still holds %d messages on %s", s.stream, n, s.subject)
		}
	}
	if _, err := profilesapi.ContactGet.Call(ctx, p.NC, profilesapi.SeekerRef{ID: bo.id}); apierr.CodeOf(err) != apierr.NotFound {
		t.Fatalf("deleted legacy seeker's contact: %v", err)
	}
	if _, err := profilesapi.SeekerPut.Call(ctx, p.NC, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: bo.id}}); apierr.CodeOf(err) != apierr.Conflict {
		t.Fatalf("reusing a deleted legacy id: %v", err)
	}

	live, gen, n, err := projection.Checksum(ctx, p.Redis, profiles.ProjectionName, 0)
	if err != nil {
		t.Fatal(err)
	}
	st := rebuildProfiles(t, p.NC)
	rebuilt, _, m, err := projection.Checksum(ctx, p.Redis, profiles.ProjectionName, st.Generation)
	if err != nil {
		t.Fatal(err)
	}
	if live != rebuilt || n != m {
		t.Fatalf("generation %d (live, %d keys) and the rebuilt %d (%d keys) differ", gen, n, st.Generation, m)
	}
	if sk := do(t, p.NC, profilesapi.SeekerGet, profilesapi.SeekerRef{ID: ana.id}); sk.Version != 5 || sk.RadiusMiles != 30 {
		t.Fatalf("after the rebuild: %+v", sk)
	}
}
