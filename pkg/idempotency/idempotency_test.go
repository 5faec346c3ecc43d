package idempotency

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const scope = "user_1 POST /v1/applications"

func newStore(t *testing.T, opts ...Option) (*Store, *redis.Client) {
	t.Helper()
	rdb := testenv.Open(t, testenv.Needs{Redis: true}).Redis
	return New(rdb, "idem:", time.Hour, opts...), rdb
}

func hash(body string) []byte {
	h := sha256.Sum256([]byte(body))
	return h[:]
}

func begin(t *testing.T, s *Store, scope, key string, h []byte) Outcome {
	t.Helper()
	o, err := s.Begin(context.Background(), scope, key, h)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return o
}

func TestFreshCompleteReplay(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	h := hash(`{"job":"j1"}`)
	if o := begin(t, s, scope, "k1", h); o.Kind != Fresh || o.Err() != nil || o.Response != nil {
		t.Fatalf("first Begin: %+v", o)
	}
	want := Response{
		Status: 201,
		Header: map[string]string{"Content-Type": "application/json", "Location": "/v1/applications/a1"},
		Body:   []byte("{\"id\":\"a1\"}\x00\xff binary-safe"),
	}
	if err := s.Complete(ctx, scope, "k1", want); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	for i := range 2 { // replays do not consume the record
		o := begin(t, s, scope, "k1", h)
		if o.Kind != Replay || o.Err() != nil || o.Response == nil {
			t.Fatalf("retry %d: %+v", i, o)
		}
		if !reflect.DeepEqual(*o.Response, want) {
			t.Fatalf("replayed %+v; want %+v", *o.Response, want)
		}
	}
}

func TestReplayOfEmptyResponse(t *testing.T) {
	s, _ := newStore(t)
	h := hash("x")
	begin(t, s, scope, "k", h)
	if err := s.Complete(context.Background(), scope, "k", Response{Status: 204}); err != nil {
		t.Fatal(err)
	}
	o := begin(t, s, scope, "k", h)
	if o.Kind != Replay || o.Response.Status != 204 || len(o.Response.Body) != 0 || len(o.Response.Header) != 0 {
		t.Fatalf("%+v", o.Response)
	}
}

func TestInProgress(t *testing.T) {
	s, _ := newStore(t)
	h := hash("a")
	begin(t, s, scope, "k", h)
	o := begin(t, s, scope, "k", h)
	if o.Kind != InProgress {
		t.Fatalf("second Begin while running: %v; want in_progress", o.Kind)
	}
	if apierr.CodeOf(o.Err()) != apierr.Conflict {
		t.Fatalf("Err() = %v; want conflict", o.Err())
	}
}

func TestMismatch(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	begin(t, s, scope, "k", hash("a"))

	// While the first request runs…
	o := begin(t, s, scope, "k", hash("b"))
	if o.Kind != Mismatch {
		t.Fatalf("different body while running: %v; want mismatch", o.Kind)
	}
	e := apierr.As(o.Err())
	if e.Code != apierr.Unprocessable || e.Message != "Idempotency-Key reused with a different request body" {
		t.Fatalf("Err() = %v", e)
	}

	// …and after it completed.
	if err := s.Complete(ctx, scope, "k", Response{Status: 200, Body: []byte("ok")}); err != nil {
		t.Fatal(err)
	}
	if o := begin(t, s, scope, "k", hash("b")); o.Kind != Mismatch || o.Response != nil {
		t.Fatalf("different body after completion: %+v; want mismatch without response", o)
	}
	if o := begin(t, s, scope, "k", hash("a")); o.Kind != Replay {
		t.Fatalf("same body after a mismatch: %v; want replay", o.Kind)
	}
}

func TestAbandonLetsARetryProceed(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	h := hash("a")
	begin(t, s, scope, "k", h)
	if err := s.Abandon(ctx, scope, "k"); err != nil {
		t.Fatal(err)
	}
	if o := begin(t, s, scope, "k", h); o.Kind != Fresh {
		t.Fatalf("Begin after Abandon: %v; want fresh", o.Kind)
	}
	// After an abandon a different body is a new request, not a mismatch.
	if err := s.Abandon(ctx, scope, "k"); err != nil {
		t.Fatal(err)
	}
	if o := begin(t, s, scope, "k", hash("b")); o.Kind != Fresh {
		t.Fatalf("new body after Abandon: %v; want fresh", o.Kind)
	}
}

func TestAbandonDoesNotUndoComplete(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	h := hash("a")
	begin(t, s, scope, "k", h)
	if err := s.Complete(ctx, scope, "k", Response{Status: 201}); err != nil {
		t.Fatal(err)
	}
	if err := s.Abandon(ctx, scope, "k"); err != nil {
		t.Fatal(err)
	}
	if o := begin(t, s, scope, "k", h); o.Kind != Replay {
		t.Fatalf("after late Abandon: %v; want replay", o.Kind)
	}
	// Abandoning a key that was never begun is harmless.
	if err := s.Abandon(ctx, scope, "never"); err != nil {
		t.Fatal(err)
	}
}

