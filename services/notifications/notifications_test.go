package notifications_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	napi "github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"
	"github.com/clerkpath/clerkpath/services/notifications"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// stack is a test's servers, the notifications service and the two
// endpoints of other services it asks (profiles' relations, matching's
// posting), answered from the test's tables over the test's real NATS.
type stack struct {
	srv  *testenv.Servers
	keys *shred.Keyring
	mu   sync.Mutex
	rel  map[string]profile.Relations // seeker → relations
	org  map[string]string            // posting → employer organisation
	fail map[string]int               // seeker → how many relations requests to fail first
	asks map[string]int               // endpoint name → requests answered (relations, relations-batch)
}

var fast = notifications.Options{
	AllowLoopbackHTTP: true,
	Backoff:           []time.Duration{50 * time.Millisecond, 100 * time.Millisecond},
	PollEvery:         20 * time.Millisecond,
	Linger:            50 * time.Millisecond,
}

func newStack(t *testing.T) *stack { return newStackOf(t, true) }

// newStackOf is newStack whose profiles answers relations-batch only when
// batch is true (false: a profiles from before that endpoint).
func newStackOf(t *testing.T, batch bool) *stack {
	t.Helper()
	st := &stack{srv: testenv.Open(t, testenv.Needs{Streams: true, Redis: true}), rel: map[string]profile.Relations{}, org: map[string]string{}, fail: map[string]int{}, asks: map[string]int{}}
	ctx := context.Background()
	var err error
	if st.keys, err = shred.Open(ctx, st.srv.JS, 1); err != nil {
		t.Fatal(err)
	}
	peers, err := micro.AddService(st.srv.NC, micro.Config{Name: "peers", Version: "0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = peers.Stop() })
	bindings := []rpc.Binding{
		profilesapi.Relations.Bind(func(_ context.Context, r profilesapi.SeekerRef) (profile.Relations, error) {
			st.mu.Lock()
			defer st.mu.Unlock()
			st.asks[profilesapi.Relations.Name]++
			if st.fail[r.ID] > 0 {
				st.fail[r.ID]--
				return profile.Relations{}, apierr.New(apierr.Unavailable, "profiles is failing for %s", r.ID)
			}
			rel, ok := st.rel[r.ID]
			if !ok {
				return rel, apierr.New(apierr.NotFound, "no seeker %s", r.ID)
			}
			return rel, nil
		}),
		matchingapi.Posting.Bind(func(_ context.Context, r matchingapi.PostingRequest) (matchingapi.IndexedPosting, error) {
			st.mu.Lock()
			defer st.mu.Unlock()
			org, ok := st.org[r.ID]
			if !ok {
				return matchingapi.IndexedPosting{}, apierr.New(apierr.NotFound, "no posting %s", r.ID)
			}
			return matchingapi.IndexedPosting{EmployerID: org}, nil
		}),
	}
	if batch {
		// As profiles answers: the whole request fails when it fails for
		// any of its seekers; an unknown seeker's exists is false.
		bindings = append(bindings, profilesapi.RelationsBatch.Bind(func(_ context.Context, r profilesapi.RelationsRequest) (profilesapi.RelationsBatchReply, error) {
			st.mu.Lock()
			defer st.mu.Unlock()
			st.asks[profilesapi.RelationsBatch.Name]++
			var out profilesapi.RelationsBatchReply
			for _, id := range r.IDs {
				if st.fail[id] > 0 {
					st.fail[id]--
					return profilesapi.RelationsBatchReply{}, apierr.New(apierr.Unavailable, "profiles is failing for %s", id)
				}
				out.Relations = append(out.Relations, st.rel[id])
			}
			return out, nil
		}))
	}
	err = rpc.AddEndpoints(peers, st.srv.NC, zerolog.Nop(), 5*time.Second, bindings...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// start runs one copy of the service until the test ends.
func (st *stack) start(t *testing.T, opts notifications.Options) *notifications.Service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := notifications.New(ctx, st.srv.NC, st.srv.JS, st.srv.Redis, zerolog.Nop(), opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	testenv.Eventually(t, 5*time.Second, func() error { // every endpoint is served
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return rpc.Serving(ctx, st.srv.NC, "notifications", napi.Endpoints())
	})
	return s
}

// found publishes a sealed matches.found as the matching service does.
func (st *stack) found(t *testing.T, id, seeker string, postings ...string) {
	t.Helper()
	ctx := context.Background()
	sealed, err := st.keys.Seal(ctx, seeker, matchingapi.Found{SeekerID: seeker, Postings: postings})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Publish(ctx, st.srv.JS, events.Event{Subject: matchingapi.MatchesFound.Subject, ID: id, Source: "test", Payload: sealed}); err != nil {
		t.Fatal(err)
	}
}

// receiver is a webhook receiver that verifies every request's signature
// as Standard Webhooks specifies, written from the specification rather
// than from the service's code.
type receiver struct {
	*httptest.Server
	secret string
	status int
	mu     sync.Mutex
	got    []napi.Body
	ids    []string
	bad    []string
}

func newReceiver(t *testing.T, status int) *receiver {
	rc := &receiver{status: status}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := verify(rc.secret, r.Header, body); err != nil {
		rc.bad = append(rc.bad, err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var b napi.Body
	if err := json.Unmarshal(body, &b); err != nil {
		rc.bad = append(rc.bad, err.Error())
	}
	rc.got = append(rc.got, b)
	rc.ids = append(rc.ids, r.Header.Get("webhook-id"))
	w.WriteHeader(rc.status)
}

func (rc *receiver) received() ([]napi.Body, []string, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got), slices.Clone(rc.ids), slices.Clone(rc.bad)
}

// verify checks a Standard Webhooks signature: the base64 HMAC-SHA256,
// keyed with the base64-decoded part of the secret after "whsec_", of
// "<webhook-id>.<webhook-timestamp>.<body>", among the space-separated
// "v1,<signature>" values; the timestamp within five minutes.
func verify(secret string, h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("timestamp %q out of tolerance", ts)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		return fmt.Errorf("secret %q is not whsec_<base64>", secret)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		v, sig, ok := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if ok && v == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no valid signature")
}

func (st *stack) createHook(t *testing.T, owner napi.Owner, url string) napi.WebhookCreated {
	t.Helper()
	h, err := napi.WebhookCreate.Call(context.Background(), st.srv.NC, napi.WebhookCreateRequest{Owner: owner, URL: url})
	if err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	return h
}

func items[T any](t *testing.T, b napi.Body) []T {
	t.Helper()
	out := make([]T, len(b.Data.Items))
	for i, raw := range b.Data.Items {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestNewMatchesReachWebhooksSignedAndTheFeed(t *testing.T) {
	st := newStack(t)
	st.rel["seeker-a1"] = profile.Relations{Exists: true, OpenToEmployers: true, Counselors: []string{"coun-1"}}
	st.org["p-1"], st.org["p-2"] = "org-1", "org-2"
	st.start(t, fast)
	ctx := context.Background()

	seekerRx, counselorRx, employerRx := newReceiver(t, 204), newReceiver(t, 200), newReceiver(t, 200)
	seeker := napi.Owner{Kind: napi.OwnerSeeker, ID: "seeker-a1"}
	seekerRx.secret = st.createHook(t, seeker, seekerRx.URL+"/hook").Secret
	counselorRx.secret = st.createHook(t, napi.Owner{Kind: napi.OwnerCounselor, ID: "coun-1"}, counselorRx.URL).Secret
	employerRx.secret = st.createHook(t, napi.Owner{Kind: napi.OwnerEmployer, ID: "org-1"}, employerRx.URL).Secret

	// The feed's end before anything happened: the SSE stream's start.
	start, err := napi.FeedRead.Call(ctx, st.srv.NC, napi.FeedRequest{Owner: seeker})
	if err != nil {
		t.Fatal(err)
	}
	st.found(t, "found:1", "seeker-a1", "p-1", "p-2")

	testenv.Eventually(t, 10*time.Second, func() error {
		for name, rx := range map[string]*receiver{"seeker": seekerRx, "counselor": counselorRx, "employer": employerRx} {
			if got, _, _ := rx.received(); len(got) == 0 {
				return fmt.Errorf("the %s's receiver got nothing yet", name)
			}
		}
		return nil
	})
	got, ids, bad := seekerRx.received()
	if len(bad) > 0 || len(got) != 1 || got[0].Type != napi.TypeMatchesNew {
		t.Fatalf("seeker's receiver: got %+v, refused %v", got, bad)
	}
	if m := items[napi.MatchItem](t, got[0]); len(m) != 2 || m[0].PostingID != "p-1" || m[0].SeekerID != "" {
		t.Errorf("seeker's items %+v: want p-1 and p-2, without a seeker id", m)
	}
	got, _, _ = counselorRx.received()
	if m := items[napi.MatchItem](t, got[0]); len(m) != 2 || m[0].SeekerID != "seeker-a1" {
		t.Errorf("counselor's items %+v: want the client's id", m)
	}
	got, _, _ = employerRx.received()
	if c := items[napi.CandidateItem](t, got[0]); len(c) != 1 || c[0] != (napi.CandidateItem{PostingID: "p-1", SeekerID: "seeker-a1"}) {
		t.Errorf("org-1's items %+v: want the opted-in candidate for its own posting only", c)
	}

	feed, err := napi.FeedRead.Call(ctx, st.srv.NC, napi.FeedRequest{Owner: seeker, After: start.Cursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(feed.Notifications) != 1 || feed.Notifications[0].Type != napi.TypeMatchesNew || feed.Cursor != feed.Notifications[0].ID {
		t.Fatalf("feed after %s: %+v", start.Cursor, feed)
	}
	if want := "msg_" + strings.ReplaceAll(feed.Notifications[0].ID, "-", "_"); ids[0] != want {
		t.Errorf("webhook-id %s, want %s (the feed entry's id)", ids[0], want)
	}
	// Resuming after the last id waits for the next one.
	began := time.Now()
	feed, err = napi.FeedRead.Call(ctx, st.srv.NC, napi.FeedRequest{Owner: seeker, After: feed.Cursor, WaitMS: 300})
	if err != nil || len(feed.Notifications) != 0 || time.Since(began) < 250*time.Millisecond {
		t.Fatalf("resume after the last: %+v, %v after %s; want nothing after waiting", feed, err, time.Since(began))
	}

	// The delivery is listed for its owner, and only for its owner.
	hooks, err := napi.WebhookListing.Call(ctx, st.srv.NC, napi.OwnerRequest{Owner: seeker})
	if err != nil || len(hooks.Webhooks) != 1 {
		t.Fatalf("list: %+v, %v", hooks, err)
	}
	ref := napi.WebhookRef{Owner: seeker, ID: hooks.Webhooks[0].ID}
	ds, err := napi.WebhookDeliveries.Call(ctx, st.srv.NC, ref)
	if err != nil || len(ds.Deliveries) != 1 || !ds.Deliveries[0].OK || ds.Deliveries[0].Status != 204 {
		t.Fatalf("deliveries: %+v, %v", ds, err)
	}
	other := napi.WebhookRef{Owner: napi.Owner{Kind: napi.OwnerSeeker, ID: "seeker-b2"}, ID: ref.ID}
	if _, err := napi.WebhookDeliveries.Call(ctx, st.srv.NC, other); apierr.CodeOf(err) != apierr.NotFound {
		t.Errorf("another seeker reads the deliveries: %v, want not_found", err)
	}
	if _, err := napi.WebhookDelete.Call(ctx, st.srv.NC, other); apierr.CodeOf(err) != apierr.NotFound {
		t.Errorf("another seeker deletes the webhook: %v, want not_found", err)
	}
	if _, err := napi.WebhookDelete.Call(ctx, st.srv.NC, ref); err != nil {
		t.Fatal(err)
	}
	if hooks, _ := napi.WebhookListing.Call(ctx, st.srv.NC, napi.OwnerRequest{Owner: seeker}); len(hooks.Webhooks) != 0 {
		t.Errorf("after delete: %+v", hooks)
	}
}

func TestFailingReceiverIsRetriedWithBackoffThenDisabled(t *testing.T) {
	st := newStack(t)
	st.rel["seeker-f"] = profile.Relations{Exists: true}
	st.start(t, fast)
	rx := newReceiver(t, http.StatusInternalServerError)
	owner := napi.Owner{Kind: napi.OwnerSeeker, ID: "seeker-f"}
	h := st.createHook(t, owner, rx.URL)
	rx.secret = h.Secret
	st.found(t, "found:f1", "seeker-f", "p-9")
	ctx := context.Background()
	var ds napi.DeliveryList
	testenv.Eventually(t, 10*time.Second, func() error {
		hooks, err := napi.WebhookListing.Call(ctx, st.srv.NC, napi.OwnerRequest{Owner: owner})
		if err != nil {
			return err
		}
		if !hooks.Webhooks[0].Disabled {
			return errors.New("not disabled yet")
		}
		if !strings.Contains(hooks.Webhooks[0].DisabledReason, "3 failed attempts") {
			t.Errorf("reason %q", hooks.Webhooks[0].DisabledReason)
		}
		ds, err = napi.WebhookDeliveries.Call(ctx, st.srv.NC, napi.WebhookRef{Owner: owner, ID: h.ID})
		return err
	})
	got, ids, bad := rx.received()
	if len(got) != 3 || len(bad) > 0 || ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("receiver got %d signed deliveries (ids %v, refused %v); want the same message 3 times", len(got), ids, bad)
	}
	if len(ds.Deliveries) != 3 {
		t.Fatalf("deliveries: %+v", ds)
	}
	// Newest first: the last attempt has no next try; the first two waited 50 and 100 ms.
	first, second, last := ds.Deliveries[2], ds.Deliveries[1], ds.Deliveries[0]
	if last.Attempt != 3 || last.NextTry != nil || last.Status != 500 || last.OK {
		t.Errorf("last attempt %+v", last)
	}
	if first.NextTry == nil || second.NextTry == nil {
		t.Fatalf("retried attempts carry their next try: %+v %+v", first, second)
	}
	if d := first.NextTry.Sub(first.At); d < 50*time.Millisecond || d > 150*time.Millisecond {
		t.Errorf("first back-off %s, want 50 ms", d)
	}
	if d := second.NextTry.Sub(second.At); d < 100*time.Millisecond || d > 200*time.Millisecond {
		t.Errorf("second back-off %s, want 100 ms", d)
	}
	if !second.At.After(*first.NextTry) && !second.At.Equal(*first.NextTry) {
		t.Errorf("second attempt at %s, before its time %s", second.At, *first.NextTry)
	}
	// A disabled webhook gets nothing more.
	st.found(t, "found:f2", "seeker-f", "p-10")
	time.Sleep(300 * time.Millisecond)
	if got, _, _ := rx.received(); len(got) != 3 {
		t.Errorf("a disabled webhook got %d deliveries", len(got))
	}
}

func TestBadWebhooksAreFieldErrors(t *testing.T) {
	st := newStack(t)
	st.start(t, notifications.Options{})
	seeker := napi.Owner{Kind: napi.OwnerSeeker, ID: "seeker-x"}
	for _, c := range []struct {
		req   napi.WebhookCreateRequest
		field string
	}{
		{napi.WebhookCreateRequest{Owner: seeker, URL: "http://example.com/hook"}, "url"},
		{napi.WebhookCreateRequest{Owner: seeker, URL: "http://127.0.0.1:9/hook"}, "url"}, // loopback http only when allowed
		{napi.WebhookCreateRequest{Owner: seeker, URL: "https://10.1.2.3/hook"}, "url"},
		{napi.WebhookCreateRequest{Owner: seeker, URL: "https://user:pw@example.com/"}, "url"},
		{napi.WebhookCreateRequest{Owner: seeker, URL: "not a url"}, "url"},
		{napi.WebhookCreateRequest{Owner: seeker, URL: "https://example.com/", Events: []string{"matches.new", "everything"}}, "events[1]"},
		{napi.WebhookCreateRequest{Owner: napi.Owner{Kind: "admin", ID: "x"}, URL: "https://example.com/"}, "owner.kind"},
	} {
		_, err := napi.WebhookCreate.Call(context.Background(), st.srv.NC, c.req)
		e := apierr.As(err)
		if e == nil || e.Code != apierr.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != c.field {
			t.Errorf("%+v: %v, want a field error on %s", c.req, err, c.field)
		}
	}
	if _, err := napi.WebhookCreate.Call(context.Background(), st.srv.NC, napi.WebhookCreateRequest{Owner: seeker, URL: "https://example.com/hook"}); err != nil {
		t.Errorf("an https URL: %v", err)
	}
	if _, err := napi.FeedRead.Call(context.Background(), st.srv.NC, napi.FeedRequest{Owner: seeker, After: "yesterday"}); apierr.As(err) == nil || apierr.As(err).Fields[0].Field != "after" {
		t.Errorf("a bad Last-Event-ID: %v", err)
	}
}

// Two copies share the consumers: every event reaches each webhook once,
// whichever copy handled it.
func TestTwoCopiesDeliverEachEventOnce(t *testing.T) {
	st := newStack(t)
	st.start(t, fast)
	st.start(t, fast)
	const seekers = 8
	for i := range seekers {
		st.rel[fmt.Sprintf("seeker-%d", i)] = profile.Relations{Exists: true}
	}
	// One receiver per seeker, each with its own secret.
	rxs := make([]*receiver, seekers)
	for i := range seekers {
		rxs[i] = newReceiver(t, 200)
		rxs[i].secret = st.createHook(t, napi.Owner{Kind: napi.OwnerSeeker, ID: fmt.Sprintf("seeker-%d", i)}, rxs[i].URL).Secret
	}
	for round := range 3 {
		for i := range seekers {
			st.found(t, fmt.Sprintf("found:%d:%d", i, round), fmt.Sprintf("seeker-%d", i), fmt.Sprintf("p-%d-%d", i, round))
		}
		time.Sleep(120 * time.Millisecond) // beyond the linger: another notification
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		for i, r := range rxs {
			got, _, bad := r.received()
			if len(bad) > 0 {
				return fmt.Errorf("seeker-%d: refused %v", i, bad)
			}
			n := 0
			for _, b := range got {
				n += len(b.Data.Items)
			}
			if n < 3 {
				return fmt.Errorf("seeker-%d: %d of 3 matches", i, n)
			}
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond)
	for i, r := range rxs {
		got, _, _ := r.received()
		seen := map[string]int{}
		for _, b := range got {
			for _, m := range items[napi.MatchItem](t, b) {
				seen[m.PostingID]++
			}
		}
		for p, n := range seen {
			if n != 1 {
				t.Errorf("seeker-%d was told %d times about %s", i, n, p)
			}
		}
	}
}

// Verify (for Go receivers) agrees with the specification's verification
// above, and refuses a changed body, a wrong secret and an old timestamp.
func TestVerifyAgreesWithTheSpecification(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	body := []byte(`{"type":"matches.new","timestamp":"2026-12-02T06:00:00Z","data":{"items":[]}}`)
	now := time.Now()
	sig, err := notifications.Sign(secret, "msg_1", now.Unix(), body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("webhook-signature", "v1,bm90IGl0 "+sig) // an old key's signature first, as during a rotation
	if err := verify(secret, h, body); err != nil {
		t.Fatalf("the specification's check: %v", err)
	}
	if err := notifications.Verify(secret, h, body, now, 5*time.Minute); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another key entirely, 32 bytes!!"))
	for name, check := range map[string]error{
		"changed body": notifications.Verify(secret, h, append(body, ' '), now, 5*time.Minute),
		"wrong secret": notifications.Verify(other, h, body, now, 5*time.Minute),
		"old message":  notifications.Verify(secret, h, body, now.Add(10*time.Minute), 5*time.Minute),
	} {
		if check == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

// CheckURL never accepts what a webhook must not reach.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://example.com/hook", "http://127.0.0.1:8080/x", "https://[::1]/", "https://10.0.0.1/",
		"http://localhost/", "https://user@host/", "ftp://x/", "https://example.com/#frag", "https://169.254.169.254/latest"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, allow bool) {
		if notifications.CheckURL(raw, allow) != "" {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", raw, err)
		}
		scheme := strings.ToLower(u.Scheme)
		host := u.Hostname()
		switch {
		case u.User != nil || u.Fragment != "" || host == "":
			t.Fatalf("accepted %q with user info, a fragment or no host", raw)
		case scheme == "http" && !allow:
			t.Fatalf("accepted http %q without the loopback allowance", raw)
		case scheme != "https" && scheme != "http":
			t.Fatalf("accepted scheme %q", scheme)
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			ip = ip.Unmap()
			if (ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()) || (ip.IsLoopback() && !allow) {
				t.Fatalf("accepted %q: address %s", raw, ip)
			}
		}
	})
}

// After a seeker's deletion nothing the service keeps in Redis names them:
// not their own records (stored under a pseudonym from the start), nor
// what their counselor's and the employer's feeds and deliveries said.
func TestDeletedSeekerIsForgotten(t *testing.T) {
	st := newStack(t)
	const seeker = "seeker-9d2e71"
	st.rel[seeker] = profile.Relations{Exists: true, OpenToEmployers: true, Counselors: []string{"coun-9"}}
	st.org["p-77"] = "org-9"
	st.start(t, fast)
	ctx := context.Background()
	rx := newReceiver(t, http.StatusServiceUnavailable) // deliveries stay pending
	rx.secret = st.createHook(t, napi.Owner{Kind: napi.OwnerCounselor, ID: "coun-9"}, rx.URL).Secret
	st.createHook(t, napi.Owner{Kind: napi.OwnerSeeker, ID: seeker}, "https://receiver.invalid/hook")
	counselor := napi.Owner{Kind: napi.OwnerCounselor, ID: "coun-9"}
	st.found(t, "found:d1", seeker, "p-77")
	testenv.Eventually(t, 10*time.Second, func() error {
		f, err := napi.FeedRead.Call(ctx, st.srv.NC, napi.FeedRequest{Owner: counselor, After: "0-0"})
		if err != nil || len(f.Notifications) == 0 || !strings.Contains(string(f.Notifications[0].Body), seeker) {
			return fmt.Errorf("counselor's feed %+v, %v: want the client named", f, err)
		}
		return nil
	})
	if err := redisNames(ctx, st.srv.Redis, seeker); err == nil {
		t.Fatal("before the deletion no key or value names the seeker: the check below would prove nothing")
	}
	if _, err := events.Publish(ctx, st.srv.JS, events.Event{Subject: events.SeekerSubjectPrefix + seeker, Type: events.TypeSeekerDeleted,
		ID: "delete:" + seeker, Source: "test", Payload: profilesapi.SeekerRef{ID: seeker}}); err != nil {
		t.Fatal(err)
	}
	if err := st.keys.Shred(ctx, seeker); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error { return redisNames(ctx, st.srv.Redis, seeker) })
	hooks, err := napi.WebhookListing.Call(ctx, st.srv.NC, napi.OwnerRequest{Owner: napi.Owner{Kind: napi.OwnerSeeker, ID: seeker}})
	if err != nil || len(hooks.Webhooks) != 0 {
		t.Errorf("the deleted seeker's webhooks: %+v, %v", hooks, err)
	}
	// A closure of a posting they matched makes no new feed for them.
	if _, err := events.Publish(ctx, st.srv.JS, events.Event{Subject: events.JobsClosed, ID: "close:p-77", Source: "test",
		Payload: map[string]string{"id": "p-77", "reason": "filled"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	f, err := napi.FeedRead.Call(ctx, st.srv.NC, napi.FeedRequest{Owner: napi.Owner{Kind: napi.OwnerSeeker, ID: seeker}, After: "0-0"})
	if err != nil || len(f.Notifications) != 0 {
		t.Errorf("the deleted seeker's feed: %+v, %v", f, err)
	}
}

// redisNames fails when a key, or any value, of the database names needle.
func redisNames(ctx context.Context, rdb *redis.Client, needle string) error {
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		return err
	}
	for _, k := range keys {
		if strings.Contains(k, needle) {
			return fmt.Errorf("key %s names %s", k, needle)
		}
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			return err
		}
		var v any
		switch typ {
		case "string":
			v, err = rdb.Get(ctx, k).Result()
		case "set":
			v, err = rdb.SMembers(ctx, k).Result()
		case "hash":
			v, err = rdb.HGetAll(ctx, k).Result()
		case "list":
			v, err = rdb.LRange(ctx, k, 0, -1).Result()
		case "zset":
			v, err = rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "stream":
			v, err = rdb.XRange(ctx, k, "-", "+").Result()
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if strings.Contains(fmt.Sprint(v), needle) {
			return fmt.Errorf("the %s %s names %s", typ, k, needle)
		}
	}
	return nil
}

// A posting a seeker was told they matched, once closed, is told to them.
func TestClosedPostingIsToldToItsMatchedSeekers(t *testing.T) {
	st := newStack(t)
	st.rel["seeker-c"] = profile.Relations{Exists: true}
	st.start(t, fast)
	ctx := context.Background()
	owner := napi.Owner{Kind: napi.OwnerSeeker, ID: "seeker-c"}
	st.found(t, "found:c1", "seeker-c", "p-5", "p-6")
	testenv.Eventually(t, 10*time.Second, func() error {
		f, err := napi.FeedRead.Call(ctx, st.srv.NC, napi.FeedRequest{Owner: owner, After: "0-0"})
		if err != nil || len(f.Notifications) != 1 {
			return fmt.Errorf("feed %+v, %v", f, err)
		}
		return nil
	})
	if _, err := events.Publish(ctx, st.srv.JS, events.Event{Subject: events.JobsClosed, ID: "close:p-6", Source: "test",
		Payload: map[string]string{"id": "p-6", "reason": "filled"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		f, err := napi.FeedRead.Call(ctx, st.srv.NC, napi.FeedRequest{Owner: owner, After: "0-0"})
		if err != nil || len(f.Notifications) != 2 {
			return fmt.Errorf("feed %+v, %v", f, err)
		}
		var b napi.Body
		if err := json.Unmarshal(f.Notifications[1].Body, &b); err != nil {
			return err
		}
		if c := items[napi.ClosedItem](t, b); b.Type != napi.TypePostingClosed || len(c) != 1 || c[0] != (napi.ClosedItem{PostingID: "p-6", Reason: "filled"}) {
			return fmt.Errorf("closure told as %+v", b)
		}
		return nil
	})
}

// A posting that was a near miss of the seeker and is now a match is told
// as near_miss.matched, with what it was missing, to the seeker and their
// counselors, and not a second time as a new match; the announcement's
// other postings are matches.new, both in the same batch.
func TestNearMissThatBecameAMatchIsToldOnce(t *testing.T) {
	st := newStack(t)
	st.rel["seeker-n1"] = profile.Relations{Exists: true, Counselors: []string{"coun-n"}}
	st.start(t, fast)
	ctx := context.Background()
	seeker := napi.Owner{Kind: napi.OwnerSeeker, ID: "seeker-n1"}
	seekerRx, counselorRx := newReceiver(t, 204), newReceiver(t, 204)
	seekerRx.secret = st.createHook(t, seeker, seekerRx.URL).Secret
	counselorRx.secret = st.createHook(t, napi.Owner{Kind: napi.OwnerCounselor, ID: "coun-n"}, counselorRx.URL).Secret

	sealed, err := st.keys.Seal(ctx, "seeker-n1", matchingapi.Found{SeekerID: "seeker-n1", Postings: []string{"p-new", "p-near"},
		WasNearMiss: []matchingapi.FormerNearMiss{{PostingID: "p-near", Missing: []string{"CCA"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Publish(ctx, st.srv.JS, events.Event{Subject: matchingapi.MatchesFound.Subject, ID: "found:near", Source: "test", Payload: sealed}); err != nil {
		t.Fatal(err)
	}
	byType := func(rx *receiver) map[string]napi.Body {
		got, _, _ := rx.received()
		out := map[string]napi.Body{}
		for _, b := range got {
			if _, dup := out[b.Type]; dup {
				t.Errorf("%s told twice", b.Type)
			}
			out[b.Type] = b
		}
		return out
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		for name, rx := range map[string]*receiver{"seeker": seekerRx, "counselor": counselorRx} {
			if got, _, bad := rx.received(); len(got) < 2 || len(bad) > 0 {
				return fmt.Errorf("the %s's receiver got %d notifications (refused %v)", name, len(got), bad)
			}
		}
		return nil
	})
	own := byType(seekerRx)
	if m := items[napi.MatchItem](t, own[napi.TypeMatchesNew]); len(m) != 1 || m[0] != (napi.MatchItem{PostingID: "p-new"}) {
		t.Errorf("seeker's new matches %+v: want p-new only", m)
	}
	if n := items[napi.NearMissItem](t, own[napi.TypeNearMissMatched]); len(n) != 1 || n[0].PostingID != "p-near" || n[0].SeekerID != "" || fmt.Sprint(n[0].Missing) != "[CCA]" {
		t.Errorf("seeker's near misses matched %+v: want p-near, missing CCA, no seeker id", n)
	}
	theirs := byType(counselorRx)
	if n := items[napi.NearMissItem](t, theirs[napi.TypeNearMissMatched]); len(n) != 1 || n[0].PostingID != "p-near" || n[0].SeekerID != "seeker-n1" {
		t.Errorf("counselor's near misses matched %+v: want p-near naming the client", n)
	}
	if m := items[napi.MatchItem](t, theirs[napi.TypeMatchesNew]); len(m) != 1 || m[0].PostingID != "p-new" {
		t.Errorf("counselor's new matches %+v: want p-new only", m)
	}
	// Nothing more comes (a redelivery, a second type of the same event).
	time.Sleep(300 * time.Millisecond)
	if got, _, _ := seekerRx.received(); len(got) != 2 {
		t.Errorf("seeker got %d notifications, want 2", len(got))
	}
}
