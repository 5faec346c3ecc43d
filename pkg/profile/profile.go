// Package profile defines a job seeker's profile: the matching attributes
// that drive pathways and matches, kept apart from contact details, which
// are personal data and never leave the profiles service unencrypted.
package profile

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/pathway"
)

// Seeker is the part of a seeker's profile used for pathways and matching.
// It carries no name or contact detail.
type Seeker struct {
	ID              string       `json:"id"`
	Education       []Education  `json:"education"`
	Experience      []Experience `json:"experience"`
	Trainings       []string     `json:"trainings"`
	Skills          []string     `json:"skills"`
	EHRSystems      []string     `json:"ehr_systems"`
	CodeSets        []string     `json:"code_sets"`
	Location        *Location    `json:"location,omitempty"`
	RadiusMiles     int          `json:"radius_miles"`
	RemotePref      string       `json:"remote_preference"` // onsite, hybrid, remote, any
	DesiredHourly   float64      `json:"desired_hourly,omitempty"`
	Availability    string       `json:"availability,omitempty"` // immediately, two_weeks, one_month, later
	Target          string       `json:"target,omitempty"`       // a credential code or a role
	OpenToEmployers bool         `json:"open_to_employers"`
	Version         uint64       `json:"version"`
}

// Education is one education record. Field is the field of study as the
// seeker writes it ("Health Information Technology", "Medical Coding",
// "Business"); FieldClass is how clerkpath reads it (HIM, coding or other,
// see pathway.ClassifyField). FieldClass is set by Normalize: a value sent
// by a client is replaced.
type Education struct {
	Level            string `json:"level"`
	Field            string `json:"field,omitempty"`
	FieldClass       string `json:"field_class,omitempty"`
	CAHIIMAccredited bool   `json:"cahiim_accredited,omitempty"`
	Status           string `json:"status"`
}

// Experience is months of work in one area.
type Experience struct {
	Area   string `json:"area"`
	Months int    `json:"months"`
}

// Location is where the seeker is: a postal code, coordinates, or both.
type Location struct {
	PostalCode string   `json:"postal_code,omitempty"`
	Lat        *float64 `json:"lat,omitempty"`
	Lon        *float64 `json:"lon,omitempty"`
}

// Allowed values.
var (
	EducationLevels   = []string{"high_school", "certificate", "associate", "bachelor", "master"}
	EducationStatuses = []string{"completed", "final_term", "in_progress"}
	ExperienceAreas   = []string{"coding", "privacy_security", "release_of_information", "records", "data_analysis", "billing"}
	RemotePrefs       = []string{"onsite", "hybrid", "remote", "any"}
	Availabilities    = []string{"immediately", "two_weeks", "one_month", "later"}
)

// Limits.
const (
	MaxRadiusMiles = 500
	MaxListItems   = 50
	MaxMonths      = 720
)

var (
	idPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	zipPattern = regexp.MustCompile(`^[0-9]{5}(-[0-9]{4})?$`)
)

// ValidID reports whether id is a well-formed seeker id.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// Validate checks every field and returns all problems at once. A postal
// code is checked for its form only; ValidateWithZIPs also checks that it
// is a known place.
func (s *Seeker) Validate() error { return s.problems().Err() }

// ValidateWithZIPs is Validate, and a well-formed postal code must also be
// a known ZIP code: known reports whether one is (a lookup in the ZIP
// centroids). With known nil (no centroids loaded) the code is accepted
// and the returned warnings say it was not checked.
func (s *Seeker) ValidateWithZIPs(known func(zip string) bool) (warnings []apierr.FieldError, err error) {
	fs := s.problems()
	if l := s.Location; l != nil && zipPattern.MatchString(l.PostalCode) {
		switch {
		case known == nil:
			warnings = append(warnings, apierr.FieldError{Field: "location.postal_code",
				Message: "not checked: this server has no ZIP code list loaded; an unknown ZIP code gets no coordinates, so only remote postings would match"})
		case !known(l.PostalCode):
			fs.Add("location.postal_code", "not a known US ZIP code (no ZIP Code Tabulation Area has it); check it, or give lat and lon instead")
		}
	}
	if err := fs.Err(); err != nil {
		return nil, err
	}
	return warnings, nil
}

