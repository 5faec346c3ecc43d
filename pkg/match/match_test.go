package match

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/posting"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func ptr(f float64) *float64 { return &f }

// nyc is 10001; the posting sites are a few miles and ~95 miles away.
var nyc = geo.Point{Lat: 40.75065, Lon: -73.997293}

func job(mut func(*posting.Posting)) posting.Posting {
	p := posting.Posting{ID: "p1", Title: "Coder", Employer: "Acme", DatePosted: now.AddDate(0, 0, -3)}
	p.WorkMode = "onsite"
	p.Location = posting.Location{Lat: ptr(40.7128), Lon: ptr(-74.0060)}
	if mut != nil {
		mut(&p)
	}
	return p
}

func seeker(mut func(*Seeker)) Seeker {
	s := Seeker{ID: "s1", Point: &nyc, RadiusMiles: 25, RemotePref: "any", EducationRank: 1}
	if mut != nil {
		mut(&s)
	}
	return s
}

func TestGaps(t *testing.T) {
	cases := []struct {
		name string
		s    Seeker
		p    posting.Posting
		want []string // gap kinds
	}{
		{"nothing required", seeker(nil), job(nil), nil},
		{"required group met by one alternative", seeker(func(s *Seeker) { s.Held = []string{"CIC"} }),
			job(func(p *posting.Posting) { p.CredentialsRequired = [][]string{{"CCS", "CIC"}} }), nil},
		{"RHIT and (CCS or CIC) with RHIT only", seeker(func(s *Seeker) { s.Held = []string{"RHIT"} }),
			job(func(p *posting.Posting) { p.CredentialsRequired = [][]string{{"RHIT"}, {"CCS", "CIC"}} }), []string{"credential"}},
		{"or-eligible met by eligibility", seeker(func(s *Seeker) { s.EligibleNow = []string{"RHIT"} }),
			job(func(p *posting.Posting) { p.CredentialsOrEligible = []string{"RHIT"} }), nil},
		{"or-eligible not met", seeker(nil),
			job(func(p *posting.Posting) { p.CredentialsOrEligible = []string{"RHIT"} }), []string{"or_eligible"}},
		{"education short, experience in lieu", seeker(func(s *Seeker) { s.ExperienceMonths = 12 }),
			job(func(p *posting.Posting) {
				p.EducationMin, p.ExperienceMonthsMin, p.ExperienceInLieuOfEducation = posting.EducationAssociate, 12, true
			}), nil},
		{"education short, no substitution", seeker(func(s *Seeker) { s.ExperienceMonths = 12 }),
			job(func(p *posting.Posting) { p.EducationMin, p.ExperienceMonthsMin = posting.EducationAssociate, 12 }), []string{"education"}},
		{"experience short", seeker(func(s *Seeker) { s.ExperienceMonths = 6 }),
			job(func(p *posting.Posting) { p.ExperienceMonthsMin = 24 }), []string{"experience"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var kinds []string
			for _, g := range Gaps(tc.s, tc.p) {
				kinds = append(kinds, g.Kind)
			}
			if !reflect.DeepEqual(kinds, tc.want) {
				t.Fatalf("gaps %v, want %v", kinds, tc.want)
			}
		})
	}
}

func TestReachable(t *testing.T) {
	far := job(func(p *posting.Posting) { p.Location = posting.Location{Lat: ptr(41.7658), Lon: ptr(-72.6734)} }) // Hartford
	remote := job(func(p *posting.Posting) { p.WorkMode = "remote"; p.Location = posting.Location{} })
	if ok, d := Reachable(seeker(nil), job(nil)); !ok || d == nil || *d > 5 {
		t.Fatalf("near site: %v %v", ok, d)
	}
	if ok, _ := Reachable(seeker(nil), far); ok {
		t.Fatal("a site ~100 miles away is within a 25-mile radius")
	}
	if ok, _ := Reachable(seeker(nil), remote); !ok {
		t.Fatal("remote work is unreachable")
	}
	if ok, _ := Reachable(seeker(func(s *Seeker) { s.RemotePref = "onsite" }), remote); ok {
		t.Fatal("an on-site-only seeker matched remote work")
	}
	if ok, _ := Reachable(seeker(func(s *Seeker) { s.Point = nil }), job(nil)); ok {
		t.Fatal("a seeker without a location matched an on-site job")
	}
}

