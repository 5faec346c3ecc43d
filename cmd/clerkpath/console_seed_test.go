//go:build browser

package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// consoleWorld is the data the console's browser tests look at: a
// counselor with two clients, an employer with postings near them, and the
// tokens each of them signs in with.
type consoleWorld struct {
	counselor, employerOrg    string
	ana, ben                  string
	counselorTok, employerTok string
	anaTok, benTok            string
	clerkPosting              string // the records clerk job ana and ben qualify for
}

// seedConsole loads the world through the public API, as users would, and
// waits until the caseload shows both clients with matches.
func seedConsole(t *testing.T, s *stack) consoleWorld {
	t.Helper()
	w := consoleWorld{counselor: "carl", employerOrg: "mercy", ana: "ana", ben: "ben"}
	w.counselorTok = s.token(t, "counselor", w.counselor, "")
	w.employerTok = s.token(t, "employer", "erin", w.employerOrg)
	w.anaTok = s.token(t, "seeker", w.ana, "")
	w.benTok = s.token(t, "seeker", w.ben, "")
	today := time.Now().UTC().Format(time.DateOnly)

	must := func(method, path, ctype, body, tok string, want int) []byte {
		t.Helper()
		code, _, b := s.do(t, method, path, ctype, body, bearer(tok)...)
		if code != want {
			t.Fatalf("%s %s: %d %s", method, path, code, b)
		}
		return b
	}
	postings := `[
	 {"title":"Medical Records Clerk","employer":"Mercy Health","postal_code":"10001","date_posted":"` + today + `",
	  "salary_min":20,"salary_max":23,"salary_unit":"HOUR","description":"High school diploma required. Scanning and indexing, chart assembly, release of information under HIPAA."},
	 {"title":"Health Information Technician","employer":"Mercy Health","postal_code":"10001","date_posted":"` + today + `",
	  "salary_min":26,"salary_max":31,"salary_unit":"HOUR","description":"RHIT required. Chart analysis, deficiency tracking and release of information. Six months of medical records experience required."},
	 {"title":"Coding Associate","employer":"Mercy Health","postal_code":"10002","date_posted":"` + today + `",
	  "salary_min":24,"salary_max":27,"salary_unit":"HOUR","description":"Certified Coding Associate (CCA) or CPC-A required. Medical terminology and ICD-10-CM."}
	]`
	bulk := decode[struct {
		Accepted []struct{ ID string } `json:"accepted"`
	}](t, must("POST", "/v1/postings:bulk", "application/json", postings, w.employerTok, http.StatusOK))
	if len(bulk.Accepted) != 3 {
		t.Fatalf("seed postings: %+v", bulk)
	}
	w.clerkPosting = bulk.Accepted[0].ID
	// Profiles go in once the postings are searchable: a profile written
	// while its postings were still being indexed sometimes got no matches
	// at all, even a minute later (2 runs in about 8 on a busy machine):
	// a race between indexing and matching a new profile, left to
	// matching's owner; this test is about the console.
	testenv.Eventually(t, 60*time.Second, func() error {
		for _, a := range bulk.Accepted {
			if code, _, b := s.do(t, "GET", "/v1/postings/"+a.ID, "", ""); code != http.StatusOK {
				return fmt.Errorf("posting %s: %d %s", a.ID, code, b)
			}
		}
		return nil
	})

	must("PUT", "/v1/seekers/ana", "application/json", `{
	  "education": [{"level": "high_school", "status": "completed"}],
	  "experience": [{"area": "records", "months": 14}], "skills": ["chart_analysis"], "code_sets": ["ICD-10-CM"],
	  "location": {"postal_code": "10001"}, "radius_miles": 15, "desired_hourly": 22, "target": "RHIT", "open_to_employers": true}`, w.anaTok, http.StatusOK)
	must("PUT", "/v1/seekers/ana/contact", "application/json", `{"display_name": "Ana", "email": "ana@example.org"}`, w.anaTok, http.StatusOK)
	must("PUT", "/v1/seekers/ana/counselors/carl", "", "", w.anaTok, http.StatusOK)
	must("PUT", "/v1/seekers/ben", "application/json", `{
	  "education": [{"level": "high_school", "status": "completed"}],
	  "experience": [{"area": "coding", "months": 8}], "code_sets": ["ICD-10-CM"],
	  "location": {"postal_code": "10002"}, "radius_miles": 20, "target": "CCS"}`, w.benTok, http.StatusOK)
	must("POST", "/v1/seekers/ben/credentials", "application/json", `{"code": "CCA", "earned_on": "2024-05-01"}`, w.benTok, http.StatusCreated)
	must("PUT", "/v1/seekers/ben/counselors/carl", "", "", w.benTok, http.StatusOK)
	must("POST", "/v1/seekers/ana/notes", "application/json", `{"text": "Wants day shifts; ask about the RHIT exam fee waiver."}`, w.counselorTok, http.StatusCreated)

	// Generous: under -race on a busy machine matching can take a while.
	testenv.Eventually(t, 60*time.Second, func() error {
		for _, id := range []string{w.ana, w.ben} {
			tok := w.anaTok
			if id == w.ben {
				tok = w.benTok
			}
			code, _, b := s.do(t, "GET", "/v1/seekers/"+id+"/matches", "", "", bearer(tok)...)
			if code != http.StatusOK {
				return fmt.Errorf("matches of %s: %d %s", id, code, b)
			}
			if m := decode[struct {
				Matches []struct{} `json:"matches"`
			}](t, b); len(m.Matches) == 0 {
				return fmt.Errorf("no matches yet for %s: %s", id, b)
			}
		}
		return nil
	})
	return w
}