// problems lists every problem with the seeker's fields.
func (s *Seeker) problems() apierr.Fields {
	var fs apierr.Fields
	if !ValidID(s.ID) {
		fs.Add("id", "1 to 64 letters, digits, '-' or '_'")
	}
	if len(s.Education) > MaxListItems {
		fs.Add("education", "at most %d entries", MaxListItems)
	}
	for i, e := range s.Education {
		p := "education[" + strconv.Itoa(i) + "]"
		if !oneOf(e.Level, EducationLevels) {
			fs.Add(p+".level", "must be one of %s", strings.Join(EducationLevels, ", "))
		}
		if !oneOf(e.Status, EducationStatuses) {
			fs.Add(p+".status", "must be one of %s", strings.Join(EducationStatuses, ", "))
		}
		if e.Field != "" {
			if _, err := pathway.ClassifyField(e.Field); err != nil {
				fs.Add(p+".field", "field of study %s", err)
			}
		}
	}
	if len(s.Experience) > MaxListItems {
		fs.Add("experience", "at most %d entries", MaxListItems)
	}
	for i, e := range s.Experience {
		p := "experience[" + strconv.Itoa(i) + "]"
		if !oneOf(e.Area, ExperienceAreas) {
			fs.Add(p+".area", "must be one of %s", strings.Join(ExperienceAreas, ", "))
		}
		if e.Months < 0 || e.Months > MaxMonths {
			fs.Add(p+".months", "must be between 0 and %d", MaxMonths)
		}
	}
	for name, list := range map[string][]string{"trainings": s.Trainings, "skills": s.Skills, "ehr_systems": s.EHRSystems, "code_sets": s.CodeSets} {
		if len(list) > MaxListItems {
			fs.Add(name, "at most %d entries", MaxListItems)
		}
		for i, v := range list {
			if v == "" || len(v) > 100 {
				fs.Add(name+"["+strconv.Itoa(i)+"]", "1 to 100 characters")
			}
		}
	}
	if l := s.Location; l != nil {
		if l.PostalCode != "" && !zipPattern.MatchString(l.PostalCode) {
			fs.Add("location.postal_code", "a US ZIP code, 12345 or 12345-6789")
		}
		if (l.Lat == nil) != (l.Lon == nil) {
			fs.Add("location", "give both lat and lon, or neither")
		}
		if l.Lat != nil && (*l.Lat < -90 || *l.Lat > 90) {
			fs.Add("location.lat", "must be between -90 and 90")
		}
		if l.Lon != nil && (*l.Lon < -180 || *l.Lon > 180) {
			fs.Add("location.lon", "must be between -180 and 180")
		}
		if l.PostalCode == "" && l.Lat == nil {
			fs.Add("location", "give a postal_code or lat and lon")
		}
	}
	if s.RadiusMiles < 0 || s.RadiusMiles > MaxRadiusMiles {
		fs.Add("radius_miles", "must be between 0 and %d", MaxRadiusMiles)
	}
	if s.RemotePref != "" && !oneOf(s.RemotePref, RemotePrefs) {
		fs.Add("remote_preference", "must be one of %s", strings.Join(RemotePrefs, ", "))
	}
	if s.Availability != "" && !oneOf(s.Availability, Availabilities) {
		fs.Add("availability", "must be one of %s", strings.Join(Availabilities, ", "))
	}
	if s.DesiredHourly < 0 || s.DesiredHourly > 500 {
		fs.Add("desired_hourly", "must be between 0 and 500 (US dollars an hour)")
	}
	if len(s.Target) > 40 {
		fs.Add("target", "at most 40 characters")
	}
	return fs
}

// Normalize fills defaults so that stored profiles are uniform.
func (s *Seeker) Normalize() {
	if s.RemotePref == "" {
		s.RemotePref = "any"
	}
	if s.RadiusMiles == 0 {
		s.RadiusMiles = 25
	}
	for _, p := range []*[]string{&s.Trainings, &s.Skills, &s.EHRSystems, &s.CodeSets} {
		if *p == nil {
			*p = []string{}
		}
	}
	if s.Education == nil {
		s.Education = []Education{}
	}
	for i := range s.Education {
		s.Education[i].Field = strings.TrimSpace(s.Education[i].Field)
	}
	s.ClassifyFields()
	if s.Experience == nil {
		s.Experience = []Experience{}
	}
}

// ClassifyFields sets each education entry's FieldClass from its Field
// (empty when no field is given or the field is rejected, which Validate
// reports). Profiles stored before field classes existed get theirs on read.
func (s *Seeker) ClassifyFields() {
	for i := range s.Education {
		e := &s.Education[i]
		e.FieldClass = ""
		if e.Field != "" {
			e.FieldClass, _ = pathway.ClassifyField(e.Field)
		}
	}
}

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}
