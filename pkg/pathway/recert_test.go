package pathway

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestApprenticeRemoval(t *testing.T) {
	cat := mustCatalog(t)
	tests := []struct {
		name      string
		code      string
		coding    int
		trainings []string
		credited  int
		ready     bool
	}{
		{name: "new apprentice", code: "CPC", credited: 0},
		{name: "24 months of coding removes -A", code: "CPC", coding: 24, credited: 24, ready: true},
		{name: "experience beyond 24 is capped", code: "CPC", coding: 40, credited: 24, ready: true},
		{name: "23 months is not enough", code: "CPC", coding: 23, credited: 23},
		{name: "both trainings replace the 24 months", code: "CPC", trainings: []string{"aapc_80_hour_course", "practicode"}, credited: 24, ready: true},
		{name: "the 80-hour course alone is not enough", code: "CPC", trainings: []string{"aapc_80_hour_course"}, credited: 12},
		{name: "Practicode alone is not enough", code: "CPC", trainings: []string{"practicode"}, credited: 12},
		{name: "one training and 12 months", code: "CPC", coding: 12, trainings: []string{"practicode"}, credited: 24, ready: true},
		{name: "COC-A follows the same model", code: "COC", coding: 6, trainings: []string{"aapc_80_hour_course"}, credited: 18},
	}
	withCert := []Education{highSchool(), edu(LevelCertificate, FieldCoding, false, StatusCompleted)}
	certCases := []struct {
		name      string
		edu       []Education
		trainings []string
		coding    int
		credited  int
	}{
		{name: "a completed coding certificate is the equivalent course: 12 months", edu: withCert, credited: 12},
		{name: "certificate and the 80-hour course count once", edu: withCert, trainings: []string{"aapc_80_hour_course"}, credited: 12},
		{name: "certificate, Practicode and nothing else remove -A", edu: withCert, trainings: []string{"practicode"}, credited: 24},
		{name: "certificate and 12 months of coding remove -A", edu: withCert, coding: 12, credited: 24},
		{name: "a certificate still in progress does not count", edu: []Education{highSchool(), edu(LevelCertificate, FieldCoding, false, StatusInProgress)}},
		{name: "a certificate in another field does not count", edu: []Education{highSchool(), edu(LevelCertificate, FieldOther, false, StatusCompleted)}},
	}
	for _, tt := range certCases {
		t.Run(tt.name, func(t *testing.T) {
			p := recommend(t, cat, State{
				Education:   tt.edu,
				Credentials: []HeldCredential{{Code: "CPC", EarnedOn: "2025-01-15", Apprentice: true}},
				Experience:  []Experience{exp(AreaCoding, tt.coding)},
				Trainings:   tt.trainings,
			})
			if a := p.Apprentice[0]; a.MonthsCredited != tt.credited || a.ReadyToRemove != (tt.credited >= 24) {
				t.Errorf("credited %d ready %v, want %d; credited %q", a.MonthsCredited, a.ReadyToRemove, tt.credited, a.Credited)
			}
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := State{
				Credentials: []HeldCredential{{Code: tt.code, EarnedOn: "2025-01-15", Apprentice: true}},
				Experience:  []Experience{exp(AreaCoding, tt.coding)},
				Trainings:   tt.trainings,
			}
			p := recommend(t, cat, st)
			if len(p.Apprentice) != 1 {
				t.Fatalf("apprentice = %+v, want one status", p.Apprentice)
			}
			a := p.Apprentice[0]
			if a.Status != tt.code+"-A" || a.MonthsRequired != 24 {
				t.Errorf("status %q requiring %d, want %s-A requiring 24", a.Status, a.MonthsRequired, tt.code)
			}
			if a.MonthsCredited != tt.credited || a.MonthsRemaining != 24-tt.credited || a.ReadyToRemove != tt.ready {
				t.Errorf("credited %d remaining %d ready %v, want %d %d %v", a.MonthsCredited, a.MonthsRemaining, a.ReadyToRemove, tt.credited, 24-tt.credited, tt.ready)
			}
			if !tt.ready && !containsAny(a.Ways, "more months in coding") {
				t.Errorf("ways %q must say how many months of coding are left", a.Ways)
			}
			if tt.ready && !containsAny(a.Ways, "remove -A") {
				t.Errorf("ways %q must say the -A can be removed", a.Ways)
			}
		})
	}
}

