package pathway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// State is what a seeker tells us: education, credentials, experience,
// trainings, logged CEUs, and what they aim for. Its JSON shape:
//
//	{
//	  "education":   [{"level": "high_school|certificate|associate|bachelor|master",
//	                   "field": "Health Information Technology", "cahiim_accredited": true,
//	                   "status": "completed|final_term|in_progress"}],
//	  "credentials": [{"code": "RHIT", "earned_on": "2024-05-01", "apprentice": false,
//	                   "membership_renewal": "2027-03-31"}],
//	  "experience":  [{"area": "coding|privacy_security|release_of_information|records|data_analysis|billing",
//	                   "months": 24}],
//	  "trainings":   ["aapc_80_hour_course", "practicode", "ahima_approved_coding_program"],
//	  "ceus":        [{"code": "RHIT", "hours": 10, "provider": "AHIMA", "on": "2025-01-10"}],
//	  "target": "RHIA", "optimize": "time|cost", "max_months": 24, "max_cost_usd": 3000
//	}
//
// Dates are YYYY-MM-DD. Credential codes, trainings and target come from the
// catalog. "apprentice" marks an AAPC -A status (CPC-A, COC-A).
// "membership_renewal" is, for a credential whose issuer dates CEUs by
// membership (AAPC), the next membership renewal date (or the one missed).
// A CEU's "provider" is the issuer code when the issuer itself (or, for
// AHIMA, a component association or HCPro) provided it, "other" otherwise,
// or absent when unknown. "self_review" is accepted for old records and
// ignored: AHIMA discontinued the coding self-review on 1 January 2021. Each area
// appears once, with its total months. max_months and max_cost_usd of 0 mean
// no limit; optimize defaults to time.
type State struct {
	Education   []Education      `json:"education,omitempty"`
	Credentials []HeldCredential `json:"credentials,omitempty"`
	Experience  []Experience     `json:"experience,omitempty"`
	Trainings   []string         `json:"trainings,omitempty"`
	CEUs        []CEU            `json:"ceus,omitempty"`
	Target      string           `json:"target,omitempty"`
	Optimize    string           `json:"optimize,omitempty"`
	MaxMonths   int              `json:"max_months,omitempty"`
	MaxCostUSD  float64          `json:"max_cost_usd,omitempty"`
}

// Education is one diploma, certificate or degree, finished or not. Field
// is the field of study as the seeker writes it ("Health Information
// Technology", "Medical Coding", "Business"); the engine reads it as HIM,
// coding or other (ClassifyField).
type Education struct {
	Level  string `json:"level"`
	Field  string `json:"field,omitempty"`
	CAHIIM bool   `json:"cahiim_accredited,omitempty"`
	Status string `json:"status"`
}

// HeldCredential is a credential the seeker holds.
type HeldCredential struct {
	Code       string `json:"code"`
	EarnedOn   string `json:"earned_on,omitempty"`
	Apprentice bool   `json:"apprentice,omitempty"`
	// MembershipRenewal is the issuer membership's next renewal date (or
	// the one missed), for issuers whose CEUs fall due on it (AAPC).
	MembershipRenewal string `json:"membership_renewal,omitempty"`
}

// Experience is the total months worked in one area.
type Experience struct {
	Area   string `json:"area"`
	Months int    `json:"months"`
}

// CEU is one logged block of continuing education, credited to a held
// credential's issuer.
type CEU struct {
	Code  string  `json:"code"`
	Hours float64 `json:"hours"`
	// Provider is who gave the education: the credential's issuer code
	// (AHIMA counts its component associations and HCPro as AHIMA) or
	// "other"; empty when unknown.
	Provider string `json:"provider,omitempty"`
	// SelfReview is accepted for records made before 2021 and ignored:
	// AHIMA discontinued the coding self-review on 1 January 2021.
	SelfReview bool   `json:"self_review,omitempty"`
	On         string `json:"on"`
}

// ProviderOther marks a CEU not provided by the credential's issuer.
const ProviderOther = "other"

const maxStateBytes = 1 << 20

// ParseState decodes a State from JSON, rejecting unknown fields so that a
// misspelt key ("experiance") is an error rather than silently ignored. It
// does not validate against a catalog: call Validate for that.
func ParseState(data []byte) (State, error) {
	var st State
	if len(data) > maxStateBytes {
		return st, apierr.New(apierr.TooLarge, "state is larger than %d bytes", maxStateBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return State{}, apierr.InvalidFields(apierr.FieldError{
				Field: te.Field, Message: fmt.Sprintf("must be a JSON %s, got %s", jsonKind(te.Type.Kind().String()), te.Value),
			})
		}
		return State{}, apierr.Wrap(err, apierr.Invalid, "state is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return State{}, apierr.New(apierr.Invalid, "state must be a single JSON object")
	}
	return st, nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "struct":
		return "object"
	}
	return goKind
}

