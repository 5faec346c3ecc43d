package credentials_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/credentialsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"
	"github.com/clerkpath/clerkpath/services/credentials"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// harness runs the credentials service against real NATS and Redis. The
// profiles and matching services are not imported (services never import
// each other); small stand-ins answer their subjects over the same NATS.
type harness struct {
	t    *testing.T
	p    *testenv.Servers
	svc  *credentials.Service
	keys *shred.Keyring

	mu      sync.Mutex
	seekers map[string]profile.Seeker
}

func start(t *testing.T) *harness {
	t.Helper()
	p := testenv.Open(t, testenv.Needs{Streams: true, Redis: true})
	ctx, cancel := context.WithCancel(context.Background())
	svc := newService(ctx, t, p, p.NC, p.JS)
	keys, err := shred.Open(ctx, p.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, p: p, svc: svc, keys: keys, seekers: map[string]profile.Seeker{}}
	profiles, err := micro.AddService(p.NC, micro.Config{Name: "profiles-standin", Version: "0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	err = profiles.AddEndpoint("seeker-get", rpc.Handler(p.NC, zerolog.Nop(), 5*time.Second, func(ctx context.Context, r rpc.Request) (any, error) {
		var ref struct{ ID string }
		if err := json.Unmarshal(r.Data, &ref); err != nil {
			return nil, err
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		sk, ok := h.seekers[ref.ID]
		if !ok {
			return nil, apierr.New(apierr.NotFound, "no seeker %s", ref.ID)
		}
		return sk, nil
	}), micro.WithEndpointSubject(profilesapi.SeekerGet.Subject))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		_ = profiles.Stop()
	})
	testenv.Eventually(t, 5*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return rpc.Serving(ctx, p.NC, "credentials", credentialsapi.Endpoints())
	})
	return h
}

// newService builds a credentials service on the test's servers, reached
// through nc and js.
func newService(ctx context.Context, t *testing.T, p *testenv.Servers, nc *nats.Conn, js jetstream.JetStream) *credentials.Service {
	t.Helper()
	svc, err := credentials.New(ctx, nc, js, p.Redis, zerolog.Nop(), credentials.Options{
		ScanInterval: -1, Projection: fastGenerations, ExpiringDays: p.Config.ExpiringDays, RequestTimeout: p.Config.RequestTimeout})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// putSeeker makes the profiles stand-in know a seeker, and gives the
// seeker a key as the real profiles service does when it stores a profile.
func (h *harness) putSeeker(sk profile.Seeker) {
	h.t.Helper()
	if _, err := h.keys.Seal(context.Background(), sk.ID, "profile"); err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	h.seekers[sk.ID] = sk
	h.mu.Unlock()
}

// deleteSeeker does what the profiles service does on deletion: it
// publishes profiles.seeker.<pseudonym> of type deleted, naming only the
// pseudonym, and shreds the key.
func (h *harness) deleteSeeker(id string) {
	h.t.Helper()
	h.mu.Lock()
	delete(h.seekers, id)
	h.mu.Unlock()
	ctx := context.Background()
	p := h.keys.Pseudonym(id)
	if _, err := events.Publish(ctx, h.p.JS, events.Event{
		Subject: events.SeekerSubjectPrefix + p, ID: "delete:" + p, Type: events.TypeSeekerDeleted,
		Source: "profiles", Payload: map[string]string{"id": p},
	}); err != nil {
		h.t.Fatal(err)
	}
	if err := h.keys.Shred(ctx, id); err != nil {
		h.t.Fatal(err)
	}
}

// market answers svc.matching.market with d until the test ends or stop
// is called.
func (h *harness) market(d matchingapi.MarketDemand) (stop func(), asked func() []map[string]any) {
	h.t.Helper()
	var mu sync.Mutex
	var reqs []map[string]any
	svc, err := micro.AddService(h.p.NC, micro.Config{Name: "matching-standin", Version: "0.0.1"})
	if err != nil {
		h.t.Fatal(err)
	}
	err = svc.AddEndpoint("market", rpc.Handler(h.p.NC, zerolog.Nop(), 5*time.Second, func(ctx context.Context, r rpc.Request) (any, error) {
		var req map[string]any
		_ = json.Unmarshal(r.Data, &req)
		mu.Lock()
		reqs = append(reqs, req)
		mu.Unlock()
		return d, nil
	}), micro.WithEndpointSubject(matchingapi.Market.Subject))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = svc.Stop() })
	return func() { _ = svc.Stop() }, func() []map[string]any {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(reqs)
	}
}

