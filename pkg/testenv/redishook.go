package testenv

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// RedisWatch is a go-redis hook that shows a test each round trip its
// client sends, before it goes: a command alone (pipelined false) or a
// pipeline's commands together (a MULTI … EXEC's included, pipelined
// true). An error it returns fails the round trip. Add it with
// client.AddHook(testenv.RedisWatch(fn)); the tests that check how
// commands are grouped (script calls a round trip, members a command)
// watch with it.
type RedisWatch func(ctx context.Context, cmds []redis.Cmder, pipelined bool) error

func (RedisWatch) DialHook(next redis.DialHook) redis.DialHook { return next }

func (w RedisWatch) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := w(ctx, []redis.Cmder{cmd}, false); err != nil {
			return err
		}
		return next(ctx, cmd)
	}
}

func (w RedisWatch) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if err := w(ctx, cmds, true); err != nil {
			return err
		}
		return next(ctx, cmds)
	}
}
