package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/posting"
)

// Eight PATCHes of one posting at once, without If-Match, each changing
// another field: every one succeeds and none is lost, in the record and in
// the last jobs.updated event.
func TestConcurrentPatchesWithoutIfMatchLoseNothing(t *testing.T) {
	s, p := start(t)
	ctx := context.Background()
	id := mustSubmit(t, p, "acme", "single", jobJSON("C8", "Records Clerk", "95814")).Accepted[0].ID
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	later := time.Now().UTC().AddDate(0, 2, 0).Format(time.DateOnly)
	patches := []string{
		`{"title":"Senior Records Clerk"}`,
		`{"description":"Scanning, indexing and release of information. High school diploma required."}`,
		`{"locality":"Sacramento"}`,
		`{"region":"CA"}`,
		`{"work_mode":"hybrid"}`,
		`{"employment_type":["PART_TIME"]}`,
		`{"valid_through":"` + later + `"}`,
		`{"date_posted":"` + yesterday + `"}`,
	}
	var wg sync.WaitGroup
	errs := make([]error, len(patches))
	for i, body := range patches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = ingestapi.Patch.Call(ctx, p.NC, ingestapi.PatchRequest{Caller: ingestapi.Caller{Org: "acme"}, ID: id, Patch: json.RawMessage(body)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("patch %s: %v", patches[i], err)
		}
	}
	r, err := s.store.load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var raw posting.Raw
	if err := json.Unmarshal(r.raw, &raw); err != nil {
		t.Fatal(err)
	}
	check := func(where string, got posting.Raw) {
		t.Helper()
		want := fmt.Sprint("Senior Records Clerk", " Sacramento CA hybrid [PART_TIME] ", later, " ", yesterday)
		if g := fmt.Sprint(got.Title, " ", got.Locality, " ", got.Region, " ", got.WorkMode, " ", got.EmploymentType, " ", got.ValidThrough[:10], " ", got.DatePosted[:10]); g != want ||
			got.Description != "Scanning, indexing and release of information. High school diploma required." {
			t.Errorf("%s: %q, description %q; want every patch: %q", where, g, got.Description, want)
		}
	}
	check("record", raw)
	st, err := p.JS.Stream(ctx, events.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetLastMsgForSubject(ctx, events.JobsUpdated)
	if err != nil {
		t.Fatal(err)
	}
	var ev ingestapi.JobEvent
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Fingerprint != r.fingerprint || ev.Title != "Senior Records Clerk" || ev.WorkMode != "hybrid" || ev.Location.Locality != "Sacramento" {
		t.Errorf("last jobs.updated %s %q %q %q; want the record's version %s with every patch", ev.Fingerprint, ev.Title, ev.WorkMode, ev.Location.Locality, r.fingerprint)
	}
}
