package pathway

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestTargetPlans(t *testing.T) {
	cat := mustCatalog(t)
	hs := []Education{highSchool()}
	tests := []struct {
		name      string
		st        State
		status    string
		steps     []string
		monthsMin int
		monthsMax int // -1: unknown
		note      string
	}{
		{name: "RHIT from high school", st: State{Education: hs, Target: "RHIT"}, status: TargetPlanned,
			steps: []string{"education:associate_him_cahiim", "credential:RHIT"}, monthsMin: 20, monthsMax: 36,
			note: "leave out exam preparation"},
		{name: "RHIT for a final-term student", st: State{Education: []Education{highSchool(), edu(LevelAssociate, FieldHIM, true, StatusFinalTerm)}, Target: "RHIT"},
			status: TargetEligibleNow, steps: []string{"credential:RHIT"}, monthsMax: 0},
		{name: "RHIT with an in-progress degree: finish it", st: State{Education: []Education{highSchool(), edu(LevelAssociate, FieldHIM, true, StatusInProgress)}, Target: "RHIT"},
			status: TargetPlanned, steps: []string{"education:associate_him_cahiim", "credential:RHIT"}, monthsMin: 0, monthsMax: -1,
			note: "months_max unknown: no source gives the duration of associate_him_cahiim"},
		{name: "RHIT from nothing starts with high school", st: State{Target: "RHIT"}, status: TargetPlanned,
			steps: []string{"education:high_school", "education:associate_him_cahiim", "credential:RHIT"}, monthsMin: 20, monthsMax: -1,
			note: "no source gives the duration of high_school"},
		{name: "RHIA prefers the confirmed degree route", st: State{Education: hs, Target: "RHIA"}, status: TargetPlanned,
			steps: []string{"education:bachelor_him_cahiim", "credential:RHIA"}, monthsMin: 48, monthsMax: 48,
			note: "RHIA eligibility rules come from secondary sources only"},
		{name: "CHPS by time goes through CCA", st: State{Education: hs, Experience: []Experience{exp(AreaPrivacySecurity, 12)}, Target: "CHPS"},
			status: TargetPlanned, steps: []string{"credential:CCA", "experience:privacy_security", "credential:CHPS"}, monthsMin: 36, monthsMax: 36},
		{name: "CHPS by cost avoids the CCA fee", st: State{Education: hs, Experience: []Experience{exp(AreaPrivacySecurity, 12)}, Target: "CHPS", Optimize: OptimizeCost},
			status: TargetPlanned, steps: []string{"experience:privacy_security", "credential:CHPS"}, monthsMin: 60, monthsMax: 60},
		{name: "RHIT within 12 months is impossible", st: State{Education: hs, Target: "RHIT", MaxMonths: 12},
			status: TargetOverLimits, steps: []string{"education:associate_him_cahiim", "credential:RHIT"}, monthsMin: 20, monthsMax: 36,
			note: "no route fits your limits (12 months): the best route needs at least 20 months"},
		// Every route takes 36+ months now that the bachelor's carries an
		// estimated length (48 months): none fits, and the best is shown.
		{name: "CHPS within 12 months does not fit", st: State{Education: hs, Experience: []Experience{exp(AreaPrivacySecurity, 12)}, Target: "CHPS", MaxMonths: 12},
			status: TargetOverLimits, steps: []string{"credential:CCA", "experience:privacy_security", "credential:CHPS"}, monthsMin: 36, monthsMax: 36,
			note: "no route fits your limits (12 months): the best route needs at least 36 months"},
		{name: "CHPS within 40 months fits", st: State{Education: hs, Experience: []Experience{exp(AreaPrivacySecurity, 12)}, Target: "CHPS", MaxMonths: 40},
			status: TargetPlanned, steps: []string{"credential:CCA", "experience:privacy_security", "credential:CHPS"}, monthsMin: 36, monthsMax: 36,
			note: "fits within 40 months"},
		{name: "CHPS with a $100 budget takes the free route", st: State{Education: hs, Experience: []Experience{exp(AreaPrivacySecurity, 12)}, Target: "CHPS", MaxCostUSD: 100},
			status: TargetPlanned, steps: []string{"experience:privacy_security", "credential:CHPS"}, monthsMin: 60, monthsMax: 60},
		{name: "unknown rules", st: State{Education: hs, Target: "CHDA"}, status: TargetRulesUnknown, note: "eligibility rules unknown — check with AHIMA"},
		{name: "already held", st: State{Credentials: held("CCA"), Target: "CCA"}, status: TargetHeld},
		{name: "CPC warns about the apprentice status", st: State{Target: "CPC"}, status: TargetEligibleNow, steps: []string{"credential:CPC"}, note: "gives CPC-A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := recommend(t, cat, tt.st)
			tp := p.Target
			if tp == nil {
				t.Fatal("no target plan")
			}
			if tp.Status != tt.status {
				t.Fatalf("status = %s, want %s (notes %q)", tp.Status, tt.status, tp.Notes)
			}
			if got := stepCodes(tp.Steps); tt.steps != nil && !slices.Equal(got, tt.steps) {
				t.Errorf("steps = %v, want %v", got, tt.steps)
			}
			if len(tp.Steps) > 0 {
				if tp.MonthsMin != tt.monthsMin {
					t.Errorf("months_min = %d, want %d", tp.MonthsMin, tt.monthsMin)
				}
				switch {
				case tt.monthsMax < 0 && tp.MonthsMax != nil:
					t.Errorf("months_max = %d, want unknown", *tp.MonthsMax)
				case tt.monthsMax >= 0 && (tp.MonthsMax == nil || *tp.MonthsMax != tt.monthsMax):
					t.Errorf("months_max = %v, want %d", tp.MonthsMax, tt.monthsMax)
				}
			}
			if tt.note != "" && !containsAny(tp.Notes, tt.note) {
				t.Errorf("notes %q lack %q", tp.Notes, tt.note)
			}
		})
	}
}

