package posting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

func decodeFile(t *testing.T, name, contentType string, opt DecodeOptions) Batch {
	t.Helper()
	f, err := os.Open("testdata/decode/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := Decode(contentType, f, opt)
	if err != nil {
		t.Fatalf("Decode(%s): %v", name, err)
	}
	return b
}

// summary lists a batch as "index@line" for records and
// "index@line field: message" for errors, for compact comparisons.
func summary(b Batch) []string {
	var out []string
	for _, r := range b.Records {
		out = append(out, fmt.Sprintf("%d@%d", r.Index, r.Line))
	}
	for _, e := range b.Errors {
		for _, f := range e.Fields {
			out = append(out, fmt.Sprintf("%d@%d %s: %s", e.Index, e.Line, f.Field, f.Message))
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestDecodeJSON(t *testing.T) {
	b := decodeFile(t, "plain-array.json", "application/json; charset=utf-8", DecodeOptions{})
	if got, want := summary(b), []string{"0@2", "1@13"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("summary %v, want %v", got, want)
	}
	r := b.Records[0]
	if *r.SalaryMin != 20.48 || !reflect.DeepEqual(r.EmploymentType, []string{"full-time"}) || r.PostalCode != "98101" {
		t.Errorf("record 0 decoded as %+v", r)
	}
	if r := b.Records[1]; *r.SalaryMax != 85280 || *r.ExperienceInLieuOfEducation != false || r.WorkMode != "remote" {
		t.Errorf("record 1 decoded as %+v", r)
	}

	b = decodeFile(t, "plain-object.json", MediaJSON, DecodeOptions{})
	if len(b.Records) != 1 || *b.Records[0].Latitude != 39.966856 || b.Records[0].Line != 1 {
		t.Errorf("single object decoded as %+v", b)
	}
}

func TestDecodeNDJSON(t *testing.T) {
	b := decodeFile(t, "postings.ndjson", MediaNDJSON, DecodeOptions{})
	want := []string{
		"0@1", "4@6",
		"1@3 records[1]: malformed JSON at column 51: unexpected end of JSON input",
		"2@4 records[2].salary_min: want a number, got \"seventeen\"",
		"3@5 records[3]: want a JSON object",
	}
	if got := summary(b); !reflect.DeepEqual(got, want) {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
	// application/jsonl is the same format.
	b2, err := Decode(MediaJSONL, strings.NewReader(`{"title":"a"}`+"\n"), DecodeOptions{})
	if err != nil || len(b2.Records) != 1 {
		t.Errorf("jsonl: %v %+v", err, b2)
	}
}

func TestDecodeCSV(t *testing.T) {
	b := decodeFile(t, "postings.csv", MediaCSV, DecodeOptions{})
	want := []string{
		"0@2", "1@4",
		"2@5 records[2]: line 5 has 3 cells, the header has 23",
		"3@6 records[3].experience_months: want a whole number, got \"thirty-six\"",
	}
	if got := summary(b); !reflect.DeepEqual(got, want) {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
	r := b.Records[1]
	if !reflect.DeepEqual(r.EmploymentType, []string{"PART_TIME", "PER_DIEM"}) || *r.SalaryMin != 20.48 || !*r.ExperienceInLieuOfEducation || r.DatePosted != "5/20/2025" {
		t.Errorf("row 2 decoded as %+v", r)
	}
	if r := b.Records[0]; !strings.Contains(r.Description, "\n<p>Desired") || *r.ExperienceMonths != 36 {
		t.Errorf("row 1 decoded as %+v", r)
	}
}

func TestDecodeCSVColumnMapping(t *testing.T) {
	mapping := map[string]string{
		"Job Title": "title", "job description": "description", "COMPANY": "employer", "Posted On": "date_posted",
		"ZIP": "postal_code", "Pay Rate": "salary_min", "Pay-Period": "salary_unit", "Internal Notes": "-",
	}
	b := decodeFile(t, "mapped.csv", MediaCSV, DecodeOptions{Columns: mapping})
	if len(b.Records) != 1 || b.Records[0].Title != "Coding Specialist" || *b.Records[0].SalaryMin != 23 || b.Records[0].SalaryUnit != "HOUR" {
		t.Fatalf("decoded %+v", b)
	}

	f, err := os.Open("testdata/decode/mapped.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = Decode(MediaCSV, f, DecodeOptions{Columns: map[string]string{"Job Title": "name"}})
	e := apierr.As(err)
	if e.Code != apierr.Invalid {
		t.Fatalf("unmapped header: %v", err)
	}
	for _, want := range []string{`columns.Job Title: maps to "name"`, `unknown column "Job Description"`, "missing column date_posted", "missing column title"} {
		if !strings.Contains(e.Error(), want) {
			t.Errorf("error %q lacks %q", e.Error(), want)
		}
	}
}

func TestDecodeJSONLD(t *testing.T) {
	b := decodeFile(t, "jobposting.jsonld", MediaJSONLD, DecodeOptions{})
	want := Raw{
		Line:  1,
		Title: "Health Information Technician I", Employer: "St. Agnes Hospital", EmployerURL: "https://www.stagnes.example",
		Identifier: "SAH-HIT-1", DatePosted: "2025-05-22", ValidThrough: "2025-07-22T23:59",
		PostalCode: "21201", Locality: "Baltimore", Region: "MD", Country: "US",
		EmploymentType: []string{"FULL_TIME"}, SalaryMin: ptr(21.5), SalaryMax: ptr(27.75), SalaryUnit: "HOUR", Currency: "USD",
		Education: "associate degree", ExperienceMonths: ptr(6), ExperienceInLieuOfEducation: ptr(false), OccupationalCategory: "29-2072.00",
	}
	got := b.Records[0]
	want.Description = got.Description
	if !reflect.DeepEqual(got, want) {
		t.Errorf("jobposting.jsonld\n got %+v\nwant %+v", got, want)
	}

	b = decodeFile(t, "graph.jsonld", MediaJSONLD, DecodeOptions{})
	if got, want := summary(b), []string{"0@6", `1@19 records[1].baseSalary.value.value: want a number, got "seventy thousand"`}; !reflect.DeepEqual(got, want) {
		t.Errorf("graph summary %q, want %q", got, want)
	}
	r := b.Records[0]
	if r.Employer != "BrightPath Medicare Advantage" || r.WorkMode != "remote" || !reflect.DeepEqual(r.ApplicantLocations, []string{"USA"}) ||
		*r.SalaryMin != 29.5 || *r.SalaryMax != 29.5 || *r.ExperienceMonths != 24 {
		t.Errorf("graph posting decoded as %+v", r)
	}

	b = decodeFile(t, "array.jsonld", MediaJSONLD, DecodeOptions{})
	if len(b.Records) != 2 || b.Records[0].Country != "US" || b.Records[1].Locality != "Raleigh" || b.Records[1].Region != "NC" {
		t.Errorf("array decoded as %+v", b)
	}
}

func TestDecodeRefusesBadBodies(t *testing.T) {
	deep := strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1)
	many := func(format string, n int) string {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&sb, format, i)
		}
		return sb.String()
	}
	cases := []struct {
		name, contentType, body string
		code                    apierr.Code
		contains                string
	}{
		{"unknown type", "application/xml", "<x/>", apierr.Unsupported, "text/csv"},
		{"bad media type", "json", "{}", apierr.Unsupported, "application/ld+json"},
		{"latin-1", "text/csv; charset=iso-8859-1", "a", apierr.Unsupported, "UTF-8"},
		{"empty", MediaJSON, " \n ", apierr.Invalid, "empty body"},
		{"invalid UTF-8", MediaCSV, "title\nok\n\xff\xfe", apierr.Invalid, "not valid UTF-8 at line 3, column 1"},
		{"deep JSON", MediaJSON, deep, apierr.Invalid, "nested deeper than 32"},
		{"deep JSON-LD", MediaJSONLD, `{"@graph":` + deep + `}`, apierr.Invalid, "nested deeper than 32"},
		{"malformed JSON", MediaJSON, "[\n  {\"title\": \"a\",,}\n]", apierr.Invalid, "line 2, column"},
		{"trailing data", MediaJSON, `{"title":"a"} {"title":"b"}`, apierr.Invalid, "malformed JSON"},
		{"scalar", MediaJSON, `"a posting"`, apierr.Invalid, "want a JSON object or an array"},
		{"bad CSV quote", MediaCSV, "title,description,employer,date_posted\n\"a\"b,c,d,e\n", apierr.Invalid, "line 2, column"},
		{"no JobPosting", MediaJSONLD, `{"@type":"Organization","name":"x"}`, apierr.Invalid, "no schema.org JobPosting"},
		{"too many JSON records", MediaJSON, "[" + strings.TrimSuffix(many(`{"title":"%d"},`, MaxRecords+1), ",") + "]", apierr.TooLarge, "more than 1000"},
		{"too many NDJSON records", MediaNDJSON, many("{\"title\":\"%d\"}\n", MaxRecords+1), apierr.TooLarge, "more than 1000"},
		{"too many CSV rows", MediaCSV, "title,description,employer,date_posted\n" + many("%d,d,e,2025-05-01\n", MaxRecords+1), apierr.TooLarge, "more than 1000"},
		{"too big a graph", MediaJSONLD, `{"@graph":[` + strings.TrimSuffix(many(`{"@type":"Place","@id":"p%d"},`, MaxRecords+1), ",") + `]}`, apierr.TooLarge, "more than 1000"},
		{"too many JSON-LD postings", MediaJSONLD, "[" + strings.TrimSuffix(many(`{"@type":"JobPosting","title":"%d"},`, MaxRecords+1), ",") + "]", apierr.TooLarge, "more than 1000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.contentType, strings.NewReader(c.body), DecodeOptions{})
			e := apierr.As(err)
			if e.Code != c.code || !strings.Contains(e.Error(), c.contains) {
				t.Errorf("got %v (%s), want %s containing %q", err, e.Code, c.code, c.contains)
			}
		})
	}
}

func TestDecodeRefusesOversizedBody(t *testing.T) {
	// A reader that never ends: Decode must stop after MaxBodyBytes.
	_, err := Decode(MediaNDJSON, endless{}, DecodeOptions{})
	if apierr.CodeOf(err) != apierr.TooLarge {
		t.Fatalf("got %v, want too large", err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestDecodeRecordLimits(t *testing.T) {
	long := strings.Repeat("x", MaxDescriptionBytes+1)
	body := fmt.Sprintf(`{"title":"a","description":%q,"employer":"e","date_posted":"2025-05-01","employment_type":[%s]}`,
		long, strings.TrimSuffix(strings.Repeat(`"FULL_TIME",`, MaxListItems+1), ","))
	b, err := Decode(MediaNDJSON, strings.NewReader(body+"\n"+strings.Repeat("[", MaxJSONDepth+1)+"\n"), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"0@1 records[0].description: longer than 65536 bytes",
		"0@1 records[0].employment_type: more than 20 items",
		"1@2 records[1]: JSON nested deeper than 32 levels",
	}
	if got := summary(b); !reflect.DeepEqual(got, want) {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
}

func TestDecodeObjectErrorsNameEveryField(t *testing.T) {
	b, err := Decode(MediaJSON, strings.NewReader(`{"title":["a","b"],"salary_max":{"v":1},"latitude":"north","experience_months":1.5,"experience_in_lieu_of_education":"maybe","colour":"red"}`), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"0@1 records[0].colour: unknown field",
		"0@1 records[0].experience_in_lieu_of_education: want true or false, got \"maybe\"",
		"0@1 records[0].experience_months: want a whole number, got \"1.5\"",
		"0@1 records[0].latitude: want a number, got \"north\"",
		"0@1 records[0].salary_max: want a string or number, got an object",
		"0@1 records[0].title: want one value, got a list",
	}
	if got := summary(b); !reflect.DeepEqual(got, want) {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
}

// TestDecodeRoundTripsPlainShape checks that Raw's JSON tags and the field
// names the decoders accept are the same list.
func TestDecodeRoundTripsPlainShape(t *testing.T) {
	in := Raw{
		Title: "t", Description: "d", Employer: "e", EmployerURL: "https://e.example", Identifier: "i", URL: "https://u.example",
		DatePosted: "2025-05-01", ValidThrough: "2025-06-01", PostalCode: "10001", Locality: "New York", Region: "NY", Country: "US",
		Latitude: ptr(40.7), Longitude: ptr(-73.9), WorkMode: "onsite", ApplicantLocations: []string{"NY"}, EmploymentType: []string{"FULL_TIME"},
		SalaryMin: ptr(20.0), SalaryMax: ptr(25.0), SalaryUnit: "HOUR", Currency: "USD", Education: "associate",
		ExperienceMonths: ptr(12), ExperienceInLieuOfEducation: ptr(true), OccupationalCategory: "29-2072.00",
	}
	v := reflect.ValueOf(in)
	for i := 0; i < v.NumField(); i++ {
		if tag := v.Type().Field(i).Tag.Get("json"); tag != "-" && v.Field(i).IsZero() {
			t.Fatalf("fill in %s so that the round trip covers it", v.Type().Field(i).Name)
		}
	}
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Decode(MediaJSON, bytes.NewReader(body), DecodeOptions{})
	if err != nil || len(b.Records) != 1 {
		t.Fatalf("decode: %v %+v", err, b.Errors)
	}
	in.Line = 1
	if !reflect.DeepEqual(b.Records[0], in) {
		t.Errorf("round trip\n got %+v\nwant %+v", b.Records[0], in)
	}
	// Every CSV header column is a field too.
	cols, err := csvColumns(strings.Split(CSVHeader, ","), nil)
	if err != nil || len(cols) != 23 {
		t.Errorf("CSVHeader: %v, %d columns", err, len(cols))
	}
}
