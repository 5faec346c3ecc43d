package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Subjects of the services the gateway calls. Services never import each
// other, and the gateway is a service: subjects are the contract, and
// docs/events.md lists them.
const (
	subjectJobsSubmit     = "jobs.submit"
	subjectMatchingSearch = "svc.matching.search"
	subjectPostingGet     = "svc.matching.posting"
)

// HeaderEmployerOrg tells ingest which organisation submits a posting; it
// comes from the caller's token, never from the body.
const HeaderEmployerOrg = "Clerkpath-Employer-Org"

// handleSubmitPosting accepts one posting. The answer (201) comes only after
// the posting's event is stored in JetStream.
func (s *server) handleSubmitPosting() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readJSON(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h := nats.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(HeaderEmployerOrg, employerOrg(r))
		res, err := rpc.CallRaw(r.Context(), s.p.NC, subjectJobsSubmit, body, h)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeRawJSON(w, http.StatusCreated, res)
	})
}

func (s *server) handleSearchPostings() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var fs apierr.Fields
		req := map[string]any{"q": q.Get("q")}
		for _, name := range []string{"limit", "offset"} {
			if v := q.Get(name); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					fs.Add(name, "want a whole number")
					continue
				}
				req[name] = n
			}
		}
		if err := fs.Err(); err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := rpc.Call[json.RawMessage](r.Context(), s.p.NC, subjectMatchingSearch, req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeRawJSON(w, http.StatusOK, res)
	})
}

// employerOrg is the organisation a posting is submitted for: the caller's
// own, or for admins the "org" query parameter.
func employerOrg(r *http.Request) string {
	p := auth.PrincipalFrom(r.Context())
	if p.Role == auth.RoleAdmin {
		return r.URL.Query().Get("org")
	}
	return p.Org
}
