package shred_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func keyring(t *testing.T) (*shred.Keyring, jetstream.JetStream) {
	t.Helper()
	js := testenv.Open(t, testenv.Needs{NATS: true}).JS
	k, err := shred.Open(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	return k, js
}

func TestSealOpenShred(t *testing.T) {
	ctx := context.Background()
	k, js := keyring(t)
	type contact struct{ Email string }
	s, err := k.Seal(ctx, "s1", contact{"ana@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s.Data, []byte("ana@example.org")) {
		t.Fatal("sealed data contains the plaintext")
	}
	var got contact
	if err := k.Open(ctx, s, &got); err != nil || got.Email != "ana@example.org" {
		t.Fatalf("open: %v %+v", err, got)
	}
	// Moving a sealed payload to another subject fails authentication.
	if _, err := k.Seal(ctx, "s2", contact{"b@example.org"}); err != nil {
		t.Fatal(err)
	}
	moved := shred.Sealed{Subject: k.Pseudonym("s2"), Data: s.Data}
	if err := k.Open(ctx, moved, &got); err == nil {
		t.Fatal("opened a payload sealed for another subject")
	}
	if err := k.Shred(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := k.Open(ctx, s, &got); !errors.Is(err, shred.ErrShredded) {
		t.Fatalf("after shred: %v, want ErrShredded", err)
	}
	if _, err := k.Seal(ctx, "s1", contact{"again"}); !errors.Is(err, shred.ErrShredded) {
		t.Fatalf("sealing for a shredded subject: %v, want ErrShredded", err)
	}
	// The key's bytes are gone from the stream, not only hidden.
	str, _ := js.Stream(ctx, shred.Stream)
	subj := "keys." + k.Pseudonym("s1")
	m, err := str.GetLastMsgForSubject(ctx, subj)
	if err != nil || len(m.Data) == 32 {
		t.Fatalf("after shred the key subject holds %d bytes (%v)", len(m.Data), err)
	}
	info, _ := str.Info(ctx, jetstream.WithSubjectFilter(subj))
	if info.State.Subjects[subj] != 1 {
		t.Fatalf("%s holds %d messages, want only the tombstone", subj, info.State.Subjects[subj])
	}
}

func TestConcurrentShredsEraseTheKey(t *testing.T) {
	ctx := context.Background()
	k, js := keyring(t)
	s, err := k.Seal(ctx, "s3", "data")
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- k.Shred(ctx, "s3") }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var v string
	if err := k.Open(ctx, s, &v); !errors.Is(err, shred.ErrShredded) {
		t.Fatalf("open after shred: %v", err)
	}
	str, _ := js.Stream(ctx, shred.Stream)
	subj := "keys." + k.Pseudonym("s3")
	info, _ := str.Info(ctx, jetstream.WithSubjectFilter(subj))
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		if m, err := str.GetMsg(ctx, seq); err == nil && m.Subject == subj && len(m.Data) == 32 {
			t.Fatalf("key still stored at sequence %d", seq)
		}
	}
}

// In a cluster a replica may not yet hold a key the leader has just
// acknowledged. The keyring must never read that as "shredded": a seeker
// created a moment ago would be dropped for good (issue 12: 1–3% of new
// seekers answered 404 forever on a three-node cluster).
func TestAFreshKeyIsNeverReadAsShreddedOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	ctx := context.Background()
	servers := testenv.NATSCluster(t, 3)
	streams := make([]jetstream.JetStream, len(servers))
	for i, ns := range servers {
		streams[i] = testenv.JetStreamOn(t, ns)
	}
	writer, err := shred.Open(ctx, streams[0], 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shred.Open(ctx, streams[1], 1); err == nil || !strings.Contains(err.Error(), "clerkpath streams --replicas") {
		t.Fatalf("opening the R3 keyring with 1 replica = %v, want a refusal naming the command", err)
	}
	readers := make([]*shred.Keyring, len(streams))
	for i, js := range streams {
		if readers[i], err = shred.Open(ctx, js, 3); err != nil {
			t.Fatal(err)
		}
	}
	const n = 600
	lost := 0
	for i := range n {
		subject := fmt.Sprintf("s%d", i)
		s, err := writer.Seal(ctx, subject, i)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := readers[i%len(readers)].Open(ctx, s, &got); err != nil {
			if errors.Is(err, shred.ErrShredded) {
				lost++
				continue
			}
			t.Fatal(err)
		}
		if got != i {
			t.Fatalf("opened %d, want %d", got, i)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d keys read as shredded right after they were written", lost, n)
	}
}

// A keyring stream made by an earlier version, with direct gets on, is
// switched to reads from the leader.
func TestOpenTurnsOffDirectGetsOnAnOldKeyring(t *testing.T) {
	ctx := context.Background()
	js := testenv.Open(t, testenv.Needs{NATS: true}).JS
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: shred.Stream, Subjects: []string{"keys.>"}, MaxMsgsPerSubject: 2, AllowDirect: true,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := shred.Open(ctx, js, 1); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, shred.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if st.CachedInfo().Config.AllowDirect {
		t.Error("the keyring stream still allows direct gets")
	}
}

// Only a tombstone means "deleted". A subject with no key message at all
// (a read that has not seen the key yet) is a retryable error, so that a
// consumer redelivers instead of dropping a seeker for good (issue 12:
// acknowledged seekers lost when the key stream's leader changed).
func TestNoKeyIsNotShredded(t *testing.T) {
	ctx := context.Background()
	k, _ := keyring(t)
	var v int
	for _, subject := range []string{k.Pseudonym("never"), "never"} { // and a legacy Sealed
		err := k.Open(ctx, shred.Sealed{Subject: subject, Data: make([]byte, 64)}, &v)
		if !errors.Is(err, shred.ErrNoKey) || errors.Is(err, shred.ErrShredded) {
			t.Fatalf("open %s without a key = %v, want ErrNoKey and not ErrShredded", subject, err)
		}
	}
	if err := k.Shred(ctx, "never"); err != nil {
		t.Fatal(err)
	}
	for _, subject := range []string{k.Pseudonym("never"), "never"} {
		if err := k.Open(ctx, shred.Sealed{Subject: subject, Data: make([]byte, 64)}, &v); !errors.Is(err, shred.ErrShredded) {
			t.Fatalf("open %s after shredding = %v, want ErrShredded", subject, err)
		}
	}
}
