package pathway

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

func TestDefaultCatalogHoldsTheCredentials(t *testing.T) {
	cat := mustCatalog(t)
	if cat.Version == "" {
		t.Fatal("catalog has no version")
	}
	want := map[string]string{
		"RHIT": "AHIMA", "RHIA": "AHIMA", "CCA": "AHIMA", "CCS": "AHIMA", "CCS-P": "AHIMA",
		"CHPS": "AHIMA", "CHDA": "AHIMA", "CDIP": "AHIMA", "CPHI": "AHIMA",
		"CPC": "AAPC", "COC": "AAPC", "CIC": "AAPC", "CRC": "AAPC", "CPB": "AAPC",
		"CEHRS": "NHA", "CBCS": "NHA", "CTR": "NCRA",
	}
	for code, issuer := range want {
		cr := cat.Credential(code)
		if cr == nil {
			t.Errorf("%s missing", code)
			continue
		}
		if cr.Issuer != issuer {
			t.Errorf("%s issuer = %s, want %s", code, cr.Issuer, issuer)
		}
		if cat.SourceURL(cr.Source) == "" {
			t.Errorf("%s has no source", code)
		}
	}
	for _, code := range []string{"high_school", "certificate_coding", "associate_him_cahiim", "associate_him", "bachelor_him_cahiim", "master_him_cahiim"} {
		if cat.Program(code) == nil {
			t.Errorf("education %s missing", code)
		}
	}
	for _, code := range []string{"aapc_80_hour_course", "practicode", "ahima_approved_coding_program"} {
		if cat.Training(code) == nil {
			t.Errorf("training %s missing", code)
		}
	}
	if cr := cat.Credential("CPC"); cr.Apprentice == nil || cr.Apprentice.Suffix != "-A" {
		t.Error("CPC must carry the -A apprentice model")
	}
	if cr := cat.Credential("COC"); cr.Apprentice == nil {
		t.Error("COC must carry the -A apprentice model")
	}
}

// The facts file marks these [?]: the catalog must say unknown and give no value.
func TestCatalogKeepsUnknownFactsUnknown(t *testing.T) {
	cat := mustCatalog(t)
	for _, code := range []string{"CHDA", "CDIP", "CPHI", "CBCS", "CTR"} {
		cr := cat.Credential(code)
		if cr.Eligibility.Confidence != Unknown || cr.Eligibility.Rule != nil {
			t.Errorf("%s eligibility = %s with rule %v, want unknown without a rule", code, cr.Eligibility.Confidence, cr.Eligibility.Rule)
		}
	}
	for _, code := range []string{"CHDA", "CDIP", "CPHI", "CIC"} {
		ex := cat.Credential(code).Exam
		if ex.Minutes.Known() || ex.Items.Known() || len(ex.Fees) > 0 {
			t.Errorf("%s exam facts must be unknown, got %+v", code, ex)
		}
	}
	// No source gives these degrees' length or cost: at most an estimate
	// that says how it was derived.
	for _, code := range []string{"bachelor_him_cahiim", "master_him_cahiim"} {
		pr := cat.Program(code)
		for _, f := range []Fact{pr.Months, pr.CostUSD} {
			if f.Known() && (f.Confidence != Estimate || f.Note == "") {
				t.Errorf("%s: %+v is not sourced: it must be unknown or a labelled estimate", code, f)
			}
		}
	}
	for _, code := range []string{"NHA", "NCRA", "ACDIS"} {
		if g := cat.Issuer(code).Recert.GraceDays; g.Known() {
			t.Errorf("%s grace period is not in the sources and must be unknown", code)
		}
	}
	if f := cat.Issuer("AHIMA").Recert.Fees.Member; f.Known() {
		t.Error("AHIMA members pay less, but how much is not in the sources: must be unknown")
	}
	if r := cat.Issuer("AHIMA").Recert.Reinstatement; r.Confidence != Unknown {
		t.Errorf("AHIMA reinstatement = %s, want unknown", r.Confidence)
	}
}

