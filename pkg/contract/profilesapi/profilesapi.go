// Package profilesapi is the contract of the profiles service: its request/reply
// endpoints and its events (see pkg/contract).
package profilesapi

import (
	"encoding/json"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// SeekerRef names a seeker.
type SeekerRef struct {
	ID string `json:"id"`
}

// PutSeekerRequest creates or replaces a seeker's matching attributes.
// IfMatch, when set, is the profile version the caller last read: the write
// fails with precondition_failed when the profile changed since.
type PutSeekerRequest struct {
	Seeker  profile.Seeker `json:"seeker"`
	IfMatch *uint64        `json:"if_match,omitempty"`
}

// PatchSeekerRequest changes part of a seeker's matching attributes: Patch
// is a JSON Merge Patch (RFC 7396) applied to the stored profile, and the
// result is validated as a PUT of the whole document would be. IfMatch is
// as for PutSeekerRequest.
type PatchSeekerRequest struct {
	ID      string          `json:"id"`
	Patch   json.RawMessage `json:"patch"`
	IfMatch *uint64         `json:"if_match,omitempty"`
}

// SeekerWrite is the stored seeker after a PUT or PATCH, with warnings
// about what was accepted but could not be fully checked (a ZIP code while
// the ZIP centroids are not loaded).
type SeekerWrite struct {
	profile.Seeker
	Warnings []apierr.FieldError `json:"warnings,omitempty"`
}

// ContactRequest sets a seeker's contact details.
type ContactRequest struct {
	ID      string          `json:"id"`
	Contact profile.Contact `json:"contact"`
}

// ConsentRequest grants or revokes an employer organisation's access to the
// seeker's contact details.
type ConsentRequest struct {
	ID       string `json:"id"`
	Employer string `json:"employer"`
	Granted  bool   `json:"granted"`
}

// CounselorLinkRequest links or unlinks a counselor and a seeker.
type CounselorLinkRequest struct {
	ID        string `json:"id"`
	Counselor string `json:"counselor"`
	Linked    bool   `json:"linked"`
}

// NoteRequest adds a counselor's note about a seeker; the note's author is
// the counselor (the gateway sets it from the token).
type NoteRequest struct {
	ID   string       `json:"id"`
	Note profile.Note `json:"note"`
}

// Notes are the counselors' notes about a seeker, oldest first.
type Notes struct {
	ID    string         `json:"id"`
	Notes []profile.Note `json:"notes"`
}

// Export is everything the profiles service holds about a seeker.
type Export struct {
	Seeker    profile.Seeker    `json:"seeker"`
	Contact   *profile.Contact  `json:"contact,omitempty"`
	Relations profile.Relations `json:"relations"`
	Notes     []profile.Note    `json:"notes"`
}

// Deleted confirms a seeker's deletion.
type Deleted struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

// PseudonymsRequest names seekers by id.
type PseudonymsRequest struct {
	IDs []string `json:"ids"`
}

// Pseudonyms are the seekers' pseudonyms (pkg/shred), in the order of the
// request's ids: the names their events carry (audit.seeker.<pseudonym>).
type Pseudonyms struct {
	Pseudonyms []string `json:"pseudonyms"`
}

// RelationsRequest names seekers by id (at most MaxRelationsIDs).
type RelationsRequest struct {
	IDs []string `json:"ids"`
}

// MaxRelationsIDs is the most seekers one relations-batch request names.
const MaxRelationsIDs = 1000

// RelationsBatchReply holds the seekers' relations in the order of the
// request's ids; a seeker profiles does not know has exists false.
type RelationsBatchReply struct {
	Relations []profile.Relations `json:"relations"`
}

// CaseloadRequest names a counselor.
type CaseloadRequest struct {
	Counselor string `json:"counselor"`
}

// Caseload is the seekers linked to a counselor, sorted.
type Caseload struct {
	Counselor string   `json:"counselor"`
	Seekers   []string `json:"seekers"`
}

// EmployerPutRequest creates or replaces an employer organisation.
type EmployerPutRequest struct {
	Employer profile.Employer `json:"employer"`
}

// EmployerRef names an employer organisation.
type EmployerRef struct {
	Org string `json:"org"`
}

// Endpoints of the profiles service.
var (
	SeekerPut = rpc.Endpoint[PutSeekerRequest, SeekerWrite]{Name: "seeker-put", Subject: "svc.profiles.seeker.put",
		Doc: "Create or replace a seeker's matching attributes; if_match is the version last read."}
	SeekerPatch = rpc.Endpoint[PatchSeekerRequest, SeekerWrite]{Name: "seeker-patch", Subject: "svc.profiles.seeker.patch",
		Doc: "Apply a JSON Merge Patch (RFC 7396) to a seeker's attributes, atomically against the current version."}
	SeekerGet = rpc.Endpoint[SeekerRef, profile.Seeker]{Name: "seeker-get", Subject: "svc.profiles.seeker.get",
		Doc: "A seeker's matching attributes with their version."}
	ContactPut = rpc.Endpoint[ContactRequest, profile.Contact]{Name: "contact-put", Subject: "svc.profiles.seeker.contact.put",
		Doc: "Set a seeker's contact details (sealed with the seeker's key)."}
	ContactGet = rpc.Endpoint[SeekerRef, profile.Contact]{Name: "contact-get", Subject: "svc.profiles.seeker.contact.get",
		Doc: "A seeker's contact details."}
	Consent = rpc.Endpoint[ConsentRequest, profile.Relations]{Name: "consent", Subject: "svc.profiles.seeker.consent",
		Doc: "Grant or revoke an employer organisation's access to a seeker's contact details."}
	CounselorLink = rpc.Endpoint[CounselorLinkRequest, profile.Relations]{Name: "counselor-link", Subject: "svc.profiles.seeker.counselor",
		Doc: "Link or unlink a counselor and a seeker."}
	Relations = rpc.Endpoint[SeekerRef, profile.Relations]{Name: "relations", Subject: "svc.profiles.seeker.relations",
		Doc: "Whether a seeker exists, their consent and linked counselors: the gateway's authorization input."}
	RelationsBatch = rpc.Endpoint[RelationsRequest, RelationsBatchReply]{Name: "relations-batch", Subject: "svc.profiles.seeker.relations.batch",
		Doc: "The relations of up to 1,000 seekers in one request, in the order asked (an unknown seeker's exists is false): " +
			"notifications asks it for every seeker of a batch of announcements."}
	NoteAdd = rpc.Endpoint[NoteRequest, profile.Note]{Name: "note-add", Subject: "svc.profiles.seeker.note.add",
		Doc: "Add a counselor's note about a seeker."}
	NotesGet = rpc.Endpoint[SeekerRef, Notes]{Name: "notes", Subject: "svc.profiles.seeker.notes",
		Doc: "The counselors' notes about a seeker, oldest first."}
	ExportGet = rpc.Endpoint[SeekerRef, Export]{Name: "export", Subject: "svc.profiles.seeker.export",
		Doc: "Everything the profiles service holds about a seeker."}
	Delete = rpc.Endpoint[SeekerRef, Deleted]{Name: "delete", Subject: "svc.profiles.seeker.delete",
		Doc: "Delete a seeker: record the deletion and shred their key."}
	PseudonymsGet = rpc.Endpoint[PseudonymsRequest, Pseudonyms]{Name: "pseudonyms", Subject: "svc.profiles.seeker.pseudonyms",
		Doc: "The pseudonyms of seekers (at most 1,000 ids): the gateway's access records go on audit.seeker.<pseudonym>."}
	CaseloadGet = rpc.Endpoint[CaseloadRequest, Caseload]{Name: "caseload", Subject: "svc.profiles.counselor.caseload",
		Doc: "The seekers linked to a counselor."}
	EmployerPut = rpc.Endpoint[EmployerPutRequest, profile.Employer]{Name: "employer-put", Subject: "svc.profiles.employer.put",
		Doc: "Create or replace an employer organisation and its members."}
	EmployerGet = rpc.Endpoint[EmployerRef, profile.Employer]{Name: "employer-get", Subject: "svc.profiles.employer.get",
		Doc: "An employer organisation."}
	// Rebuild and RebuildStatus take an empty body (`clerkpath rebuild
	// profiles` asks them); rebuild starts a build of a new projection
	// generation unless one is running.
	Rebuild = rpc.Endpoint[rpc.Raw, projection.Status]{Name: "rebuild", Subject: "svc.profiles.rebuild",
		Doc: "Start a rebuild of the profiles projection unless one runs; reply with its status."}
	RebuildStatus = rpc.Endpoint[rpc.Raw, projection.Status]{Name: "rebuild-status", Subject: "svc.profiles.rebuild.status",
		Doc: "The status of the profiles projection's last rebuild."}
)

// Events of the profiles service. Every event about a seeker is on the
// seeker's own subject (so the subject's sequence guards concurrent
// writes); its ce-type says what changed (events.TypeSeeker*).
var (
	SeekerChanged = events.Topic[profile.Change]{Subject: events.SeekerSubjectPrefix, Keyed: true, Stream: events.StreamProfiles, Sealed: true,
		Doc: "A change to a seeker (ce-type profiles.seeker.updated, contact_updated, consent_granted, consent_revoked, " +
			"counselor_linked, counselor_unlinked, note_added), sealed with the seeker's key, on profiles.seeker.<pseudonym>; " +
			"profiles.seeker.deleted carries {\"id\": <pseudonym>} in the clear. Events written before pseudonyms are on profiles.seeker.<id>."}
	EmployerChanged = events.Topic[profile.Employer]{Subject: events.EmployerSubjectPrefix, Keyed: true, Stream: events.StreamProfiles,
		Type: events.TypeEmployerUpdated, Doc: "An employer organisation was created or replaced."}
)

// Endpoints lists every endpoint this package declares.
func Endpoints() []rpc.Spec {
	return []rpc.Spec{
		SeekerPut.Spec(), SeekerPatch.Spec(), SeekerGet.Spec(), ContactPut.Spec(), ContactGet.Spec(),
		Consent.Spec(), CounselorLink.Spec(), Relations.Spec(), RelationsBatch.Spec(), NoteAdd.Spec(), NotesGet.Spec(),
		ExportGet.Spec(), Delete.Spec(), PseudonymsGet.Spec(), CaseloadGet.Spec(), EmployerPut.Spec(), EmployerGet.Spec(),
		Rebuild.Spec(), RebuildStatus.Spec(),
	}
}

// Topics lists every event topic this package declares.
func Topics() []events.TopicSpec {
	return []events.TopicSpec{SeekerChanged.Spec(), EmployerChanged.Spec()}
}
