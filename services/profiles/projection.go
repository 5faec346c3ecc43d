package profiles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
)

// store is the Redis projection of seekers' profiles.
type store struct{ rdb *redis.Client }

func seekerKey(id string) string { return "clerkpath:seeker:" + id }

func (st *store) seeker(ctx context.Context, id string) (profile.Seeker, error) {
	var sk profile.Seeker
	data, err := st.rdb.HGet(ctx, seekerKey(id), "doc").Bytes()
	if errors.Is(err, redis.Nil) {
		return sk, apierr.New(apierr.NotFound, "no seeker %s", id)
	}
	if err != nil {
		return sk, apierr.Wrap(err, apierr.Unavailable, "profiles are unavailable")
	}
	if err := json.Unmarshal(data, &sk); err != nil {
		return sk, fmt.Errorf("decode seeker projection: %w", err)
	}
	return sk, nil
}

// apply stores a seeker at version seq unless a newer version is already
// there: replays and redeliveries are harmless.
var applyScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if cur >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'doc', ARGV[2])
return 1`)

func (st *store) apply(ctx context.Context, sk profile.Seeker) error {
	doc, err := json.Marshal(sk)
	if err != nil {
		return err
	}
	return applyScript.Run(ctx, st.rdb, []string{seekerKey(sk.ID)}, strconv.FormatUint(sk.Version, 10), doc).Err()
}

func (st *store) version(ctx context.Context, id string) (uint64, error) {
	v, err := st.rdb.HGet(ctx, seekerKey(id), "version").Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return v, err
}

func (st *store) waitVersion(ctx context.Context, id string, seq uint64, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		v, err := st.version(ctx, id)
		if err == nil && v >= seq {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("seeker projection at %d, want %d", v, seq)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (s *Service) runProjection(ctx context.Context) error {
	return events.Run(ctx, s.p.JS, events.Consumer{
		Stream:   events.StreamProfiles,
		Durable:  "profiles-projection",
		Filters:  []string{events.SeekerSubjectPrefix + ">"},
		MaxBatch: 100,
	}, s.p.Log, func(ctx context.Context, msgs []jetstream.Msg) []error {
		errs := make([]error, len(msgs))
		for i, m := range msgs {
			errs[i] = s.project(ctx, m)
		}
		return errs
	})
}

func (s *Service) project(ctx context.Context, m jetstream.Msg) error {
	env := events.EnvelopeOf(m)
	switch env.Type {
	case events.TypeSeekerUpdated:
		var sk profile.Seeker
		if err := json.Unmarshal(m.Data(), &sk); err != nil {
			return events.Poison("seeker payload: %v", err)
		}
		sk.Version = env.Sequence
		return s.store.apply(ctx, sk)
	default:
		return events.Poison("unknown event type %q", env.Type)
	}
}
