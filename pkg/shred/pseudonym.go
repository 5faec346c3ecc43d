package shred

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// PseudonymPrefix starts every pseudonym. '~' is not allowed in an id
// (profile.ValidID), so a pseudonym never looks like an id, and a token
// without the prefix is a legacy id.
const PseudonymPrefix = "ps~"

// pseudonymHexLen is the length of a pseudonym's hex part: 128 bits of
// HMAC-SHA256.
const pseudonymHexLen = 32

// SecretSubject holds the deployment's pseudonym secret in the keyring
// stream. '~' keeps it apart from every key subject (keys.<id> and
// keys.ps~<hex>).
const SecretSubject = keySubjectPrefix + "~pseudonym-secret"

// Pseudonym is the name under which the subject id appears in the event
// log: keys.<pseudonym>, Sealed.Subject, event subjects and message ids.
// It is PseudonymPrefix and the hex of HMAC-SHA256(secret, id) cut to 128
// bits: stable for an id, a valid subject token, and without the
// deployment's secret nobody can tell which id it stands for. A pseudonym
// given is returned as it is.
func (k *Keyring) Pseudonym(id string) string {
	if IsPseudonym(id) {
		return id
	}
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(id))
	return PseudonymPrefix + hex.EncodeToString(m.Sum(nil)[:pseudonymHexLen/2])
}

// IsPseudonym reports whether s has the form of a pseudonym; anything else
// in a Sealed.Subject or a seeker's subject token is a legacy id.
func IsPseudonym(s string) bool {
	h, ok := strings.CutPrefix(s, PseudonymPrefix)
	if !ok || len(h) != pseudonymHexLen {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil && strings.ToLower(h) == h
}

// pseudonymSecret reads the deployment's pseudonym secret from the keyring
// stream's leader (as keys are read: a lagging replica must not make a
// second copy think there is none), creating it when there is none yet.
// It is created expecting no message on its subject, so of copies starting
// together one writes it and every other reads that one.
func (k *Keyring) pseudonymSecret(ctx context.Context) ([]byte, error) {
	return k.readOrCreateSecret(ctx, true)
}

func (k *Keyring) readOrCreateSecret(ctx context.Context, create bool) ([]byte, error) {
	m, err := k.stream.GetLastMsgForSubject(ctx, SecretSubject)
	switch {
	case err == nil && len(m.Data) == 32:
		return m.Data, nil
	case err == nil:
		return nil, fmt.Errorf("pseudonym secret: %d bytes, want 32", len(m.Data))
	case !errors.Is(err, jetstream.ErrMsgNotFound):
		return nil, fmt.Errorf("pseudonym secret: %w", err)
	case !create:
		// Another copy wrote it, yet it cannot be read: Open retries.
		return nil, errors.New("pseudonym secret: written by another copy but not found")
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	_, err = k.js.Publish(ctx, SecretSubject, secret, jetstream.WithExpectLastSequencePerSubject(0))
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
		return k.readOrCreateSecret(ctx, false) // another copy created it first
	}
	if err != nil {
		return nil, fmt.Errorf("create pseudonym secret: %w", err)
	}
	return secret, nil
}
