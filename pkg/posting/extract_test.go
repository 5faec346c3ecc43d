package posting

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestExtractCredentialStrength(t *testing.T) {
	type want struct {
		required   [][]string
		preferred  []string
		orEligible []string
	}
	cases := []struct {
		name, text string
		want       want
	}{
		{"bare code defaults to required", "RHIT", want{required: [][]string{{"RHIT"}}}},
		{"or makes one group", "RHIT or RHIA required.", want{required: [][]string{{"RHIA", "RHIT"}}}},
		{"slash makes one group", "RHIT/RHIA required", want{required: [][]string{{"RHIA", "RHIT"}}}},
		{"and makes two groups", "Required RHIT and (CCS or CIC).", want{required: [][]string{{"CCS", "CIC"}, {"RHIT"}}}},
		{"with joins like and", "RHIA or RHIT with CCS required", want{required: [][]string{{"CCS"}, {"RHIA", "RHIT"}}}},
		{"comma list takes the following or", "CPC, COC, or CCS certification required.", want{required: [][]string{{"CCS", "COC", "CPC"}}}},
		{"comma list takes the following and", "RHIT, CCS and CPC required", want{required: [][]string{{"CCS"}, {"CPC"}, {"RHIT"}}}},
		{"bare comma list is alternatives", "Certification: CCS, CPC, CIC", want{required: [][]string{{"CCS", "CIC", "CPC"}}}},
		{"preferred", "CPB or CPC certification preferred.", want{preferred: []string{"CPB", "CPC"}}},
		{"a plus", "CEHRS certification a plus", want{preferred: []string{"CEHRS"}}},
		{"nice to have", "CRC nice to have.", want{preferred: []string{"CRC"}}},
		{"preferred but not required", "RHIT preferred, but not required", want{preferred: []string{"RHIT"}}},
		{"preferred, not required, as a prefix", "Preferred, not required: CCS.", want{preferred: []string{"CCS"}}},
		{"required then preferred in one sentence", "RHIA or RHIT required, CHDA preferred; 3 years.", want{required: [][]string{{"RHIA", "RHIT"}}, preferred: []string{"CHDA"}}},
		{"leading and trailing cues split the groups", "Must have RHIT and CCS preferred.", want{required: [][]string{{"RHIT"}}, preferred: []string{"CCS"}}},
		{"or eligible hyphenated", "RHIT or RHIT-eligible", want{orEligible: []string{"RHIT"}}},
		{"or eligible bare", "RHIA or RHIT or eligible.", want{orEligible: []string{"RHIA", "RHIT"}}},
		{"obtain within months of hire", "Must obtain CCS within 12 months of hire.", want{orEligible: []string{"CCS"}}},
		{"required within months of start", "CCS or CIC required within 9 months of start.", want{orEligible: []string{"CCS", "CIC"}}},
		{"required within a year of hire", "CCDS or CDIP required within one year of hire", want{orEligible: []string{"CCDS", "CDIP"}}},
		{"at time of hire is required", "CPC or CCS required at time of hire.", want{required: [][]string{{"CCS", "CPC"}}}},
		{"ability to obtain applies to the last group", "You'll need an active CPC or CCS, and the CPMA (or the ability to obtain it within six months).", want{required: [][]string{{"CCS", "CPC"}}, orEligible: []string{"CPMA"}}},
		{"eligibility sentence joins the group before", "RHIA, RHIT or CCS. New graduates who are RHIT eligible will be considered.", want{orEligible: []string{"CCS", "RHIA", "RHIT"}}},
		{"progress toward preferred", "RHIA or progress toward the RHIA preferred.", want{preferred: []string{"RHIA"}}},
		{"no certification required", "No certification required; we will train.", want{}},
		{"negated code", "The CCS is not required, but the CCS-P is preferred.", want{preferred: []string{"CCS-P"}}},
		{"not required but desirable", "RHIT certification is not required but is highly desirable.", want{preferred: []string{"RHIT"}}},
		{"not required but nothing else", "RHIT is not required, but we train.", want{}},
		{"preferred and not required together", "RHIT preferred and not required", want{preferred: []string{"RHIT"}}},
		{"not eligible", "Apprentice coders (CPC-A) are not eligible for this position.", want{}},
		{"benefit", "We pay for your RHIT or CPC exam after a year.", want{}},
		{"alternative joins the previous group", "CPC, COC, or CCS certification required. CPC-A will be considered.", want{required: [][]string{{"CCS", "COC", "CPC", "CPC-A"}}}},
		{"alternative with its own experience is a route of its own", "CPC, COC, or CCS certification required. CPC-A will be considered with one year of coding.", want{}},
		{"in lieu of", "Active CCS required. Candidates holding the CIC in lieu of the CCS will be considered.", want{required: [][]string{{"CCS", "CIC"}}}},
		{"parenthesis holds its own clause", "Active CRC certification (CPC or CCS with HCC experience will also be considered)", want{required: [][]string{{"CCS", "CPC", "CRC"}}}},
		{"employer's staff do not count", "Our team of 30 includes RHIT and CCS coders.", want{}},
		{"employer's staff with a cue count", "We require an RHIT.", want{required: [][]string{{"RHIT"}}}},
		{"full name and code are one mention", "Certified Tumor Registrar (CTR) credential required", want{required: [][]string{{"CTR"}}}},
		{"full names", "Registered Health Information Administrator required. Certified in Healthcare Privacy and Security preferred.", want{required: [][]string{{"RHIA"}}, preferred: []string{"CHPS"}}},
		{"long full name with a spaced dash", "Certified Coding Specialist - Physician-based (CCS-P) or Certified Professional Coder (CPC) required", want{required: [][]string{{"CCS-P", "CPC"}}}},
		{"implied group dropped", "RHIT required. RHIT or RHIA required.", want{required: [][]string{{"RHIT"}}}},
		{"strictly required is not also preferred", "RHIT required; RHIT preferred", want{required: [][]string{{"RHIT"}}}},
		{"sections set the default", "Requirements:\n- CCS\n- 3 years\nPreferred Qualifications:\n- RHIT or RHIA\nBenefits:\n- We reimburse CPC dues", want{required: [][]string{{"CCS"}}, preferred: []string{"RHIA", "RHIT"}}},
		{"heading without colon", "MINIMUM QUALIFICATIONS\nRegistered Health Information Technician certification.\nDESIRABLE QUALIFICATIONS\nCertified Coding Associate (CCA)", want{required: [][]string{{"RHIT"}}, preferred: []string{"CCA"}}},
		{"table cells are clauses", "Certification | CPC required; CEMC preferred", want{required: [][]string{{"CPC"}}, preferred: []string{"CEMC"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Extract("", c.text)
			if !reflect.DeepEqual(got.CredentialsRequired, orEmptyGroups(c.want.required)) ||
				!reflect.DeepEqual(got.CredentialsPreferred, orEmpty(c.want.preferred)) ||
				!reflect.DeepEqual(got.CredentialsOrEligible, orEmpty(c.want.orEligible)) {
				t.Errorf("Extract(%q)\n got required %v preferred %v or-eligible %v\nwant required %v preferred %v or-eligible %v",
					c.text, got.CredentialsRequired, got.CredentialsPreferred, got.CredentialsOrEligible,
					c.want.required, c.want.preferred, c.want.orEligible)
			}
		})
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orEmptyGroups(g [][]string) [][]string {
	if g == nil {
		return [][]string{}
	}
	return g
}

func TestExtractMatchesWholeCodesInTheirCase(t *testing.T) {
	cases := []struct {
		text string
		want []string // required singletons, in order
	}{
		{"CCS-P required", []string{"CCS-P"}}, // not CCS as well
		{"CPC-A required", []string{"CPC-A"}}, // not CPC as well
		{"CPC® required", []string{"CPC"}},    // trademark sign is not a letter
		{"CPC-H required", []string{"COC"}},   // the old name of COC
		{"rhit required", nil},                // codes match in upper case only
		{"RHITS required", nil},               // not inside a longer word
		{"ARHIT required", nil},               // nor at the end of one
		{"Certified Professional Coder required", []string{"CPC"}},
		{"certified professional coder required", []string{"CPC"}}, // names match in any case
		{"CCS–P required", []string{"CCS-P"}},                      // en dash folded
	}
	for _, c := range cases {
		got := Extract("", c.text).CredentialsRequired
		var flat []string
		for _, g := range got {
			flat = append(flat, g...)
		}
		if !slices.Equal(flat, c.want) {
			t.Errorf("Extract(%q) required %v, want %v", c.text, got, c.want)
		}
	}
}

func TestExtractFacts(t *testing.T) {
	text := `Code inpatient records using ICD-10-CM/PCS and CPT in Epic with the 3M 360 Encompass encoder
and Optum EncoderPro. Experience with Cerner, MEDITECH Expanse, athenaOne, eClinicalWorks, NextGen or
Allscripts helps. Duties: release of information under HIPAA and 42 CFR Part 2, chart analysis,
scanning and indexing, abstracting, master patient index clean-up, DRG validation; medical terminology.
An epic journey awaits (not the EHR).`
	got := Extract("Remote Coder", text)
	check := func(name string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("code sets", got.CodeSets, []string{"CPT", "ICD-10-CM", "ICD-10-PCS"})
	check("EHRs", got.EHRSystems, []string{"Epic", "MEDITECH", "NextGen", "Oracle Health (Cerner)", "Veradigm (Allscripts)", "athenahealth", "eClinicalWorks"})
	check("encoders", got.Encoders, []string{"3M", "Optum"})
	for _, s := range []string{"release_of_information", "hipaa", "42_cfr_part_2", "chart_analysis", "scanning_indexing", "abstracting", "mpi", "drg_validation", "medical_terminology"} {
		if !slices.Contains(got.Skills, s) {
			t.Errorf("skills %v lack %s", got.Skills, s)
		}
	}
	if got.WorkMode != "remote" {
		t.Errorf("work mode %q, want remote from the title", got.WorkMode)
	}
}

func TestExtractEducationAndExperience(t *testing.T) {
	cases := []struct {
		text     string
		edu      Education
		months   int
		inLieu   bool
		describe string
	}{
		{"High school diploma or GED required; associate degree preferred.", EducationHighSchool, 0, false, "lowest alternative, preferred ignored"},
		{"Associate degree in HIT required, bachelor's preferred. Three (3) years of coding experience.", EducationAssociate, 36, false, "two (2) years"},
		{"Bachelor's degree or equivalent experience. 2+ years of experience in HIM.", EducationNone, 24, true, "in lieu: the experience alone is a route"},
		{"Completion of a medical coding certificate program. 6 months of experience.", EducationCertificate, 6, false, "certificate"},
		{"1-2 years of coding experience required, 4 years preferred.", EducationNone, 12, false, "a range takes its low end"},
		{"2 years of medical billing experience, pediatric experience strongly preferred.", EducationNone, 24, false, "preference in the next part"},
		{"Minimum of 1 year of coding experience preferred.", EducationNone, 0, false, "preferred experience"},
		{"Must obtain CCS within 12 months of hire.", EducationNone, 0, false, "a deadline is not experience"},
		{"Five years of professional fee coding experience, including two years of auditing.", EducationNone, 60, false, "the headline figure"},
		{"Experience: one year. Another clause with 3 years of coding experience.", EducationNone, 36, false, "the most across clauses"},
		{"Associate degree in HIT, or two years of HIM experience in lieu of a degree.", EducationNone, 0, true, "in lieu of a degree: two routes"},
		{"Our team has 20 years of coding experience.", EducationNone, 0, false, "about the employer"},
	}
	for _, c := range cases {
		got := Extract("", c.text)
		if got.EducationMin != c.edu || got.ExperienceMonthsMin != c.months || got.ExperienceInLieuOfEducation != c.inLieu {
			t.Errorf("%s: Extract(%q) = education %q, %d months, in lieu %v; want %q, %d, %v",
				c.describe, c.text, got.EducationMin, got.ExperienceMonthsMin, got.ExperienceInLieuOfEducation, c.edu, c.months, c.inLieu)
		}
	}
}

func TestExtractRole(t *testing.T) {
	cases := map[string][2]string{
		"Coder III - Inpatient (HIM)":               {"coder", "29-2072.00"},
		"Medical Records Clerk":                     {"medical_records_clerk", "29-2072.00"},
		"Cancer Registrar":                          {"cancer_registrar", "29-9021.00"},
		"Cancer Registry Abstractor":                {"cancer_registrar", "29-9021.00"},
		"Patient Registrar - Emergency Department":  {"patient_access", ""},
		"Director of Health Information Management": {"him_manager", "11-9111.00"},
		"HIM Data Analyst":                          {"him_analyst", "29-9021.00"},
		"Health Information Technician I":           {"health_information_technician", "29-2072.00"},
		"Release of Information Specialist":         {"release_of_information_specialist", "29-2072.00"},
		"DRG Validation Auditor - Remote":           {"coding_auditor", "29-2072.00"},
		"Barista":                                   {"", ""},
	}
	for title, want := range cases {
		got := Extract(title, "")
		if got.Role != want[0] || got.SOCCode != want[1] {
			t.Errorf("Extract(%q) role %q soc %q, want %q %q", title, got.Role, got.SOCCode, want[0], want[1])
		}
	}
}

func TestExtractWorkMode(t *testing.T) {
	cases := map[[2]string]string{
		{"Inpatient Coder - Remote", ""}:                            "remote",
		{"Coder", "This is a fully remote position."}:               "remote",
		{"Coder", "Hybrid schedule after training; on-site first."}: "hybrid",
		{"Coder", "Work on-site at our clinic."}:                    "onsite",
		{"Coder", "Remote coding experience is a plus."}:            "", // "remote" alone is not a work mode in text
	}
	for in, want := range cases {
		if got := Extract(in[0], in[1]).WorkMode; got != want {
			t.Errorf("Extract(%q, %q) work mode %q, want %q", in[0], in[1], got, want)
		}
	}
}

func TestExtractListsAreNeverNull(t *testing.T) {
	b, err := json.Marshal(Extract("", ""))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m {
		if v == nil {
			t.Errorf("%s is null in %s", k, b)
		}
	}
}

func TestDictionary(t *testing.T) {
	x, err := NewExtractor()
	if err != nil {
		t.Fatal(err)
	}
	codes := x.Credentials()
	// The credentials of the domain facts (shared/domain/him-pathway.md).
	for _, c := range []string{"RHIT", "RHIA", "CCA", "CCS", "CCS-P", "CHPS", "CHDA", "CDIP", "CPHI", "CPC", "CPC-A", "COC", "CIC", "CRC", "CPB", "CEHRS", "CBCS", "CTR", "CCDS"} {
		if !slices.Contains(codes, c) {
			t.Errorf("dictionary lacks %s", c)
		}
	}
	// No term may name two different credentials: extraction could not
	// tell which one the posting meant.
	for i, ts := range x.text.targets {
		var creds []string
		for _, tg := range ts {
			if tg.kind == kindCredential {
				creds = append(creds, tg.id)
			}
		}
		if len(creds) > 1 {
			t.Errorf("pattern %d names %v", i, creds)
		}
	}
	// The labels may only use codes the dictionary knows.
	for _, lp := range loadLabelled(t) {
		var all []string
		for _, g := range lp.Expect.Required {
			all = append(all, g...)
		}
		all = append(append(all, lp.Expect.Preferred...), lp.Expect.OrEligible...)
		for _, c := range all {
			if !slices.Contains(codes, c) {
				t.Errorf("%s: label %s is not a dictionary code", lp.name, c)
			}
		}
	}
}

func TestCompileRejectsBadDictionaries(t *testing.T) {
	good := func() *dictionary {
		d := &dictionary{}
		d.Credentials = append(d.Credentials, struct {
			Code     string   `yaml:"code"`
			Issuer   string   `yaml:"issuer"`
			Names    []string `yaml:"names"`
			Aliases  []string `yaml:"aliases"`
			Families []string `yaml:"families"`
		}{Code: "RHIT"})
		return d
	}
	if _, err := compile(good()); err != nil {
		t.Fatalf("minimal dictionary: %v", err)
	}
	bad := map[string]func(d *dictionary){
		"lower-case code": func(d *dictionary) { d.Credentials[0].Code = "rhit" },
		"duplicate code":  func(d *dictionary) { d.Credentials = append(d.Credentials, d.Credentials[0]) },
		"unknown level": func(d *dictionary) {
			d.Education = append(d.Education, struct {
				Level string   `yaml:"level"`
				Terms []string `yaml:"terms"`
			}{Level: "phd", Terms: []string{"doctorate"}})
		},
		"unknown cue kind": func(d *dictionary) {
			d.Cues = append(d.Cues, struct {
				Kind      string   `yaml:"kind"`
				Dir       string   `yaml:"dir"`
				Immediate bool     `yaml:"immediate"`
				Terms     []string `yaml:"terms"`
			}{Kind: "maybe", Dir: "any", Terms: []string{"maybe"}})
		},
		"empty term": func(d *dictionary) { d.Credentials[0].Names = []string{" "} },
	}
	for name, mutate := range bad {
		d := good()
		mutate(d)
		if _, err := compile(d); err == nil {
			t.Errorf("%s: compiled", name)
		}
	}
}

// TestExtractConcurrently runs one Extractor from many goroutines; with
// -race it checks that the pooled scratch buffers are never shared.
func TestExtractConcurrently(t *testing.T) {
	set := loadLabelled(t)
	x := DefaultExtractor()
	want := make([]Requirements, len(set))
	texts := make([]string, len(set))
	for i, lp := range set {
		var raw Raw
		if err := json.Unmarshal(lp.Posting, &raw); err != nil {
			t.Fatal(err)
		}
		texts[i] = PlainText(raw.Description)
		want[i] = x.Extract("", texts[i])
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for i := range set {
				if got := x.Extract("", texts[i]); !reflect.DeepEqual(got.CredentialsRequired, want[i].CredentialsRequired) {
					errs <- fmt.Errorf("%s: %v, want %v", set[i].name, got.CredentialsRequired, want[i].CredentialsRequired)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestExtractRoutes checks the general rules that read a posting's ways to
// qualify; each case is a phrasing, not a posting.
func TestExtractRoutes(t *testing.T) {
	r := func(groups [][]string, edu Education, months int) Route {
		if groups == nil {
			groups = [][]string{}
		}
		return Route{Credentials: groups, EducationMin: edu, ExperienceMonthsMin: months}
	}
	coding := []string{"CCA", "CCS", "CCS-P", "CEMC", "CIC", "COC", "CPC", "CRC"}
	cases := []struct {
		name, text string
		want       []Route
	}{
		{"one route", "RHIT required. 2 years of coding experience.", []Route{r([][]string{{"RHIT"}}, "", 24)}},
		{"credential or experience in lieu", "CCS or CPC; or 3 years of coding experience in lieu of certification.",
			[]Route{r(nil, "", 36), r([][]string{{"CCS", "CPC"}}, "", 0)}},
		{"an or between kinds", "Associate degree in HIT or two years of coding experience required.",
			[]Route{r(nil, "", 24), r(nil, EducationAssociate, 0)}},
		{"an or between credentials stays a group", "RHIT or RHIA and 2 years of coding experience.",
			[]Route{r([][]string{{"RHIA", "RHIT"}}, "", 24)}},
		{"an or before a comma is no split", "High school diploma or equivalent, 1 year of experience.",
			[]Route{r(nil, EducationHighSchool, 12)}},
		{"opener list, one route per line", "Meet one of the following:\n- Associate degree in HIM\n- RHIT\n- 2 years of ROI experience\n\nHIPAA knowledge required.",
			[]Route{r(nil, "", 24), r(nil, EducationAssociate, 0), r([][]string{{"RHIT"}}, "", 0)}},
		{"opener list of credentials is one group", "Must hold one of the following:\n- CPC\n- CCS\n- CIC",
			[]Route{r([][]string{{"CCS", "CIC", "CPC"}}, "", 0)}},
		{"inline lettered alternatives", "Applicants must meet one of the following: (a) RHIT; (b) an associate degree plus 6 months of coding experience; (c) 18 months of coding experience.",
			[]Route{r(nil, "", 18), r(nil, EducationAssociate, 6), r([][]string{{"RHIT"}}, "", 0)}},
		{"either (a) or (b)", "You need either (a) an associate degree and RHIT, or (b) a high school diploma and four years of records experience.",
			[]Route{r(nil, EducationHighSchool, 48), r([][]string{{"RHIT"}}, EducationAssociate, 0)}},
		{"federal OR lines with a requirement for all", "Experience: one year of specialized experience.\nOR\nEducation: an associate degree.\nOR\nA combination of the two.\n\nYou must also hold an RHIT or CCS.",
			[]Route{r([][]string{{"CCS", "RHIT"}}, "", 12), r([][]string{{"CCS", "RHIT"}}, EducationAssociate, 0)}},
		{"capital OR", "RN with 3 years of clinical experience, OR RHIA with 3 years of coding experience.",
			[]Route{r([][]string{{"RHIA", "RN"}}, "", 36)}},
		{"experience substituted for certification", "CCS or CPC required. Three years of coding experience may be substituted for certification.",
			[]Route{r(nil, "", 36), r([][]string{{"CCS", "CPC"}}, "", 0)}},
		{"a list with one alternative read requires nothing", "Must have one of the following:\n- A medical office diploma\n- CMAA\n- Time at a front desk\n\nBilingual preferred.",
			[]Route{r(nil, "", 0)}},
		{"a degree substituting for experience", "Two years of experience in medical records.\nSubstitution: An associate degree may substitute for the required experience.",
			[]Route{r(nil, "", 24), r(nil, EducationAssociate, 0)}},
		{"holders who may apply", "RHIT or CCS required. CPC-A holders who completed a coding certificate program may apply.",
			[]Route{r([][]string{{"CCS", "RHIT"}}, "", 0), r([][]string{{"CPC-A"}}, EducationCertificate, 0)}},
		{"what applicants with a credential need", "Credentials: CPC (or CCS-P). Apprentice (CPC-A) applicants need at least 1 year of coding experience.",
			[]Route{r([][]string{{"CCS-P", "CPC"}}, "", 0), r([][]string{{"CPC-A"}}, "", 12)}},
		{"federal grade ladder", "GS-5: One year of experience at GS-4, OR a bachelor's degree.\nGS-6: One year of specialized experience at GS-5 and an RHIT.",
			[]Route{r(nil, "", 12), r(nil, EducationBachelor, 0)}},
		{"a family without issuer before its list", "RN, or a coding certification (CPC, CCS), plus one year of abstraction experience.",
			[]Route{r([][]string{{"CCS", "CPC", "RN"}}, "", 12)}},
		{"a requirement of all candidates is in every route", "RHIA or RHIT with CCS; or CCS with a bachelor's degree. Five years of inpatient coding is required of all candidates.",
			[]Route{r([][]string{{"CCS"}}, EducationBachelor, 60), r([][]string{{"CCS"}, {"RHIA", "RHIT"}}, "", 60)}},
		{"experience in lieu of a degree, in its own clause", "Bachelor's in HIM required; in lieu of a degree, 4 years of HIM experience will be accepted.",
			[]Route{r(nil, "", 48), r(nil, EducationBachelor, 0)}},
		{"tier labels with words after the number", "Tier 1 Coder (trainee): CCA or CPC-A.\nTier 2 Coder: CPC and 2 years of coding experience.\n\nTier 1 coders move to tier 2 after passing the CPC.",
			[]Route{r([][]string{{"CCA", "CPC-A"}}, "", 0)}},
		{"experience in lieu of the credential", "Must be a CPC, COC or CIC. In lieu of the credential, applicants may show 4 years of hospital coding experience.",
			[]Route{r(nil, "", 48), r([][]string{{"CIC", "COC", "CPC"}}, "", 0)}},
		{"a name sharing words, restated in codes", "Registered Health Information Administrator or Technician (RHIA/RHIT) required.",
			[]Route{r([][]string{{"RHIA", "RHIT"}}, "", 0)}},
		{"two durations joined by or", "Required: 2 years of inpatient coding, or 1 year with an RHIT.",
			[]Route{r(nil, "", 24), r([][]string{{"RHIT"}}, "", 12)}},
		{"experience that can replace a degree, said first", "Two years of coding experience can replace the associate degree requirement.\n\nAssociate degree in HIT; CPC or CCS required.",
			[]Route{r([][]string{{"CCS", "CPC"}}, "", 24), r([][]string{{"CCS", "CPC"}}, EducationAssociate, 0)}},
		{"an alternative with its own degree", "Master's degree in HIM with RHIA; a bachelor's degree with RHIA and 7 years of HIM leadership experience will be considered.",
			[]Route{r([][]string{{"RHIA"}}, EducationBachelor, 84), r([][]string{{"RHIA"}}, EducationMaster, 0)}},
		{"years of work", "c) 3 yrs of HIM work in a hospital", []Route{r(nil, "", 36)}},
		{"an opener ending its sentence", "Applicants must satisfy one of the options below.\nOption A: Associate degree and RHIT.\nOption B: Five years of HIM experience.\n\nHIPAA knowledge required.",
			[]Route{r(nil, "", 60), r([][]string{{"RHIT"}}, EducationAssociate, 0)}},
		{"markers without an opening parenthesis", "High school diploma. Plus any one: 1) coding certificate, 2) CPC/CCA, 3) 1 yr coding.",
			[]Route{r(nil, EducationHighSchool, 12), r(nil, EducationCertificate, 0), r([][]string{{"CCA", "CPC"}}, EducationHighSchool, 0)}},
		{"years in a place", "Essential: RHIT. Two years in a hospital HIM department.", []Route{r([][]string{{"RHIT"}}, "", 24)}},
		{"durations of two kinds of candidate", "Certified coders (CPC, CCS) with one year of coding, or uncertified coders with three years of coding.",
			[]Route{r(nil, "", 36), r([][]string{{"CCS", "CPC"}}, "", 12)}},
		{"tracks are two ways in", "Records track: high school diploma and 1 year of records experience.\nCoding track: CCA or CPC.",
			[]Route{r(nil, EducationHighSchool, 12), r([][]string{{"CCA", "CPC"}}, "", 0)}},
		{"will hire beside a preference", "CPC strongly preferred; will hire CPC-A.", []Route{r([][]string{{"CPC", "CPC-A"}}, "", 0)}},
		{"will also consider, with experience", "RHIT required. Will also consider a CCS with at least 3 years of coding experience.",
			[]Route{r([][]string{{"RHIT"}}, "", 0), r([][]string{{"CCS"}}, "", 36)}},
		{"level ladder keeps the lowest level", "Coder I\n- CCA or CPC-A\n\nCoder II\n- CCS and 2 years of coding experience\n\nCoder III\n- CCS and CIC",
			[]Route{r([][]string{{"CCA", "CPC-A"}}, "", 0)}},
		{"level labels with colons", "Level 1: high school diploma.\nLevel 2: RHIT and two years of HIM experience.",
			[]Route{r(nil, EducationHighSchool, 0)}},
		{"issuer family before", "An AHIMA or AAPC coding credential is required.", []Route{r([][]string{coding}, "", 0)}},
		{"issuer family after", "Must hold a coding certification through AHIMA or AAPC.", []Route{r([][]string{coding}, "", 0)}},
		{"family of one issuer", "AHIMA coding credential required.", []Route{r([][]string{{"CCA", "CCS", "CCS-P"}}, "", 0)}},
		{"family without issuer names none", "Coding certification required.", []Route{r(nil, "", 0)}},
		{"benefit in other words", "We cover the cost of your CPC exam.", []Route{r(nil, "", 0)}},
		{"does not require", "This role does not require a CPC or CCA.", []Route{r(nil, "", 0)}},
		{"full names and RN", "Registered Nurse or Registered Health Information Administrator required.", []Route{r([][]string{{"RHIA", "RN"}}, "", 0)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			title := ""
			if strings.Contains(c.text, "track:") {
				title = "HIM Specialist (Records or Coding Track)"
			}
			got := Extract(title, c.text)
			if !reflect.DeepEqual(got.Routes, c.want) {
				t.Errorf("Extract(%q)\n got routes %+v\nwant %+v", c.text, got.Routes, c.want)
			}
		})
	}
}

// TestRestate checks that fields a sender states win over the text in the
// routes as well as in their summary.
func TestRestate(t *testing.T) {
	req := Extract("", "RHIT required, or 3 years of coding experience in lieu of certification. High school diploma required.")
	bachelor, twelve := EducationBachelor, 12
	req.Restate(&bachelor, &twelve, nil)
	want := []Route{{Credentials: [][]string{}, EducationMin: EducationBachelor, ExperienceMonthsMin: 12}}
	if !reflect.DeepEqual(req.Routes, want) || req.EducationMin != EducationBachelor || req.ExperienceMonthsMin != 12 {
		t.Errorf("stated bachelor's and 12 months: routes %+v, summary %q %d", req.Routes, req.EducationMin, req.ExperienceMonthsMin)
	}
	req = Extract("", "Associate degree required. RHIT required. 2 years of coding experience.")
	yes := true
	req.Restate(nil, nil, &yes)
	want = []Route{{Credentials: [][]string{{"RHIT"}}, ExperienceMonthsMin: 24}}
	if !reflect.DeepEqual(req.Routes, want) || !req.ExperienceInLieuOfEducation || req.EducationMin != EducationNone {
		t.Errorf("stated experience in place of education: routes %+v, summary %+v", req.Routes, req)
	}
}

// TestExtractNamedLevels checks a ladder of named levels, which the title
// names: the first level listed is the one a candidate must meet.
func TestExtractNamedLevels(t *testing.T) {
	text := "HIM Associate: high school diploma and 6 months of clerical experience.\nHIM Specialist: RHIT and 2 years of HIM experience."
	want := []Route{{Credentials: [][]string{}, EducationMin: EducationHighSchool, ExperienceMonthsMin: 6}}
	if got := Extract("HIM Associate / HIM Specialist", text); !reflect.DeepEqual(got.Routes, want) {
		t.Errorf("levels named in the title: routes %+v, want %+v", got.Routes, want)
	}
	// "Entry-level candidates:" names the title's "Entry-Level".
	text2 := "Entry-level candidates: CPC-A or CCA.\nExperienced candidates: CPC, CCS or CIC with 3 years of coding."
	want2 := []Route{{Credentials: [][]string{{"CCA", "CPC-A"}}}}
	if got := Extract("Medical Coder (Entry-Level or Experienced)", text2); !reflect.DeepEqual(got.Routes, want2) {
		t.Errorf("levels named with 'candidates': routes %+v, want %+v", got.Routes, want2)
	}
	// Without the title naming them, the labels are just labels.
	want = []Route{{Credentials: [][]string{{"RHIT"}}, EducationMin: EducationHighSchool, ExperienceMonthsMin: 24}}
	if got := Extract("Health Information Specialist", text); !reflect.DeepEqual(got.Routes, want) {
		t.Errorf("levels not in the title: routes %+v, want %+v", got.Routes, want)
	}
}