// Issue 9: the corrected rules, as data.
func TestCatalogCorrectedRules(t *testing.T) {
	cat := mustCatalog(t)
	// AAPC: no proof of education or experience for any exam.
	for _, code := range []string{"CPC", "COC", "CIC", "CRC", "CPB"} {
		el := cat.Credential(code).Eligibility
		if el.Confidence != Confirmed || el.Rule == nil || !el.Rule.Open || cat.SourceURL(el.Source) == "" {
			t.Errorf("%s eligibility = %+v, want confirmed open with a source", code, el)
		}
	}
	// RHIA replaces RHIT, in data.
	if rhia := cat.Credential("RHIA"); !slices.Equal(rhia.Supersedes, []string{"RHIT"}) || rhia.SupersedesSource == "" {
		t.Errorf("RHIA supersedes = %v (source %q), want [RHIT] with a source", rhia.Supersedes, rhia.SupersedesSource)
	}
	// The proviso route is a note, not a rule.
	rhia := cat.Credential("RHIA").Eligibility
	if len(rhia.UnknownRoutes) != 1 || !strings.Contains(rhia.UnknownRoutes[0], "proviso") {
		t.Errorf("RHIA unknown routes = %v, want the proviso route", rhia.UnknownRoutes)
	}
	var walk func(r Rule)
	walk = func(r Rule) {
		if r.Credential == "RHIT" {
			t.Error("an RHIA eligibility rule names RHIT: the proviso route must not be plannable")
		}
		for _, k := range append(r.AllOf, r.AnyOf...) {
			walk(k)
		}
	}
	walk(*rhia.Rule)
	// No self-review anywhere; the AHIMA share and fees are there.
	pol := cat.Issuer("AHIMA").Recert
	if sh := pol.IssuerShare; sh == nil || sh.Percent != 40 || sh.Since != "2025-01-01" {
		t.Errorf("AHIMA issuer share = %+v, want 40%% since 2025-01-01", sh)
	}
	if f := pol.Fees; f == nil || *f.First.Max != 218 || *f.PerAdditional.Max != 50 {
		t.Errorf("AHIMA fees = %+v, want 218 + 50 per additional", f)
	}
	if pol.GraceDays.Confidence != Confirmed || *pol.GraceDays.Max != 180 || pol.GraceStatus != "inactive" {
		t.Errorf("AHIMA grace = %+v %q, want 180 confirmed days of inactive status", pol.GraceDays, pol.GraceStatus)
	}
	if a := cat.Issuer("AAPC").Recert; a.Due != DueMembershipRenewal || *a.GraceDays.Max != 90 || a.LapsedStatus != "revoked" {
		t.Errorf("AAPC policy = due %q grace %+v status %q, want membership renewal, 90 days, revoked", a.Due, a.GraceDays, a.LapsedStatus)
	}
	for _, code := range []string{"CCA", "CCS", "CCS-P"} {
		if n := cat.Credential(code).RecertCEUs.Note; strings.Contains(n, "includes") {
			t.Errorf("%s recert note still counts self-reviews: %q", code, n)
		}
	}
}

// Users must never see a staging host or a mirror as a source, and every
// source says when it was checked.
func TestCatalogSourcesArePublicAndDated(t *testing.T) {
	cat := mustCatalog(t)
	for _, s := range cat.Sources {
		for _, bad := range []string{"cms-test.", "cms-qa.", "nasroo", "mirror"} {
			if strings.Contains(strings.ToLower(s.URL+s.Citation+s.Note), bad) {
				t.Errorf("source %s cites %q: %s%s", s.ID, bad, s.URL, s.Citation)
			}
		}
		if _, err := time.Parse(time.DateOnly, s.Checked); err != nil {
			t.Errorf("source %s has no checked date: %q", s.ID, s.Checked)
		}
	}
	for _, id := range []string{"ahima_rhit", "ahima_rhia", "ahima_chps", "ahima_recert_faq", "aapc_maintain", "aapc_membership_faq"} {
		if u := cat.SourceURL(id); !strings.HasPrefix(u, "https://www.ahima.org/") && !strings.HasPrefix(u, "https://www.aapc.com/") {
			t.Errorf("source %s = %q, want the issuer's public page", id, u)
		}
	}
}

