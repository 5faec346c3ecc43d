package gateway

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Subjects of the matching service.
const (
	subjectMatches    = "svc.matching.matches"
	subjectCandidates = "svc.matching.candidates"
	subjectMatchCase  = "svc.matching.caseload"
	subjectMarket     = "svc.matching.market"
)

// queryInts reads whole-number query parameters into req under their JSON
// names, with field errors for non-numbers.
func queryInts(r *http.Request, req map[string]any, fs *apierr.Fields, names ...string) {
	for _, name := range names {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				fs.Add(name, "want a whole number")
				continue
			}
			req[name] = n
		}
	}
}

func queryFloats(r *http.Request, req map[string]any, fs *apierr.Fields, names ...string) {
	for _, name := range names {
		if v := r.URL.Query().Get(name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				fs.Add(name, "want a finite number")
				continue
			}
			req[name] = f
		}
	}
}

func (s *server) handleMatches() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var fs apierr.Fields
		req := map[string]any{"seeker_id": r.PathValue("id")}
		queryInts(r, req, &fs, "limit", "radius_miles")
		if v := r.URL.Query().Get("near_misses"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				fs.Add("near_misses", "want true or false")
			}
			req["near_misses"] = b
		}
		if err := fs.Err(); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.forward(w, r, subjectMatches, req, http.StatusOK)
	})
}

func (s *server) handleCandidates() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var fs apierr.Fields
		req := map[string]any{"posting_id": r.PathValue("id")}
		if c := r.URL.Query().Get("cursor"); c != "" {
			req["cursor"] = c
		}
		queryInts(r, req, &fs, "limit")
		if err := fs.Err(); err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := rpc.Call[json.RawMessage](r.Context(), s.p.NC, subjectCandidates, req)
		if err == nil {
			err = s.recordCandidates(r.Context(), res) // one access-log record per seeker shown
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeRawJSON(w, http.StatusOK, res)
	})
}

func (s *server) handleGetPosting() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forward(w, r, subjectPostingGet, map[string]string{"id": r.PathValue("id")}, http.StatusOK)
	})
}

func (s *server) handleMarket() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var fs apierr.Fields
		req := map[string]any{}
		if z := r.URL.Query().Get("zip"); z != "" {
			req["postal_code"] = z
		}
		queryInts(r, req, &fs, "radius_miles")
		queryFloats(r, req, &fs, "lat", "lon")
		if _, ok := req["radius_miles"]; !ok {
			req["radius_miles"] = 25
		}
		if err := fs.Err(); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.forward(w, r, subjectMarket, req, http.StatusOK)
	})
}

// handleCaseload is a counselor's caseload: each client's best matches,
// near misses and plan progress, and the single credential that would
// unlock the most postings across it. Every client's data read here is
// recorded in that client's access log.
func (s *server) handleCaseload() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids, err := rpc.Call[struct {
			Seekers []string `json:"seekers"`
		}](r.Context(), s.p.NC, subjectCaseload, map[string]string{"counselor": r.PathValue("counselor")})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p := auth.PrincipalFrom(r.Context())
		if err := s.recordAccesses(r.Context(), p, ids.Seekers, "caseload"); err != nil {
			s.writeError(w, r, err)
			return
		}
		view, err := rpc.Call[json.RawMessage](r.Context(), s.p.NC, subjectMatchCase, map[string]any{"seekers": ids.Seekers})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"counselor": r.PathValue("counselor"), "seekers": ids.Seekers, "view": view})
	})
}