// Validate checks st against the catalog and today's date: unknown codes,
// levels, statuses, areas and trainings; impossible or future dates;
// negative or absurd numbers. The error is an apierr Invalid listing every
// bad field with its path (such as "education[0].status") and the allowed
// values.
func (st State) Validate(cat *Catalog, today time.Time) error {
	if today.IsZero() {
		return apierr.InvalidFields(apierr.FieldError{Field: "today", Message: "required: dates are checked against it"})
	}
	_, err := st.check(cat, civil(today))
	return err
}

// checked is a validated State in engine form.
type checked struct {
	prof      profile
	earned    []time.Time // by credential index; zero when unknown or not held
	renewal   []time.Time // membership renewal by credential index; zero when not given
	recert    []Recert    // renewal groups, worked out once the state is valid
	fields    []EducationField
	ceus      []ceuEntry
	target    int // credential index, -1 for none
	optimize  string
	maxMonths int
	maxCost   float64
}

type ceuEntry struct {
	cred     int
	hours    float64
	provider string // issuer code, "other", or "" when unknown
	on       time.Time
}

// Bounds on a state's lists: far above any real person's record, low
// enough that a plan request stays small and its errors few.
const (
	maxEducation   = 20
	maxCredentials = 50
	maxExperience  = 20
	maxTrainings   = 50
	maxCEUs        = 2000
)

// check validates st against cat as of today, reporting every bad field at
// once, and returns what the planner works from.
func (st State) check(cat *Catalog, today time.Time) (*checked, error) {
	var fs apierr.Fields
	for _, l := range []struct {
		name   string
		n, max int
	}{
		{"education", len(st.Education), maxEducation}, {"credentials", len(st.Credentials), maxCredentials},
		{"experience", len(st.Experience), maxExperience}, {"trainings", len(st.Trainings), maxTrainings},
		{"ceus", len(st.CEUs), maxCEUs},
	} {
		if l.n > l.max {
			fs.Add(l.name, "at most %d entries, got %d", l.max, l.n)
		}
	}
	if len(fs) > 0 {
		return nil, fs.Err() // check nothing else: one error per oversized list, not one per entry
	}
	ck := &checked{target: -1, earned: make([]time.Time, len(cat.Credentials)), renewal: make([]time.Time, len(cat.Credentials)), fields: []EducationField{}}

	ck.checkEducation(&fs, st.Education)
	ck.checkCredentials(&fs, cat, st.Credentials, today)
	ck.checkExperience(&fs, st.Experience)
	ck.checkTrainings(&fs, cat, st.Trainings)
	ck.checkCEUs(&fs, cat, st.CEUs, today)
	ck.checkGoal(&fs, cat, st)
	if err := fs.Err(); err != nil {
		return nil, err
	}
	ck.recert = recertAll(cat, ck, today)
	return ck, nil
}

// checkEducation checks the education entries and adds them to the profile;
// a field of study is classified (and kept in ck.fields for the plan to show).
func (ck *checked) checkEducation(fs *apierr.Fields, education []Education) {
	for i, e := range education {
		p := "education[" + strconv.Itoa(i) + "]"
		rank := levelRank(e.Level)
		if rank < 0 {
			fs.Add(p+".level", "%s; allowed: %s", unknownOrRequired("level", e.Level), levelList)
		}
		bitv := statusBit(e.Status)
		if bitv == 0 {
			fs.Add(p+".status", "%s; allowed: %s", unknownOrRequired("status", e.Status), statusList)
		}
		class := ""
		if e.Field != "" {
			c, err := ClassifyField(e.Field)
			if err != nil {
				fs.Add(p+".field", "field of study %q %s", clip(e.Field, 40), err)
			}
			class = c
			ck.fields = append(ck.fields, EducationField{Index: i, Field: e.Field, FieldClass: c})
		}
		if e.CAHIIM && rank == 0 {
			fs.Add(p+".cahiim_accredited", "CAHIIM accredits postsecondary programs only, not high school")
		}
		ck.prof.edu = append(ck.prof.edu, eduEntry{level: rank, field: class, cahiim: e.CAHIIM, status: bitv})
	}
}

