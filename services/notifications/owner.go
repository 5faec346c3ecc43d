package notifications

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
	"github.com/clerkpath/clerkpath/pkg/profile"
)

// pseudonyms turns a seeker id into the name this service stores them
// under: HMAC-SHA256, with a random key made once per deployment, of the
// seeker's pseudonym in the event log (pkg/shred, event), which is what a
// deletion event names: of(id) and of(event pseudonym) are the same.
// Keys, message ids and values never carry the plain id, so a dump of Redis
// names no seeker; when a seeker is deleted every record under their
// pseudonym goes too (forgetSeeker), and what a counselor's or employer's
// feed said about them is found through refs:<pseudonym> and deleted.
type pseudonyms struct {
	key   []byte
	event func(id string) string // the keyring's Pseudonym
}

const pseudonymKey = KeyPrefix + "pseudonym-key"

func openPseudonyms(ctx context.Context, rdb *redis.Client) (pseudonyms, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return pseudonyms{}, err
	}
	// Of two copies starting at once, the first key written wins.
	if err := rdb.SetNX(ctx, pseudonymKey, fresh, 0).Err(); err != nil {
		return pseudonyms{}, fmt.Errorf("pseudonym key: %w", err)
	}
	key, err := rdb.Get(ctx, pseudonymKey).Bytes()
	if err != nil {
		return pseudonyms{}, fmt.Errorf("pseudonym key: %w", err)
	}
	if len(key) != 32 {
		return pseudonyms{}, errors.New("pseudonym key: not 32 bytes")
	}
	return pseudonyms{key: key}, nil
}

// of is the seeker's pseudonym: 32 hex digits. seeker is an id, or the
// seeker's pseudonym in the event log.
func (p pseudonyms) of(seeker string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("seeker\x00" + p.event(seeker)))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// seekerOwner is the owner key of a seeker's own notifications.
func (p pseudonyms) seekerOwner(seeker string) string { return seekerOwnerOf(p.of(seeker)) }

// seekerOwnerOf is the owner key of the seeker whose pseudonym (of) is
// pseud: for a caller that needs both and computes the two HMACs once.
func seekerOwnerOf(pseud string) string { return "seeker:" + pseud }

func counselorOwner(id string) string { return "counselor:" + id }
func employerOwner(org string) string { return "employer:" + org }

// ownerKey checks an owner from a request and returns its key.
func (s *Service) ownerKey(o notificationsapi.Owner) (string, error) {
	if !profile.ValidID(o.ID) {
		return "", apierr.InvalidFields(apierr.FieldError{Field: "owner.id", Message: "1 to 64 letters, digits, '-' or '_'"})
	}
	switch o.Kind {
	case notificationsapi.OwnerSeeker:
		return s.names.seekerOwner(o.ID), nil
	case notificationsapi.OwnerCounselor:
		return counselorOwner(o.ID), nil
	case notificationsapi.OwnerEmployer:
		return employerOwner(o.ID), nil
	}
	return "", apierr.InvalidFields(apierr.FieldError{Field: "owner.kind", Message: "seeker, counselor or employer"})
}
