package posting

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// Raw is one posting as received, before validation. Its JSON form is the
// "plain shape" accepted as application/json and NDJSON; the CSV columns have
// the same names. Numbers may arrive as JSON numbers or as text ("$52,000").
type Raw struct {
	// Index is the record's 0-based position in its batch and Line the
	// 1-based line where it starts (0 when unknown). Field errors use Index:
	// "records[3].title".
	Index int `json:"-"`
	Line  int `json:"-"`

	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"` // HTML or plain text
	Employer    string `json:"employer,omitempty"`
	EmployerURL string `json:"employer_url,omitempty"`
	Identifier  string `json:"identifier,omitempty"` // the sender's own id for the posting
	URL         string `json:"url,omitempty"`

	DatePosted   string `json:"date_posted,omitempty"`   // 2025-05-12 or RFC 3339
	ValidThrough string `json:"valid_through,omitempty"` // idem

	PostalCode string   `json:"postal_code,omitempty"`
	Locality   string   `json:"locality,omitempty"`
	Region     string   `json:"region,omitempty"`
	Country    string   `json:"country,omitempty"`
	Latitude   *float64 `json:"latitude,omitempty"`
	Longitude  *float64 `json:"longitude,omitempty"`

	WorkMode           string   `json:"work_mode,omitempty"`           // remote, hybrid or onsite
	ApplicantLocations []string `json:"applicant_locations,omitempty"` // where a remote worker may live
	EmploymentType     []string `json:"employment_type,omitempty"`     // FULL_TIME, PART_TIME, …

	SalaryMin  *float64 `json:"salary_min,omitempty"`
	SalaryMax  *float64 `json:"salary_max,omitempty"`
	SalaryUnit string   `json:"salary_unit,omitempty"` // HOUR, DAY, WEEK, MONTH or YEAR
	Currency   string   `json:"currency,omitempty"`

	Education                   string `json:"education,omitempty"` // a level or free text
	ExperienceMonths            *int   `json:"experience_months,omitempty"`
	ExperienceInLieuOfEducation *bool  `json:"experience_in_lieu_of_education,omitempty"`
	OccupationalCategory        string `json:"occupational_category,omitempty"` // O*NET-SOC, e.g. 29-2072.00
}

// Batch is the result of decoding one request body: the records that
// decoded, and one RecordError per record that did not.
type Batch struct {
	Records []Raw
	Errors  []RecordError
}

// RecordError explains why one record of a batch was refused.
type RecordError struct {
	Index  int
	Line   int // 0 when unknown
	Fields []apierr.FieldError
}

// Err returns the record's problems as an apierr Invalid error.
func (e RecordError) Err() error { return apierr.InvalidFields(e.Fields...) }

// errUnknownField is returned by set for a name that is not a plain-shape
// field.
var errUnknownField = errors.New("unknown field")

// set assigns the plain-shape field name from the sender's values: one value
// for a scalar, any number for a list. nil values leave the field alone, so
// set(name, nil) reports whether name is a field at all. This switch is the
// one list of plain-shape fields; the JSON and CSV decoders both use it.
func (r *Raw) set(name string, vals []string) error {
	switch name {
	case "title":
		return setText(&r.Title, vals)
	case "description":
		return setText(&r.Description, vals)
	case "employer":
		return setText(&r.Employer, vals)
	case "employer_url":
		return setText(&r.EmployerURL, vals)
	case "identifier":
		return setText(&r.Identifier, vals)
	case "url":
		return setText(&r.URL, vals)
	case "date_posted":
		return setText(&r.DatePosted, vals)
	case "valid_through":
		return setText(&r.ValidThrough, vals)
	case "postal_code":
		return setText(&r.PostalCode, vals)
	case "locality":
		return setText(&r.Locality, vals)
	case "region":
		return setText(&r.Region, vals)
	case "country":
		return setText(&r.Country, vals)
	case "latitude":
		return setNumber(&r.Latitude, vals)
	case "longitude":
		return setNumber(&r.Longitude, vals)
	case "work_mode":
		return setText(&r.WorkMode, vals)
	case "applicant_locations":
		return setList(&r.ApplicantLocations, vals)
	case "employment_type":
		return setList(&r.EmploymentType, vals)
	case "salary_min":
		return setNumber(&r.SalaryMin, vals)
	case "salary_max":
		return setNumber(&r.SalaryMax, vals)
	case "salary_unit":
		return setText(&r.SalaryUnit, vals)
	case "currency":
		return setText(&r.Currency, vals)
	case "education":
		return setText(&r.Education, vals)
	case "experience_months":
		return setWholeNumber(&r.ExperienceMonths, vals)
	case "experience_in_lieu_of_education":
		return setBool(&r.ExperienceInLieuOfEducation, vals)
	case "occupational_category":
		return setText(&r.OccupationalCategory, vals)
	}
	return errUnknownField
}

