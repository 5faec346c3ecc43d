package gateway

import (
	"encoding/json"
	"net/http"

	"github.com/clerkpath/clerkpath/pkg/contract/credentialsapi"
	"github.com/clerkpath/clerkpath/pkg/profile"
)

// contentTypeJSONLD is the media type of CTDL documents.
const contentTypeJSONLD = "application/ld+json"

func (s *server) handleCredentialCatalog() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := credentialsapi.Catalog.Forward(r.Context(), s.nc, credentialsapi.CatalogRequest{})
		s.reply(w, r, res, err, http.StatusOK)
	})
}

func (s *server) handleCredential() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := credentialsapi.Credential.Forward(r.Context(), s.nc, credentialsapi.CredentialRequest{Code: r.PathValue("code")})
		s.reply(w, r, res, err, http.StatusOK)
	})
}

// planQuery reads the query parameters every plan route accepts: target
// and optimize override the state's, format=ctdl asks for CTDL JSON-LD.
type planQuery struct{ target, optimize, format string }

func planQueryOf(r *http.Request) planQuery {
	q := r.URL.Query()
	return planQuery{target: q.Get("target"), optimize: q.Get("optimize"), format: q.Get("format")}
}

// handlePathwayPlan plans for a state given in the body (the documented
// profile shape); no account needed.
func (s *server) handlePathwayPlan() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readJSON(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		pq := planQueryOf(r)
		res, err := credentialsapi.Plan.Forward(r.Context(), s.nc, credentialsapi.PlanRequest{
			State: json.RawMessage(body), Target: pq.target, Optimize: pq.optimize, Format: pq.format})
		s.replyPlan(w, r, res, err, pq.format)
	})
}

// handlePathwayCTDL serves the whole catalog as one CTDL pathway.
func (s *server) handlePathwayCTDL() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := credentialsapi.CTDL.Forward(r.Context(), s.nc, credentialsapi.CTDLRequest{})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSONLD(w, res)
	})
}

// handleSeekerPlan plans for a seeker from their profile and credential
// records, ranked by the job market near them.
func (s *server) handleSeekerPlan() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pq := planQueryOf(r)
		res, err := credentialsapi.SeekerPlan.Forward(r.Context(), s.nc, credentialsapi.SeekerPlanRequest{
			SeekerID: r.PathValue("id"), Target: pq.target, Optimize: pq.optimize, Format: pq.format})
		s.replyPlan(w, r, res, err, pq.format)
	})
}

// replyPlan answers a plan and labels a CTDL answer as JSON-LD.
func (s *server) replyPlan(w http.ResponseWriter, r *http.Request, res json.RawMessage, err error, format string) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if format == credentialsapi.FormatCTDL {
		writeJSONLD(w, res)
		return
	}
	writeRawJSON(w, http.StatusOK, res)
}

// writeJSONLD answers 200 with a JSON-LD document a service encoded.
func writeJSONLD(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", contentTypeJSONLD)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (s *server) handleSeekerCredentials() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := credentialsapi.Records.Forward(r.Context(), s.nc, credentialsapi.SeekerRef{SeekerID: r.PathValue("id")})
		s.reply(w, r, res, err, http.StatusOK)
	})
}

// handleEarnCredential records a credential the seeker earned; 201 comes
// once the event is stored, with the seeker's records as they are now.
func (s *server) handleEarnCredential() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c profile.CredentialRecord
		if err := decodeBody(w, r, &c); err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := credentialsapi.Earn.Forward(r.Context(), s.nc, credentialsapi.EarnRequest{SeekerID: r.PathValue("id"), Credential: c})
		s.reply(w, r, res, err, http.StatusCreated)
	})
}

// handleLogCEU logs continuing education toward a held credential.
func (s *server) handleLogCEU() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u profile.CEURecord
		if err := decodeBody(w, r, &u); err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := credentialsapi.CEU.Forward(r.Context(), s.nc, credentialsapi.CEURequest{SeekerID: r.PathValue("id"), CEU: u})
		s.reply(w, r, res, err, http.StatusCreated)
	})
}
