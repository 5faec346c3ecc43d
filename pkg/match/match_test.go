package match

import (
	"encoding/json"
	"reflect"
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
