package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// start runs the ingest service on the test's own servers, with the ZIP
// centroids when they are installed; the returned Service is the running
// one, so tests can drive its lifecycle sweep.
func start(t *testing.T) (*Service, *testenv.Servers) {
	t.Helper()
	srv := testenv.Open(t, testenv.Needs{Streams: true, Redis: true})
	return startWith(t, srv, Options{ZCTA: LoadZCTA(srv.Config.ZCTAFile, zerolog.Nop()), StaleAfterDays: srv.Config.StaleAfterDays, SweepInterval: -1})
}

func startWith(t testing.TB, srv *testenv.Servers, opts Options) (*Service, *testenv.Servers) {
	t.Helper()
	s, err := New(srv.NC, srv.JS, srv.Redis, zerolog.Nop(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	testenv.Eventually(t, 5*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return rpc.Serving(ctx, srv.NC, "ingest", ingestapi.Endpoints())
	})
	return s, srv
}

func submit(t *testing.T, p *testenv.Servers, ctype, mode, body string, extra ...string) (ingestapi.Result, error) {
	t.Helper()
	return submitAs(t, p, "acme", ctype, mode, body, extra...)
}

func submitAs(t *testing.T, p *testenv.Servers, org, ctype, mode, body string, extra ...string) (ingestapi.Result, error) {
	t.Helper()
	h := nats.Header{}
	h.Set("Content-Type", ctype)
	h.Set(ingestapi.HeaderEmployerOrg, org)
	h.Set(ingestapi.HeaderMode, mode)
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return ingestapi.Submit.Call(context.Background(), p.NC, rpc.Raw{Data: []byte(body), Header: h})
}

func today() string { return time.Now().UTC().Format("2006-01-02") }

func countSubject(t *testing.T, p *testenv.Servers, subject string) uint64 {
	t.Helper()
	st, err := p.JS.Stream(context.Background(), events.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects[subject]
}

func TestEveryFormatAndBadRowsKeepGoodRows(t *testing.T) {
	_, p := start(t)
	d := today()
	cases := []struct {
		name, ctype, body string
		extra             []string
		accepted          int
		rejected          int
	}{
		{"json array with one bad row", "application/json",
			`[{"title":"Coder I","description":"CCA or CPC-A required.","employer":"Prairie View","date_posted":"` + d + `","postal_code":"73102"},
			  {"title":"","description":"no title","employer":"X","date_posted":"` + d + `","postal_code":"73102"}]`, nil, 1, 1},
		{"ndjson with a malformed line", "application/x-ndjson",
			`{"title":"ROI Specialist","description":"RHIT preferred.","employer":"Chartwell","date_posted":"` + d + `","work_mode":"remote"}` + "\n" +
				`{"title":"Broken` + "\n" +
				`{"title":"Scanning Clerk","description":"High school diploma required.","employer":"Chartwell","date_posted":"` + d + `","postal_code":"10001"}` + "\n", nil, 2, 1},
		{"csv with a column mapping", "text/csv",
			"Job Title,Job Description,Company,Posted On,ZIP\nCoding Specialist,Must hold CPC or CCS.,Harbor Point," + d + ",33130\n", []string{ingestapi.HeaderColumns, `{"Job Title":"title","Job Description":"description","Company":"employer","Posted On":"date_posted","ZIP":"postal_code"}`}, 1, 0},
		{"json-ld graph", "application/ld+json", `{"@context":"https://schema.org","@graph":[
			{"@type":"JobPosting","title":"HIM Technician","description":"<p>RHIT or RHIT-eligible.</p>","datePosted":"` + d + `",
			 "hiringOrganization":{"@type":"Organization","name":"Lakeside"},
			 "jobLocation":{"@type":"Place","address":{"@type":"PostalAddress","postalCode":"60601"}},
			 "baseSalary":{"@type":"MonetaryAmount","currency":"USD","value":{"@type":"QuantitativeValue","minValue":21,"maxValue":26,"unitText":"HOUR"}}}]}`, nil, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := submit(t, p, tc.ctype, "bulk", tc.body, tc.extra...)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Accepted) != tc.accepted || len(r.Rejected) != tc.rejected {
				t.Fatalf("accepted %d rejected %d: %+v", len(r.Accepted), len(r.Rejected), r)
			}
			for _, rj := range r.Rejected {
				if len(rj.Errors) == 0 || rj.Errors[0].Field == "" {
					t.Fatalf("rejection without a field: %+v", rj)
				}
			}
		})
	}
	if n := countSubject(t, p, events.JobsPosted); n != 5 {
		t.Fatalf("jobs.posted holds %d, want 5", n)
	}
	if n := countSubject(t, p, events.JobsRejected); n != 2 {
		t.Fatalf("jobs.rejected holds %d, want 2", n)
	}
}

