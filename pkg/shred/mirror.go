package shred

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Mirrored returns a keyring like k whose Seal takes keys from an
// in-memory mirror of the keyring stream, kept current by an ordered
// consumer until ctx ends: sealing for a subject the mirror knows reads
// nothing. A service that seals for every subject over and over (matching
// announces new postings to tens of thousands of seekers at once) would
// otherwise read a key from the stream leader per seal: at 100,000 seekers
// those reads were most of matching's work and a large share of the NATS
// server's (issue 14). It waits up to MirrorWait for the mirror to catch up
// with the stream; a subject the mirror does not know (yet) is read from
// the leader, as k does, and remembered.
//
// Only Seal uses the mirror; Open always reads the keyring, so data never
// opens with a key the stream no longer holds. A subject shredded
// elsewhere may still be sealed here until the tombstone reaches the
// mirror (normally milliseconds): what that seals is ciphertext under a
// destroyed key, which nobody can open (Open answers ErrShredded), the
// same as data sealed just before the deletion. A tombstone is final: once
// the mirror has seen one, nothing more is sealed for the subject here. The mirror holds about
// 90 bytes a subject (a heap profile of matching at 100,000 seekers).
func (k *Keyring) Mirrored(ctx context.Context) (*Keyring, error) {
	m := &keyMirror{keys: map[string][]byte{}, caughtUp: make(chan struct{})}
	cons, err := k.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{keySubjectPrefix + "*"},
		DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("mirror keyring: %w", err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		m.apply(msg.Subject(), msg.Data())
		if md, err := msg.Metadata(); err == nil && md.NumPending == 0 {
			m.once.Do(func() { close(m.caughtUp) })
		}
	})
	if err != nil {
		return nil, fmt.Errorf("mirror keyring: %w", err)
	}
	go func() {
		<-ctx.Done()
		cc.Stop()
	}()
	// The stream always holds the pseudonym secret (Open writes it), so a
	// last message with nothing pending after it always arrives.
	select {
	case <-m.caughtUp:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(MirrorWait):
	}
	c := *k
	c.mirror = m
	return &c, nil
}

// MirrorWait bounds how long Mirrored waits for its mirror to catch up
// with the keyring stream before it returns (sealing then reads what the
// mirror does not know yet).
var MirrorWait = 30 * time.Second

// keyMirror is the in-memory copy of the keyring's keys, by pseudonym. A
// nil key is a tombstone: the subject was shredded.
type keyMirror struct {
	mu       sync.RWMutex
	keys     map[string][]byte
	caughtUp chan struct{}
	once     sync.Once
}

// apply records the last message on a keyring subject. Only pseudonyms'
// subjects are mirrored (Seal seals under pseudonyms; the pseudonym secret
// and legacy keys.<id> subjects are not keys it uses).
func (m *keyMirror) apply(subject string, data []byte) {
	p, _ := strings.CutPrefix(subject, keySubjectPrefix)
	if !IsPseudonym(p) {
		return
	}
	if len(data) == 32 {
		m.remember(p, data)
		return
	}
	m.tombstone(p)
}

// get returns the subject's key, or ErrShredded, or ok false when the
// mirror does not know the subject.
func (m *keyMirror) get(subject string) (key []byte, ok bool, err error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	key, ok = m.keys[subject]
	if ok && key == nil {
		return nil, true, ErrShredded
	}
	return key, ok, nil
}

// remember records a subject's key, unless the subject was shredded. It
// keeps copies: a message's data shares one allocation with its headers and
// a subject cut from a message's is part of that message's, so keeping
// them would keep about five times the key's bytes, 100,000 subjects over.
func (m *keyMirror) remember(subject string, key []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if had, ok := m.keys[subject]; ok && (had == nil || bytes.Equal(had, key)) {
		return
	}
	m.keys[strings.Clone(subject)] = bytes.Clone(key)
}

func (m *keyMirror) forget(subject string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, subject)
}

func (m *keyMirror) tombstone(subject string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[subject] = nil
}

// sealKey is the key Seal uses for subject (a pseudonym): from the mirror
// when there is one and it knows the subject, else from the keyring
// (created when missing).
func (k *Keyring) sealKey(ctx context.Context, subject string) ([]byte, error) {
	if k.mirror != nil {
		if key, ok, err := k.mirror.get(subject); ok {
			return key, err
		}
	}
	key, _, err := k.key(ctx, subject, true)
	if err != nil {
		return nil, err
	}
	if k.mirror != nil {
		k.mirror.remember(subject, key)
		// A tombstone that arrived meanwhile wins.
		if _, _, err := k.mirror.get(subject); err != nil {
			return nil, err
		}
	}
	return key, nil
}

// Forget drops the subject id's key from the mirror (nothing without
// one): call it when the subject is deleted, so that the next seal for them
// here reads the keyring, which answers ErrShredded once they are shredded.
// It records no tombstone: only the keyring says a subject was shredded.
func (k *Keyring) Forget(id string) {
	if k.mirror != nil {
		k.mirror.forget(k.Pseudonym(id))
	}
}
