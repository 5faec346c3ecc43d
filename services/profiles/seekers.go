package profiles

import (
	"context"
	"errors"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// PutSeekerRequest replaces a seeker's matching attributes. IfMatch, when
// set, is the version the caller last read (optimistic concurrency).
type PutSeekerRequest struct {
	Seeker  profile.Seeker `json:"seeker"`
	IfMatch *uint64        `json:"if_match,omitempty"`
}

// SeekerRef names a seeker.
type SeekerRef struct {
	ID string `json:"id"`
}

func (r SeekerRef) validate() error {
	if !profile.ValidID(r.ID) {
		return apierr.InvalidFields(apierr.FieldError{Field: "id", Message: "1 to 64 letters, digits, '-' or '_'"})
	}
	return nil
}

func decodeRef(r rpc.Request) (SeekerRef, error) {
	var ref SeekerRef
	if err := r.Decode(&ref); err != nil {
		return ref, err
	}
	return ref, ref.validate()
}

// record publishes a sealed change about a seeker and waits until the
// projection has applied it, so the caller reads its own write.
func (s *Service) record(ctx context.Context, id, typ string, ch profile.Change, ifMatch *uint64) (uint64, error) {
	sealed, err := s.keys.Seal(ctx, id, ch)
	if errors.Is(err, shred.ErrShredded) {
		return 0, apierr.New(apierr.Conflict, "seeker %s was deleted; the id cannot be reused", id)
	}
	if err != nil {
		return 0, apierr.Wrap(err, apierr.Unavailable, "could not save; try again")
	}
	ack, err := events.Publish(ctx, s.p.JS, events.Event{
		Subject:              events.SeekerSubjectPrefix + id,
		ID:                   obs.NewRequestID(),
		Type:                 typ,
		Source:               Name,
		Time:                 s.now(),
		RequestID:            obs.RequestID(ctx),
		Payload:              sealed,
		ExpectLastSubjectSeq: ifMatch,
	})
	if errors.Is(err, events.ErrWrongLastSequence) {
		return 0, apierr.New(apierr.PreconditionFail, "the profile changed since you read it; read it again and retry")
	}
	if err != nil {
		return 0, apierr.Wrap(err, apierr.Unavailable, "could not save; try again")
	}
	if err := s.store.waitVersion(ctx, id, ack.Sequence, 2*time.Second); err != nil {
		obs.Logger(ctx, s.p.Log).Warn().Err(err).Msg("projection lagging behind a write")
	}
	return ack.Sequence, nil
}

func (s *Service) putSeeker(ctx context.Context, r rpc.Request) (any, error) {
	var req PutSeekerRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	sk := req.Seeker
	sk.Normalize()
	sk.Version = 0
	if err := sk.Validate(); err != nil {
		return nil, err
	}
	v, err := s.record(ctx, sk.ID, events.TypeSeekerUpdated, profile.Change{Seeker: &sk}, req.IfMatch)
	if err != nil {
		return nil, err
	}
	sk.Version = v
	return sk, nil
}

func (s *Service) getSeeker(ctx context.Context, r rpc.Request) (any, error) {
	ref, err := decodeRef(r)
	if err != nil {
		return nil, err
	}
	return s.store.seeker(ctx, ref.ID)
}

// ContactRequest sets a seeker's contact details.
type ContactRequest struct {
	ID      string          `json:"id"`
	Contact profile.Contact `json:"contact"`
}

func (s *Service) putContact(ctx context.Context, r rpc.Request) (any, error) {
	var req ContactRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if err := (SeekerRef{ID: req.ID}).validate(); err != nil {
		return nil, err
	}
	if err := req.Contact.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.store.seeker(ctx, req.ID); err != nil {
		return nil, err
	}
	if _, err := s.record(ctx, req.ID, events.TypeSeekerContactUpdated, profile.Change{Contact: &req.Contact}, nil); err != nil {
		return nil, err
	}
	return req.Contact, nil
}

func (s *Service) getContact(ctx context.Context, r rpc.Request) (any, error) {
	ref, err := decodeRef(r)
	if err != nil {
		return nil, err
	}
	return s.contact(ctx, ref.ID)
}

func (s *Service) contact(ctx context.Context, id string) (profile.Contact, error) {
	var c profile.Contact
	sealed, ok, err := s.store.sealedContact(ctx, id)
	if err != nil {
		return c, err
	}
	if !ok {
		return c, apierr.New(apierr.NotFound, "seeker %s has no contact details", id)
	}
	var ch profile.Change
	if err := s.keys.Open(ctx, sealed, &ch); err != nil {
		if errors.Is(err, shred.ErrShredded) {
			return c, apierr.New(apierr.NotFound, "no seeker %s", id)
		}
		return c, openFailed(err)
	}
	if ch.Contact == nil {
		return c, apierr.New(apierr.NotFound, "seeker %s has no contact details", id)
	}
	return *ch.Contact, nil
}

// ConsentRequest grants or revokes an employer organisation's access to the
// seeker's contact details.
type ConsentRequest struct {
	ID       string `json:"id"`
	Employer string `json:"employer"`
	Granted  bool   `json:"granted"`
}

func (s *Service) consent(ctx context.Context, r rpc.Request) (any, error) {
	var req ConsentRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if err := (SeekerRef{ID: req.ID}).validate(); err != nil {
		return nil, err
	}
	if !profile.ValidID(req.Employer) {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "employer", Message: "an organisation id of 1 to 64 letters, digits, '-' or '_'"})
	}
	if _, err := s.store.seeker(ctx, req.ID); err != nil {
		return nil, err
	}
	typ := events.TypeSeekerConsentRevoked
	if req.Granted {
		typ = events.TypeSeekerConsentGranted
	}
	if _, err := s.record(ctx, req.ID, typ, profile.Change{Employer: req.Employer}, nil); err != nil {
		return nil, err
	}
	return s.store.relations(ctx, req.ID)
}

