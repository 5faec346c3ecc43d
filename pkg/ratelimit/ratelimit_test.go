package ratelimit

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// t0 is a fixed instant with a non-zero microsecond part, so that rounding
// anywhere in the time arithmetic would show.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)

func newLimiter(t testing.TB) (*Limiter, *redis.Client) {
	t.Helper()
	rdb := testenv.Open(t, testenv.Needs{Redis: true}).Redis
	return New(rdb, "rl:"), rdb
}

func allow(t *testing.T, l *Limiter, key string, limit int, window time.Duration, now time.Time) Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, limit, window, now)
	if err != nil {
		t.Fatalf("Allow: %v", err)
	}
	return d
}

func TestLimitBoundary(t *testing.T) {
	l, _ := newLimiter(t)
	const limit = 5
	for i := range limit {
		d := allow(t, l, "k", limit, time.Minute, t0.Add(time.Duration(i)*time.Millisecond))
		if !d.Allowed || d.Remaining != limit-1-i || d.RetryAfter != 0 {
			t.Fatalf("request %d: %+v; want allowed with %d remaining", i+1, d, limit-1-i)
		}
		if d.Err() != nil {
			t.Fatalf("allowed decision has error %v", d.Err())
		}
	}
	for i := range 3 {
		d := allow(t, l, "k", limit, time.Minute, t0.Add(10*time.Millisecond))
		if d.Allowed || d.Remaining != 0 {
			t.Fatalf("request %d over the limit: %+v; want denied", limit+1+i, d)
		}
		if apierr.CodeOf(d.Err()) != apierr.RateLimited {
			t.Fatalf("denied decision error %v; want rate_limited", d.Err())
		}
	}
}

func TestWindowSlides(t *testing.T) {
	l, _ := newLimiter(t)
	const w = 10 * time.Second
	// Three requests spread over the window fill a limit of 3.
	for _, at := range []time.Duration{0, 2 * time.Second, 4 * time.Second} {
		if d := allow(t, l, "k", 3, w, t0.Add(at)); !d.Allowed {
			t.Fatalf("at +%s: denied", at)
		}
	}
	steps := []struct {
		at      time.Duration
		allowed bool
		retry   time.Duration
	}{
		{9 * time.Second, false, time.Second}, // the first slot frees at +10s
		{w - time.Microsecond, false, time.Microsecond},
		{w, true, 0},                               // +0 has left the window; +10s takes its place
		{w + time.Second, false, time.Second},      // +2s frees at +12s
		{12 * time.Second, true, 0},                // +2s left
		{14 * time.Second, true, 0},                // +4s left
		{14 * time.Second, false, 6 * time.Second}, // window holds +10, +12, +14
		{30 * time.Second, true, 0},                // everything old is gone
	}
	for _, s := range steps {
		d := allow(t, l, "k", 3, w, t0.Add(s.at))
		if d.Allowed != s.allowed || d.RetryAfter != s.retry {
			t.Fatalf("at +%s: %+v; want allowed=%v retry=%s", s.at, d, s.allowed, s.retry)
		}
	}
}

// RetryAfter must be exact: denied just before it, allowed at it.
func TestRetryAfterIsExact(t *testing.T) {
	l, _ := newLimiter(t)
	const w = time.Minute
	allow(t, l, "k", 2, w, t0)
	allow(t, l, "k", 2, w, t0.Add(1500*time.Microsecond))
	now := t0.Add(17*time.Second + 250*time.Millisecond)
	d := allow(t, l, "k", 2, w, now)
	if want := w - (17*time.Second + 250*time.Millisecond); d.Allowed || d.RetryAfter != want {
		t.Fatalf("%+v; want denied with RetryAfter %s", d, want)
	}
	if got := d.RetryAfterSeconds(); got != 43 {
		t.Fatalf("RetryAfterSeconds = %d; want 43 (rounded up)", got)
	}
	if d := allow(t, l, "k", 2, w, now.Add(d.RetryAfter-time.Microsecond)); d.Allowed {
		t.Fatal("allowed before RetryAfter passed")
	}
	if d := allow(t, l, "k", 2, w, now.Add(d.RetryAfter)); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("at RetryAfter: %+v; want allowed with 0 remaining", d)
	}
}

