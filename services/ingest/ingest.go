// Package ingest is the job-ingestion service: it takes employers' postings
// in the formats they already have (JSON, NDJSON, CSV, schema.org
// JobPosting JSON-LD), validates and normalises them, extracts their
// requirements, de-duplicates them, and publishes them as events in the
// JOBS stream. A posting is accepted only once JetStream has acknowledged
// it; a bad record never sinks the good ones. Employers list, patch, close
// and reopen their postings here too (pkg/contract/ingestapi).
package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Name and Version identify the service in `nats micro ls`.
const (
	Name    = "ingest"
	Version = "0.3.0"
)

// BulkTimeout bounds one submission, however large.
const BulkTimeout = 2 * time.Minute

// Options tune the service; the zero value is the production default.
type Options struct {
	// ZCTA places and checks US ZIP codes; nil accepts every well-formed
	// ZIP with a warning, without coordinates.
	ZCTA *geo.ZCTA
	// StaleAfterDays is how long a posting not received again stays open
	// (config CLERKPATH_STALE_AFTER_DAYS); zero means 30.
	StaleAfterDays int
	// RequestTimeout bounds an ordinary request; submissions get at least
	// BulkTimeout. Zero means 10 seconds.
	RequestTimeout time.Duration
	// SweepInterval is how often expired and stale postings are closed;
	// zero means a minute, negative never (Sweep can still be called).
	SweepInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the ingest service.
type Service struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	log   zerolog.Logger
	opts  Options
	x     *posting.Extractor
	now   func() time.Time
	store *store
}

// New builds the service on its clients: NATS for its endpoints, JetStream
// for the JOBS events and Redis for what it remembers of each posting.
func New(nc *nats.Conn, js jetstream.JetStream, rdb *redis.Client, log zerolog.Logger, opts Options) (*Service, error) {
	if nc == nil || js == nil || rdb == nil {
		return nil, fmt.Errorf("ingest: NATS, JetStream and Redis are required")
	}
	if opts.StaleAfterDays == 0 {
		opts.StaleAfterDays = 30
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 10 * time.Second
	}
	if opts.SweepInterval == 0 {
		opts.SweepInterval = time.Minute
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Service{nc: nc, js: js, log: log, opts: opts, x: posting.DefaultExtractor(), now: now, store: &store{rdb: rdb}}, nil
}

// Serve answers the ingest endpoints and closes expired and stale postings
// until ctx ends.
func (s *Service) Serve(ctx context.Context) error {
	svc, err := micro.AddService(s.nc, micro.Config{
		Name:        Name,
		Version:     Version,
		Description: "job posting intake: validate, normalise, extract, de-duplicate, publish to JOBS; employers manage their postings",
	})
	if err != nil {
		return fmt.Errorf("ingest: add micro service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	// A bulk request of posting.MaxRecords postings takes longer than an
	// ordinary request.
	if err := rpc.AddEndpoints(svc, s.nc, s.log, max(s.opts.RequestTimeout, BulkTimeout),
		ingestapi.Submit.Bind(s.submit)); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if err := rpc.AddEndpoints(svc, s.nc, s.log, s.opts.RequestTimeout,
		ingestapi.Postings.Bind(s.list),
		ingestapi.Patch.Bind(s.patch),
		ingestapi.Close.Bind(s.closeByEmployer),
		ingestapi.Reopen.Bind(s.reopen)); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	s.log.Info().Bool("zip_centroids", s.opts.ZCTA != nil).Msg("ingest ready")
	if s.opts.SweepInterval > 0 {
		return s.runLifecycle(ctx, s.opts.SweepInterval)
	}
	<-ctx.Done()
	return nil
}
