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
