package main

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// busy holds Redis for ARGV[1] milliseconds.
var busy = redis.NewScript(`
local t = redis.call('TIME')
local start = t[1] * 1000000 + t[2]
repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start >= ARGV[1] * 1000
return 1
`)

// The bench names the commands that held Redis: a script that ran 30 ms,
// twice, by its first key with the id left out; a quick command not at
// all; and each is told once.
func TestRedisStallsNameWhatHeldRedis(t *testing.T) {
	srv := testenv.Open(t, testenv.Needs{Redis: true})
	ctx := context.Background()
	if err := watchRedisStalls(ctx, srv.Redis); err != nil {
		t.Fatal(err)
	}
	if got := redisStalls(ctx, srv.Redis); !strings.HasPrefix(got, "no command held it") {
		t.Fatalf("before anything ran: %q", got)
	}
	for _, id := range []string{"p-1", "p-2"} {
		if err := busy.Run(ctx, srv.Redis, []string{"clerkpath:posting-matches:" + id}, 30).Err(); err != nil {
			t.Fatal(err)
		}
	}
	srv.Redis.Set(ctx, "clerkpath:quick:1", "x", 0)
	got := redisStalls(ctx, srv.Redis)
	if !strings.HasPrefix(got, "2 commands held it 10ms or longer") || !strings.Contains(got, "script clerkpath:posting-matches:* 2×") ||
		strings.Contains(got, "quick") || strings.Contains(got, "p-1") {
		t.Fatalf("got %q, want the two script calls by key pattern and nothing else", got)
	}
	if got := redisStalls(ctx, srv.Redis); !strings.HasPrefix(got, "no command held it") {
		t.Fatalf("told again: %q", got)
	}
}

func TestStallNameLeavesOutTheID(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"evalsha", "abc", "2", "clerkpath:notify:feed:employer:org-9", "x"}, "script clerkpath:notify:feed:employer:*"},
		{[]string{"EVAL", "return 1", "0"}, "script"},
		{[]string{"ZADD", "clerkpath:matches:s-1", "1", "p"}, "zadd clerkpath:matches:*"},
		{[]string{"KEYS", "plain"}, "keys plain"},
		{nil, "?"},
	} {
		if got := stallName(c.args); got != c.want {
			t.Errorf("stallName(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}
