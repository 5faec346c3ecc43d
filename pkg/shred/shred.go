// Package shred implements crypto-shredding for personal data in the event
// log. Each data subject (a seeker) has a random AES-256 key kept in a
// JetStream key-value bucket; events about the subject carry only sealed
// payloads. Deleting the subject purges the key, after which every event
// about them, in every stream and every replica and backup, is unreadable
// ciphertext: the log keeps no personal data, yet stays append-only.
package shred

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream is the stream holding subjects' keys, one message per subject
// under keys.<subject>. A plain stream rather than a key-value bucket,
// because shredding must securely erase the key's message, which key-value
// buckets forbid.
const Stream = "SUBJECT_KEYS"

const keySubjectPrefix = "keys."

// ErrShredded means the subject's key was destroyed: the data is gone for good.
// Only a tombstone says so: Shred always leaves one.
var ErrShredded = errors.New("subject's data was deleted")

// ErrNoKey means no key and no tombstone were found for a subject that has
// sealed data. Sealing creates the key before any data exists, so this is
// a read that has not seen the key yet (a stream leader just elected, a
// lagging server): retry it, never take it for a deletion.
var ErrNoKey = errors.New("subject's key not found (yet); try again")

// ErrUnreadable means the sealed data does not open with the subject's
// key, or does not decode: retrying will not help.
var ErrUnreadable = errors.New("sealed data cannot be read")

// Keyring seals and opens personal data per subject.
type Keyring struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	secret []byte     // the pseudonym secret (see Pseudonym)
	mirror *keyMirror // keys for sealing (Mirrored); nil: read per seal
}

