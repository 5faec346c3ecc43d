package matching

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/match"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// An employer's postings list shows each posting's candidate count without
// a match per posting: the count is the size of the intersection of two
// sets kept in Redis (SINTERCARD), the posting's stored matches
// (postingKey: the seekers whose list holds it, written by reverse matching
// and list refreshes) and the seekers open to employers:
//
//	clerkpath:candidates:open  set: seekers who opted in to be seen by employers
//
// The open set is written at each list refresh (a profile change, so an
// opt-in or opt-out is counted within the refresh's seconds; a deleted
// seeker leaves it) and reconciled with the seekers index at each start,
// for seekers who have not changed since the set existed.
const openSeekersKey = "clerkpath:candidates:open"

// recordConsent puts a seeker in the open set, or takes them out.
func (s *Service) recordConsent(ctx context.Context, id string) error {
	var err error
	if sk, _, ok := s.seekers.View(id); ok && sk.OpenToEmployers {
		err = s.rdb.SAdd(ctx, openSeekersKey, id).Err()
	} else {
		err = s.rdb.SRem(ctx, openSeekersKey, id).Err()
	}
	if err != nil {
		return fmt.Errorf("record whether the seeker is open to employers: %w", err)
	}
	return nil
}

// reconcileAtStart reconciles the open set once the copy serves, retrying
// for a minute: a failure only leaves counts short until seekers change,
// so it is logged and the service goes on.
func (s *Service) reconcileAtStart(ctx context.Context) error {
	delay := time.Second
	for deadline := time.Now().Add(time.Minute); ; {
		err := s.reconcileConsent(ctx)
		if err == nil || ctx.Err() != nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.log.Warn().Err(err).Msg("candidate counts may be short until seekers change")
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// reconcileConsent makes the open set agree with the seekers index: every
// seeker the index holds as open is added, every member the index does not
// hold as open is removed. It is idempotent; two copies may run it at once.
func (s *Service) reconcileConsent(ctx context.Context) error {
	var open []any
	s.seekers.Each(func(sk *match.Seeker) {
		if sk.OpenToEmployers {
			open = append(open, sk.ID)
		}
	})
	for len(open) > 0 {
		chunk := open[:min(1000, len(open))]
		open = open[len(chunk):]
		if err := s.rdb.SAdd(ctx, openSeekersKey, chunk...).Err(); err != nil {
			return fmt.Errorf("reconcile the seekers open to employers: %w", err)
		}
	}
	iter := s.rdb.SScan(ctx, openSeekersKey, 0, "", 1000).Iterator()
	for iter.Next(ctx) {
		id := iter.Val()
		if sk, _, ok := s.seekers.View(id); !ok || !sk.OpenToEmployers {
			if err := s.rdb.SRem(ctx, openSeekersKey, id).Err(); err != nil {
				return fmt.Errorf("reconcile the seekers open to employers: %w", err)
			}
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("reconcile the seekers open to employers: %w", err)
	}
	return nil
}

// candidateCounts answers each posting's stored candidate count: one
// pipelined SINTERCARD per posting, no match.
func (s *Service) candidateCounts(ctx context.Context, req matchingapi.CandidateCountsRequest) (matchingapi.CandidateCounts, error) {
	out := matchingapi.CandidateCounts{Counts: map[string]int{}}
	if len(req.PostingIDs) > matchingapi.MaxCandidateCounts {
		return out, apierr.InvalidFields(apierr.FieldError{Field: "posting_ids", Message: fmt.Sprintf("at most %d", matchingapi.MaxCandidateCounts)})
	}
	ids := make([]string, 0, len(req.PostingIDs))
	for _, id := range req.PostingIDs {
		if postingindex.ValidID(id) {
			ids = append(ids, id)
		} else {
			out.Counts[id] = 0 // never indexed, so in no list
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.SInterCard(ctx, 0, postingKey(id), openSeekersKey)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return out, apierr.Wrap(err, apierr.Unavailable, "candidate counts are unavailable")
	}
	for i, c := range cmds {
		out.Counts[ids[i]] = int(c.Val())
	}
	return out, nil
}
