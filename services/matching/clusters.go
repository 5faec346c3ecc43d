package matching

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/posting"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// Each job once: the postings index settles duplicate clusters to one
// shown posting each (postingindex); reverse matching keeps the match
// lists in line with them.

// postingClusterKey is the cluster of a posting in the match lists, kept
// until it closes: a jobs.closed event names the posting only.
func postingClusterKey(posting string) string { return "clerkpath:posting-cluster:" + posting }

// closeListed removes a closed posting from every match list and returns
// its cluster ("" when unknown).
func (s *Service) closeListed(ctx context.Context, id string) (string, error) {
	cluster, err := s.rdb.Get(ctx, postingClusterKey(id)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", err
	}
	if err := s.unlistPosting(ctx, id); err != nil {
		return "", err
	}
	return cluster, s.rdb.Del(ctx, postingClusterKey(id)).Err()
}

// matchClusters brings the match lists in line with the clusters' shown
// postings (settled by the indexer): a hidden posting leaves every list,
// the shown one is matched against the seekers.
func (s *Service) matchClusters(ctx context.Context, clusters []string) error {
	slices.Sort(clusters)
	clusters = slices.Compact(clusters)
	for len(clusters) > 0 {
		chunk := clusters[:min(100, len(clusters))]
		clusters = clusters[len(chunk):]
		members, err := s.postings.Members(ctx, chunk)
		if err != nil {
			return err
		}
		var shown []string
		for _, ms := range members {
			for _, m := range ms {
				if m.Hidden {
					if err := s.unlistPosting(ctx, m.ID); err != nil {
						return fmt.Errorf("remove a duplicate from match lists: %w", err)
					}
					continue
				}
				shown = append(shown, m.ID)
			}
		}
		if len(shown) == 0 {
			continue
		}
		var res meilisearch.DocumentsResult
		// Without their text (candidateAttributes), which reverse matching
		// does not read and which is most of a document: a bulk's batches
		// read up to 200 postings here, four batches of matching at once.
		q := &meilisearch.DocumentsQuery{Ids: shown, Limit: int64(len(shown)), Fields: candidateAttributes}
		if err := s.mc.Index(s.index).GetDocuments(ctx, q, &res); err != nil {
			return fmt.Errorf("read shown postings: %w", err)
		}
		if err := s.reverseMatchAll(ctx, res.Results); err != nil {
			return err
		}
	}
	return nil
}

// reverseParallel is how many postings reverseMatchAll matches at once.
// A reverse match mostly waits on Redis (its script calls), so a
// batch of postings matched one after another left matching idle (issue 14:
// at 5,000 postings and seekers, about 7 postings a second with the
// process far from one core busy). Postings are independent: each writes
// its own set of seekers, and two writing one seeker's list add to it and
// trim it to the best MatchListSize in either order alike.
const reverseParallel = 4

// reverseMatchAll reverse matches the shown postings read from the index,
// up to reverseParallel at once; the first failure stops the rest.
func (s *Service) reverseMatchAll(ctx context.Context, docs meilisearch.Hits) error {
	ps := make([]posting.Posting, len(docs))
	for i, h := range docs {
		if err := h.DecodeInto(&ps[i]); err != nil {
			return fmt.Errorf("decode shown posting: %w", err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(reverseParallel)
	for _, p := range ps {
		g.Go(func() error {
			if err := s.reverseMatch(gctx, p); err != nil {
				return fmt.Errorf("reverse match %s: %w", p.ID, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// trust is what an indexed posting's cluster fields and age tell a seeker.
func trustSignals(m postingindex.Member, today time.Time) matchingapi.Trust {
	t := matchingapi.Trust{ClusterSize: max(1, m.Size), Reposts: max(0, m.Reposts)}
	t.AlsoPostedBy = t.ClusterSize - 1
	if m.Posted > 0 {
		t.AgeDays = max(0, int(today.Sub(time.Unix(m.Posted, 0)).Hours()/24))
	}
	if m.FirstSeen > 0 {
		t.FirstSeen = time.Unix(m.FirstSeen, 0).UTC().Format(time.DateOnly)
	}
	return t
}

// explainTrust is the trust signals in words, for a match's summary.
func explainTrust(t matchingapi.Trust) string {
	s := fmt.Sprintf(" Posted %d days ago", t.AgeDays)
	if t.AlsoPostedBy > 0 {
		s += fmt.Sprintf("; the same job is also posted %d other times (first seen %s)", t.AlsoPostedBy, t.FirstSeen)
	}
	if t.Reposts > 0 {
		s += fmt.Sprintf("; re-posted %d times by this employer", t.Reposts)
	}
	return s + "."
}