func call[T any](t *testing.T, h *harness, subject string, req any) T {
	t.Helper()
	out, err := rpc.Call[T](context.Background(), h.p.NC, subject, req)
	if err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
	return out
}

// callErr calls subject expecting an error and returns it as an apierr.
func callErr(t *testing.T, h *harness, subject string, req any) *apierr.Error {
	t.Helper()
	_, err := rpc.Call[json.RawMessage](context.Background(), h.p.NC, subject, req)
	if err == nil {
		t.Fatalf("%s %v: want an error, got none", subject, req)
	}
	return apierr.As(err)
}

// fieldMessage returns the message of the named field, failing without it.
func fieldMessage(t *testing.T, e *apierr.Error, field string) string {
	t.Helper()
	for _, f := range e.Fields {
		if f.Field == field {
			return f.Message
		}
	}
	t.Fatalf("error %v names no field %q", e, field)
	return ""
}

// streamMsgs returns every message of the CREDENTIALS stream.
func streamMsgs(t *testing.T, h *harness) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	st, err := h.p.JS.Stream(ctx, events.StreamCredentials)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		if m, err := st.GetMsg(ctx, seq); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func countSubject(msgs []*jetstream.RawStreamMsg, subject string) int {
	n := 0
	for _, m := range msgs {
		if m.Subject == subject {
			n++
		}
	}
	return n
}

func TestRecordsAreSealedProjectedAndRetriesAreOneEvent(t *testing.T) {
	h := start(t)
	const seeker = "seeker-7f3k"
	h.putSeeker(profile.Seeker{ID: seeker})
	earn := credentialsapi.EarnRequest{SeekerID: seeker, Credential: profile.CredentialRecord{Code: "rhit", EarnedOn: "2024-05-01"}}
	recs := call[credentialsapi.SeekerRecords](t, h, credentialsapi.Earn.Subject, earn)
	// Read-your-writes: the answer already holds the record, code normalised.
	if len(recs.Credentials) != 1 || recs.Credentials[0].Code != "RHIT" || recs.Credentials[0].EarnedOn != "2024-05-01" {
		t.Fatalf("after earn: %+v", recs)
	}
	call[credentialsapi.SeekerRecords](t, h, credentialsapi.Earn.Subject, earn) // a retry
	ceu := credentialsapi.CEURequest{SeekerID: seeker, CEU: profile.CEURecord{Code: "RHIT", Hours: 7.5, On: "2025-02-03"}}
	call[credentialsapi.SeekerRecords](t, h, credentialsapi.CEU.Subject, ceu)
	recs = call[credentialsapi.SeekerRecords](t, h, credentialsapi.CEU.Subject, ceu) // a retry
	if len(recs.CEUs) != 1 || recs.CEUs[0].Hours != 7.5 {
		t.Fatalf("after two identical CEU requests: %+v", recs.CEUs)
	}
	// A second credential, and a correction of the first one's date.
	call[credentialsapi.SeekerRecords](t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: seeker, Credential: profile.CredentialRecord{Code: "CCS", EarnedOn: "2023-11-20"}})
	recs = call[credentialsapi.SeekerRecords](t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: seeker, Credential: profile.CredentialRecord{Code: "RHIT", EarnedOn: "2024-04-30"}})
	want := []profile.CredentialRecord{{Code: "CCS", EarnedOn: "2023-11-20"}, {Code: "RHIT", EarnedOn: "2024-04-30"}}
	if !slices.Equal(recs.Credentials, want) {
		t.Fatalf("records %+v, want %+v", recs.Credentials, want)
	}

	msgs := streamMsgs(t, h)
	if n := countSubject(msgs, events.CredentialsEarned); n != 3 {
		t.Errorf("%d credentials.earned events, want 3 (the retry is the same event)", n)
	}
	if n := countSubject(msgs, events.CredentialsCEULogged); n != 1 {
		t.Errorf("%d credentials.ceu_logged events, want 1", n)
	}
	// Payloads are sealed: the seeker's pseudonym is the key's subject, the
	// id appears nowhere, and neither codes nor dates appear in payload or
	// headers.
	for _, m := range msgs {
		var sealed map[string]json.RawMessage
		if err := json.Unmarshal(m.Data, &sealed); err != nil {
			t.Fatalf("payload is not JSON: %v", err)
		}
		if len(sealed) != 2 || string(sealed["subject"]) != `"`+h.keys.Pseudonym(seeker)+`"` || sealed["sealed"] == nil {
			t.Errorf("payload is not a sealed envelope for the pseudonym: %s", m.Data)
		}
		if n := bytes.Count(m.Data, []byte(seeker)); n != 0 {
			t.Errorf("seeker id appears %d times in %s", n, m.Data)
		}
		for _, secret := range []string{"RHIT", "CCS", "2024-05-01", "2024-04-30", "2023-11-20", "2025-02-03"} {
			if bytes.Contains(m.Data, []byte(secret)) {
				t.Errorf("payload holds %q in the clear: %s", secret, m.Data)
			}
			for k, vs := range m.Header {
				for _, v := range vs {
					if strings.Contains(v, secret) || strings.Contains(v, seeker) {
						t.Errorf("header %s=%q holds %q or the seeker id", k, v, secret)
					}
				}
			}
		}
	}

	// Redis loses its data: the service rebuilds the projection by replay
	// into the same state, and meanwhile answers 503, never 200 with [].
	ctx := context.Background()
	if err := h.p.Redis.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		got, err := rpc.Call[credentialsapi.SeekerRecords](ctx, h.p.NC, credentialsapi.Records.Subject, credentialsapi.SeekerRef{SeekerID: seeker})
		if apierr.CodeOf(err) == apierr.Unavailable {
			return err
		}
		if err != nil || !slices.Equal(got.Credentials, want) || len(got.CEUs) != 1 {
			t.Fatalf("while or after rebuilding: %+v %v, want 503 or the records", got, err)
		}
		return nil
	})
}