func TestApprenticeNextSteps(t *testing.T) {
	cat := mustCatalog(t)
	p := recommend(t, cat, State{
		Credentials: []HeldCredential{{Code: "CPC", Apprentice: true}},
		Experience:  []Experience{exp(AreaCoding, 6)},
		Trainings:   []string{"practicode"},
	})
	s, ok := findStep(p.NextSteps, KindExperience, AreaCoding)
	if !ok || *s.MonthsMin != 6 || !strings.Contains(s.Why, "removes -A from CPC-A") {
		t.Errorf("want a 6-month coding step removing -A, got %+v (found %v)", s, ok)
	}
	tr, ok := findStep(p.NextSteps, KindTraining, "aapc_80_hour_course")
	if !ok || !strings.Contains(tr.Why, "12 months toward removing -A") {
		t.Errorf("want the 80-hour course credited toward -A, got %+v", tr)
	}
	if _, ok := findStep(p.NextSteps, KindTraining, "practicode"); ok {
		t.Error("a completed training must not be proposed again")
	}
}

func TestCEURequirements(t *testing.T) {
	cat := mustCatalog(t)
	tests := []struct {
		held       []string
		issuer     string
		ceus       int
		maintained []string // nil: all held
		superseded []string
		fee        float64 // non-member renewal fee; 0 when the issuer gives none
	}{
		{held: []string{"RHIT"}, issuer: "AHIMA", ceus: 20, fee: 218},
		{held: []string{"RHIA"}, issuer: "AHIMA", ceus: 30, fee: 218},
		{held: []string{"RHIT", "RHIA"}, issuer: "AHIMA", ceus: 30, maintained: []string{"RHIA"}, superseded: []string{"RHIT"}, fee: 218},
		{held: []string{"CCA"}, issuer: "AHIMA", ceus: 20, fee: 218},
		{held: []string{"CCS", "CCS-P"}, issuer: "AHIMA", ceus: 30, fee: 268},
		{held: []string{"RHIA", "CCS", "CCS-P"}, issuer: "AHIMA", ceus: 50, fee: 318},
		{held: []string{"CHPS", "RHIT"}, issuer: "AHIMA", ceus: 40, fee: 268},
		{held: []string{"CHDA"}, issuer: "AHIMA", ceus: 30, fee: 218},
		{held: []string{"RHIT", "RHIA", "CHPS"}, issuer: "AHIMA", ceus: 40, maintained: []string{"CHPS", "RHIA"}, superseded: []string{"RHIT"}, fee: 268},
		{held: []string{"RHIT", "RHIA", "CCS", "CHPS", "CDIP"}, issuer: "AHIMA", ceus: 50, maintained: []string{"CCS", "CDIP", "CHPS", "RHIA"}, superseded: []string{"RHIT"}, fee: 368}, // capped
		{held: []string{"CPC"}, issuer: "AAPC", ceus: 36},
		{held: []string{"CPC", "COC"}, issuer: "AAPC", ceus: 40},
		{held: []string{"CPC", "COC", "CIC"}, issuer: "AAPC", ceus: 44},
		{held: []string{"CPC", "COC", "CIC", "CRC"}, issuer: "AAPC", ceus: 48},
		{held: []string{"CPC", "COC", "CIC", "CRC", "CPB"}, issuer: "AAPC", ceus: 52},
		{held: []string{"CEHRS"}, issuer: "NHA", ceus: 10},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.held, "+"), func(t *testing.T) {
			var hc []HeldCredential
			for _, c := range tt.held {
				h := HeldCredential{Code: c, EarnedOn: "2024-09-01"}
				if tt.issuer == "AAPC" {
					h.MembershipRenewal = "2026-03-31"
				}
				hc = append(hc, h)
			}
			p := recommend(t, cat, State{Credentials: hc})
			i := slices.IndexFunc(p.Recertification, func(r Recert) bool { return r.Issuer == tt.issuer })
			if i < 0 {
				t.Fatalf("no %s recertification in %+v", tt.issuer, p.Recertification)
			}
			r := p.Recertification[i]
			if r.CEUsRequired == nil || *r.CEUsRequired != tt.ceus {
				t.Errorf("ceus_required = %v, want %d", r.CEUsRequired, tt.ceus)
			}
			want := tt.maintained
			if want == nil {
				want = slices.Clone(tt.held)
				slices.Sort(want)
			}
			if !slices.Equal(r.Credentials, want) || !slices.Equal(r.Superseded, tt.superseded) {
				t.Errorf("maintained %v superseded %v, want %v %v", r.Credentials, r.Superseded, want, tt.superseded)
			}
			if len(tt.superseded) > 0 && !containsAny(r.Notes, "RHIT is superseded by RHIA") {
				t.Errorf("notes %q must say RHIT is superseded by RHIA", r.Notes)
			}
			switch {
			case tt.fee == 0 && r.FeeUSD != nil:
				t.Errorf("fee = %v, want unknown", *r.FeeUSD)
			case tt.fee != 0 && (r.FeeUSD == nil || *r.FeeUSD != tt.fee):
				t.Errorf("fee = %v, want %g", r.FeeUSD, tt.fee)
			}
			if tt.issuer == "AHIMA" && (r.FeeMemberUSD != nil || !containsAny(r.Notes, "members pay less (amount not in our sources)")) {
				t.Errorf("AHIMA member fee must be unknown and said so: %v %q", r.FeeMemberUSD, r.Notes)
			}
			if containsAny(r.Notes, "self-review") && !containsAny(r.Notes, "discontinued") {
				t.Errorf("notes ask for self-reviews: %q", r.Notes)
			}
			if r.Status != RecertActive {
				t.Errorf("status = %q, want active", r.Status)
			}
		})
	}
	// Six AAPC credentials would still be 52 ("5+"): the catalog has five,
	// so check the table directly.
	is := cat.Issuer("AAPC")
	group := []int{0, 1, 2, 3, 4, 5}
	if got := requiredCEUs(cat, is, group); got == nil || *got != 52 {
		t.Errorf("6 AAPC credentials need %v CEUs, want 52", got)
	}
}