func TestSameFileTwiceIsOnePostingAndChangesAreVersions(t *testing.T) {
	_, p := start(t)
	d := today()
	body := fmt.Sprintf(`[{"identifier":"REQ-1","title":"Coder II","description":"RHIT and (CCS or CIC) required.","employer":"Mercy","date_posted":"%s","postal_code":"95814"},
		{"identifier":"REQ-2","title":"Clerk","description":"Scanning and indexing.","employer":"Mercy","date_posted":"%s","postal_code":"95814"}]`, d, d)
	first, err := submit(t, p, "application/json", "bulk", body)
	if err != nil {
		t.Fatal(err)
	}
	again, err := submit(t, p, "application/json", "bulk", strings.ReplaceAll(body, "  ", " "))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if first.Accepted[i].Status != "posted" || again.Accepted[i].Status != "duplicate" || first.Accepted[i].ID != again.Accepted[i].ID {
			t.Fatalf("first %+v again %+v", first.Accepted[i], again.Accepted[i])
		}
	}
	// The same requisition with a changed description is a new version.
	changed := strings.Replace(body, "Scanning and indexing.", "Scanning, indexing and release of information.", 1)
	upd, err := submit(t, p, "application/json", "bulk", changed)
	if err != nil {
		t.Fatal(err)
	}
	if upd.Accepted[1].Status != "updated" || upd.Accepted[1].ID != first.Accepted[1].ID {
		t.Fatalf("update %+v", upd.Accepted[1])
	}
	if n := countSubject(t, p, events.JobsPosted); n != 2 {
		t.Fatalf("jobs.posted holds %d, want 2", n)
	}
	if n := countSubject(t, p, events.JobsUpdated); n != 1 {
		t.Fatalf("jobs.updated holds %d, want 1", n)
	}
}

func TestNearDuplicatesShareACluster(t *testing.T) {
	_, p := start(t)
	d := today()
	// A realistic ~3 KB hospital posting (the extraction benchmark's).
	raw, err := os.ReadFile("../../pkg/posting/testdata/bench/typical.json")
	if err != nil {
		t.Fatal(err)
	}
	var typical struct{ Title, Description string }
	if err := json.Unmarshal(raw, &typical); err != nil {
		t.Fatal(err)
	}
	post := func(employer, desc string) ingestapi.Outcome {
		t.Helper()
		r, err := submit(t, p, "application/json", "single", fmt.Sprintf(`{"title":%q,"description":%q,"employer":%q,"date_posted":"%s","postal_code":"43215"}`, typical.Title, desc, employer, d))
		if err != nil {
			t.Fatal(err)
		}
		return r.Accepted[0]
	}
	a := post("Riverside Regional Medical Center", typical.Description)
	// An agency re-posts it with small edits.
	edited := strings.Replace(typical.Description, "Riverside Regional Medical Center", "a regional medical center", 1)
	b := post("Staffing Partners", edited+" Apply through Staffing Partners.")
	c := post("Riverside Regional Medical Center", "Release of information specialist: process requests for records under HIPAA and 42 CFR Part 2. High school diploma required.")
	if a.ID == b.ID {
		t.Fatal("the agency's re-post has the same id: it was dropped, not grouped")
	}
	if b.ClusterID != a.ClusterID || c.ClusterID == a.ClusterID {
		t.Fatalf("clusters a=%s b=%s c=%s", a.ClusterID, b.ClusterID, c.ClusterID)
	}
}

