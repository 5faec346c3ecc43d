// Package credentials is the credentials service: it owns the credential
// catalog and the pathway engine, and seekers' credential records.
//
// Records are events in the CREDENTIALS stream (credentials.earned,
// credentials.ceu_logged, credentials.expiring), each sealed with the
// seeker's own key (pkg/shred) so that deleting the seeker shreds them; a
// Redis projection serves reads. Plans are computed on request by the pure
// engine in pkg/pathway, ranked with the market demand the matching service
// reports near the seeker.
package credentials

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/credentialsapi"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// Name and Version identify the service in `nats micro ls`.
const (
	Name    = "credentials"
	Version = "0.2.0"
)

// DefaultScanInterval is how often the expiring-cycle scan runs.
const DefaultScanInterval = 6 * time.Hour

// Options tune the service; the zero value is the production default.
type Options struct {
	// ScanInterval is how often Serve scans for renewal cycles ending
	// within the notice window (config ExpiringDays). Zero means
	// DefaultScanInterval; a negative value turns the periodic scan off
	// (ScanExpiring can still be called).
	ScanInterval time.Duration
	// MarketTimeout bounds the call to the matching service for demand;
	// a plan without demand beats no plan. Zero means 2 seconds.
	MarketTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ExpiringDays is the notice window of credentials.expiring (config
	// CLERKPATH_EXPIRING_DAYS); zero means 60.
	ExpiringDays int
	// StreamReplicas is the replica count of the keyring's stream; zero
	// means 1.
	StreamReplicas int
	// RequestTimeout bounds one request; zero means 10 seconds.
	RequestTimeout time.Duration
	// Projection tunes the generations of the Redis projection.
	Projection projection.Options
}

// Service is the credentials service.
type Service struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	log     zerolog.Logger
	cat     *pathway.Catalog
	keys    *shred.Keyring
	store   *store
	proj    *projection.Projection
	opts    Options
	now     func() time.Time
	catCTDL []byte // the whole catalog as CTDL JSON-LD, built once
}

// New loads the catalog and opens the keyring on the service's clients:
// NATS for its endpoints and calls, JetStream for the CREDENTIALS events
// and the keyring, Redis for the records projection. Serve runs it.
func New(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, rdb *redis.Client, log zerolog.Logger, opts Options) (*Service, error) {
	if nc == nil || js == nil || rdb == nil {
		return nil, fmt.Errorf("credentials: NATS, JetStream and Redis are required")
	}
	cat, err := pathway.DefaultCatalog()
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	keys, err := shred.Open(ctx, js, max(opts.StreamReplicas, 1))
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	catCTDL, err := json.Marshal(pathway.CTDL(cat, nil))
	if err != nil {
		return nil, fmt.Errorf("credentials: catalog as CTDL: %w", err)
	}
	if opts.ScanInterval == 0 {
		opts.ScanInterval = DefaultScanInterval
	}
	if opts.MarketTimeout <= 0 {
		opts.MarketTimeout = 2 * time.Second
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 10 * time.Second
	}
	if opts.ExpiringDays <= 0 {
		opts.ExpiringDays = 60
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Service{nc: nc, js: js, log: log, cat: cat, keys: keys, opts: opts, now: now, catCTDL: catCTDL}
	s.proj = projection.New(rdb, js, log, s.projectionSpec(), opts.Projection)
	s.store = &store{rdb: rdb, proj: s.proj, pseudonym: keys.Pseudonym}
	return s, nil
}

// Serve adds the micro endpoints, keeps the Redis projection and scans for
// ending renewal cycles until ctx ends.
func (s *Service) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.proj.Run(ctx) })
	serving := false
	defer func() {
		if !serving { // failed to start: stop the projection before returning
			cancel()
			_ = g.Wait()
		}
	}()
	// A first start builds the projection before the endpoints answer (bounded:
	// past the bound, reads answer 503 until it is built).
	if err := s.proj.WaitServing(ctx, 10*time.Second); err != nil {
		s.log.Warn().Err(err).Msg("credential records projection not built yet; reads answer 503 until it is")
	}
	svc, err := micro.AddService(s.nc, micro.Config{Name: Name, Version: Version, Description: "credential catalog, pathway plans, credential records and CEUs"})
	if err != nil {
		return fmt.Errorf("credentials: add micro service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	if err := rpc.AddEndpoints(svc, s.nc, s.log, s.opts.RequestTimeout,
		credentialsapi.Catalog.Bind(s.catalog),
		credentialsapi.Credential.Bind(s.credential),
		credentialsapi.Records.Bind(s.records),
		credentialsapi.Earn.Bind(s.earn),
		credentialsapi.CEU.Bind(s.logCEU),
		credentialsapi.Plan.Bind(s.plan),
		credentialsapi.SeekerPlan.Bind(s.seekerPlan),
		credentialsapi.CTDL.Bind(s.ctdl),
		credentialsapi.Rebuild.Bind(func(ctx context.Context, _ credentialsapi.RebuildRequest) (projection.Status, error) {
			return s.proj.Rebuild(ctx)
		}),
		credentialsapi.RebuildStatus.Bind(func(ctx context.Context, _ credentialsapi.RebuildRequest) (projection.Status, error) {
			return s.proj.Status(ctx)
		}),
	); err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	if s.opts.ScanInterval > 0 {
		g.Go(func() error { s.runExpiringScans(ctx); return nil })
	}
	s.log.Info().Str("catalog_version", s.cat.Version).Int("credentials", len(s.cat.Credentials)).Msg("credentials ready")
	serving = true
	return g.Wait()
}

func (s *Service) catalog(ctx context.Context, _ credentialsapi.CatalogRequest) (credentialsapi.CatalogSummary, error) {
	return credentialsapi.CatalogSummary{
		Version:     s.cat.Version,
		Credentials: s.cat.Credentials,
		Education:   s.cat.Education,
		Trainings:   s.cat.Trainings,
		Issuers:     s.cat.Issuers,
		Sources:     s.cat.Sources,
	}, nil
}

func (s *Service) credential(ctx context.Context, req credentialsapi.CredentialRequest) (pathway.Credential, error) {
	c := s.cat.Credential(strings.ToUpper(strings.TrimSpace(req.Code)))
	if c == nil {
		return pathway.Credential{}, apierr.New(apierr.NotFound, "no credential %q; known codes: %s", req.Code, strings.Join(s.codes(), ", "))
	}
	return *c, nil
}

// codes lists the catalog's credential codes, sorted.
func (s *Service) codes() []string {
	codes := make([]string, 0, len(s.cat.Credentials))
	for _, c := range s.cat.Credentials {
		codes = append(codes, c.Code)
	}
	sort.Strings(codes)
	return codes
}