func TestScoreExplainsEveryComponent(t *testing.T) {
	s := seeker(func(s *Seeker) {
		s.Held = []string{"CCA"}
		s.Skills = []string{"release_of_information"}
		s.CodeSets = []string{"ICD-10-CM"}
		s.DesiredHourly = 25
		s.ExperienceMonths = 6
	})
	p := job(func(p *posting.Posting) {
		p.CredentialsPreferred = []string{"CCA", "RHIT"}
		p.Skills = []string{"release_of_information", "hipaa"}
		p.CodeSets = []string{"ICD-10-CM", "CPT"}
		p.ExperienceMonthsMin = 12
		p.SalaryHourlyMax = 20
	})
	r := Score(s, p, now)
	// Six months of a twelve-month minimum is a gap, and half the points.
	if r.Eligible || len(r.Missing) != 1 || r.Missing[0].Kind != "experience" {
		t.Fatalf("eligible %v, missing %+v", r.Eligible, r.Missing)
	}
	got := map[string]float64{}
	sum := 0.0
	for _, c := range r.Components {
		got[c.Name] = c.Points
		sum += c.Points
		if c.Detail == "" || c.Points > c.Max {
			t.Errorf("component %+v", c)
		}
	}
	want := map[string]float64{"preferred_credentials": 10, "skills": 15, "experience": 7.5, "pay": 8, "freshness": 9}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if r.Score != round2(sum) {
		t.Errorf("score %v is not the sum %v", r.Score, sum)
	}
	if !strings.Contains(r.Components[1].Detail, "you lack hipaa, CPT") {
		t.Errorf("skills detail %q", r.Components[1].Detail)
	}
}

func TestDeterministicRanking(t *testing.T) {
	s := seeker(func(s *Seeker) { s.Held = []string{"RHIT"} })
	ps := []posting.Posting{
		job(func(p *posting.Posting) { p.ID = "b" }),
		job(func(p *posting.Posting) { p.ID = "a" }),
		job(func(p *posting.Posting) { p.ID = "c"; p.CredentialsRequired = [][]string{{"RHIA"}} }),
		job(func(p *posting.Posting) { p.ID = "d"; p.DatePosted = now }),
	}
	run := func() []byte {
		var rs []Result
		for _, p := range ps {
			rs = append(rs, Score(s, p, now))
		}
		Rank(rs)
		b, _ := json.Marshal(rs)
		return b
	}
	first := run()
	var rs []Result
	_ = json.Unmarshal(first, &rs)
	var order []string
	for _, r := range rs {
		order = append(order, r.PostingID)
	}
	if strings.Join(order, ",") != "d,a,b,c" {
		t.Fatalf("order %v, want d (fresher), a, b (tie by id), c (not eligible)", order)
	}
	for range 5 {
		if string(run()) != string(first) {
			t.Fatal("same input, different result")
		}
	}
}

func TestBlockingTokens(t *testing.T) {
	all := []string{GroupToken([]string{"RHIT"}), GroupToken([]string{"CIC", "CCS"}), GroupToken([]string{"RHIA", "RHIT"})}
	if all[1] != "CCS|CIC" {
		t.Fatalf("token %q", all[1])
	}
	got := BlockingTokens(all, []string{"RHIT"})
	if !reflect.DeepEqual(got, []string{"CCS|CIC"}) {
		t.Fatalf("blocking %v", got)
	}
	if got := BlockingTokens(all, []string{"CCS", "RHIA"}); !reflect.DeepEqual(got, []string{"RHIT"}) {
		t.Fatalf("blocking %v", got)
	}
	if q := Quote(`a"b\c`); q != `"a\"b\\c"` {
		t.Fatalf("quote %s", q)
	}
}

func BenchmarkScore(b *testing.B) {
	s := seeker(func(s *Seeker) { s.Held = []string{"RHIT", "CCS"}; s.Skills = []string{"hipaa", "abstracting"} })
	p := job(func(p *posting.Posting) {
		p.CredentialsRequired = [][]string{{"RHIT"}, {"CCS", "CIC"}}
		p.CredentialsPreferred = []string{"RHIA"}
		p.Skills = []string{"hipaa", "drg_validation"}
		p.CodeSets = []string{"ICD-10-PCS"}
	})
	for b.Loop() {
		_ = Score(s, p, now)
	}
}