// checkCredentials checks the credentials held: known, each once, with
// their dates, membership renewals and apprentice status where the catalog
// allows them.
func (ck *checked) checkCredentials(fs *apierr.Fields, cat *Catalog, held []HeldCredential, today time.Time) {
	for i, h := range held {
		p := "credentials[" + strconv.Itoa(i) + "]"
		ci, ok := cat.c.cred[h.Code]
		if !ok {
			fs.Add(p+".code", "%s; allowed: %s", unknownOrRequired("credential code", h.Code), cat.credentialList())
			continue
		}
		if ck.prof.holds(ci) {
			fs.Add(p+".code", "%s is listed twice", h.Code)
			continue
		}
		ck.prof.held |= bit(ci)
		if h.EarnedOn != "" {
			if d, ok := checkDate(fs, p+".earned_on", h.EarnedOn, today); ok {
				ck.earned[ci] = d
			}
		}
		if h.MembershipRenewal != "" {
			is := cat.Issuer(cat.Credentials[ci].Issuer)
			if is == nil || is.Recert.Due != DueMembershipRenewal {
				fs.Add(p+".membership_renewal", "%s's CEUs are not dated by a membership renewal; give it only for: %s", h.Code, cat.membershipList())
			} else if d, ok := checkDateUntil(fs, p+".membership_renewal", h.MembershipRenewal, today.AddDate(1, 1, 0)); ok {
				ck.renewal[ci] = d
			}
		}
		if h.Apprentice {
			if cat.c.appr[ci] == nil {
				fs.Add(p+".apprentice", "%s has no apprentice status; allowed for: %s", h.Code, cat.apprenticeList())
			} else {
				ck.prof.apprentice |= bit(ci)
			}
		}
	}
}

// checkExperience checks the months of experience, at most one entry per area.
func (ck *checked) checkExperience(fs *apierr.Fields, experience []Experience) {
	var seenArea [numAreas]bool
	for i, entry := range experience {
		p := "experience[" + strconv.Itoa(i) + "]"
		a := areaIndex(entry.Area)
		if a < 0 {
			fs.Add(p+".area", "%s; allowed: %s", unknownOrRequired("area", entry.Area), areaList)
		} else if seenArea[a] {
			fs.Add(p+".area", "%s is listed twice; give its total months once", entry.Area)
			a = -1
		}
		if entry.Months < 0 || entry.Months > maxMonths {
			fs.Add(p+".months", "must be between 0 and %d, got %d", maxMonths, entry.Months)
			continue
		}
		if a >= 0 {
			seenArea[a] = true
			ck.prof.exp[a] = entry.Months
		}
	}
}

// checkTrainings checks the trainings completed against the catalog.
func (ck *checked) checkTrainings(fs *apierr.Fields, cat *Catalog, trainings []string) {
	for i, t := range trainings {
		ti, ok := cat.c.train[t]
		if !ok {
			fs.Add("trainings["+strconv.Itoa(i)+"]", "%s; allowed: %s", unknownOrRequired("training", t), cat.trainingList())
			continue
		}
		ck.prof.trained |= bit(ti)
	}
}

// checkCEUs checks the continuing education logged: each for a credential
// held, with its hours, provider and date. Call it after checkCredentials.
func (ck *checked) checkCEUs(fs *apierr.Fields, cat *Catalog, ceus []CEU, today time.Time) {
	for i, u := range ceus {
		p := "ceus[" + strconv.Itoa(i) + "]"
		ci, ok := cat.c.cred[u.Code]
		switch {
		case !ok:
			fs.Add(p+".code", "%s; allowed: the credentials you hold (%s)", unknownOrRequired("credential code", u.Code), cat.heldList(ck.prof.held))
		case !ck.prof.holds(ci):
			fs.Add(p+".code", "%s is not among your credentials; allowed: %s", u.Code, cat.heldList(ck.prof.held))
		}
		if !(u.Hours > 0 && u.Hours <= maxCEUHours) {
			fs.Add(p+".hours", "must be above 0 and at most %d, got %s", maxCEUHours, plainNumber(u.Hours))
		}
		provider := strings.TrimSpace(u.Provider)
		switch {
		case provider == "":
		case strings.EqualFold(provider, ProviderOther):
			provider = ProviderOther
		case ok && strings.EqualFold(provider, cat.Credentials[ci].Issuer):
			provider = cat.Credentials[ci].Issuer
		default:
			allowed := ProviderOther
			if ok {
				allowed = cat.Credentials[ci].Issuer + " or " + ProviderOther
			}
			fs.Add(p+".provider", "unknown provider %q; allowed: %s (or leave it out when unknown)", u.Provider, allowed)
		}
		d, dok := checkDate(fs, p+".on", u.On, today)
		if ok && dok {
			ck.ceus = append(ck.ceus, ceuEntry{cred: ci, hours: u.Hours, provider: provider, on: d})
		}
	}
}

