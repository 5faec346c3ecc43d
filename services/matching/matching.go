// Package matching is the matching service. It keeps the postings index in
// Meilisearch as a projection of the JOBS stream and an in-memory, PII-free
// index of seekers rebuilt from the PROFILES and CREDENTIALS streams, and
// serves search, forward matches with near misses, candidate lists,
// caseload views and market demand. Reverse matching keeps each seeker's
// match list in Redis and announces new matches as matches.found events.
package matching

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/micro"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/shred"

	"github.com/clerkpath/clerkpath/services/matching/seekerindex"
)

// Name and Version identify the service in `nats micro ls`.
const (
	Name    = "matching"
	Version = "0.2.0"
)

// Service holds the matching service's dependencies and in-memory state.
type Service struct {
	p       *platform.Platform
	index   string
	keys    *shred.Keyring
	cat     *pathway.Catalog
	zcta    *geo.ZCTA
	seekers *seekerindex.Index
	applied appliedSeqs // the seekers index's position in each seeker stream
	vocab   *vocabulary
	market  *marketCache
	version indexVersion
	now     func() time.Time
}

// Run applies the index settings, rebuilds the seekers index from the
// streams, then indexes postings, matches and serves until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error {
	s, err := newService(ctx, p)
	if err != nil {
		return err
	}
	return s.run(ctx, nil, true)
}

// newService opens the service's dependencies without starting anything.
func newService(ctx context.Context, p *platform.Platform) (*Service, error) {
	cat, err := pathway.DefaultCatalog()
	if err != nil {
		return nil, fmt.Errorf("matching: %w", err)
	}
	keys, err := shred.Open(ctx, p.JS, p.Config.StreamReplicas)
	if err != nil {
		return nil, fmt.Errorf("matching: %w", err)
	}
	zcta := loadZCTA(p)
	s := &Service{
		p: p, index: p.Config.IndexPrefix + PostingsIndex, keys: keys, cat: cat, zcta: zcta,
		seekers: seekerindex.New(zcta, cat, time.Now), vocab: newVocabulary(), market: newMarketCache(), now: time.Now,
	}
	s.version.uid = -1
	return s, nil
}

// run prepares the index, rebuilds the seekers index, then serves; ready
// (when not nil) is closed once it serves. Without consume it serves reads
// only and runs none of the JOBS consumers (tests use it for a copy that
// indexes nothing itself).
func (s *Service) run(ctx context.Context, ready chan<- struct{}, consume bool) error {
	p := s.p
	if err := meili.EnsureIndex(ctx, p.Meili, postingsIndex(s.index)); err != nil {
		return fmt.Errorf("matching: %w", err)
	}
	if n, err := migrateRoutes(ctx, p.Meili, s.index); err != nil {
		return fmt.Errorf("matching: %w", err)
	} else if n > 0 {
		p.Log.Info().Int("postings", n).Msg("postings indexed before routes re-indexed with their routes")
	}
	if err := s.syncIndex(ctx); err != nil {
		return fmt.Errorf("matching: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	loaded := make(chan struct{})
	g.Go(func() error { return s.loadSeekers(ctx, loaded) })
	select {
	case <-loaded:
	case <-ctx.Done():
		return g.Wait()
	}
	p.Log.Info().Int("seekers", s.seekers.Size()).Msg("seekers index rebuilt from the streams")

	svc, err := micro.AddService(p.NC, micro.Config{Name: Name, Version: Version, Description: "postings index, search, matching, candidates, caseloads and market demand"})
	if err != nil {
		return fmt.Errorf("matching: add micro service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	if err := rpc.AddEndpoints(svc, p.NC, p.Log, p.Config.RequestTimeout,
		matchingapi.Search.Bind(s.search),
		matchingapi.Posting.Bind(s.posting),
		matchingapi.Matches.Bind(s.matches),
		matchingapi.MatchList.Bind(s.matchList),
		matchingapi.Candidates.Bind(s.candidates),
		matchingapi.Caseload.Bind(s.caseload),
		matchingapi.Market.Bind(s.marketDemand),
		matchingapi.Ready.Bind(s.ready),
	); err != nil {
		return fmt.Errorf("matching: %w", err)
	}
	if consume {
		g.Go(func() error { return s.runIndexer(ctx) })
		g.Go(func() error { return s.runReverse(ctx) })
		g.Go(func() error { return s.runSeekerChanges(ctx) })
	}
	p.Log.Info().Str("index", s.index).Msg("matching ready")
	if ready != nil {
		close(ready)
	}
	return g.Wait()
}

// loadZCTA reads the ZIP centroids; without them seekers located only by a
// ZIP code match remote postings only (and are told why).
func loadZCTA(p *platform.Platform) *geo.ZCTA {
	z, err := geo.LoadZCTAFile(p.Config.ZCTAFile)
	if err != nil {
		p.Log.Warn().Err(err).Msg("no ZIP centroids: seekers located by ZIP code get remote matches only")
		return nil
	}
	return z
}

// vocabulary is the set of group tokens (of every route) and or-eligible
// codes in the index, and the most routes any posting has: what a seeker's
// filter is built from.
type vocabulary struct {
	mu         sync.RWMutex
	groups     map[string]struct{}
	orEligible map[string]struct{}
	routes     int
}

func newVocabulary() *vocabulary {
	return &vocabulary{groups: map[string]struct{}{}, orEligible: map[string]struct{}{}}
}

func (v *vocabulary) add(groups, orEligible []string, routes int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.routes = max(v.routes, routes)
	for _, g := range groups {
		v.groups[g] = struct{}{}
	}
	for _, c := range orEligible {
		v.orEligible[c] = struct{}{}
	}
}

// replace takes the contents of w.
func (v *vocabulary) replace(w *vocabulary) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.groups, v.orEligible, v.routes = w.groups, w.orEligible, w.routes
}

func (v *vocabulary) snapshot() (groups, orEligible []string, routes int) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	routes = max(1, v.routes)
	for g := range v.groups {
		groups = append(groups, g)
	}
	for c := range v.orEligible {
		orEligible = append(orEligible, c)
	}
	return groups, orEligible, routes
}
