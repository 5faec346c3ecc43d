package matching

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// An index written before routes (no route fields, fewer filterable
// attributes) is brought up to date at start: the settings update adds the
// route fields, and the documents are re-indexed from the postings they
// hold, after which the filter is exact again.
func TestIndexWrittenBeforeRoutesIsMigrated(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	ctx := context.Background()
	old := postingindex.Settings(s.index)
	old.Settings.FilterableAttributes = slices.DeleteFunc(slices.Clone(old.Settings.FilterableAttributes), func(f string) bool {
		return strings.HasPrefix(f, "route_") || f == postingindex.FieldOneWay
	})
	if err := meili.EnsureIndex(ctx, s.mc, old); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	places := zipPoints(t, s.cfg.ZCTAFile, 20)
	ps := genPostings(r, 300, places, time.Now())
	var docs []map[string]any
	for i := range ps {
		ps[i].Routes = nil // events written before routes
		d, _, err := postingindex.Doc(ps[i])
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(d.JSON, &doc); err != nil {
			t.Fatal(err)
		}
		for k := range doc {
			if strings.HasPrefix(k, "route_") || k == postingindex.FieldOneWay {
				delete(doc, k)
			}
		}
		doc["employer_id"] = "org-1"
		docs = append(docs, doc)
	}
	s.addRawDocs(t, docs)

	// What Run does at start.
	if err := meili.EnsureIndex(ctx, s.mc, postingindex.Settings(s.index)); err != nil {
		t.Fatal(err)
	}
	n, err := postingindex.Migrate(ctx, s.mc, s.index)
	if err != nil || n != len(ps) {
		t.Fatalf("migrated %d of %d: %v", n, len(ps), err)
	}
	if n, err := postingindex.Migrate(ctx, s.mc, s.index); err != nil || n != 0 {
		t.Fatalf("second start migrated %d: %v", n, err)
	}
	if err := s.postings.Vocabulary().Load(ctx, s.mc, s.index); err != nil {
		t.Fatal(err)
	}
	ev, err := s.getPosting(ctx, ps[0].ID)
	if err != nil || ev.EmployerID != "org-1" {
		t.Fatalf("migrated posting %+v: %v", ev, err)
	}
	s.checkFilterAgrees(t, r, ps, places, 15)
}