// CounselorLinkRequest links or unlinks a counselor and a seeker.
type CounselorLinkRequest struct {
	ID        string `json:"id"`
	Counselor string `json:"counselor"`
	Linked    bool   `json:"linked"`
}

func (s *Service) counselorLink(ctx context.Context, r rpc.Request) (any, error) {
	var req CounselorLinkRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if err := (SeekerRef{ID: req.ID}).validate(); err != nil {
		return nil, err
	}
	if !profile.ValidID(req.Counselor) {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "counselor", Message: "a counselor id of 1 to 64 letters, digits, '-' or '_'"})
	}
	if _, err := s.store.seeker(ctx, req.ID); err != nil {
		return nil, err
	}
	typ := events.TypeSeekerCounselorUnlinked
	if req.Linked {
		typ = events.TypeSeekerCounselorLinked
	}
	if _, err := s.record(ctx, req.ID, typ, profile.Change{Counselor: req.Counselor}, nil); err != nil {
		return nil, err
	}
	return s.store.relations(ctx, req.ID)
}

func (s *Service) relations(ctx context.Context, r rpc.Request) (any, error) {
	ref, err := decodeRef(r)
	if err != nil {
		return nil, err
	}
	return s.store.relations(ctx, ref.ID)
}

// Export is everything the profiles service holds about a seeker.
type Export struct {
	Seeker    profile.Seeker    `json:"seeker"`
	Contact   *profile.Contact  `json:"contact,omitempty"`
	Relations profile.Relations `json:"relations"`
	Notes     any               `json:"notes"`
}

func (s *Service) export(ctx context.Context, r rpc.Request) (any, error) {
	ref, err := decodeRef(r)
	if err != nil {
		return nil, err
	}
	sk, err := s.store.seeker(ctx, ref.ID)
	if err != nil {
		return nil, err
	}
	out := Export{Seeker: sk}
	if c, err := s.contact(ctx, ref.ID); err == nil {
		out.Contact = &c
	} else if apierr.CodeOf(err) != apierr.NotFound {
		return nil, err
	}
	if out.Relations, err = s.store.relations(ctx, ref.ID); err != nil {
		return nil, err
	}
	notes, err := s.notes(ctx, r)
	if err != nil {
		return nil, err
	}
	out.Notes = notes.(map[string]any)["notes"]
	return out, nil
}

// deleteSeeker records the deletion (an event that carries only the id),
// shreds the seeker's key so every earlier event about them becomes
// unreadable, and waits for the projection to drop them.
func (s *Service) deleteSeeker(ctx context.Context, r rpc.Request) (any, error) {
	ref, err := decodeRef(r)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.seeker(ctx, ref.ID); err != nil {
		return nil, err
	}
	ack, err := events.Publish(ctx, s.p.JS, events.Event{
		Subject:   events.SeekerSubjectPrefix + ref.ID,
		ID:        "delete:" + ref.ID,
		Type:      events.TypeSeekerDeleted,
		Source:    Name,
		Time:      s.now(),
		RequestID: obs.RequestID(ctx),
		Payload:   SeekerRef{ID: ref.ID},
	})
	if err != nil {
		return nil, apierr.Wrap(err, apierr.Unavailable, "could not delete; try again")
	}
	if err := s.keys.Shred(ctx, ref.ID); err != nil {
		// The projection shreds again when it applies the event.
		obs.Logger(ctx, s.p.Log).Error().Err(err).Msg("shred after delete")
	}
	if err := s.store.waitVersion(ctx, ref.ID, ack.Sequence, 2*time.Second); err != nil {
		obs.Logger(ctx, s.p.Log).Warn().Err(err).Msg("projection lagging behind a delete")
	}
	return map[string]any{"id": ref.ID, "deleted": true}, nil
}