func TestRecertCycleBoundaries(t *testing.T) {
	cat := mustCatalog(t)
	rhit := func(ceus ...CEU) State {
		return State{Credentials: []HeldCredential{{Code: "RHIT", EarnedOn: "2023-03-15"}}, CEUs: ceus}
	}
	ceu := func(hours float64, on string) CEU { return CEU{Code: "RHIT", Hours: hours, On: on} }
	tests := []struct {
		name       string
		st         State
		today      string
		status     string
		start, end string
		grace      string
		daysLeft   int
		logged     float64
	}{
		{name: "first day", st: rhit(), today: "2023-03-15", status: RecertActive, start: "2023-03-15", end: "2025-03-14", daysLeft: 730},
		{name: "last day of the cycle", st: rhit(), today: "2025-03-14", status: RecertActive, start: "2023-03-15", end: "2025-03-14", daysLeft: 0},
		{name: "day after, short of CEUs: grace", st: rhit(ceu(19.5, "2024-01-01")), today: "2025-03-15", status: RecertInGrace,
			start: "2023-03-15", end: "2025-03-14", grace: "2025-09-10", daysLeft: 179, logged: 19.5},
		{name: "last day of grace", st: rhit(), today: "2025-09-10", status: RecertInGrace, end: "2025-03-14", grace: "2025-09-10", daysLeft: 0},
		{name: "day after grace: lapsed", st: rhit(), today: "2025-09-11", status: RecertLapsed, end: "2025-03-14", grace: "2025-09-10"},
		{name: "met cycle rolls forward", st: rhit(ceu(10, "2023-03-15"), ceu(10, "2025-03-14")), today: "2025-03-15", status: RecertActive,
			start: "2025-03-15", end: "2027-03-14", daysLeft: 729},
		{name: "CEUs logged in grace complete the cycle, and count for it only", st: rhit(ceu(10, "2024-01-01"), ceu(10, "2025-03-20")), today: "2025-04-01",
			status: RecertActive, start: "2025-03-15", end: "2027-03-14", daysLeft: 712, logged: 0},
		{name: "in grace, CEUs logged so far in grace count", st: rhit(ceu(10, "2024-01-01"), ceu(4, "2025-03-20")), today: "2025-04-01",
			status: RecertInGrace, end: "2025-03-14", grace: "2025-09-10", daysLeft: 162, logged: 14},
		{name: "current cycle counts its own CEUs", st: rhit(ceu(20, "2024-01-01"), ceu(7, "2025-05-01")), today: "2025-06-01",
			status: RecertActive, start: "2025-03-15", end: "2027-03-14", logged: 7, daysLeft: 651},
		{name: "rolls over several met cycles", st: rhit(ceu(20, "2024-01-01"), ceu(20, "2026-01-01"), ceu(20, "2028-01-01")), today: "2029-03-15",
			status: RecertActive, start: "2029-03-15", end: "2031-03-14", daysLeft: 729},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := recommendOn(t, cat, tt.st, tt.today)
			if len(p.Recertification) != 1 {
				t.Fatalf("recertification = %+v", p.Recertification)
			}
			r := p.Recertification[0]
			if r.Status != tt.status || r.CycleEnd != tt.end || r.GraceEnds != tt.grace || r.DaysLeft != tt.daysLeft {
				t.Errorf("got status %s end %s grace %q days %d, want %s %s %q %d", r.Status, r.CycleEnd, r.GraceEnds, r.DaysLeft, tt.status, tt.end, tt.grace, tt.daysLeft)
			}
			if tt.start != "" && r.CycleStart != tt.start {
				t.Errorf("cycle_start = %s, want %s", r.CycleStart, tt.start)
			}
			if r.CEUsLogged != tt.logged {
				t.Errorf("ceus_logged = %g, want %g", r.CEUsLogged, tt.logged)
			}
			if tt.status == RecertInGrace {
				want := fmt.Sprintf("log %g more CEUs by %s", 20-tt.logged, tt.grace)
				if tt.logged == 0 { // no CEU says its provider is unknown: AHIMA's 40% is shown
					want += ", at least 8 of them from AHIMA"
				}
				if r.Action != want || r.IssuerStatus != "inactive" || !containsAny(r.Notes, "AHIMA lists the credential as inactive") {
					t.Errorf("in grace: action %q status %q notes %q, want %q and AHIMA's inactive status", r.Action, r.IssuerStatus, r.Notes, want)
				}
			}
			if tt.status == RecertLapsed && (r.IssuerStatus != "revoked" || !strings.HasPrefix(r.Action, "reinstate")) {
				t.Errorf("lapsed: issuer status %q action %q, want revoked and reinstate", r.IssuerStatus, r.Action)
			}
		})
	}
}