// Points and Qualifies are Score without text: they must agree with it.
func TestFastPathsAgreeWithScore(t *testing.T) {
	seekers := []Seeker{
		seeker(nil),
		seeker(func(s *Seeker) {
			s.Held = []string{"RHIT", "CCS"}
			s.Skills = []string{"HIPAA"}
			s.DesiredHourly = 30
			s.ExperienceMonths = 30
		}),
		seeker(func(s *Seeker) { s.RemotePref = "onsite"; s.EligibleNow = []string{"RHIT"}; s.EducationRank = 3 }),
		seeker(func(s *Seeker) { s.Point = nil }),
		seeker(func(s *Seeker) { s.Held = []string{"CPC"}; s.ExperienceMonths = 3 }),
		seeker(func(s *Seeker) { s.Held = []string{"CCS"}; s.ExperienceMonths = 24; s.RemotePref = "remote" }),
	}
	jobs := []posting.Posting{
		job(nil),
		job(func(p *posting.Posting) {
			p.CredentialsRequired = [][]string{{"RHIT"}, {"CCS", "CIC"}}
			p.CredentialsPreferred = []string{"RHIA", "CCS"}
			p.Skills, p.CodeSets = []string{"hipaa", "mpi"}, []string{"CPT"}
			p.SalaryHourlyMin, p.SalaryHourlyMax = 22, 27
			p.ExperienceMonthsMin = 24
		}),
		job(func(p *posting.Posting) { p.WorkMode = "remote"; p.CredentialsOrEligible = []string{"RHIT"} }),
		job(func(p *posting.Posting) {
			p.EducationMin, p.ExperienceInLieuOfEducation, p.ExperienceMonthsMin = posting.EducationAssociate, true, 24
			p.DatePosted = now.AddDate(0, 0, -45)
		}),
		federal(),
		alsoConsider(),
		func() posting.Posting {
			p := alsoConsider()
			p.WorkMode = "remote"
			p.CredentialsOrEligible = []string{"RHIT"}
			return p
		}(),
	}
	for i, s := range seekers {
		for j, p := range jobs {
			r := Score(s, p, now)
			if got := Qualifies(&s, &p); got != r.Eligible {
				t.Errorf("seeker %d, job %d: Qualifies %v, Score says %v", i, j, got, r.Eligible)
			}
			if got := Points(&s, &p, now); got != r.Score {
				t.Errorf("seeker %d, job %d: Points %v, Score %v", i, j, got, r.Score)
			}
		}
	}
}

// BenchmarkQualifyPoints is reverse matching's per-pair work: no text, no
// allocation.
func BenchmarkQualifyPoints(b *testing.B) {
	s := seeker(func(s *Seeker) {
		s.Held = []string{"RHIT", "CCS"}
		s.Skills = []string{"hipaa", "abstracting"}
		s.CodeSets = []string{"CPT"}
	})
	p := job(func(p *posting.Posting) {
		p.WorkMode = "remote"
		p.Skills = []string{"hipaa"}
		p.CodeSets = []string{"ICD-10-CM", "CPT"}
	})
	b.ReportAllocs()
	for b.Loop() {
		if Qualifies(&s, &p) {
			_ = Points(&s, &p, now)
		}
	}
}

// federal is a federal announcement's "one of the following": (a) an
// associate degree in HIT, (b) one year of experience, or (c) any one of
// seven coding credentials.
func federal() posting.Posting {
	return job(func(p *posting.Posting) {
		p.SetRoutes([]posting.Route{
			{EducationMin: posting.EducationAssociate},
			{ExperienceMonthsMin: 12},
			{Credentials: [][]string{{"RHIT", "RHIA", "CCA", "CCS", "CPC", "COC", "CIC"}}},
		})
	})
}

// alsoConsider is "RHIT required; will also consider CCS with two years of
// experience".
func alsoConsider() posting.Posting {
	return job(func(p *posting.Posting) {
		p.SetRoutes([]posting.Route{
			{Credentials: [][]string{{"RHIT"}}},
			{Credentials: [][]string{{"CCS"}}, ExperienceMonthsMin: 24},
		})
	})
}

