package credentials

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/credentialsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

func validSeeker(id string) error {
	if !profile.ValidID(id) {
		return apierr.InvalidFields(apierr.FieldError{Field: "seeker_id", Message: "1 to 64 letters, digits, '-' or '_'"})
	}
	return nil
}

func (s *Service) records(ctx context.Context, req credentialsapi.SeekerRef) (credentialsapi.SeekerRecords, error) {
	if err := validSeeker(req.SeekerID); err != nil {
		return credentialsapi.SeekerRecords{}, err
	}
	return s.currentRecords(ctx, req.SeekerID)
}

func (s *Service) currentRecords(ctx context.Context, id string) (credentialsapi.SeekerRecords, error) {
	rec, err := s.store.load(ctx, id)
	if err != nil {
		return credentialsapi.SeekerRecords{}, err
	}
	if rec.deleted {
		return credentialsapi.SeekerRecords{}, apierr.New(apierr.NotFound, "no seeker %s", id)
	}
	return credentialsapi.SeekerRecords{SeekerID: id, Credentials: rec.creds, CEUs: rec.ceus}, nil
}

// earn records a credential. Recording the same credential with the same
// exam date again is the same event (a retry), not a second record; a
// different date or apprentice status replaces the record.
func (s *Service) earn(ctx context.Context, req credentialsapi.EarnRequest) (credentialsapi.SeekerRecords, error) {
	var none credentialsapi.SeekerRecords
	if err := validSeeker(req.SeekerID); err != nil {
		return none, err
	}
	c := req.Credential
	c.Code = strings.ToUpper(strings.TrimSpace(c.Code))
	if c.EarnedOn == "" {
		return none, apierr.InvalidFields(apierr.FieldError{Field: "earned_on", Message: "required; want YYYY-MM-DD, the exam date"})
	}
	st := pathway.State{Credentials: []pathway.HeldCredential{{Code: c.Code, EarnedOn: c.EarnedOn, Apprentice: c.Apprentice, MembershipRenewal: c.MembershipRenewal}}}
	if err := st.Validate(s.cat, s.now()); err != nil {
		return none, fieldsUnder(err, "credentials[0].")
	}
	// Records belong to a profile: deleting the profile is how a seeker
	// erases them, so there must be one to delete.
	if err := s.requireSeeker(ctx, req.SeekerID); err != nil {
		return none, err
	}
	parts := []string{req.SeekerID, c.Code, c.EarnedOn, strconv.FormatBool(c.Apprentice)}
	if c.MembershipRenewal != "" { // only then, so ids of records without it are unchanged
		parts = append(parts, c.MembershipRenewal)
	}
	id := eventID("earned", parts...)
	if err := s.record(ctx, req.SeekerID, events.CredentialsEarned, id, profile.CredentialChange{SeekerID: req.SeekerID, Credential: &c}); err != nil {
		return none, err
	}
	return s.currentRecords(ctx, req.SeekerID)
}

// logCEU records continuing education toward a credential the seeker
// holds. The same block (credential, date, hours, self-review) logged again
// is one record.
func (s *Service) logCEU(ctx context.Context, req credentialsapi.CEURequest) (credentialsapi.SeekerRecords, error) {
	var none credentialsapi.SeekerRecords
	if err := validSeeker(req.SeekerID); err != nil {
		return none, err
	}
	u := req.CEU
	u.Code = strings.ToUpper(strings.TrimSpace(u.Code))
	rec, err := s.store.load(ctx, req.SeekerID)
	if err != nil {
		return none, err
	}
	if rec.deleted {
		return none, apierr.New(apierr.NotFound, "no seeker %s", req.SeekerID)
	}
	st := pathway.State{CEUs: []pathway.CEU{{Code: u.Code, Hours: u.Hours, Provider: u.Provider, SelfReview: u.SelfReview, On: u.On}}}
	for _, c := range rec.creds {
		if s.cat.Credential(c.Code) != nil {
			st.Credentials = append(st.Credentials, pathway.HeldCredential{Code: c.Code})
		}
	}
	if err := st.Validate(s.cat, s.now()); err != nil {
		return none, fieldsUnder(err, "ceus[0].")
	}
	parts := []string{req.SeekerID, u.Code, u.On, strconv.FormatFloat(u.Hours, 'g', -1, 64), strconv.FormatBool(u.SelfReview)}
	if u.Provider != "" { // only then, so ids of records without it are unchanged
		parts = append(parts, u.Provider)
	}
	id := eventID("ceu", parts...)
	if err := s.record(ctx, req.SeekerID, events.CredentialsCEULogged, id, profile.CredentialChange{SeekerID: req.SeekerID, CEU: &u}); err != nil {
		return none, err
	}
	return s.currentRecords(ctx, req.SeekerID)
}

// record seals a change about a seeker, publishes it, and waits until the
// projection has applied it so that the caller reads its own write.
func (s *Service) record(ctx context.Context, seeker, subject, id string, ch profile.CredentialChange) error {
	sealed, err := s.keys.Seal(ctx, seeker, ch)
	if errors.Is(err, shred.ErrShredded) {
		return apierr.New(apierr.NotFound, "no seeker %s", seeker)
	}
	if err != nil {
		return apierr.Wrap(err, apierr.Unavailable, "could not save; try again")
	}
	ack, err := events.Publish(ctx, s.js, events.Event{
		Subject:   subject,
		ID:        id,
		Source:    Name,
		Time:      s.now(),
		RequestID: obs.RequestID(ctx),
		Payload:   sealed,
	})
	if err != nil {
		return apierr.Wrap(err, apierr.Unavailable, "could not save; try again")
	}
	if err := s.store.waitApplied(ctx, seeker, ack.Sequence, 2*time.Second); err != nil {
		obs.Logger(ctx, s.log).Warn().Err(err).Msg("projection lagging behind a write")
	}
	return nil
}

// requireSeeker fails with not_found unless the profiles service knows the
// seeker.
func (s *Service) requireSeeker(ctx context.Context, id string) error {
	_, err := s.seeker(ctx, id)
	return err
}

func (s *Service) seeker(ctx context.Context, id string) (profile.Seeker, error) {
	return profilesapi.SeekerGet.Call(ctx, s.nc, profilesapi.SeekerRef{ID: id})
}

// eventID is a deterministic message id: a retried request publishes the
// same id, which JetStream drops as a duplicate. The parts are hashed so
// that the id, which travels in clear headers, reveals neither the
// credential nor its dates.
func eventID(kind string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return kind + ":" + hex.EncodeToString(h[:16])
}

// fieldsUnder turns the engine's field paths for a one-entry state
// ("credentials[0].earned_on") into the request's own ("earned_on").
func fieldsUnder(err error, prefix string) error {
	var ae *apierr.Error
	if !errors.As(err, &ae) || len(ae.Fields) == 0 {
		return err
	}
	fs := make([]apierr.FieldError, 0, len(ae.Fields))
	for _, f := range ae.Fields {
		if name, ok := strings.CutPrefix(f.Field, prefix); ok {
			fs = append(fs, apierr.FieldError{Field: name, Message: f.Message})
		}
	}
	if len(fs) == 0 {
		return err
	}
	return apierr.InvalidFields(fs...)
}