// The caseload's best unlock counts exams a client may sit now, as what
// passing gives that client: CPC gives a client without coding experience
// CPC-A, so it opens postings that take CPC-A but not those asking for CPC,
// and an apprentice who holds CPC-A is not counted for CPC again.
func TestCaseloadBestUnlockCountsExamsClientsMaySitNow(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	ctx := context.Background()
	places := zipPoints(t, s.cfg.ZCTAFile, 5)
	now := time.Now()
	remote := func(id string, routes ...posting.Route) posting.Posting {
		p := posting.Posting{ID: id, Title: "Coder " + id, Employer: "Acme", DatePosted: now.AddDate(0, 0, -1), EmploymentType: []string{"FULL_TIME"}}
		p.WorkMode = "remote"
		p.SetRoutes(routes)
		return p
	}
	ps := []posting.Posting{
		remote("p1", posting.Route{Credentials: [][]string{{"CPC", "CPC-A"}}}),
		remote("p2", posting.Route{Credentials: [][]string{{"CPC"}}}),
		remote("p3", // federal: a degree, a year, or one of seven credentials (not CPC-A)
			posting.Route{EducationMin: posting.EducationAssociate},
			posting.Route{ExperienceMonthsMin: 12},
			posting.Route{Credentials: [][]string{{"RHIT", "RHIA", "CCA", "CCS", "CPC", "COC", "CIC"}}}),
		remote("p4", posting.Route{Credentials: [][]string{{"CCA"}}}),
		remote("p5", posting.Route{Credentials: [][]string{{"RHIT"}}}),
	}
	s.loadPostings(t, ps)
	client := func(id string, codingMonths int, creds ...profile.CredentialRecord) {
		lat, lon := places[0].Lat, places[0].Lon
		sk := profile.Seeker{ID: id, Education: []profile.Education{{Level: "high_school", Status: "completed"}},
			Location: &profile.Location{Lat: &lat, Lon: &lon}, RadiusMiles: 25, RemotePref: "any"}
		if codingMonths > 0 {
			sk.Experience = []profile.Experience{{Area: "coding", Months: codingMonths}}
		}
		sk.Normalize()
		s.seekers.SetAttrs(sk, 1)
		for _, c := range creds {
			s.seekers.AddCredential(id, c, 1)
		}
	}
	client("a", 0)
	client("b", 0, profile.CredentialRecord{Code: "CPC", EarnedOn: "2025-06-01", Apprentice: true})
	client("c", 0)
	client("d", 30)
	for _, id := range []string{"a", "c", "d"} {
		sk, _, _ := s.seekers.View(id)
		if !slices.Contains(sk.EligibleNow, "CCA") || !slices.Contains(sk.EligibleNow, "CPC") || slices.Contains(sk.EligibleNow, "RHIT") {
			t.Fatalf("client %s eligible now for %v: the test assumes CCA and CPC, not RHIT", id, sk.EligibleNow)
		}
	}

	view, err := s.caseloadView(ctx, []string{"a", "b", "c", "d"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]matchingapi.Unlock{}
	for _, u := range view.Unlocks {
		got[u.Credential] = u
	}
	for code := range got {
		if strings.HasSuffix(code, "-A") || code == "RHIT" {
			t.Errorf("unlock %s: an apprentice status, or an exam no client may sit now", code)
		}
	}
	// CCA: p3 and p4 for a, b and c; p4 for d (d qualifies for p3 by experience).
	if u := got["CCA"]; u.Postings != 7 || !slices.Equal(u.Seekers, []string{"a", "b", "c", "d"}) {
		t.Errorf("CCA unlock %+v, want 7 postings for a, b, c, d", u)
	}
	// CPC: CPC-A opens p1 for a and c; d, with 30 months of coding, earns
	// CPC and opens p1 and p2; b already holds CPC-A.
	u := got["CPC"]
	want := []matchingapi.UnlockClient{{SeekerID: "a", Earns: "CPC-A", Postings: 1}, {SeekerID: "c", Earns: "CPC-A", Postings: 1}, {SeekerID: "d", Earns: "CPC", Postings: 2}}
	if u.Postings != 4 || !slices.Equal(u.Clients, want) {
		t.Errorf("CPC unlock %+v, want %+v", u, want)
	}
	if view.BestUnlock == nil || view.BestUnlock.Credential != "CCA" {
		t.Errorf("best unlock %+v, want CCA", view.BestUnlock)
	}
	if len(view.Clients) != 4 || !view.Clients[0].Known {
		t.Errorf("clients %+v", view.Clients)
	}
	t.Logf("unlocks %+v", view.Unlocks)
}

// A posting with several ways in reaches, through every path of matching,
// the seekers who meet any one of them: the forward filter, reverse
// matching, candidate lists; a seeker who meets none sees it as a near miss
// naming the way in cheapest by the pathway engine (an exam they may sit
// now, not a year of experience).
func TestRoutesThroughForwardReverseAndCandidates(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	ctx := context.Background()
	places := zipPoints(t, s.cfg.ZCTAFile, 5)
	now := time.Now()
	fed := posting.Posting{ID: "fed", Title: "Medical Records Technician (Coder)", Employer: "VA", DatePosted: now.AddDate(0, 0, -2), EmploymentType: []string{"FULL_TIME"}}
	fed.WorkMode = "remote"
	fed.SetRoutes([]posting.Route{
		{EducationMin: posting.EducationAssociate},
		{ExperienceMonthsMin: 12},
		{Credentials: [][]string{{"RHIT", "RHIA", "CCA", "CCS", "CPC", "COC", "CIC"}}},
	})
	s.loadPostings(t, []posting.Posting{fed})
	seeker := func(id string, creds ...string) {
		lat, lon := places[0].Lat, places[0].Lon
		sk := profile.Seeker{ID: id, Education: []profile.Education{{Level: "high_school", Status: "completed"}},
			Location: &profile.Location{Lat: &lat, Lon: &lon}, RadiusMiles: 25, RemotePref: "any", OpenToEmployers: true}
		sk.Normalize()
		s.seekers.SetAttrs(sk, 1)
		for _, c := range creds {
			s.seekers.AddCredential(id, profile.CredentialRecord{Code: c, EarnedOn: "2025-01-01"}, 1)
		}
	}
	seeker("cpc", "CPC")
	seeker("none")

	res, err := s.forwardMatch(ctx, "cpc", 10, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != 1 || res.Matches[0].PostingID != "fed" || !slices.ContainsFunc(res.Matches[0].Met, func(m string) bool { return strings.HasPrefix(m, "you meet one of its 3 ways in") }) {
		t.Fatalf("a CPC holder's matches: %+v", res.Matches)
	}
	res, err = s.forwardMatch(ctx, "none", 10, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != 0 || len(res.NearMisses) != 1 {
		t.Fatalf("a seeker with nothing: matches %+v, near misses %+v", res.Matches, res.NearMisses)
	}
	nm := res.NearMisses[0]
	if nm.RouteCount != 3 || len(nm.Missing) != 1 || nm.Missing[0].Kind != "credential" || len(nm.Missing[0].Codes) != 7 ||
		len(nm.Closers) != 1 || nm.Closers[0].Status != "eligible_now" || nm.Closers[0].CostMax == nil || len(nm.OtherRoutes) != 2 {
		t.Fatalf("near miss %+v", nm)
	}
	t.Logf("near miss: %s; closer: %s", nm.Summary, nm.Closers[0].Text)

	pairs := s.pairs(nil, &fed, now)
	var found []string
	for p := range pairs.all() {
		found = append(found, p.seeker)
	}
	pairs.release()
	if !slices.Equal(found, []string{"cpc"}) {
		t.Errorf("reverse match found %v, want [cpc]", found)
	}
	reply, err := s.candidates(ctx, matchingapi.CandidatesRequest{PostingID: "fed"})
	if err != nil {
		t.Fatal(err)
	}
	cands := reply.Candidates
	if len(cands) != 1 || cands[0].SeekerID != "cpc" || !slices.Contains(cands[0].Met, "you hold CPC, which that way in requires") {
		t.Errorf("candidates %+v", cands)
	}
}

// Market demand counts a credential that is one way in among several as
// demand, says how many postings name it only so, and counts pay of a
// posting whose credential groups of some route the held codes satisfy.
func TestMarketDemandCountsOneWayIn(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	ctx := context.Background()
	at := zipPoints(t, s.cfg.ZCTAFile, 5)[0]
	now := time.Now()
	site := func(id string, pay float64, routes ...posting.Route) posting.Posting {
		lat, lon := at.Lat, at.Lon
		p := posting.Posting{ID: id, Title: "Coder", Employer: "Acme", DatePosted: now, EmploymentType: []string{"FULL_TIME"},
			Location: posting.Location{Lat: &lat, Lon: &lon}, SalaryHourlyMin: pay, SalaryHourlyMax: pay}
		p.WorkMode = "onsite"
		p.SetRoutes(routes)
		return p
	}
	s.loadPostings(t, []posting.Posting{
		site("fed", 20, posting.Route{ExperienceMonthsMin: 12}, posting.Route{Credentials: [][]string{{"CPC", "CCS"}}}),
		site("cpc", 30, posting.Route{Credentials: [][]string{{"CPC"}}}),
		site("rhit", 40, posting.Route{Credentials: [][]string{{"RHIT"}}}),
	})
	m, err := s.marketDemand(ctx, matchingapi.MarketRequest{Lat: &at.Lat, Lon: &at.Lon, RadiusMiles: 10, Held: []string{"CPC"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Credentials["CPC"]; c.Postings != 2 || c.OneWayIn != 1 {
		t.Errorf("CPC demand %+v, want 2 postings, 1 of them one way in", c)
	}
	if c := m.Credentials["CCS"]; c.Postings != 1 || c.OneWayIn != 1 {
		t.Errorf("CCS demand %+v", c)
	}
	if c := m.Credentials["RHIT"]; c.Postings != 1 || c.OneWayIn != 0 {
		t.Errorf("RHIT demand %+v", c)
	}
	if m.QualifiedMedianHourly != 25 { // fed (20) and cpc (30), not rhit
		t.Errorf("qualified median %v, want 25", m.QualifiedMedianHourly)
	}
}

// addRawDocs adds documents to the postings index as they are, as an
// older version of the indexer wrote them.
func (s *Service) addRawDocs(t *testing.T, docs []map[string]any) {
	t.Helper()
	ctx := context.Background()
	pk := "id"
	info, err := s.mc.Index(s.index).AddDocuments(ctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
	if err == nil {
		err = meili.Wait(ctx, s.mc, info)
	}
	if err != nil {
		t.Fatal(err)
	}
}