func TestRoutes(t *testing.T) {
	cheapCredentials := func(g Gap) float64 { // an exam the seeker may sit now
		if g.Kind == "credential" {
			return 2
		}
		return DefaultCost(g)
	}
	cases := []struct {
		name     string
		s        Seeker
		p        posting.Posting
		cost     Cost
		eligible bool
		route    string   // routeWords of the route met or named
		gaps     []string // gap kinds
		met      []string // substrings of Met
		summary  []string // substrings of Summary
	}{
		{name: "federal: CPC alone qualifies through the credential route",
			s: seeker(func(s *Seeker) { s.Held = []string{"CPC"} }), p: federal(), eligible: true,
			route: "one of CCA, CCS, CIC, COC, CPC, RHIA or RHIT",
			met:   []string{"you meet one of its 3 ways in: one of CCA, CCS, CIC, COC, CPC, RHIA or RHIT", "you hold CPC, which that way in requires"}},
		{name: "federal: an associate degree qualifies",
			s: seeker(func(s *Seeker) { s.EducationRank = 3 }), p: federal(), eligible: true,
			route: "an associate degree", met: []string{"your education meets its minimum: an associate degree"}},
		{name: "federal: a year of experience qualifies",
			s: seeker(func(s *Seeker) { s.ExperienceMonths = 12 }), p: federal(), eligible: true, route: "1 year of experience"},
		{name: "federal: nothing; by default a year of experience ties a credential and comes first",
			s: seeker(nil), p: federal(), route: "1 year of experience", gaps: []string{"experience"},
			summary: []string{"Not yet: one way in (the closest for you) requires 1 year of experience (you have 0 months)",
				"another: an associate degree; another: one of CCA, CCS, CIC, COC, CPC, RHIA or RHIT."}},
		{name: "federal: nothing; 8 months of experience make the rest of the year cheapest",
			s: seeker(func(s *Seeker) { s.ExperienceMonths = 8 }), p: federal(), route: "1 year of experience", gaps: []string{"experience"}},
		{name: "federal: nothing; with exams priced by the caller the credential route is cheapest",
			s: seeker(nil), p: federal(), cost: cheapCredentials,
			route: "one of CCA, CCS, CIC, COC, CPC, RHIA or RHIT", gaps: []string{"credential"},
			summary: []string{"requires CCA, CCS, CIC, COC, CPC, RHIA or RHIT; another: 1 year of experience; another: an associate degree."}},
		{name: "also consider: RHIT qualifies",
			s: seeker(func(s *Seeker) { s.Held = []string{"RHIT"} }), p: alsoConsider(), eligible: true, route: "RHIT"},
		{name: "also consider: CCS with experience qualifies",
			s: seeker(func(s *Seeker) { s.Held = []string{"CCS"}; s.ExperienceMonths = 30 }), p: alsoConsider(), eligible: true,
			route: "CCS and 2 years of experience",
			met:   []string{"you meet one of its 2 ways in: CCS and 2 years of experience", "you hold CCS, which that way in requires", "your 30 months of experience meets its 2 years minimum"}},
		{name: "also consider: CCS without the experience is a near miss; RHIT is cheaper than 18 months",
			s: seeker(func(s *Seeker) { s.Held = []string{"CCS"}; s.ExperienceMonths = 6 }), p: alsoConsider(),
			route: "RHIT", gaps: []string{"credential"}, summary: []string{"another: CCS and 2 years of experience"}},
		{name: "also consider: CCS with 20 months is closest through the experience",
			s: seeker(func(s *Seeker) { s.Held = []string{"CCS"}; s.ExperienceMonths = 20 }), p: alsoConsider(),
			route: "CCS and 2 years of experience", gaps: []string{"experience"}},
		{name: "also consider: or-eligible applies to every route",
			s:     seeker(func(s *Seeker) { s.Held = []string{"RHIT"} }),
			p:     func() posting.Posting { p := alsoConsider(); p.CredentialsOrEligible = []string{"CHPS"}; return p }(),
			route: "RHIT", gaps: []string{"or_eligible"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ScoreWith(tc.s, tc.p, now, tc.cost)
			if r.Eligible != tc.eligible {
				t.Fatalf("eligible %v, want %v (%s)", r.Eligible, tc.eligible, r.Summary)
			}
			if got := Qualifies(&tc.s, &tc.p); got != tc.eligible {
				t.Errorf("Qualifies %v, Score %v", got, tc.eligible)
			}
			if r.RouteCount != len(tc.p.Routes) {
				t.Errorf("route count %d, want %d", r.RouteCount, len(tc.p.Routes))
			}
			if got := routeWords(tc.p.Routes[r.Route]); got != tc.route {
				t.Errorf("route %d %q, want %q", r.Route, got, tc.route)
			}
			var kinds []string
			for _, g := range r.Missing {
				kinds = append(kinds, g.Kind)
			}
			if !reflect.DeepEqual(kinds, tc.gaps) {
				t.Errorf("gaps %v, want %v", kinds, tc.gaps)
			}
			for _, m := range tc.met {
				if !slices.Contains(r.Met, m) {
					t.Errorf("met %q lacks %q", r.Met, m)
				}
			}
			for _, w := range tc.summary {
				if !strings.Contains(r.Summary, w) {
					t.Errorf("summary %q lacks %q", r.Summary, w)
				}
			}
			wantOthers := 0
			if slices.ContainsFunc(r.Missing, func(g Gap) bool { return g.Kind != "or_eligible" }) {
				wantOthers = r.RouteCount - 1 // the seeker meets no way in
			}
			if len(r.OtherRoutes) != wantOthers {
				t.Errorf("other routes %v", r.OtherRoutes)
			}
		})
	}
	// The summary fields stay a necessary condition: no credential is
	// required by every route of either posting.
	if p := federal(); len(p.CredentialsRequired) != 0 || p.EducationMin != posting.EducationNone || p.ExperienceMonthsMin != 0 {
		t.Errorf("federal summary %+v", p.Requirements)
	}
	if p := alsoConsider(); len(p.CredentialsRequired) != 0 {
		t.Errorf("also-consider summary requires %v", p.CredentialsRequired)
	}
}

