package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisStallAt is how long a command must hold Redis for the bench to
// report it. Redis runs one command (or script) at a time, and every
// gateway request's rate limit waits on it: a command this long delays
// every request that arrives meanwhile.
const redisStallAt = 10 * time.Millisecond

// redisWatch reports what held the bench's Redis: slow commands (its
// slowlog) and forks (its append-only-file rewrites, each of which stops
// Redis while the kernel copies its page tables, then rewrites its whole
// data set in a child).
type redisWatch struct {
	rdb   *redis.Client
	forks int64 // Redis's fork count when last told
}

// watchRedis has Redis log each command that holds it redisStallAt or
// longer (its slowlog), for stalls.
func watchRedis(ctx context.Context, rdb *redis.Client) (*redisWatch, error) {
	for _, kv := range [][2]string{{"slowlog-log-slower-than", fmt.Sprint(redisStallAt.Microseconds())}, {"slowlog-max-len", "1000"}} {
		if err := rdb.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			return nil, fmt.Errorf("redis %s: %w", kv[0], err)
		}
	}
	w := &redisWatch{rdb: rdb}
	_ = w.stalls(ctx)
	return w, nil
}

// stalls describes the commands that held Redis redisStallAt or longer
// since the last call, grouped by command and key pattern (a script by its
// first key), the three that held it longest in all first, and the forks
// since then; and forgets them.
func (w *redisWatch) stalls(ctx context.Context) string {
	logs, err := w.rdb.SlowLogGet(ctx, -1).Result()
	if err != nil {
		return "slowlog: " + err.Error()
	}
	if err := w.rdb.SlowLogReset(ctx).Err(); err != nil {
		return "slowlog: " + err.Error()
	}
	// Not the bench's own SLOWLOG calls (a reset frees the entries, which
	// takes a while at 1,000).
	logs = slices.DeleteFunc(logs, func(l redis.SlowLog) bool { return len(l.Args) > 0 && strings.EqualFold(l.Args[0], "slowlog") })
	out := describeStalls(logs)
	info, err := w.rdb.Info(ctx, "stats").Result()
	if err != nil {
		return out + "; forks: " + err.Error()
	}
	forks, _ := strconv.ParseInt(infoField(info, "total_forks"), 10, 64)
	if n := forks - w.forks; n > 0 {
		usec, _ := strconv.ParseInt(infoField(info, "latest_fork_usec"), 10, 64)
		out += fmt.Sprintf("; %d forks (append-only file rewrites), the last stopped it %.0f ms", n, float64(usec)/1000)
	}
	w.forks = forks
	return out
}

// infoField is the value of name in an INFO reply ("name:value" lines).
func infoField(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

// describeStalls is stalls' summary of slowlog entries.
func describeStalls(logs []redis.SlowLog) string {
	if len(logs) == 0 {
		return fmt.Sprintf("no command held it %s or longer", redisStallAt)
	}
	type group struct {
		what  string
		times []time.Duration
		total time.Duration
	}
	by := map[string]*group{}
	var all time.Duration
	for _, l := range logs {
		w := stallName(l.Args)
		g := by[w]
		if g == nil {
			g = &group{what: w}
			by[w] = g
		}
		g.times = append(g.times, l.Duration)
		g.total += l.Duration
		all += l.Duration
	}
	groups := make([]*group, 0, len(by))
	for _, g := range by {
		slices.Sort(g.times)
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b *group) int { return int(b.total - a.total) })
	var parts []string
	for _, g := range groups[:min(3, len(groups))] {
		parts = append(parts, fmt.Sprintf("%s %d×, median %.0f ms, longest %.0f ms", g.what, len(g.times),
			ms(g.times[len(g.times)/2]), ms(g.times[len(g.times)-1])))
	}
	return fmt.Sprintf("%d commands held it %s or longer, %.1f s in all: %s", len(logs), redisStallAt, all.Seconds(), strings.Join(parts, "; "))
}

// stallName names a slowlog entry's command: its name and its (first)
// key with the last segment, an id, left out.
func stallName(args []string) string {
	if len(args) == 0 {
		return "?"
	}
	name, key := strings.ToLower(args[0]), ""
	switch {
	case name == "evalsha" || name == "eval":
		name = "script"
		if len(args) > 3 && args[2] != "0" {
			key = args[3]
		}
	case len(args) > 1:
		key = args[1]
	}
	if i := strings.LastIndexByte(key, ':'); i >= 0 {
		key = key[:i+1] + "*"
	}
	if key == "" {
		return name
	}
	return name + " " + key
}
