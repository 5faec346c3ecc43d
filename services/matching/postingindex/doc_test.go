package postingindex

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// fullPosting has every optional field set and three routes.
func fullPosting() posting.Posting {
	lat, lon := 39.96, -83.0
	p := posting.Posting{ID: "acme-1", Identifier: "REQ-1", Title: "Coder II", Employer: "Acme Health", EmployerURL: "https://acme.example",
		Description: "Code inpatient charts.", URL: "https://acme.example/jobs/1",
		DatePosted: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), ValidThrough: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		ExpiresAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), EmploymentType: []string{"FULL_TIME"},
		Location:           posting.Location{PostalCode: "43215", Locality: "Columbus", Region: "OH", Country: "US", Lat: &lat, Lon: &lon},
		ApplicantLocations: []string{"US"}, SalaryHourlyMin: 24, SalaryHourlyMax: 31, SalaryAnnualMin: 49920, SalaryAnnualMax: 64480}
	p.WorkMode = "onsite"
	p.CredentialsRequired = [][]string{{"CCS", "RHIT"}}
	p.Routes = []posting.Route{{Credentials: [][]string{{"CCS"}}}, {Credentials: [][]string{{"RHIT"}}}, {Credentials: [][]string{{"RHIA"}}}}
	return p
}

// members reads a JSON object's members in order, failing on a key seen
// twice (what one document must never hold).
func members(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		k := tok.(string)
		if _, ok := out[k]; ok {
			t.Fatalf("key %q twice in %s", k, b)
		}
		out[k] = v
	}
	return out
}