// Denied requests are not recorded, so hammering does not delay recovery.
func TestDeniedRequestsAreNotCounted(t *testing.T) {
	l, _ := newLimiter(t)
	const w = time.Second
	allow(t, l, "k", 1, w, t0)
	for i := range 100 {
		if d := allow(t, l, "k", 1, w, t0.Add(time.Duration(i)*time.Millisecond)); d.Allowed {
			t.Fatalf("retry %d allowed", i)
		}
	}
	if d := allow(t, l, "k", 1, w, t0.Add(w)); !d.Allowed {
		t.Fatalf("after the window: %+v", d)
	}
}

func TestKeysAreIndependent(t *testing.T) {
	l, rdb := newLimiter(t)
	for range 2 {
		allow(t, l, "alice", 2, time.Minute, t0)
	}
	if d := allow(t, l, "alice", 2, time.Minute, t0); d.Allowed {
		t.Fatal("alice over her limit was allowed")
	}
	if d := allow(t, l, "bob", 2, time.Minute, t0); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("bob is limited by alice: %+v", d)
	}
	// Another prefix is another namespace on the same Redis.
	other := New(rdb, "rl2:")
	if d := allow(t, other, "alice", 2, time.Minute, t0); !d.Allowed {
		t.Fatalf("prefix rl2: shares counts with rl: %+v", d)
	}
}

// Lowering the limit while a set is full must not admit anyone until enough
// entries have left, and RetryAfter names the entry whose exit frees a slot.
func TestLimitLoweredWhileFull(t *testing.T) {
	l, _ := newLimiter(t)
	const w = 10 * time.Second
	for i := range 4 {
		allow(t, l, "k", 4, w, t0.Add(time.Duration(i)*time.Second))
	}
	d := allow(t, l, "k", 2, w, t0.Add(5*time.Second))
	// Entries at +0..+3s; for a fifth to fit under a limit of 2, three must
	// leave: +2s does so at +12s.
	if d.Allowed || d.RetryAfter != 7*time.Second {
		t.Fatalf("%+v; want denied with RetryAfter 7s", d)
	}
}

func TestKeysExpire(t *testing.T) {
	l, rdb := newLimiter(t)
	ctx := context.Background()
	const w = 1500 * time.Millisecond
	allow(t, l, "k", 3, w, t0)
	ttl, err := rdb.PTTL(ctx, "rl:k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > w {
		t.Fatalf("key TTL %s; want within (0, %s]", ttl, w)
	}
	// The key really goes away once the window has passed in Redis's time.
	testenv.Eventually(t, 5*time.Second, func() error {
		n, err := rdb.Exists(ctx, "rl:k").Result()
		if err == nil && n != 0 {
			err = errString("key still exists")
		}
		return err
	})
}

type errString string

func (e errString) Error() string { return string(e) }

func TestConcurrentRequestsAdmitExactlyLimit(t *testing.T) {
	l, _ := newLimiter(t)
	const (
		n     = 64
		limit = 10
	)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
		errs    []error
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			// All in the same microsecond: members must still be distinct.
			d, err := l.Allow(context.Background(), "hot", limit, time.Minute, t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if d.Allowed {
				allowed++
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if allowed != limit {
		t.Fatalf("%d of %d concurrent requests allowed; want exactly %d", allowed, n, limit)
	}
}

func TestInvalidArguments(t *testing.T) {
	l, _ := newLimiter(t)
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"empty key":    func() error { _, err := l.Allow(ctx, "", 1, time.Second, t0); return err },
		"zero limit":   func() error { _, err := l.Allow(ctx, "k", 0, time.Second, t0); return err },
		"tiny window":  func() error { _, err := l.Allow(ctx, "k", 1, time.Microsecond, t0); return err },
		"negative win": func() error { _, err := l.Allow(ctx, "k", 1, -time.Second, t0); return err },
	} {
		if call() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRedisDownIsUnavailable(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	_, err := New(rdb, "rl:").Allow(context.Background(), "k", 1, time.Second, t0)
	if apierr.CodeOf(err) != apierr.Unavailable {
		t.Fatalf("error %v; want unavailable", err)
	}
}

func BenchmarkAllow(b *testing.B) {
	l, _ := newLimiter(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		// Spread over 100 keys with a limit that is reached, so the benchmark
		// covers both the admitting and the denying path.
		key := "bench-" + strconv.Itoa(i%100)
		if _, err := l.Allow(ctx, key, 50, time.Second, t0.Add(time.Duration(i)*time.Millisecond)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
