package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/gatewayapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
)

// Access-log page sizes.
const (
	defaultAccessLogPage = 50
	maxAccessLogPage     = 100
)

// AccessLogPage is one page of a seeker's access log, oldest first.
type AccessLogPage struct {
	Entries    []gatewayapi.AccessRecord `json:"entries"`
	NextCursor string                    `json:"next_cursor,omitempty"`
}

func (s *server) handleAccessLog() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cursor, limit, err := pageParams(r, defaultAccessLogPage, maxAccessLogPage)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		page, err := s.accessLog(r.Context(), r.PathValue("id"), cursor, limit)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, page)
	})
}

// pageParams reads cursor pagination: an opaque cursor from a previous page
// and a limit within [1, most] (def when not given).
func pageParams(r *http.Request, def, most int) (uint64, int, error) {
	var fs apierr.Fields
	q := r.URL.Query()
	limit := def
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > most {
			fs.Add("limit", "a whole number from 1 to %d", most)
		}
		limit = n
	}
	var cursor uint64
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			fs.Add("cursor", "use next_cursor from the previous page")
		}
		cursor = n
	}
	return cursor, limit, fs.Err()
}

// accessLog reads the seeker's access records from sequence cursor on:
// those on audit.seeker.<pseudonym>, and those written before pseudonyms,
// on audit.seeker.<id>, in stream order.
func (s *server) accessLog(ctx context.Context, id string, cursor uint64, limit int) (AccessLogPage, error) {
	page := AccessLogPage{Entries: []gatewayapi.AccessRecord{}}
	st, err := s.js.Stream(ctx, gatewayapi.SeekerRead.Stream)
	if err != nil {
		return page, apierr.Wrap(err, apierr.Unavailable, "the access log is unavailable")
	}
	p, err := s.pseudonyms(ctx, []string{id})
	if err != nil {
		return page, err
	}
	next := nextRecord{st: st, subjects: []string{gatewayapi.SeekerRead.SubjectFor(p[0]), gatewayapi.SeekerRead.SubjectFor(id)}}
	seq := max(cursor, 1)
	for len(page.Entries) < limit {
		m, err := next.at(ctx, seq)
		if err != nil {
			return page, apierr.Wrap(err, apierr.Unavailable, "the access log is unavailable")
		}
		if m == nil {
			return page, nil
		}
		if rec, err := gatewayapi.SeekerRead.Decode(m.Data); err == nil {
			page.Entries = append(page.Entries, rec)
		}
		seq = m.Sequence + 1
	}
	if m, err := next.at(ctx, seq); err == nil && m != nil {
		page.NextCursor = strconv.FormatUint(seq, 10)
	}
	return page, nil
}

// nextRecord finds the first message at or after a sequence on any of its
// subjects; a subject found empty from some sequence on is not asked again.
type nextRecord struct {
	st       jetstream.Stream
	subjects []string
	doneFrom map[string]uint64
}

func (n *nextRecord) at(ctx context.Context, seq uint64) (*jetstream.RawStreamMsg, error) {
	if n.doneFrom == nil {
		n.doneFrom = map[string]uint64{}
	}
	var first *jetstream.RawStreamMsg
	for _, subj := range n.subjects {
		if d, ok := n.doneFrom[subj]; ok && seq >= d {
			continue
		}
		m, err := n.st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subj))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			n.doneFrom[subj] = seq
			continue
		}
		if err != nil {
			return nil, err
		}
		if first == nil || m.Sequence < first.Sequence {
			first = m
		}
	}
	return first, nil
}

// purgeAccessLog removes the seeker's access records (the profiles
// service securely erased those on the legacy audit.seeker.<id> when it
// deleted them: purging it too is harmless).
func (s *server) purgeAccessLog(ctx context.Context, id, pseudonym string) error {
	st, err := s.js.Stream(ctx, gatewayapi.SeekerRead.Stream)
	for _, subj := range []string{gatewayapi.SeekerRead.SubjectFor(pseudonym), gatewayapi.SeekerRead.SubjectFor(id)} {
		if err == nil {
			err = st.Purge(ctx, jetstream.WithPurgeSubject(subj))
		}
	}
	if err != nil {
		return apierr.Wrap(err, apierr.Unavailable, "could not remove the access log; try again")
	}
	return nil
}

// pseudonyms are the seekers' pseudonyms (the profiles service holds the
// secret), in the order of ids: access records go on
// audit.seeker.<pseudonym>, never on a subject naming the id.
func (s *server) pseudonyms(ctx context.Context, ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	for chunk := range slices.Chunk(ids, 1000) {
		rep, err := profilesapi.PseudonymsGet.Call(ctx, s.nc, profilesapi.PseudonymsRequest{IDs: chunk})
		if err != nil {
			return nil, err
		}
		if len(rep.Pseudonyms) != len(chunk) {
			return nil, apierr.New(apierr.Unavailable, "profiles answered %d pseudonyms for %d seekers", len(rep.Pseudonyms), len(chunk))
		}
		out = append(out, rep.Pseudonyms...)
	}
	return out, nil
}
