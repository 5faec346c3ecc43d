package gateway

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/contract/gatewayapi"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
)

// query reads typed query parameters, collecting a field error (named for
// the parameter) for each one that does not parse.
type query struct {
	r  *http.Request
	fs apierr.Fields
}

// Int is a whole-number parameter, 0 when absent.
func (q *query) Int(name string) int {
	v := q.r.URL.Query().Get(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		q.fs.Add(name, "want a whole number")
	}
	return n
}

// Float is a finite-number parameter, nil when absent.
func (q *query) Float(name string) *float64 {
	v := q.r.URL.Query().Get(name)
	if v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		q.fs.Add(name, "want a finite number")
		return nil
	}
	return &f
}

// Bool is a true/false parameter, nil when absent.
func (q *query) Bool(name string) *bool {
	v := q.r.URL.Query().Get(name)
	if v == "" {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.fs.Add(name, "want true or false")
		return nil
	}
	return &b
}

// zipParam is the query parameter the public API calls the services'
// postal_code.
const zipParam = "zip"

// asZipParam renames the services' postal_code field in a field error to
// the zip parameter the caller sent, so a refused ZIP names what the
// caller can change.
func asZipParam(err error) error {
	e := apierr.As(err)
	if len(e.Fields) == 0 {
		return err
	}
	renamed := *e
	renamed.Fields = make([]apierr.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		if f.Field == "postal_code" {
			f.Field = zipParam
		}
		f.Message = strings.ReplaceAll(f.Message, "postal_code", zipParam)
		renamed.Fields[i] = f
	}
	return &renamed
}

func (s *server) handleMatches() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := query{r: r}
		req := matchingapi.MatchesRequest{SeekerID: r.PathValue("id"), Limit: q.Int("limit"), RadiusMiles: q.Int("radius_miles"), NearMisses: q.Bool("near_misses")}
		if err := q.fs.Err(); err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := matchingapi.Matches.Forward(r.Context(), s.nc, req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeRawJSON(w, http.StatusOK, res)
	})
}

func (s *server) handleCandidates() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := query{r: r}
		req := matchingapi.CandidatesRequest{PostingID: r.PathValue("id"), Cursor: r.URL.Query().Get("cursor"), Limit: q.Int("limit")}
		if err := q.fs.Err(); err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := matchingapi.Candidates.Forward(r.Context(), s.nc, req)
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
		res, err := matchingapi.Posting.Forward(r.Context(), s.nc, matchingapi.PostingRequest{ID: r.PathValue("id")})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeRawJSON(w, http.StatusOK, res)
	})
}

func (s *server) handleMarket() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := query{r: r}
		req := matchingapi.MarketRequest{PostalCode: r.URL.Query().Get(zipParam), RadiusMiles: q.Int("radius_miles"), Lat: q.Float("lat"), Lon: q.Float("lon")}
		if !r.URL.Query().Has("radius_miles") {
			req.RadiusMiles = 25
		}
		if err := q.fs.Err(); err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := matchingapi.Market.Forward(r.Context(), s.nc, req)
		if err != nil {
			s.writeError(w, r, asZipParam(err))
			return
		}
		writeRawJSON(w, http.StatusOK, res)
	})
}

// handleCaseload is a counselor's caseload: each client's best matches,
// near misses and plan progress, and the single credential that would
// unlock the most postings across it. Every client's data read here is
// recorded in that client's access log.
func (s *server) handleCaseload() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids, err := profilesapi.CaseloadGet.Call(r.Context(), s.nc, profilesapi.CaseloadRequest{Counselor: r.PathValue("counselor")})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p := auth.PrincipalFrom(r.Context())
		if err := s.recordAccesses(r.Context(), p, ids.Seekers, gatewayapi.ActionCaseload); err != nil {
			s.writeError(w, r, err)
			return
		}
		view, err := matchingapi.Caseload.Forward(r.Context(), s.nc, matchingapi.CaseloadRequest{Seekers: ids.Seekers})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"counselor": r.PathValue("counselor"), "seekers": ids.Seekers, "view": view})
	})
}
