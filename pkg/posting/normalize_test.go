package posting

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

func validRaw() Raw {
	return Raw{
		Index:       7,
		Title:       "  Coder III &amp; <b>Abstractor</b> ",
		Description: "<p>Inpatient coding in Epic.</p><ul><li>RHIT and (CCS or CIC) required</li><li>RHIA desired</li><li>3 years of coding experience</li></ul>",
		Employer:    "Mercy Valley Medical Center",
		Identifier:  "REQ-1",
		URL:         "https://careers.example/jobs/1",
		DatePosted:  "2025-05-12",
		PostalCode:  "95814-1234",
		Region:      "California",
		SalaryMin:   ptr(54.72), SalaryMax: ptr(74.94), SalaryUnit: "HOUR",
		EmploymentType: []string{"Full-time", "full time", "PRN"},
	}
}

func normalizeOpts(t testing.TB) NormalizeOptions {
	return NormalizeOptions{Now: labelledNow, Geo: testZCTA(t)}
}

func TestNormalize(t *testing.T) {
	p, err := Normalize(validRaw(), normalizeOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Coder III & Abstractor" || p.Employer != "Mercy Valley Medical Center" {
		t.Errorf("title %q employer %q", p.Title, p.Employer)
	}
	if p.Description != "Inpatient coding in Epic.\n\n- RHIT and (CCS or CIC) required\n- RHIA desired\n- 3 years of coding experience" {
		t.Errorf("description %q", p.Description)
	}
	if !p.DatePosted.Equal(time.Date(2025, 5, 12, 0, 0, 0, 0, time.UTC)) || !p.ExpiresAt.Equal(p.DatePosted.AddDate(0, 0, DefaultStaleAfterDays)) || !p.ValidThrough.IsZero() {
		t.Errorf("dates %v %v %v", p.DatePosted, p.ValidThrough, p.ExpiresAt)
	}
	if p.SalaryHourlyMin != 54.72 || p.SalaryHourlyMax != 74.94 || p.SalaryAnnualMin != 113818 || p.SalaryAnnualMax != 155875 {
		t.Errorf("salary %v %v %v %v", p.SalaryHourlyMin, p.SalaryHourlyMax, p.SalaryAnnualMin, p.SalaryAnnualMax)
	}
	if pt, ok := p.Location.Point(); !ok || p.Location.PostalCode != "95814" || p.Location.Region != "CA" || math.Abs(pt.Lat-38.580568) > 1e-9 {
		t.Errorf("location %+v", p.Location)
	}
	if !reflect.DeepEqual(p.EmploymentType, []string{"FULL_TIME", "PER_DIEM"}) {
		t.Errorf("employment types %v", p.EmploymentType)
	}
	if !reflect.DeepEqual(p.CredentialsRequired, [][]string{{"CCS", "CIC"}, {"RHIT"}}) || !reflect.DeepEqual(p.CredentialsPreferred, []string{"RHIA"}) {
		t.Errorf("credentials %v %v", p.CredentialsRequired, p.CredentialsPreferred)
	}
	if p.Role != "coder" || p.SOCCode != "29-2072.00" || p.WorkMode != "onsite" || p.ExperienceMonthsMin != 36 || !slices.Equal(p.EHRSystems, []string{"Epic"}) {
		t.Errorf("requirements %+v", p.Requirements)
	}
	if p.Fingerprint == "" || p.ID == p.Fingerprint || len(p.ID) != 32 || p.SimHash == 0 {
		t.Errorf("ids %q %q %x", p.ID, p.Fingerprint, p.SimHash)
	}
}

