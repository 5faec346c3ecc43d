package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	napi "github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
	"github.com/clerkpath/clerkpath/pkg/testenv"
	"github.com/clerkpath/clerkpath/services/notifications"
)

// hookReceiver is a webhook receiver over real HTTP that accepts only
// deliveries whose Standard Webhooks signature verifies.
type hookReceiver struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	bodies []napi.Body
	bad    []string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rx := &hookReceiver{}
	rx.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rx.mu.Lock()
		defer rx.mu.Unlock()
		if err := notifications.Verify(rx.secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			rx.bad = append(rx.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var b napi.Body
		if err := json.Unmarshal(body, &b); err != nil {
			rx.bad = append(rx.bad, err.Error())
		}
		rx.bodies = append(rx.bodies, b)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rx.Close)
	return rx
}

// postings lists the posting ids of the matches.new notifications received.
func (rx *hookReceiver) postings(t *testing.T) []string {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	if len(rx.bad) > 0 {
		t.Fatalf("the receiver refused deliveries: %v", rx.bad)
	}
	return matchedPostings(t, rx.bodies)
}

func matchedPostings(t *testing.T, bodies []napi.Body) []string {
	var out []string
	for _, b := range bodies {
		if b.Type != napi.TypeMatchesNew {
			continue
		}
		for _, raw := range b.Data.Items {
			var m napi.MatchItem
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m.PostingID)
		}
	}
	return out
}

// sseEvent is one server-sent event.
type sseEvent struct{ id, event, data string }

// sseClient reads a text/event-stream response line by line, as a browser's
// EventSource does, and hands over each complete event.
type sseClient struct {
	events chan sseEvent
	cancel context.CancelFunc
	done   chan struct{}
}

