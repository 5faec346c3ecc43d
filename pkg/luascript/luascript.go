// Package luascript runs a Redis Lua script many times in one pipelined
// round trip, by its digest.
package luascript

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Call is one call of a script: its keys and arguments.
type Call struct {
	Keys []string
	Args []any
}

// Pipelined runs sc once for each call, in order, in one pipelined round
// trip, by its digest (EVALSHA), so that a batch of calls does not send the
// script's text with each. A Redis without the script (restarted, or
// flushed) refuses those calls with NOSCRIPT without running them; they
// are sent again, once, after the script is loaded. It returns the calls'
// replies in order (a nil reply is redis.Nil), or the first other error:
// calls before it in the pipeline may have run, so each call must be safe
// to run again.
//
// Redis runs one call at a time, and nothing else while a call runs: keep
// each call short (a few hundred commands) and put the batch's size in the
// number of calls, not in the calls.
func Pipelined(ctx context.Context, rdb redis.Cmdable, sc *redis.Script, calls []Call) ([]*redis.Cmd, error) {
	out := make([]*redis.Cmd, len(calls))
	if len(calls) == 0 {
		return out, nil
	}
	todo := make([]int, len(calls))
	for i := range todo {
		todo[i] = i
	}
	for attempt := 0; ; attempt++ {
		pipe := rdb.Pipeline()
		for _, i := range todo {
			out[i] = sc.EvalSha(ctx, pipe, calls[i].Keys, calls[i].Args...)
		}
		_, _ = pipe.Exec(ctx) // each call's error is read below
		var refused []int
		for _, i := range todo {
			switch err := out[i].Err(); {
			case err == nil, errors.Is(err, redis.Nil):
			case isNoScript(err):
				refused = append(refused, i)
			default:
				return nil, err
			}
		}
		switch {
		case len(refused) == 0:
			return out, nil
		case attempt > 0:
			return nil, fmt.Errorf("script %s: still not loaded after loading it", sc.Hash())
		}
		if err := sc.Load(ctx, rdb).Err(); err != nil {
			return nil, fmt.Errorf("load script %s: %w", sc.Hash(), err)
		}
		todo = refused
	}
}

func isNoScript(err error) bool {
	return errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")
}
