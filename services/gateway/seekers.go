package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/strictjson"
)

// handlePutSeeker creates or replaces a seeker's profile. If-Match carries
// the ETag last read; a stale one is 412.
func (s *server) handlePutSeeker() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		body, err := readJSON(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var sk profile.Seeker
		if err := strictjson.Decode(body, &sk); err != nil {
			s.writeError(w, r, err)
			return
		}
		if sk.ID != "" && sk.ID != id {
			s.writeError(w, r, apierr.InvalidFields(apierr.FieldError{Field: "id", Message: "differs from the id in the path"}))
			return
		}
		sk.ID = id
		req := map[string]any{"seeker": sk}
		if im := r.Header.Get("If-Match"); im != "" {
			v, err := parseETag(im)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			req["if_match"] = v
		}
		out, err := rpc.Call[profile.Seeker](r.Context(), s.p.NC, subjectSeekerPut, req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("ETag", etag(out.Version))
		writeJSON(w, http.StatusOK, out)
	})
}

func (s *server) handleGetSeeker() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out, err := rpc.Call[json.RawMessage](r.Context(), s.p.NC, subjectSeekerGet, map[string]string{"id": id})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var v struct {
			Version uint64 `json:"version"`
		}
		_ = json.Unmarshal(out, &v)
		w.Header().Set("ETag", etag(v.Version))
		writeRawJSON(w, http.StatusOK, out)
	})
}

func etag(version uint64) string { return fmt.Sprintf(`"%d"`, version) }

// parseETag reads If-Match: "N" (a profile version). "*" means any version
// and is treated as no precondition.
func parseETag(v string) (uint64, error) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	n, err := strconv.ParseUint(strings.Trim(v, `"`), 10, 64)
	if err != nil {
		return 0, apierr.InvalidFields(apierr.FieldError{Field: "If-Match", Message: `want an ETag from a previous response, like "42"`})
	}
	return n, nil
}
