package main

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// problemDoc is the part of an RFC 9457 problem document the tests read.
type problemDoc struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

type recordsDoc struct {
	SeekerID    string `json:"seeker_id"`
	Credentials []struct {
		Code       string `json:"code"`
		EarnedOn   string `json:"earned_on"`
		Apprentice bool   `json:"apprentice"`
	} `json:"credentials"`
	CEUs []struct {
		Code  string  `json:"code"`
		Hours float64 `json:"hours"`
		On    string  `json:"on"`
	} `json:"ceus"`
}

type seekerPlanDoc struct {
	planJSON
	SeekerID     string         `json:"seeker_id"`
	Demand       map[string]any `json:"demand"`
	DemandNote   string         `json:"demand_note"`
	ProfileNotes []string       `json:"profile_notes"`
}

func TestSeekerRecordsACredentialAndReadsTheirPlan(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	x := randomSuffix()
	seeker, counselor, stranger := "s-"+x, "c-"+x, "c2-"+x
	me := bearer(s.token(t, "seeker", seeker, ""))
	coach := bearer(s.token(t, "counselor", counselor, ""))
	other := bearer(s.token(t, "counselor", stranger, ""))

	profile := `{"education":[{"level":"high_school","status":"completed"},{"level":"associate","field":"HIM","cahiim_accredited":true,"status":"final_term"}],
		"experience":[{"area":"records","months":24}],"location":{"postal_code":"10001"},"radius_miles":25,"target":"RHIT"}`
	if code, _, body := s.do(t, "PUT", "/v1/seekers/"+seeker, "application/json", profile, me...); code != http.StatusOK {
		t.Fatalf("PUT profile: %d %s", code, body)
	}

	// Recording a credential answers 201 with the records as they now are;
	// a retry of the same request is the same record.
	earn := `{"code":"CCA","earned_on":"2025-06-01"}`
	for i := range 2 {
		code, _, body := s.do(t, "POST", "/v1/seekers/"+seeker+"/credentials", "application/json", earn, me...)
		if code != http.StatusCreated {
			t.Fatalf("POST credentials #%d: %d %s", i+1, code, body)
		}
		recs := decode[recordsDoc](t, body)
		if len(recs.Credentials) != 1 || recs.Credentials[0].Code != "CCA" || recs.Credentials[0].EarnedOn != "2025-06-01" {
			t.Fatalf("records after POST #%d: %+v", i+1, recs)
		}
	}
	code, _, body := s.do(t, "POST", "/v1/seekers/"+seeker+"/ceus", "application/json", `{"code":"CCA","hours":6,"on":"2026-01-15"}`, me...)
	if code != http.StatusCreated {
		t.Fatalf("POST ceus: %d %s", code, body)
	}
	code, _, body = s.do(t, "GET", "/v1/seekers/"+seeker+"/credentials", "", "", me...)
	if recs := decode[recordsDoc](t, body); code != 200 || len(recs.Credentials) != 1 || len(recs.CEUs) != 1 || recs.CEUs[0].Hours != 6 {
		t.Fatalf("GET credentials: %d %s", code, body)
	}

	// The seeker's plan: a final-term CAHIIM student may sit RHIT now.
	code, _, body = s.do(t, "GET", "/v1/seekers/"+seeker+"/plan", "", "", me...)
	if code != http.StatusOK {
		t.Fatalf("GET plan: %d %s", code, body)
	}
	plan := decode[seekerPlanDoc](t, body)
	if plan.SeekerID != seeker || !slices.Contains(plan.EligibleNow, "RHIT") || !slices.Equal(plan.Held, []string{"CCA"}) {
		t.Fatalf("plan: seeker %q eligible %v held %v", plan.SeekerID, plan.EligibleNow, plan.Held)
	}
	if plan.Plan == nil || plan.Plan.Target != "RHIT" || plan.Plan.Status != "eligible_now" {
		t.Fatalf("target plan %+v", plan.Plan)
	}
	if len(plan.Recertification) != 1 || plan.Recertification[0].Issuer != "AHIMA" || plan.Recertification[0].CEUsLogged != 6 {
		t.Fatalf("recertification %+v", plan.Recertification)
	}
	// Ranked with the market near the seeker, or told why not.
	if plan.Demand == nil && plan.DemandNote == "" {
		t.Fatalf("plan has neither demand nor a note on it: %s", body)
	}
	// Query parameters override the profile's target.
	code, _, body = s.do(t, "GET", "/v1/seekers/"+seeker+"/plan?target=RHIA&optimize=cost", "", "", me...)
	if p := decode[seekerPlanDoc](t, body); code != 200 || p.Plan == nil || p.Plan.Target != "RHIA" || p.Plan.Optimize != "cost" {
		t.Fatalf("plan toward RHIA: %d %s", code, body)
	}
	code, hdr, body := s.do(t, "GET", "/v1/seekers/"+seeker+"/plan?format=ctdl", "", "", me...)
	if code != 200 || hdr.Get("Content-Type") != "application/ld+json" || !strings.Contains(string(body), "ceterms:Pathway") {
		t.Fatalf("plan as CTDL: %d %s %.200s", code, hdr.Get("Content-Type"), body)
	}

	// A counselor reads the plan only once on the seeker's caseload, and
	// the read shows in the seeker's access log.
	if code, _, _ := s.do(t, "GET", "/v1/seekers/"+seeker+"/plan", "", "", coach...); code != http.StatusNotFound {
		t.Fatalf("counselor not on the caseload: %d, want 404", code)
	}
	if code, _, body := s.do(t, "PUT", "/v1/seekers/"+seeker+"/counselors/"+counselor, "", "", me...); code != 200 {
		t.Fatalf("link counselor: %d %s", code, body)
	}
	code, _, body = s.do(t, "GET", "/v1/seekers/"+seeker+"/plan", "", "", coach...)
	if p := decode[seekerPlanDoc](t, body); code != 200 || !slices.Contains(p.EligibleNow, "RHIT") {
		t.Fatalf("counselor reads the plan: %d %s", code, body)
	}
	if code, _, _ := s.do(t, "GET", "/v1/seekers/"+seeker+"/credentials", "", "", coach...); code != 200 {
		t.Fatalf("counselor reads the records: %d", code)
	}
	if code, _, _ := s.do(t, "GET", "/v1/seekers/"+seeker+"/plan", "", "", other...); code != http.StatusNotFound {
		t.Fatalf("another counselor: %d, want 404", code)
	}
	if code, _, _ := s.do(t, "POST", "/v1/seekers/"+seeker+"/credentials", "application/json", earn, coach...); code != http.StatusForbidden {
		t.Fatalf("counselor records a credential: %d, want 403", code)
	}
	code, _, body = s.do(t, "GET", "/v1/seekers/"+seeker+"/access-log", "", "", me...)
	if code != 200 {
		t.Fatalf("access log: %d %s", code, body)
	}
	log := decode[struct {
		Entries []struct{ Actor, Role, Action string }
	}](t, body)
	var actions []string
	for _, e := range log.Entries {
		if e.Actor == counselor && e.Role == "counselor" {
			actions = append(actions, e.Action)
		}
	}
	if !slices.Equal(actions, []string{"plan", "credentials"}) {
		t.Fatalf("counselor's reads in the access log: %v (all: %+v)", actions, log.Entries)
	}
	for _, e := range log.Entries {
		if e.Actor == seeker || e.Actor == stranger {
			t.Fatalf("access log records %s's read: %+v", e.Actor, e)
		}
	}

	// Deleting the profile removes the credential records too.
	if code, _, body := s.do(t, "DELETE", "/v1/seekers/"+seeker, "", "", me...); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	if code, _, body := s.do(t, "GET", "/v1/seekers/"+seeker+"/credentials", "", "", me...); code != http.StatusNotFound {
		t.Fatalf("records after deletion: %d %s", code, body)
	}
}

