package posting

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/geo"
)

// Posting is a validated, normalised job posting: the payload of jobs.posted
// events and the document indexed for matching.
type Posting struct {
	// ID names the posting across updates: derived from the employer and
	// the sender's identifier when there is one, else equal to Fingerprint.
	ID         string `json:"id"`
	Identifier string `json:"identifier,omitempty"`
	// Fingerprint names this version of the posting: it changes when the
	// content changes and is the same when the same posting is sent twice,
	// whatever its whitespace or letter case. It is the JetStream
	// Nats-Msg-Id of the posting's event.
	Fingerprint string `json:"fingerprint"`
	// SimHash of the title and description, for near-duplicates (see
	// NearDuplicateDistance). A string in JSON: it does not fit a double.
	SimHash uint64 `json:"simhash,string"`

	Title       string `json:"title"`
	Employer    string `json:"employer"`
	EmployerURL string `json:"employer_url,omitempty"`
	Description string `json:"description"` // plain text, see PlainText
	URL         string `json:"url,omitempty"`

	DatePosted   time.Time `json:"date_posted"`
	ValidThrough time.Time `json:"valid_through,omitzero"`
	// ExpiresAt is ValidThrough, or DatePosted plus the stale period when
	// the sender gave no ValidThrough: when ingest closes the posting.
	ExpiresAt time.Time `json:"expires_at,omitzero"`

	EmploymentType     []string `json:"employment_type"` // schema.org values: FULL_TIME, PART_TIME, CONTRACTOR, TEMPORARY, INTERN, VOLUNTEER, PER_DIEM, OTHER
	Location           Location `json:"location"`
	ApplicantLocations []string `json:"applicant_locations,omitempty"`

	// Pay in US dollars, converted from the sender's unit with
	// HoursPerYear; zero when not given.
	SalaryHourlyMin float64 `json:"salary_hourly_min,omitempty"`
	SalaryHourlyMax float64 `json:"salary_hourly_max,omitempty"`
	SalaryAnnualMin float64 `json:"salary_annual_min,omitempty"`
	SalaryAnnualMax float64 `json:"salary_annual_max,omitempty"`

	Requirements
}

// Location is where the job is. Lat and Lon come from the sender or, for a
// US ZIP, from the ZCTA table; they are nil when unknown.
type Location struct {
	PostalCode string   `json:"postal_code,omitempty"`
	Locality   string   `json:"locality,omitempty"`
	Region     string   `json:"region,omitempty"` // USPS code for US states
	Country    string   `json:"country,omitempty"`
	Lat        *float64 `json:"lat,omitempty"`
	Lon        *float64 `json:"lon,omitempty"`
}

// Point returns the location's coordinates, if known.
func (l Location) Point() (geo.Point, bool) {
	if l.Lat == nil || l.Lon == nil {
		return geo.Point{}, false
	}
	return geo.Point{Lat: *l.Lat, Lon: *l.Lon}, true
}

// NormalizeOptions carries what Normalize needs from outside.
type NormalizeOptions struct {
	// Now is the current time; Normalize never reads the clock. Required.
	Now time.Time
	// Geo places US ZIP codes; nil leaves coordinates to the sender.
	Geo *geo.ZCTA
	// StaleAfterDays is how long a posting without validThrough stays open:
	// zero means DefaultStaleAfterDays, a negative value never.
	StaleAfterDays int
	// Extractor reads requirements; nil means DefaultExtractor().
	Extractor *Extractor
}

