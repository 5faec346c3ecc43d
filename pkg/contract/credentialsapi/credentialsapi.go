// Package credentialsapi is the contract of the credentials service: its
// request/reply endpoints and its events (see pkg/contract).
package credentialsapi

import (
	"encoding/json"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Endpoints of the credentials service.
var (
	Catalog = rpc.Endpoint[CatalogRequest, CatalogSummary]{Name: "catalog", Subject: "svc.credentials.catalog",
		Doc: "The credential catalog: credentials, education, trainings, issuers and sources."}
	Credential = rpc.Endpoint[CredentialRequest, pathway.Credential]{Name: "credential", Subject: "svc.credentials.credential",
		Doc: "One credential of the catalog by code; not_found names the known codes."}
	Records = rpc.Endpoint[SeekerRef, SeekerRecords]{Name: "records", Subject: "svc.credentials.records",
		Doc: "A seeker's credential records and CEUs; not_found after the seeker's deletion."}
	Earn = rpc.Endpoint[EarnRequest, SeekerRecords]{Name: "earn", Subject: "svc.credentials.earn",
		Doc: "Records a credential a seeker earned and answers the records once the projection holds it; not_found without a profile."}
	CEU = rpc.Endpoint[CEURequest, SeekerRecords]{Name: "ceu", Subject: "svc.credentials.ceu",
		Doc: "Logs continuing education toward a held credential and answers the records."}
	Plan = rpc.Endpoint[PlanRequest, json.RawMessage]{Name: "plan", Subject: "svc.credentials.plan",
		Doc: "A pathway.Plan for a state the caller gives (format ctdl: the plan as CTDL JSON-LD)."}
	SeekerPlan = rpc.Endpoint[SeekerPlanRequest, json.RawMessage]{Name: "seeker-plan", Subject: "svc.credentials.seeker_plan",
		Doc: "A seeker's plan (SeekerPlan) from their profile and records, ranked with the market demand near them (format ctdl: CTDL JSON-LD)."}
	CTDL = rpc.Endpoint[CTDLRequest, json.RawMessage]{Name: "ctdl", Subject: "svc.credentials.ctdl",
		Doc: "CTDL JSON-LD: the whole catalog as a ceterms:Pathway without a state, that state's plan with one."}
	Rebuild = rpc.Endpoint[RebuildRequest, projection.Status]{Name: "rebuild", Subject: "svc.credentials.rebuild",
		Doc: "Starts a rebuild of the credential records projection unless one runs (`clerkpath rebuild credentials`)."}
	RebuildStatus = rpc.Endpoint[RebuildRequest, projection.Status]{Name: "rebuild-status", Subject: "svc.credentials.rebuild.status",
		Doc: "The state of the credential records projection's generations."}
)

// Events of the credentials service: each is sealed with the seeker's own
// key (pkg/shred), so deleting the seeker shreds them.
var (
	Earned = events.Topic[profile.CredentialChange]{Subject: events.CredentialsEarned, Stream: events.StreamCredentials, Sealed: true,
		Doc: "A seeker earned a credential (the change carries the credential record); message id earned:<hash>."}
	CEULogged = events.Topic[profile.CredentialChange]{Subject: events.CredentialsCEULogged, Stream: events.StreamCredentials, Sealed: true,
		Doc: "A seeker logged continuing education toward a held credential (the change carries the CEU record); message id ceu:<hash>."}
	Expiring = events.Topic[profile.CredentialChange]{Subject: events.CredentialsExpiring, Stream: events.StreamCredentials, Sealed: true,
		Doc: "A renewal cycle of a seeker's credential ends within the notice window (issuer, cycle end, days left); once per seeker, issuer and cycle."}
)

// Endpoints lists every endpoint this package declares.
func Endpoints() []rpc.Spec {
	return []rpc.Spec{Catalog.Spec(), Credential.Spec(), Records.Spec(), Earn.Spec(), CEU.Spec(),
		Plan.Spec(), SeekerPlan.Spec(), CTDL.Spec(), Rebuild.Spec(), RebuildStatus.Spec()}
}

// Topics lists every event topic this package declares.
func Topics() []events.TopicSpec {
	return []events.TopicSpec{Earned.Spec(), CEULogged.Spec(), Expiring.Spec()}
}

// CatalogRequest asks for the whole catalog; it has no fields.
type CatalogRequest struct{}

// RebuildRequest asks for a rebuild or its status; it has no fields.
type RebuildRequest struct{}

// CredentialRequest names one credential by code (any letter case).
type CredentialRequest struct {
	Code string `json:"code"`
}

// CatalogSummary lists the credentials of the catalog.
type CatalogSummary struct {
	Version     string               `json:"version"`
	Credentials []pathway.Credential `json:"credentials"`
	Education   []pathway.Program    `json:"education"`
	Trainings   []pathway.Training   `json:"trainings"`
	Issuers     []pathway.Issuer     `json:"issuers"`
	Sources     []pathway.Source     `json:"sources"`
}

// SeekerRecords are a seeker's credential records: what they hold and the
// continuing education they logged.
type SeekerRecords struct {
	SeekerID    string                     `json:"seeker_id"`
	Credentials []profile.CredentialRecord `json:"credentials"`
	CEUs        []profile.CEURecord        `json:"ceus"`
}

// SeekerRef names a seeker.
type SeekerRef struct {
	SeekerID string `json:"seeker_id"`
}

// EarnRequest records a credential a seeker earned.
type EarnRequest struct {
	SeekerID   string                   `json:"seeker_id"`
	Credential profile.CredentialRecord `json:"credential"`
}

// CEURequest logs continuing education toward a held credential.
type CEURequest struct {
	SeekerID string            `json:"seeker_id"`
	CEU      profile.CEURecord `json:"ceu"`
}

// Plan formats.
const (
	FormatJSON = "json" // the plan as pathway.Plan (the default)
	FormatCTDL = "ctdl" // the plan as a CTDL JSON-LD pathway
)

// PlanRequest asks for a plan for a state the caller gives (no account
// needed). Target and Optimize, when set, override the state's own.
type PlanRequest struct {
	State    json.RawMessage `json:"state"`
	Target   string          `json:"target,omitempty"`
	Optimize string          `json:"optimize,omitempty"`
	Format   string          `json:"format,omitempty"`
}

// SeekerPlanRequest asks for a seeker's plan from their profile and
// credential records. Target and Optimize override the profile's.
type SeekerPlanRequest struct {
	SeekerID string `json:"seeker_id"`
	Target   string `json:"target,omitempty"`
	Optimize string `json:"optimize,omitempty"`
	Format   string `json:"format,omitempty"`
}

// CTDLRequest asks for CTDL JSON-LD: of the whole catalog without a
// state, of the state's plan with one.
type CTDLRequest struct {
	State    json.RawMessage `json:"state,omitempty"`
	Target   string          `json:"target,omitempty"`
	Optimize string          `json:"optimize,omitempty"`
}

// SeekerPlanReply is a seeker's plan and what went into it: the reply of
// SeekerPlan in the JSON format.
type SeekerPlanReply struct {
	pathway.Plan
	SeekerID string `json:"seeker_id"`
	// Demand is the market near the seeker the steps were ranked with.
	Demand *matchingapi.MarketDemand `json:"demand,omitempty"`
	// DemandNote says why the plan was ranked without market demand.
	DemandNote string `json:"demand_note,omitempty"`
	// ProfileNotes list parts of the profile the engine could not use (an
	// education field or training it does not know), so the seeker can fix
	// them; the rest of the plan stands.
	ProfileNotes []string `json:"profile_notes,omitempty"`
}
