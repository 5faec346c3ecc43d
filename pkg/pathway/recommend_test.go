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

// rankedPlan runs the engine as Recommend does and also returns the
// ranked steps with what ordering used.
func rankedPlan(t *testing.T, cat *Catalog, st State) (Plan, []ranked) {
	t.Helper()
	today := date(goldenToday)
	ck, err := st.check(cat, today)
	if err != nil {
		t.Fatal(err)
	}
	e := &engine{cat: cat, ck: ck, prof: &ck.prof, today: today, demand: &Demand{}}
	p := e.run()
	return p, e.ranked
}

func stepIndex(steps []Step, kind, code string) int {
	return slices.IndexFunc(steps, func(s Step) bool { return s.Kind == kind && s.Code == code })
}

// The ranking rules hold on every golden plan: groups in order, no step
// with more unknowns above one that brings as much with fewer, no
// cautioned credential above an uncautioned credential step.
func TestRankingRulesHoldOnEveryGoldenPlan(t *testing.T) {
	cat := mustCatalog(t)
	for _, g := range goldenSeekers() {
		_, rs := rankedPlan(t, cat, g.state)
		for i := range rs {
			for j := i + 1; j < len(rs); j++ {
				a, b := &rs[i], &rs[j]
				if a.tier > b.tier {
					t.Errorf("%s: %s:%s (group %d) above %s:%s (group %d)", g.name, a.Kind, a.Code, a.tier, b.Kind, b.Code, b.tier)
				}
				if mustBelow(a, b) {
					t.Errorf("%s: %s:%s ranks above %s:%s against the rules (unknowns %d vs %d, benefit %.1f vs %.1f, cautioned %v vs %v)",
						g.name, a.Kind, a.Code, b.Kind, b.Code, a.unknowns, b.unknowns, a.benefit, b.benefit, a.cautioned, b.cautioned)
				}
			}
		}
	}
}

func TestOrderPutsUnknownBelowKnownThatBringsAsMuch(t *testing.T) {
	unknown := ranked{Step: Step{Kind: KindEducation, Code: "u", Score: 9}, tier: tierStep, benefit: 10, unknowns: 1, cred: -1}
	known := ranked{Step: Step{Kind: KindEducation, Code: "k", Score: 5}, tier: tierStep, benefit: 10, cred: -1}
	richer := ranked{Step: Step{Kind: KindEducation, Code: "r", Score: 9.5}, tier: tierStep, benefit: 20, unknowns: 2, cred: -1}
	got := order([]ranked{unknown, known, richer})
	codes := []string{got[0].Code, got[1].Code, got[2].Code}
	// r brings more than k, so its unknowns do not hold it back; u brings
	// no more than k, so k wins despite its lower score.
	if !slices.Equal(codes, []string{"r", "k", "u"}) {
		t.Errorf("order = %v, want [r k u]", codes)
	}
}

// Issue 9: for a diploma-only seeker the postsecondary certificate ranks
// near the top, the CAHIIM associate above the bachelor's, and degrees
// carry estimated lengths.
func TestDegreesCarryEstimatesAndRankByThem(t *testing.T) {
	cat := mustCatalog(t)
	p := recommendOn(t, cat, State{Education: []Education{highSchool()}}, goldenToday)
	cert := stepIndex(p.NextSteps, KindEducation, "certificate_coding")
	if cert < 0 || cert > 2 {
		t.Errorf("certificate at %d, want in the first three: %v", cert+1, stepCodes(p.NextSteps))
	}
	assoc, bach := stepIndex(p.NextSteps, KindEducation, "associate_him_cahiim"), stepIndex(p.NextSteps, KindEducation, "bachelor_him_cahiim")
	if assoc < 0 || bach < 0 || assoc > bach {
		t.Errorf("associate at %d, bachelor's at %d: want the CAHIIM associate first", assoc+1, bach+1)
	}
	if stepIndex(p.NextSteps, KindEducation, "associate_him") >= 0 {
		t.Error("the unaccredited associate reaches nothing the CAHIIM one does not, in no less time: not a step")
	}
	b := p.NextSteps[bach]
	if b.MonthsMax == nil || *b.MonthsMax != 48 || !containsAny(b.Notes, "duration is an estimate: four academic years of full-time study") {
		t.Errorf("bachelor's step = %v months, notes %q; want an estimated 48 months saying how", b.MonthsMax, b.Notes)
	}
	for _, code := range []string{"post_bacc_him_certificate_cahiim", "master_him_cahiim"} {
		pr := cat.Program(code)
		if pr.Months.Known() || !strings.Contains(pr.Months.Note, "no source") {
			t.Errorf("%s months = %+v, want unknown with the reason", code, pr.Months)
		}
	}
}

