// Package profiles is the profiles service: seekers, employer organisations,
// counselor links and consent. Every change is an event in the PROFILES
// stream — seekers' events sealed with the seeker's own key, so deleting a
// seeker shreds their history — and a Redis projection serves reads.
package profiles

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/micro"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// Name and Version identify the service in `nats micro ls`.
const (
	Name    = "profiles"
	Version = "0.2.0"
)

// Request/reply subjects.
const (
	SubjectSeekerPut     = "svc.profiles.seeker.put"
	SubjectSeekerGet     = "svc.profiles.seeker.get"
	SubjectContactPut    = "svc.profiles.seeker.contact.put"
	SubjectContactGet    = "svc.profiles.seeker.contact.get"
	SubjectConsent       = "svc.profiles.seeker.consent"
	SubjectCounselorLink = "svc.profiles.seeker.counselor"
	SubjectRelations     = "svc.profiles.seeker.relations"
	SubjectNoteAdd       = "svc.profiles.seeker.note.add"
	SubjectNotes         = "svc.profiles.seeker.notes"
	SubjectExport        = "svc.profiles.seeker.export"
	SubjectDelete        = "svc.profiles.seeker.delete"
	SubjectCaseload      = "svc.profiles.counselor.caseload"
	SubjectEmployerPut   = "svc.profiles.employer.put"
	SubjectEmployerGet   = "svc.profiles.employer.get"
)

// Service holds the profiles service's dependencies.
type Service struct {
	p     *platform.Platform
	store *store
	proj  *projection.Projection
	keys  *shred.Keyring
	now   func() time.Time
}

// Options tune the service; the zero value is the production default.
type Options struct {
	// Projection tunes the generations of the Redis projection.
	Projection projection.Options
}

// Run serves the profile endpoints and keeps the Redis projection until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error { return RunWith(ctx, p, Options{}) }

// RunWith is Run with options.
func RunWith(ctx context.Context, p *platform.Platform, opts Options) error {
	keys, err := shred.Open(ctx, p.JS, p.Config.StreamReplicas)
	if err != nil {
		return fmt.Errorf("profiles: %w", err)
	}
	s := &Service{p: p, keys: keys, now: time.Now}
	s.openProjection(p, opts.Projection)
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
		p.Log.Warn().Err(err).Msg("profiles projection not built yet; reads answer 503 until it is")
	}
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
		{"contact-put", SubjectContactPut, s.putContact},
		{"contact-get", SubjectContactGet, s.getContact},
		{"consent", SubjectConsent, s.consent},
		{"counselor-link", SubjectCounselorLink, s.counselorLink},
		{"relations", SubjectRelations, s.relations},
		{"note-add", SubjectNoteAdd, s.addNote},
		{"notes", SubjectNotes, s.notes},
		{"export", SubjectExport, s.export},
		{"delete", SubjectDelete, s.deleteSeeker},
		{"caseload", SubjectCaseload, s.caseload},
		{"employer-put", SubjectEmployerPut, s.putEmployer},
		{"employer-get", SubjectEmployerGet, s.getEmployer},
		{"rebuild", SubjectRebuild, s.proj.RebuildHandler},
		{"rebuild-status", SubjectRebuildStatus, s.proj.StatusHandler},
	} {
		if err := svc.AddEndpoint(ep.name, rpc.Handler(p.NC, p.Log, p.Config.RequestTimeout, ep.fn), micro.WithEndpointSubject(ep.subject)); err != nil {
			return fmt.Errorf("profiles: add endpoint %s: %w", ep.name, err)
		}
	}
	p.Log.Info().Msg("profiles ready")
	serving = true
	return eg.Wait()
}
