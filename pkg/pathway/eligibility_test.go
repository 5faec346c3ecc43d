package pathway

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// eligibilityCase checks one credential against one state: eligible or not,
// and when not, a fragment the blocked explanation must contain.
type eligibilityCase struct {
	name     string
	st       State
	code     string
	eligible bool
	blocked  string // substring of some blocked line when not eligible
	caveat   string // substring of some caveat when eligible
}

func runEligibility(t *testing.T, cases []eligibilityCase) {
	t.Helper()
	cat := mustCatalog(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := recommend(t, cat, tc.st)
			got := slices.Contains(p.EligibleNow, tc.code)
			if got != tc.eligible {
				t.Fatalf("%s eligible = %v, want %v (eligible_now %v, blocked %q)", tc.code, got, tc.eligible, p.EligibleNow, p.Blocked[tc.code])
			}
			if tc.eligible {
				if _, isBlocked := p.Blocked[tc.code]; isBlocked {
					t.Errorf("%s is eligible but also blocked", tc.code)
				}
				if tc.caveat != "" && !containsAny(p.Caveats[tc.code], tc.caveat) {
					t.Errorf("caveats %q lack %q", p.Caveats[tc.code], tc.caveat)
				}
				return
			}
			lines, ok := p.Blocked[tc.code]
			if !ok {
				t.Fatalf("%s neither eligible nor blocked", tc.code)
			}
			if tc.blocked != "" && !containsAny(lines, tc.blocked) {
				t.Errorf("blocked %q lacks %q", lines, tc.blocked)
			}
		})
	}
}

func containsAny(lines []string, frag string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, frag) })
}

func TestEligibilityRHIT(t *testing.T) {
	cahiimAssoc := func(status string) State {
		return State{Education: []Education{highSchool(), edu(LevelAssociate, FieldHIM, true, status)}}
	}
	runEligibility(t, []eligibilityCase{
		{name: "completed accredited associate", st: cahiimAssoc(StatusCompleted), code: "RHIT", eligible: true},
		{name: "final-term student may test early", st: cahiimAssoc(StatusFinalTerm), code: "RHIT", eligible: true},
		{name: "in-progress associate is not enough", st: cahiimAssoc(StatusInProgress), code: "RHIT",
			blocked: "yours is an associate degree in progress"},
		{name: "non-accredited associate", code: "RHIT",
			st:      State{Education: []Education{edu(LevelAssociate, FieldHIM, false, StatusCompleted)}},
			blocked: "not CAHIIM-accredited"},
		{name: "accredited associate in another field", code: "RHIT",
			st:      State{Education: []Education{edu(LevelAssociate, FieldCoding, true, StatusCompleted)}},
			blocked: "your associate degree is in coding"},
		{name: "accredited HIM bachelor is not claimed to qualify", code: "RHIT",
			st:      State{Education: []Education{edu(LevelBachelor, FieldHIM, true, StatusCompleted)}},
			blocked: "our sources do not say it qualifies"},
		{name: "high school only", st: State{Education: []Education{highSchool()}}, code: "RHIT",
			blocked: "needs a CAHIIM-accredited associate degree in HIM (completed, or in its final term)"},
	})
}