func TestCompleteWithoutMarker(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if err := s.Complete(ctx, scope, "never-begun", Response{Status: 200}); !errors.Is(err, ErrNotInProgress) {
		t.Fatalf("Complete without Begin: %v; want ErrNotInProgress", err)
	}
	h := hash("a")
	begin(t, s, scope, "k", h)
	if err := s.Complete(ctx, scope, "k", Response{Status: 200, Body: []byte("first")}); err != nil {
		t.Fatal(err)
	}
	// A second Complete must not overwrite the stored answer.
	if err := s.Complete(ctx, scope, "k", Response{Status: 500, Body: []byte("second")}); !errors.Is(err, ErrNotInProgress) {
		t.Fatalf("second Complete: %v; want ErrNotInProgress", err)
	}
	if o := begin(t, s, scope, "k", h); string(o.Response.Body) != "first" {
		t.Fatalf("stored response changed to %q", o.Response.Body)
	}
}

// A crashed request's marker expires, after which a retry proceeds and the
// crashed request's late Complete is refused.
func TestInProgressMarkerExpires(t *testing.T) {
	s, rdb := newStore(t, WithPendingTTL(300*time.Millisecond))
	ctx := context.Background()
	h := hash("a")
	begin(t, s, scope, "k", h)
	ttl, err := rdb.PTTL(ctx, s.redisKey(scope, "k")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > 300*time.Millisecond {
		t.Fatalf("marker TTL %s; want within (0, 300ms]", ttl)
	}
	testenv.Eventually(t, 5*time.Second, func() error {
		if o := begin(t, s, scope, "k", h); o.Kind != Fresh {
			return errors.New("key still in progress")
		}
		return nil
	})
}

func TestCompletedRecordHasStoreTTL(t *testing.T) {
	s, rdb := newStore(t, WithPendingTTL(time.Second))
	ctx := context.Background()
	begin(t, s, scope, "k", hash("a"))
	if err := s.Complete(ctx, scope, "k", Response{Status: 200}); err != nil {
		t.Fatal(err)
	}
	ttl, err := rdb.PTTL(ctx, s.redisKey(scope, "k")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("completed TTL %s; want about 1h", ttl)
	}
}

func TestScopesAreIndependent(t *testing.T) {
	s, _ := newStore(t)
	h := hash("a")
	begin(t, s, "user_1 POST /x", "k", h)
	if o := begin(t, s, "user_2 POST /x", "k", h); o.Kind != Fresh {
		t.Fatalf("other scope, same key: %v; want fresh", o.Kind)
	}
	// Scope and key are joined unambiguously: ("a:", "b") is not ("a", ":b").
	begin(t, s, "a:", "b", h)
	if o := begin(t, s, "a", ":b", h); o.Kind != Fresh {
		t.Fatalf("ambiguous join: %v; want fresh", o.Kind)
	}
}

func TestConcurrentBeginsGiveOneFresh(t *testing.T) {
	s, _ := newStore(t)
	const n = 32
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		kinds = map[Kind]int{}
		errs  []error
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			o, err := s.Begin(context.Background(), scope, "race", hash("same"))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			kinds[o.Kind]++
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if kinds[Fresh] != 1 || kinds[InProgress] != n-1 {
		t.Fatalf("outcomes %v; want exactly one fresh and %d in_progress", kinds, n-1)
	}
}

func TestValidateKey(t *testing.T) {
	good := []string{"a", "8e03978e-40d5-43e8-bc93-6894a57f9324", strings.Repeat("k", 255), "with space", "~!@#$%^&*()"}
	bad := []string{"", strings.Repeat("k", 256), "tab\there", "new\nline", "nul\x00", "é", "\x7f"}
	for _, k := range good {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q): %v", k, err)
		}
	}
	s, _ := newStore(t)
	for _, k := range bad {
		err := ValidateKey(k)
		e := apierr.As(err)
		if e.Code != apierr.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "Idempotency-Key" {
			t.Errorf("ValidateKey(%q) = %v; want invalid Idempotency-Key", k, err)
		}
		// Every entry point validates.
		if _, err := s.Begin(context.Background(), scope, k, hash("a")); apierr.CodeOf(err) != apierr.Invalid {
			t.Errorf("Begin(%q): %v", k, err)
		}
		if err := s.Complete(context.Background(), scope, k, Response{Status: 200}); apierr.CodeOf(err) != apierr.Invalid {
			t.Errorf("Complete(%q): %v", k, err)
		}
		if err := s.Abandon(context.Background(), scope, k); apierr.CodeOf(err) != apierr.Invalid {
			t.Errorf("Abandon(%q): %v", k, err)
		}
	}
}

func TestProgrammingErrors(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if _, err := s.Begin(ctx, "", "k", hash("a")); err == nil {
		t.Error("empty scope accepted")
	}
	if _, err := s.Begin(ctx, scope, "k", nil); err == nil {
		t.Error("empty request hash accepted")
	}
	begin(t, s, scope, "k", hash("a"))
	if err := s.Complete(ctx, scope, "k", Response{Status: 42}); err == nil {
		t.Error("status 42 accepted")
	}
}

func TestRedisDownIsUnavailable(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	_, err := New(rdb, "idem:", time.Hour).Begin(context.Background(), scope, "k", hash("a"))
	if apierr.CodeOf(err) != apierr.Unavailable {
		t.Fatalf("error %v; want unavailable", err)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Fresh: "fresh", Replay: "replay", InProgress: "in_progress", Mismatch: "mismatch", 0: "Kind(0)"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q; want %q", int(k), k.String(), want)
		}
	}
}