func TestRecertEdgeCases(t *testing.T) {
	cat := mustCatalog(t)

	// No coding self-review since 2021: CCA, CCS and CCS-P holders with
	// their CEUs are current, whatever the self_review flag says.
	for _, code := range []string{"CCA", "CCS", "CCS-P"} {
		p := recommendOn(t, cat, State{
			Credentials: []HeldCredential{{Code: code, EarnedOn: "2023-03-15"}},
			CEUs:        []CEU{{Code: code, Hours: 15, On: "2023-05-01"}, {Code: code, Hours: 5, On: "2024-05-01"}},
		}, "2025-04-01")
		if r := p.Recertification[0]; r.Status != RecertActive || r.CycleStart != "2025-03-15" || r.Action != "log 20 more CEUs by 2027-03-14, at least 8 of them from AHIMA" {
			t.Errorf("%s with 20 CEUs and no self-review: got %+v", code, r)
		}
	}

	// AAPC without a membership renewal date: the due date is unknown and
	// the answer says what it depends on.
	p := recommendOn(t, cat, State{Credentials: []HeldCredential{{Code: "CPC", EarnedOn: "2023-03-15"}}}, "2025-03-15")
	if r := p.Recertification[0]; r.Status != RecertUnknown || r.CycleEnd != "" || !containsAny(r.Notes, "membership renewal date") {
		t.Errorf("AAPC without a renewal date: got %+v", r)
	}

	// A leap-day exam: the anniversary clamps to 28 February.
	p = recommendOn(t, cat, State{Credentials: []HeldCredential{{Code: "RHIT", EarnedOn: "2024-02-29"}}}, "2025-01-01")
	if r := p.Recertification[0]; r.CycleEnd != "2026-02-27" {
		t.Errorf("leap-day cycle end = %s, want 2026-02-27", r.CycleEnd)
	}

	// Without an exam date nothing can be computed.
	p = recommend(t, cat, State{Credentials: held("RHIT")})
	if r := p.Recertification[0]; r.Status != RecertUnknown || !containsAny(r.Notes, "add earned_on") {
		t.Errorf("undated credential: got %+v", r)
	}

	// A credential earned after a cycle ended does not raise that cycle's
	// requirement: CCS alone needed 20 in 2022-2024 (self_review flags of
	// old records are ignored).
	p = recommendOn(t, cat, State{
		Credentials: []HeldCredential{{Code: "CCS", EarnedOn: "2022-01-10"}, {Code: "RHIA", EarnedOn: "2024-02-29"}},
		CEUs: []CEU{{Code: "CCS", Hours: 10, On: "2022-06-01"}, {Code: "CCS", Hours: 5, SelfReview: true, On: "2022-07-01"},
			{Code: "CCS", Hours: 5, SelfReview: true, On: "2023-07-01"}},
	}, "2024-03-01")
	if r := p.Recertification[0]; r.Status != RecertActive || r.CycleStart != "2024-01-10" || r.CEUsRequired == nil || *r.CEUsRequired != 40 {
		t.Errorf("got %+v (required %v), want active in the 2024 cycle needing 40", r, r.CEUsRequired)
	}

	// Unknown requirements (CTR) give status unknown, not a guess.
	p = recommend(t, cat, State{Credentials: []HeldCredential{{Code: "CTR", EarnedOn: "2024-01-01"}}})
	if r := p.Recertification[0]; r.Status != RecertUnknown || r.CEUsRequired != nil {
		t.Errorf("CTR renewal: got %+v", r)
	}
}

