package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisStallAt is how long a command must hold Redis for the bench to
// report it. Redis runs one command (or script) at a time, and every
// gateway request's rate limit waits on it: a command this long delays
// every request that arrives meanwhile.
const redisStallAt = 10 * time.Millisecond

// watchRedisStalls has Redis log each command that holds it redisStallAt
// or longer (its slowlog), for redisStalls.
func watchRedisStalls(ctx context.Context, rdb *redis.Client) error {
	for _, kv := range [][2]string{{"slowlog-log-slower-than", fmt.Sprint(redisStallAt.Microseconds())}, {"slowlog-max-len", "10000"}} {
		if err := rdb.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			return fmt.Errorf("redis %s: %w", kv[0], err)
		}
	}
	return rdb.SlowLogReset(ctx).Err()
}

// redisStalls describes the commands that held Redis redisStallAt or
// longer since the last call (or watchRedisStalls), grouped by command
// and key pattern (a script by its first key), the three that held it
// longest in all first, and forgets them.
func redisStalls(ctx context.Context, rdb *redis.Client) string {
	logs, err := rdb.SlowLogGet(ctx, -1).Result()
	if err != nil {
		return "slowlog: " + err.Error()
	}
	if err := rdb.SlowLogReset(ctx).Err(); err != nil {
		return "slowlog: " + err.Error()
	}
	return describeStalls(logs)
}

// describeStalls is redisStalls' summary of slowlog entries.
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