func TestBadRecordsNameTheField(t *testing.T) {
	h := start(t)
	h.putSeeker(profile.Seeker{ID: "s1"})
	earn := func(c profile.CredentialRecord) *apierr.Error {
		return callErr(t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: "s1", Credential: c})
	}
	tomorrow := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	cases := []struct {
		name     string
		err      *apierr.Error
		field    string
		contains string
	}{
		{"unknown code", earn(profile.CredentialRecord{Code: "XYZ", EarnedOn: "2024-01-01"}), "code", "allowed: RHIT"},
		{"future date", earn(profile.CredentialRecord{Code: "RHIT", EarnedOn: tomorrow}), "earned_on", "in the future"},
		{"impossible date", earn(profile.CredentialRecord{Code: "RHIT", EarnedOn: "2024-02-30"}), "earned_on", "YYYY-MM-DD"},
		{"missing date", earn(profile.CredentialRecord{Code: "RHIT"}), "earned_on", "required"},
		{"no apprentice status", earn(profile.CredentialRecord{Code: "RHIT", EarnedOn: "2024-01-01", Apprentice: true}), "apprentice", "CPC"},
		{"membership renewal on an AHIMA credential", earn(profile.CredentialRecord{Code: "RHIT", EarnedOn: "2024-01-01", MembershipRenewal: "2025-01-31"}), "membership_renewal", "not dated by a membership renewal"},
		{"field of study nonsense", callErr(t, h, credentialsapi.Plan.Subject, map[string]any{"state": map[string]any{"education": []any{map[string]any{"level": "associate", "field": "asdfgh", "status": "completed"}}}}), "education[0].field", "Health Information Technology"},
		{"CEU for a credential not held", callErr(t, h, credentialsapi.CEU.Subject, credentialsapi.CEURequest{SeekerID: "s1", CEU: profile.CEURecord{Code: "RHIT", Hours: 2, On: "2025-01-01"}}), "code", "not among your credentials"},
		{"negative hours", callErr(t, h, credentialsapi.CEU.Subject, credentialsapi.CEURequest{SeekerID: "s1", CEU: profile.CEURecord{Code: "RHIT", Hours: -2, On: "2025-01-01"}}), "hours", "above 0"},
		{"bad seeker id", callErr(t, h, credentialsapi.Records.Subject, credentialsapi.SeekerRef{SeekerID: "no spaces"}), "seeker_id", "letters"},
		{"bad state", callErr(t, h, credentialsapi.Plan.Subject, map[string]any{"state": map[string]any{"experience": []any{map[string]any{"area": "juggling", "months": -1}}}}), "experience[0].area", "allowed: coding"},
		{"negative months", callErr(t, h, credentialsapi.Plan.Subject, map[string]any{"state": map[string]any{"experience": []any{map[string]any{"area": "coding", "months": -1}}}}), "experience[0].months", "between 0"},
		{"misspelt key", callErr(t, h, credentialsapi.Plan.Subject, map[string]any{"state": map[string]any{"experiance": []any{}}}), "experiance", ""},
		{"unknown target", callErr(t, h, credentialsapi.Plan.Subject, map[string]any{"state": map[string]any{}, "target": "ZZZ"}), "target", "allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err.Code != apierr.Invalid {
				t.Fatalf("code %s, want invalid: %v", tc.err.Code, tc.err)
			}
			if msg := fieldMessage(t, tc.err, tc.field); !strings.Contains(msg, tc.contains) {
				t.Fatalf("%s: %q does not say %q", tc.field, msg, tc.contains)
			}
		})
	}
	// Records need a profile: there must be one to delete them with.
	if e := callErr(t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: "nobody", Credential: profile.CredentialRecord{Code: "CCA", EarnedOn: "2024-01-01"}}); e.Code != apierr.NotFound {
		t.Fatalf("earn without a profile: %v", e)
	}
	if msgs := streamMsgs(t, h); len(msgs) != 0 {
		t.Fatalf("rejected requests published %d events", len(msgs))
	}
}

