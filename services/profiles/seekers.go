package profiles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

func validRef(id string) error {
	if !profile.ValidID(id) {
		return apierr.InvalidFields(apierr.FieldError{Field: "id", Message: "1 to 64 letters, digits, '-' or '_'"})
	}
	return nil
}

// validSeeker normalises sk and checks it as stored, its postal code
// against the ZIP centroids when they are loaded.
func (s *Service) validSeeker(sk *profile.Seeker) ([]apierr.FieldError, error) {
	sk.Normalize()
	sk.Version = 0
	var known func(string) bool
	if z := s.opts.ZIPs; z != nil {
		known = func(zip string) bool { _, ok := z.Lookup(zip); return ok }
	}
	return sk.ValidateWithZIPs(known)
}

func (s *Service) putSeeker(ctx context.Context, req profilesapi.PutSeekerRequest) (profilesapi.SeekerWrite, error) {
	out := profilesapi.SeekerWrite{Seeker: req.Seeker}
	warnings, err := s.validSeeker(&out.Seeker)
	if err != nil {
		return out, err
	}
	out.Warnings = warnings
	v, err := s.write(ctx, out.ID, req.IfMatch, func(head) (change, error) {
		return change{events.TypeSeekerUpdated, profile.Change{Seeker: &out.Seeker}}, nil
	})
	out.Version = v
	return out, err
}

// patchSeeker merges the patch into the stored attributes and stores the
// result as a PUT of it would be, against the version it merged into.
func (s *Service) patchSeeker(ctx context.Context, req profilesapi.PatchSeekerRequest) (profilesapi.SeekerWrite, error) {
	var out profilesapi.SeekerWrite
	if err := validRef(req.ID); err != nil {
		return out, err
	}
	if err := checkMergePatch(req.Patch); err != nil {
		return out, err
	}
	v, err := s.write(ctx, req.ID, req.IfMatch, func(cur head) (change, error) {
		if cur.Doc == "" {
			return change{}, apierr.New(apierr.NotFound, "no seeker %s", req.ID)
		}
		sk, err := mergeSeeker([]byte(cur.Doc), req.Patch)
		if err != nil {
			return change{}, err
		}
		if sk.ID != req.ID {
			return change{}, apierr.InvalidFields(apierr.FieldError{Field: "id", Message: "differs from the id in the path; a profile's id cannot change"})
		}
		out = profilesapi.SeekerWrite{Seeker: sk}
		if out.Warnings, err = s.validSeeker(&out.Seeker); err != nil {
			return change{}, err
		}
		return change{events.TypeSeekerUpdated, profile.Change{Seeker: &out.Seeker}}, nil
	})
	out.Version = v
	return out, err
}

func (s *Service) getSeeker(ctx context.Context, ref profilesapi.SeekerRef) (profile.Seeker, error) {
	if err := validRef(ref.ID); err != nil {
		return profile.Seeker{}, err
	}
	sk, err := s.store.seeker(ctx, ref.ID)
	if apierr.CodeOf(err) != apierr.NotFound {
		return sk, err
	}
	// A write acknowledged to its caller may not be applied yet: the
	// projection lags under load, and a write answers after waiting for it
	// only projectionWait. A seeker the stream has events for is waited for
	// until the last one is applied (as their record or their deletion), not
	// denied: other services check seekers here right after a write
	// (credentials refused credentials of a profile saved a moment before).
	last, lerr := s.lastSeq(ctx, ref.ID)
	if lerr != nil || last == 0 {
		return sk, err
	}
	if werr := s.store.waitSeekerOrGone(ctx, ref.ID, s.keys.Pseudonym(ref.ID), last, projectionWait); werr != nil {
		return sk, err
	}
	return s.store.seeker(ctx, ref.ID)
}

// recordAbout records a change about an existing seeker (contact details,
// consent, counselor links, notes).
func (s *Service) recordAbout(ctx context.Context, id string, ch change) error {
	_, err := s.write(ctx, id, nil, func(cur head) (change, error) {
		if cur.Doc == "" {
			return change{}, apierr.New(apierr.NotFound, "no seeker %s", id)
		}
		return ch, nil
	})
	return err
}

func (s *Service) putContact(ctx context.Context, req profilesapi.ContactRequest) (profile.Contact, error) {
	if err := validRef(req.ID); err != nil {
		return req.Contact, err
	}
	if err := req.Contact.Validate(); err != nil {
		return req.Contact, err
	}
	err := s.recordAbout(ctx, req.ID, change{events.TypeSeekerContactUpdated, profile.Change{Contact: &req.Contact}})
	return req.Contact, err
}

