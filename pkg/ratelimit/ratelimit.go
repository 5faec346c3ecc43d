// Package ratelimit limits how often a key (a principal, an IP, a route) may
// act, with a sliding window kept in Redis so that every gateway instance
// shares one count.
//
// The algorithm is a sliding log: each admitted request is a member of a
// sorted set scored by its time, and a request is admitted while fewer than
// limit members lie within the last window. We chose it over the two-window
// sliding counter because it is exact — a client gets precisely limit
// requests in any window and RetryAfter is the true time until the next slot
// frees — at a cost of one set member per admitted request, which is small
// for API-sized limits (tens to thousands per window). Denied requests are
// not recorded, so a client that keeps retrying does not push its own
// recovery further away.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// allowScript is the check-and-record step; running it as one script is what
// makes concurrent requests for a key see each other.
//
// Times are integer microseconds and reach the script as strings: Lua turns
// numbers it passes to redis.call into strings with 14 significant digits,
// which would round today's 16-digit timestamps.
//
// KEYS[1] sorted set of admitted requests, scored by time
// ARGV[1] now
// ARGV[2] cutoff = now - window; members scored at or before it have expired
// ARGV[3] window
// ARGV[4] limit
// ARGV[5] member naming this request
// ARGV[6] key TTL in milliseconds
//
// Returns {allowed (0/1), remaining, retry after in microseconds}.
var allowScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[4])
if count < limit then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  return {1, limit - count - 1, 0}
end
-- A slot frees when the member at index count-limit expires (the oldest
-- one, unless the limit was lowered since the set filled).
local entry = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
local retry = tonumber(entry[2]) + tonumber(ARGV[3]) - tonumber(ARGV[1])
if retry < 1 then retry = 1 end
return {0, 0, retry}
`)

// Limiter checks rate limits against Redis. It is safe for concurrent use.
type Limiter struct {
	rdb    *redis.Client
	prefix string
}

// New returns a Limiter storing its sets under prefix (for example "rl:")
// in rdb.
func New(rdb *redis.Client, prefix string) *Limiter {
	return &Limiter{rdb: rdb, prefix: prefix}
}

// Decision is the outcome of one Allow.
type Decision struct {
	Allowed bool
	// Remaining is how many more requests the window admits right now.
	Remaining int
	// RetryAfter is, for a denied request, how long until a request would be
	// admitted; zero when allowed.
	RetryAfter time.Duration
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, for the
// Retry-After header: rounding down would invite a retry that is denied.
func (d Decision) RetryAfterSeconds() int {
	if d.RetryAfter <= 0 {
		return 0
	}
	return int((d.RetryAfter + time.Second - 1) / time.Second)
}

// Err is nil when the request was allowed and an apierr.RateLimited error
// otherwise.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return apierr.New(apierr.RateLimited, "too many requests; retry in %d s", d.RetryAfterSeconds())
}

// Allow records one request for key at time now and reports whether it is
// within limit requests per window. now is passed in rather than read from a
// clock so that callers and tests decide time; gateway instances should have
// synchronised clocks.
//
// A Redis failure is returned as an apierr.Unavailable error; whether to
// fail open or closed is the caller's decision.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	switch {
	case key == "":
		return Decision{}, errors.New("ratelimit: empty key")
	case limit < 1:
		return Decision{}, fmt.Errorf("ratelimit: limit %d must be at least 1", limit)
	case window < time.Millisecond:
		return Decision{}, fmt.Errorf("ratelimit: window %s must be at least 1ms", window)
	}
	nowUS := now.UnixMicro()
	windowUS := window.Microseconds()
	ttlMS := (window + time.Millisecond - 1).Milliseconds()
	// The member must be unique even for requests in the same microsecond,
	// or the set would count them once.
	member := strconv.FormatInt(nowUS, 10) + "-" + strconv.FormatUint(rand.Uint64(), 36)

	res, err := allowScript.Run(ctx, l.rdb, []string{l.prefix + key},
		nowUS, nowUS-windowUS, windowUS, limit, member, ttlMS).Int64Slice()
	if err != nil {
		return Decision{}, apierr.Wrap(fmt.Errorf("ratelimit: allow %q: %w", key, err), apierr.Unavailable, "rate limiter unavailable")
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("ratelimit: allow %q: script returned %d values", key, len(res))
	}
	return Decision{
		Allowed:    res[0] == 1,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
	}, nil
}