func TestDeletingTheSeekerRemovesTheirRecords(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	h.putSeeker(profile.Seeker{ID: "gone"})
	h.putSeeker(profile.Seeker{ID: "stays"})
	for _, id := range []string{"gone", "stays"} {
		call[credentialsapi.SeekerRecords](t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: id, Credential: profile.CredentialRecord{Code: "CCA", EarnedOn: "2024-01-01"}})
	}
	h.deleteSeeker("gone")
	testenv.Eventually(t, 5*time.Second, func() error {
		_, err := rpc.Call[credentialsapi.SeekerRecords](ctx, h.p.NC, credentialsapi.Records.Subject, credentialsapi.SeekerRef{SeekerID: "gone"})
		if apierr.CodeOf(err) != apierr.NotFound {
			return fmt.Errorf("records after deletion: %v", err)
		}
		return nil
	})
	// Only a tombstone under the pseudonym is left, and the expiring scan
	// no longer sees them.
	if n, err := h.p.Redis.Exists(ctx, h.key(t, "seeker:gone")).Result(); err != nil || n != 0 {
		t.Fatalf("records after deletion: %d %v", n, err)
	}
	if v, err := h.p.Redis.Get(ctx, h.key(t, "pseudonym:"+h.keys.Pseudonym("gone"))).Result(); err != nil || v != "-" {
		t.Fatalf("tombstone after deletion: %q %v", v, err)
	}
	if ok, _ := h.p.Redis.SIsMember(ctx, h.key(t, "seekers"), "gone").Result(); ok {
		t.Fatal("deleted seeker still listed for the expiring scan")
	}
	if e := callErr(t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: "gone", Credential: profile.CredentialRecord{Code: "CCS", EarnedOn: "2024-01-01"}}); e.Code != apierr.NotFound {
		t.Fatalf("earn after deletion: %v", e)
	}
	if got := call[credentialsapi.SeekerRecords](t, h, credentialsapi.Records.Subject, credentialsapi.SeekerRef{SeekerID: "stays"}); len(got.Credentials) != 1 {
		t.Fatalf("the other seeker's records: %+v", got)
	}
	// A replay of both streams does not bring the deleted seeker back.
	if err := h.p.Redis.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		got, err := rpc.Call[credentialsapi.SeekerRecords](ctx, h.p.NC, credentialsapi.Records.Subject, credentialsapi.SeekerRef{SeekerID: "stays"})
		if err != nil || len(got.Credentials) != 1 {
			return fmt.Errorf("stays after replay: %+v %v", got, err)
		}
		if d, _ := h.p.Redis.Get(ctx, h.key(t, "pseudonym:"+h.keys.Pseudonym("gone"))).Result(); d != "-" {
			return fmt.Errorf("no tombstone yet")
		}
		return nil
	})
	if got, err := rpc.Call[credentialsapi.SeekerRecords](ctx, h.p.NC, credentialsapi.Records.Subject, credentialsapi.SeekerRef{SeekerID: "gone"}); apierr.CodeOf(err) != apierr.NotFound {
		t.Fatalf("deleted seeker after replay: %+v %v", got, err)
	}
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestExpiringNoticesGoOutOncePerCycleWithinTheWindow(t *testing.T) {
	h := start(t) // notice window: the default 60 days
	ctx := context.Background()
	h.putSeeker(profile.Seeker{ID: "renewer"})
	h.putSeeker(profile.Seeker{ID: "lapsed"})
	// RHIT from 2024-12-10: the AHIMA cycle ends 2026-12-09.
	call[credentialsapi.SeekerRecords](t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: "renewer", Credential: profile.CredentialRecord{Code: "RHIT", EarnedOn: "2024-12-10"}})
	// CPC from 2020: long lapsed, never announced as expiring.
	call[credentialsapi.SeekerRecords](t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: "lapsed", Credential: profile.CredentialRecord{Code: "CPC", EarnedOn: "2020-01-06"}})

	scan := func(today string) credentials.ScanResult {
		t.Helper()
		res, err := h.svc.ScanExpiring(ctx, day(today))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := scan("2026-09-01"); res.Published != 0 || res.Seekers != 2 {
		t.Fatalf("99 days before the cycle ends: %+v", res)
	}
	if res := scan("2026-10-09"); res.Published != 0 {
		t.Fatalf("61 days before: %+v", res)
	}
	if res := scan("2026-10-10"); res.Published != 1 {
		t.Fatalf("60 days before: %+v, want one notice", res)
	}
	if res := scan("2026-10-10"); res.Published != 0 {
		t.Fatalf("the same scan again: %+v", res)
	}
	if res := scan("2026-11-30"); res.Published != 0 {
		t.Fatalf("a later scan in the same cycle: %+v", res)
	}
	var notices []*jetstream.RawStreamMsg
	for _, m := range streamMsgs(t, h) {
		if m.Subject == events.CredentialsExpiring {
			notices = append(notices, m)
		}
	}
	if len(notices) != 1 {
		t.Fatalf("%d credentials.expiring events, want 1", len(notices))
	}
	var sealed shred.Sealed
	if err := json.Unmarshal(notices[0].Data, &sealed); err != nil || sealed.Subject != h.keys.Pseudonym("renewer") {
		t.Fatalf("notice payload: %s %v", notices[0].Data, err)
	}
	var ch profile.CredentialChange
	if err := h.keys.Open(ctx, sealed, &ch); err != nil {
		t.Fatal(err)
	}
	if ch.SeekerID != "renewer" || ch.Expiring == nil || *ch.Expiring != (profile.Expiring{Issuer: "AHIMA", CycleEnd: "2026-12-09", DaysLeft: 60}) {
		t.Fatalf("notice %+v %+v", ch, ch.Expiring)
	}
	// The projection learns of the notice from the event, so a rebuilt
	// projection still knows it went out.
	if err := h.p.Redis.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		v, err := h.p.Redis.HGet(ctx, h.key(t, "seeker:renewer"), "notified:AHIMA:2026-12-09").Result()
		if err != nil || v != "60" {
			return fmt.Errorf("notice not in the rebuilt projection: %q %v", v, err)
		}
		return nil
	})
	// A deleted seeker gets no notices.
	h.deleteSeeker("renewer")
	testenv.Eventually(t, 5*time.Second, func() error {
		if ok, _ := h.p.Redis.SIsMember(ctx, h.key(t, "seekers"), "renewer").Result(); ok {
			return fmt.Errorf("still listed")
		}
		return nil
	})
	if res := scan("2026-11-01"); res.Published != 0 || res.Seekers != 1 {
		t.Fatalf("after deletion: %+v", res)
	}
}

