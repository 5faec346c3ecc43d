// Package idempotency makes POST requests safe to retry: a client sends an
// Idempotency-Key header, and the gateway uses a Store to run the request at
// most once per key and to answer retries with the first response.
//
// Each (scope, key) pair is one Redis hash. Begin atomically claims it with a
// short-lived in-progress marker recording a hash of the request; Complete
// replaces the marker with the response, kept for the store's TTL; Abandon
// removes the marker so that a retry can run the request again. The marker
// expires by itself, so a gateway that crashes mid-request blocks the key
// only briefly.
package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// Header is the HTTP header carrying the key.
const Header = "Idempotency-Key"

const (
	// DefaultTTL is how long a completed response is replayed when New is
	// given no TTL; a day covers any sensible client retry schedule.
	DefaultTTL = 24 * time.Hour
	// DefaultPendingTTL bounds how long a crashed request blocks its key. It
	// must exceed the longest time a request may run, or a slow request's
	// key could be claimed again while it is still working.
	DefaultPendingTTL = time.Minute

	maxKeyLen = 255
)

// ErrNotInProgress is returned by Complete when there was no in-progress
// marker to complete: it expired or was abandoned. The response was not
// stored, and a retry may run the request again.
var ErrNotInProgress = errors.New("idempotency: no request in progress for this key")

// Kind says what Begin found.
type Kind int

const (
	// Fresh: the caller claimed the key and must run the request, then call
	// Complete or Abandon.
	Fresh Kind = iota + 1
	// Replay: the request already ran; answer with Outcome.Response.
	Replay
	// InProgress: the same request is running elsewhere; answer 409.
	InProgress
	// Mismatch: the key was used for a different request; answer 422.
	Mismatch
)

func (k Kind) String() string {
	switch k {
	case Fresh:
		return "fresh"
	case Replay:
		return "replay"
	case InProgress:
		return "in_progress"
	case Mismatch:
		return "mismatch"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Response is what is stored and replayed: enough to write the same HTTP
// answer again.
type Response struct {
	Status int
	Header map[string]string
	Body   []byte
}

// Outcome is the result of Begin.
type Outcome struct {
	Kind     Kind
	Response *Response // set only for Replay
}

// Err is the error to answer with for InProgress and Mismatch, nil for
// Fresh and Replay.
func (o Outcome) Err() error {
	switch o.Kind {
	case InProgress:
		return apierr.New(apierr.Conflict, "a request with this Idempotency-Key is still in progress")
	case Mismatch:
		return apierr.New(apierr.Unprocessable, "Idempotency-Key reused with a different request body")
	}
	return nil
}

// Store keeps idempotency records in Redis. It is safe for concurrent use.
type Store struct {
	rdb        *redis.Client
	prefix     string
	ttl        time.Duration
	pendingTTL time.Duration
}

// Option changes a Store's defaults.
type Option func(*Store)

// WithPendingTTL sets how long an in-progress marker lives (default
// DefaultPendingTTL). Set it above the gateway's request timeout.
func WithPendingTTL(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.pendingTTL = d
		}
	}
}

