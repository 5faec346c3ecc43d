package matching

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// SearchRequest is a public posting search.
type SearchRequest struct {
	Q      string `json:"q"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
}

// SearchResponse lists postings.
type SearchResponse struct {
	Hits           []map[string]any `json:"hits"`
	EstimatedTotal int64            `json:"estimated_total"`
	Limit          int              `json:"limit"`
	Offset         int              `json:"offset"`
}

// Search limits.
const (
	MaxSearchLimit     = 100
	DefaultSearchLimit = 20
	MaxQueryLength     = 200
)

func (s *Service) search(ctx context.Context, r rpc.Request) (any, error) {
	var req SearchRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	var fs apierr.Fields
	if req.Limit == 0 {
		req.Limit = DefaultSearchLimit
	}
	if req.Limit < 1 || req.Limit > MaxSearchLimit {
		fs.Add("limit", "must be between 1 and %d", MaxSearchLimit)
	}
	if req.Offset < 0 || req.Offset > 10000 {
		fs.Add("offset", "must be between 0 and 10000")
	}
	if len(req.Q) > MaxQueryLength {
		fs.Add("q", "at most %d characters", MaxQueryLength)
	}
	if err := fs.Err(); err != nil {
		return nil, err
	}
	res, err := s.p.Meili.Index(s.index).Search(ctx, strings.TrimSpace(req.Q), &meilisearch.SearchRequest{
		Limit:  int64(req.Limit),
		Offset: int64(req.Offset),
		Filter: `status = "open"`,
	})
	if err != nil {
		return nil, apierr.Wrap(err, apierr.Unavailable, "search is unavailable")
	}
	out := SearchResponse{Hits: []map[string]any{}, EstimatedTotal: res.EstimatedTotalHits, Limit: req.Limit, Offset: req.Offset}
	for _, h := range res.Hits {
		var doc map[string]any
		if err := h.DecodeInto(&doc); err != nil {
			return nil, apierr.Wrap(err, apierr.Internal, "internal error")
		}
		out.Hits = append(out.Hits, doc)
	}
	return out, nil
}

// posting returns one indexed posting.
func (s *Service) posting(ctx context.Context, r rpc.Request) (any, error) {
	var req struct {
		ID string `json:"id"`
	}
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if req.ID == "" || len(req.ID) > 128 {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "id", Message: "a posting id"})
	}
	var doc map[string]any
	if err := s.p.Meili.Index(s.index).GetDocument(ctx, req.ID, nil, &doc); err != nil {
		var me *meilisearch.Error
		if errors.As(err, &me) && me.StatusCode == http.StatusNotFound {
			return nil, apierr.New(apierr.NotFound, "no posting %s", req.ID)
		}
		return nil, apierr.Wrap(err, apierr.Unavailable, "postings are unavailable")
	}
	return doc, nil
}