// AHIMA since 2025: at least 40% of a cycle's CEUs from AHIMA, checked
// when every CEU says its provider, shown as a rule otherwise.
func TestRecertAHIMAShare(t *testing.T) {
	cat := mustCatalog(t)
	rhit := func(ceus ...CEU) State {
		return State{Credentials: []HeldCredential{{Code: "RHIT", EarnedOn: "2023-09-01"}}, CEUs: ceus}
	}
	c := func(h float64, provider, on string) CEU {
		return CEU{Code: "RHIT", Hours: h, Provider: provider, On: on}
	}
	tests := []struct {
		name     string
		st       State
		today    string
		status   string
		fromReq  int
		action   string
		noteFrag string
	}{
		{name: "no CEUs yet: the rule as a number", st: rhit(), today: "2025-06-01", status: RecertActive, fromReq: 8,
			action: "log 20 more CEUs by 2025-08-31, at least 8 of them from AHIMA", noteFrag: "at least 8 of your 20 CEUs must come from AHIMA"},
		{name: "providers unknown: not checked, said so", st: rhit(c(20, "", "2024-05-01")), today: "2025-06-01", status: RecertActive, fromReq: 8,
			noteFrag: "20 of your logged CEUs do not say their provider"},
		{name: "20 CEUs, none from AHIMA, during the cycle", st: rhit(c(20, ProviderOther, "2024-05-01")), today: "2025-06-01", status: RecertActive, fromReq: 8,
			action: "log 8 more CEUs from AHIMA by 2025-08-31", noteFrag: "0 logged from AHIMA so far"},
		{name: "10 others only", st: rhit(c(10, ProviderOther, "2024-05-01")), today: "2025-06-01", status: RecertActive, fromReq: 8,
			action: "log 10 more CEUs by 2025-08-31, at least 8 of them from AHIMA"},
		{name: "20 CEUs, none from AHIMA: the cycle is not met", st: rhit(c(20, ProviderOther, "2024-05-01")), today: "2025-09-01", status: RecertInGrace, fromReq: 8,
			action: "log 8 more CEUs from AHIMA by 2026-02-27", noteFrag: "0 logged from AHIMA so far"},
		{name: "8 from AHIMA and 12 others: met", st: rhit(c(8, "AHIMA", "2024-05-01"), c(12, ProviderOther, "2024-06-01")), today: "2025-06-01", status: RecertActive, fromReq: 8},
		{name: "providers in any case", st: rhit(c(8, "ahima", "2024-05-01"), c(12, " Other ", "2024-06-01")), today: "2025-06-01", status: RecertActive, fromReq: 8},
		{name: "8 from AHIMA and 12 others: the next cycle starts", st: rhit(c(8, "AHIMA", "2024-05-01"), c(12, ProviderOther, "2024-06-01")), today: "2025-09-01", status: RecertActive, fromReq: 8,
			action: "log 20 more CEUs by 2027-08-31, at least 8 of them from AHIMA"},
		{name: "an AHIMA course in grace completes the share", st: rhit(c(20, ProviderOther, "2024-05-01"), c(8, "AHIMA", "2025-10-01")), today: "2025-10-02", status: RecertActive, fromReq: 8,
			action: "log 20 more CEUs by 2027-08-31, at least 8 of them from AHIMA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := recommendOn(t, cat, tt.st, tt.today).Recertification[0]
			if r.Status != tt.status || r.FromIssuerRequired == nil || *r.FromIssuerRequired != tt.fromReq || r.Action != tt.action {
				t.Errorf("status %s from_issuer_required %v action %q, want %s %d %q (%+v)", r.Status, r.FromIssuerRequired, r.Action, tt.status, tt.fromReq, tt.action, r)
			}
			if tt.noteFrag != "" && !containsAny(r.Notes, tt.noteFrag) {
				t.Errorf("notes %q lack %q", r.Notes, tt.noteFrag)
			}
		})
	}
	// A cycle that ended before 2025 has no share.
	r := recommendOn(t, cat, State{Credentials: []HeldCredential{{Code: "RHIT", EarnedOn: "2022-09-01"}}}, "2024-01-01").Recertification[0]
	if r.FromIssuerRequired != nil {
		t.Errorf("a cycle ending 2024-08-31 has no AHIMA share, got %v", *r.FromIssuerRequired)
	}
}