func TestEligibilityRHIA(t *testing.T) {
	runEligibility(t, []eligibilityCase{
		{name: "accredited HIM bachelor", code: "RHIA", eligible: true, caveat: "secondary sources",
			st: State{Education: []Education{edu(LevelBachelor, FieldHIM, true, StatusCompleted)}}},
		{name: "accredited HIM master", code: "RHIA", eligible: true,
			st: State{Education: []Education{edu(LevelMaster, FieldHIM, true, StatusCompleted)}}},
		{name: "final-term accredited bachelor may test early", code: "RHIA", eligible: true,
			st: State{Education: []Education{highSchool(), edu(LevelBachelor, FieldHIM, true, StatusFinalTerm)}}},
		{name: "final-term accredited master may test early", code: "RHIA", eligible: true,
			st: State{Education: []Education{edu(LevelMaster, FieldHIM, true, StatusFinalTerm)}}},
		{name: "in-progress bachelor is not enough", code: "RHIA", blocked: "in progress",
			st: State{Education: []Education{edu(LevelBachelor, FieldHIM, true, StatusInProgress)}}},
		{name: "non-accredited HIM bachelor", code: "RHIA", blocked: "not CAHIIM-accredited",
			st: State{Education: []Education{edu(LevelBachelor, FieldHIM, false, StatusCompleted)}}},
		{name: "any bachelor plus post-baccalaureate HIM certificate", code: "RHIA", eligible: true,
			st: State{Education: []Education{edu(LevelBachelor, FieldOther, false, StatusCompleted), edu(LevelCertificate, FieldHIM, true, StatusCompleted)}}},
		{name: "accredited associate does not stand in for the certificate", code: "RHIA",
			st: State{Education: []Education{edu(LevelBachelor, FieldOther, false, StatusCompleted), edu(LevelAssociate, FieldHIM, true, StatusCompleted)}}},
		{name: "RHIT alone never makes anyone RHIA-eligible", code: "RHIA", blocked: "not planned, conditions unknown: the 2017 \"proviso\" route",
			st: State{Education: []Education{highSchool(), edu(LevelAssociate, FieldHIM, true, StatusCompleted)}, Credentials: held("RHIT")}},
		{name: "high school only", code: "RHIA", blocked: "proviso",
			st: State{Education: []Education{highSchool()}}},
	})
}

func TestEligibilityCHPSTiers(t *testing.T) {
	type tier struct {
		name   string
		base   State
		months int
	}
	tiers := []tier{
		{"high school + 72", State{Education: []Education{highSchool()}}, 72},
		{"associate + 48", State{Education: []Education{edu(LevelAssociate, FieldOther, false, StatusCompleted)}}, 48},
		{"CCA + 48", State{Education: []Education{highSchool()}, Credentials: held("CCA")}, 48},
		{"CCS + 48", State{Education: []Education{highSchool()}, Credentials: held("CCS")}, 48},
		{"CCS-P + 48", State{Education: []Education{highSchool()}, Credentials: held("CCS-P")}, 48},
		{"RHIT + 48", State{Education: []Education{highSchool()}, Credentials: held("RHIT")}, 48},
		{"bachelor + 24", State{Education: []Education{edu(LevelBachelor, FieldOther, false, StatusCompleted)}}, 24},
		{"RHIA + 24", State{Education: []Education{highSchool()}, Credentials: held("RHIA")}, 24},
		{"master + 12", State{Education: []Education{edu(LevelMaster, FieldOther, false, StatusCompleted)}}, 12},
	}
	var cases []eligibilityCase
	for _, tr := range tiers {
		below, at := tr.base, tr.base
		below.Experience = []Experience{exp(AreaPrivacySecurity, tr.months-1)}
		at.Experience = []Experience{exp(AreaPrivacySecurity, tr.months)}
		cases = append(cases,
			eligibilityCase{name: tr.name + " just below", st: below, code: "CHPS",
				blocked: "needs " + strconv.Itoa(tr.months) + " months privacy_security experience (has " + strconv.Itoa(tr.months-1) + ")"},
			eligibilityCase{name: tr.name + " at threshold", st: at, code: "CHPS", eligible: true},
		)
	}
	// Experience in another area never counts for CHPS.
	cases = append(cases, eligibilityCase{name: "coding experience does not count", code: "CHPS",
		st: State{Education: []Education{edu(LevelMaster, FieldOther, false, StatusCompleted)}, Experience: []Experience{exp(AreaCoding, 120)}}})
	runEligibility(t, cases)
}