// checkGoal checks what the plan is for: the target credential, what to
// optimise and the limits on months and cost.
func (ck *checked) checkGoal(fs *apierr.Fields, cat *Catalog, st State) {
	if st.Target != "" {
		if ti, ok := cat.c.cred[st.Target]; ok {
			ck.target = ti
		} else {
			fs.Add("target", "unknown credential code %q; allowed: %s", st.Target, cat.credentialList())
		}
	}
	switch st.Optimize {
	case "", OptimizeTime:
		ck.optimize = OptimizeTime
	case OptimizeCost:
		ck.optimize = OptimizeCost
	default:
		fs.Add("optimize", "unknown goal %q; allowed: time, cost", st.Optimize)
	}
	if st.MaxMonths < 0 || st.MaxMonths > maxMonths {
		fs.Add("max_months", "must be between 0 (no limit) and %d, got %d", maxMonths, st.MaxMonths)
	}
	ck.maxMonths = st.MaxMonths
	if !(st.MaxCostUSD >= 0 && st.MaxCostUSD <= maxCostUSD) {
		fs.Add("max_cost_usd", "must be between 0 (no limit) and %d, got %s", maxCostUSD, plainNumber(st.MaxCostUSD))
	}
	ck.maxCost = st.MaxCostUSD
}

// clip shortens s to n characters for an error message.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func unknownOrRequired(what, got string) string {
	if got == "" {
		return what + " is required"
	}
	return fmt.Sprintf("unknown %s %q", what, got)
}

// checkDate parses a YYYY-MM-DD date that must lie between 1900 and today.
func checkDate(fs *apierr.Fields, path, s string, today time.Time) (time.Time, bool) {
	if d, err := time.Parse(time.DateOnly, s); err == nil && d.After(today) && d.Year() >= 1900 {
		fs.Add(path, "%s is in the future (today is %s)", s, today.Format(time.DateOnly))
		return time.Time{}, false
	}
	return checkDateUntil(fs, path, s, today)
}

// checkDateUntil parses a YYYY-MM-DD date between 1900 and last.
func checkDateUntil(fs *apierr.Fields, path, s string, last time.Time) (time.Time, bool) {
	if s == "" {
		fs.Add(path, "required; want YYYY-MM-DD")
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		fs.Add(path, "not a valid date %q; want YYYY-MM-DD", s)
		return time.Time{}, false
	}
	if d.Year() < 1900 {
		fs.Add(path, "%s is before 1900", s)
		return time.Time{}, false
	}
	if d.After(last) {
		fs.Add(path, "%s is too far in the future (the latest allowed is %s)", s, last.Format(time.DateOnly))
		return time.Time{}, false
	}
	return d, true
}

// civil drops the time of day, keeping the calendar date where t was taken.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (cat *Catalog) credentialList() string {
	codes := make([]string, len(cat.Credentials))
	for i := range cat.Credentials {
		codes[i] = cat.Credentials[i].Code
	}
	return strings.Join(codes, ", ")
}

func (cat *Catalog) trainingList() string {
	codes := make([]string, len(cat.Trainings))
	for i := range cat.Trainings {
		codes[i] = cat.Trainings[i].Code
	}
	return strings.Join(codes, ", ")
}

func (cat *Catalog) membershipList() string {
	var codes []string
	for i := range cat.Credentials {
		if is := cat.Issuer(cat.Credentials[i].Issuer); is != nil && is.Recert.Due == DueMembershipRenewal {
			codes = append(codes, cat.Credentials[i].Code)
		}
	}
	return strings.Join(codes, ", ")
}

func (cat *Catalog) apprenticeList() string {
	var codes []string
	for i, a := range cat.c.appr {
		if a != nil {
			codes = append(codes, cat.Credentials[i].Code)
		}
	}
	return strings.Join(codes, ", ")
}

func (cat *Catalog) heldList(held uint64) string {
	var codes []string
	for i := range cat.Credentials {
		if held&bit(i) != 0 {
			codes = append(codes, cat.Credentials[i].Code)
		}
	}
	if len(codes) == 0 {
		return "none held"
	}
	return strings.Join(codes, ", ")
}
