// Package profiles is the profiles service: seekers, employer organisations,
// counselor links and consent. Every change is an event in the PROFILES
// stream — seekers' events sealed with the seeker's own key, so deleting a
// seeker shreds their history — and a Redis projection serves reads.
package profiles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// Name and Version identify the service in `nats micro ls`.
const (
	Name    = "profiles"
	Version = "0.3.0"
)

// Service is the profiles service: its connections, its projection and
// the keyring that seals seekers' events.
type Service struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	log   zerolog.Logger
	opts  Options
	store *store
	proj  *projection.Projection
	keys  *shred.Keyring // opened by Serve
}

// Options tune the service; the zero value is a working default.
type Options struct {
	// Projection tunes the generations of the Redis projection.
	Projection projection.Options
	// StreamReplicas is the replica count of the key stream (pkg/shred)
	// when Serve creates it; 0 means 1.
	StreamReplicas int
	// RequestTimeout bounds each request; 0 means 10 s.
	RequestTimeout time.Duration
	// ZIPs are the ZIP centroids a seeker's postal code is checked
	// against. Nil: postal codes are accepted with a warning.
	ZIPs *geo.ZCTA
	// Now is the clock (notes are stamped with it); nil means time.Now.
	Now func() time.Time
}

// New is the profiles service on the given connections. It does no I/O;
// Serve opens the keyring, runs the projection and answers requests.
func New(nc *nats.Conn, js jetstream.JetStream, rdb *redis.Client, log zerolog.Logger, opts Options) (*Service, error) {
	if nc == nil || js == nil || rdb == nil {
		return nil, errors.New("profiles: NATS, JetStream and Redis are required")
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{nc: nc, js: js, log: log, opts: opts}
	s.proj = projection.New(rdb, js, log, s.projectionSpec(), opts.Projection)
	s.store = &store{rdb: rdb, proj: s.proj}
	return s, nil
}

// Serve serves the profile endpoints and keeps the Redis projection until
// ctx ends.
func (s *Service) Serve(ctx context.Context) error {
	keys, err := shred.Open(ctx, s.js, s.opts.StreamReplicas)
	if err != nil {
		return fmt.Errorf("profiles: %w", err)
	}
	s.keys = keys
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return s.proj.Run(ctx) })
	serving := false
	defer func() {
		if !serving { // failed to start: stop the projection before returning
			cancel()
			_ = eg.Wait()
		}
	}()
	// A first start builds the projection before the endpoints answer (bounded:
	// past the bound, reads answer 503 until it is built).
	if err := s.proj.WaitServing(ctx, 10*time.Second); err != nil {
		s.log.Warn().Err(err).Msg("profiles projection not built yet; reads answer 503 until it is")
	}
	svc, err := micro.AddService(s.nc, micro.Config{Name: Name, Version: Version, Description: "seekers, employers, counselors, caseloads and consent"})
	if err != nil {
		return fmt.Errorf("profiles: add micro service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	if err := rpc.AddEndpoints(svc, s.nc, s.log, s.opts.RequestTimeout, s.bindings()...); err != nil {
		return fmt.Errorf("profiles: %w", err)
	}
	if s.opts.ZIPs == nil {
		s.log.Warn().Msg("no ZIP centroids: seekers' postal codes are accepted unchecked, with a warning")
	}
	s.log.Info().Msg("profiles ready")
	serving = true
	return eg.Wait()
}

// bindings pairs each endpoint of the contract with its handler.
func (s *Service) bindings() []rpc.Binding {
	return []rpc.Binding{
		profilesapi.SeekerPut.Bind(s.putSeeker),
		profilesapi.SeekerPatch.Bind(s.patchSeeker),
		profilesapi.SeekerGet.Bind(s.getSeeker),
		profilesapi.ContactPut.Bind(s.putContact),
		profilesapi.ContactGet.Bind(s.getContact),
		profilesapi.Consent.Bind(s.consent),
		profilesapi.CounselorLink.Bind(s.counselorLink),
		profilesapi.Relations.Bind(s.relations),
		profilesapi.RelationsBatch.Bind(s.relationsBatch),
		profilesapi.PseudonymsGet.Bind(s.pseudonyms),
		profilesapi.NoteAdd.Bind(s.addNote),
		profilesapi.NotesGet.Bind(s.notes),
		profilesapi.ExportGet.Bind(s.export),
		profilesapi.Delete.Bind(s.deleteSeeker),
		profilesapi.CaseloadGet.Bind(s.caseload),
		profilesapi.EmployerPut.Bind(s.putEmployer),
		profilesapi.EmployerGet.Bind(s.getEmployer),
		profilesapi.Rebuild.Bind(func(ctx context.Context, _ rpc.Raw) (projection.Status, error) { return s.proj.Rebuild(ctx) }),
		profilesapi.RebuildStatus.Bind(func(ctx context.Context, _ rpc.Raw) (projection.Status, error) { return s.proj.Status(ctx) }),
	}
}