// Open returns the keyring, creating its stream when missing.
//
// Keys are read from the stream leader, never with direct gets: in a
// cluster a direct get may be answered by a replica that has not yet
// applied a key the leader acknowledged, and "no key" means "shredded", so
// a stale read would drop a seeker created a moment before. A keyring
// stream made by an earlier version with direct gets on is updated; it
// has no consumers, so the update races nothing. A stream replicated
// differently from replicas is refused, as EnsureStreams refuses the event
// streams; SetReplicas changes it.
//
// A cluster that has just formed may not place a replicated stream at once
// (no meta leader yet, a peer not yet counted, a request timing out while
// every service's copies start together): such failures are retried for up
// to openRetryFor, or until ctx ends.
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Keyring, error) {
	deadline := time.Now().Add(openRetryFor)
	delay := 200 * time.Millisecond
	for {
		k, err := open(ctx, js, replicas)
		if err == nil || errors.Is(err, errReplicas) || ctx.Err() != nil || time.Now().After(deadline) {
			return k, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// openRetryFor bounds how long Open retries a keyring stream it cannot
// open or create yet.
const openRetryFor = time.Minute

// errReplicas marks a keyring stream replicated differently from the
// configuration: retrying does not help.
var errReplicas = errors.New("replica count differs")

func open(ctx context.Context, js jetstream.JetStream, replicas int) (*Keyring, error) {
	cfg := jetstream.StreamConfig{
		Name:        Stream,
		Description: "per-subject data keys for crypto-shredding",
		Subjects:    []string{keySubjectPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
		// Two, so that the tombstone lands before the key is erased: no
		// moment exists where the subject has no message and a new key
		// could be created.
		MaxMsgsPerSubject: 2,
	}
	st, err := js.Stream(ctx, Stream)
	switch {
	case err == nil && st.CachedInfo().Config.Replicas != cfg.Replicas:
		// As for the event streams: replication changes only deliberately.
		return nil, fmt.Errorf("open keyring: %w: CLERKPATH_STREAM_REPLICAS is %d but stream %s has %d replicas: set CLERKPATH_STREAM_REPLICAS to match, or change the streams deliberately with `clerkpath streams --replicas %d`",
			errReplicas, cfg.Replicas, Stream, st.CachedInfo().Config.Replicas, cfg.Replicas)
	case err == nil && st.CachedInfo().Config.AllowDirect:
		current := st.CachedInfo().Config
		current.AllowDirect = false
		st, err = js.UpdateStream(ctx, current)
	case errors.Is(err, jetstream.ErrStreamNotFound):
		st, err = js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			st, err = js.Stream(ctx, Stream)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open keyring: %w", err)
	}
	k := &Keyring{js: js, stream: st}
	if k.secret, err = k.pseudonymSecret(ctx); err != nil {
		return nil, fmt.Errorf("open keyring: %w", err)
	}
	return k, nil
}

// SetReplicas changes the keyring stream's replica count to n.
func SetReplicas(ctx context.Context, js jetstream.JetStream, n int) error {
	st, err := js.Stream(ctx, Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil // Open creates it with the configured count
	}
	if err != nil {
		return fmt.Errorf("keyring stream: %w", err)
	}
	cfg := st.CachedInfo().Config
	if cfg.Replicas == n {
		return nil
	}
	cfg.Replicas = n
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("set replicas of stream %s to %d: %w", Stream, n, err)
	}
	return nil
}

// Sealed is an encrypted payload: AES-256-GCM, the nonce prepended.
// Subject is the data subject's pseudonym (Pseudonym), also the AEAD's
// associated data. A Sealed written before pseudonyms existed (a legacy
// one) names the subject's id instead; it opens with the key on keys.<id>.
type Sealed struct {
	Subject string `json:"subject"`
	Data    []byte `json:"sealed"`
}

// key returns the key on keys.<subject> (subject a pseudonym, or a legacy
// id) and the sequence of its message, creating the key when create is set.
func (k *Keyring) key(ctx context.Context, subject string, create bool) ([]byte, uint64, error) {
	m, err := k.stream.GetLastMsgForSubject(ctx, keySubjectPrefix+subject)
	switch {
	case err == nil:
		if len(m.Data) != 32 {
			return nil, m.Sequence, ErrShredded
		}
		return m.Data, m.Sequence, nil
	case !errors.Is(err, jetstream.ErrMsgNotFound):
		return nil, 0, fmt.Errorf("keyring get: %w", err)
	case !create:
		return nil, 0, ErrNoKey
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, 0, err
	}
	// Expect no message on the subject: of two concurrent creators one
	// wins, and the other reads the winner's key.
	ack, err := k.js.Publish(ctx, keySubjectPrefix+subject, key, jetstream.WithExpectLastSequencePerSubject(0))
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			return k.key(ctx, subject, false)
		}
		return nil, 0, fmt.Errorf("keyring create: %w", err)
	}
	return key, ack.Sequence, nil
}

// Seal encrypts v (as JSON) for the subject id, with the key on
// keys.<pseudonym>; the Sealed names the pseudonym. Sealing for a deleted
// subject fails with ErrShredded: a deleted seeker cannot be written again
// under that id.
func (k *Keyring) Seal(ctx context.Context, id string, v any) (Sealed, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return Sealed{}, fmt.Errorf("seal: %w", err)
	}
	subject := k.Pseudonym(id)
	key, err := k.sealKey(ctx, subject)
	if err != nil {
		return Sealed{}, err
	}
	gcm, err := newGCM(key)
	if err != nil {
		return Sealed{}, err
	}
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plain)+gcm.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, err
	}
	// The subject is authenticated data: a sealed payload cannot be moved
	// to another subject.
	return Sealed{Subject: subject, Data: gcm.Seal(nonce, nonce, plain, []byte(subject))}, nil
}

// Open decrypts s into v. It returns ErrShredded after Shred, also for a
// legacy Sealed (whose keys.<id> Shred erased: the pseudonym's tombstone
// says it was shredded).
func (k *Keyring) Open(ctx context.Context, s Sealed, v any) error {
	key, _, err := k.key(ctx, s.Subject, false)
	if errors.Is(err, ErrNoKey) && !IsPseudonym(s.Subject) {
		if _, _, perr := k.key(ctx, k.Pseudonym(s.Subject), false); errors.Is(perr, ErrShredded) {
			err = perr
		}
	}
	if err != nil {
		return err
	}
	gcm, err := newGCM(key)
	if err != nil {
		return err
	}
	if len(s.Data) < gcm.NonceSize() {
		return fmt.Errorf("open: %w: too short", ErrUnreadable)
	}
	plain, err := gcm.Open(nil, s.Data[:gcm.NonceSize()], s.Data[gcm.NonceSize():], []byte(s.Subject))
	if err != nil {
		return fmt.Errorf("open: %w: %v", ErrUnreadable, err)
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("open: %w: %v", ErrUnreadable, err)
	}
	return nil
}