func TestSeekerPlanFromProfileRecordsAndMarket(t *testing.T) {
	h := start(t)
	lat, lon := 40.75, -73.99
	h.putSeeker(profile.Seeker{
		ID:          "student",
		Education:   []profile.Education{{Level: "high_school", Status: "completed"}, {Level: "associate", Field: "HIM", CAHIIMAccredited: true, Status: "final_term"}},
		Experience:  []profile.Experience{{Area: "records", Months: 6}, {Area: "records", Months: 12}},
		Location:    &profile.Location{PostalCode: "10001"},
		RadiusMiles: 25,
		Target:      "RHIT",
	})
	h.putSeeker(profile.Seeker{
		ID: "nowhere",
		Education: []profile.Education{{Level: "high_school", Status: "completed"}, {Level: "high_school", CAHIIMAccredited: true, Status: "completed"},
			{Level: "certificate", Field: "Medical Billing and Coding", Status: "completed"}},
		Target: "coding manager",
	})
	h.putSeeker(profile.Seeker{ID: "coords", Location: &profile.Location{Lat: &lat, Lon: &lon}, RadiusMiles: 10})
	call[credentialsapi.SeekerRecords](t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: "student", Credential: profile.CredentialRecord{Code: "CCA", EarnedOn: "2025-06-01"}})

	// Without matching answering, the plan comes anyway, and says why it
	// has no market demand.
	plan := call[credentialsapi.SeekerPlanReply](t, h, credentialsapi.SeekerPlan.Subject, credentialsapi.SeekerPlanRequest{SeekerID: "student"})
	if plan.Demand != nil || !strings.Contains(plan.DemandNote, "unavailable") {
		t.Fatalf("without matching: demand %+v note %q", plan.Demand, plan.DemandNote)
	}
	if !slices.Contains(plan.EligibleNow, "RHIT") || !slices.Contains(plan.Held, "CCA") {
		t.Fatalf("final-term CAHIIM student holding CCA: eligible %v held %v", plan.EligibleNow, plan.Held)
	}
	if plan.Target == nil || plan.Target.Target != "RHIT" || plan.Target.Status != pathway.TargetEligibleNow {
		t.Fatalf("target plan %+v", plan.Target)
	}

	_, asked := h.market(matchingapi.MarketDemand{
		RadiusMiles: 25, Postings: 120, QualifiedMedianHourly: 19.80,
		Credentials: map[string]matchingapi.CredentialPulse{"RHIT": {Postings: 37, MedianHourly: 24.10}},
	})
	plan = call[credentialsapi.SeekerPlanReply](t, h, credentialsapi.SeekerPlan.Subject, credentialsapi.SeekerPlanRequest{SeekerID: "student"})
	if plan.Demand == nil || plan.DemandNote != "" {
		t.Fatalf("with matching: demand %+v note %q", plan.Demand, plan.DemandNote)
	}
	explained := false
	for _, s := range plan.NextSteps {
		explained = explained || (s.Code == "RHIT" && strings.Contains(s.Demand, "37 open postings within 25 miles") && strings.Contains(s.Demand, "$24.10/h vs $19.80/h"))
	}
	if !explained {
		t.Fatalf("no RHIT step explains the demand: %+v", plan.NextSteps)
	}
	reqs := asked()
	if len(reqs) != 1 || reqs[0]["postal_code"] != "10001" || reqs[0]["radius_miles"] != float64(25) || fmt.Sprint(reqs[0]["held"]) != "[CCA]" {
		t.Fatalf("market asked with %v", reqs)
	}

	// A query target overrides the profile's.
	plan = call[credentialsapi.SeekerPlanReply](t, h, credentialsapi.SeekerPlan.Subject, credentialsapi.SeekerPlanRequest{SeekerID: "student", Target: "rhia", Optimize: "cost"})
	if plan.Target == nil || plan.Target.Target != "RHIA" || plan.Target.Optimize != "cost" {
		t.Fatalf("overridden target %+v", plan.Target)
	}

	// A profile without a location is planned without demand, and what
	// the engine cannot use is named rather than failing the plan.
	plan = call[credentialsapi.SeekerPlanReply](t, h, credentialsapi.SeekerPlan.Subject, credentialsapi.SeekerPlanRequest{SeekerID: "nowhere"})
	if plan.Demand != nil || !strings.Contains(plan.DemandNote, "no location") {
		t.Fatalf("no location: demand %+v note %q", plan.Demand, plan.DemandNote)
	}
	notes := strings.Join(plan.ProfileNotes, "\n")
	if !strings.Contains(notes, "education[1].cahiim_accredited") || !strings.Contains(notes, `"coding manager"`) || plan.Target != nil {
		t.Fatalf("profile notes %q target %+v", notes, plan.Target)
	}
	// A field of study is free text, read as HIM, coding or other.
	if len(plan.EducationFields) != 1 || plan.EducationFields[0].Field != "Medical Billing and Coding" || plan.EducationFields[0].FieldClass != pathway.FieldCoding {
		t.Fatalf("education fields %+v", plan.EducationFields)
	}
	if !slices.Contains(plan.EligibleNow, "CCA") {
		t.Fatalf("the high-school diploma still counts: %v", plan.EligibleNow)
	}

	call[credentialsapi.SeekerPlanReply](t, h, credentialsapi.SeekerPlan.Subject, credentialsapi.SeekerPlanRequest{SeekerID: "coords"})
	if reqs := asked(); len(reqs) != 3 || reqs[2]["lat"] != 40.75 || reqs[2]["lon"] != -73.99 || reqs[2]["postal_code"] != nil {
		t.Fatalf("market asked with %v", reqs)
	}

	if e := callErr(t, h, credentialsapi.SeekerPlan.Subject, credentialsapi.SeekerPlanRequest{SeekerID: "unknown"}); e.Code != apierr.NotFound {
		t.Fatalf("plan of an unknown seeker: %v", e)
	}
	if e := callErr(t, h, credentialsapi.SeekerPlan.Subject, credentialsapi.SeekerPlanRequest{SeekerID: "student", Optimize: "luck"}); fieldMessage(t, e, "optimize") == "" {
		t.Fatal("bad optimize accepted")
	}
}

