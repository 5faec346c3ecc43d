package luascript_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/luascript"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// incr adds ARGV[1] to KEYS[1] and answers the new value; a negative
// amount answers nil without adding, and "fail" is a script error.
var incr = redis.NewScript(`
if ARGV[1] == 'fail' then return redis.error_reply('asked to fail') end
if tonumber(ARGV[1]) < 0 then return false end
return redis.call('INCRBY', KEYS[1], ARGV[1])
`)

// pipelines counts the pipelines of script calls sent, and the calls.
type pipelines struct{ sent, calls atomic.Int64 }

func (p *pipelines) watch(_ context.Context, cmds []redis.Cmder, pipelined bool) error {
	n := int64(0)
	for _, c := range cmds {
		if strings.EqualFold(fmt.Sprint(c.Args()[0]), "evalsha") {
			n++
		}
	}
	if pipelined && n > 0 { // not a new connection's SELECT and CLIENT SETINFO
		p.sent.Add(1)
		p.calls.Add(n)
	}
	return nil
}

// Every call runs exactly once, in order, in one round trip when Redis has
// the script and in two when it does not (flushed, as after a restart):
// the refused calls are sent again after loading it, and only they.
func TestEachCallRunsOnceWithOrWithoutTheScriptLoaded(t *testing.T) {
	srv := testenv.Open(t, testenv.Needs{Redis: true})
	ctx := context.Background()
	counted := &pipelines{}
	srv.Redis.AddHook(testenv.RedisWatch(counted.watch))
	calls := []luascript.Call{
		{Keys: []string{"a"}, Args: []any{1}},
		{Keys: []string{"b"}, Args: []any{10}},
		{Keys: []string{"a"}, Args: []any{2}},
		{Keys: []string{"c"}, Args: []any{-1}},
	}
	for _, step := range []struct {
		name         string
		flush        bool
		sent, called int64
		a, b         int64
	}{
		{"flushed", true, 2, 8, 3, 10},
		{"loaded", false, 1, 4, 6, 20},
	} {
		if step.flush {
			if err := srv.Redis.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		counted.sent.Store(0)
		counted.calls.Store(0)
		got, err := luascript.Pipelined(ctx, srv.Redis, incr, calls)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if len(got) != len(calls) {
			t.Fatalf("%s: %d replies for %d calls", step.name, len(got), len(calls))
		}
		if n, _ := got[2].Int64(); n != step.a {
			t.Errorf("%s: the second call on a answered %d, want %d (calls run in order, once)", step.name, n, step.a)
		}
		if err := got[3].Err(); !errors.Is(err, redis.Nil) {
			t.Errorf("%s: a nil reply: %v, want redis.Nil", step.name, err)
		}
		for key, want := range map[string]int64{"a": step.a, "b": step.b} {
			if v, _ := srv.Redis.Get(ctx, key).Int64(); v != want {
				t.Errorf("%s: %s = %d, want %d", step.name, key, v, want)
			}
		}
		if s, c := counted.sent.Load(), counted.calls.Load(); s != step.sent || c != step.called {
			t.Errorf("%s: %d pipelines carrying %d calls, want %d carrying %d", step.name, s, c, step.sent, step.called)
		}
	}
}

// A call the script fails is the batch's error.
func TestAFailedCallIsTheError(t *testing.T) {
	srv := testenv.Open(t, testenv.Needs{Redis: true})
	_, err := luascript.Pipelined(context.Background(), srv.Redis, incr, []luascript.Call{
		{Keys: []string{"a"}, Args: []any{1}},
		{Keys: []string{"a"}, Args: []any{"fail"}},
	})
	if err == nil || !strings.Contains(err.Error(), "asked to fail") {
		t.Fatalf("err = %v, want the script's error", err)
	}
}

// No calls is no round trip.
func TestNoCallsIsNoRoundTrip(t *testing.T) {
	srv := testenv.Open(t, testenv.Needs{Redis: true})
	counted := &pipelines{}
	srv.Redis.AddHook(testenv.RedisWatch(counted.watch))
	got, err := luascript.Pipelined(context.Background(), srv.Redis, incr, nil)
	if err != nil || len(got) != 0 || counted.sent.Load() != 0 {
		t.Fatalf("got %v, %v after %d pipelines, want nothing sent", got, err, counted.sent.Load())
	}
}
