package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func jobJSON(id, title, zip string) string {
	return fmt.Sprintf(`{"identifier":%q,"title":%q,"description":"Scanning and indexing of medical records. High school diploma required.","employer":"Mercy","date_posted":%q,"postal_code":%q}`, id, title, today(), zip)
}

func mustSubmit(t *testing.T, p *testenv.Servers, org, mode, body string, extra ...string) ingestapi.Result {
	t.Helper()
	r, err := submitAs(t, p, org, "application/json", mode, body, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func list(t *testing.T, p *testenv.Servers, req ingestapi.ListRequest) ingestapi.PostingList {
	t.Helper()
	out, err := ingestapi.Postings.Call(context.Background(), p.NC, req)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func byID(l ingestapi.PostingList) map[string]ingestapi.PostingSummary {
	m := map[string]ingestapi.PostingSummary{}
	for _, s := range l.Postings {
		m[s.ID] = s
	}
	return m
}

// lastClosure reads the newest jobs.closed event.
func lastClosure(t *testing.T, p *testenv.Servers) ingestapi.Closure {
	t.Helper()
	st, err := p.JS.Stream(context.Background(), events.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetLastMsgForSubject(context.Background(), events.JobsClosed)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ingestapi.Closed.Decode(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCode(t *testing.T, err error, code apierr.Code) {
	t.Helper()
	if apierr.CodeOf(err) != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func wantField(t *testing.T, err error, field, contains string) {
	t.Helper()
	e := apierr.As(err)
	for _, f := range e.Fields {
		if f.Field == field && strings.Contains(f.Message, contains) {
			return
		}
	}
	t.Fatalf("got %v, want a field error on %s containing %q", err, field, contains)
}

func TestEmployerClosesReopensAndListsPostings(t *testing.T) {
	_, p := start(t)
	ctx := context.Background()
	res := mustSubmit(t, p, "acme", "bulk", "["+jobJSON("A", "Records Clerk", "95814")+","+jobJSON("B", "Scanning Clerk", "95814")+"]")
	a, b := res.Accepted[0].ID, res.Accepted[1].ID
	l := byID(list(t, p, ingestapi.ListRequest{EmployerID: "acme"}))
	if len(l) != 2 || l[a].Status != ingestapi.StatusOpen || l[a].Version == "" || l[a].Title != "Records Clerk" || l[a].ClusterSize < 1 {
		t.Fatalf("list after submit: %+v", l)
	}
	if got := list(t, p, ingestapi.ListRequest{EmployerID: "zeta"}); len(got.Postings) != 0 {
		t.Fatalf("another organisation sees %+v", got)
	}

	// Only the owner (or an admin) closes; others hear not_found.
	_, err := ingestapi.Close.Call(ctx, p.NC, ingestapi.CloseRequest{Caller: ingestapi.Caller{Org: "zeta"}, ID: a, Reason: ingestapi.ReasonFilled})
	wantCode(t, err, apierr.NotFound)
	_, err = ingestapi.Close.Call(ctx, p.NC, ingestapi.CloseRequest{Caller: ingestapi.Caller{Org: "acme"}, ID: a, Reason: "bored"})
	wantField(t, err, "reason", "filled")
	sum, err := ingestapi.Close.Call(ctx, p.NC, ingestapi.CloseRequest{Caller: ingestapi.Caller{Org: "acme"}, ID: a, Reason: ingestapi.ReasonFilled})
	if err != nil || sum.Status != ingestapi.StatusClosed || sum.Reason != ingestapi.ReasonFilled || sum.ClosedAt.IsZero() {
		t.Fatalf("close: %+v %v", sum, err)
	}
	if c := lastClosure(t, p); c.ID != a || c.Reason != ingestapi.ReasonFilled || c.EmployerID != "acme" {
		t.Fatalf("jobs.closed %+v", c)
	}
	// Closing again is a retry: no second event.
	if _, err := ingestapi.Close.Call(ctx, p.NC, ingestapi.CloseRequest{Caller: ingestapi.Caller{Org: "acme"}, ID: a, Reason: ingestapi.ReasonFilled}); err != nil {
		t.Fatal(err)
	}
	if n := countSubject(t, p, events.JobsClosed); n != 1 {
		t.Fatalf("jobs.closed holds %d, want 1", n)
	}
	// A filled posting does not reopen, and a resubmission leaves it closed.
	_, err = ingestapi.Reopen.Call(ctx, p.NC, ingestapi.ReopenRequest{Caller: ingestapi.Caller{Org: "acme"}, ID: a})
	wantCode(t, err, apierr.Conflict)
	again := mustSubmit(t, p, "acme", "single", jobJSON("A", "Records Clerk", "95814"))
	if again.Accepted[0].Status != "closed" {
		t.Fatalf("resubmitting a filled posting: %+v", again.Accepted[0])
	}
	if n := countSubject(t, p, events.JobsPosted); n != 2 {
		t.Fatalf("jobs.posted holds %d, want 2", n)
	}

	// On hold, then reopened: jobs.posted again with a new message id.
	if _, err := ingestapi.Close.Call(ctx, p.NC, ingestapi.CloseRequest{Caller: ingestapi.Caller{Admin: true}, ID: b, Reason: ingestapi.ReasonOnHold}); err != nil {
		t.Fatal(err)
	}
	_, err = ingestapi.Reopen.Call(ctx, p.NC, ingestapi.ReopenRequest{Caller: ingestapi.Caller{Org: "zeta"}, ID: b})
	wantCode(t, err, apierr.NotFound)
	sum, err = ingestapi.Reopen.Call(ctx, p.NC, ingestapi.ReopenRequest{Caller: ingestapi.Caller{Org: "acme"}, ID: b})
	if err != nil || sum.Status != ingestapi.StatusOpen || sum.Reason != "" {
		t.Fatalf("reopen: %+v %v", sum, err)
	}
	if n := countSubject(t, p, events.JobsPosted); n != 3 {
		t.Fatalf("jobs.posted holds %d after the reopen, want 3", n)
	}
	// Closed again after the reopen: a second jobs.closed for b.
	if _, err := ingestapi.Close.Call(ctx, p.NC, ingestapi.CloseRequest{Caller: ingestapi.Caller{Org: "acme"}, ID: b, Reason: ingestapi.ReasonWithdrawn}); err != nil {
		t.Fatal(err)
	}
	if n := countSubject(t, p, events.JobsClosed); n != 3 {
		t.Fatalf("jobs.closed holds %d, want 3", n)
	}

	// Filters and paging.
	closed := list(t, p, ingestapi.ListRequest{EmployerID: "acme", Status: ingestapi.StatusClosed})
	if len(closed.Postings) != 2 {
		t.Fatalf("closed postings: %+v", closed)
	}
	first := list(t, p, ingestapi.ListRequest{EmployerID: "acme", Limit: 1})
	if len(first.Postings) != 1 || first.NextCursor == "" {
		t.Fatalf("page 1: %+v", first)
	}
	second := list(t, p, ingestapi.ListRequest{EmployerID: "acme", Limit: 1, Cursor: first.NextCursor})
	if len(second.Postings) != 1 || second.Postings[0].ID == first.Postings[0].ID {
		t.Fatalf("page 2: %+v after %+v", second, first)
	}
	_, err = ingestapi.Postings.Call(ctx, p.NC, ingestapi.ListRequest{EmployerID: "acme", Cursor: "nonsense", Status: "gone", Limit: 1000})
	wantField(t, err, "cursor", "next_cursor")
	wantField(t, err, "status", "open")
	wantField(t, err, "limit", "200")
}

func TestPatchIsAMergePatchCheckedAsANewPosting(t *testing.T) {
	_, p := start(t)
	ctx := context.Background()
	id := mustSubmit(t, p, "acme", "single", jobJSON("P1", "Records Clerk", "95814")).Accepted[0].ID
	v := byID(list(t, p, ingestapi.ListRequest{EmployerID: "acme"}))[id].Version
	acme := ingestapi.Caller{Org: "acme"}
	patch := func(ifMatch, body string) (ingestapi.PostingSummary, error) {
		return ingestapi.Patch.Call(ctx, p.NC, ingestapi.PatchRequest{Caller: acme, ID: id, IfMatch: ifMatch, Patch: json.RawMessage(body)})
	}
	_, err := patch("stale", `{"title":"Senior Records Clerk"}`)
	wantCode(t, err, apierr.PreconditionFail)
	_, err = ingestapi.Patch.Call(ctx, p.NC, ingestapi.PatchRequest{Caller: ingestapi.Caller{Org: "zeta"}, ID: id, IfMatch: v, Patch: json.RawMessage(`{"title":"x"}`)})
	wantCode(t, err, apierr.NotFound)
	for _, tc := range []struct{ body, field, msg string }{
		{`{"identifier":"P2"}`, "identifier", "cannot change"},
		{`{"postal_code":"99999"}`, "postal_code", "unknown US ZIP"},
		{`{"description":null}`, "description", "required"},
		{`{"salary":12}`, "salary", ""},
		{`["title"]`, "body", "Merge Patch"},
	} {
		_, err := patch(v, tc.body)
		wantField(t, err, tc.field, tc.msg)
	}
	if n := countSubject(t, p, events.JobsUpdated); n != 0 {
		t.Fatalf("refused patches published %d updates", n)
	}
	sum, err := patch(v, `{"title":"Senior Records Clerk","salary_min":20,"salary_max":24,"salary_unit":"HOUR"}`)
	if err != nil || sum.Title != "Senior Records Clerk" || sum.Version == v || sum.ID != id {
		t.Fatalf("patch: %+v %v", sum, err)
	}
	if n := countSubject(t, p, events.JobsUpdated); n != 1 {
		t.Fatalf("jobs.updated holds %d, want 1", n)
	}
	st, err := p.JS.Stream(ctx, events.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetLastMsgForSubject(ctx, events.JobsUpdated)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ingestapi.Updated.Decode(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	// What the patch did not name is kept.
	if ev.Title != "Senior Records Clerk" || ev.SalaryHourlyMin != 20 || ev.Location.PostalCode != "95814" || !strings.Contains(ev.Description, "Scanning") {
		t.Fatalf("updated posting %+v", ev.Posting)
	}
	// The same patch again, against the new version, changes nothing.
	if again, err := patch(sum.Version, `{"title":"Senior Records Clerk"}`); err != nil || again.Version != sum.Version {
		t.Fatalf("no-op patch: %+v %v", again, err)
	}
	if n := countSubject(t, p, events.JobsUpdated); n != 1 {
		t.Fatalf("a no-op patch published: jobs.updated holds %d", n)
	}
	// A posting without an identifier keeps its id (its first content's)
	// when patched.
	bare := mustSubmit(t, p, "acme", "single", jobJSON("", "File Clerk", "95814")).Accepted[0].ID
	if got, err := ingestapi.Patch.Call(ctx, p.NC, ingestapi.PatchRequest{Caller: acme, ID: bare, Patch: json.RawMessage(`{"title":"Senior File Clerk"}`)}); err != nil || got.ID != bare || got.Title != "Senior File Clerk" {
		t.Fatalf("patch without identifier or If-Match: %+v %v", got, err)
	}
	// A closed posting is reopened before it is changed.
	if _, err := ingestapi.Close.Call(ctx, p.NC, ingestapi.CloseRequest{Caller: acme, ID: id, Reason: ingestapi.ReasonOnHold}); err != nil {
		t.Fatal(err)
	}
	_, err = patch(sum.Version, `{"title":"x"}`)
	wantCode(t, err, apierr.Conflict)
}

func TestSyncClosesOnlyThatOrganisationsMissingPostings(t *testing.T) {
	_, p := start(t)
	first := mustSubmit(t, p, "acme", "bulk", "["+jobJSON("A", "Records Clerk", "95814")+","+jobJSON("B", "Scanning Clerk", "95814")+","+jobJSON("C", "Coder", "95814")+","+jobJSON("D", "ROI Specialist", "95814")+"]")
	zeta := mustSubmit(t, p, "zeta", "bulk", "["+jobJSON("Z", "File Clerk", "95814")+"]").Accepted[0].ID
	id := map[string]string{}
	for i, k := range []string{"A", "B", "C", "D"} {
		id[k] = first.Accepted[i].ID
	}
	// The feed keeps A, drops B and D, and carries C in a row refused for
	// its ZIP code: C stays open.
	feed := "[" + jobJSON("A", "Records Clerk", "95814") + "," + jobJSON("C", "Coder", "99999") + "]"
	res := mustSubmit(t, p, "acme", "bulk", feed, ingestapi.HeaderSync, "true")
	slices.Sort(res.Closed)
	want := []string{id["B"], id["D"]}
	slices.Sort(want)
	if !slices.Equal(res.Closed, want) || !slices.Equal(res.KeptOpen, []string{id["C"]}) || len(res.Rejected) != 1 {
		t.Fatalf("sync: closed %v (want %v), kept open %v, rejected %+v", res.Closed, want, res.KeptOpen, res.Rejected)
	}
	if c := lastClosure(t, p); c.Reason != ingestapi.ReasonRemovedFromFeed {
		t.Fatalf("jobs.closed reason %q", c.Reason)
	}
	l := byID(list(t, p, ingestapi.ListRequest{EmployerID: "acme"}))
	if l[id["B"]].Reason != ingestapi.ReasonRemovedFromFeed || l[id["A"]].Status != ingestapi.StatusOpen || l[id["C"]].Status != ingestapi.StatusOpen {
		t.Fatalf("list after sync: %+v", l)
	}
	if z := byID(list(t, p, ingestapi.ListRequest{EmployerID: "zeta"}))[zeta]; z.Status != ingestapi.StatusOpen {
		t.Fatalf("another organisation's posting: %+v", z)
	}
	// A row whose identifier cannot be read might name any posting: the
	// sync then closes nothing.
	res, err := submitAs(t, p, "acme", "application/x-ndjson", "bulk", jobJSON("C", "Coder", "95814")+"\n"+`{"title":`+"\n", ingestapi.HeaderSync, "true")
	if err != nil || len(res.Closed) != 0 || len(res.Rejected) != 1 || len(res.KeptOpen) != 1 {
		t.Fatalf("closed %v beside an unreadable row (rejected %+v)", res.Closed, res.Rejected)
	}
	// A removed posting sent again is posted again.
	back := mustSubmit(t, p, "acme", "single", jobJSON("B", "Scanning Clerk", "95814")).Accepted[0]
	if back.Status != "posted" || back.ID != id["B"] {
		t.Fatalf("B sent again: %+v", back)
	}
	_, err = submitAs(t, p, "acme", "application/json", "single", jobJSON("E", "x", "95814"), ingestapi.HeaderSync, "true")
	wantField(t, err, "sync", "bulk")
}

func TestUnknownZIPCodes(t *testing.T) {
	_, p := start(t)
	if p.Config.ZCTAFile == "" || LoadZCTA(p.Config.ZCTAFile, zerolog.Nop()) == nil {
		t.Skip("the ZIP centroids are not installed (deployments/local/install.sh)")
	}
	res := mustSubmit(t, p, "acme", "bulk", "["+jobJSON("", "Records Clerk", "95814")+","+jobJSON("", "Coder", "99999")+"]")
	if len(res.Accepted) != 1 || len(res.Rejected) != 1 || res.Rejected[0].Errors[0].Field != "records[1].postal_code" {
		t.Fatalf("bulk with an unknown ZIP: %+v", res)
	}
	_, err := submit(t, p, "application/json", "single", jobJSON("", "Coder", "99999"))
	wantField(t, err, "postal_code", "unknown US ZIP")

	// Without centroids: accepted, with a warning naming the field.
	_, bare := startWith(t, testenv.Open(t, testenv.Needs{Streams: true, Redis: true}), Options{SweepInterval: -1})
	r, err := submit(t, bare, "application/json", "single", jobJSON("", "Coder", "99999"))
	if err != nil || len(r.Accepted) != 1 || len(r.Accepted[0].Warnings) != 1 || r.Accepted[0].Warnings[0].Field != "postal_code" {
		t.Fatalf("without centroids: %+v %v", r, err)
	}
}
