package shred

import (
	"context"
	"sync"
	"time"
)

// SealCached returns a keyring like k that keeps each key it reads for
// sealing for ttl, so that sealing for one subject again and again (a
// seeker's announcements: one per reverse batch) costs one keyring read
// per ttl instead of one per payload. At 100,000 seekers matching spent
// most of its time reading keys from the stream leader (issue 14).
//
// Only Seal uses the cache; Open always reads the keyring, so a shredded
// subject's data never opens from a cached key. A key shredded elsewhere
// may still seal here for up to ttl: what it seals is ciphertext under a
// destroyed key, which nobody can open (Open answers ErrShredded) — the
// same as data sealed just before the deletion. Shred and Forget on the
// returned keyring drop the subject's key at once. The cache holds at
// most maxCached keys; past that, expired keys are dropped, and if none
// had expired, all of them.
func (k *Keyring) SealCached(ttl time.Duration) *Keyring {
	c := *k
	c.cache = &sealCache{ttl: ttl, keys: map[string]cachedKey{}}
	return &c
}

// maxCached bounds a seal cache (about 100 bytes a key).
const maxCached = 200_000

type sealCache struct {
	mu   sync.Mutex
	ttl  time.Duration
	keys map[string]cachedKey // by pseudonym
}

type cachedKey struct {
	key   []byte
	until time.Time
}

func (c *sealCache) get(subject string, now time.Time) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.keys[subject]
	if !ok || now.After(e.until) {
		return nil, false
	}
	return e.key, true
}

func (c *sealCache) put(subject string, key []byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) >= maxCached {
		for s, e := range c.keys {
			if now.After(e.until) {
				delete(c.keys, s)
			}
		}
		if len(c.keys) >= maxCached {
			clear(c.keys)
		}
	}
	c.keys[subject] = cachedKey{key: key, until: now.Add(c.ttl)}
}

func (c *sealCache) drop(subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.keys, subject)
}

// sealKey is the key Seal uses for subject (a pseudonym): from the cache
// when there is one and it holds the key, else from the keyring (created
// when missing).
func (k *Keyring) sealKey(ctx context.Context, subject string) ([]byte, error) {
	if k.cache == nil {
		key, _, err := k.key(ctx, subject, true)
		return key, err
	}
	now := time.Now()
	if key, ok := k.cache.get(subject, now); ok {
		return key, nil
	}
	key, _, err := k.key(ctx, subject, true)
	if err != nil {
		return nil, err
	}
	k.cache.put(subject, key, now)
	return key, nil
}

// Forget drops the subject id's key from the seal cache (nothing without
// one): call it when the subject is deleted, so that nothing more is
// sealed with the key here.
func (k *Keyring) Forget(id string) {
	if k.cache != nil {
		k.cache.drop(k.Pseudonym(id))
	}
}
