package pathway

import (
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

func TestStateValidate(t *testing.T) {
	cat := mustCatalog(t)
	tests := []struct {
		name      string
		json      string
		field     string
		fragments []string
	}{
		{"unknown status", `{"education":[{"level":"associate","status":"graduated"}]}`,
			"education[0].status", []string{`unknown status "graduated"`, "allowed: completed, final_term, in_progress"}},
		{"missing status", `{"education":[{"level":"associate"}]}`,
			"education[0].status", []string{"status is required", "allowed: completed, final_term, in_progress"}},
		{"unknown level", `{"education":[{"level":"phd","status":"completed"}]}`,
			"education[0].level", []string{`unknown level "phd"`, "allowed: high_school, certificate, associate, bachelor, master"}},
		{"nonsense field", `{"education":[{"level":"high_school","status":"completed"},{"level":"associate","field":"asdfgh","status":"completed"}]}`,
			"education[1].field", []string{`field of study "asdfgh" does not read as a field of study`, `"Health Information Technology"`}},
		{"digits as field", `{"education":[{"level":"associate","field":"2024","status":"completed"}]}`,
			"education[0].field", []string{"has no letters", "for example"}},
		{"accredited high school", `{"education":[{"level":"high_school","cahiim_accredited":true,"status":"completed"}]}`,
			"education[0].cahiim_accredited", []string{"postsecondary programs only"}},
		{"unknown credential", `{"credentials":[{"code":"XYZ"}]}`,
			"credentials[0].code", []string{`unknown credential code "XYZ"`, "allowed: RHIT, RHIA, CCA"}},
		{"duplicate credential", `{"credentials":[{"code":"RHIT"},{"code":"RHIT"}]}`,
			"credentials[1].code", []string{"RHIT is listed twice"}},
		{"impossible date", `{"credentials":[{"code":"RHIT","earned_on":"2024-02-30"}]}`,
			"credentials[0].earned_on", []string{`not a valid date "2024-02-30"`, "YYYY-MM-DD"}},
		{"wrong date format", `{"credentials":[{"code":"RHIT","earned_on":"05/01/2024"}]}`,
			"credentials[0].earned_on", []string{"YYYY-MM-DD"}},
		{"future date", `{"credentials":[{"code":"RHIT","earned_on":"2025-06-02"}]}`,
			"credentials[0].earned_on", []string{"in the future (today is 2025-06-01)"}},
		{"ancient date", `{"credentials":[{"code":"RHIT","earned_on":"1899-12-31"}]}`,
			"credentials[0].earned_on", []string{"before 1900"}},
		{"apprentice on a credential without one", `{"credentials":[{"code":"RHIT","apprentice":true}]}`,
			"credentials[0].apprentice", []string{"RHIT has no apprentice status", "allowed for: CPC, COC"}},
		{"negative months", `{"experience":[{"area":"coding","months":-1}]}`,
			"experience[0].months", []string{"between 0 and 1200", "got -1"}},
		{"absurd months", `{"experience":[{"area":"coding","months":5000}]}`,
			"experience[0].months", []string{"between 0 and 1200"}},
		{"unknown area", `{"experience":[{"area":"cooking","months":3}]}`,
			"experience[0].area", []string{`unknown area "cooking"`, "allowed: coding, privacy_security, release_of_information, records, data_analysis, billing"}},
		{"area twice", `{"experience":[{"area":"coding","months":3},{"area":"coding","months":4}]}`,
			"experience[1].area", []string{"listed twice"}},
		{"unknown training", `{"trainings":["yoga"]}`,
			"trainings[0]", []string{`unknown training "yoga"`, "allowed: aapc_80_hour_course, practicode, ahima_approved_coding_program"}},
		{"CEUs for a credential not held", `{"credentials":[{"code":"RHIT"}],"ceus":[{"code":"RHIA","hours":5,"on":"2025-01-01"}]}`,
			"ceus[0].code", []string{"RHIA is not among your credentials", "allowed: RHIT"}},
		{"zero CEU hours", `{"credentials":[{"code":"RHIT"}],"ceus":[{"code":"RHIT","hours":0,"on":"2025-01-01"}]}`,
			"ceus[0].hours", []string{"above 0"}},
		{"CEU without a date", `{"credentials":[{"code":"RHIT"}],"ceus":[{"code":"RHIT","hours":1}]}`,
			"ceus[0].on", []string{"required"}},
		{"membership renewal on an AHIMA credential", `{"credentials":[{"code":"RHIT","membership_renewal":"2025-09-30"}]}`,
			"credentials[0].membership_renewal", []string{"RHIT's CEUs are not dated by a membership renewal", "CPC, COC, CIC, CRC, CPB"}},
		{"membership renewal too far ahead", `{"credentials":[{"code":"CPC","membership_renewal":"2026-08-01"}]}`,
			"credentials[0].membership_renewal", []string{"too far in the future", "2026-07-01"}},
		{"membership renewal not a date", `{"credentials":[{"code":"CPC","membership_renewal":"next May"}]}`,
			"credentials[0].membership_renewal", []string{"YYYY-MM-DD"}},
		{"CEU provider of another issuer", `{"credentials":[{"code":"RHIT"}],"ceus":[{"code":"RHIT","hours":2,"provider":"AAPC","on":"2025-01-01"}]}`,
			"ceus[0].provider", []string{`unknown provider "AAPC"`, "allowed: AHIMA or other"}},
		{"unknown target", `{"target":"MD"}`, "target", []string{`unknown credential code "MD"`, "allowed: RHIT"}},
		{"unknown optimisation", `{"optimize":"fast"}`, "optimize", []string{`unknown goal "fast"`, "allowed: time, cost"}},
		{"negative max months", `{"max_months":-1}`, "max_months", []string{"between 0 (no limit)"}},
		{"negative max cost", `{"max_cost_usd":-5}`, "max_cost_usd", []string{"between 0 (no limit)"}},
		{"max cost in millions, written plainly", `{"max_cost_usd":20000000}`, "max_cost_usd", []string{"got 20000000"}},
		{"CEU hours in millions, written plainly", `{"credentials":[{"code":"RHIT"}],"ceus":[{"code":"RHIT","hours":2500000,"on":"2025-01-01"}]}`,
			"ceus[0].hours", []string{"got 2500000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := ParseState([]byte(tt.json))
			if err != nil {
				t.Fatalf("ParseState: %v", err)
			}
			err = st.Validate(cat, date(testToday))
			wantField(t, err, tt.field, tt.fragments...)
			// Recommend refuses the same state with the same error.
			_, rerr := Recommend(cat, st, Options{Today: date(testToday)})
			wantField(t, rerr, tt.field, tt.fragments...)
		})
	}
}

func TestStateValidateListsEveryProblemSorted(t *testing.T) {
	cat := mustCatalog(t)
	st := State{
		Target:     "NOPE",
		Education:  []Education{{Level: "x", Status: "y"}},
		Experience: []Experience{{Area: "z", Months: -3}},
	}
	fs := fieldErrors(t, st.Validate(cat, date(testToday)))
	want := []string{"education[0].level", "education[0].status", "experience[0].area", "experience[0].months", "target"}
	if len(fs) != len(want) {
		t.Fatalf("got %d errors %v, want %v", len(fs), fs, want)
	}
	for i, f := range fs {
		if f.Field != want[i] {
			t.Errorf("error %d names %q, want %q", i, f.Field, want[i])
		}
	}
}

func TestStateValidateAcceptsAGoodState(t *testing.T) {
	cat := mustCatalog(t)
	st, err := ParseState([]byte(`{
		"education":[{"level":"associate","field":"HIM","cahiim_accredited":true,"status":"completed"}],
		"credentials":[{"code":"RHIT","earned_on":"2024-05-01"},{"code":"CPC","earned_on":"2024-06-01","apprentice":true}],
		"experience":[{"area":"coding","months":24}],
		"trainings":["aapc_80_hour_course","practicode"],
		"ceus":[{"code":"RHIT","hours":10,"self_review":false,"on":"2025-01-10"}],
		"target":"RHIA","optimize":"cost","max_months":24,"max_cost_usd":3000}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Validate(cat, date(testToday)); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestParseStateRejects(t *testing.T) {
	tests := []struct {
		name, json, field string
	}{
		{"misspelt key", `{"experiance":[]}`, ""},
		{"wrong type", `{"experience":[{"area":"coding","months":"two"}]}`, "experience.months"},
		{"two documents", `{} {}`, ""},
		{"not an object", `[1,2]`, ""},
		{"truncated", `{"education":[`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseState([]byte(tt.json))
			if err == nil || apierr.CodeOf(err) != apierr.Invalid {
				t.Fatalf("err = %v, want invalid", err)
			}
			if tt.field != "" {
				wantField(t, err, tt.field, "must be a JSON number")
			}
		})
	}
	big := make([]byte, maxStateBytes+1)
	if _, err := ParseState(big); apierr.CodeOf(err) != apierr.TooLarge {
		t.Errorf("oversized state: %v, want too_large", err)
	}
}

func TestRecommendNeedsToday(t *testing.T) {
	cat := mustCatalog(t)
	_, err := Recommend(cat, State{}, Options{})
	wantField(t, err, "options.today", "required")

	_, err = Recommend(cat, State{}, Options{Today: date(testToday), Demand: Demand{Credentials: map[string]CredentialDemand{"RHIT": {Postings: -1}}}})
	wantField(t, err, "options.demand.credentials.RHIT", "must not be negative")

	wantField(t, State{}.Validate(cat, time.Time{}), "today", "required")

	if _, err := Recommend(nil, State{}, Options{Today: time.Now()}); err == nil {
		t.Error("nil catalog must be an error")
	}
}

// A plan request with thousands of entries gets one error per oversized
// list, not one per entry (issue 11: 40,000 credentials made an answer
// larger than NATS carries).
func TestStateListsAreBounded(t *testing.T) {
	cat := mustCatalog(t)
	var st State
	for range 40000 {
		st.Credentials = append(st.Credentials, HeldCredential{Code: "NOPE"})
	}
	err := st.Validate(cat, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	e := apierr.As(err)
	if e.Code != apierr.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "credentials" || !strings.Contains(e.Fields[0].Message, "at most 50") {
		t.Fatalf("Validate = %+v", e)
	}
}