// AAPC CEUs fall due on the membership renewal date; a credential is
// revoked 90 days after a missed renewal.
func TestRecertAAPCMembership(t *testing.T) {
	cat := mustCatalog(t)
	cpc := func(earned, renewal string, ceus ...CEU) State {
		return State{Credentials: []HeldCredential{{Code: "CPC", EarnedOn: earned, MembershipRenewal: renewal}}, CEUs: ceus}
	}
	tests := []struct {
		name           string
		st             State
		today          string
		status, issuer string
		start, end     string
		grace          string
		prorated       bool
		action         string
		note           string
	}{
		{name: "CEUs due on the renewal date in a CEU year", st: cpc("2020-02-10", "2027-05-31"), today: "2026-12-02",
			status: RecertActive, start: "2025-06-01", end: "2027-05-31", action: "log 36 more CEUs by 2027-05-31"},
		{name: "renewal in a year without CEUs: due a year later", st: cpc("2020-02-10", "2027-04-30", CEU{Code: "CPC", Hours: 30, On: "2026-06-01"}), today: "2026-12-02",
			status: RecertActive, start: "2026-05-01", end: "2028-04-30", action: "log 6 more CEUs by 2028-04-30", note: "membership dues are yearly"},
		{name: "a new certificant's first submission is pro-rated", st: cpc("2026-09-01", "2027-09-30"), today: "2026-12-02",
			status: RecertActive, start: "2026-09-01", end: "2027-09-30", prorated: true, note: "pro-rates"},
		{name: "renewal missed less than 90 days ago", st: cpc("2020-02-10", "2026-11-30"), today: "2026-12-02",
			status: RecertInGrace, end: "2027-11-30", grace: "2027-02-28", action: "renew your AAPC membership by 2027-02-28 (AAPC: credentials are revoked 90 days after a missed renewal)"},
		{name: "renewal missed in a CEU year: CEUs too", st: cpc("2020-02-10", "2026-10-31", CEU{Code: "CPC", Hours: 30, On: "2025-01-01"}), today: "2026-12-02",
			status: RecertInGrace, start: "2024-11-01", end: "2026-10-31", grace: "2027-01-29",
			action: "renew your AAPC membership by 2027-01-29 and log 6 more CEUs (AAPC: credentials are revoked 90 days after a missed renewal)"},
		{name: "renewal missed over 90 days ago: revoked", st: cpc("2020-02-10", "2026-08-31"), today: "2026-12-02",
			status: RecertLapsed, issuer: "revoked", grace: "2026-11-29"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := recommendOn(t, cat, tt.st, tt.today).Recertification[0]
			if r.Status != tt.status || r.IssuerStatus != tt.issuer || r.GraceEnds != tt.grace || r.Prorated != tt.prorated {
				t.Errorf("status %s/%s grace %q prorated %v, want %s/%s %q %v (%+v)", r.Status, r.IssuerStatus, r.GraceEnds, r.Prorated, tt.status, tt.issuer, tt.grace, tt.prorated, r)
			}
			if (tt.start != "" && r.CycleStart != tt.start) || (tt.end != "" && r.CycleEnd != tt.end) {
				t.Errorf("cycle %s to %s, want %s to %s", r.CycleStart, r.CycleEnd, tt.start, tt.end)
			}
			if tt.action != "" && r.Action != tt.action {
				t.Errorf("action %q, want %q", r.Action, tt.action)
			}
			if tt.note != "" && !containsAny(r.Notes, tt.note) {
				t.Errorf("notes %q lack %q", r.Notes, tt.note)
			}
			if r.CEUsRequired == nil || *r.CEUsRequired != 36 || r.FeeUSD != nil {
				t.Errorf("ceus %v fee %v, want 36 and no fee (AAPC's is membership)", r.CEUsRequired, r.FeeUSD)
			}
		})
	}
}