func TestCHPSBlockedExplainsTheAssociateTier(t *testing.T) {
	cat := mustCatalog(t)
	p := recommend(t, cat, State{
		Education:  []Education{edu(LevelAssociate, FieldHIM, false, StatusCompleted)},
		Experience: []Experience{exp(AreaPrivacySecurity, 12)},
	})
	want := "needs 48 months privacy_security experience (has 12); already met: a completed associate degree or higher"
	if !slices.Contains(p.Blocked["CHPS"], want) {
		t.Errorf("blocked CHPS = %q, want a line %q", p.Blocked["CHPS"], want)
	}
	if n := len(p.Blocked["CHPS"]); n != 6 {
		t.Errorf("CHPS has 6 routes, blocked lists %d", n)
	}
}

func TestEligibilityCodingRecommendedIsNotRequired(t *testing.T) {
	hsOnly := State{Education: []Education{highSchool()}}
	runEligibility(t, []eligibilityCase{
		{name: "CCA with high school only", st: hsOnly, code: "CCA", eligible: true, caveat: "recommends (does not require)"},
		{name: "CCS with high school only", st: hsOnly, code: "CCS", eligible: true, caveat: "recommends (does not require)"},
		{name: "CCA needs high school", st: State{}, code: "CCA", blocked: "needs a high school diploma or GED"},
		{name: "a bachelor's degree satisfies high school", code: "CCS", eligible: true,
			st: State{Education: []Education{edu(LevelBachelor, FieldOther, false, StatusCompleted)}}},
		{name: "an in-progress bachelor's does not", code: "CCS",
			st: State{Education: []Education{edu(LevelBachelor, FieldOther, false, StatusInProgress)}}},
	})

	// Meeting the recommendation removes the advice, never the eligibility.
	cat := mustCatalog(t)
	p := recommend(t, cat, State{Education: []Education{highSchool()}, Experience: []Experience{exp(AreaCoding, 24)}})
	if !slices.Contains(p.EligibleNow, "CCS") || containsAny(p.Caveats["CCS"], "recommends") {
		t.Errorf("with 24 months coding CCS should be eligible without advice, got eligible %v caveats %q", p.EligibleNow, p.Caveats["CCS"])
	}
}

func TestEligibilityCPCAndCEHRS(t *testing.T) {
	hs := []Education{highSchool()}
	runEligibility(t, []eligibilityCase{
		{name: "CPC needs nothing", st: State{}, code: "CPC", eligible: true, caveat: "passing now gives CPC-A"},
		{name: "CEHRS with training", code: "CEHRS", eligible: true,
			st: State{Education: hs, Trainings: []string{"ehr_training_program"}}},
		{name: "CEHRS with a year of work", code: "CEHRS", eligible: true,
			st: State{Education: hs, Experience: []Experience{exp(AreaBilling, 12)}}},
		{name: "CEHRS with 11 months", code: "CEHRS", blocked: "12 months billing experience (has 11)",
			st: State{Education: hs, Experience: []Experience{exp(AreaBilling, 11)}}},
		{name: "CEHRS with a year of records work", code: "CEHRS", eligible: true,
			st: State{Education: hs, Experience: []Experience{exp(AreaRecords, 12)}}},
		{name: "CEHRS with a year of release of information", code: "CEHRS", eligible: true,
			st: State{Education: hs, Experience: []Experience{exp(AreaReleaseOfInformation, 12)}}},
		{name: "CEHRS with a year of coding", code: "CEHRS", eligible: true,
			st: State{Education: hs, Experience: []Experience{exp(AreaCoding, 12)}}},
		{name: "CEHRS: privacy/security work is not in the field", code: "CEHRS", blocked: "12 months records experience (has 0)",
			st: State{Education: hs, Experience: []Experience{exp(AreaPrivacySecurity, 36)}}},
		{name: "CEHRS: data analysis is not in the field", code: "CEHRS",
			st: State{Education: hs, Experience: []Experience{exp(AreaDataAnalysis, 36)}}},
		{name: "CEHRS: areas are not added together", code: "CEHRS",
			st: State{Education: hs, Experience: []Experience{exp(AreaRecords, 6), exp(AreaBilling, 6)}}},
		{name: "CEHRS needs high school", code: "CEHRS", blocked: "high school",
			st: State{Trainings: []string{"ehr_training_program"}}},
	})
}

