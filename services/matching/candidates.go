package matching

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/match"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// Candidate list limits.
const (
	MaxCandidates     = 100
	DefaultCandidates = 20
)

// posting returns one indexed posting.
func (s *Service) posting(ctx context.Context, req matchingapi.PostingRequest) (matchingapi.IndexedPosting, error) {
	return s.getPosting(ctx, req.ID)
}

func (s *Service) getPosting(ctx context.Context, id string) (matchingapi.IndexedPosting, error) {
	var ev matchingapi.IndexedPosting
	if id == "" || len(id) > 128 {
		return ev, apierr.InvalidFields(apierr.FieldError{Field: "id", Message: "a posting id of 1 to 128 characters"})
	}
	var doc map[string]any
	if err := s.mc.Index(s.index).GetDocument(ctx, id, nil, &doc); err != nil {
		var me *meilisearch.Error
		if errors.As(err, &me) && me.StatusCode == http.StatusNotFound {
			return ev, apierr.New(apierr.NotFound, "no posting %s", id)
		}
		return ev, apierr.Wrap(err, apierr.Unavailable, "postings are unavailable")
	}
	b, _ := json.Marshal(doc)
	var m postingindex.Member
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, fmt.Errorf("decode posting %s: %w", id, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return ev, fmt.Errorf("decode posting %s: %w", id, err)
	}
	ev.Trust = trustSignals(m, s.now())
	return ev, nil
}

// candidates lists opted-in seekers who qualify for a posting, best first.
func (s *Service) candidates(ctx context.Context, req matchingapi.CandidatesRequest) (matchingapi.CandidateList, error) {
	if req.Limit == 0 {
		req.Limit = DefaultCandidates
	}
	if req.Limit < 1 || req.Limit > MaxCandidates {
		return matchingapi.CandidateList{}, apierr.InvalidFields(apierr.FieldError{Field: "limit", Message: fmt.Sprintf("must be between 1 and %d", MaxCandidates)})
	}
	offset := 0
	if req.Cursor != "" {
		var err error
		if offset, err = decodeCursor(req.Cursor, 1<<30); err != nil {
			return matchingapi.CandidateList{}, err
		}
	}
	ev, err := s.getPosting(ctx, req.PostingID)
	if err != nil {
		return matchingapi.CandidateList{}, err
	}
	p := ev.Posting
	today := s.now()
	var results []match.Result
	views := map[string]match.Seeker{}
	s.seekers.Near(siteOf(&p), p.WorkMode == "remote", func(sk *match.Seeker) {
		if !isCandidate(sk, &p) {
			return
		}
		res := match.Score(*sk, p, today)
		res.PostingID = sk.ID // rank by seeker id on ties
		results = append(results, res)
		views[sk.ID] = *sk
	})
	match.Rank(results)
	out := []matchingapi.Candidate{}
	page := results[min(offset, len(results)):min(offset+req.Limit, len(results))]
	for _, res := range page {
		sk := views[res.PostingID]
		out = append(out, matchingapi.Candidate{
			SeekerID: sk.ID, Score: res.Score, Components: res.Components, Met: res.Met, DistanceMiles: res.DistanceMiles,
			Credentials: sk.Held, ExperienceMonths: sk.ExperienceMonths, Skills: sk.Skills, CodeSets: sk.CodeSets, EHRSystems: sk.EHRSystems,
		})
	}
	reply := matchingapi.CandidateList{PostingID: p.ID, Candidates: out, Total: len(results)}
	if next := offset + len(page); next < len(results) {
		reply.NextCursor = encodeCursor(next)
	}
	return reply, nil
}
