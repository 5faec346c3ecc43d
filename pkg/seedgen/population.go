package seedgen

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/clerkpath/clerkpath/pkg/profile"
)

// Template is a posting's title and the description text that carries its
// requirements, as employers write them.
type Template struct{ Title, Description string }

// Templates cover the requirement mixes of RequirementMixes and the
// alternative routes of RouteMixes in the words of docs/extraction.md's
// examples: no credential, one, either of two, two groups, "or eligible",
// "will also consider", experience in lieu of a degree, and the federal
// three-route list.
var Templates = []Template{
	{"Medical Records Clerk", "High school diploma or GED required. Scanning and indexing, chart assembly, release of information under HIPAA."},
	{"Release of Information Specialist", "Process requests for records under HIPAA and 42 CFR Part 2. RHIT preferred, not required. One year of health records experience."},
	{"Health Information Technician", "RHIT required, or RHIT-eligible graduates of a CAHIIM-accredited program. Chart analysis, deficiency tracking, MPI clean-up. Epic experience a plus."},
	{"Inpatient Coder II", "RHIT and (CCS or CIC) required. Two years of inpatient coding with ICD-10-CM and ICD-10-PCS; DRG validation; 3M encoder."},
	{"Outpatient Coder", "CPC, COC or CCS required (CPC-A considered). ICD-10-CM, CPT and HCPCS. athenahealth a plus."},
	{"Coding Associate", "Certified Coding Associate (CCA) or CPC-A required. Medical terminology and ICD-10-CM. Must obtain CCS within 12 months of hire."},
	{"Cancer Registrar", "CTR required. Abstracting cancer cases for the state registry; two years of registry experience."},
	{"HIM Data Analyst", "Bachelor's degree required. CHDA or RHIA preferred. SQL, data quality and reporting from Epic Clarity."},
	{"Privacy Analyst", "CHPS preferred. Associate degree and two years of privacy or security experience; HIPAA investigations."},
	{"HIM Coding Specialist", "RHIT required; will also consider CCS with two years of inpatient coding experience. ICD-10-CM and ICD-10-PCS."},
	{"Medical Records Technician (GS-0675-07)", "To qualify you must meet one of the following: (a) an associate degree; (b) one year of specialized experience in medical records; or (c) one of the following certifications: RHIT, RHIA, CCA, CCS, CPC, COC or CIC."},
	{"Coding Quality Auditor", "RHIT and CCS or CIC required, or RHIA with a bachelor's degree. Three years of coding audit experience."},
	{"Entry-Level Medical Coder", "CPC or CPC-A with six months of coding experience, or CCA. A certificate in medical coding with one year of experience is also acceptable."},
	{"Health Information Clerk", "High school diploma required; two years of medical office experience may substitute for the certificate. Scanning, indexing and MPI."},
	{"Registry Coordinator", "CTR required, or CHPS with a bachelor's degree, or RHIA. Associate degree with three years of registry experience considered."},
	{"Clinical Documentation Specialist", "RHIA or RHIT required; CDIP preferred. Three years of inpatient coding or documentation review."},
}

// RemoteShare is the share of generated postings that are fully remote.
const RemoteShare = 0.15

// Record is one posting as an employer submits it to POST
// /v1/postings:bulk (the ingest JSON format).
type Record map[string]any

// Records makes n postings for organisation org as ingest records: a
// template's title and requirement text, a place drawn by weight (its ZIP
// code), a RemoteShare of remote work, a date in the 28 days before
// now and, for most, an hourly pay range. Identifiers are prefix-000000 on.
func Records(r *rand.Rand, n int, s *Sampler, now time.Time, prefix string) []Record {
	out := make([]Record, n)
	for i := range out {
		t := Templates[r.IntN(len(Templates))]
		pl := s.Draw(r)
		employer := fmt.Sprintf("%s Health %d", []string{"Lakeside", "Valley", "Mercy", "County", "University", "Summit"}[r.IntN(6)], r.IntN(400))
		rec := Record{
			"identifier": fmt.Sprintf("%s-%06d", prefix, i), "title": t.Title, "description": describe(r, t, employer),
			"employer":    employer,
			"date_posted": now.AddDate(0, 0, -r.IntN(28)).Format("2006-01-02"), // ingest calls older than 30 days stale
			"postal_code": pl.ZIP,
		}
		if r.Float64() < RemoteShare {
			rec["work_mode"] = "remote"
			rec["description"] = "Fully remote. " + rec["description"].(string)
		}
		if r.IntN(4) != 0 {
			lo := 17 + r.IntN(18)
			rec["salary_min"], rec["salary_max"], rec["salary_unit"] = lo, lo+2+r.IntN(10), "HOUR"
		}
		out[i] = rec
	}
	return out
}

// describe writes a posting's description as an employer would: the
// template's requirement text inside sentences of the employer's own about
// the team, the work, the hours and the benefits. Two employers rarely
// word a posting alike, and ingest groups postings whose text is nearly
// the same as one job posted twice (SimHash within
// posting.NearDuplicateDistance): with the template's text alone, every
// posting of a template fell into one duplicate cluster, and the index
// showed one posting per template. The added sentences name no credential,
// education, experience, skill or system, so what is extracted is the
// template's.
func describe(r *rand.Rand, t Template, employer string) string {
	duties := Pick(r, aboutTheWork, 2)
	return fmt.Sprintf("%s is growing its %s team. %s %s %s %s %s", employer, teams[r.IntN(len(teams))], t.Description,
		duties[0], duties[1], hours[r.IntN(len(hours))], benefits[r.IntN(len(benefits))])
}

