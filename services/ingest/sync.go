package ingest

import (
	"context"
	"errors"
	"slices"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
)

// resync closes, as removed_from_feed, the organisation's open postings
// that a sync=true feed did not carry. Only postings of the submitting
// organisation are looked at (each organisation's open set). A rejected
// row that names a posting (its identifier) keeps that posting open: the
// row meant to update it, and a typo must not close a live job. A rejected
// row whose identifier cannot be read might name any posting, so then
// nothing is closed and KeptOpen lists every posting the feed missed.
func (s *Service) resync(ctx context.Context, org string, res *ingestapi.Result, namedByRejected map[string]bool, unnamed int) error {
	open, err := s.store.openOf(ctx, org)
	if err != nil {
		return apierr.Wrap(err, apierr.Unavailable, "the feed is accepted, but its missing postings could not be closed; send it again")
	}
	inFeed := map[string]bool{}
	for _, o := range res.Accepted {
		inFeed[o.ID] = true
	}
	slices.Sort(open)
	for _, id := range open {
		if inFeed[id] {
			continue
		}
		if unnamed > 0 || namedByRejected[id] {
			res.KeptOpen = append(res.KeptOpen, id)
			continue
		}
		r, err := s.store.load(ctx, id)
		if errors.Is(err, errNoPosting) || (err == nil && (r.org != org || r.status != ingestapi.StatusOpen)) {
			continue // never another organisation's posting, nor one not open
		}
		if err == nil {
			err = s.close(ctx, r, ingestapi.StatusClosed, ingestapi.ReasonRemovedFromFeed)
		}
		if err != nil {
			return apierr.Wrap(err, apierr.Unavailable, "the feed is accepted, but its missing postings could not all be closed; send it again")
		}
		res.Closed = append(res.Closed, id)
	}
	return nil
}
