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
// all; an append-only-file rewrite's fork; and each is told once.
func TestRedisStallsNameWhatHeldRedis(t *testing.T) {
	srv := testenv.Open(t, testenv.Needs{Redis: true})
	ctx := context.Background()
	w, err := watchRedis(ctx, srv.Redis)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.stalls(ctx); !strings.HasPrefix(got, "no command held it") || strings.Contains(got, "fork") {
		t.Fatalf("before anything ran: %q", got)
	}
	for _, id := range []string{"p-1", "p-2"} {
		if err := busy.Run(ctx, srv.Redis, []string{"clerkpath:posting-matches:" + id}, 30).Err(); err != nil {
			t.Fatal(err)
		}
	}
	srv.Redis.Set(ctx, "clerkpath:quick:1", "x", 0)
	if err := srv.Redis.BgRewriteAOF(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	got := w.stalls(ctx)
	// (BGREWRITEAOF itself may be slow too: it forks.)
	if !strings.Contains(got, " held it 10ms or longer") || !strings.Contains(got, "script clerkpath:posting-matches:* 2×") ||
		strings.Contains(got, "quick") || strings.Contains(got, "p-1") || !strings.Contains(got, "; 1 forks (append-only file rewrites)") {
		t.Fatalf("got %q, want the two script calls by key pattern, not the quick command, and the rewrite's fork", got)
	}
	if got := w.stalls(ctx); !strings.HasPrefix(got, "no command held it") || strings.Contains(got, "fork") {
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