// Sentences that employers add around the requirements (describe).
var (
	teams        = []string{"health information", "medical records", "revenue integrity", "patient access", "records management", "hospital operations", "clinic support", "regional services"}
	aboutTheWork = []string{
		"You will work closely with nursing units and physician offices.",
		"Our department supports two hospitals and a network of neighborhood clinics.",
		"Expect a steady daily volume with clear standards and a supportive lead.",
		"You will answer questions from patients and providers by phone and secure message.",
		"The department moved to a new document system last spring.",
		"We review productivity and quality together every month.",
		"Cross-training across the department is encouraged.",
		"Our teams are small, friendly and close to the clinical staff.",
		"New hires shadow a mentor for their first weeks.",
		"We serve a growing rural community and its regional medical center.",
		"You will be part of a team that values accuracy and kindness.",
		"Our offices are next to the main campus, with easy transit access.",
	}
	hours = []string{
		"Day shift, Monday to Friday.",
		"Four ten-hour shifts a week.",
		"Evening shift with a shift differential.",
		"Every third weekend on a rotation.",
		"Flexible start times between seven and nine.",
		"Early shift starting at six in the morning.",
	}
	benefits = []string{
		"Medical, dental and vision coverage from the first day.",
		"Generous paid time off and paid holidays.",
		"A retirement plan with an employer match.",
		"Free parking and an on-site cafeteria.",
		"A wellness program and an employee assistance program.",
		"Tuition assistance and a clear path to promotion.",
	}
)

// Stage is a point on the medical-records career pathway.
type Stage struct {
	Name        string
	Education   []profile.Education
	Experience  []profile.Experience
	Credentials []string
	Target      string
}

// Stages are the pathway from a first job to a specialist, each drawn
// equally often by Population.
var Stages = []Stage{
	{Name: "entry", Education: []profile.Education{{Level: "high_school", Status: "completed"}}, Target: "CCA"},
	{Name: "in-training", Education: []profile.Education{{Level: "high_school", Status: "completed"}, {Level: "certificate", Field: "Medical Coding", Status: "in_progress"}},
		Experience: []profile.Experience{{Area: "records", Months: 8}}, Target: "CPC"},
	{Name: "new-coder", Education: []profile.Education{{Level: "certificate", Field: "Medical Coding", Status: "completed"}},
		Experience: []profile.Experience{{Area: "coding", Months: 6}}, Credentials: []string{"CPC"}, Target: "CCS"},
	{Name: "rhit-eligible", Education: []profile.Education{{Level: "associate", Field: "Health Information Technology", CAHIIMAccredited: true, Status: "final_term"}},
		Experience: []profile.Experience{{Area: "records", Months: 12}}, Target: "RHIT"},
	{Name: "technician", Education: []profile.Education{{Level: "associate", Field: "Health Information Technology", CAHIIMAccredited: true, Status: "completed"}},
		Experience: []profile.Experience{{Area: "records", Months: 30}, {Area: "release_of_information", Months: 12}}, Credentials: []string{"RHIT"}, Target: "CCS"},
	{Name: "senior-coder", Education: []profile.Education{{Level: "associate", Field: "Health Information Technology", CAHIIMAccredited: true, Status: "completed"}},
		Experience: []profile.Experience{{Area: "coding", Months: 54}}, Credentials: []string{"RHIT", "CCS"}, Target: "RHIA"},
	{Name: "administrator", Education: []profile.Education{{Level: "bachelor", Field: "Health Information Management", CAHIIMAccredited: true, Status: "completed"}},
		Experience: []profile.Experience{{Area: "data_analysis", Months: 36}, {Area: "records", Months: 24}}, Credentials: []string{"RHIA"}, Target: "CHDA"},
	{Name: "specialist", Education: []profile.Education{{Level: "bachelor", Field: "Health Information Management", Status: "completed"}},
		Experience: []profile.Experience{{Area: "privacy_security", Months: 48}}, Credentials: []string{"RHIA", "CHPS"}},
	{Name: "career-changer", Education: []profile.Education{{Level: "bachelor", Field: "Business", Status: "completed"}},
		Experience: []profile.Experience{{Area: "billing", Months: 24}}, Target: "RHIT"},
}

// Member is one generated seeker: the profile and the credentials to record.
type Member struct {
	Stage       string
	Seeker      profile.Seeker
	Credentials []profile.CredentialRecord
}

// Population makes seeker i of a seeded population: a stage drawn evenly,
// a place drawn by weight (its ZIP code), a commute radius, a remote
// preference (a quarter each), skills and systems, and the stage's
// credentials earned one to six years before now.
func Population(r *rand.Rand, id string, s *Sampler, now time.Time) Member {
	st := Stages[r.IntN(len(Stages))]
	pl := s.Draw(r)
	sk := profile.Seeker{
		ID: id, Education: append([]profile.Education(nil), st.Education...), Experience: append([]profile.Experience(nil), st.Experience...),
		Skills: Pick(r, Skills, r.IntN(4)), CodeSets: Pick(r, CodeSets, r.IntN(3)), EHRSystems: Pick(r, EHRSystems, r.IntN(2)),
		Location: &profile.Location{PostalCode: pl.ZIP}, RadiusMiles: []int{10, 25, 50}[r.IntN(3)],
		RemotePref: profile.RemotePrefs[r.IntN(len(profile.RemotePrefs))], DesiredHourly: float64(18 + r.IntN(15)),
		Target: st.Target, OpenToEmployers: r.IntN(2) == 0,
	}
	m := Member{Stage: st.Name, Seeker: sk}
	for _, c := range st.Credentials {
		m.Credentials = append(m.Credentials, profile.CredentialRecord{Code: c, EarnedOn: now.AddDate(-1-r.IntN(5), -r.IntN(12), 0).Format("2006-01-02")})
	}
	return m
}