func TestOneExperienceStepPerGoalInTheSeekersField(t *testing.T) {
	cat := mustCatalog(t)
	experience := func(p Plan) []string {
		var out []string
		for _, s := range p.NextSteps {
			if s.Kind == KindExperience {
				out = append(out, s.Code)
			}
		}
		return out
	}
	p := recommendOn(t, cat, State{Education: []Education{highSchool()}}, goldenToday)
	if got := experience(p); !slices.Equal(got, []string{AreaRecords}) {
		t.Errorf("diploma only: experience steps %v, want one, in records", got)
	}
	p = recommendOn(t, cat, State{Education: []Education{highSchool(), edu(LevelCertificate, FieldCoding, false, StatusCompleted)}}, goldenToday)
	if got := experience(p); !slices.Equal(got, []string{AreaCoding}) {
		t.Errorf("coding certificate: experience steps %v, want coding only", got)
	}
	// A CPC-A with 6 months has two distinct goals in coding: 12 months
	// (CEHRS, CCS's recommended background with the CPC) and 24 (no -A).
	p = recommendOn(t, cat, State{Education: []Education{highSchool()},
		Credentials: []HeldCredential{{Code: "CPC", EarnedOn: "2026-05-01", Apprentice: true}}, Experience: []Experience{exp(AreaCoding, 6)}}, goldenToday)
	var totals []string
	for _, s := range p.NextSteps {
		if s.Kind == KindExperience {
			totals = append(totals, s.Title)
		}
	}
	if len(totals) != 2 || !strings.Contains(strings.Join(totals, "|"), "(24 in total)") {
		t.Errorf("CPC-A: experience steps %q, want two, one of them to 24 months", totals)
	}
}

func TestEligibleButRecommendedIsACaution(t *testing.T) {
	cat := mustCatalog(t)
	p := recommendOn(t, cat, State{Education: []Education{highSchool()}}, goldenToday)
	ccs := stepIndex(p.NextSteps, KindCredential, "CCS")
	if ccs < 0 {
		t.Fatalf("CCS not offered: %v", stepCodes(p.NextSteps))
	}
	s := p.NextSteps[ccs]
	if len(s.Cautions) != 1 || !strings.HasPrefix(s.Cautions[0], "Eligible to sit, but AHIMA recommends (does not require)") ||
		!strings.Contains(s.Cautions[0], "24 months coding experience") {
		t.Errorf("CCS cautions = %q", s.Cautions)
	}
	if containsAny(s.Notes, "recommends") {
		t.Errorf("the recommendation belongs in cautions, not notes: %q", s.Notes)
	}
	for _, above := range []string{"credential:CPC", "education:certificate_coding"} {
		parts := strings.SplitN(above, ":", 2)
		if i := stepIndex(p.NextSteps, parts[0], parts[1]); i < 0 || i > ccs {
			t.Errorf("%s at %d must rank above the cautioned CCS at %d", above, i+1, ccs+1)
		}
	}
	// With the recommended background (RHIT) there is no caution and CCS leads.
	p = recommendOn(t, cat, goldenSeekers()[5].state, goldenToday)
	if p.NextSteps[0].Code != "CCS" || len(p.NextSteps[0].Cautions) != 0 {
		t.Errorf("RHIT with coding: first step %s:%s cautions %q, want CCS without caution", p.NextSteps[0].Kind, p.NextSteps[0].Code, p.NextSteps[0].Cautions)
	}
}

func TestRenewalComesFirst(t *testing.T) {
	cat := mustCatalog(t)
	byName := map[string]golden{}
	for _, g := range goldenSeekers() {
		byName[g.name] = g
	}
	lapsed := recommendOn(t, cat, byName["Lapsed RHIT"].state, goldenToday)
	first := lapsed.NextSteps[0]
	if first.Kind != KindRenewal || first.Title != "Reinstate RHIT (AHIMA)" || !strings.Contains(first.Why, "counts for no eligibility") {
		t.Errorf("lapsed: first step %+v, want reinstate RHIT", first)
	}
	if stepIndex(lapsed.NextSteps, KindCredential, "RHIT") >= 0 {
		t.Error("a lapsed RHIT must not be offered as an exam")
	}
	if ccs := lapsed.NextSteps[stepIndex(lapsed.NextSteps, KindCredential, "CCS")]; len(ccs.Cautions) == 0 {
		t.Error("a lapsed RHIT no longer counts as CCS background: CCS needs its caution")
	}
	grace := recommendOn(t, cat, byName["RHIT in its grace period"].state, goldenToday)
	if s := grace.NextSteps[0]; s.Kind != KindRenewal || !strings.HasPrefix(s.Title, "Log 12 more CEUs by 2027-02-27") {
		t.Errorf("in grace: first step %q, want to log 12 CEUs by the end of grace", s.Title)
	}
	renewing := recommendOn(t, cat, byName["RHIT + CCS renewing"].state, goldenToday)
	if s := renewing.NextSteps[0]; s.Kind != KindRenewal || !strings.HasPrefix(s.Title, "Log 18 more CEUs by 2027-03-09") {
		t.Errorf("cycle ending soon: first step %q", s.Title)
	}
	// A cycle far from its end is not a step.
	far := recommendOn(t, cat, byName["RHIT with 3 years coding"].state, goldenToday)
	if far.NextSteps[0].Kind == KindRenewal {
		t.Errorf("a cycle ending 2027-09-14 must not come first: %q", far.NextSteps[0].Title)
	}
}

