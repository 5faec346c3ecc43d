package matching

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// requirement mixes seen in real postings (see pkg/posting's labelled set).
var requirementMixes = [][][]string{
	nil, nil, nil,
	{{"RHIT"}},
	{{"RHIT", "RHIA"}},
	{{"CCS", "CIC"}},
	{{"RHIT"}, {"CCS", "CIC"}},
	{{"CPC", "CCS", "CPC-A"}},
	{{"CCA", "CPC-A", "CPC"}},
	{{"CTR"}},
	{{"CHPS"}},
}

// routeMixes are ways to qualify as real postings list them (a third of
// the generated postings have routes; the rest are events written before
// routes, whose summary fields stand for one route).
var routeMixes = [][]posting.Route{
	{ // federal: (a) a degree, (b) a year of experience, (c) any of seven coding credentials
		{EducationMin: posting.EducationAssociate},
		{ExperienceMonthsMin: 12},
		{Credentials: [][]string{{"RHIT", "RHIA", "CCA", "CCS", "CPC", "COC", "CIC"}}},
	},
	{ // RHIT required; will also consider CCS with experience
		{Credentials: [][]string{{"RHIT"}}},
		{Credentials: [][]string{{"CCS"}}, ExperienceMonthsMin: 24},
	},
	{
		{Credentials: [][]string{{"RHIT"}, {"CCS", "CIC"}}},
		{Credentials: [][]string{{"RHIA"}}, EducationMin: posting.EducationBachelor},
	},
	{
		{Credentials: [][]string{{"CPC", "CPC-A"}}, ExperienceMonthsMin: 6},
		{Credentials: [][]string{{"CCA"}}},
		{EducationMin: posting.EducationCertificate, ExperienceMonthsMin: 12},
	},
	{
		{Credentials: [][]string{{"CTR"}}},
		{Credentials: [][]string{{"CHPS"}}, EducationMin: posting.EducationBachelor},
		{Credentials: [][]string{{"RHIA"}}},
		{EducationMin: posting.EducationAssociate, ExperienceMonthsMin: 36},
	},
}

var skillsPool = []string{"release_of_information", "hipaa", "chart_analysis", "scanning_indexing", "abstracting", "mpi", "drg_validation", "medical_terminology"}
var codeSetsPool = []string{"ICD-10-CM", "ICD-10-PCS", "CPT", "HCPCS"}
var ehrPool = []string{"Epic", "Oracle Health (Cerner)", "MEDITECH", "athenahealth"}

// zipPoints loads n ZIP centroids spread over the country (every k-th).
func zipPoints(t testing.TB, cfgFile string, n int) []geo.Point {
	t.Helper()
	f, err := os.Open(cfgFile)
	if err != nil {
		t.Fatalf("ZIP centroids (run deployments/local/install.sh): %v", err)
	}
	defer f.Close()
	var pts []geo.Point
	sc := bufio.NewScanner(f)
	sc.Scan()
	for sc.Scan() {
		var zip string
		var p geo.Point
		if _, err := fmt.Sscanf(strings.ReplaceAll(sc.Text(), ",", " "), "%s %g %g", &zip, &p.Lat, &p.Lon); err == nil {
			pts = append(pts, p)
		}
	}
	step := max(1, len(pts)/n)
	var out []geo.Point
	for i := 0; i < len(pts) && len(out) < n; i += step {
		out = append(out, pts[i])
	}
	return out
}

func pick[T any](r *rand.Rand, xs []T, k int) []T {
	var out []T
	for _, i := range r.Perm(len(xs))[:min(k, len(xs))] {
		out = append(out, xs[i])
	}
	return out
}

