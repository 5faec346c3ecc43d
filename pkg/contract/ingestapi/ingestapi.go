// Package ingestapi is the contract of the ingest service: its request/reply
// endpoints and its events (see pkg/contract).
package ingestapi

import (
	"encoding/json"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Endpoints of the ingest service.
//
// Submit moved from "jobs.submit" to the svc. namespace. The old subject is
// not served any more: only the gateway and the operator's `clerkpath
// ingest`/`seed` ever published it (accounts.conf gives no other NATS user
// that right; integrators use the HTTP API), and both move with this
// release.
var (
	Submit = rpc.Endpoint[rpc.Raw, Result]{Name: "submit", Subject: "svc.ingest.submit",
		Doc: "Submits postings in any accepted format (JSON, NDJSON, CSV, schema.org JobPosting JSON-LD); headers Content-Type, " +
			HeaderEmployerOrg + " (required), " + HeaderMode + " (single or bulk), " + HeaderColumns + " (CSV mapping as JSON), " +
			HeaderSync + " (true: close the organisation's open postings missing from the feed). Good records are accepted once JetStream stored them; bad ones come back with their reasons."}
	Postings = rpc.Endpoint[ListRequest, PostingList]{Name: "postings", Subject: "svc.ingest.postings",
		Doc: "An organisation's postings, newest first, with status (open, closed, stale), reason, age and duplicate-cluster size; cursor paging."}
	Patch = rpc.Endpoint[PatchRequest, PostingSummary]{Name: "patch", Subject: "svc.ingest.patch",
		Doc: "Applies a JSON Merge Patch (RFC 7396) to an open posting's submitted fields (when If-Match is given, only if it names the current version), validates the result as a new posting and publishes jobs.updated."}
	Close = rpc.Endpoint[CloseRequest, PostingSummary]{Name: "close", Subject: "svc.ingest.close",
		Doc: "Closes an open posting of the caller's organisation with a reason (filled, withdrawn, on_hold) and publishes jobs.closed; closing a closed posting answers its state."}
	Reopen = rpc.Endpoint[ReopenRequest, PostingSummary]{Name: "reopen", Subject: "svc.ingest.reopen",
		Doc: "Reopens a posting closed as withdrawn or on_hold (validated again as a new posting) and publishes jobs.posted."}
)

// Events of the ingest service, all in the JOBS stream.
var (
	Posted = events.Topic[JobEvent]{Subject: events.JobsPosted, Stream: events.StreamJobs,
		Doc: "A new posting (or one posted again after it closed): the normalised posting with its requirements, owner and duplicate cluster; message id <posting id>:<fingerprint>[:<reopen count>]."}
	Updated = events.Topic[JobEvent]{Subject: events.JobsUpdated, Stream: events.StreamJobs,
		Doc: "A new version of an open posting (same id, changed content), from a resubmission or a PATCH."}
	Closed = events.Topic[Closure]{Subject: events.JobsClosed, Stream: events.StreamJobs,
		Doc: "A posting closed, with the reason: expired, filled, withdrawn, on_hold or removed_from_feed. It leaves search and every match list."}
	Stale = events.Topic[Closure]{Subject: events.JobsStale, Stream: events.StreamJobs,
		Doc: "A posting not received again for CLERKPATH_STALE_AFTER_DAYS (reason stale); treated like a close."}
	Rejected = events.Topic[Rejection]{Subject: events.JobsRejected, Stream: events.StreamJobs,
		Doc: "A submitted record was refused: where and why, never the record's content."}
)

// Endpoints lists every endpoint this package declares.
func Endpoints() []rpc.Spec {
	return []rpc.Spec{Submit.Spec(), Postings.Spec(), Patch.Spec(), Close.Spec(), Reopen.Spec()}
}

// Topics lists every event topic this package declares.
func Topics() []events.TopicSpec {
	return []events.TopicSpec{Posted.Spec(), Updated.Spec(), Closed.Spec(), Stale.Spec(), Rejected.Spec()}
}

// Request headers of Submit.
const (
	// HeaderEmployerOrg names the organisation that submits (required); the
	// gateway sets it from the caller's token, never from the body.
	HeaderEmployerOrg = "Clerkpath-Employer-Org"
	// HeaderMode is "single" (exactly one posting) or "bulk" (default).
	HeaderMode = "Clerkpath-Mode"
	// HeaderColumns maps CSV headers to ours, as JSON: {"Job Title":"title"}.
	HeaderColumns = "Clerkpath-Columns"
	// HeaderSync "true" makes a bulk submission the organisation's whole
	// feed: its open postings missing from it are closed as
	// removed_from_feed (an ATS export re-sync).
	HeaderSync = "Clerkpath-Sync"
)

// Posting statuses.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
	StatusStale  = "stale"
)

// Reasons a posting closes.
const (
	ReasonExpired         = "expired"           // its validThrough passed
	ReasonStale           = "stale"             // not received again for the stale period
	ReasonFilled          = "filled"            // the employer filled it
	ReasonWithdrawn       = "withdrawn"         // the employer withdrew it
	ReasonOnHold          = "on_hold"           // the employer paused it
	ReasonRemovedFromFeed = "removed_from_feed" // missing from a sync=true feed
)

