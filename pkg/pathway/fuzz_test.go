package pathway

import (
	"encoding/json"
	"testing"
)

// FuzzLoadCatalog: arbitrary bytes never panic; a catalog that loads must
// also plan without panicking.
func FuzzLoadCatalog(f *testing.F) {
	f.Add(defaultCatalogYAML)
	f.Add([]byte(miniCatalog))
	f.Add([]byte(""))
	f.Add([]byte("version: 1\ncredentials: [{code: A}]\n"))
	f.Add([]byte("version: x\ncredentials:\n  - code: A\n    eligibility: {confidence: confirmed, rule: {any_of: [{all_of: []}]}}\n"))
	f.Add([]byte("&a [*a, *a]"))
	f.Add([]byte("version: \"1\"\nsources: [{id: s, url: ftp://x}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cat, err := LoadCatalog(data)
		if err != nil {
			return
		}
		st := State{Education: []Education{highSchool()}, Experience: []Experience{exp(AreaCoding, 12)}}
		if len(cat.Credentials) > 0 {
			st.Target = cat.Credentials[0].Code
			st.Credentials = []HeldCredential{{Code: cat.Credentials[len(cat.Credentials)-1].Code, EarnedOn: "2020-01-01"}}
		}
		if _, err := Recommend(cat, st, Options{Today: date(testToday)}); err != nil && st.Target == "" {
			t.Fatalf("Recommend on a valid catalog: %v", err)
		}
		_ = CTDL(cat, nil)
	})
}

// FuzzStateJSON: parsing and validating arbitrary JSON never panics, and a
// state that validates always gets a plan.
func FuzzStateJSON(f *testing.F) {
	seeds := []string{
		`{}`,
		`{"education":[{"level":"high_school","status":"completed"}],"target":"RHIT"}`,
		`{"education":[{"level":"associate","field":"HIM","cahiim_accredited":true,"status":"final_term"}],"credentials":[{"code":"RHIT","earned_on":"2024-05-01"}],"experience":[{"area":"coding","months":24}],"trainings":["aapc_80_hour_course","practicode"],"ceus":[{"code":"RHIT","hours":10,"self_review":false,"on":"2025-01-10"}],"target":"RHIA","optimize":"cost","max_months":24,"max_cost_usd":3000}`,
		`{"credentials":[{"code":"CPC","earned_on":"1900-01-01","apprentice":true}],"ceus":[{"code":"CPC","hours":1000,"on":"2025-06-01"}]}`,
		`{"experience":[{"area":"privacy_security","months":1200}],"target":"CHPS","max_months":1}`,
		`{"education":[{"level":"phd"}],"credentials":[{"code":""}],"max_cost_usd":-1}`,
		`{"experience":[{"area":"coding","months":1e400}]}`,
		`[]`, `null`, `"x"`, `{"target":null}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	cat := mustCatalog(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseState(data)
		if err != nil {
			return
		}
		if err := st.Validate(cat, date(testToday)); err != nil {
			return
		}
		p, err := Recommend(cat, st, Options{Today: date(testToday)})
		if err != nil {
			t.Fatalf("valid state refused: %v", err)
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("plan does not marshal: %v", err)
		}
	})
}