// A lapsed credential counts for nothing; one in grace still counts; the
// plan says what to do, most urgent first.
func TestLapsedCredentialsCountForNothing(t *testing.T) {
	cat := mustCatalog(t)
	hs := []Education{highSchool(), edu(LevelAssociate, FieldHIM, true, StatusCompleted)}
	ps := []Experience{exp(AreaPrivacySecurity, 48)}
	lapsedRHIT := State{Education: []Education{highSchool()}, Experience: ps, Credentials: []HeldCredential{{Code: "RHIT", EarnedOn: "2020-01-10"}}}
	p := recommendOn(t, cat, lapsedRHIT, "2025-06-01")
	if slices.Contains(p.EligibleNow, "CHPS") {
		t.Error("lapsed RHIT + 48 months privacy_security must not make CHPS eligible")
	}
	if !containsAny(p.Blocked["CHPS"], "yours has lapsed: reinstate it first") {
		t.Errorf("blocked CHPS %q must say the RHIT has lapsed", p.Blocked["CHPS"])
	}
	if slices.Contains(p.EligibleNow, "RHIT") || !slices.Contains(p.Held, "RHIT") {
		t.Errorf("a lapsed RHIT stays held and is not offered again: held %v eligible %v", p.Held, p.EligibleNow)
	}
	over := p.Overdue()
	if len(over) != 1 || over[0].Status != RecertLapsed || over[0].IssuerStatus != "revoked" ||
		!strings.HasPrefix(over[0].Action, "reinstate: the credential is revoked; what reinstatement takes is not in our sources — ask AHIMA") {
		t.Errorf("overdue = %+v, want the lapsed RHIT with a reinstate action", over)
	}
	// CCS recommends RHIT as background: a lapsed one does not count.
	p = recommendOn(t, cat, State{Education: hs, Credentials: []HeldCredential{{Code: "RHIT", EarnedOn: "2020-01-10"}}}, "2025-06-01")
	if !containsAny(p.Caveats["CCS"], "recommends (does not require)") {
		t.Errorf("CCS caveats %q: a lapsed RHIT is not the recommended background", p.Caveats["CCS"])
	}
	// The Coder III role needs RHIT and CCS or CIC: not with a lapsed RHIT.
	st := State{Education: hs, Credentials: []HeldCredential{{Code: "RHIT", EarnedOn: "2020-01-10"}, {Code: "CIC", EarnedOn: "2024-01-10", MembershipRenewal: "2026-01-31"}}}
	if p = recommendOn(t, cat, st, "2025-06-01"); slices.Contains(p.RolesNow, "hospital_coder_iii") {
		t.Error("a role asking for RHIT must not count a lapsed RHIT")
	}
	// In AHIMA's 180 inactive days the credential still counts, and the
	// action is to log the missing CEUs.
	inGrace := State{Education: []Education{highSchool()}, Experience: ps, Credentials: []HeldCredential{{Code: "RHIT", EarnedOn: "2023-03-15"}},
		CEUs: []CEU{{Code: "RHIT", Hours: 12, On: "2024-01-01"}}}
	p = recommendOn(t, cat, inGrace, "2025-06-01")
	if !slices.Contains(p.EligibleNow, "CHPS") {
		t.Error("an RHIT in grace still counts for CHPS")
	}
	if over := p.Overdue(); len(over) != 1 || over[0].Action != "log 8 more CEUs by 2025-09-10" {
		t.Errorf("overdue = %+v, want log 8 more CEUs by 2025-09-10", over)
	}
	// A revoked AAPC credential counts for nothing either.
	revoked := State{Education: []Education{highSchool()}, Experience: []Experience{exp(AreaCoding, 12)},
		Credentials: []HeldCredential{{Code: "CIC", EarnedOn: "2020-01-10", MembershipRenewal: "2025-01-31"}}}
	p = recommendOn(t, cat, revoked, "2025-06-01")
	if !containsAny(p.Caveats["CCS"], "recommends (does not require)") {
		t.Errorf("CCS caveats %q: a revoked CIC + 12 months is not the recommended background", p.Caveats["CCS"])
	}
}