func openSSE(t *testing.T, url string, headers ...string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("event stream: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	c := &sseClient{events: make(chan sseEvent, 100), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.data != "" {
					c.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return c
}

func (c *sseClient) close() { c.cancel(); <-c.done }

// next waits for the next event.
func (c *sseClient) next(t *testing.T, wait time.Duration) sseEvent {
	t.Helper()
	select {
	case ev := <-c.events:
		return ev
	case <-time.After(wait):
		t.Fatalf("no server-sent event within %s", wait)
	}
	return sseEvent{}
}

// A new posting reaches a seeker's webhook receiver, signed and verifiable,
// and the seeker's event stream, within seconds; the stream resumes after
// Last-Event-ID; a bad URL is a field-level 400; and once the seeker is
// deleted nothing the notifications service keeps in Redis names them.
func TestNewPostingReachesWebhookAndEventStream(t *testing.T) {
	t.Setenv(notifications.EnvAllowLoopbackHTTP, "1")
	// A stream still open when the stack stops ends with the server
	// (checked last: this cleanup runs after the stack's, which fails
	// the test when the gateway does not shut down in time).
	var lingering *sseClient
	t.Cleanup(func() {
		if lingering == nil {
			return
		}
		select {
		case <-lingering.done:
		case <-time.After(5 * time.Second):
			t.Error("an event stream was still open 5 s after the gateway stopped")
			lingering.cancel()
		}
	})
	s := startStack(t)
	const seeker = "nia-7f3a9c"
	me := bearer(s.token(t, "seeker", seeker, ""))
	emp := bearer(s.token(t, "employer", "e-nt", "harbor"))
	profile := `{"education":[{"level":"high_school","status":"completed"}],"experience":[{"area":"records","months":6}],"location":{"postal_code":"10001"},"radius_miles":15}`
	if code, _, b := s.do(t, "PUT", "/v1/seekers/"+seeker, "application/json", profile, me...); code != 200 {
		t.Fatalf("profile: %d %s", code, b)
	}

	if code, _, b := s.do(t, "PUT", "/v1/seekers/"+seeker+"/counselors/coach-nt", "", "", me...); code >= 300 {
		t.Fatalf("link counselor: %d %s", code, b)
	}
	coach := bearer(s.token(t, "counselor", "coach-nt", ""))

	code, _, b := s.do(t, "POST", "/v1/webhooks", "application/json", `{"url":"http://example.com/hook"}`, me...)
	if code != 400 || !strings.Contains(string(b), `"field":"url"`) {
		t.Fatalf("a plain-http URL off loopback: %d %s; want a 400 naming url", code, b)
	}
	rx := newHookReceiver(t)
	code, _, b = s.do(t, "POST", "/v1/webhooks", "application/json", `{"url":"`+rx.URL+`/clerkpath","events":["matches.new"]}`, me...)
	if code != 201 {
		t.Fatalf("create webhook: %d %s", code, b)
	}
	created := decode[napi.WebhookCreated](t, b)
	rx.secret = created.Secret
	if !strings.HasPrefix(created.Secret, "whsec_") {
		t.Fatalf("secret %q", created.Secret)
	}
	code, _, b = s.do(t, "GET", "/v1/webhooks", "", "", me...)
	if code != 200 || strings.Contains(string(b), "whsec_") || !strings.Contains(string(b), created.ID) {
		t.Fatalf("list: %d %s; want the webhook without its secret", code, b)
	}

	stream := openSSE(t, s.base+"/v1/seekers/"+seeker+"/events", me...)
	t.Cleanup(stream.close)
	post := func(title string) string {
		t.Helper()
		body := `{"title":"` + title + `","description":"Scan and index charts. High school diploma required.","employer":"Harbor Clinic","postal_code":"10001","date_posted":"2026-11-20"}`
		code, _, b := s.do(t, "POST", "/v1/postings", "application/json", body, emp...)
		if code != http.StatusCreated {
			t.Fatalf("post: %d %s", code, b)
		}
		return decode[struct {
			Accepted []struct{ ID string } `json:"accepted"`
		}](t, b).Accepted[0].ID
	}
	began := time.Now()
	first := post("Medical Records Clerk")
	ev := stream.next(t, 20*time.Second)
	t.Logf("posting to event stream: %s", time.Since(began).Round(10*time.Millisecond))
	if ev.event != napi.TypeMatchesNew || ev.id == "" {
		t.Fatalf("first event %+v", ev)
	}
	var body napi.Body
	if err := json.Unmarshal([]byte(ev.data), &body); err != nil {
		t.Fatal(err)
	}
	if got := matchedPostings(t, []napi.Body{body}); !slices.Contains(got, first) {
		t.Fatalf("the event names %v, not the new posting %s", got, first)
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		if got := rx.postings(t); !slices.Contains(got, first) {
			return fmt.Errorf("the webhook got %v, not yet %s", got, first)
		}
		return nil
	})
	t.Logf("posting to webhook and event stream: %s", time.Since(began).Round(10*time.Millisecond))

	// Resume: a second posting while the client is away comes after
	// Last-Event-ID, and the first does not come again.
	stream.close()
	began = time.Now()
	second := post("Health Information Clerk")
	testenv.Eventually(t, 20*time.Second, func() error {
		if got := rx.postings(t); !slices.Contains(got, second) {
			return fmt.Errorf("the webhook got %v, not yet %s", got, second)
		}
		return nil
	})
	t.Logf("second posting to webhook: %s", time.Since(began).Round(10*time.Millisecond))
	resumed := openSSE(t, s.base+"/v1/seekers/"+seeker+"/events", append(me, "Last-Event-ID", ev.id)...)
	t.Cleanup(resumed.close)
	again := resumed.next(t, 10*time.Second)
	if err := json.Unmarshal([]byte(again.data), &body); err != nil {
		t.Fatal(err)
	}
	if got := matchedPostings(t, []napi.Body{body}); !slices.Contains(got, second) || slices.Contains(got, first) || again.id <= ev.id {
		t.Fatalf("resumed after %s: %+v (postings %v); want %s only", ev.id, again, got, second)
	}
	resumed.close()
	code, _, b = s.do(t, "GET", "/v1/webhooks/"+created.ID+"/deliveries", "", "", me...)
	if code != 200 || !strings.Contains(string(b), `"ok":true`) {
		t.Fatalf("deliveries: %d %s", code, b)
	}

	// The counselor's feed names the client (polled as JSON, from the start).
	code, _, b = s.do(t, "GET", "/v1/counselors/coach-nt/events?last_event_id=0-0", "", "", coach...)
	if code != 200 || !strings.Contains(string(b), seeker) {
		t.Fatalf("counselor's notifications: %d %s; want the client named", code, b)
	}

	// Deleted: the counselor's entries naming the client go (the
	// notifications module's tests check every key and value in Redis).
	if code, _, b := s.do(t, "DELETE", "/v1/seekers/"+seeker, "", "", me...); code != 200 && code != 204 {
		t.Fatalf("delete: %d %s", code, b)
	}
	lingering = openSSE(t, s.base+"/v1/counselors/coach-nt/events", coach...)
	testenv.Eventually(t, 10*time.Second, func() error {
		code, _, b := s.do(t, "GET", "/v1/counselors/coach-nt/events?last_event_id=0-0", "", "", coach...)
		if code != 200 || strings.Contains(string(b), seeker) {
			return fmt.Errorf("counselor's notifications after the deletion: %d %s", code, b)
		}
		return nil
	})
}