// The facts file marks these [S]: the catalog must flag them secondary.
func TestCatalogMarksSecondaryFacts(t *testing.T) {
	cat := mustCatalog(t)
	checks := []struct {
		name string
		got  Confidence
	}{
		{"RHIT exam minutes", cat.Credential("RHIT").Exam.Minutes.Confidence},
		{"RHIT exam items", cat.Credential("RHIT").Exam.Items.Confidence},
		{"RHIT member fee", cat.Credential("RHIT").Exam.Fees[0].Confidence},
		{"RHIA eligibility", cat.Credential("RHIA").Eligibility.Confidence},
		{"CCS exam minutes", cat.Credential("CCS").Exam.Minutes.Confidence},
		{"CCS-P exam items", cat.Credential("CCS-P").Exam.Items.Confidence},
		{"CPC in-person fee", cat.Credential("CPC").Exam.Fees[0].Confidence},
		{"CEHRS CEUs", cat.Credential("CEHRS").RecertCEUs.Confidence},
		{"CTR existence", cat.Credential("CTR").Confidence},
	}
	for _, c := range checks {
		if c.got != Secondary {
			t.Errorf("%s confidence = %q, want secondary", c.name, c.got)
		}
	}
	for _, f := range []Fact{cat.Credential("CCA").Exam.Minutes, cat.Credential("CHPS").RecertCEUs, cat.Credential("CPC").Exam.Items} {
		if f.Confidence != Confirmed {
			t.Errorf("confirmed fact marked %q", f.Confidence)
		}
	}
	if f := cat.Program("associate_him_cahiim").Months; f.Confidence != Estimate || f.Note == "" {
		t.Errorf("associate duration is derived from semesters and must be an estimate with a note, got %+v", f)
	}
}

// miniCatalog is the smallest valid catalog; the error tests break one
// fragment at a time.
const miniCatalog = `
version: "t1"
sources:
  - {id: s, url: https://example.org/s, checked: "2026-12-02"}
issuers:
  - code: ORG
    name: Org
    source: s
    recert:
      cycle_months: {value: 24, confidence: confirmed, source: s}
      grace_days: {confidence: unknown}
      combine: per_credential
      reinstatement: {confidence: unknown}
education:
  - code: hs
    title: High school
    level: high_school
    prerequisites: []
    source: s
    months: {confidence: unknown}
    cost_usd: {confidence: unknown}
trainings:
  - code: course
    title: Course
    prerequisites: [hs]
    source: s
    months: {confidence: unknown}
    cost_usd: {confidence: unknown}
credentials:
  - code: A
    name: Cred A
    issuer: ORG
    source: s
    eligibility:
      confidence: confirmed
      source: s
      rule: {education: {level: high_school}}
    exam: {minutes: {confidence: unknown}, items: {confidence: unknown}, fees: []}
    recert_ceus: {value: 10, confidence: confirmed, source: s}
  - code: B
    name: Cred B
    issuer: ORG
    source: s
    eligibility:
      confidence: confirmed
      source: s
      rule: {credential: A}
    exam: {minutes: {confidence: unknown}, items: {confidence: unknown}, fees: []}
    recert_ceus: {value: 20, confidence: confirmed, source: s}
roles: []
`