// An event written before routes scores as before: experience in place of
// education is one way in, and the required groups bind.
func TestEventsWithoutRoutes(t *testing.T) {
	legacy := job(func(p *posting.Posting) {
		p.CredentialsRequired = [][]string{{"RHIT"}, {"CCS", "CIC"}}
		p.EducationMin, p.ExperienceMonthsMin, p.ExperienceInLieuOfEducation = posting.EducationAssociate, 12, true
	})
	cases := []struct {
		s        Seeker
		eligible bool
		gaps     []string
	}{
		{seeker(func(s *Seeker) { s.Held = []string{"RHIT", "CIC"}; s.ExperienceMonths = 12 }), true, nil},
		{seeker(func(s *Seeker) { s.Held = []string{"RHIT", "CIC"}; s.EducationRank = 3; s.ExperienceMonths = 12 }), true, nil},
		{seeker(func(s *Seeker) { s.Held = []string{"RHIT", "CIC"}; s.EducationRank = 3; s.ExperienceMonths = 6 }), false, []string{"experience"}},
		{seeker(func(s *Seeker) { s.Held = []string{"RHIT"}; s.ExperienceMonths = 24 }), false, []string{"credential"}},
	}
	for i, tc := range cases {
		r := Score(tc.s, legacy, now)
		var kinds []string
		for _, g := range r.Missing {
			kinds = append(kinds, g.Kind)
		}
		if r.Eligible != tc.eligible || Qualifies(&tc.s, &legacy) != tc.eligible || !reflect.DeepEqual(kinds, tc.gaps) {
			t.Errorf("case %d: eligible %v (Qualifies %v), gaps %v; want %v, %v", i, r.Eligible, Qualifies(&tc.s, &legacy), kinds, tc.eligible, tc.gaps)
		}
		if r.RouteCount != 1 || len(r.OtherRoutes) != 0 || strings.Contains(r.Summary, "way in") {
			t.Errorf("case %d: a posting without routes reads as several ways in: %+v", i, r)
		}
	}
	if got := Routes(&legacy); len(got) != 1 || got[0].EducationMin != posting.EducationNone || got[0].ExperienceMonthsMin != 12 || len(got[0].Credentials) != 2 {
		t.Errorf("routes of the old event %+v", got)
	}
}

// BenchmarkQualifyRoutes is reverse matching's per-pair work on a posting
// with three ways in, the seeker meeting the last: still no allocation.
func BenchmarkQualifyRoutes(b *testing.B) {
	s := seeker(func(s *Seeker) { s.Held = []string{"CPC"}; s.Skills = []string{"hipaa"} })
	p := federal()
	p.WorkMode = "remote"
	p.Skills = []string{"hipaa"}
	b.ReportAllocs()
	for b.Loop() {
		if Qualifies(&s, &p) {
			_ = Points(&s, &p, now)
		}
	}
}
