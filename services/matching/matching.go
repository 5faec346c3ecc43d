// Package matching is the matching service. It keeps the postings index in
// Meilisearch as a projection of the JOBS stream and an in-memory, PII-free
// index of seekers rebuilt from the PROFILES and CREDENTIALS streams, and
// serves search, forward matches with near misses, candidate lists,
// caseload views and market demand. Reverse matching keeps each seeker's
// match list in Redis and announces new matches, many seekers'
// announcements per matches.found.batch event (announce.go).
package matching

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/shred"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
	"github.com/clerkpath/clerkpath/services/matching/seekerindex"
)

// Name and Version identify the service in `nats micro ls`.
const (
	Name    = "matching"
	Version = "0.2.0"
)

// Service holds the matching service's connections and in-memory state.
type Service struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	rdb      *redis.Client
	mc       meilisearch.ServiceManager // the postings index's Meilisearch
	log      zerolog.Logger
	opts     Options
	index    string         // the postings index's uid: Options.IndexPrefix + PostingsIndex
	keys     *shred.Keyring // opened by Serve
	cat      *pathway.Catalog
	zcta     *geo.ZCTA
	seekers  *seekerindex.Index
	applied  appliedSeqs // the seekers index's position in each seeker stream
	names    seekerNames // the seeker ids the index learnt for pseudonyms
	market   *marketCache
	postings *postingindex.Index
	now      func() time.Time
	// distancePool is DistancePool when 0; tests make it small.
	distancePool int
	// listSize is MatchListSize; tests make it small.
	listSize int
	// floors are the full lists' lowest scores reverse matching has met.
	floors *floors
	// flushWake wakes the flusher (flushLoop) when a reverse batch has
	// queued announcements.
	flushWake chan struct{}
	// hold is when the flusher holds announcements through a bulk
	// (holdForBulk); tests make it small.
	hold bulkHold
}

// Options tune the service; the zero value is a working default.
type Options struct {
	// IndexPrefix is put before the postings index's name (PostingsIndex),
	// so that deployments and tests can share a Meilisearch.
	IndexPrefix string
	// StreamReplicas is the replica count of the key stream (pkg/shred)
	// when Serve creates it; 0 means 1.
	StreamReplicas int
	// RequestTimeout bounds each request; 0 means 10 s.
	RequestTimeout time.Duration
	// ZIPs are the ZIP centroids seekers located by a ZIP code are placed
	// with. Nil: such seekers get remote matches only (and are told why).
	ZIPs *geo.ZCTA
	// Now is the clock (trust signals, plans, announcements); nil means
	// time.Now.
	Now func() time.Time
}

// New is the matching service on the given connections. It does no I/O;
// Serve prepares the postings index, rebuilds the seekers index from the
// streams, then indexes postings, matches and answers requests.
func New(nc *nats.Conn, js jetstream.JetStream, rdb *redis.Client, mc meilisearch.ServiceManager, log zerolog.Logger, opts Options) (*Service, error) {
	if nc == nil || js == nil || rdb == nil || mc == nil {
		return nil, errors.New("matching: NATS, JetStream, Redis and Meilisearch are required")
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cat, err := pathway.DefaultCatalog()
	if err != nil {
		return nil, fmt.Errorf("matching: %w", err)
	}
	s := &Service{
		nc: nc, js: js, rdb: rdb, mc: mc, log: log, opts: opts,
		index: opts.IndexPrefix + PostingsIndex, cat: cat, zcta: opts.ZIPs,
		seekers: seekerindex.New(opts.ZIPs, cat, opts.Now), market: newMarketCache(), now: opts.Now,
		flushWake: make(chan struct{}, 1), listSize: MatchListSize, floors: newFloors(),
		hold: bulkHold{backlog: FlushHoldBacklog, most: FlushHoldMax},
	}
	s.postings = postingindex.New(js, mc, log, s.index, s.market.invalidate)
	return s, nil
}

// Serve applies the index settings, rebuilds the seekers index from the
// streams, then indexes postings, matches and serves until ctx ends.
func (s *Service) Serve(ctx context.Context) error {
	return s.serve(ctx, nil, true)
}

// serve is Serve; ready (when not nil) is closed once it serves. Without
// consume it serves reads only and runs none of the JOBS consumers (tests
// use it for a copy that indexes nothing itself).
func (s *Service) serve(ctx context.Context, ready chan<- struct{}, consume bool) error {
	keys, err := shred.Open(ctx, s.js, s.opts.StreamReplicas)
	if err != nil {
		return fmt.Errorf("matching: %w", err)
	}
	// Announcements seal for tens of thousands of seekers at once, batch
	// after batch: their keys come from an in-memory mirror of the keyring,
	// not a read each (shred.Keyring.Mirrored; docs/privacy.md).
	if s.keys, err = keys.Mirrored(ctx); err != nil {
		return fmt.Errorf("matching: %w", err)
	}
	if err := s.postings.Prepare(ctx); err != nil {
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
	s.log.Info().Int("seekers", s.seekers.Size()).Msg("seekers index rebuilt from the streams")

	svc, err := micro.AddService(s.nc, micro.Config{Name: Name, Version: Version, Description: "postings index, search, matching, candidates, caseloads and market demand"})
	if err != nil {
		return fmt.Errorf("matching: add micro service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	if err := rpc.AddEndpoints(svc, s.nc, s.log, s.opts.RequestTimeout, s.bindings()...); err != nil {
		return fmt.Errorf("matching: %w", err)
	}
	if consume {
		g.Go(func() error { return s.postings.Run(ctx) })
		g.Go(func() error { return s.runReverse(ctx) })
		g.Go(func() error { return s.runSeekerChanges(ctx) })
		g.Go(func() error { return s.dropLegacyOpenSet(ctx) })
	}
	s.log.Info().Str("index", s.index).Msg("matching ready")
	if ready != nil {
		close(ready)
	}
	return g.Wait()
}

// bindings pairs each endpoint of the contract with its handler.
func (s *Service) bindings() []rpc.Binding {
	return []rpc.Binding{
		matchingapi.Search.Bind(s.search),
		matchingapi.Posting.Bind(s.posting),
		matchingapi.Matches.Bind(s.matches),
		matchingapi.MatchList.Bind(s.matchList),
		matchingapi.Candidates.Bind(s.candidates),
		matchingapi.CandidateCount.Bind(s.candidateCounts),
		matchingapi.Caseload.Bind(s.caseload),
		matchingapi.Market.Bind(s.marketDemand),
		matchingapi.Ready.Bind(s.ready),
	}
}