// CloseReasons are the reasons an employer may give.
var CloseReasons = []string{ReasonFilled, ReasonWithdrawn, ReasonOnHold}

// JobEvent is the payload of jobs.posted and jobs.updated.
type JobEvent struct {
	posting.Posting
	EmployerID string `json:"employer_id"`
	// ClusterID groups near-duplicates (the same job re-posted with small
	// edits, or by an agency): the id of the first posting of the cluster.
	ClusterID string `json:"cluster_id"`
}

// Closure is the payload of jobs.closed and jobs.stale.
type Closure struct {
	ID         string `json:"id"`
	Reason     string `json:"reason"`
	EmployerID string `json:"employer_id,omitempty"` // absent from events written before issue 13
}

// Rejection is the payload of jobs.rejected: where and why, never the
// record's content.
type Rejection struct {
	EmployerID string              `json:"employer_id"`
	Index      int                 `json:"index"`
	Line       int                 `json:"line,omitempty"`
	Errors     []apierr.FieldError `json:"errors"`
	RequestID  string              `json:"request_id,omitempty"`
}

// Outcome of one accepted record.
type Outcome struct {
	Index     int    `json:"index"`
	ID        string `json:"id"`
	Status    string `json:"status"` // posted, updated, duplicate
	Sequence  uint64 `json:"sequence,omitempty"`
	ClusterID string `json:"cluster_id"`
	// Warnings are accepted fields that could not be checked (a ZIP code
	// while the centroids are not loaded).
	Warnings []apierr.FieldError `json:"warnings,omitempty"`
}

// RejectedRecord is a refused record with its reasons.
type RejectedRecord struct {
	Index  int                 `json:"index"`
	Line   int                 `json:"line,omitempty"`
	Errors []apierr.FieldError `json:"errors"`
}

// Result of a submission.
type Result struct {
	Accepted []Outcome        `json:"accepted"`
	Rejected []RejectedRecord `json:"rejected"`
	// Closed lists, in sync mode, the organisation's postings closed as
	// removed_from_feed.
	Closed []string `json:"closed,omitempty"`
	// KeptOpen lists, in sync mode, postings missing from the accepted
	// records that stay open because a rejected row names them.
	KeptOpen []string `json:"kept_open,omitempty"`
}

// ListRequest asks for an organisation's postings.
type ListRequest struct {
	EmployerID string `json:"employer_id"`
	// Status keeps only postings in that status (open, closed, stale);
	// empty means all.
	Status string `json:"status,omitempty"`
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// PostingList is one page of an organisation's postings.
type PostingList struct {
	Postings   []PostingSummary `json:"postings"`
	NextCursor string           `json:"next_cursor,omitempty"`
}

// PostingSummary is what the owning organisation sees of its posting.
type PostingSummary struct {
	ID         string `json:"id"`
	Identifier string `json:"identifier,omitempty"`
	EmployerID string `json:"employer_id"`
	Title      string `json:"title"`
	Status     string `json:"status"`
	Reason     string `json:"reason,omitempty"`
	// Version is the fingerprint of the posting's current content: the
	// ETag a PATCH names in If-Match.
	Version    string    `json:"version"`
	DatePosted time.Time `json:"date_posted"`
	FirstSeen  time.Time `json:"first_seen"`
	UpdatedAt  time.Time `json:"updated_at"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
	// AgeDays is whole days since DatePosted.
	AgeDays     int    `json:"age_days"`
	ClusterID   string `json:"cluster_id"`
	ClusterSize int    `json:"cluster_size"`
	// CandidateCount is, for an open posting in the organisation's list,
	// how many seekers open to employers qualify for it: the total of its
	// candidates list (matchingapi.CandidateCount; the gateway adds it,
	// ingest does not know it). Absent for a posting not open, or when
	// matching did not answer.
	CandidateCount *int `json:"candidate_count,omitempty"`
	// Warnings are accepted fields that could not be checked (PATCH).
	Warnings []apierr.FieldError `json:"warnings,omitempty"`
}

// Caller is who asks to change a posting: an employer's organisation, or an
// admin (any organisation).
type Caller struct {
	Org   string `json:"org,omitempty"`
	Admin bool   `json:"admin,omitempty"`
}

// PatchRequest changes an open posting with a JSON Merge Patch over its
// submitted fields (the plain shape of POST /v1/postings).
type PatchRequest struct {
	Caller
	ID      string          `json:"id"`
	IfMatch string          `json:"if_match,omitempty"` // the Version the patch was written against; empty or "*": the current one
	Patch   json.RawMessage `json:"patch"`
}

// CloseRequest closes an open posting.
type CloseRequest struct {
	Caller
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// ReopenRequest reopens a closed posting.
type ReopenRequest struct {
	Caller
	ID string `json:"id"`
}