func TestAnonymousPathwayPlanCatalogAndBadInput(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	example, err := os.ReadFile(filepath.Join(exampleDir, "clerk-to-rhit.json"))
	if err != nil {
		t.Fatal(err)
	}
	code, _, body := s.do(t, "POST", "/v1/pathways/plan", "application/json", string(example))
	if code != http.StatusOK {
		t.Fatalf("POST /v1/pathways/plan: %d %s", code, body)
	}
	plan := decode[planJSON](t, body)
	if !slices.Equal(plan.EligibleNow, []string{"CCA", "CCS", "CEHRS", "CIC", "COC", "CPB", "CPC", "CRC"}) || plan.Plan == nil || plan.Plan.Target != "RHIT" || plan.Plan.Status != "planned" {
		t.Fatalf("anonymous plan: eligible %v plan %+v", plan.EligibleNow, plan.Plan)
	}
	if len(plan.NextSteps) == 0 || len(plan.Blocked["RHIT"]) == 0 {
		t.Fatalf("next steps %v blocked %v", plan.NextSteps, plan.Blocked)
	}
	code, _, body = s.do(t, "POST", "/v1/pathways/plan?target=CHPS&optimize=cost", "application/json", string(example))
	if p := decode[planJSON](t, body); code != 200 || p.Plan == nil || p.Plan.Target != "CHPS" || p.Plan.Optimize != "cost" {
		t.Fatalf("plan toward CHPS: %d %s", code, body)
	}
	code, hdr, body := s.do(t, "POST", "/v1/pathways/plan?format=ctdl", "application/json", string(example))
	if code != 200 || hdr.Get("Content-Type") != "application/ld+json" || !strings.Contains(string(body), "urn:clerkpath:pathway:plan:") {
		t.Fatalf("plan as CTDL: %d %s %.200s", code, hdr.Get("Content-Type"), body)
	}

	// Bad input: 400 naming every field with the allowed values, in the
	// same words as the CLI.
	bad, err := os.ReadFile(filepath.Join(exampleDir, "bad-profile.json"))
	if err != nil {
		t.Fatal(err)
	}
	code, hdr, body = s.do(t, "POST", "/v1/pathways/plan", "application/json", string(bad))
	if code != http.StatusBadRequest || hdr.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("bad profile: %d %s %s", code, hdr.Get("Content-Type"), body)
	}
	prob := decode[problemDoc](t, body)
	_, cliErr, err := runPathway(t, "", "--profile", filepath.Join(exampleDir, "bad-profile.json"))
	if err == nil {
		t.Fatal("the CLI accepted the bad profile")
	}
	var fields []string
	for _, f := range prob.Errors {
		fields = append(fields, f.Field)
		if !strings.Contains(cliErr, f.Field+": "+f.Message) {
			t.Errorf("the CLI does not say %q:\n%s", f.Field+": "+f.Message, cliErr)
		}
	}
	if !slices.Equal(fields, []string{"credentials[0].code", "education[0].status", "experience[0].area", "experience[0].months"}) {
		t.Fatalf("fields %v in %s", fields, body)
	}
	for _, tc := range []struct{ name, path, body, field, says string }{
		{"misspelt key", "/v1/pathways/plan", `{"experiance":[]}`, "experiance", "unknown field"},
		{"future date", "/v1/pathways/plan", `{"credentials":[{"code":"RHIT","earned_on":"2999-01-01"}]}`, "credentials[0].earned_on", "in the future"},
		{"unknown target", "/v1/pathways/plan?target=ZZZ", `{}`, "target", "allowed: RHIT"},
	} {
		code, _, body := s.do(t, "POST", tc.path, "application/json", tc.body)
		prob := decode[problemDoc](t, body)
		if code != 400 || len(prob.Errors) == 0 || prob.Errors[0].Field != tc.field || !strings.Contains(prob.Errors[0].Message, tc.says) {
			t.Errorf("%s: %d %s", tc.name, code, body)
		}
	}
	if code, _, body := s.do(t, "POST", "/v1/pathways/plan", "text/plain", string(example)); code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain plan: %d %s", code, body)
	}

	// Records: bad input names the field of the request body.
	x := randomSuffix()
	me := bearer(s.token(t, "seeker", "s-"+x, ""))
	if code, _, body := s.do(t, "POST", "/v1/seekers/s-"+x+"/credentials", "application/json", `{"code":"CCA","earned_on":"2024-01-01"}`, me...); code != http.StatusNotFound {
		t.Fatalf("credential without a profile: %d %s", code, body)
	}
	s.do(t, "PUT", "/v1/seekers/s-"+x, "application/json", `{}`, me...)
	for _, tc := range []struct{ name, path, body, field, says string }{
		{"unknown code", "credentials", `{"code":"RHIT-X","earned_on":"2024-01-01"}`, "code", "allowed: RHIT, RHIA"},
		{"impossible date", "credentials", `{"code":"RHIT","earned_on":"2024-02-30"}`, "earned_on", "not a valid date"},
		{"unknown field", "credentials", `{"code":"RHIT","earned":"2024-02-01"}`, "earned", "unknown field"},
		{"negative hours", "ceus", `{"code":"RHIT","hours":-1,"on":"2025-01-01"}`, "hours", "above 0"},
	} {
		code, _, body := s.do(t, "POST", "/v1/seekers/s-"+x+"/"+tc.path, "application/json", tc.body, me...)
		prob := decode[problemDoc](t, body)
		found := false
		for _, f := range prob.Errors {
			found = found || (f.Field == tc.field && strings.Contains(f.Message, tc.says))
		}
		if code != 400 || !found {
			t.Errorf("%s: %d %s", tc.name, code, body)
		}
	}

	// The catalog, one credential, and the catalog as CTDL, all public.
	code, _, body = s.do(t, "GET", "/v1/credentials", "", "")
	cat := decode[struct {
		Version     string
		Credentials []struct{ Code, Issuer string }
	}](t, body)
	if code != 200 || cat.Version == "" || len(cat.Credentials) < 17 {
		t.Fatalf("GET /v1/credentials: %d %.300s", code, body)
	}
	code, _, body = s.do(t, "GET", "/v1/credentials/rhit", "", "")
	if c := decode[struct{ Code, Issuer string }](t, body); code != 200 || c.Code != "RHIT" || c.Issuer != "AHIMA" {
		t.Fatalf("GET /v1/credentials/rhit: %d %.300s", code, body)
	}
	if code, _, body := s.do(t, "GET", "/v1/credentials/NOPE", "", ""); code != 404 || !strings.Contains(string(body), "RHIT") {
		t.Fatalf("unknown credential: %d %s", code, body)
	}
	code, hdr, body = s.do(t, "GET", "/v1/pathways/ctdl", "", "")
	if code != 200 || hdr.Get("Content-Type") != "application/ld+json" || !strings.Contains(string(body), `"@type":"ceterms:Pathway"`) {
		t.Fatalf("GET /v1/pathways/ctdl: %d %s %.300s", code, hdr.Get("Content-Type"), body)
	}
}
