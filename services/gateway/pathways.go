package gateway

import (
	"encoding/json"
	"net/http"

	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Subjects of the credentials service.
const (
	subjectCredentialCatalog = "svc.credentials.catalog"
	subjectCredential        = "svc.credentials.credential"
	subjectCredentialRecords = "svc.credentials.records"
	subjectCredentialEarn    = "svc.credentials.earn"
	subjectCredentialCEU     = "svc.credentials.ceu"
	subjectPathwayPlan       = "svc.credentials.plan"
	subjectSeekerPlan        = "svc.credentials.seeker_plan"
	subjectPathwayCTDL       = "svc.credentials.ctdl"
)

// contentTypeJSONLD is the media type of CTDL documents.
const contentTypeJSONLD = "application/ld+json"

func (s *server) handleCredentialCatalog() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forward(w, r, subjectCredentialCatalog, struct{}{}, http.StatusOK)
	})
}

func (s *server) handleCredential() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forward(w, r, subjectCredential, map[string]string{"code": r.PathValue("code")}, http.StatusOK)
	})
}

// planQuery reads the query parameters every plan route accepts: target
// and optimize override the state's, format=ctdl asks for CTDL JSON-LD.
func planQuery(r *http.Request) map[string]any {
	q := r.URL.Query()
	req := map[string]any{}
	for _, name := range []string{"target", "optimize", "format"} {
		if v := q.Get(name); v != "" {
			req[name] = v
		}
	}
	return req
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
		req := planQuery(r)
		req["state"] = json.RawMessage(body)
		s.forwardPlan(w, r, subjectPathwayPlan, req)
	})
}

// handlePathwayCTDL serves the whole catalog as one CTDL pathway.
func (s *server) handlePathwayCTDL() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := rpc.Call[json.RawMessage](r.Context(), s.p.NC, subjectPathwayCTDL, struct{}{})
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
		req := planQuery(r)
		req["seeker_id"] = r.PathValue("id")
		s.forwardPlan(w, r, subjectSeekerPlan, req)
	})
}

// forwardPlan forwards a plan request and labels a CTDL answer as JSON-LD.
func (s *server) forwardPlan(w http.ResponseWriter, r *http.Request, subject string, req map[string]any) {
	res, err := rpc.Call[json.RawMessage](r.Context(), s.p.NC, subject, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if req["format"] == "ctdl" {
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
		s.forward(w, r, subjectCredentialRecords, map[string]string{"seeker_id": r.PathValue("id")}, http.StatusOK)
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
		s.forward(w, r, subjectCredentialEarn, map[string]any{"seeker_id": r.PathValue("id"), "credential": c}, http.StatusCreated)
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
		s.forward(w, r, subjectCredentialCEU, map[string]any{"seeker_id": r.PathValue("id"), "ceu": u}, http.StatusCreated)
	})
}
