package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runPathway runs `clerkpath pathway args...` in-process.
func runPathway(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), append([]string{"pathway"}, args...), environment{
		getenv: func(string) string { return "" }, stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
	})
	return out.String(), errb.String(), err
}

// writeProfile writes a profile file for one test.
func writeProfile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const exampleDir = "../../docs/examples"

func TestPathwayCLIPrintsAReadablePlan(t *testing.T) {
	t.Parallel()
	out, errs, err := runPathway(t, "", "--profile", filepath.Join(exampleDir, "clerk-to-rhit.json"), "--today", "2026-12-02")
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	for _, want := range []string{
		"Career plan (catalog ", "as of 2026-12-02",
		"Eligible now:     CCA, CCS, CEHRS, CIC, COC, CPB, CPC, CRC",
		"Next steps, best first:\n  1. [education] Finish your Associate degree in HIT/HIM, CAHIIM-accredited",
		"time left unknown: it depends on how far along you are",
		"Pass the CPC exam (Certified Professional Coder, AAPC) (or COC, CIC, CRC or CPB)",
		"caution: Eligible to sit, but AHIMA recommends (does not require)",
		"recurs: commonly yearly; not a credential requirement (unknown)",
		"Plan to RHIT (optimised for time): planned",
		"Not yet eligible:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// planJSON is the part of the JSON plan the CLI promises.
type planJSON struct {
	Today       string `json:"today"`
	Held        []string
	EligibleNow []string `json:"eligible_now"`
	NextSteps   []struct {
		Kind, Code, Why string
	} `json:"next_steps"`
	Plan *struct {
		Target, Optimize, Status string
		Steps                    []struct{ Kind, Code string }
	} `json:"plan"`
	Blocked         map[string][]string `json:"blocked"`
	Apprentice      []struct{ Status string }
	Recertification []struct {
		Issuer, Status string
		CycleEnd       string  `json:"cycle_end"`
		CEUsRequired   *int    `json:"ceus_required"`
		CEUsLogged     float64 `json:"ceus_logged"`
	} `json:"recertification"`
}

func TestPathwayCLIJSONHasTheDocumentedFields(t *testing.T) {
	t.Parallel()
	out, errs, err := runPathway(t, "", "--profile", filepath.Join(exampleDir, "coder-cpc-a.json"), "--today", "2026-12-02", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"eligible_now", "next_steps", "plan", "blocked", "recertification"} {
		if raw[k] == nil {
			t.Errorf("JSON lacks %q", k)
		}
	}
	var p planJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if p.Today != "2026-12-02" || !slices.Equal(p.Held, []string{"CPC"}) {
		t.Fatalf("today %s held %v", p.Today, p.Held)
	}
	if p.Plan == nil || p.Plan.Target != "CCS" || p.Plan.Optimize != "cost" {
		t.Fatalf("plan %+v", p.Plan)
	}
	if len(p.Apprentice) != 1 || p.Apprentice[0].Status != "CPC-A" {
		t.Fatalf("apprentice %+v", p.Apprentice)
	}
	// CPC from 2025-03-15, membership renewing 2027-03-31: CEUs fall due on
	// that renewal date, 36 of them, 12 logged; due within 180 days, so
	// logging them is the first step.
	if len(p.NextSteps) == 0 || p.NextSteps[0].Kind != "renewal" || p.NextSteps[0].Code != "CPC" {
		t.Errorf("first step %+v, want the CPC renewal", p.NextSteps[:1])
	}
	if len(p.Recertification) != 1 || p.Recertification[0].Issuer != "AAPC" || p.Recertification[0].CycleEnd != "2027-03-31" ||
		p.Recertification[0].CEUsRequired == nil || *p.Recertification[0].CEUsRequired != 36 || p.Recertification[0].CEUsLogged != 12 {
		t.Fatalf("recertification %+v", p.Recertification)
	}

	// Flags override the file; the profile can come on standard input.
	body, _ := os.ReadFile(filepath.Join(exampleDir, "coder-cpc-a.json"))
	out, errs, err = runPathway(t, string(body), "--profile", "-", "--target", "rhit", "--optimize", "time", "--json", "--today", "2026-12-02")
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.Plan == nil || p.Plan.Target != "RHIT" || p.Plan.Optimize != "time" {
		t.Fatalf("overridden plan %+v (%v)", p.Plan, err)
	}
	if len(p.Blocked["RHIT"]) == 0 {
		t.Fatalf("RHIT not blocked for a high-school graduate: %v", p.Blocked)
	}
}

func TestPathwayCLIExportsCTDL(t *testing.T) {
	t.Parallel()
	out, errs, err := runPathway(t, "", "--ctdl")
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	var doc struct {
		Context string           `json:"@context"`
		Graph   []map[string]any `json:"@graph"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	types := map[any]int{}
	for _, n := range doc.Graph {
		types[n["@type"]]++
	}
	if !strings.Contains(doc.Context, "credreg.net") || types["ceterms:Pathway"] != 1 || types["ceterms:CredentialComponent"] < 15 {
		t.Fatalf("catalog CTDL: context %q types %v", doc.Context, types)
	}
	out, errs, err = runPathway(t, "", "--ctdl", "--profile", filepath.Join(exampleDir, "clerk-to-rhit.json"), "--today", "2026-11-25")
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	if !strings.Contains(out, `"urn:clerkpath:pathway:plan:2026-11-25:RHIT"`) {
		t.Fatalf("plan CTDL does not name the plan:\n%.500s", out)
	}
}

func TestPathwayCLIBadInputNamesEveryFieldAndFails(t *testing.T) {
	t.Parallel()
	_, errs, err := runPathway(t, "", "--profile", filepath.Join(exampleDir, "bad-profile.json"))
	if err == nil || errors.Is(err, errUsage) {
		t.Fatalf("bad profile: err %v, want a failure that is not a usage error", err)
	}
	for _, want := range []string{
		`credentials[0].code: unknown credential code "RHIT-X"; allowed: RHIT, RHIA,`,
		`education[0].status: unknown status "finished"; allowed: completed, final_term, in_progress`,
		`experience[0].area: unknown area "juggling"; allowed: coding, privacy_security,`,
		`experience[0].months: must be between 0 and`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	cases := map[string]struct{ body, want string }{
		"future date":   {`{"credentials":[{"code":"RHIT","earned_on":"2999-01-01"}]}`, "credentials[0].earned_on: 2999-01-01 is in the future"},
		"misspelt key":  {`{"experiance":[]}`, "experiance: unknown field"},
		"wrong type":    {`{"experience":[{"area":"coding","months":"ten"}]}`, "experience.months"},
		"bad JSON":      {`{"education": [`, "body:"},
		"CEU not held":  {`{"ceus":[{"code":"RHIT","hours":3,"on":"2025-01-01"}]}`, "ceus[0].code: RHIT is not among your credentials"},
		"unknown goal":  {`{"optimize":"luck"}`, `optimize: unknown goal "luck"; allowed: time, cost`},
		"unknown train": {`{"trainings":["juggling"]}`, `trainings[0]: unknown training "juggling"; allowed:`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, errs, err := runPathway(t, "", "--profile", writeProfile(t, tc.body), "--today", "2026-01-01")
			if err == nil || !strings.Contains(errs, tc.want) {
				t.Fatalf("err %v, stderr lacks %q:\n%s", err, tc.want, errs)
			}
		})
	}
	for name, args := range map[string][]string{
		"no profile":    {},
		"bad today":     {"--profile", filepath.Join(exampleDir, "clerk-to-rhit.json"), "--today", "25/11/2026"},
		"json and ctdl": {"--profile", filepath.Join(exampleDir, "clerk-to-rhit.json"), "--json", "--ctdl"},
		"stray arg":     {"--profile", filepath.Join(exampleDir, "clerk-to-rhit.json"), "extra"},
	} {
		if _, _, err := runPathway(t, "", args...); !errors.Is(err, errUsage) {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
	if _, _, err := runPathway(t, "", "--profile", filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

var updateExamples = flag.Bool("update-examples", false, "rewrite docs/examples/*.plan.txt from the CLI")

// examplesToday is the date the example plans in docs/examples were made on.
const examplesToday = "2026-12-02"

// Each docs/examples/<name>.json profile has its plan beside it,
// <name>.plan.txt, as the CLI prints it on examplesToday: the examples the
// README points at stay true.
func TestPathwayExamplePlansAreCurrent(t *testing.T) {
	t.Parallel()
	profiles, err := filepath.Glob(filepath.Join(exampleDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, profile := range profiles {
		name := strings.TrimSuffix(filepath.Base(profile), ".json")
		if name == "bad-profile" {
			continue // shows the error output instead
		}
		t.Run(name, func(t *testing.T) {
			out, errs, err := runPathway(t, "", "--profile", profile, "--today", examplesToday)
			if err != nil {
				t.Fatalf("%v\n%s", err, errs)
			}
			path := filepath.Join(exampleDir, name+".plan.txt")
			if *updateExamples {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run: go test -run TestPathwayExamplePlansAreCurrent -update-examples)", err)
			}
			if string(want) != out {
				t.Errorf("%s is stale; run: go test -run TestPathwayExamplePlansAreCurrent -update-examples", path)
			}
		})
	}
}