// tombstone replaces a shredded key, so that the subject id can never get
// a new key (which would make old and new data look alike).
var tombstone = []byte("shredded")

// Shred destroys the keys of the subject id (or of a pseudonym): a
// tombstone becomes the last message on keys.<pseudonym>, so the id can
// never get a new key, and the key's message is securely erased
// (overwritten on disk, not only marked deleted). A legacy key on
// keys.<id> is erased with its tombstone, if any: nothing is left on a
// subject naming the id. Concurrent and repeated calls are safe.
func (k *Keyring) Shred(ctx context.Context, id string) error {
	k.Forget(id)
	if err := k.shred(ctx, keySubjectPrefix+k.Pseudonym(id)); err != nil {
		return err
	}
	if IsPseudonym(id) {
		return nil
	}
	return k.eraseLegacy(ctx, keySubjectPrefix+id)
}

// shred tombstones the key subject subj and erases its key.
func (k *Keyring) shred(ctx context.Context, subj string) error {
	for {
		var expect uint64
		m, err := k.stream.GetLastMsgForSubject(ctx, subj)
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
		case err != nil:
			return fmt.Errorf("shred: %w", err)
		case len(m.Data) != 32:
			return k.erase(ctx, subj) // already tombstoned; finish a crashed erase
		default:
			expect = m.Sequence
		}
		_, err = k.js.Publish(ctx, subj, tombstone, jetstream.WithExpectLastSequencePerSubject(expect))
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			continue // raced with another writer: look again
		}
		if err != nil {
			return fmt.Errorf("shred: tombstone: %w", err)
		}
		return k.erase(ctx, subj)
	}
}

// erase securely deletes a key message still held on subj (at most one: the
// stream keeps two messages per subject, the key and the tombstone).
func (k *Keyring) erase(ctx context.Context, subj string) error {
	m, err := k.stream.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(subj))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("shred: find key: %w", err)
	}
	if len(m.Data) != 32 {
		return nil
	}
	if err := k.stream.SecureDeleteMsg(ctx, m.Sequence); err != nil {
		if _, gerr := k.stream.GetMsg(ctx, m.Sequence); errors.Is(gerr, jetstream.ErrMsgNotFound) {
			return nil // erased by a concurrent shred
		}
		return fmt.Errorf("shred: erase key: %w", err)
	}
	return nil
}

// eraseLegacy securely erases every message on a legacy key subject (the
// key and the tombstone an earlier version left).
func (k *Keyring) eraseLegacy(ctx context.Context, subj string) error {
	if _, err := EraseSubject(ctx, k.stream, subj, 0); err != nil {
		return fmt.Errorf("shred: erase legacy key: %w", err)
	}
	return nil
}

// EraseSubject securely erases (overwrites on disk) the messages stream
// holds on subj, those before stream sequence before (all when before is
// 0), and returns how many it erased. A message erased meanwhile by someone
// else is skipped.
func EraseSubject(ctx context.Context, stream jetstream.Stream, subj string, before uint64) (int, error) {
	var n int
	for seq := uint64(1); ; {
		m, err := stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subj))
		if errors.Is(err, jetstream.ErrMsgNotFound) || err == nil && before != 0 && m.Sequence >= before {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("find a message on %s: %w", subj, err)
		}
		if err := stream.SecureDeleteMsg(ctx, m.Sequence); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			if _, gerr := stream.GetMsg(ctx, m.Sequence); !errors.Is(gerr, jetstream.ErrMsgNotFound) {
				return n, fmt.Errorf("erase message %d on %s: %w", m.Sequence, subj, err)
			}
		}
		n++
		seq = m.Sequence + 1
	}
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
