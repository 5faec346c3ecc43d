package matching

import (
	"context"
	"errors"
	"time"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
)

// ready checks the postings index's Meilisearch for the gateway's /readyz.
// It answers (rather than failing) when Meilisearch is down: the reply
// carries the reason, and matching itself is up.
func (s *Service) ready(ctx context.Context, _ matchingapi.ReadyRequest) (matchingapi.Readiness, error) {
	ctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	if err := s.meiliHealth(ctx); err != nil {
		return matchingapi.Readiness{Meilisearch: "down", MeilisearchError: err.Error()}, nil
	}
	return matchingapi.Readiness{Meilisearch: "ok"}, nil
}

func (s *Service) meiliHealth(ctx context.Context) error {
	h, err := s.mc.Health(ctx)
	if err != nil {
		return err
	}
	if h.Status != "available" {
		return errors.New("status " + h.Status)
	}
	return nil
}
