// Package ingest is the job-ingestion service: it takes employers' postings
// in the formats they already have (JSON, NDJSON, CSV, schema.org
// JobPosting JSON-LD), validates and normalises them, extracts their
// requirements, de-duplicates them, and publishes them as events in the
// JOBS stream. A posting is accepted only once JetStream has acknowledged
// it; a bad record never sinks the good ones.
package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/micro"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Name and Version identify the service in `nats micro ls`.
const (
	Name    = "ingest"
	Version = "0.2.0"
)

// SubjectSubmit is the request/reply subject for integrators and the gateway.
const SubjectSubmit = "jobs.submit"

// Request headers of jobs.submit.
const (
	// HeaderEmployerOrg names the organisation that submits (required).
	HeaderEmployerOrg = "Clerkpath-Employer-Org"
	// HeaderMode is "single" (exactly one posting) or "bulk" (default).
	HeaderMode = "Clerkpath-Mode"
	// HeaderColumns maps CSV headers to ours, as JSON: {"Job Title":"title"}.
	HeaderColumns = "Clerkpath-Columns"
)

// BulkTimeout bounds one submission, however large.
const BulkTimeout = 2 * time.Minute

// Service holds the ingest service's dependencies.
type Service struct {
	p     *platform.Platform
	zcta  *geo.ZCTA
	x     *posting.Extractor
	now   func() time.Time
	dedup *dedup
}

// Run serves the ingest endpoint and closes expired and stale postings
// until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error {
	s := &Service{p: p, zcta: loadZCTA(p), x: posting.DefaultExtractor(), now: time.Now, dedup: &dedup{rdb: p.Redis}}
	svc, err := micro.AddService(p.NC, micro.Config{
		Name:        Name,
		Version:     Version,
		Description: "job posting intake: validate, normalise, extract, de-duplicate, publish to JOBS",
	})
	if err != nil {
		return fmt.Errorf("ingest: add micro service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	// A bulk request of posting.MaxRecords postings takes longer than an
	// ordinary request.
	if err := svc.AddEndpoint("submit", rpc.Handler(p.NC, p.Log, max(p.Config.RequestTimeout, BulkTimeout), s.submit),
		micro.WithEndpointSubject(SubjectSubmit),
		micro.WithEndpointMetadata(map[string]string{"description": "submit postings; header Content-Type chooses the format"})); err != nil {
		return fmt.Errorf("ingest: add endpoint: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.runLifecycle(ctx, time.Minute) })
	p.Log.Info().Msg("ingest ready")
	return g.Wait()
}

func loadZCTA(p *platform.Platform) *geo.ZCTA {
	z, err := geo.LoadZCTAFile(p.Config.ZCTAFile)
	if err != nil {
		p.Log.Warn().Err(err).Msg("no ZIP centroids: postings located only by ZIP code get no coordinates")
		return nil
	}
	return z
}
