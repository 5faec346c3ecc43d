package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/contract/credentialsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/strictjson"
)

// reply answers with a service's reply as it is (the JSON it encoded), or
// with the problem document of its error.
func (s *server) reply(w http.ResponseWriter, r *http.Request, res json.RawMessage, err error, status int) {
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

// ifMatch reads If-Match: absent or "*" is nil (no precondition).
func ifMatch(r *http.Request) (*uint64, error) {
	im := r.Header.Get("If-Match")
	if im == "" || im == "*" {
		return nil, nil
	}
	v, err := parseETag(im)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// handlePutSeeker creates or replaces a seeker's profile. If-Match carries
// the ETag last read; a stale one is 412.
func (s *server) handlePutSeeker() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		var req profilesapi.PutSeekerRequest
		if err := decodeBody(w, r, &req.Seeker); err != nil {
			s.writeError(w, r, err)
			return
		}
		if req.Seeker.ID != "" && req.Seeker.ID != id {
			s.writeError(w, r, apierr.InvalidFields(apierr.FieldError{Field: "id", Message: "differs from the id in the path"}))
			return
		}
		req.Seeker.ID = id
		var err error
		if req.IfMatch, err = ifMatch(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeSeeker(w, r)(profilesapi.SeekerPut.Call(r.Context(), s.nc, req))
	})
}

// mergePatchType is the media type of a JSON Merge Patch (RFC 7396).
const mergePatchType = "application/merge-patch+json"

// readMergePatch reads a JSON Merge Patch body: any other content type is
// 415, with Accept-Patch naming the one this route takes.
func readMergePatch(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if mediaType(r) != mergePatchType {
		w.Header().Set("Accept-Patch", mergePatchType)
		return nil, apierr.New(apierr.Unsupported, "Content-Type %q is not supported here; send a JSON Merge Patch as %s", r.Header.Get("Content-Type"), mergePatchType)
	}
	return readBody(w, r, MaxJSONBody)
}

// handlePatchSeeker changes part of a seeker's profile: the body is a JSON
// Merge Patch (RFC 7396), applied by the profiles service to the current
// version and validated as a PUT of the result. If-Match is honoured when
// sent (412 when stale); without it the patch applies to whatever version
// is current, as a merge patch only touches the fields it names.
func (s *server) handlePatchSeeker() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readMergePatch(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		req := profilesapi.PatchSeekerRequest{ID: r.PathValue("id"), Patch: body}
		if req.IfMatch, err = ifMatch(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeSeeker(w, r)(profilesapi.SeekerPatch.Call(r.Context(), s.nc, req))
	})
}

// writeSeeker answers a PUT or PATCH with the stored seeker and its ETag.
func (s *server) writeSeeker(w http.ResponseWriter, r *http.Request) func(profilesapi.SeekerWrite, error) {
	return func(out profilesapi.SeekerWrite, err error) {
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("ETag", etag(out.Version))
		writeJSON(w, http.StatusOK, out)
	}
}

func (s *server) handleGetSeeker() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := profilesapi.SeekerGet.Call(r.Context(), s.nc, profilesapi.SeekerRef{ID: r.PathValue("id")})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("ETag", etag(out.Version))
		writeJSON(w, http.StatusOK, out)
	})
}

func (s *server) handleDeleteSeeker() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		p, err := s.pseudonyms(r.Context(), []string{id})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if _, err := profilesapi.Delete.Call(r.Context(), s.nc, profilesapi.SeekerRef{ID: id}); err != nil {
			s.writeError(w, r, err)
			return
		}
		// The access log is about the seeker too: it goes with them.
		if err := s.purgeAccessLog(r.Context(), id, p[0]); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *server) handleExportSeeker() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		exp, err := profilesapi.ExportGet.Forward(r.Context(), s.nc, profilesapi.SeekerRef{ID: id})
		var out map[string]any
		if err == nil {
			err = json.Unmarshal(exp, &out)
		}
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
			"credentials": {credentialsapi.Records.Subject, credentialsapi.SeekerRef{SeekerID: id}},
			"match_list":  {matchingapi.MatchList.Subject, matchingapi.MatchListRequest{SeekerID: id}},
		} {
			v, err := rpc.Call[json.RawMessage](r.Context(), s.nc, call.subject, call.req)
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
		res, err := profilesapi.ContactPut.Forward(r.Context(), s.nc, profilesapi.ContactRequest{ID: r.PathValue("id"), Contact: c})
		s.reply(w, r, res, err, http.StatusOK)
	})
}

func (s *server) handleGetContact() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := profilesapi.ContactGet.Forward(r.Context(), s.nc, profilesapi.SeekerRef{ID: r.PathValue("id")})
		s.reply(w, r, res, err, http.StatusOK)
	})
}

func (s *server) handleConsent(granted bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := profilesapi.Consent.Forward(r.Context(), s.nc, profilesapi.ConsentRequest{ID: r.PathValue("id"), Employer: r.PathValue("org"), Granted: granted})
		s.reply(w, r, res, err, http.StatusOK)
	})
}

func (s *server) handleCounselorLink(linked bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := profilesapi.CounselorLink.Forward(r.Context(), s.nc, profilesapi.CounselorLinkRequest{ID: r.PathValue("id"), Counselor: r.PathValue("counselor"), Linked: linked})
		s.reply(w, r, res, err, http.StatusOK)
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
		res, err := profilesapi.EmployerPut.Forward(r.Context(), s.nc, profilesapi.EmployerPutRequest{Employer: e})
		s.reply(w, r, res, err, http.StatusOK)
	})
}

func (s *server) handleGetEmployer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := profilesapi.EmployerGet.Forward(r.Context(), s.nc, profilesapi.EmployerRef{Org: r.PathValue("org")})
		s.reply(w, r, res, err, http.StatusOK)
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
		res, err := profilesapi.NoteAdd.Forward(r.Context(), s.nc, profilesapi.NoteRequest{ID: r.PathValue("id"), Note: n})
		s.reply(w, r, res, err, http.StatusCreated)
	})
}

func (s *server) handleNotes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := profilesapi.NotesGet.Forward(r.Context(), s.nc, profilesapi.SeekerRef{ID: r.PathValue("id")})
		s.reply(w, r, res, err, http.StatusOK)
	})
}