func TestRecurringTrainings(t *testing.T) {
	cat := mustCatalog(t)
	p := recommendOn(t, cat, State{Education: []Education{highSchool()}, Credentials: []HeldCredential{{Code: "CCS", EarnedOn: "2026-01-10"}},
		Experience: []Experience{exp(AreaCoding, 30)}}, goldenToday)
	i := stepIndex(p.NextSteps, KindTraining, "code_set_updates_ce")
	if i < 0 {
		t.Fatalf("a CCS holder gets no code-set continuing education: %v", stepCodes(p.NextSteps))
	}
	r := p.NextSteps[i].Recurrence
	want := []DueDate{
		{On: "2027-01-01", What: "CPT annual update", Confidence: Secondary},
		{On: "2027-04-01", What: "ICD-10-CM/PCS mid-year update", Confidence: Confirmed},
		{On: "2027-10-01", What: "ICD-10-CM/PCS annual update", Confidence: Confirmed},
	}
	if r == nil || !slices.Equal(r.Next, want) || r.Source == "" {
		t.Errorf("recurrence = %+v, want next dates %v with a source", r, want)
	}
	h := p.NextSteps[stepIndex(p.NextSteps, KindTraining, "privacy_security_awareness")]
	if h.Recurrence == nil || h.Recurrence.Text != "commonly yearly; not a credential requirement" || h.Recurrence.Confidence != Unknown {
		t.Errorf("HIPAA awareness recurrence = %+v", h.Recurrence)
	}
	if stepIndex(p.NextSteps, KindTraining, "on_the_job_training") >= 0 {
		t.Error("on-the-job training is for new hires, not someone with 30 months of coding")
	}

	// Reminders never drown the credential steps: for a newcomer they come last.
	p = recommendOn(t, cat, State{Education: []Education{highSchool()}}, goldenToday)
	n := len(p.NextSteps)
	last := []string{stepCodes(p.NextSteps)[n-2], stepCodes(p.NextSteps)[n-1]}
	slices.Sort(last)
	if !slices.Equal(last, []string{"training:on_the_job_training", "training:privacy_security_awareness"}) {
		t.Errorf("last steps = %v, want the two reminders", last)
	}
	if stepIndex(p.NextSteps, KindTraining, "code_set_updates_ce") >= 0 {
		t.Error("code-set CE is for holders of a coding credential")
	}
}

func TestCodingCertificateIsTheRecommendedTraining(t *testing.T) {
	cat := mustCatalog(t)
	p := recommendOn(t, cat, State{Education: []Education{highSchool(), edu(LevelCertificate, FieldCoding, false, StatusCompleted)}}, goldenToday)
	if s := p.NextSteps[0]; s.Code != "CCA" || len(s.Cautions) != 0 {
		t.Errorf("first step %s with cautions %q, want CCA without caution", s.Code, s.Cautions)
	}
	for _, not := range []string{"training:ahima_approved_coding_program", "training:aapc_80_hour_course", "experience:records"} {
		if slices.Contains(stepCodes(p.NextSteps), not) {
			t.Errorf("%s offered to a coding-certificate holder: %v", not, stepCodes(p.NextSteps))
		}
	}
	if _, ok := p.Caveats["CCA"]; ok {
		t.Errorf("CCA caveats = %q, want none: the certificate is the recommended training", p.Caveats["CCA"])
	}
}

