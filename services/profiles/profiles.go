// Package profiles is the profiles service: seekers' profiles are events in
// the PROFILES stream, projected into Redis for reads.
package profiles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/micro"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Name and Version identify the service in `nats micro ls`.
const (
	Name    = "profiles"
	Version = "0.1.0"
)

// Request/reply subjects.
const (
	SubjectSeekerPut = "svc.profiles.seeker.put"
	SubjectSeekerGet = "svc.profiles.seeker.get"
)

// Service holds the profiles service's dependencies.
type Service struct {
	p     *platform.Platform
	store *store
	now   func() time.Time
}

// Run serves the profile endpoints and keeps the Redis projection until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error {
	s := &Service{p: p, store: &store{rdb: p.Redis}, now: time.Now}
	svc, err := micro.AddService(p.NC, micro.Config{Name: Name, Version: Version, Description: "seekers, employers, counselors, caseloads and consent"})
	if err != nil {
		return fmt.Errorf("profiles: add micro service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	for _, ep := range []struct {
		name, subject string
		fn            rpc.Func
	}{
		{"seeker-put", SubjectSeekerPut, s.putSeeker},
		{"seeker-get", SubjectSeekerGet, s.getSeeker},
	} {
		if err := svc.AddEndpoint(ep.name, rpc.Handler(p.Log, p.Config.RequestTimeout, ep.fn), micro.WithEndpointSubject(ep.subject)); err != nil {
			return fmt.Errorf("profiles: add endpoint %s: %w", ep.name, err)
		}
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return s.runProjection(ctx) })
	p.Log.Info().Msg("profiles ready")
	return eg.Wait()
}

// PutSeekerRequest replaces a seeker's profile. IfMatch, when non-zero, is
// the version the caller last read (optimistic concurrency).
type PutSeekerRequest struct {
	Seeker  profile.Seeker `json:"seeker"`
	IfMatch *uint64        `json:"if_match,omitempty"`
}

// GetSeekerRequest names a seeker.
type GetSeekerRequest struct {
	ID string `json:"id"`
}

func (s *Service) putSeeker(ctx context.Context, r rpc.Request) (any, error) {
	var req PutSeekerRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	sk := req.Seeker
	sk.Normalize()
	if err := sk.Validate(); err != nil {
		return nil, err
	}
	subject := events.SeekerSubjectPrefix + sk.ID
	sk.Version = 0
	ack, err := events.Publish(ctx, s.p.JS, events.Event{
		Subject:              subject,
		ID:                   obs.NewRequestID(),
		Type:                 events.TypeSeekerUpdated,
		Source:               Name,
		Time:                 s.now(),
		RequestID:            obs.RequestID(ctx),
		Payload:              sk,
		ExpectLastSubjectSeq: req.IfMatch,
	})
	if errors.Is(err, events.ErrWrongLastSequence) {
		return nil, apierr.New(apierr.PreconditionFail, "the profile changed since you read it; read it again and retry")
	}
	if err != nil {
		return nil, apierr.Wrap(err, apierr.Unavailable, "could not save the profile; try again")
	}
	sk.Version = ack.Sequence
	// Read-your-writes: the reply waits (briefly) for the projection, so a
	// GET right after a PUT sees the new version.
	if err := s.store.waitVersion(ctx, sk.ID, ack.Sequence, 2*time.Second); err != nil {
		obs.Logger(ctx, s.p.Log).Warn().Err(err).Msg("projection lagging behind a write")
	}
	return sk, nil
}

func (s *Service) getSeeker(ctx context.Context, r rpc.Request) (any, error) {
	var req GetSeekerRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if !profile.ValidID(req.ID) {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "id", Message: "1 to 64 letters, digits, '-' or '_'"})
	}
	sk, err := s.store.seeker(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	return sk, nil
}