// New returns a Store keeping records under prefix (for example "idem:") in
// rdb, replaying completed responses for ttl (DefaultTTL if ttl <= 0).
func New(rdb *redis.Client, prefix string, ttl time.Duration, opts ...Option) *Store {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	s := &Store{rdb: rdb, prefix: prefix, ttl: ttl, pendingTTL: DefaultPendingTTL}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ValidateKey checks an Idempotency-Key value: 1 to 255 printable ASCII
// characters. It returns an apierr.Invalid error naming the header.
func ValidateKey(key string) error {
	ok := len(key) >= 1 && len(key) <= maxKeyLen
	for i := 0; ok && i < len(key); i++ {
		ok = key[i] >= 0x20 && key[i] <= 0x7e
	}
	if !ok {
		return apierr.InvalidFields(apierr.FieldError{
			Field:   Header,
			Message: "must be 1 to 255 printable ASCII characters",
		})
	}
	return nil
}

// redisKey joins prefix, scope and key. The scope's length goes first so
// that no two (scope, key) pairs can spell the same Redis key, whatever
// characters they contain.
func (s *Store) redisKey(scope, key string) string {
	return s.prefix + strconv.Itoa(len(scope)) + ":" + scope + ":" + key
}

func (s *Store) check(scope, key string) error {
	if scope == "" {
		return errors.New("idempotency: empty scope")
	}
	return ValidateKey(key)
}

func unavailable(op string, err error) error {
	return apierr.Wrap(fmt.Errorf("idempotency: %s: %w", op, err), apierr.Unavailable, "idempotency store unavailable")
}

// beginScript claims a key or reports what holds it.
//
// KEYS[1] record; ARGV[1] request hash; ARGV[2] in-progress TTL in ms.
var beginScript = redis.NewScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  redis.call('HSET', KEYS[1], 'state', 'pending', 'hash', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'fresh'}
end
if redis.call('HGET', KEYS[1], 'hash') ~= ARGV[1] then
  return {'mismatch'}
end
if state == 'pending' then
  return {'in_progress'}
end
local r = redis.call('HMGET', KEYS[1], 'status', 'header', 'body')
return {'replay', r[1], r[2], r[3]}
`)

// Begin claims (scope, key) for a request whose content hashes to
// requestHash. scope separates callers and routes (for example principal
// subject plus route), so two users' keys never collide. A different
// requestHash under the same scope and key is a Mismatch, also while the
// first request is still running.
func (s *Store) Begin(ctx context.Context, scope, key string, requestHash []byte) (Outcome, error) {
	if err := s.check(scope, key); err != nil {
		return Outcome{}, err
	}
	if len(requestHash) == 0 {
		return Outcome{}, errors.New("idempotency: empty request hash")
	}
	res, err := beginScript.Run(ctx, s.rdb, []string{s.redisKey(scope, key)},
		requestHash, s.pendingTTL.Milliseconds()).StringSlice()
	if err != nil {
		return Outcome{}, unavailable("begin", err)
	}
	if len(res) == 0 {
		return Outcome{}, errors.New("idempotency: begin: empty script result")
	}
	switch res[0] {
	case "fresh":
		return Outcome{Kind: Fresh}, nil
	case "mismatch":
		return Outcome{Kind: Mismatch}, nil
	case "in_progress":
		return Outcome{Kind: InProgress}, nil
	case "replay":
		resp, err := decodeResponse(res[1:])
		if err != nil {
			return Outcome{}, err
		}
		return Outcome{Kind: Replay, Response: resp}, nil
	}
	return Outcome{}, fmt.Errorf("idempotency: begin: unexpected script result %q", res[0])
}

func decodeResponse(f []string) (*Response, error) {
	if len(f) != 3 {
		return nil, fmt.Errorf("idempotency: stored response has %d fields", len(f))
	}
	status, err := strconv.Atoi(f[0])
	if err != nil {
		return nil, fmt.Errorf("idempotency: stored status: %w", err)
	}
	r := &Response{Status: status, Body: []byte(f[2])}
	if err := json.Unmarshal([]byte(f[1]), &r.Header); err != nil {
		return nil, fmt.Errorf("idempotency: stored header: %w", err)
	}
	return r, nil
}

// completeScript stores a response in place of our in-progress marker.
//
// KEYS[1] record; ARGV[1] status; ARGV[2] header JSON; ARGV[3] body;
// ARGV[4] TTL in ms. Returns 0 when there is no marker to complete.
var completeScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[1], 'header', ARGV[2], 'body', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// Complete stores resp for (scope, key), to be replayed to retries for the
// store's TTL. Call it for every answer the client should get again, client
// errors included; call Abandon instead for failures a retry might not meet
// (5xx, timeouts). If the in-progress marker is gone, the response is not
// stored and the error wraps ErrNotInProgress.
func (s *Store) Complete(ctx context.Context, scope, key string, resp Response) error {
	if err := s.check(scope, key); err != nil {
		return err
	}
	if resp.Status < 100 || resp.Status > 599 {
		return fmt.Errorf("idempotency: complete: status %d is not an HTTP status", resp.Status)
	}
	header := resp.Header
	if header == nil {
		header = map[string]string{}
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("idempotency: complete: encode header: %w", err)
	}
	body := resp.Body
	if body == nil {
		body = []byte{}
	}
	n, err := completeScript.Run(ctx, s.rdb, []string{s.redisKey(scope, key)},
		resp.Status, hj, body, s.ttl.Milliseconds()).Int()
	if err != nil {
		return unavailable("complete", err)
	}
	if n == 0 {
		return fmt.Errorf("idempotency: complete: %w", ErrNotInProgress)
	}
	return nil
}

// abandonScript deletes an in-progress marker, never a stored response.
var abandonScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') == 'pending' then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Abandon releases (scope, key) after a failed request so that a retry runs
// it again. A stored response is left alone, so a late Abandon cannot undo a
// Complete.
func (s *Store) Abandon(ctx context.Context, scope, key string) error {
	if err := s.check(scope, key); err != nil {
		return err
	}
	if err := abandonScript.Run(ctx, s.rdb, []string{s.redisKey(scope, key)}).Err(); err != nil {
		return unavailable("abandon", err)
	}
	return nil
}