func TestMiniCatalogLoads(t *testing.T) {
	cat, err := LoadCatalog([]byte(miniCatalog))
	if err != nil {
		t.Fatalf("LoadCatalog: %v", err)
	}
	p, err := Recommend(cat, State{Education: []Education{highSchool()}, Target: "B"}, Options{Today: date(testToday)})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.EligibleNow, ",") != "A" || p.Target == nil || strings.Join(stepCodes(p.Target.Steps), ",") != "credential:A,credential:B" {
		t.Fatalf("unexpected plan on the mini catalog: eligible %v, target %+v", p.EligibleNow, p.Target)
	}
}

func TestLoadCatalogRejects(t *testing.T) {
	tests := []struct {
		name       string
		old, new   string
		field      string
		fragments  []string
		wholeError string // for parse errors, which have no field
	}{
		{name: "credential cycle",
			old: "rule: {education: {level: high_school}}", new: "rule: {credential: B}",
			field: "credentials[A]", fragments: []string{"prerequisite cycle: A -> B -> A"}},
		{name: "education cycle",
			old: "    prerequisites: []\n", new: "    prerequisites: [course]\n",
			field: "education[hs]", fragments: []string{"prerequisite cycle: hs -> course -> hs"}},
		{name: "dangling prerequisite",
			old: "prerequisites: [hs]", new: "prerequisites: [nope]",
			field: "trainings[course].prerequisites[0]", fragments: []string{`dangling prerequisite "nope"`}},
		{name: "unknown credential in rule",
			old: "rule: {credential: A}", new: "rule: {credential: Z}",
			field: "credentials[B].eligibility.rule.credential", fragments: []string{`unknown credential code "Z"`}},
		{name: "unknown training in rule",
			old: "rule: {credential: A}", new: "rule: {any_of: [{credential: A}, {training: nope}]}",
			field: "credentials[B].eligibility.rule.any_of[1].training", fragments: []string{`unknown training code "nope"`}},
		{name: "duplicate code",
			old: "code: B", new: "code: A",
			field: "credentials[A].code", fragments: []string{`duplicate code "A"`}},
		{name: "code shared across kinds",
			old: "code: course", new: "code: A",
			field: "credentials[A].code", fragments: []string{`duplicate code "A"`}},
		{name: "missing credential source",
			old: "name: Cred A\n    issuer: ORG\n    source: s\n", new: "name: Cred A\n    issuer: ORG\n",
			field: "credentials[A].source", fragments: []string{"missing source"}},
		{name: "unknown source id",
			old: "name: Cred A\n    issuer: ORG\n    source: s\n", new: "name: Cred A\n    issuer: ORG\n    source: nowhere\n",
			field: "credentials[A].source", fragments: []string{`unknown source "nowhere"`}},
		{name: "known fact without source",
			old: "{value: 10, confidence: confirmed, source: s}", new: "{value: 10, confidence: confirmed}",
			field: "credentials[A].recert_ceus.source", fragments: []string{"missing source"}},
		{name: "unknown fact with a value",
			old: "{value: 10, confidence: confirmed, source: s}", new: "{value: 10, confidence: unknown}",
			field: "credentials[A].recert_ceus", fragments: []string{"unknown fact must not carry a value"}},
		{name: "estimate without derivation",
			old: "{value: 10, confidence: confirmed, source: s}", new: "{value: 10, confidence: estimate}",
			field: "credentials[A].recert_ceus.note", fragments: []string{"estimate must say how"}},
		{name: "source without url or citation",
			old: "- {id: s, url: https://example.org/s, checked: \"2026-12-02\"}", new: "- {id: s, checked: \"2026-12-02\"}",
			field: "sources[s]", fragments: []string{"missing source"}},
		{name: "source without checked date",
			old: `url: https://example.org/s, checked: "2026-12-02"`, new: `url: https://example.org/s`,
			field: "sources[s].checked", fragments: []string{"required"}},
		{name: "staging host as source",
			old: "url: https://example.org/s", new: "url: https://cms-qa.ahima.org/certification-careers/certification-exams/rhit",
			field: "sources[s].url", fragments: []string{"staging host", "public page"}},
		{name: "mirror as source",
			old: "url: https://example.org/s", new: "url: https://www.nasroo.com/ahima-rhia",
			field: "sources[s].url", fragments: []string{"third-party mirror"}},
		{name: "supersedes an unknown credential",
			old: "    recert_ceus: {value: 20, confidence: confirmed, source: s}\n", new: "    recert_ceus: {value: 20, confidence: confirmed, source: s}\n    supersedes: [Z]\n    supersedes_source: s\n",
			field: "credentials[B].supersedes[0]", fragments: []string{`unknown credential code "Z"`}},
		{name: "supersedes without source",
			old: "    recert_ceus: {value: 20, confidence: confirmed, source: s}\n", new: "    recert_ceus: {value: 20, confidence: confirmed, source: s}\n    supersedes: [A]\n",
			field: "credentials[B].supersedes_source", fragments: []string{"missing source"}},
		{name: "reinstatement missing",
			old: "      reinstatement: {confidence: unknown}\n", new: "",
			field: "issuers[ORG].recert.reinstatement.confidence", fragments: []string{"required"}},
		{name: "issuer share out of range",
			old: "      reinstatement: {confidence: unknown}\n", new: "      reinstatement: {confidence: unknown}\n      issuer_share: {percent: 140, since: \"2025-01-01\", confidence: confirmed, source: s}\n",
			field: "issuers[ORG].recert.issuer_share.percent", fragments: []string{"between 1 and 100"}},
		{name: "unknown issuer",
			old: "name: Cred A\n    issuer: ORG", new: "name: Cred A\n    issuer: NOPE",
			field: "credentials[A].issuer", fragments: []string{`unknown issuer "NOPE"`}},
		{name: "unknown level",
			old: "level: high_school\n", new: "level: phd\n",
			field: "education[hs].level", fragments: []string{`unknown level "phd"`, levelList}},
		{name: "unknown experience area",
			old: "rule: {credential: A}", new: "rule: {experience: {area: cooking, months: 12}}",
			field: "credentials[B].eligibility.rule.experience.area", fragments: []string{`unknown area "cooking"`}},
		{name: "two kinds in one rule",
			old: "rule: {credential: A}", new: "rule: {credential: A, training: course}",
			field: "credentials[B].eligibility.rule", fragments: []string{"exactly one"}},
		{name: "unknown rules with a rule",
			old: "      confidence: confirmed\n      source: s\n      rule: {credential: A}", new: "      confidence: unknown\n      rule: {credential: A}",
			field: "credentials[B].eligibility.rule", fragments: []string{"must not give a rule"}},
		{name: "missing version",
			old: `version: "t1"`, new: "",
			field: "version", fragments: []string{"required"}},
		{name: "misspelt key",
			old: "    eligibility:\n      confidence: confirmed\n      source: s\n      rule: {credential: A}", new: "    eligibilty:\n      confidence: confirmed\n      source: s\n      rule: {credential: A}",
			wholeError: "eligibilty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(miniCatalog, tt.old) {
				t.Fatalf("fragment %q not in miniCatalog", tt.old)
			}
			_, err := LoadCatalog([]byte(strings.Replace(miniCatalog, tt.old, tt.new, 1)))
			if tt.wholeError != "" {
				if err == nil || apierr.CodeOf(err) != apierr.Invalid || !strings.Contains(err.Error(), tt.wholeError) {
					t.Fatalf("err = %v, want an invalid error mentioning %q", err, tt.wholeError)
				}
				return
			}
			wantField(t, err, tt.field, tt.fragments...)
		})
	}
}

func TestLoadCatalogRejectsEmptyAndGarbage(t *testing.T) {
	for _, in := range []string{"", "   \n", "[1, 2", "version: [", "- just\n- a list\n"} {
		if _, err := LoadCatalog([]byte(in)); err == nil || apierr.CodeOf(err) != apierr.Invalid {
			t.Errorf("LoadCatalog(%q) = %v, want an invalid error", in, err)
		}
	}
}