// RHIT alone never makes anyone eligible for the RHIA, and nothing in a
// plan says RHIT unlocks it.
func TestRHITNeverUnlocksRHIA(t *testing.T) {
	cat := mustCatalog(t)
	for _, st := range []State{
		{Education: []Education{highSchool(), edu(LevelAssociate, FieldHIM, true, StatusCompleted)}, Credentials: held("RHIT"), Target: "RHIA"},
		{Education: []Education{highSchool(), edu(LevelAssociate, FieldHIM, true, StatusCompleted)}},
		{Education: []Education{highSchool()}, Target: "RHIA"},
	} {
		p := recommend(t, cat, st)
		if slices.Contains(p.EligibleNow, "RHIA") {
			t.Errorf("%+v: RHIA eligible", st)
		}
		steps := p.NextSteps
		if p.Target != nil {
			steps = append(steps, p.Target.Steps...)
		}
		for _, s := range steps {
			if s.Code == "RHIT" && slices.Contains(s.Unlocks, "RHIA") {
				t.Errorf("step %s says it unlocks RHIA", s.Code)
			}
			if s.Code == "RHIT" && s.NeededFor == "RHIA" {
				t.Errorf("RHIT is planned as needed for RHIA")
			}
		}
	}
}

func TestAddMonths(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"2024-01-31", 1, "2024-02-29"},
		{"2023-01-31", 1, "2023-02-28"},
		{"2024-02-29", 24, "2026-02-28"},
		{"2024-11-30", 3, "2025-02-28"},
		{"2024-05-01", 24, "2026-05-01"},
		{"2024-12-15", 12, "2025-12-15"},
		{"2027-05-31", -24, "2025-05-31"},
		{"2027-03-31", -1, "2027-02-28"},
		{"2027-01-15", -13, "2025-12-15"},
	}
	for _, tt := range tests {
		if got := addMonths(date(tt.in), tt.n).Format("2006-01-02"); got != tt.want {
			t.Errorf("addMonths(%s, %d) = %s, want %s", tt.in, tt.n, got, tt.want)
		}
	}
}
