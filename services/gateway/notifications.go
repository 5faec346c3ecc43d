package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/auth"
	napi "github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
)

// Webhooks belong to the caller: a seeker's carry their own events, a
// counselor's their caseload's, an employer's their organisation's. An
// admin acts for the owner named by exactly one of ?seeker=, ?counselor=
// or ?org=; others act for themselves and may not name anyone.
func webhookOwner(r *http.Request) (napi.Owner, error) {
	p := auth.PrincipalFrom(r.Context())
	q := r.URL.Query()
	var named []napi.Owner
	for _, k := range []struct{ param, kind string }{{"seeker", napi.OwnerSeeker}, {"counselor", napi.OwnerCounselor}, {"org", napi.OwnerEmployer}} {
		if q.Has(k.param) {
			named = append(named, napi.Owner{Kind: k.kind, ID: q.Get(k.param)})
		}
	}
	if p.Role == auth.RoleAdmin {
		if len(named) != 1 {
			return napi.Owner{}, apierr.InvalidFields(apierr.FieldError{Field: "owner", Message: "admins name whose webhooks with exactly one of ?seeker=, ?counselor= or ?org="})
		}
		return named[0], nil
	}
	if len(named) > 0 {
		return napi.Owner{}, apierr.InvalidFields(apierr.FieldError{Field: "owner", Message: "webhooks are the caller's own; only admins name an owner"})
	}
	switch p.Role {
	case auth.RoleSeeker:
		return napi.Owner{Kind: napi.OwnerSeeker, ID: p.Subject}, nil
	case auth.RoleCounselor:
		return napi.Owner{Kind: napi.OwnerCounselor, ID: p.Subject}, nil
	}
	return napi.Owner{Kind: napi.OwnerEmployer, ID: p.Org}, nil
}

// webhookBody is what POST /v1/webhooks accepts.
type webhookBody struct {
	URL    string   `json:"url"`
	Events []string `json:"events,omitempty"`
}

func (s *server) handleCreateWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner, err := webhookOwner(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var body webhookBody
		if err := decodeBody(w, r, &body); err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := napi.WebhookCreate.Forward(r.Context(), s.nc, napi.WebhookCreateRequest{Owner: owner, URL: body.URL, Events: body.Events})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeRawJSON(w, http.StatusCreated, res)
	})
}

func (s *server) handleListWebhooks() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner, err := webhookOwner(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := napi.WebhookListing.Forward(r.Context(), s.nc, napi.OwnerRequest{Owner: owner})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeRawJSON(w, http.StatusOK, res)
	})
}

// handleWebhook serves DELETE /v1/webhooks/{id} and GET
// /v1/webhooks/{id}/deliveries: another owner's webhook is not found.
func (s *server) handleWebhook(ep func(ctx context.Context, ref napi.WebhookRef) (json.RawMessage, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner, err := webhookOwner(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		res, err := ep(r.Context(), napi.WebhookRef{Owner: owner, ID: r.PathValue("id")})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeRawJSON(w, http.StatusOK, res)
	})
}

func (s *server) deleteWebhook(ctx context.Context, ref napi.WebhookRef) (json.RawMessage, error) {
	return napi.WebhookDelete.Forward(ctx, s.nc, ref)
}

func (s *server) webhookDeliveries(ctx context.Context, ref napi.WebhookRef) (json.RawMessage, error) {
	return napi.WebhookDeliveries.Forward(ctx, s.nc, ref)
}

// sseHeartbeat is how long an event stream waits for a notification
// before it sends a comment line, which keeps proxies from closing it and
// shows a client the connection is alive.
const sseHeartbeat = 15 * time.Second

// handleEvents serves a seeker's or a counselor's notifications
// (GET /v1/seekers/{id}/events, GET /v1/counselors/{counselor}/events).
// With Accept: text/event-stream it is a server-sent events stream that
// resumes after Last-Event-ID (the header, or ?last_event_id=); otherwise
// it answers at once with the notifications after that id as JSON, for
// clients that poll. The stream ends when the client goes away or the
// server shuts down.
func (s *server) handleEvents(kind, param string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner := napi.Owner{Kind: kind, ID: r.PathValue(param)}
		after := r.Header.Get("Last-Event-ID")
		field := "Last-Event-ID"
		if after == "" {
			after, field = r.URL.Query().Get("last_event_id"), "last_event_id"
		}
		if after != "" && !napi.ValidEventID(after) {
			s.writeError(w, r, apierr.InvalidFields(apierr.FieldError{Field: field, Message: "an event id as the stream sent it (digits-digits)"}))
			return
		}
		first, err := napi.FeedRead.Call(r.Context(), s.nc, napi.FeedRequest{Owner: owner, After: after, Limit: napi.MaxFeedLimit})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			writeJSON(w, http.StatusOK, first)
			return
		}
		s.streamEvents(w, r, owner, first)
	})
}

func (s *server) streamEvents(w http.ResponseWriter, r *http.Request, owner napi.Owner, first napi.Feed) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // the server's write timeout is for ordinary responses
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := streamStop(r.Context())
	go func() { // ends with the request: cancel is deferred
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, _ = io.WriteString(w, "retry: 2000\n\n")
	writeEvents(w, first.Notifications)
	cursor := first.Cursor
	for {
		if err := rc.Flush(); err != nil || ctx.Err() != nil {
			return
		}
		callCtx, done := context.WithTimeout(ctx, sseHeartbeat+5*time.Second)
		feed, err := napi.FeedRead.Call(callCtx, s.nc, napi.FeedRequest{Owner: owner, After: cursor, WaitMS: int(sseHeartbeat.Milliseconds()), Limit: napi.MaxFeedLimit})
		done()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			// The bus or the service is away: say so, wait, and go on
			// from the same place.
			_, _ = io.WriteString(w, ": notifications unavailable; retrying\n\n")
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		case len(feed.Notifications) == 0:
			_, _ = io.WriteString(w, ": heartbeat\n\n")
		default:
			writeEvents(w, feed.Notifications)
			cursor = feed.Cursor
		}
	}
}

// writeEvents writes notifications as server-sent events: the feed's id,
// the notification type as the event name, the body as one data line.
func writeEvents(w io.Writer, ns []napi.Notification) {
	for _, n := range ns {
		fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", n.ID, n.Type, compactLine(n.Body))
	}
}

// compactLine makes sure a body is one line (data: cannot span lines).
func compactLine(b json.RawMessage) string {
	return strings.NewReplacer("\r", "", "\n", "").Replace(string(b))
}

type streamStopKey struct{}

// eventStreamStop returns the HTTP server's base context, carrying a
// channel that is closed when the server shuts down, and the function that
// closes it (for RegisterOnShutdown): Shutdown waits for requests to end,
// and an event stream ends only when told.
func eventStreamStop() (func(net.Listener) context.Context, func()) {
	stop := make(chan struct{})
	var once sync.Once
	base := func(net.Listener) context.Context {
		return context.WithValue(context.Background(), streamStopKey{}, (<-chan struct{})(stop))
	}
	return base, func() { once.Do(func() { close(stop) }) }
}

// streamStop is the shutdown channel of the server serving ctx's request
// (nil, which never fires, outside Serve).
func streamStop(ctx context.Context) <-chan struct{} {
	c, _ := ctx.Value(streamStopKey{}).(<-chan struct{})
	return c
}
