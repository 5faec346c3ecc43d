package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// handleSubmitPosting accepts one posting, in any accepted format. The
// answer (201) comes only after the posting's event is stored in JetStream.
func (s *server) handleSubmitPosting() http.Handler {
	return s.handleSubmit("single", MaxJSONBody)
}

// handleBulkPostings accepts a JSON array, NDJSON, CSV or JSON-LD batch.
// Good records go through; bad ones come back with their reasons.
func (s *server) handleBulkPostings() http.Handler {
	return s.handleSubmit("bulk", MaxBulkBody)
}

func (s *server) handleSubmit(mode string, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") == "" {
			s.writeError(w, r, apierr.New(apierr.Unsupported, "missing Content-Type; send application/json, application/x-ndjson, text/csv or application/ld+json"))
			return
		}
		body, err := readBody(w, r, limit)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h := nats.Header{}
		h.Set("Content-Type", r.Header.Get("Content-Type"))
		h.Set(ingestapi.HeaderEmployerOrg, employerOrg(r))
		h.Set(ingestapi.HeaderMode, mode)
		if v := r.URL.Query().Get("sync"); v != "" {
			h.Set(ingestapi.HeaderSync, v) // ingest checks it: true or false, bulk only
		}
		if cols := r.URL.Query().Get("columns"); cols != "" {
			m, err := parseColumns(cols)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			h.Set(ingestapi.HeaderColumns, m)
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
		defer cancel()
		res, err := ingestapi.Submit.Forward(ctx, s.nc, rpc.Raw{Data: body, Header: h})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		status := http.StatusOK
		if mode == "single" {
			status = http.StatusCreated
		}
		writeRawJSON(w, status, res)
	})
}

// parseColumns reads the CSV column mapping "Their Header:our_field,…" into
// the JSON object ingest expects.
func parseColumns(v string) (string, error) {
	m := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		from, to, ok := strings.Cut(pair, ":")
		if !ok || strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" {
			return "", apierr.InvalidFields(apierr.FieldError{Field: "columns", Message: `want "Their Header:our_field,…", for example "Job Title:title,Zip:postal_code"`})
		}
		m[strings.TrimSpace(from)] = strings.TrimSpace(to)
	}
	b, _ := json.Marshal(m)
	return string(b), nil
}

// handleSearchPostings is the public job-board search: text, filters,
// facets, a geo radius and sorting.
func (s *server) handleSearchPostings() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		q := query{r: r}
		req := matchingapi.SearchRequest{Q: v.Get("q"), PostalCode: v.Get(zipParam), WorkMode: v.Get("work_mode"), EmploymentType: v.Get("employment_type"),
			SOCCode: v.Get("soc"), Credential: v.Get("credential"), Sort: v.Get("sort"), Cursor: v.Get("cursor"),
			Limit: q.Int("limit"), Offset: q.Int("offset"), RadiusMiles: q.Int("radius_miles"), Lat: q.Float("lat"), Lon: q.Float("lon")}
		if f := q.Float("min_hourly"); f != nil {
			req.MinHourly = *f
		}
		if err := q.fs.Err(); err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := matchingapi.Search.Forward(r.Context(), s.nc, req)
		if err != nil {
			s.writeError(w, r, asZipParam(err))
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

// caller is who asks ingest to change a posting: the employer's
// organisation, or an admin (any organisation). Ingest answers not_found
// for a posting of another organisation; the gateway cannot check the
// owner itself, as a closed posting has left matching's index.
func caller(r *http.Request) ingestapi.Caller {
	p := auth.PrincipalFrom(r.Context())
	return ingestapi.Caller{Org: p.Org, Admin: p.Role == auth.RoleAdmin}
}

// handleEmployerPostings lists an organisation's postings with their
// status, newest first.
func (s *server) handleEmployerPostings() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		q := query{r: r}
		req := ingestapi.ListRequest{EmployerID: r.PathValue("org"), Status: v.Get("status"), Cursor: v.Get("cursor"), Limit: q.Int("limit")}
		if err := q.fs.Err(); err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := ingestapi.Postings.Call(r.Context(), s.nc, req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.addCandidateCounts(r.Context(), res.Postings)
		writeJSON(w, http.StatusOK, res)
	})
}

// addCandidateCounts gives each open posting its stored candidate count,
// in one request to matching for the page. Without an answer the list is
// still served, without counts.
func (s *server) addCandidateCounts(ctx context.Context, ps []ingestapi.PostingSummary) {
	var ids []string
	for _, p := range ps {
		if p.Status == ingestapi.StatusOpen {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return
	}
	res, err := matchingapi.CandidateCount.Call(ctx, s.nc, matchingapi.CandidateCountsRequest{PostingIDs: ids})
	if err != nil {
		s.log.Warn().Err(err).Msg("candidate counts: matching did not answer; the postings list goes without them")
		return
	}
	for i := range ps {
		if n, ok := res.Counts[ps[i].ID]; ok && ps[i].Status == ingestapi.StatusOpen {
			ps[i].CandidateCount = &n
		}
	}
}

// handlePatchPosting changes an open posting with a JSON Merge Patch over
// the fields as submitted; If-Match must carry the posting's version (its
// ETag), and the answer carries the new one.
func (s *server) handlePatchPosting() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readMergePatch(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		im := strings.Trim(strings.TrimPrefix(strings.TrimSpace(r.Header.Get("If-Match")), "W/"), `"`)
		out, err := ingestapi.Patch.Call(r.Context(), s.nc, ingestapi.PatchRequest{Caller: caller(r), ID: r.PathValue("id"), IfMatch: im, Patch: body})
		s.writePostingSummary(w, r, out, err)
	})
}

// handleClosePosting closes a posting: {"reason":"filled|withdrawn|on_hold"}.
func (s *server) handleClosePosting() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Reason string `json:"reason"`
		}
		if err := decodeBody(w, r, &body); err != nil {
			s.writeError(w, r, err)
			return
		}
		out, err := ingestapi.Close.Call(r.Context(), s.nc, ingestapi.CloseRequest{Caller: caller(r), ID: r.PathValue("id"), Reason: body.Reason})
		s.writePostingSummary(w, r, out, err)
	})
}

// handleReopenPosting reopens a posting closed as withdrawn or on hold.
func (s *server) handleReopenPosting() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := ingestapi.Reopen.Call(r.Context(), s.nc, ingestapi.ReopenRequest{Caller: caller(r), ID: r.PathValue("id")})
		s.writePostingSummary(w, r, out, err)
	})
}

// writePostingSummary answers with a posting's summary and its version as
// the ETag.
func (s *server) writePostingSummary(w http.ResponseWriter, r *http.Request, out ingestapi.PostingSummary, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if out.Version != "" {
		w.Header().Set("ETag", `"`+out.Version+`"`)
	}
	writeJSON(w, http.StatusOK, out)
}
