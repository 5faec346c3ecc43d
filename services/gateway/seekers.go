package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/strictjson"
)

// Subjects of the profiles service.
const (
	subjectSeekerPut     = "svc.profiles.seeker.put"
	subjectSeekerGet     = "svc.profiles.seeker.get"
	subjectContactPut    = "svc.profiles.seeker.contact.put"
	subjectContactGet    = "svc.profiles.seeker.contact.get"
	subjectConsent       = "svc.profiles.seeker.consent"
	subjectCounselorLink = "svc.profiles.seeker.counselor"
	subjectRelations     = "svc.profiles.seeker.relations"
	subjectExport        = "svc.profiles.seeker.export"
	subjectDelete        = "svc.profiles.seeker.delete"
	subjectCaseload      = "svc.profiles.counselor.caseload"
	subjectEmployerPut   = "svc.profiles.employer.put"
	subjectEmployerGet   = "svc.profiles.employer.get"
	subjectNoteAdd       = "svc.profiles.seeker.note.add"
	subjectNotes         = "svc.profiles.seeker.notes"
)

// forward sends req to a service and answers with its reply as is.
func (s *server) forward(w http.ResponseWriter, r *http.Request, subject string, req any, status int) {
	res, err := rpc.Call[json.RawMessage](r.Context(), s.p.NC, subject, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeRawJSON(w, status, res)
}

// decodeBody reads a JSON body strictly into v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	return strictjson.Decode(body, v)
}

// handlePutSeeker creates or replaces a seeker's profile. If-Match carries
// the ETag last read; a stale one is 412.
func (s *server) handlePutSeeker() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		var sk profile.Seeker
		if err := decodeBody(w, r, &sk); err != nil {
			s.writeError(w, r, err)
			return
		}
		if sk.ID != "" && sk.ID != id {
			s.writeError(w, r, apierr.InvalidFields(apierr.FieldError{Field: "id", Message: "differs from the id in the path"}))
			return
		}
		sk.ID = id
		req := map[string]any{"seeker": sk}
		if im := r.Header.Get("If-Match"); im != "" && im != "*" {
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
		out, err := rpc.Call[json.RawMessage](r.Context(), s.p.NC, subjectSeekerGet, map[string]string{"id": r.PathValue("id")})
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

func (s *server) handleDeleteSeeker() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if _, err := rpc.Call[json.RawMessage](r.Context(), s.p.NC, subjectDelete, map[string]string{"id": id}); err != nil {
			s.writeError(w, r, err)
			return
		}
		// The access log is about the seeker too: it goes with them.
		if err := s.purgeAccessLog(r.Context(), id); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *server) handleExportSeeker() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		out, err := rpc.Call[map[string]any](r.Context(), s.p.NC, subjectExport, map[string]string{"id": id})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		log, err := s.accessLog(r.Context(), id, 0, maxAccessLogPage*100)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out["access_log"] = log.Entries
		// What the other services hold about the seeker: credential records
		// and the stored match list.
		for key, call := range map[string]struct {
			subject string
			req     any
		}{
			"credentials": {"svc.credentials.records", map[string]string{"seeker_id": id}},
			"match_list":  {"svc.matching.list", map[string]string{"seeker_id": id}},
		} {
			v, err := rpc.Call[json.RawMessage](r.Context(), s.p.NC, call.subject, call.req)
			if err != nil && apierr.CodeOf(err) != apierr.NotFound {
				s.writeError(w, r, err)
				return
			}
			out[key] = v
		}
		w.Header().Set("Content-Disposition", `attachment; filename="clerkpath-export-`+id+`.json"`)
		writeJSON(w, http.StatusOK, out)
	})
}

func (s *server) handlePutContact() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c profile.Contact
		if err := decodeBody(w, r, &c); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.forward(w, r, subjectContactPut, map[string]any{"id": r.PathValue("id"), "contact": c}, http.StatusOK)
	})
}

func (s *server) handleGetContact() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forward(w, r, subjectContactGet, map[string]string{"id": r.PathValue("id")}, http.StatusOK)
	})
}

func (s *server) handleConsent(granted bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forward(w, r, subjectConsent, map[string]any{"id": r.PathValue("id"), "employer": r.PathValue("org"), "granted": granted}, http.StatusOK)
	})
}

func (s *server) handleCounselorLink(linked bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forward(w, r, subjectCounselorLink, map[string]any{"id": r.PathValue("id"), "counselor": r.PathValue("counselor"), "linked": linked}, http.StatusOK)
	})
}

func (s *server) handlePutEmployer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e profile.Employer
		if err := decodeBody(w, r, &e); err != nil {
			s.writeError(w, r, err)
			return
		}
		if e.Org != "" && e.Org != r.PathValue("org") {
			s.writeError(w, r, apierr.InvalidFields(apierr.FieldError{Field: "org", Message: "differs from the organisation in the path"}))
			return
		}
		e.Org = r.PathValue("org")
		s.forward(w, r, subjectEmployerPut, map[string]any{"employer": e}, http.StatusOK)
	})
}

func (s *server) handleGetEmployer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forward(w, r, subjectEmployerGet, map[string]string{"org": r.PathValue("org")}, http.StatusOK)
	})
}

func etag(version uint64) string { return fmt.Sprintf(`"%d"`, version) }

// parseETag reads If-Match: "N" (a profile version).
func parseETag(v string) (uint64, error) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	n, err := strconv.ParseUint(strings.Trim(v, `"`), 10, 64)
	if err != nil {
		return 0, apierr.InvalidFields(apierr.FieldError{Field: "If-Match", Message: `want an ETag from a previous response, like "42"`})
	}
	return n, nil
}

// handleAddNote stores a counselor's note about a client; the author is
// the caller.
func (s *server) handleAddNote() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n profile.Note
		if err := decodeBody(w, r, &n); err != nil {
			s.writeError(w, r, err)
			return
		}
		if n.Author != "" || n.At != "" {
			s.writeError(w, r, apierr.InvalidFields(apierr.FieldError{Field: "author", Message: "set from your token; leave author and at out"}))
			return
		}
		n.Author = auth.PrincipalFrom(r.Context()).Subject
		s.forward(w, r, subjectNoteAdd, map[string]any{"id": r.PathValue("id"), "note": n}, http.StatusCreated)
	})
}

func (s *server) handleNotes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forward(w, r, subjectNotes, map[string]string{"id": r.PathValue("id")}, http.StatusOK)
	})
}