// Normalize validates r and builds its Posting. Problems with the sender's
// values come back as an apierr Invalid error whose fields are named
// "records[<r.Index>].<field>", all of them at once.
func Normalize(r Raw, opt NormalizeOptions) (Posting, error) {
	if opt.Now.IsZero() {
		return Posting{}, errors.New("normalize posting: NormalizeOptions.Now is not set")
	}
	x := opt.Extractor
	if x == nil {
		x = DefaultExtractor()
	}
	prefix := recordPrefix(r.Index)
	var fs apierr.Fields
	checkSizes(&r, prefix, &fs)
	if len(fs) > 0 {
		return Posting{}, fs.Err() // do no work on oversized input
	}
	p := Posting{
		Identifier:  plainLine(r.Identifier),
		Title:       plainLine(r.Title),
		Employer:    plainLine(r.Employer),
		Description: PlainText(r.Description),
	}
	required := func(name, v string) {
		if v == "" {
			fs.Add(prefix+name, "required")
		}
	}
	required("title", p.Title)
	required("employer", p.Employer)
	if p.Description == "" {
		if strings.TrimSpace(r.Description) == "" {
			fs.Add(prefix+"description", "required")
		} else {
			fs.Add(prefix+"description", "no text left after removing the HTML")
		}
	}
	p.URL = checkURL(r.URL, prefix+"url", &fs)
	p.EmployerURL = checkURL(r.EmployerURL, prefix+"employer_url", &fs)

	normalizeDates(&r, &p, opt, prefix, &fs)
	normalizeSalary(&r, &p, prefix, &fs)
	p.EmploymentType = employmentTypes(r.EmploymentType)
	for _, l := range r.ApplicantLocations {
		if l = plainLine(l); l != "" && !slices.Contains(p.ApplicantLocations, l) {
			p.ApplicantLocations = append(p.ApplicantLocations, l)
		}
	}
	mode := ""
	if r.WorkMode != "" {
		var ok bool
		if mode, ok = workMode(r.WorkMode); !ok {
			fs.Add(prefix+"work_mode", "want remote, hybrid or onsite, got %q", clip(r.WorkMode))
		}
	}
	if p.Title == "" || p.Description == "" {
		return Posting{}, fs.Err()
	}

	p.Requirements = x.extract(p.Title, p.Description) // both already folded by plainLine and PlainText
	p.WorkMode = firstNonEmpty(mode, p.WorkMode, "onsite")
	normalizeLocation(&r, &p, opt.Geo, prefix, &fs)
	mergeStated(&r, &p, x, prefix, &fs)
	if err := fs.Err(); err != nil {
		return Posting{}, err
	}
	p.SimHash = simHash(p.Title, p.Description)
	p.Fingerprint = Fingerprint(p)
	p.ID = postingID(p)
	return p, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func checkURL(raw, field string, fs *apierr.Fields) string {
	s := strings.TrimSpace(raw)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		fs.Add(field, "want an http or https URL")
		return ""
	}
	return u.String()
}