func TestAnonymousPlanAndCTDL(t *testing.T) {
	h := start(t)
	state := json.RawMessage(`{"education":[{"level":"high_school","status":"completed"}],"experience":[{"area":"records","months":6}],"trainings":["aapc_80_hour_course"]}`)
	plan := call[pathway.Plan](t, h, credentialsapi.Plan.Subject, credentialsapi.PlanRequest{State: state, Target: "rhit"})
	if !slices.Contains(plan.EligibleNow, "CCA") || slices.Contains(plan.EligibleNow, "RHIT") {
		t.Fatalf("eligible now %v", plan.EligibleNow)
	}
	if plan.Target == nil || plan.Target.Target != "RHIT" || plan.Target.Status != pathway.TargetPlanned || len(plan.Target.Steps) == 0 {
		t.Fatalf("plan to RHIT %+v", plan.Target)
	}
	if len(plan.Blocked["RHIT"]) == 0 {
		t.Fatalf("blocked %v", plan.Blocked)
	}

	doc := call[map[string]any](t, h, credentialsapi.CTDL.Subject, struct{}{})
	graph, _ := doc["@graph"].([]any)
	if len(graph) < 20 || !strings.Contains(fmt.Sprint(doc["@context"]), "credreg.net") {
		t.Fatalf("catalog CTDL: %d nodes, context %v", len(graph), doc["@context"])
	}
	types := map[string]bool{}
	for _, n := range graph {
		m, _ := n.(map[string]any)
		types[fmt.Sprint(m["@type"])] = true
	}
	if !types["ceterms:Pathway"] || !types["ceterms:CredentialComponent"] {
		t.Fatalf("catalog CTDL types %v", types)
	}
	mine := call[map[string]any](t, h, credentialsapi.CTDL.Subject, credentialsapi.CTDLRequest{State: state, Target: "RHIT"})
	if !strings.Contains(fmt.Sprint(mine), "urn:clerkpath:pathway:plan:") {
		t.Fatalf("plan CTDL does not describe the plan: %.300v", mine)
	}
	if e := callErr(t, h, credentialsapi.CTDL.Subject, credentialsapi.CTDLRequest{State: json.RawMessage(`{"trainings":["juggling"]}`)}); fieldMessage(t, e, "trainings[0]") == "" {
		t.Fatal("bad training accepted")
	}
}