// genPostings makes n postings around the given places.
func genPostings(r *rand.Rand, n int, places []geo.Point, now time.Time) []posting.Posting {
	out := make([]posting.Posting, n)
	for i := range out {
		pt := places[r.IntN(len(places))]
		lat, lon := pt.Lat+r.Float64()*0.2-0.1, pt.Lon+r.Float64()*0.2-0.1
		p := posting.Posting{
			ID: fmt.Sprintf("p%06d", i), Title: "Medical Records Specialist", Employer: fmt.Sprintf("Employer %d", r.IntN(500)),
			Description: "Health information role.", DatePosted: now.AddDate(0, 0, -r.IntN(40)),
			Location:       posting.Location{Lat: &lat, Lon: &lon},
			EmploymentType: []string{"FULL_TIME"},
		}
		p.WorkMode = []string{"onsite", "onsite", "hybrid", "remote"}[r.IntN(4)]
		p.CredentialsRequired = requirementMixes[r.IntN(len(requirementMixes))]
		if r.IntN(3) == 0 {
			p.CredentialsPreferred = pick(r, []string{"RHIA", "CCS", "CPC", "RHIT"}, 1)
		}
		if r.IntN(8) == 0 {
			p.CredentialsOrEligible = []string{"RHIT"}
		}
		p.EducationMin = []posting.Education{posting.EducationHighSchool, posting.EducationHighSchool, posting.EducationCertificate, posting.EducationAssociate}[r.IntN(4)]
		p.ExperienceMonthsMin = []int{0, 0, 6, 12, 24, 36}[r.IntN(6)]
		p.ExperienceInLieuOfEducation = r.IntN(4) == 0
		if r.IntN(3) == 0 {
			p.ExperienceInLieuOfEducation = false
			p.SetRoutes(routeMixes[r.IntN(len(routeMixes))])
		}
		p.Skills, p.CodeSets, p.EHRSystems = pick(r, skillsPool, r.IntN(3)), pick(r, codeSetsPool, r.IntN(3)), pick(r, ehrPool, r.IntN(2))
		if r.IntN(2) == 0 {
			lo := 17 + r.Float64()*20
			p.SalaryHourlyMin, p.SalaryHourlyMax = lo, lo+r.Float64()*8
		}
		out[i] = p
	}
	return out
}

// genSeeker makes a seeker near a place.
func genSeeker(r *rand.Rand, id string, places []geo.Point) profile.Seeker {
	pt := places[r.IntN(len(places))]
	lat, lon := pt.Lat, pt.Lon
	levels := []string{"high_school", "certificate", "associate", "bachelor"}
	sk := profile.Seeker{
		ID: id, Education: []profile.Education{{Level: levels[r.IntN(len(levels))], Status: "completed", Field: "HIM", CAHIIMAccredited: r.IntN(2) == 0}},
		Experience: []profile.Experience{{Area: "coding", Months: r.IntN(60)}},
		Skills:     pick(r, skillsPool, r.IntN(4)), CodeSets: pick(r, codeSetsPool, r.IntN(3)), EHRSystems: pick(r, ehrPool, r.IntN(2)),
		Location: &profile.Location{Lat: &lat, Lon: &lon}, RadiusMiles: []int{10, 25, 50}[r.IntN(3)],
		RemotePref: []string{"any", "onsite", "remote", "hybrid"}[r.IntN(4)], DesiredHourly: 18 + r.Float64()*15,
		OpenToEmployers: r.IntN(2) == 0,
	}
	sk.Normalize()
	return sk
}

var credentialPool = []string{"CCA", "CCS", "RHIT", "RHIA", "CPC", "CIC", "CTR", "CHPS"}

// newTestService opens a matching Service on fresh real servers without
// running its consumers: tests and benchmarks load it directly.
func newTestService(t testing.TB) *Service {
	t.Helper()
	cfg := env.Fresh(t)
	ctx := context.Background()
	p, err := platform.Open(ctx, cfg, Name, platform.Needs{Redis: true, Meili: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	cat, err := pathway.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := shred.Open(ctx, p.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{p: p, index: cfg.IndexPrefix + PostingsIndex, keys: keys, cat: cat, zcta: loadZCTA(p),
		vocab: newVocabulary(), market: newMarketCache(), version: indexVersion{uid: -1}, now: time.Now}
	s.seekers = newSeekerIndex(s.zcta, cat)
	if err := meili.EnsureIndex(ctx, p.Meili, postingsIndex(s.index)); err != nil {
		t.Fatal(err)
	}
	return s
}

// loadPostings indexes postings straight into Meilisearch in batches.
func (s *Service) loadPostings(t testing.TB, ps []posting.Posting) {
	t.Helper()
	ctx := context.Background()
	pk := "id"
	for i := 0; i < len(ps); i += 10000 {
		var docs []map[string]any
		for _, p := range ps[i:min(i+10000, len(ps))] {
			doc, groups, err := indexDoc(p)
			if err != nil {
				t.Fatal(err)
			}
			s.vocab.add(groups, p.CredentialsOrEligible, len(match.Routes(&p)))
			docs = append(docs, doc)
		}
		info, err := s.p.Meili.Index(s.index).AddDocuments(ctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err == nil {
			err = meili.Wait(ctx, s.p.Meili, info)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