// parseDate reads a date in ISO 8601 as schema.org asks, or in the US
// month/day/year of spreadsheet exports; dateOnly reports that it had no time
// of day.
func parseDate(s string) (t time.Time, dateOnly bool, err error) {
	s = strings.TrimSpace(s)
	for _, l := range [...]struct {
		layout   string
		fixed    bool // the layout has one length: skip it for others, as a failed parse allocates
		dateOnly bool
	}{
		{time.DateOnly, true, true},
		{time.RFC3339Nano, false, false},
		{"2006-01-02T15:04:05", true, false},
		{"2006-01-02T15:04", true, false},
		{"2006-01-02 15:04:05", true, false},
		{"1/2/2006", false, true},
	} {
		if l.fixed && len(s) != len(l.layout) {
			continue
		}
		if t, err := time.Parse(l.layout, s); err == nil {
			return t.UTC(), l.dateOnly, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("want a date like 2025-05-12 or 2025-05-12T09:00:00Z, got %q", clip(s))
}

func normalizeDates(r *Raw, p *Posting, opt NormalizeOptions, prefix string, fs *apierr.Fields) {
	if strings.TrimSpace(r.DatePosted) == "" {
		fs.Add(prefix+"date_posted", "required")
	} else if t, _, err := parseDate(r.DatePosted); err != nil {
		fs.Add(prefix+"date_posted", "%s", err.Error())
	} else if t.After(opt.Now.Add(24 * time.Hour)) {
		// A day of slack covers time zones and clocks a little ahead.
		fs.Add(prefix+"date_posted", "in the future (%s)", t.Format(time.DateOnly))
	} else {
		p.DatePosted = t
	}
	if strings.TrimSpace(r.ValidThrough) != "" {
		t, dateOnly, err := parseDate(r.ValidThrough)
		switch {
		case err != nil:
			fs.Add(prefix+"valid_through", "%s", err.Error())
		case !p.DatePosted.IsZero() && t.Before(p.DatePosted):
			fs.Add(prefix+"valid_through", "before date_posted")
		default:
			if dateOnly {
				// "Valid through 2025-07-12" includes that day.
				t = t.Add(24*time.Hour - time.Second)
			}
			p.ValidThrough = t
		}
	}
	if p.DatePosted.IsZero() {
		return
	}
	p.ExpiresAt = p.ValidThrough
	stale := opt.StaleAfterDays
	if stale == 0 {
		stale = DefaultStaleAfterDays
	}
	if p.ExpiresAt.IsZero() && stale > 0 {
		p.ExpiresAt = p.DatePosted.AddDate(0, 0, stale)
	}
	if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(opt.Now) {
		if p.ValidThrough.IsZero() {
			fs.Add(prefix+"date_posted", "older than %d days and no valid_through; the posting is stale", stale)
		} else {
			fs.Add(prefix+"valid_through", "the posting expired on %s", p.ValidThrough.Format(time.DateOnly))
		}
	}
}

// normalizeSalary converts the sender's pay to hourly and annual US dollars
// and refuses figures that cannot be right.
func normalizeSalary(r *Raw, p *Posting, prefix string, fs *apierr.Fields) {
	if r.SalaryMin == nil && r.SalaryMax == nil {
		return
	}
	if c := strings.ToUpper(strings.TrimSpace(r.Currency)); c != "" && c != "USD" && c != "US$" && c != "$" {
		fs.Add(prefix+"currency", "only USD is supported, got %q", clip(r.Currency))
		return
	}
	lo, hi := 0.0, 0.0
	if r.SalaryMin != nil {
		lo = *r.SalaryMin
	}
	if r.SalaryMax != nil {
		hi = *r.SalaryMax
	}
	bad := false
	for _, v := range [...]struct {
		name string
		val  *float64
	}{{"salary_min", r.SalaryMin}, {"salary_max", r.SalaryMax}} {
		if v.val != nil && *v.val <= 0 {
			fs.Add(prefix+v.name, "must be positive")
			bad = true
		}
	}
	if bad {
		return
	}
	if lo > 0 && hi > 0 && lo > hi {
		fs.Add(prefix+"salary_min", "greater than salary_max")
		return
	}
	perHour, ok := hoursFactor(r.SalaryUnit, max(lo, hi))
	if !ok {
		fs.Add(prefix+"salary_unit", "want HOUR, DAY, WEEK, MONTH or YEAR, got %q", clip(r.SalaryUnit))
		return
	}
	for _, v := range [...]struct {
		name string
		val  float64
		h, a *float64
	}{{"salary_min", lo, &p.SalaryHourlyMin, &p.SalaryAnnualMin}, {"salary_max", hi, &p.SalaryHourlyMax, &p.SalaryAnnualMax}} {
		if v.val == 0 {
			continue
		}
		hourly := v.val * perHour
		if hourly < MinHourlyWage || hourly > MaxHourlyWage {
			fs.Add(prefix+v.name, "%s per %s is $%.2f an hour, outside $%s-$%s; check salary_unit", plainNumber(v.val), unitName(r.SalaryUnit, v.val), hourly, plainNumber(MinHourlyWage), plainNumber(MaxHourlyWage))
			continue
		}
		*v.h = math.Round(hourly*100) / 100
		*v.a = math.Round(hourly * HoursPerYear)
	}
}

// hoursFactor returns what one unit of pay is per hour. With no unit, a
// figure up to MaxHourlyWage is hourly and one from a year at MinHourlyWage
// up is annual: nothing between is plausible for either, so it is refused.
func hoursFactor(unit string, amount float64) (float64, bool) {
	switch strings.ToUpper(strings.TrimSpace(unit)) {
	case "HOUR", "HOURLY", "HR", "PER HOUR":
		return 1, true
	case "DAY", "DAILY", "PER DAY":
		return 1.0 / 8, true
	case "WEEK", "WEEKLY", "PER WEEK":
		return 1.0 / 40, true
	case "MONTH", "MONTHLY", "PER MONTH":
		return 12.0 / HoursPerYear, true
	case "YEAR", "YEARLY", "ANNUAL", "ANNUALLY", "PER YEAR", "SALARY":
		return 1.0 / HoursPerYear, true
	case "":
		switch {
		case amount <= MaxHourlyWage:
			return 1, true
		case amount >= MinHourlyWage*HoursPerYear:
			return 1.0 / HoursPerYear, true
		}
	}
	return 0, false
}

func unitName(unit string, amount float64) string {
	if unit == "" {
		if amount <= MaxHourlyWage {
			return "HOUR (assumed)"
		}
		return "YEAR (assumed)"
	}
	return strings.ToUpper(strings.TrimSpace(unit))
}

// employmentTypes maps the ways senders write employment types to
// schema.org's values; anything unrecognised is OTHER.
func employmentTypes(in []string) []string {
	out := []string{}
	for _, v := range in {
		key := strings.Map(func(r rune) rune {
			switch {
			case r == ' ' || r == '-' || r == '/':
				return '_'
			case r >= 'a' && r <= 'z':
				return r - 'a' + 'A'
			}
			return r
		}, strings.TrimSpace(v))
		var t string
		switch key {
		case "":
			continue
		case "FULL_TIME", "FULLTIME", "FT", "FULL":
			t = "FULL_TIME"
		case "PART_TIME", "PARTTIME", "PT", "PART":
			t = "PART_TIME"
		case "CONTRACTOR", "CONTRACT", "CONTRACT_TO_HIRE", "1099", "TRAVEL":
			t = "CONTRACTOR"
		case "TEMPORARY", "TEMP", "SEASONAL", "TEMP_TO_HIRE":
			t = "TEMPORARY"
		case "INTERN", "INTERNSHIP", "EXTERNSHIP":
			t = "INTERN"
		case "VOLUNTEER":
			t = "VOLUNTEER"
		case "PER_DIEM", "PERDIEM", "PRN", "AS_NEEDED":
			t = "PER_DIEM"
		default:
			t = "OTHER"
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

func workMode(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "remote", "telecommute", "work from home", "wfh", "fully remote":
		return "remote", true
	case "hybrid":
		return "hybrid", true
	case "onsite", "on-site", "on site", "in person", "in-person", "office":
		return "onsite", true
	}
	return "", false
}

// normalizeLocation checks the place and fills in coordinates from the ZIP.
// A posting needs a place unless it is remote.
func normalizeLocation(r *Raw, p *Posting, z *geo.ZCTA, prefix string, fs *apierr.Fields) {
	l := Location{Locality: plainLine(r.Locality), Country: strings.TrimSpace(r.Country)}
	us := false
	switch strings.ToUpper(strings.ReplaceAll(l.Country, ".", "")) {
	case "", "US", "USA", "UNITED STATES", "UNITED STATES OF AMERICA":
		us = true
		if l.Country != "" {
			l.Country = "US"
		}
	}
	if zip := strings.TrimSpace(r.PostalCode); zip != "" {
		if !us {
			l.PostalCode = zip
		} else if n, ok := geo.NormalizeZIP(zip); ok {
			l.PostalCode = n
		} else {
			fs.Add(prefix+"postal_code", "want a US ZIP code like 12345 or 12345-6789, got %q", clip(zip))
		}
	}
	if region := strings.TrimSpace(r.Region); region != "" {
		l.Region = region
		if us {
			if code, ok := geo.StateCode(region); ok {
				l.Region = code
			} else {
				fs.Add(prefix+"region", "want a US state, got %q", clip(region))
			}
		}
	}
	switch {
	case r.Latitude != nil && r.Longitude != nil:
		pt := geo.Point{Lat: *r.Latitude, Lon: *r.Longitude}
		if !pt.Valid() {
			fs.Add(prefix+"latitude", "coordinates %g, %g are not a place", pt.Lat, pt.Lon)
		} else {
			l.Lat, l.Lon = &pt.Lat, &pt.Lon
		}
	case r.Latitude != nil || r.Longitude != nil:
		fs.Add(prefix+"latitude", "latitude and longitude go together")
	case us && l.PostalCode != "":
		if pt, ok := z.Lookup(l.PostalCode); ok {
			l.Lat, l.Lon = &pt.Lat, &pt.Lon
		}
	}
	placed := l.PostalCode != "" || (l.Locality != "" && l.Region != "") || l.Lat != nil
	if !placed && p.WorkMode != "remote" {
		fs.Add(prefix+"postal_code", "required unless the job is remote: give postal_code, locality and region, or latitude and longitude")
	}
	p.Location = l
}

// mergeStated lets what the sender stated in fields override what the text
// says: their education level, months of experience, in-lieu flag and
// O*NET-SOC code.
func mergeStated(r *Raw, p *Posting, x *Extractor, prefix string, fs *apierr.Fields) {
	var edu *Education
	var months *int
	if ed := strings.TrimSpace(r.Education); ed != "" {
		if level := Education(strings.ToLower(ed)); level.Rank() > 0 {
			edu = &level
		} else if got := x.Extract("", strings.ReplaceAll(ed, "_", " ")).EducationMin; got != EducationNone {
			// Free text or schema.org's credentialCategory ("associate
			// degree"): the dictionary reads it like a description.
			edu = &got
		}
	}
	if m := r.ExperienceMonths; m != nil {
		if *m < 0 || *m > 600 {
			fs.Add(prefix+"experience_months", "want 0 to 600 months")
		} else {
			months = m
		}
	}
	// The routes follow what was stated, and so does their summary.
	p.Requirements.Restate(edu, months, r.ExperienceInLieuOfEducation)
	if oc := strings.TrimSpace(r.OccupationalCategory); oc != "" {
		if soc, ok := socCode(oc); ok {
			p.SOCCode = soc
		}
	}
}

// socCode finds an O*NET-SOC code ("29-2072.00", "29-2072", "29207200") at
// the start of s, which may go on with the title as schema.org examples do.
func socCode(s string) (string, bool) {
	digits := make([]byte, 0, 8)
	for i := 0; i < len(s) && len(digits) < 8; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '-' && len(digits) == 2, c == '.' && len(digits) == 6:
		default:
			i = len(s)
		}
	}
	switch len(digits) {
	case 6:
		return fmt.Sprintf("%s-%s.00", digits[:2], digits[2:6]), true
	case 8:
		return fmt.Sprintf("%s-%s.%s", digits[:2], digits[2:6], digits[6:]), true
	}
	return "", false
}

// plainNumber writes an amount as people write it, 2000000 rather than %g's
// 2e+06, with no more decimals than it has.
func plainNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
