package notifications

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

func goneKey(pseudonym string) string { return KeyPrefix + "gone:" + pseudonym }

// forgetSeeker deletes what the service holds about a deleted seeker: their
// webhooks, delivery logs and feed, and every entry of a counselor's or
// employer's feed and every pending delivery that names them (refs). A
// flag under the pseudonym (no id) keeps a posting's closure from making
// a new feed for them.
func (s *Service) forgetSeeker(ctx context.Context, seeker string) error {
	pseud := s.names.of(seeker)
	owner := s.names.seekerOwner(seeker)
	hooks, err := s.rdb.SMembers(ctx, hooksKey(owner)).Result()
	if err != nil {
		return fmt.Errorf("forget seeker: webhooks: %w", err)
	}
	refs, err := s.rdb.SMembers(ctx, refsKey(pseud)).Result()
	if err != nil {
		return fmt.Errorf("forget seeker: references: %w", err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, h := range hooks {
			p.Del(ctx, hookKey(h), logKey(h))
		}
		p.Del(ctx, hooksKey(owner), feedKey(owner))
		for _, r := range refs {
			kind, rest, _ := strings.Cut(r, " ")
			switch kind {
			case "f":
				if key, id, ok := strings.Cut(rest, " "); ok {
					p.XDel(ctx, key, id)
				}
			case "j":
				p.Del(ctx, jobKey(rest))
				p.ZRem(ctx, dueKey, rest)
			}
		}
		p.Del(ctx, refsKey(pseud))
		p.Set(ctx, goneKey(pseud), "1", MatchedTTL*time.Second)
		return nil
	})
	if err != nil {
		return fmt.Errorf("forget seeker: %w", err)
	}
	return nil
}

// forgotten says which seeker owners were deleted (forgetSeeker's flag).
func (s *Service) forgotten(ctx context.Context, owners []string) (map[string]bool, error) {
	gone := map[string]bool{}
	if len(owners) == 0 {
		return gone, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(owners))
	for i, o := range owners {
		cmds[i] = pipe.Exists(ctx, goneKey(strings.TrimPrefix(o, "seeker:")))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("deleted seekers: %w", err)
	}
	for i, c := range cmds {
		gone[owners[i]] = c.Val() > 0
	}
	return gone, nil
}
