// Package gatewayapi is the contract of the gateway service: its request/reply
// endpoints and its events (see pkg/contract).
package gatewayapi

import (
	"time"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// AccessRecord is one read of a seeker's data by someone else.
type AccessRecord struct {
	Actor     string    `json:"actor"`
	Role      auth.Role `json:"role"`
	Org       string    `json:"org,omitempty"`
	Action    string    `json:"action"`
	At        time.Time `json:"at"`
	RequestID string    `json:"request_id,omitempty"`
}

// Access-record actions: what part of the seeker's data was read.
const (
	ActionProfile     = "profile"
	ActionContact     = "contact"
	ActionMatches     = "matches"
	ActionNotes       = "notes"
	ActionPlan        = "plan"
	ActionCredentials = "credentials"
	ActionCaseload    = "caseload"
	ActionCandidate   = "candidate"
	ActionRelations   = "relations" // the seeker's counselor links, as a counselor's unlink answers them
)

// SeekerRead is the seeker's access log: one record per read of the
// seeker's data by anyone but the seeker, keyed by the seeker's pseudonym
// (pkg/shred; records written before pseudonyms are keyed by the id).
var SeekerRead = events.Topic[AccessRecord]{
	Subject: events.AuditSeekerPrefix,
	Keyed:   true,
	Type:    events.TypeAuditSeekerRead,
	Stream:  events.StreamAudit,
	Doc: "a read of the seeker's profile, contact, plan, credentials, matches, notes, caseload entry " +
		"or candidate entry by someone else, written before the data is served, on audit.seeker.<pseudonym>; purged when the seeker is deleted",
}

// Endpoints lists every endpoint this package declares.
func Endpoints() []rpc.Spec {
	return []rpc.Spec{}
}

// Topics lists every event topic this package declares.
func Topics() []events.TopicSpec {
	return []events.TopicSpec{SeekerRead.Spec()}
}
