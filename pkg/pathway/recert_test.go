package pathway

import (
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
		held    []string
		issuer  string
		ceus    int
		reviews int
	}{
		{[]string{"RHIT"}, "AHIMA", 20, 0},
		{[]string{"RHIA"}, "AHIMA", 30, 0},
		{[]string{"CCA"}, "AHIMA", 20, 2},
		{[]string{"CCS", "CCS-P"}, "AHIMA", 30, 2},
		{[]string{"RHIA", "CCS", "CCS-P"}, "AHIMA", 50, 2},
		{[]string{"CHPS", "RHIT"}, "AHIMA", 40, 0},
		{[]string{"CHDA"}, "AHIMA", 30, 0},
		{[]string{"RHIT", "RHIA", "CCS", "CHPS", "CDIP"}, "AHIMA", 50, 2}, // capped
		{[]string{"CPC"}, "AAPC", 36, 0},
		{[]string{"CPC", "COC"}, "AAPC", 40, 0},
		{[]string{"CPC", "COC", "CIC"}, "AAPC", 44, 0},
		{[]string{"CPC", "COC", "CIC", "CRC"}, "AAPC", 48, 0},
		{[]string{"CPC", "COC", "CIC", "CRC", "CPB"}, "AAPC", 52, 0},
		{[]string{"CEHRS"}, "NHA", 10, 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.held, "+"), func(t *testing.T) {
			var hc []HeldCredential
			for _, c := range tt.held {
				hc = append(hc, HeldCredential{Code: c, EarnedOn: "2024-09-01"})
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
			if r.SelfReviewsRequired != tt.reviews {
				t.Errorf("self_reviews_required = %d, want %d", r.SelfReviewsRequired, tt.reviews)
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
			start: "2023-03-15", end: "2025-03-14", grace: "2025-06-14", daysLeft: 91, logged: 19.5},
		{name: "last day of grace", st: rhit(), today: "2025-06-14", status: RecertInGrace, end: "2025-03-14", grace: "2025-06-14", daysLeft: 0},
		{name: "day after grace: lapsed", st: rhit(), today: "2025-06-15", status: RecertLapsed, end: "2025-03-14", grace: "2025-06-14"},
		{name: "met cycle rolls forward", st: rhit(ceu(10, "2023-03-15"), ceu(10, "2025-03-14")), today: "2025-03-15", status: RecertActive,
			start: "2025-03-15", end: "2027-03-14", daysLeft: 729},
		{name: "CEUs after the cycle do not count for it", st: rhit(ceu(10, "2024-01-01"), ceu(10, "2025-03-15")), today: "2025-04-01",
			status: RecertInGrace, end: "2025-03-14", grace: "2025-06-14", daysLeft: 74, logged: 10},
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
			if tt.status == RecertInGrace && !containsAny(r.Notes, "secondary sources") {
				t.Errorf("the grace period is secondary and must be flagged: %q", r.Notes)
			}
		})
	}
}

func TestRecertSelfReviewsAndEdgeCases(t *testing.T) {
	cat := mustCatalog(t)

	// CCS needs 2 self-reviews per cycle: 20 CEUs with one review is short.
	p := recommendOn(t, cat, State{
		Credentials: []HeldCredential{{Code: "CCS", EarnedOn: "2023-03-15"}},
		CEUs:        []CEU{{Code: "CCS", Hours: 15, On: "2023-05-01"}, {Code: "CCS", Hours: 5, SelfReview: true, On: "2024-05-01"}},
	}, "2025-04-01")
	if r := p.Recertification[0]; r.Status != RecertInGrace || r.SelfReviewsLogged != 1 || r.SelfReviewsRequired != 2 {
		t.Errorf("one self-review of two: got %+v", r)
	}

	// AAPC's grace period is unknown: short of CEUs means lapsed, with a warning.
	p = recommendOn(t, cat, State{Credentials: []HeldCredential{{Code: "CPC", EarnedOn: "2023-03-15"}}}, "2025-03-15")
	if r := p.Recertification[0]; r.Status != RecertLapsed || !containsAny(r.Notes, "grace period unknown") {
		t.Errorf("AAPC past cycle end: got %+v", r)
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
	// requirement: CCS alone needed 20 (with 2 reviews) in 2022-2024.
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
	}
	for _, tt := range tests {
		if got := addMonths(date(tt.in), tt.n).Format("2006-01-02"); got != tt.want {
			t.Errorf("addMonths(%s, %d) = %s, want %s", tt.in, tt.n, got, tt.want)
		}
	}
}