func TestFinishingADegree(t *testing.T) {
	cat := mustCatalog(t)
	final := recommendOn(t, cat, State{Education: []Education{highSchool(), edu(LevelAssociate, FieldHIM, true, StatusFinalTerm)}}, goldenToday)
	i := stepIndex(final.NextSteps, KindEducation, "associate_him_cahiim")
	if i < 0 {
		t.Fatalf("no finish step: %v", stepCodes(final.NextSteps))
	}
	s := final.NextSteps[i]
	if !strings.HasPrefix(s.Title, "Finish your") || s.MonthsMin == nil || s.MonthsMax == nil || *s.MonthsMin != 4 || *s.MonthsMax != 6 ||
		!containsAny(s.Notes, "final term: time left is an estimate of 4-6 months") {
		t.Errorf("final-term finish step = %q %v-%v %q, want 4-6 months, an estimate", s.Title, s.MonthsMin, s.MonthsMax, s.Notes)
	}
	started := recommendOn(t, cat, State{Education: []Education{highSchool(), edu(LevelAssociate, FieldHIM, true, StatusInProgress)}}, goldenToday)
	s = started.NextSteps[stepIndex(started.NextSteps, KindEducation, "associate_him_cahiim")]
	if s.MonthsMax != nil || !containsAny(s.Notes, "time left unknown") {
		t.Errorf("in-progress finish step = %v months, notes %q; want unknown time left", s.MonthsMax, s.Notes)
	}
}

func TestNoStepBelowWhatIsHeld(t *testing.T) {
	cat := mustCatalog(t)
	rhia := State{Education: []Education{highSchool(), edu(LevelBachelor, FieldHIM, true, StatusCompleted)},
		Credentials: []HeldCredential{{Code: "RHIA", EarnedOn: "2026-01-15"}}}
	// Even without the degree on file, the RHIA alone must not make an
	// associate degree a step toward RHIT.
	bare := State{Education: []Education{highSchool()}, Credentials: []HeldCredential{{Code: "RHIA", EarnedOn: "2026-01-15"}}}
	for k, st := range []State{rhia, bare} {
		p := recommendOn(t, cat, st, goldenToday)
		for _, s := range p.NextSteps {
			// With only a diploma on file an associate degree still opens
			// the VA role, but never as a way to RHIT; with the bachelor's
			// on file it is a lower degree and no step at all.
			if s.Code == "RHIT" || slices.Contains(s.Unlocks, "RHIT") || k == 0 && s.Code == "associate_him_cahiim" {
				t.Errorf("RHIA holder offered %s:%s (unlocks %v)", s.Kind, s.Code, s.Unlocks)
			}
		}
		if slices.Contains(p.EligibleNow, "RHIT") || !containsAny(p.Blocked["RHIT"], "which replaces it") {
			t.Errorf("RHIT: eligible %v, blocked %q; want it not needed", p.EligibleNow, p.Blocked["RHIT"])
		}
	}
	ccs := recommendOn(t, cat, goldenSeekers()[9].state, goldenToday)
	if stepIndex(ccs.NextSteps, KindCredential, "CCA") >= 0 {
		t.Error("a CCS holder must not be offered CCA")
	}
	if stepIndex(ccs.NextSteps, KindCredential, "CPC") < 0 {
		t.Error("another body's credential (CPC) stays open to a CCS holder")
	}
}

func TestAlikeCredentialsFoldIntoOneStep(t *testing.T) {
	cat := mustCatalog(t)
	p := recommendOn(t, cat, State{Education: []Education{highSchool()}}, goldenToday)
	s := p.NextSteps[stepIndex(p.NextSteps, KindCredential, "CPC")]
	if !slices.Equal(s.Alternatives, []string{"COC", "CIC", "CRC", "CPB"}) || !strings.HasSuffix(s.Title, "(or COC, CIC, CRC or CPB)") {
		t.Errorf("CPC step alternatives %v, title %q", s.Alternatives, s.Title)
	}
	for _, code := range s.Alternatives {
		if stepIndex(p.NextSteps, KindCredential, code) >= 0 {
			t.Errorf("%s is folded into CPC and must not be a step of its own", code)
		}
	}
	// CIC opens the Coder III role for an RHIT: it stands alone.
	p = recommendOn(t, cat, goldenSeekers()[5].state, goldenToday)
	if stepIndex(p.NextSteps, KindCredential, "CIC") < 0 {
		t.Errorf("CIC must stand alone where it opens a role: %v", stepCodes(p.NextSteps))
	}
}

// A rung the seeker could step over is still a step when it is their target.
func TestPastRungStaysWhenTargeted(t *testing.T) {
	cat := mustCatalog(t)
	st := goldenSeekers()[5].state // RHIT with 3 years of coding: CCA is a rung below CCS
	st.Target = "CCA"
	p := recommendOn(t, cat, st, goldenToday)
	if i := stepIndex(p.NextSteps, KindCredential, "CCA"); i != 0 {
		t.Errorf("targeted CCA at %d, want first: %v", i+1, stepCodes(p.NextSteps))
	}
}
