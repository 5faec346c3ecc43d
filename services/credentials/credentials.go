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

	"github.com/nats-io/nats.go/micro"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// Name and Version identify the service in `nats micro ls`.
const (
	Name    = "credentials"
	Version = "0.2.0"
)

// Request/reply subjects.
const (
	SubjectCatalog    = "svc.credentials.catalog"
	SubjectCredential = "svc.credentials.credential"
	SubjectRecords    = "svc.credentials.records"
	SubjectEarn       = "svc.credentials.earn"
	SubjectCEU        = "svc.credentials.ceu"
	SubjectPlan       = "svc.credentials.plan"
	SubjectSeekerPlan = "svc.credentials.seeker_plan"
	SubjectCTDL       = "svc.credentials.ctdl"
	// SubjectRebuild starts a rebuild of the records projection (unless one
	// runs) and SubjectRebuildStatus follows it; both take an empty body and
	// reply with a projection.Status (`clerkpath rebuild credentials`).
	SubjectRebuild       = "svc.credentials.rebuild"
	SubjectRebuildStatus = "svc.credentials.rebuild.status"
)

// Subjects of other services this one calls. Services never import each
// other: the subjects are the contract (docs/events.md).
const (
	subjectSeekerGet = "svc.profiles.seeker.get"
	subjectMarket    = "svc.matching.market"
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
	// Projection tunes the generations of the Redis projection.
	Projection projection.Options
}

// Service holds the credentials service's dependencies.
type Service struct {
	p       *platform.Platform
	cat     *pathway.Catalog
	keys    *shred.Keyring
	store   *store
	proj    *projection.Projection
	opts    Options
	now     func() time.Time
	catCTDL []byte // the whole catalog as CTDL JSON-LD, built once
}

// Run loads and validates the catalog (a bad catalog stops the start), then
// serves until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error {
	s, err := New(ctx, p, Options{})
	if err != nil {
		return err
	}
	return s.Serve(ctx)
}

// New loads the catalog and opens the keyring. Serve runs the service.
func New(ctx context.Context, p *platform.Platform, opts Options) (*Service, error) {
	cat, err := pathway.DefaultCatalog()
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	keys, err := shred.Open(ctx, p.JS, p.Config.StreamReplicas)
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
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Service{p: p, cat: cat, keys: keys, opts: opts, now: now, catCTDL: catCTDL}
	s.proj = projection.New(p.Redis, p.JS, p.Log, s.projectionSpec(), opts.Projection)
	s.store = &store{rdb: p.Redis, proj: s.proj}
	return s, nil
}

// Serve adds the micro endpoints, keeps the Redis projection and scans for
// ending renewal cycles until ctx ends.
func (s *Service) Serve(ctx context.Context) error {
	p := s.p
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
		p.Log.Warn().Err(err).Msg("credential records projection not built yet; reads answer 503 until it is")
	}
	svc, err := micro.AddService(p.NC, micro.Config{Name: Name, Version: Version, Description: "credential catalog, pathway plans, credential records and CEUs"})
	if err != nil {
		return fmt.Errorf("credentials: add micro service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	for _, ep := range []struct {
		name, subject string
		fn            rpc.Func
	}{
		{"catalog", SubjectCatalog, s.catalog},
		{"credential", SubjectCredential, s.credential},
		{"records", SubjectRecords, s.records},
		{"earn", SubjectEarn, s.earn},
		{"ceu", SubjectCEU, s.logCEU},
		{"plan", SubjectPlan, s.plan},
		{"seeker-plan", SubjectSeekerPlan, s.seekerPlan},
		{"ctdl", SubjectCTDL, s.ctdl},
		{"rebuild", SubjectRebuild, s.proj.RebuildHandler},
		{"rebuild-status", SubjectRebuildStatus, s.proj.StatusHandler},
	} {
		if err := svc.AddEndpoint(ep.name, rpc.Handler(p.NC, p.Log, p.Config.RequestTimeout, ep.fn), micro.WithEndpointSubject(ep.subject)); err != nil {
			return fmt.Errorf("credentials: add endpoint %s: %w", ep.name, err)
		}
	}
	if s.opts.ScanInterval > 0 {
		g.Go(func() error { s.runExpiringScans(ctx); return nil })
	}
	p.Log.Info().Str("catalog_version", s.cat.Version).Int("credentials", len(s.cat.Credentials)).Msg("credentials ready")
	serving = true
	return g.Wait()
}

// CatalogSummary lists the credentials of the catalog.
type CatalogSummary struct {
	Version     string               `json:"version"`
	Credentials []pathway.Credential `json:"credentials"`
	Education   []pathway.Program    `json:"education"`
	Trainings   []pathway.Training   `json:"trainings"`
	Issuers     []pathway.Issuer     `json:"issuers"`
	Sources     []pathway.Source     `json:"sources"`
}

func (s *Service) catalog(ctx context.Context, r rpc.Request) (any, error) {
	return CatalogSummary{
		Version:     s.cat.Version,
		Credentials: s.cat.Credentials,
		Education:   s.cat.Education,
		Trainings:   s.cat.Trainings,
		Issuers:     s.cat.Issuers,
		Sources:     s.cat.Sources,
	}, nil
}

func (s *Service) credential(ctx context.Context, r rpc.Request) (any, error) {
	var req struct {
		Code string `json:"code"`
	}
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	c := s.cat.Credential(strings.ToUpper(strings.TrimSpace(req.Code)))
	if c == nil {
		return nil, apierr.New(apierr.NotFound, "no credential %q; known codes: %s", req.Code, strings.Join(s.codes(), ", "))
	}
	return c, nil
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