// The 2017 proviso route's conditions are unknown (issue 9): no plan or
// alternative may route to the RHIA through the RHIT.
func TestRHIAPlanNeverRoutesThroughRHIT(t *testing.T) {
	cat := mustCatalog(t)
	p := recommend(t, cat, State{Education: []Education{highSchool()}, Target: "RHIA"})
	for _, r := range append([]Route{{Steps: stepCodes(p.Target.Steps)}}, p.Target.Alternatives...) {
		if slices.Contains(r.Steps, "credential:RHIT") {
			t.Errorf("route %v goes through RHIT", r.Steps)
		}
	}
}

func TestNextStepsExplainWhatTheyOpen(t *testing.T) {
	cat := mustCatalog(t)
	p := recommend(t, cat, State{
		Education:  []Education{edu(LevelAssociate, FieldOther, false, StatusCompleted)},
		Experience: []Experience{exp(AreaPrivacySecurity, 12)},
	})
	s, ok := findStep(p.NextSteps, KindExperience, AreaPrivacySecurity)
	if !ok {
		t.Fatalf("no privacy_security experience step in %v", stepCodes(p.NextSteps))
	}
	if *s.MonthsMin != 36 || !slices.Equal(s.Unlocks, []string{"CHPS"}) {
		t.Errorf("experience step = %d months unlocking %v, want 36 months unlocking CHPS", *s.MonthsMin, s.Unlocks)
	}
	a, ok := findStep(p.NextSteps, KindEducation, "associate_him_cahiim")
	if !ok || !slices.Equal(a.Unlocks, []string{"RHIT"}) || !strings.Contains(a.Why, "Makes you eligible for RHIT") {
		t.Errorf("accredited associate step = %+v, want it to unlock RHIT", a)
	}
	c, ok := findStep(p.NextSteps, KindCredential, "CCA")
	if !ok || c.MonthsMin != nil || c.CostMin == nil || *c.CostMin != 199 || *c.CostMax != 299 {
		t.Errorf("CCA step = %+v, want fees 199-299 and no duration", c)
	}
}