// AAPC: no proof of education or experience is needed to sit any AAPC exam.
func TestEligibilityAAPCExamsAreOpen(t *testing.T) {
	cat := mustCatalog(t)
	p := recommend(t, cat, State{Education: []Education{highSchool()}})
	for _, code := range []string{"CPC", "COC", "CIC", "CRC", "CPB", "CCA", "CCS"} {
		if !slices.Contains(p.EligibleNow, code) {
			t.Errorf("diploma only: %s not eligible now (eligible %v, blocked %q)", code, p.EligibleNow, p.Blocked[code])
		}
	}
	for _, code := range []string{"CRC", "CPB"} {
		cr := cat.Credential(code)
		if n := cr.Eligibility.Note; !strings.Contains(n, "recommends (does not require)") {
			t.Errorf("%s keeps AAPC's recommendation as a recommendation: note %q", code, n)
		}
		if r := cr.Recommended; r == nil || r.Rule != nil || r.Note == "" || cat.SourceURL(r.Source) == "" {
			t.Errorf("%s: the recommendation must be recorded with its source and no invented rule, got %+v", code, r)
		}
	}
	if !containsAny(p.Caveats["COC"], "COC-A") {
		t.Errorf("COC caveats %q must say passing now gives COC-A", p.Caveats["COC"])
	}
	// Even with nothing at all.
	p = recommend(t, cat, State{})
	for _, code := range []string{"CPC", "COC", "CIC", "CRC", "CPB"} {
		if !slices.Contains(p.EligibleNow, code) {
			t.Errorf("empty state: %s not eligible now", code)
		}
	}
}

// Credentials whose rules the sources do not give are never eligible, and
// say so, however much the seeker holds.
func TestUnknownEligibilityIsNeverEligible(t *testing.T) {
	cat := mustCatalog(t)
	everything := State{
		Education: []Education{highSchool(), edu(LevelAssociate, FieldHIM, true, StatusCompleted),
			edu(LevelBachelor, FieldHIM, true, StatusCompleted), edu(LevelMaster, FieldHIM, true, StatusCompleted)},
		Credentials: held("RHIT", "RHIA", "CCA", "CCS", "CHPS", "CPC"),
		Experience: []Experience{exp(AreaCoding, 240), exp(AreaPrivacySecurity, 240), exp(AreaDataAnalysis, 240),
			exp(AreaRecords, 240), exp(AreaBilling, 240), exp(AreaReleaseOfInformation, 240)},
		Trainings: []string{"aapc_80_hour_course", "practicode", "ahima_approved_coding_program", "ehr_training_program"},
	}
	p := recommend(t, cat, everything)
	for code, issuer := range map[string]string{
		"CHDA": "AHIMA", "CDIP": "AHIMA", "CPHI": "AHIMA", "CCS-P": "AHIMA",
		"CBCS": "NHA", "CTR": "NCRA",
	} {
		if slices.Contains(p.EligibleNow, code) {
			t.Errorf("%s listed eligible though its rules are unknown", code)
		}
		want := []string{"eligibility rules unknown — check with " + issuer}
		if !slices.Equal(p.Blocked[code], want) {
			t.Errorf("blocked[%s] = %q, want %q", code, p.Blocked[code], want)
		}
	}
	if !slices.IsSorted(p.EligibleNow) {
		t.Errorf("eligible_now not sorted: %v", p.EligibleNow)
	}
	for _, code := range p.Held {
		if _, ok := p.Blocked[code]; ok || slices.Contains(p.EligibleNow, code) {
			t.Errorf("held %s must be neither eligible nor blocked", code)
		}
	}
}
