package matching

import (
	"context"
	"fmt"
	"runtime"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/posting"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// An employer's postings list shows each posting's candidate count: the
// number of seekers open to employers who qualify for it, the Total of the
// posting's candidates list (candidates). It is counted from the seekers
// index when asked, so it follows an opt-in, an opt-out or a profile change
// as soon as this copy has applied it.
//
// Before (issue 14) the count was the size of the intersection of two Redis
// sets, the posting's stored matches and the seekers open to employers.
// Lists now hold only each seeker's best MatchListSize postings (reverse.go),
// so that set no longer holds every seeker a posting suits; and the count
// it gave already differed from the candidates list's total, since lists
// were trimmed. The open set (legacyOpenSeekersKey) is deleted at start.
const legacyOpenSeekersKey = "clerkpath:candidates:open"

// candidateCounts answers each posting's candidate count: one read of the
// postings from the index, then a scan of the seekers near each.
func (s *Service) candidateCounts(ctx context.Context, req matchingapi.CandidateCountsRequest) (matchingapi.CandidateCounts, error) {
	out := matchingapi.CandidateCounts{Counts: map[string]int{}}
	if len(req.PostingIDs) > matchingapi.MaxCandidateCounts {
		return out, apierr.InvalidFields(apierr.FieldError{Field: "posting_ids", Message: fmt.Sprintf("at most %d", matchingapi.MaxCandidateCounts)})
	}
	ids := make([]string, 0, len(req.PostingIDs))
	for _, id := range req.PostingIDs {
		out.Counts[id] = 0 // not indexed: nobody's candidate
		if postingindex.ValidID(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var res meilisearch.DocumentsResult
	q := &meilisearch.DocumentsQuery{Ids: ids, Limit: int64(len(ids)), Fields: candidateAttributes}
	if err := s.mc.Index(s.index).GetDocuments(ctx, q, &res); err != nil {
		return out, apierr.Wrap(err, apierr.Unavailable, "candidate counts are unavailable")
	}
	for _, h := range res.Results {
		var p posting.Posting
		if err := h.DecodeInto(&p); err != nil {
			return out, fmt.Errorf("decode posting: %w", err)
		}
		if _, asked := out.Counts[p.ID]; asked {
			out.Counts[p.ID] = s.countCandidates(&p)
		}
	}
	return out, nil
}

// countCandidates counts the seekers open to employers who qualify for p,
// scanning in parallel.
func (s *Service) countCandidates(p *posting.Posting) int {
	workers := runtime.GOMAXPROCS(0)
	counts := make([]struct {
		n int
		_ [56]byte // one cache line each
	}, workers)
	s.seekers.Scan(siteOf(p), p.WorkMode == "remote", workers, func(w int, sk *match.Seeker) {
		if isCandidate(sk, p) {
			counts[w].n++
		}
	})
	n := 0
	for _, c := range counts {
		n += c.n
	}
	return n
}

// isCandidate is whether a seeker is among a posting's candidates.
func isCandidate(sk *match.Seeker, p *posting.Posting) bool {
	return sk.OpenToEmployers && match.Qualifies(sk, p)
}

// siteOf is a posting's site, nil when it has none.
func siteOf(p *posting.Posting) *geo.Point {
	if pt, ok := p.Location.Point(); ok {
		return &pt
	}
	return nil
}

// dropLegacyOpenSet deletes the open set candidate counts no longer use.
// A failure leaves only an unused key, so it is logged and the service
// goes on.
func (s *Service) dropLegacyOpenSet(ctx context.Context) error {
	if err := s.rdb.Del(ctx, legacyOpenSeekersKey).Err(); err != nil && ctx.Err() == nil {
		s.log.Warn().Err(err).Msg("the unused set " + legacyOpenSeekersKey + " is left in Redis")
	}
	return nil
}
