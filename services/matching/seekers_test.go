package matching

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// Each seeker event is applied once per purpose, guarded by its sequence:
// redelivering an older profile event to the index or to the list refresh
// changes nothing.
func TestARedeliveredOlderSeekerEventChangesNothing(t *testing.T) {
	t.Parallel()
	srv := testenv.Open(t, testenv.All)
	ctx := context.Background()
	c := startCopy(t, srv.Config, true)
	f := newFeed(t, srv.Config)
	const id = "seeker-v"
	publish := func(version int, skills ...string) uint64 {
		t.Helper()
		sk := profile.Seeker{ID: id, RemotePref: "remote", RadiusMiles: 25, Skills: skills}
		sealed, err := f.keys.Seal(ctx, id, profile.Change{Seeker: &sk})
		if err != nil {
			t.Fatal(err)
		}
		ack, err := events.Publish(ctx, f.js, events.Event{Subject: events.SeekerSubjectPrefix + sealed.Subject, Type: events.TypeSeekerUpdated,
			ID: fmt.Sprintf("seeker:%s:%d", id, version), Source: "test", Payload: sealed})
		if err != nil {
			t.Fatal(err)
		}
		return ack.Sequence
	}
	first := publish(1, "scanning")
	second := publish(2, "release of information")
	testenv.Eventually(t, 20*time.Second, func() error {
		sk, _, ok := c.s.seekers.View(id)
		if !ok || !slices.Equal(sk.Skills, []string{"release of information"}) {
			return fmt.Errorf("seeker %+v (known %v)", sk, ok)
		}
		done, err := c.s.rdb.HGet(ctx, refreshedKey(id), events.StreamProfiles).Uint64()
		if err != nil || done != second {
			return fmt.Errorf("list refreshed for sequence %d, want %d (%v)", done, second, err)
		}
		return nil
	})

	old, err := f.js.Stream(ctx, events.StreamProfiles)
	if err != nil {
		t.Fatal(err)
	}
	m, err := old.GetMsg(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if typ := m.Header.Get(events.HeaderType); typ != events.TypeSeekerUpdated {
		t.Fatalf("stored event type %q", typ)
	}
	changed, err := c.s.applySeekerEvent(ctx, m.Subject, m.Header.Get(events.HeaderType), m.Data, first)
	if err != nil || changed {
		t.Fatalf("the older event applied again: changed %v, %v", changed, err)
	}
	if sk, _, _ := c.s.seekers.View(id); !slices.Equal(sk.Skills, []string{"release of information"}) {
		t.Fatalf("after the older event: skills %v", sk.Skills)
	}
	refreshed, err := c.s.refreshFor(ctx, id, events.StreamProfiles, first)
	if err != nil || refreshed {
		t.Fatalf("the list was refreshed again for the older event: %v, %v", refreshed, err)
	}
	if refreshed, err := c.s.refreshFor(ctx, id, events.StreamProfiles, second); err != nil || refreshed {
		t.Fatalf("the list was refreshed twice for the same event: %v, %v", refreshed, err)
	}
}

// An ordered consumer does not redeliver: an event whose key cannot be read
// yet (ErrNoKey, as during a key-stream leader change in a cluster) must be
// retried, not skipped, or the seeker stays out of the index for good (the
// cluster fault test lost a seeker that way).
func TestASeekerEventIsAppliedOnceItsKeyIsReadable(t *testing.T) {
	t.Parallel()
	srv := testenv.Open(t, testenv.All)
	ctx := context.Background()
	c := startCopy(t, srv.Config, true)
	f := newFeed(t, srv.Config)
	// The event is sealed with a key kept elsewhere: this service's keyring
	// cannot find it until it is copied over.
	elsewhere := testenv.Open(t, testenv.Needs{NATS: true})
	copyPseudonymSecret(t, f.js, elsewhere.JS) // the same deployment: the same pseudonyms
	keys, err := shred.Open(ctx, elsewhere.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	const id = "seeker-late-key"
	sk := profile.Seeker{ID: id, RemotePref: "remote", RadiusMiles: 25, Skills: []string{"scanning"}}
	sealed, err := keys.Seal(ctx, id, profile.Change{Seeker: &sk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Publish(ctx, f.js, events.Event{Subject: events.SeekerSubjectPrefix + sealed.Subject, Type: events.TypeSeekerUpdated,
		ID: "seeker:" + id + ":1", Source: "test", Payload: sealed}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if _, _, ok := c.s.seekers.View(id); ok {
		t.Fatal("applied without its key")
	}
	ks, err := elsewhere.JS.Stream(ctx, shred.Stream)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ks.GetLastMsgForSubject(ctx, "keys."+sealed.Subject)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.js.Publish(ctx, key.Subject, key.Data); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, func() error {
		if got, _, ok := c.s.seekers.View(id); !ok || !slices.Equal(got.Skills, sk.Skills) {
			return fmt.Errorf("seeker not in the index once the key is readable (known %v)", ok)
		}
		return nil
	})
}

// copyPseudonymSecret gives the keyring on to the pseudonym secret of the
// keyring on from, before to's keyring is opened.
func copyPseudonymSecret(t *testing.T, from, to jetstream.JetStream) {
	t.Helper()
	ctx := context.Background()
	st, err := from.Stream(ctx, shred.Stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetLastMsgForSubject(ctx, shred.SecretSubject)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := to.CreateStream(ctx, jetstream.StreamConfig{Name: shred.Stream, Subjects: []string{"keys.>"}, MaxMsgsPerSubject: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := to.Publish(ctx, m.Subject, m.Data); err != nil {
		t.Fatal(err)
	}
}