// A document names every field its posting may have, null where the
// posting has none: the indexer updates documents in place, and a field
// left out would keep the value an earlier version of the posting gave it.
func TestDocNamesEveryFieldAPostingMayHave(t *testing.T) {
	full, _, err := Doc(fullPosting(), Field{"employer_id", "acme"})
	if err != nil {
		t.Fatal(err)
	}
	bare := posting.Posting{ID: "acme-1", Title: "Coder II", Employer: "Acme Health", Description: "Remote.", DatePosted: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	bare.WorkMode = "remote"
	empty, _, err := Doc(bare, Field{"employer_id", "acme"})
	if err != nil {
		t.Fatal(err)
	}
	f, e := members(t, full.JSON), members(t, empty.JSON)
	for k := range f {
		if _, ok := e[k]; !ok {
			t.Errorf("%s is in the full posting's document, not in the bare one's: an update to the bare posting would keep it", k)
		}
	}
	for _, k := range []string{"salary_hourly_min", "salary_hourly_max", "_geo", "url", "valid_through", "routes", RouteField(2, RouteGroups), RouteField(1, RouteEducation)} {
		if string(e[k]) != "null" {
			t.Errorf("bare posting's %s = %s, want null", k, e[k])
		}
	}
	if string(e[FieldRouteCount]) != "1" || string(f[FieldRouteCount]) != "3" {
		t.Errorf("route counts %s and %s, want 1 and 3", e[FieldRouteCount], f[FieldRouteCount])
	}
	// The document is the posting, as its own JSON has it, plus the index's fields.
	var back ingestapi.JobEvent
	if err := json.Unmarshal(full.JSON, &back); err != nil {
		t.Fatal(err)
	}
	want := fullPosting()
	if back.EmployerID != "acme" || back.SalaryHourlyMax != want.SalaryHourlyMax || *back.Location.Lat != *want.Location.Lat || !back.ValidThrough.Equal(want.ValidThrough) || len(back.Routes) != 3 {
		t.Errorf("document decodes to %+v", back)
	}
	if body := NDJSON([]Document{full, empty}); bytes.Count(body, []byte("\n")) != 2 || !bytes.HasSuffix(body, []byte("}\n")) {
		t.Errorf("NDJSON of two documents is not two lines: %q", body)
	}
}

// The index's own fields never collide with a posting's: a key given twice
// is undefined for Meilisearch.
func TestDocFieldsAreNotPostingFields(t *testing.T) {
	ev := ingestapi.JobEvent{Posting: fullPosting(), EmployerID: "acme", ClusterID: "acme-1"}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parseJob(b)
	if err != nil {
		t.Fatal(err)
	}
	m := members(t, doc.JSON) // fails on a key given twice
	if string(m[FieldCluster]) != `"acme-1"` || string(m[FieldClusterHidden]) != "false" || doc.Cluster != "acme-1" {
		t.Errorf("cluster fields: %s %s, Cluster %q", m[FieldCluster], m[FieldClusterHidden], doc.Cluster)
	}
	ev.ID, ev.ClusterID = "agency-9", "acme-1"
	b, _ = json.Marshal(ev)
	if doc, err = parseJob(b); err != nil {
		t.Fatal(err)
	}
	m = members(t, doc.JSON)
	if string(m[FieldClusterHidden]) != "true" || doc.Cluster != "acme-1" {
		t.Errorf("a later member of a cluster: hidden %s, Cluster %q", m[FieldClusterHidden], doc.Cluster)
	}
	for _, k := range []string{FieldClusterSize, FieldClusterOwner, FieldClusterFirstSeen} {
		if _, ok := m[k]; ok {
			t.Errorf("a later member of a cluster carries %s, which settling owns", k)
		}
	}
}

// An update that drops a salary, a location and routes leaves none of them
// in the index: searches and forward matches filter by what the posting
// says now. Real NATS and Meilisearch, through the indexer.
func TestAnUpdateThatDropsFieldsClearsThemInTheIndex(t *testing.T) {
	t.Parallel()
	srv := testenv.Open(t, testenv.Needs{Streams: true, Meili: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	x := New(srv.JS, srv.Meili, zerolog.Nop(), srv.Config.IndexPrefix+"postings", nil)
	if err := x.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	defer runIndexer(t, ctx, x)()
	publish := func(et events.Topic[ingestapi.JobEvent], p posting.Posting, id string) {
		ev := et.New("", ingestapi.JobEvent{Posting: p, EmployerID: "acme"})
		ev.ID, ev.Source = id, "test"
		if _, err := events.Publish(ctx, srv.JS, ev); err != nil {
			t.Fatal(err)
		}
	}
	find := func(filter string) int {
		res, err := srv.Meili.Index(x.UID()).Search(ctx, "", &meilisearch.SearchRequest{Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Hits)
	}
	p := fullPosting()
	publish(ingestapi.Posted, p, "posted:acme-1")
	filters := []string{"salary_hourly_max >= 20", match.GeoRadius(39.96, -83.0, 500), RouteField(2, RouteGroups) + " EXISTS AND " + RouteField(2, RouteGroups) + " IS NOT NULL"}
	testenv.Eventually(t, time.Minute, func() error {
		for _, f := range filters {
			if n := find(f); n != 1 {
				return fmt.Errorf("%s: %d hits before the update, want 1", f, n)
			}
		}
		return nil
	})
	p.SalaryHourlyMin, p.SalaryHourlyMax, p.SalaryAnnualMin, p.SalaryAnnualMax = 0, 0, 0, 0
	p.Location, p.WorkMode, p.URL = posting.Location{}, "remote", ""
	p.Routes = p.Routes[:1]
	publish(ingestapi.Updated, p, "updated:acme-1")
	testenv.Eventually(t, time.Minute, func() error {
		if find(`work_mode = "remote"`) != 1 {
			return fmt.Errorf("update not indexed yet")
		}
		return nil
	})
	for _, f := range filters {
		if n := find(f); n != 0 {
			t.Errorf("%s finds the posting after an update that dropped the field", f)
		}
	}
	var doc map[string]any
	if err := srv.Meili.Index(x.UID()).GetDocument(ctx, "acme-1", nil, &doc); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k, v := range doc {
			if v != nil && (strings.HasPrefix(k, "salary") || k == "_geo" || k == match.FieldLat || k == match.FieldLon || k == "url" || strings.HasPrefix(k, "route_1") || strings.HasPrefix(k, "route_2")) && !yield(k) {
				return
			}
		}
	})
	if len(keys) > 0 {
		t.Errorf("fields the update dropped still hold values: %v", keys)
	}
}