func TestDemandChangesRanking(t *testing.T) {
	cat := mustCatalog(t)
	st := State{Education: []Education{highSchool(), edu(LevelAssociate, FieldHIM, true, StatusFinalTerm)}}
	plain, err := Recommend(cat, st, Options{Today: date(testToday)})
	if err != nil {
		t.Fatal(err)
	}
	rank := func(p Plan, code string) int {
		return slices.IndexFunc(p.NextSteps, func(s Step) bool { return s.Kind == KindCredential && s.Code == code })
	}
	if rank(plain, "CPC") < 0 || rank(plain, "RHIT") < 0 {
		t.Fatalf("want CPC and RHIT among next steps: %v", stepCodes(plain.NextSteps))
	}
	if rank(plain, "CPC") < rank(plain, "RHIT") {
		t.Fatalf("without demand RHIT should outrank CPC: %v", stepCodes(plain.NextSteps))
	}

	opt := Options{Today: date(testToday), Demand: Demand{
		Credentials:           map[string]CredentialDemand{"CPC": {Postings: 400, MedianHourly: 30}, "RHIT": {Postings: 37, MedianHourly: 24.10}, "NOT-IN-CATALOG": {Postings: 9}},
		RadiusMiles:           25,
		QualifiedMedianHourly: 19.80,
	}}
	hot, err := Recommend(cat, st, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rank(hot, "CPC") > rank(hot, "RHIT") {
		t.Errorf("strong CPC demand should lift CPC above RHIT: %v", stepCodes(hot.NextSteps))
	}
	rhit, _ := findStep(hot.NextSteps, KindCredential, "RHIT")
	want := "RHIT: required or preferred by 37 open postings within 25 miles; median $24.10/h vs $19.80/h for postings you already qualify for"
	if rhit.Demand != want {
		t.Errorf("demand text = %q\nwant          %q", rhit.Demand, want)
	}
	plainRHIT, _ := findStep(plain.NextSteps, KindCredential, "RHIT")
	if rhit.Score <= plainRHIT.Score || plainRHIT.Demand != "" {
		t.Errorf("demand must raise RHIT's score (%.2f -> %.2f) and explain itself only when given", plainRHIT.Score, rhit.Score)
	}
}

func TestIndirectDemandIsExplained(t *testing.T) {
	cat := mustCatalog(t)
	p, err := Recommend(cat, State{Education: []Education{highSchool()}}, Options{Today: date(testToday), Demand: Demand{
		Credentials: map[string]CredentialDemand{"RHIT": {Postings: 1}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := findStep(p.NextSteps, KindEducation, "associate_him_cahiim")
	if s.Demand != "unlocks RHIT: required or preferred by 1 open posting" {
		t.Errorf("demand = %q", s.Demand)
	}
}

func TestRecommendIsDeterministic(t *testing.T) {
	cat := mustCatalog(t)
	st, err := ParseState([]byte(`{
		"education":[{"level":"high_school","status":"completed"},{"level":"associate","field":"HIM","cahiim_accredited":true,"status":"in_progress"}],
		"credentials":[{"code":"CPC","earned_on":"2024-06-01","apprentice":true},{"code":"CCA","earned_on":"2023-01-20"}],
		"experience":[{"area":"coding","months":7},{"area":"privacy_security","months":30}],
		"trainings":["practicode"],
		"ceus":[{"code":"CCA","hours":8,"on":"2024-02-01"}],
		"target":"RHIA","max_months":48}`))
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Today: date(testToday), Demand: Demand{
		Credentials: map[string]CredentialDemand{"RHIT": {Postings: 37, MedianHourly: 24.1}, "CHPS": {Postings: 5, MedianHourly: 31}, "CCS": {Postings: 37, MedianHourly: 24.1}},
		RadiusMiles: 25, QualifiedMedianHourly: 19.8,
	}}
	var first []byte
	for i := 0; i < 5; i++ {
		p, err := Recommend(cat, st, opt)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
			continue
		}
		if !bytes.Equal(first, b) {
			t.Fatalf("run %d differs:\n%s\n%s", i, first, b)
		}
	}
	// A fresh catalog load must not change the answer either.
	p, _ := Recommend(mustCatalog(t), st, opt)
	if b, _ := json.Marshal(p); !bytes.Equal(first, b) {
		t.Fatal("answer depends on the catalog instance")
	}
}

func TestPlanJSONShape(t *testing.T) {
	cat := mustCatalog(t)
	b, err := json.Marshal(recommend(t, cat, State{}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"eligible_now", "next_steps", "blocked", "recertification", "held"} {
		if _, ok := m[key].(map[string]any); ok {
			continue
		}
		if _, ok := m[key].([]any); !ok {
			t.Errorf("%s = %v, want a JSON list or object, never null", key, m[key])
		}
	}
	if _, ok := m["plan"]; ok {
		t.Error("no target: plan must be omitted")
	}
	steps := m["next_steps"].([]any)
	first := steps[0].(map[string]any)
	for _, key := range []string{"kind", "code", "title", "why", "months_min", "months_max", "cost_min", "cost_max", "unlocks", "score"} {
		if _, ok := first[key]; !ok {
			t.Errorf("step lacks %q: %v", key, first)
		}
	}
}

func TestFormatText(t *testing.T) {
	cat := mustCatalog(t)
	p := recommend(t, cat, State{
		Education:   []Education{highSchool()},
		Credentials: []HeldCredential{{Code: "CPC", EarnedOn: "2024-03-15", Apprentice: true, MembershipRenewal: "2026-03-31"}},
		Experience:  []Experience{exp(AreaPrivacySecurity, 12)},
		Target:      "CHPS",
	})
	var buf bytes.Buffer
	if err := FormatText(&buf, p); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Eligible now:     CCA, CCS, CIC, COC, CPB, CRC",
		"Next steps, best first:",
		"Plan to CHPS (optimised for time): planned",
		"Total time: 36 months",
		"CHDA:\n    - eligibility rules unknown — check with AHIMA",
		"CPC-A: 0 of 24 months credited, 24 to go",
		"AAPC (CPC): active; cycle 2025-04-01 to 2027-03-31, 668 days left",
		"do: log 36 more CEUs by 2027-03-31",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if err := FormatText(failingWriter{}, p); err == nil || !strings.Contains(err.Error(), "format plan") {
		t.Errorf("write error = %v, want it wrapped", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
