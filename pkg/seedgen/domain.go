package seedgen

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
)

// RequirementMixes are required-credential groups seen in real postings
// (see pkg/posting's labelled set); nil is "no credential required".
var RequirementMixes = [][][]string{
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

// RouteMixes are ways to qualify as real postings list them.
var RouteMixes = [][]posting.Route{
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

// Pools of attribute values.
var (
	Skills         = []string{"release_of_information", "hipaa", "chart_analysis", "scanning_indexing", "abstracting", "mpi", "drg_validation", "medical_terminology"}
	CodeSets       = []string{"ICD-10-CM", "ICD-10-PCS", "CPT", "HCPCS"}
	EHRSystems     = []string{"Epic", "Oracle Health (Cerner)", "MEDITECH", "athenahealth"}
	CredentialPool = []string{"CCA", "CCS", "RHIT", "RHIA", "CPC", "CIC", "CTR", "CHPS"}
)

// Postings makes n postings around the given places, as ingest would have
// normalised them (for loading an index directly): a third with routes, a
// quarter remote. IDs are p000000 on.
func Postings(r *rand.Rand, n int, places []geo.Point, now time.Time) []posting.Posting {
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
		p.CredentialsRequired = RequirementMixes[r.IntN(len(RequirementMixes))]
		if r.IntN(3) == 0 {
			p.CredentialsPreferred = Pick(r, []string{"RHIA", "CCS", "CPC", "RHIT"}, 1)
		}
		if r.IntN(8) == 0 {
			p.CredentialsOrEligible = []string{"RHIT"}
		}
		p.EducationMin = []posting.Education{posting.EducationHighSchool, posting.EducationHighSchool, posting.EducationCertificate, posting.EducationAssociate}[r.IntN(4)]
		p.ExperienceMonthsMin = []int{0, 0, 6, 12, 24, 36}[r.IntN(6)]
		p.ExperienceInLieuOfEducation = r.IntN(4) == 0
		if r.IntN(3) == 0 {
			p.ExperienceInLieuOfEducation = false
			p.SetRoutes(RouteMixes[r.IntN(len(RouteMixes))])
		}
		p.Skills, p.CodeSets, p.EHRSystems = Pick(r, Skills, r.IntN(3)), Pick(r, CodeSets, r.IntN(3)), Pick(r, EHRSystems, r.IntN(2))
		if r.IntN(2) == 0 {
			lo := 17 + r.Float64()*20
			p.SalaryHourlyMin, p.SalaryHourlyMax = lo, lo+r.Float64()*8
		}
		out[i] = p
	}
	return out
}

// Seeker makes a seeker at one of the places (coordinates, no ZIP),
// normalised; Credentials draws what such a seeker holds.
func Seeker(r *rand.Rand, id string, places []geo.Point) profile.Seeker {
	pt := places[r.IntN(len(places))]
	lat, lon := pt.Lat, pt.Lon
	levels := []string{"high_school", "certificate", "associate", "bachelor"}
	sk := profile.Seeker{
		ID: id, Education: []profile.Education{{Level: levels[r.IntN(len(levels))], Status: "completed", Field: "HIM", CAHIIMAccredited: r.IntN(2) == 0}},
		Experience: []profile.Experience{{Area: "coding", Months: r.IntN(60)}},
		Skills:     Pick(r, Skills, r.IntN(4)), CodeSets: Pick(r, CodeSets, r.IntN(3)), EHRSystems: Pick(r, EHRSystems, r.IntN(2)),
		Location: &profile.Location{Lat: &lat, Lon: &lon}, RadiusMiles: []int{10, 25, 50}[r.IntN(3)],
		RemotePref: []string{"any", "onsite", "remote", "hybrid"}[r.IntN(4)], DesiredHourly: 18 + r.Float64()*15,
		OpenToEmployers: r.IntN(2) == 0,
	}
	sk.Normalize()
	return sk
}

// Credentials returns up to two credential codes a generated seeker holds.
func Credentials(r *rand.Rand) []string { return Pick(r, CredentialPool, r.IntN(3)) }
