// Package matching is the matching service: it keeps the postings index in
// Meilisearch as a projection of the JOBS stream and answers searches and
// matches.
package matching

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/micro"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Name and Version identify the service in `nats micro ls`.
const (
	Name    = "matching"
	Version = "0.1.0"
)

// Request/reply subjects.
const (
	SubjectSearch  = "svc.matching.search"
	SubjectPosting = "svc.matching.posting"
)

// Service holds the matching service's dependencies.
type Service struct {
	p     *platform.Platform
	index string
}

// Run applies the index settings, then indexes postings and serves
// searches until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error {
	s := &Service{p: p, index: p.Config.IndexPrefix + PostingsIndex}
	if err := meili.EnsureIndex(ctx, p.Meili, postingsIndex(s.index)); err != nil {
		return fmt.Errorf("matching: %w", err)
	}
	svc, err := micro.AddService(p.NC, micro.Config{
		Name:        Name,
		Version:     Version,
		Description: "postings index, search and matching",
	})
	if err != nil {
		return fmt.Errorf("matching: add micro service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	if err := svc.AddEndpoint("search", rpc.Handler(p.Log, p.Config.RequestTimeout, s.search),
		micro.WithEndpointSubject(SubjectSearch)); err != nil {
		return fmt.Errorf("matching: add endpoint: %w", err)
	}
	if err := svc.AddEndpoint("posting", rpc.Handler(p.Log, p.Config.RequestTimeout, s.posting),
		micro.WithEndpointSubject(SubjectPosting)); err != nil {
		return fmt.Errorf("matching: add endpoint: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.runIndexer(ctx) })
	p.Log.Info().Str("index", s.index).Msg("matching ready")
	return g.Wait()
}
