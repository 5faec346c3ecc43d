// Package ingest is the job-ingestion service: it takes employers' postings,
// validates and normalises them, and publishes them as events in the JOBS
// stream. A posting is accepted only once JetStream has acknowledged it.
package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Name and Version identify the service in `nats micro ls`.
const (
	Name    = "ingest"
	Version = "0.1.0"
)

// SubjectSubmit is the request/reply subject for integrators and the gateway.
const SubjectSubmit = "jobs.submit"

// HeaderEmployerOrg names the organisation that submits a request.
const HeaderEmployerOrg = "Clerkpath-Employer-Org"

// Service holds the ingest service's dependencies.
type Service struct {
	p   *platform.Platform
	now func() time.Time
}

// Run serves the ingest endpoints until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error {
	s := &Service{p: p, now: time.Now}
	svc, err := micro.AddService(p.NC, micro.Config{
		Name:        Name,
		Version:     Version,
		Description: "job posting intake: validate, normalise, extract, de-duplicate, publish to JOBS",
	})
	if err != nil {
		return fmt.Errorf("ingest: add micro service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	if err := svc.AddEndpoint("submit", rpc.Handler(p.Log, p.Config.RequestTimeout, s.submit),
		micro.WithEndpointSubject(SubjectSubmit),
		micro.WithEndpointMetadata(map[string]string{"description": "submit one posting or a batch; header Content-Type chooses the format"})); err != nil {
		return fmt.Errorf("ingest: add endpoint: %w", err)
	}
	p.Log.Info().Msg("ingest ready")
	<-ctx.Done()
	return nil
}

// Outcome of one record.
type Outcome struct {
	Index     int    `json:"index"`
	ID        string `json:"id"`
	Status    string `json:"status"` // posted, updated, duplicate
	Sequence  uint64 `json:"sequence"`
	ClusterID string `json:"cluster_id,omitempty"`
}

// Result of a submission.
type Result struct {
	Accepted []Outcome  `json:"accepted"`
	Rejected []Rejected `json:"rejected"`
}

// Rejected record with its reasons.
type Rejected struct {
	Index  int              `json:"index"`
	Line   int              `json:"line,omitempty"`
	Fields []rejectionField `json:"errors"`
}

type rejectionField struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (s *Service) publish(ctx context.Context, subject, id string, payload any) (*events.Event, uint64, bool, error) {
	ev := events.Event{Subject: subject, ID: id, Source: Name, Time: s.now(), Payload: payload}
	ack, err := events.Publish(ctx, s.p.JS, ev)
	if err != nil {
		return nil, 0, false, err
	}
	return &ev, ack.Sequence, ack.Duplicate, nil
}