func TestNormalizeFieldErrors(t *testing.T) {
	cases := []struct {
		name     string
		mutate   func(r *Raw)
		field    string
		contains string
	}{
		{"title", func(r *Raw) { r.Title = " <b></b> " }, "title", "required"},
		{"employer", func(r *Raw) { r.Employer = "" }, "employer", "required"},
		{"description", func(r *Raw) { r.Description = "" }, "description", "required"},
		{"description only markup", func(r *Raw) { r.Description = "<p> </p><script>x</script>" }, "description", "no text left"},
		{"date posted", func(r *Raw) { r.DatePosted = "" }, "date_posted", "required"},
		{"date format", func(r *Raw) { r.DatePosted = "May 12th" }, "date_posted", "want a date"},
		{"future", func(r *Raw) { r.DatePosted = "2025-06-03" }, "date_posted", "in the future"},
		{"valid through before posted", func(r *Raw) { r.ValidThrough = "2025-05-01" }, "valid_through", "before date_posted"},
		{"expired", func(r *Raw) { r.ValidThrough = "2025-05-31" }, "valid_through", "expired on 2025-05-31"},
		{"stale", func(r *Raw) { r.DatePosted = "2025-03-01" }, "date_posted", "older than 60 days"},
		{"min over max", func(r *Raw) { r.SalaryMin, r.SalaryMax = ptr(30.0), ptr(20.0) }, "salary_min", "greater than salary_max"},
		{"negative", func(r *Raw) { r.SalaryMin = ptr(-1.0) }, "salary_min", "must be positive"},
		{"hourly too low", func(r *Raw) { r.SalaryMin, r.SalaryMax = ptr(2.0), nil }, "salary_min", "outside $7-$500"},
		{"annual sent as hourly", func(r *Raw) { r.SalaryMin, r.SalaryMax = ptr(52000.0), nil }, "salary_min", "$52000.00 an hour"},
		{"annual too high", func(r *Raw) { r.SalaryUnit, r.SalaryMin, r.SalaryMax = "YEAR", ptr(5e6), nil }, "salary_min", "5000000 per YEAR is $2403.85 an hour, outside $7-$500"}, // not 5e+06
		{"unknown unit", func(r *Raw) { r.SalaryUnit = "FORTNIGHT" }, "salary_unit", "want HOUR"},
		{"implausible without unit", func(r *Raw) { r.SalaryUnit, r.SalaryMin, r.SalaryMax = "", ptr(3000.0), nil }, "salary_unit", "want HOUR"},
		{"currency", func(r *Raw) { r.Currency = "EUR" }, "currency", "only USD"},
		{"zip", func(r *Raw) { r.PostalCode = "9581" }, "postal_code", "want a US ZIP"},
		{"state", func(r *Raw) { r.Region = "Narnia" }, "region", "want a US state"},
		{"half coordinates", func(r *Raw) { r.Latitude = ptr(40.0) }, "latitude", "go together"},
		{"bad coordinates", func(r *Raw) { r.Latitude, r.Longitude = ptr(95.0), ptr(1.0) }, "latitude", "not a place"},
		{"no place", func(r *Raw) { r.PostalCode, r.Region = "", "" }, "postal_code", "required unless the job is remote"},
		{"work mode", func(r *Raw) { r.WorkMode = "sometimes" }, "work_mode", "want remote, hybrid or onsite"},
		{"url", func(r *Raw) { r.URL = "javascript:alert(1)" }, "url", "http or https"},
		{"experience", func(r *Raw) { r.ExperienceMonths = ptr(1000) }, "experience_months", "0 to 600"},
		{"oversized", func(r *Raw) { r.Title = strings.Repeat("a", MaxTitleBytes+1) }, "title", "longer than 300 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := validRaw()
			c.mutate(&r)
			_, err := Normalize(r, normalizeOpts(t))
			e := apierr.As(err)
			if e.Code != apierr.Invalid {
				t.Fatalf("got %v, want invalid", err)
			}
			for _, f := range e.Fields {
				if f.Field == "records[7]."+c.field && strings.Contains(f.Message, c.contains) {
					return
				}
			}
			t.Errorf("fields %v lack records[7].%s containing %q", e.Fields, c.field, c.contains)
		})
	}
}

func TestNormalizeNeedsNow(t *testing.T) {
	_, err := Normalize(validRaw(), NormalizeOptions{})
	if err == nil || apierr.CodeOf(err) != apierr.Internal {
		t.Errorf("got %v, want an internal error", err)
	}
}

func TestNormalizeSalaryUnits(t *testing.T) {
	cases := []struct {
		unit           string
		amount, hourly float64
	}{
		{"HOUR", 20, 20},
		{"hourly", 20, 20},
		{"DAY", 160, 20},
		{"WEEK", 800, 20},
		{"MONTH", 3466.67, 20},
		{"YEAR", 41600, 20},
		{"", 25, 25},    // a small figure is hourly
		{"", 52000, 25}, // a large one annual
		{"annual", 52000, 25},
	}
	for _, c := range cases {
		r := validRaw()
		r.SalaryUnit, r.SalaryMin, r.SalaryMax = c.unit, ptr(c.amount), nil
		p, err := Normalize(r, normalizeOpts(t))
		if err != nil {
			t.Errorf("%g per %q: %v", c.amount, c.unit, err)
			continue
		}
		if p.SalaryHourlyMin != c.hourly || p.SalaryAnnualMin != math.Round(c.hourly*HoursPerYear) || p.SalaryHourlyMax != 0 {
			t.Errorf("%g per %q: hourly %v annual %v, want %v", c.amount, c.unit, p.SalaryHourlyMin, p.SalaryAnnualMin, c.hourly)
		}
	}
}