func (s *Service) getContact(ctx context.Context, ref profilesapi.SeekerRef) (profile.Contact, error) {
	if err := validRef(ref.ID); err != nil {
		return profile.Contact{}, err
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

func (s *Service) consent(ctx context.Context, req profilesapi.ConsentRequest) (profile.Relations, error) {
	if err := validRef(req.ID); err != nil {
		return profile.Relations{}, err
	}
	if !profile.ValidID(req.Employer) {
		return profile.Relations{}, apierr.InvalidFields(apierr.FieldError{Field: "employer", Message: "an organisation id of 1 to 64 letters, digits, '-' or '_'"})
	}
	typ := events.TypeSeekerConsentRevoked
	if req.Granted {
		typ = events.TypeSeekerConsentGranted
	}
	if err := s.recordAbout(ctx, req.ID, change{typ, profile.Change{Employer: req.Employer}}); err != nil {
		return profile.Relations{}, err
	}
	return s.store.relations(ctx, req.ID)
}

func (s *Service) counselorLink(ctx context.Context, req profilesapi.CounselorLinkRequest) (profile.Relations, error) {
	if err := validRef(req.ID); err != nil {
		return profile.Relations{}, err
	}
	if !profile.ValidID(req.Counselor) {
		return profile.Relations{}, apierr.InvalidFields(apierr.FieldError{Field: "counselor", Message: "a counselor id of 1 to 64 letters, digits, '-' or '_'"})
	}
	typ := events.TypeSeekerCounselorUnlinked
	if req.Linked {
		typ = events.TypeSeekerCounselorLinked
	}
	if err := s.recordAbout(ctx, req.ID, change{typ, profile.Change{Counselor: req.Counselor}}); err != nil {
		return profile.Relations{}, err
	}
	return s.store.relations(ctx, req.ID)
}

func (s *Service) relations(ctx context.Context, ref profilesapi.SeekerRef) (profile.Relations, error) {
	if err := validRef(ref.ID); err != nil {
		return profile.Relations{}, err
	}
	return s.store.relations(ctx, ref.ID)
}

// relationsBatch answers the relations of many seekers at once, in the
// order asked; every id is checked before anything is read.
func (s *Service) relationsBatch(ctx context.Context, req profilesapi.RelationsRequest) (profilesapi.RelationsBatchReply, error) {
	var fs apierr.Fields
	if len(req.IDs) > profilesapi.MaxRelationsIDs {
		fs.Add("ids", "at most %d", profilesapi.MaxRelationsIDs)
	} else {
		for i, id := range req.IDs {
			if !profile.ValidID(id) {
				fs.Add(fmt.Sprintf("ids[%d]", i), "1 to 64 letters, digits, '-' or '_'")
			}
		}
	}
	if err := fs.Err(); err != nil {
		return profilesapi.RelationsBatchReply{}, err
	}
	rels, err := s.store.relationsMany(ctx, req.IDs)
	return profilesapi.RelationsBatchReply{Relations: rels}, err
}

func (s *Service) export(ctx context.Context, ref profilesapi.SeekerRef) (profilesapi.Export, error) {
	var out profilesapi.Export
	notes, err := s.notes(ctx, ref) // checks the id and that the seeker exists
	if err != nil {
		return out, err
	}
	out.Notes = notes.Notes
	if out.Seeker, err = s.store.seeker(ctx, ref.ID); err != nil {
		return out, err
	}
	if c, err := s.contact(ctx, ref.ID); err == nil {
		out.Contact = &c
	} else if apierr.CodeOf(err) != apierr.NotFound {
		return out, err
	}
	out.Relations, err = s.store.relations(ctx, ref.ID)
	return out, err
}

// deleteSeeker records the deletion (an event that names only the
// pseudonym, on its subject), shreds the seeker's keys so every earlier
// event about them becomes unreadable, erases what their legacy subjects
// hold, and waits for the projection to drop them.
func (s *Service) deleteSeeker(ctx context.Context, ref profilesapi.SeekerRef) (profilesapi.Deleted, error) {
	if err := validRef(ref.ID); err != nil {
		return profilesapi.Deleted{}, err
	}
	if _, err := s.store.seeker(ctx, ref.ID); err != nil {
		return profilesapi.Deleted{}, err
	}
	p := s.keys.Pseudonym(ref.ID)
	ack, err := events.Publish(ctx, s.js, events.Event{
		Subject:   profilesapi.SeekerChanged.SubjectFor(p),
		ID:        "delete:" + p,
		Type:      events.TypeSeekerDeleted,
		Source:    Name,
		Time:      s.opts.Now(),
		RequestID: obs.RequestID(ctx),
		Payload:   profilesapi.SeekerRef{ID: p},
	})
	if err != nil {
		return profilesapi.Deleted{}, apierr.Wrap(err, apierr.Unavailable, "could not delete; try again")
	}
	// The projection shreds and erases again when it applies the event.
	if err := s.keys.Shred(ctx, ref.ID); err != nil {
		obs.Logger(ctx, s.log).Error().Err(err).Msg("shred after delete")
	} else if err := s.eraseLegacy(ctx, ref.ID, 0); err != nil {
		obs.Logger(ctx, s.log).Error().Err(err).Msg("erase legacy subjects after delete")
	}
	if err := s.store.waitGone(ctx, p, ack.Sequence, projectionWait); err != nil {
		obs.Logger(ctx, s.log).Warn().Err(err).Msg("projection lagging behind a delete")
	}
	return profilesapi.Deleted{ID: ref.ID, Deleted: true}, nil
}

// maxPseudonyms bounds a pseudonyms request (a caseload or a candidates
// page names at most this many seekers).
const maxPseudonyms = 1000

func (s *Service) pseudonyms(_ context.Context, req profilesapi.PseudonymsRequest) (profilesapi.Pseudonyms, error) {
	out := profilesapi.Pseudonyms{Pseudonyms: make([]string, 0, len(req.IDs))}
	if len(req.IDs) > maxPseudonyms {
		return out, apierr.InvalidFields(apierr.FieldError{Field: "ids", Message: "at most 1000"})
	}
	for _, id := range req.IDs {
		if err := validRef(id); err != nil {
			return out, err
		}
		out.Pseudonyms = append(out.Pseudonyms, s.keys.Pseudonym(id))
	}
	return out, nil
}

func (s *Service) caseload(ctx context.Context, req profilesapi.CaseloadRequest) (profilesapi.Caseload, error) {
	if !profile.ValidID(req.Counselor) {
		return profilesapi.Caseload{}, apierr.InvalidFields(apierr.FieldError{Field: "counselor", Message: "a counselor id of 1 to 64 letters, digits, '-' or '_'"})
	}
	ids, err := s.store.caseload(ctx, req.Counselor)
	return profilesapi.Caseload{Counselor: req.Counselor, Seekers: ids}, err
}

func (s *Service) putEmployer(ctx context.Context, req profilesapi.EmployerPutRequest) (profile.Employer, error) {
	e := req.Employer
	e.Version = 0
	if err := e.Validate(); err != nil {
		return e, err
	}
	ev := profilesapi.EmployerChanged.New(e.Org, e)
	ev.ID, ev.Source, ev.Time, ev.RequestID = obs.NewRequestID(), Name, s.opts.Now(), obs.RequestID(ctx)
	ack, err := events.Publish(ctx, s.js, ev)
	if err != nil {
		return e, apierr.Wrap(err, apierr.Unavailable, "could not save; try again")
	}
	e.Version = ack.Sequence
	if err := s.store.waitEmployer(ctx, e.Org, ack.Sequence, projectionWait); err != nil {
		obs.Logger(ctx, s.log).Warn().Err(err).Msg("projection lagging behind a write")
	}
	return e, nil
}

func (s *Service) getEmployer(ctx context.Context, req profilesapi.EmployerRef) (profile.Employer, error) {
	if !profile.ValidID(req.Org) {
		return profile.Employer{}, apierr.InvalidFields(apierr.FieldError{Field: "org", Message: "1 to 64 letters, digits, '-' or '_'"})
	}
	return s.store.employer(ctx, req.Org)
}

func (s *Service) addNote(ctx context.Context, req profilesapi.NoteRequest) (profile.Note, error) {
	if err := validRef(req.ID); err != nil {
		return req.Note, err
	}
	n := req.Note
	if err := n.Validate(); err != nil {
		return n, err
	}
	if !profile.ValidID(n.Author) {
		return n, apierr.InvalidFields(apierr.FieldError{Field: "author", Message: "the counselor's id (the gateway sets it from the token)"})
	}
	n.At = s.opts.Now().UTC().Format(time.RFC3339)
	err := s.recordAbout(ctx, req.ID, change{events.TypeSeekerNoteAdded, profile.Change{Note: &n}})
	return n, err
}

// notes returns the notes about a seeker, oldest first.
func (s *Service) notes(ctx context.Context, ref profilesapi.SeekerRef) (profilesapi.Notes, error) {
	out := profilesapi.Notes{ID: ref.ID, Notes: []profile.Note{}}
	if err := validRef(ref.ID); err != nil {
		return out, err
	}
	if _, err := s.store.seeker(ctx, ref.ID); err != nil {
		return out, err
	}
	sealed, err := s.store.sealedNotes(ctx, ref.ID)
	if err != nil {
		return out, err
	}
	for _, sl := range sealed {
		var ch profile.Change
		if err := s.keys.Open(ctx, sl, &ch); err != nil {
			if errors.Is(err, shred.ErrShredded) {
				return out, apierr.New(apierr.NotFound, "no seeker %s", ref.ID)
			}
			return out, openFailed(err)
		}
		if ch.Note != nil {
			out.Notes = append(out.Notes, *ch.Note)
		}
	}
	return out, nil
}

// openFailed maps a keyring error other than "shredded" for the caller: a
// key not seen yet is worth a retry (503), unreadable data is our fault.
func openFailed(err error) error {
	if errors.Is(err, shred.ErrUnreadable) {
		return apierr.Wrap(err, apierr.Internal, "internal error")
	}
	return apierr.Wrap(err, apierr.Unavailable, "the profile could not be read just now; try again")
}
