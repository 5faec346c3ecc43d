package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/gatewayapi"
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

// accessLog reads records of audit.seeker.<id> from sequence cursor on.
func (s *server) accessLog(ctx context.Context, id string, cursor uint64, limit int) (AccessLogPage, error) {
	page := AccessLogPage{Entries: []gatewayapi.AccessRecord{}}
	st, err := s.js.Stream(ctx, gatewayapi.SeekerRead.Stream)
	if err != nil {
		return page, apierr.Wrap(err, apierr.Unavailable, "the access log is unavailable")
	}
	seq := max(cursor, 1)
	for len(page.Entries) < limit {
		m, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(gatewayapi.SeekerRead.SubjectFor(id)))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return page, nil
		}
		if err != nil {
			return page, apierr.Wrap(err, apierr.Unavailable, "the access log is unavailable")
		}
		if rec, err := gatewayapi.SeekerRead.Decode(m.Data); err == nil {
			page.Entries = append(page.Entries, rec)
		}
		seq = m.Sequence + 1
	}
	if _, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(gatewayapi.SeekerRead.SubjectFor(id))); err == nil {
		page.NextCursor = strconv.FormatUint(seq, 10)
	}
	return page, nil
}

func (s *server) purgeAccessLog(ctx context.Context, id string) error {
	st, err := s.js.Stream(ctx, gatewayapi.SeekerRead.Stream)
	if err == nil {
		err = st.Purge(ctx, jetstream.WithPurgeSubject(gatewayapi.SeekerRead.SubjectFor(id)))
	}
	if err != nil {
		return apierr.Wrap(err, apierr.Unavailable, "could not remove the access log; try again")
	}
	return nil
}