func TestNormalizeLocation(t *testing.T) {
	t.Run("remote needs no place", func(t *testing.T) {
		r := validRaw()
		r.PostalCode, r.Region, r.WorkMode = "", "", "Remote"
		p, err := Normalize(r, normalizeOpts(t))
		if err != nil || p.WorkMode != "remote" || p.Location != (Location{}) {
			t.Errorf("%v %+v", err, p.Location)
		}
	})
	t.Run("remote read from the text", func(t *testing.T) {
		r := validRaw()
		r.PostalCode, r.Region = "", ""
		r.Description += "<p>This is a fully remote position.</p>"
		if p, err := Normalize(r, normalizeOpts(t)); err != nil || p.WorkMode != "remote" {
			t.Errorf("%v %q", err, p.WorkMode)
		}
	})
	t.Run("city and state", func(t *testing.T) {
		r := validRaw()
		r.PostalCode, r.Locality, r.Region = "", "Sacramento", "ca"
		p, err := Normalize(r, normalizeOpts(t))
		if err != nil || p.Location.Region != "CA" || p.Location.Lat != nil {
			t.Errorf("%v %+v", err, p.Location)
		}
	})
	t.Run("sender's coordinates win", func(t *testing.T) {
		r := validRaw()
		r.Latitude, r.Longitude = ptr(38.5), ptr(-121.4)
		p, err := Normalize(r, normalizeOpts(t))
		if err != nil || *p.Location.Lat != 38.5 {
			t.Errorf("%v %+v", err, p.Location)
		}
	})
	t.Run("no table, no coordinates", func(t *testing.T) {
		p, err := Normalize(validRaw(), NormalizeOptions{Now: labelledNow})
		if err != nil || p.Location.Lat != nil || p.Location.PostalCode != "95814" {
			t.Errorf("%v %+v", err, p.Location)
		}
	})
	t.Run("outside the US", func(t *testing.T) {
		r := validRaw()
		r.PostalCode, r.Region, r.Country = "M5V 2T6", "Ontario", "Canada"
		p, err := Normalize(r, normalizeOpts(t))
		if err != nil || p.Location.PostalCode != "M5V 2T6" || p.Location.Region != "Ontario" {
			t.Errorf("%v %+v", err, p.Location)
		}
	})
}

func TestNormalizeStatedFieldsWin(t *testing.T) {
	r := validRaw()
	r.Education = "Bachelor degree"
	r.ExperienceMonths = ptr(0)
	r.ExperienceInLieuOfEducation = ptr(true)
	r.OccupationalCategory = "29-9021"
	p, err := Normalize(r, normalizeOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.EducationMin != EducationBachelor || p.ExperienceMonthsMin != 0 || !p.ExperienceInLieuOfEducation || p.SOCCode != "29-9021.00" {
		t.Errorf("stated fields not kept: %+v", p.Requirements)
	}
	for in, want := range map[string]Education{"high_school": EducationHighSchool, "associate degree": EducationAssociate, "postgraduate degree": EducationMaster, "professional certificate": EducationCertificate, "no requirements": EducationNone} {
		r := validRaw()
		r.Education = in
		p, err := Normalize(r, normalizeOpts(t))
		if err != nil {
			t.Fatal(err)
		}
		// Unrecognised text leaves what the description says.
		if want == EducationNone {
			want = Extract("", PlainText(r.Description)).EducationMin
		}
		if p.EducationMin != want {
			t.Errorf("education %q gave %q, want %q", in, p.EducationMin, want)
		}
	}
}

func TestNormalizeStaleAfterDays(t *testing.T) {
	r := validRaw()
	r.DatePosted = "2025-05-01"
	opt := normalizeOpts(t)
	opt.StaleAfterDays = 10
	if _, err := Normalize(r, opt); err == nil || !strings.Contains(err.Error(), "older than 10 days") {
		t.Errorf("10 days: %v", err)
	}
	opt.StaleAfterDays = -1
	p, err := Normalize(r, opt)
	if err != nil || !p.ExpiresAt.IsZero() {
		t.Errorf("never stale: %v %v", err, p.ExpiresAt)
	}
}

// TestPostingJSONShape pins the field names of the normalised posting: they
// are the contract with the matching service and the search index.
func TestPostingJSONShape(t *testing.T) {
	r := validRaw()
	r.ValidThrough = "2025-07-01"
	p, err := Normalize(r, normalizeOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{
		"code_sets", "credentials_or_eligible", "credentials_preferred", "credentials_required", "date_posted", "description",
		"education_min", "ehr_systems", "employer", "employment_type", "encoders", "experience_in_lieu_of_education",
		"experience_months_min", "expires_at", "fingerprint", "id", "identifier", "location", "role", "routes",
		"salary_annual_max", "salary_annual_min", "salary_hourly_max", "salary_hourly_min", "simhash", "skills", "soc_code",
		"title", "url", "valid_through", "work_mode",
	}
	if !slices.Equal(keys, want) {
		t.Errorf("keys\n got %q\nwant %q", keys, want)
	}
	if _, ok := m["simhash"].(string); !ok {
		t.Errorf("simhash is %T, want a string", m["simhash"])
	}
	loc, _ := m["location"].(map[string]any)
	if _, ok := loc["lat"].(float64); !ok || loc["postal_code"] != "95814" {
		t.Errorf("location %v", loc)
	}
}