func TestExpiredAndStalePostingsClose(t *testing.T) {
	s, p := start(t)
	d := time.Now().UTC()
	body := fmt.Sprintf(`[{"identifier":"A","title":"Clerk","description":"Filing.","employer":"Mercy","date_posted":"%s","valid_through":"%s","postal_code":"95814"},
		{"identifier":"B","title":"Coder","description":"Coding.","employer":"Mercy","date_posted":"%s","postal_code":"95814"}]`,
		d.Format("2006-01-02"), d.AddDate(0, 0, 10).Format("2006-01-02"), d.Format("2006-01-02"))
	if _, err := submit(t, p, "application/json", "bulk", body); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Sweep(ctx, d.AddDate(0, 0, 5)); err != nil {
		t.Fatal(err)
	}
	if n := countSubject(t, p, events.JobsClosed); n != 0 {
		t.Fatalf("closed %d before validThrough", n)
	}
	if err := s.Sweep(ctx, d.AddDate(0, 0, 11)); err != nil {
		t.Fatal(err)
	}
	if n := countSubject(t, p, events.JobsClosed); n != 1 {
		t.Fatalf("closed %d after validThrough, want 1", n)
	}
	if err := s.Sweep(ctx, d.AddDate(0, 0, p.Config.StaleAfterDays+1)); err != nil {
		t.Fatal(err)
	}
	if n := countSubject(t, p, events.JobsStale); n != 1 {
		t.Fatalf("stale %d, want 1", n)
	}
	// Sweeping again changes nothing.
	if err := s.Sweep(ctx, d.AddDate(0, 0, p.Config.StaleAfterDays+2)); err != nil {
		t.Fatal(err)
	}
	if n := countSubject(t, p, events.JobsClosed) + countSubject(t, p, events.JobsStale); n != 2 {
		t.Fatalf("after a second sweep: %d close events", n)
	}
}

func TestBadInput(t *testing.T) {
	_, p := start(t)
	cases := []struct {
		name, ctype, mode, body string
		code                    apierr.Code
	}{
		{"wrong content type", "text/plain", "bulk", "hello", apierr.Unsupported},
		{"malformed json", "application/json", "bulk", `[{"title": "x",}]`, apierr.Invalid},
		{"deep json", "application/json", "bulk", strings.Repeat("[", 100) + strings.Repeat("]", 100), apierr.Invalid},
		{"invalid utf-8", "application/json", "single", "{\"title\":\"\xff\"}", apierr.Invalid},
		{"single with two", "application/json", "single", `[{"title":"a"},{"title":"b"}]`, apierr.Invalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := submit(t, p, tc.ctype, tc.mode, tc.body)
			if apierr.CodeOf(err) != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
		})
	}
}

// Repeats inside one batch are de-duplicated too.
func TestRepeatsWithinOneBatch(t *testing.T) {
	_, p := start(t)
	one := fmt.Sprintf(`{"identifier":"R1","title":"Clerk","description":"Scanning and indexing.","employer":"Mercy","date_posted":"%s","postal_code":"95814"}`, today())
	r, err := submit(t, p, "application/json", "bulk", "["+one+","+one+"]")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Accepted) != 2 || r.Accepted[0].Status != "posted" || r.Accepted[1].Status != "duplicate" || r.Accepted[0].ID != r.Accepted[1].ID {
		t.Fatalf("%+v", r.Accepted)
	}
	if n := countSubject(t, p, events.JobsPosted); n != 1 {
		t.Fatalf("jobs.posted holds %d, want 1", n)
	}
}

// An agency re-posts a short job in its own words: the text is far apart,
// but title, place, requirements and pay say it is the same job.
func TestAgencyRepostInOtherWordsJoinsTheCluster(t *testing.T) {
	_, p := start(t)
	d := today()
	post := func(employer, desc string) ingestapi.Outcome {
		t.Helper()
		r, err := submit(t, p, "application/json", "single", fmt.Sprintf(`{"title":"Release of Information Specialist","description":%q,"employer":%q,"date_posted":"%s","postal_code":"30303","salary_min":19,"salary_max":22,"salary_unit":"HOUR"}`, desc, employer, d))
		if err != nil {
			t.Fatal(err)
		}
		return r.Accepted[0]
	}
	a := post("Grady Health", "Process requests for medical records under HIPAA. High school diploma required.")
	b := post("Peach State Staffing", "Our client, a major Atlanta health system, needs a records request specialist. You will process requests for medical records under HIPAA. High school diploma required. Apply today: weekly pay, benefits, referral bonus.")
	other := post("Grady Health", "Process requests for medical records under HIPAA and 42 CFR Part 2. RHIT required.")
	if a.ID == b.ID || b.ClusterID != a.ClusterID {
		t.Fatalf("agency re-post: a=%+v b=%+v", a, b)
	}
	if other.ClusterID == a.ClusterID {
		t.Fatalf("a job with other requirements joined the cluster: %+v", other)
	}
}