// isListField reports whether a CSV cell for name holds several values.
func isListField(name string) bool {
	return name == "employment_type" || name == "applicant_locations"
}

func single(vals []string) (string, bool, error) {
	switch len(vals) {
	case 0:
		return "", false, nil
	case 1:
		return strings.TrimSpace(vals[0]), true, nil
	}
	return "", false, errors.New("want one value, got a list")
}

func setText(dst *string, vals []string) error {
	v, ok, err := single(vals)
	if ok {
		*dst = v
	}
	return err
}

func setList(dst *[]string, vals []string) error {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			*dst = append(*dst, v)
		}
	}
	return nil
}

func setNumber(dst **float64, vals []string) error {
	v, ok, err := single(vals)
	if !ok || v == "" {
		return err
	}
	f, err := parseAmount(v)
	if err != nil {
		return err
	}
	*dst = &f
	return nil
}

func setWholeNumber(dst **int, vals []string) error {
	v, ok, err := single(vals)
	if !ok || v == "" {
		return err
	}
	f, err := parseAmount(v)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1e9 {
		return fmt.Errorf("want a whole number, got %q", clip(v))
	}
	n := int(f)
	*dst = &n
	return nil
}

func setBool(dst **bool, vals []string) error {
	v, ok, err := single(vals)
	if !ok || v == "" {
		return err
	}
	var b bool
	switch strings.ToLower(v) {
	case "true", "yes", "y", "1":
		b = true
	case "false", "no", "n", "0":
	default:
		return fmt.Errorf("want true or false, got %q", clip(v))
	}
	*dst = &b
	return nil
}

// parseAmount reads a number as people write it in spreadsheets: "$52,000",
// "21.50", " 40 ".
func parseAmount(s string) (float64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(t, "$")
	t = strings.ReplaceAll(t, ",", "")
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("want a number, got %q", clip(s))
	}
	return f, nil
}

// clip shortens a value quoted back in an error message, so that an error
// about a 60 KiB field does not repeat the field.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// checkSizes adds a field error for every field of r over its limit. Decode
// calls it so oversized records never reach Records; Normalize calls it again
// because a Raw can also be built by hand.
func checkSizes(r *Raw, prefix string, fs *apierr.Fields) {
	over := func(name, v string, max int) {
		if len(v) > max {
			fs.Add(prefix+name, "longer than %d bytes", max)
		}
	}
	over("title", r.Title, MaxTitleBytes)
	over("description", r.Description, MaxDescriptionBytes)
	over("employer", r.Employer, MaxNameBytes)
	over("employer_url", r.EmployerURL, MaxURLBytes)
	over("url", r.URL, MaxURLBytes)
	over("identifier", r.Identifier, MaxShortFieldBytes)
	over("date_posted", r.DatePosted, MaxShortFieldBytes)
	over("valid_through", r.ValidThrough, MaxShortFieldBytes)
	over("postal_code", r.PostalCode, MaxShortFieldBytes)
	over("locality", r.Locality, MaxShortFieldBytes)
	over("region", r.Region, MaxShortFieldBytes)
	over("country", r.Country, MaxShortFieldBytes)
	over("work_mode", r.WorkMode, MaxShortFieldBytes)
	over("salary_unit", r.SalaryUnit, MaxShortFieldBytes)
	over("currency", r.Currency, MaxShortFieldBytes)
	over("education", r.Education, MaxNameBytes)
	over("occupational_category", r.OccupationalCategory, MaxShortFieldBytes)
	overList := func(name string, list []string) {
		if len(list) > MaxListItems {
			fs.Add(prefix+name, "more than %d items", MaxListItems)
		}
		for i, v := range list {
			if len(v) > MaxShortFieldBytes {
				fs.Add(fmt.Sprintf("%s%s[%d]", prefix, name, i), "longer than %d bytes", MaxShortFieldBytes)
			}
		}
	}
	overList("employment_type", r.EmploymentType)
	overList("applicant_locations", r.ApplicantLocations)
}

// recordPrefix is the field-path prefix of the record at index i.
func recordPrefix(i int) string { return "records[" + strconv.Itoa(i) + "]." }