// CaseloadRequest names a counselor.
type CaseloadRequest struct {
	Counselor string `json:"counselor"`
}

func (s *Service) caseload(ctx context.Context, r rpc.Request) (any, error) {
	var req CaseloadRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if !profile.ValidID(req.Counselor) {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "counselor", Message: "a counselor id of 1 to 64 letters, digits, '-' or '_'"})
	}
	ids, err := s.store.caseload(ctx, req.Counselor)
	if err != nil {
		return nil, err
	}
	return map[string]any{"counselor": req.Counselor, "seekers": ids}, nil
}

// EmployerPutRequest creates or replaces an employer organisation.
type EmployerPutRequest struct {
	Employer profile.Employer `json:"employer"`
}

func (s *Service) putEmployer(ctx context.Context, r rpc.Request) (any, error) {
	var req EmployerPutRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	e := req.Employer
	e.Version = 0
	if err := e.Validate(); err != nil {
		return nil, err
	}
	ack, err := events.Publish(ctx, s.p.JS, events.Event{
		Subject: events.EmployerSubjectPrefix + e.Org, ID: obs.NewRequestID(), Type: events.TypeEmployerUpdated,
		Source: Name, Time: s.now(), RequestID: obs.RequestID(ctx), Payload: e,
	})
	if err != nil {
		return nil, apierr.Wrap(err, apierr.Unavailable, "could not save; try again")
	}
	e.Version = ack.Sequence
	if err := s.store.waitEmployerVersion(ctx, e.Org, ack.Sequence, 2*time.Second); err != nil {
		obs.Logger(ctx, s.p.Log).Warn().Err(err).Msg("projection lagging behind a write")
	}
	return e, nil
}

func (s *Service) getEmployer(ctx context.Context, r rpc.Request) (any, error) {
	var req struct {
		Org string `json:"org"`
	}
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if !profile.ValidID(req.Org) {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "org", Message: "1 to 64 letters, digits, '-' or '_'"})
	}
	return s.store.employer(ctx, req.Org)
}

// NoteRequest adds a counselor's note about a seeker.
type NoteRequest struct {
	ID   string       `json:"id"`
	Note profile.Note `json:"note"`
}

func (s *Service) addNote(ctx context.Context, r rpc.Request) (any, error) {
	var req NoteRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if err := (SeekerRef{ID: req.ID}).validate(); err != nil {
		return nil, err
	}
	n := req.Note
	if err := n.Validate(); err != nil {
		return nil, err
	}
	if !profile.ValidID(n.Author) {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "author", Message: "the counselor's id (the gateway sets it from the token)"})
	}
	if _, err := s.store.seeker(ctx, req.ID); err != nil {
		return nil, err
	}
	n.At = s.now().UTC().Format(time.RFC3339)
	if _, err := s.record(ctx, req.ID, events.TypeSeekerNoteAdded, profile.Change{Note: &n}, nil); err != nil {
		return nil, err
	}
	return n, nil
}

// notes returns the notes about a seeker, oldest first.
func (s *Service) notes(ctx context.Context, r rpc.Request) (any, error) {
	ref, err := decodeRef(r)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.seeker(ctx, ref.ID); err != nil {
		return nil, err
	}
	sealed, err := s.store.sealedNotes(ctx, ref.ID)
	if err != nil {
		return nil, err
	}
	out := []profile.Note{}
	for _, sl := range sealed {
		var ch profile.Change
		if err := s.keys.Open(ctx, sl, &ch); err != nil {
			if errors.Is(err, shred.ErrShredded) {
				return nil, apierr.New(apierr.NotFound, "no seeker %s", ref.ID)
			}
			return nil, openFailed(err)
		}
		if ch.Note != nil {
			out = append(out, *ch.Note)
		}
	}
	return map[string]any{"id": ref.ID, "notes": out}, nil
}

// openFailed maps a keyring error other than "shredded" for the caller: a
// key not seen yet is worth a retry (503), unreadable data is our fault.
func openFailed(err error) error {
	if errors.Is(err, shred.ErrUnreadable) {
		return apierr.Wrap(err, apierr.Internal, "internal error")
	}
	return apierr.Wrap(err, apierr.Unavailable, "the profile could not be read just now; try again")
}
