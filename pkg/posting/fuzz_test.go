package posting

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// addFileSeeds adds the files matching pattern to the fuzz corpus.
func addFileSeeds(f *testing.F, patterns ...string) {
	f.Helper()
	for _, pattern := range patterns {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			f.Fatalf("no seeds for %s: %v", pattern, err)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// labelledSeeds returns the plain-shape JSON of each labelled posting.
func labelledSeeds(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	for _, lp := range loadLabelled(f) {
		out = append(out, lp.Posting)
	}
	return out
}

func FuzzDecodeJSON(f *testing.F) {
	addFileSeeds(f, "testdata/decode/*.json", "testdata/bench/*.json")
	for _, s := range labelledSeeds(f) {
		f.Add(s)
	}
	for _, s := range []string{`[]`, `{}`, `[{}]`, `[1,"a",null]`, `{"title":null}`, `[{"salary_min":"1e400"}]`, `{"employment_type":[[]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, MediaJSON, body, DecodeOptions{}) })
}

func FuzzDecodeNDJSON(f *testing.F) {
	addFileSeeds(f, "testdata/decode/*.ndjson")
	var all bytes.Buffer
	for _, s := range labelledSeeds(f) {
		var compact bytes.Buffer
		if err := json.Compact(&compact, s); err != nil {
			f.Fatal(err)
		}
		all.Write(compact.Bytes())
		all.WriteByte('\n')
	}
	f.Add(all.Bytes())
	f.Add([]byte("\n\n{}\r\n[[\n"))
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, MediaNDJSON, body, DecodeOptions{}) })
}

func FuzzDecodeCSV(f *testing.F) {
	addFileSeeds(f, "testdata/decode/*.csv")
	f.Add([]byte(CSVHeader + "\n"))
	f.Add([]byte("title,description,employer,date_posted\n\"a\"\"b\",c,d,2025-05-01\n,,,\n"))
	mapping := map[string]string{"Job Title": "title", "Job Description": "description", "Company": "employer", "Posted On": "date_posted", "ZIP": "postal_code", "Pay Rate": "salary_min", "Pay Period": "salary_unit", "Internal Notes": "-"}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, MediaCSV, body, DecodeOptions{Columns: mapping}) })
}

func FuzzDecodeJSONLD(f *testing.F) {
	addFileSeeds(f, "testdata/decode/*.jsonld")
	for _, s := range []string{`{"@graph":{"@type":"JobPosting"}}`, `{"@graph":[{"@graph":[{"@type":"JobPosting","hiringOrganization":{"@id":"x"}}]}]}`, `[{"@type":["JobPosting"],"baseSalary":[{"value":{"minValue":"$1,000"}}]}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, MediaJSONLD, body, DecodeOptions{}) })
}

// checkDecode runs a body through Decode and Normalize and checks what must
// hold for any input: no panic, only caller errors, every record accounted
// for once, and clean output.
func checkDecode(t *testing.T, contentType string, body []byte, opt DecodeOptions) {
	b, err := Decode(contentType, bytes.NewReader(body), opt)
	if err != nil {
		if c := apierr.CodeOf(err); c != apierr.Invalid && c != apierr.TooLarge {
			t.Fatalf("error with code %s: %v", c, err)
		}
		return
	}
	n := len(b.Records) + len(b.Errors)
	if n > MaxRecords {
		t.Fatalf("%d records", n)
	}
	seen := make([]bool, n)
	mark := func(i int) {
		if i < 0 || i >= n || seen[i] {
			t.Fatalf("index %d out of range or repeated (n=%d)", i, n)
		}
		seen[i] = true
	}
	for _, e := range b.Errors {
		mark(e.Index)
		if len(e.Fields) == 0 {
			t.Fatalf("record error %d without fields", e.Index)
		}
		for _, f := range e.Fields {
			if !strings.HasPrefix(f.Field, "records[") || !utf8.ValidString(f.Message) {
				t.Fatalf("bad field error %+v", f)
			}
		}
	}
	codes := DefaultExtractor().Credentials()
	for _, r := range b.Records {
		mark(r.Index)
		p, err := Normalize(r, NormalizeOptions{Now: labelledNow})
		if err != nil {
			if apierr.CodeOf(err) != apierr.Invalid {
				t.Fatalf("normalize: %v", err)
			}
			continue
		}
		checkPosting(t, p, codes)
	}
}

func checkPosting(t *testing.T, p Posting, codes []string) {
	t.Helper()
	checkPlainText(t, "description", p.Description)
	if p.Title == "" || p.Employer == "" || p.Description == "" || strings.ContainsAny(p.Title, "\n<") {
		t.Fatalf("bad text fields %q %q", p.Title, p.Employer)
	}
	if len(p.Fingerprint) != 32 || len(p.ID) != 32 {
		t.Fatalf("ids %q %q", p.ID, p.Fingerprint)
	}
	if p.SalaryHourlyMin < 0 || p.SalaryHourlyMax > MaxHourlyWage || (p.SalaryHourlyMax > 0 && p.SalaryHourlyMin > p.SalaryHourlyMax) {
		t.Fatalf("salary %v-%v", p.SalaryHourlyMin, p.SalaryHourlyMax)
	}
	if pt, ok := p.Location.Point(); ok && !pt.Valid() {
		t.Fatalf("location %+v", p.Location)
	}
	checkRequirements(t, p.Requirements, codes)
}

func checkRequirements(t *testing.T, r Requirements, codes []string) {
	t.Helper()
	known := func(c string) bool { return slices.Contains(codes, c) }
	for _, g := range r.CredentialsRequired {
		if len(g) == 0 || !slices.IsSorted(g) || len(slices.Compact(slices.Clone(g))) != len(g) {
			t.Fatalf("bad group %v", g)
		}
		for _, c := range g {
			if !known(c) {
				t.Fatalf("unknown code %q", c)
			}
			if len(g) == 1 && (slices.Contains(r.CredentialsPreferred, c) || slices.Contains(r.CredentialsOrEligible, c)) {
				t.Fatalf("%s both required and preferred or or-eligible: %+v", c, r)
			}
		}
	}
	for _, list := range [][]string{r.CredentialsPreferred, r.CredentialsOrEligible, r.CodeSets, r.EHRSystems, r.Encoders, r.Skills} {
		if list == nil || !slices.IsSorted(list) || len(slices.Compact(slices.Clone(list))) != len(list) {
			t.Fatalf("bad list %v", list)
		}
	}
	for _, c := range append(slices.Clone(r.CredentialsPreferred), r.CredentialsOrEligible...) {
		if !known(c) {
			t.Fatalf("unknown code %q", c)
		}
	}
	if r.EducationMin != EducationNone && r.EducationMin.Rank() == 0 {
		t.Fatalf("education %q", r.EducationMin)
	}
	if r.ExperienceMonthsMin < 0 || r.ExperienceMonthsMin > 600 {
		t.Fatalf("experience %d", r.ExperienceMonthsMin)
	}
	switch r.WorkMode {
	case "", "remote", "hybrid", "onsite":
	default:
		t.Fatalf("work mode %q", r.WorkMode)
	}
	// Routes: one to MaxRoutes, canonical, known codes, and the summary is
	// what every route requires.
	if len(r.Routes) == 0 || len(r.Routes) > MaxRoutes || !reflect.DeepEqual(r.Routes, CanonicalRoutes(r.Routes)) {
		t.Fatalf("routes %+v", r.Routes)
	}
	var s Requirements
	s.SetRoutes(r.Routes)
	if !reflect.DeepEqual(s.CredentialsRequired, r.CredentialsRequired) || s.EducationMin != r.EducationMin || s.ExperienceMonthsMin != r.ExperienceMonthsMin {
		t.Fatalf("summary %v %q %d of routes %+v", r.CredentialsRequired, r.EducationMin, r.ExperienceMonthsMin, r.Routes)
	}
	for _, rt := range r.Routes {
		if rt.ExperienceMonthsMin < 0 || rt.ExperienceMonthsMin > 600 || rt.EducationMin != EducationNone && rt.EducationMin.Rank() == 0 {
			t.Fatalf("route %+v", rt)
		}
		for _, g := range rt.Credentials {
			for _, c := range g {
				if !known(c) {
					t.Fatalf("unknown code %q in route %+v", c, rt)
				}
			}
		}
	}
}

func FuzzExtract(f *testing.F) {
	for _, lp := range loadLabelled(f) {
		var raw Raw
		if err := json.Unmarshal(lp.Posting, &raw); err != nil {
			f.Fatal(err)
		}
		f.Add(raw.Title, raw.Description)
	}
	f.Add("", "RHIT or RHIT-eligible, and (CCS or CIC) required; CPC-A will be considered. No CCS-P required.")
	f.Add("Coder - Remote", "Must obtain CCS within 12 months of hire | CDIP a plus; 1-2 years experience")
	codes := DefaultExtractor().Credentials()
	f.Fuzz(func(t *testing.T, title, text string) {
		r := Extract(title, text)
		checkRequirements(t, r, codes)
		if again := Extract(title, text); !reflect.DeepEqual(r, again) {
			t.Fatalf("not deterministic:\n%+v\n%+v", r, again)
		}
		plain := PlainText(text)
		checkPlainText(t, "PlainText", plain)
		if looksLikeHTML(plain) {
			t.Fatalf("PlainText(%q) = %q looks like HTML", text, plain)
		}
		// Entities are decoded once per pass, so text that still holds one
		// ("&amp;amp;" decodes to "&amp;") may change again.
		if !strings.Contains(plain, "&") && PlainText(plain) != plain {
			t.Fatalf("PlainText not idempotent on %q", text)
		}
		checkRequirements(t, Extract(plainLine(title), plain), codes)
	})
}