// An AAPC credential's membership renewal date and a CEU's provider reach
// the renewal engine: CEUs fall due on the renewal date, and AHIMA's share
// is counted from the providers.
func TestRenewalDetailsReachThePlan(t *testing.T) {
	h := start(t)
	h.putSeeker(profile.Seeker{ID: "renew", Education: []profile.Education{{Level: "high_school", Status: "completed"}}})
	today := time.Now().UTC()
	// A renewal date in a CEU year (odd month in an odd year, even in even).
	renewal := today.AddDate(0, 2, 0)
	for int(renewal.Month())%2 != renewal.Year()%2 {
		renewal = renewal.AddDate(0, 1, 0)
	}
	earned := today.AddDate(-3, 0, 0).Format(time.DateOnly)
	call[credentialsapi.SeekerRecords](t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: "renew",
		Credential: profile.CredentialRecord{Code: "CPC", EarnedOn: earned, MembershipRenewal: renewal.Format(time.DateOnly)}})
	call[credentialsapi.SeekerRecords](t, h, credentialsapi.Earn.Subject, credentialsapi.EarnRequest{SeekerID: "renew",
		Credential: profile.CredentialRecord{Code: "RHIT", EarnedOn: today.AddDate(0, -6, 0).Format(time.DateOnly)}})
	recs := call[credentialsapi.SeekerRecords](t, h, credentialsapi.CEU.Subject, credentialsapi.CEURequest{SeekerID: "renew",
		CEU: profile.CEURecord{Code: "RHIT", Hours: 3, Provider: "AHIMA", On: today.AddDate(0, 0, -1).Format(time.DateOnly)}})
	if len(recs.CEUs) != 1 || recs.CEUs[0].Provider != "AHIMA" {
		t.Fatalf("records %+v", recs)
	}
	if e := callErr(t, h, credentialsapi.CEU.Subject, credentialsapi.CEURequest{SeekerID: "renew",
		CEU: profile.CEURecord{Code: "RHIT", Hours: 3, Provider: "AAPC", On: today.AddDate(0, 0, -1).Format(time.DateOnly)}}); fieldMessage(t, e, "provider") == "" {
		t.Fatalf("a CEU from another issuer's provider code accepted: %v", e)
	}
	plan := call[credentialsapi.SeekerPlanReply](t, h, credentialsapi.SeekerPlan.Subject, credentialsapi.SeekerPlanRequest{SeekerID: "renew"})
	var aapc, ahima *pathway.Recert
	for i := range plan.Recertification {
		switch plan.Recertification[i].Issuer {
		case "AAPC":
			aapc = &plan.Recertification[i]
		case "AHIMA":
			ahima = &plan.Recertification[i]
		}
	}
	if aapc == nil || aapc.Status != pathway.RecertActive || aapc.CycleEnd != renewal.Format(time.DateOnly) {
		t.Fatalf("AAPC renewal %+v, want CEUs due %s", aapc, renewal.Format(time.DateOnly))
	}
	if ahima == nil || ahima.FromIssuerLogged != 3 || ahima.FromIssuerRequired == nil || *ahima.FromIssuerRequired != 8 ||
		!strings.Contains(ahima.Action, "at least 5 of them from AHIMA") {
		t.Fatalf("AHIMA renewal %+v", ahima)
	}
}

// key is the Redis key of the records projection's current generation
// followed by rest (a generation that does not exist while there is none).
func (h *harness) key(t *testing.T, rest string) string {
	t.Helper()
	gen, err := h.p.Redis.Get(context.Background(), "clerkpath:"+credentials.ProjectionName+":gen").Result()
	if err != nil {
		gen = "0"
	}
	return "clerkpath:" + credentials.ProjectionName + ":g" + gen + ":" + rest
}
