package pathway

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

//go:embed catalog.yaml
var defaultCatalogYAML []byte

// Confidence says how sure the catalog is of a fact.
type Confidence string

// Confidence values. Secondary facts must be shown to users as uncertain;
// unknown facts carry no value at all.
const (
	Confirmed Confidence = "confirmed" // on the issuer's, a government's or the spec owner's page
	Secondary Confidence = "secondary" // secondary sources only
	Estimate  Confidence = "estimate"  // derived by us from a sourced fact; the note says how
	Unknown   Confidence = "unknown"   // not found: no value
)

// Fact is a number or range with its confidence and source. Min and Max are
// nil when the bound is unknown; `value: x` in YAML sets both.
type Fact struct {
	Value      *float64   `yaml:"value,omitempty" json:"-"`
	Min        *float64   `yaml:"min,omitempty" json:"min,omitempty"`
	Max        *float64   `yaml:"max,omitempty" json:"max,omitempty"`
	Confidence Confidence `yaml:"confidence" json:"confidence"`
	Source     string     `yaml:"source,omitempty" json:"source,omitempty"`
	Note       string     `yaml:"note,omitempty" json:"note,omitempty"`
}

// Known reports whether the fact has at least one bound.
func (f Fact) Known() bool { return f.Confidence != Unknown && (f.Min != nil || f.Max != nil) }

// Source is where facts come from. A source has a URL, or, where none was
// recorded, a citation naming the document. Checked is the day (YYYY-MM-DD)
// the source was last read for the catalog; every source carries one, and
// no URL may point at an issuer's staging host or a third-party mirror.
type Source struct {
	ID       string `yaml:"id" json:"id"`
	URL      string `yaml:"url,omitempty" json:"url,omitempty"`
	Citation string `yaml:"citation,omitempty" json:"citation,omitempty"`
	Checked  string `yaml:"checked" json:"checked"`
	Note     string `yaml:"note,omitempty" json:"note,omitempty"`
}

// Issuer is a certifying body and its recertification policy.
type Issuer struct {
	Code   string       `yaml:"code" json:"code"`
	Name   string       `yaml:"name" json:"name"`
	Source string       `yaml:"source" json:"source"`
	Recert RecertPolicy `yaml:"recert" json:"recert"`
}

// How an issuer combines the CEU requirements of several credentials.
const (
	CombineAdditive      = "additive"       // largest single requirement, plus PerAdditional per extra credential, capped
	CombineByCount       = "by_count"       // a table indexed by the number of credentials held
	CombinePerCredential = "per_credential" // each credential renews on its own
	CombineUnknown       = "unknown"
)

// How an issuer dates the end of a renewal cycle.
const (
	// DueCycle: cycles run CycleMonths at a time from the first exam date.
	DueCycle = "cycle"
	// DueMembershipRenewal: CEUs fall due on the membership renewal date
	// the seeker gives (HeldCredential.MembershipRenewal), every
	// CycleMonths; without that date the due date is unknown.
	DueMembershipRenewal = "membership_renewal"
)

// RecertPolicy is an issuer's continuing-education rule.
type RecertPolicy struct {
	CycleMonths Fact `yaml:"cycle_months" json:"cycle_months"`
	// Due says how the cycle end is dated: "cycle" (the default) or
	// "membership_renewal".
	Due string `yaml:"due,omitempty" json:"due,omitempty"`
	// GraceDays is how long after a missed cycle end the holder can still
	// complete it before the credential is lost (AHIMA: inactive for 180
	// days, then revoked; AAPC: revoked 90 days after the renewal date).
	GraceDays Fact `yaml:"grace_days" json:"grace_days"`
	// GraceStatus is the issuer's own word for a credential in that period
	// ("inactive"); empty when the issuer uses none.
	GraceStatus string `yaml:"grace_status,omitempty" json:"grace_status,omitempty"`
	// LapsedStatus is the issuer's word for a credential lost after grace
	// ("revoked").
	LapsedStatus  string      `yaml:"lapsed_status,omitempty" json:"lapsed_status,omitempty"`
	Combine       string      `yaml:"combine" json:"combine"`
	PerAdditional Fact        `yaml:"per_additional,omitempty" json:"per_additional,omitzero"`
	Cap           Fact        `yaml:"cap,omitempty" json:"cap,omitzero"`
	ByCount       *CountTable `yaml:"by_count,omitempty" json:"by_count,omitempty"`
	// IssuerShare is the least share of a cycle's CEUs that must come from
	// the issuer itself, for cycles ending on or after Since.
	IssuerShare *IssuerShare `yaml:"issuer_share,omitempty" json:"issuer_share,omitempty"`
	// Fees is what renewal costs each cycle.
	Fees *RecertFees `yaml:"fees,omitempty" json:"fees,omitempty"`
	// Reinstatement says what bringing back a lost credential takes;
	// confidence unknown when no source says.
	Reinstatement Requirement `yaml:"reinstatement" json:"reinstatement"`
	Note          string      `yaml:"note,omitempty" json:"note,omitempty"`
}

// IssuerShare is a minimum share of CEUs that must come from the issuer.
type IssuerShare struct {
	Percent    int        `yaml:"percent" json:"percent"`
	Since      string     `yaml:"since" json:"since"` // YYYY-MM-DD
	Confidence Confidence `yaml:"confidence" json:"confidence"`
	Source     string     `yaml:"source" json:"source"`
	Note       string     `yaml:"note,omitempty" json:"note,omitempty"`
}

// RecertFees is a renewal fee: First for one credential, plus
// PerAdditional for each further one, per cycle; Member is the member
// price, unknown where no source gives it.
type RecertFees struct {
	First         Fact `yaml:"first" json:"first"`
	PerAdditional Fact `yaml:"per_additional" json:"per_additional"`
	Member        Fact `yaml:"member" json:"member"`
}

// CountTable gives the CEUs required per cycle for 1, 2, ... credentials; the
// last entry applies to any larger number.
type CountTable struct {
	Values     []int      `yaml:"values" json:"values"`
	Confidence Confidence `yaml:"confidence" json:"confidence"`
	Source     string     `yaml:"source" json:"source"`
	Note       string     `yaml:"note,omitempty" json:"note,omitempty"`
}

// Program is an education step: a diploma, certificate or degree.
type Program struct {
	Code          string   `yaml:"code" json:"code"`
	Title         string   `yaml:"title" json:"title"`
	Level         string   `yaml:"level" json:"level"`
	Field         string   `yaml:"field,omitempty" json:"field,omitempty"`
	CAHIIM        bool     `yaml:"cahiim_accredited,omitempty" json:"cahiim_accredited,omitempty"`
	Prerequisites []string `yaml:"prerequisites,omitempty" json:"prerequisites,omitempty"`
	Source        string   `yaml:"source" json:"source"`
	Months        Fact     `yaml:"months" json:"months"`
	CostUSD       Fact     `yaml:"cost_usd" json:"cost_usd"`
	Note          string   `yaml:"note,omitempty" json:"note,omitempty"`
}

// Training is a course or program that is not a degree.
type Training struct {
	Code          string   `yaml:"code" json:"code"`
	Title         string   `yaml:"title" json:"title"`
	Prerequisites []string `yaml:"prerequisites,omitempty" json:"prerequisites,omitempty"`
	Source        string   `yaml:"source" json:"source"`
	Months        Fact     `yaml:"months" json:"months"`
	CostUSD       Fact     `yaml:"cost_usd" json:"cost_usd"`
	Note          string   `yaml:"note,omitempty" json:"note,omitempty"`
	// Reminder marks a training that is not a route to a credential but
	// something a counselor reminds people of (code-set updates, privacy
	// training, on-the-job training): who it is for and how often it recurs.
	Reminder *Reminder `yaml:"reminder,omitempty" json:"reminder,omitempty"`
}

// Credential is a certification with its eligibility rules, exam and renewal.
type Credential struct {
	Code   string `yaml:"code" json:"code"`
	Name   string `yaml:"name" json:"name"`
	Issuer string `yaml:"issuer" json:"issuer"`
	Source string `yaml:"source" json:"source"`
	// Confidence is how sure we are the credential exists as described;
	// empty means confirmed.
	Confidence  Confidence   `yaml:"confidence,omitempty" json:"confidence,omitempty"`
	Note        string       `yaml:"note,omitempty" json:"note,omitempty"`
	Eligibility Requirement  `yaml:"eligibility" json:"eligibility"`
	Recommended *Requirement `yaml:"recommended,omitempty" json:"recommended,omitempty"`
	Apprentice  *Apprentice  `yaml:"apprentice,omitempty" json:"apprentice,omitempty"`
	Exam        Exam         `yaml:"exam" json:"exam"`
	RecertCEUs  Fact         `yaml:"recert_ceus" json:"recert_ceus"`
	// Supersedes lists credentials of the same issuer that this one
	// replaces once granted (the RHIA replaces the RHIT): a holder of both
	// maintains only this one, and this one satisfies rules asking for the
	// superseded credential.
	Supersedes []string `yaml:"supersedes,omitempty" json:"supersedes,omitempty"`
	// SupersedesSource is where the replacement is stated.
	SupersedesSource string `yaml:"supersedes_source,omitempty" json:"supersedes_source,omitempty"`
}

// Requirement is a rule with its confidence. With Confidence unknown the rule
// is nil: nobody is eligible, and the engine says the rules are unknown.
// UnknownRoutes name routes whose conditions no source states: they are
// shown to people as "ask the issuer", never evaluated or planned.
type Requirement struct {
	Confidence    Confidence `yaml:"confidence" json:"confidence"`
	Source        string     `yaml:"source,omitempty" json:"source,omitempty"`
	Note          string     `yaml:"note,omitempty" json:"note,omitempty"`
	Rule          *Rule      `yaml:"rule,omitempty" json:"rule,omitempty"`
	UnknownRoutes []string   `yaml:"unknown_routes,omitempty" json:"unknown_routes,omitempty"`
}

// Exam holds what is known about a credential's exam.
type Exam struct {
	Minutes Fact   `yaml:"minutes" json:"minutes"`
	Items   Fact   `yaml:"items" json:"items"`
	Fees    []Fee  `yaml:"fees" json:"fees"`
	Note    string `yaml:"note,omitempty" json:"note,omitempty"`
}

// Fee is one exam price (member, non-member, online, ...), in USD.
type Fee struct {
	Label string `yaml:"label" json:"label"`
	Fact  `yaml:",inline"`
}

// Apprentice describes a provisional status (such as CPC-A) given to those
// who pass without enough experience, and how to remove it.
type Apprentice struct {
	Suffix     string         `yaml:"suffix" json:"suffix"`
	Experience ExperienceRule `yaml:"experience" json:"experience"`
	Credits    []Credit       `yaml:"credits,omitempty" json:"credits,omitempty"`
	Confidence Confidence     `yaml:"confidence" json:"confidence"`
	Source     string         `yaml:"source" json:"source"`
	Note       string         `yaml:"note,omitempty" json:"note,omitempty"`
}

// Credit is something (a training, or an equivalent course or education)
// that counts as months of experience. Rule says what earns it; the months
// count once however many of its alternatives the seeker has.
type Credit struct {
	Title  string `yaml:"title" json:"title"`
	Rule   Rule   `yaml:"rule" json:"rule"`
	Months int    `yaml:"months" json:"months"`
	Note   string `yaml:"note,omitempty" json:"note,omitempty"`
}

// Role is a job seen in real postings, with what it asks for. Roles count
// as "opened" when a step makes the seeker meet their requirements.
type Role struct {
	Code      string      `yaml:"code" json:"code"`
	Title     string      `yaml:"title" json:"title"`
	ONET      string      `yaml:"onet,omitempty" json:"onet,omitempty"`
	Source    string      `yaml:"source" json:"source"`
	Requires  Requirement `yaml:"requires" json:"requires"`
	HourlyUSD Fact        `yaml:"hourly_usd" json:"hourly_usd"`
	Note      string      `yaml:"note,omitempty" json:"note,omitempty"`
}

// Rule is an eligibility expression. Exactly one of AllOf, AnyOf, Open,
// Education, Experience, Credential or Training is set. A node may carry its
// own Confidence (a route known only from secondary sources) and Note.
type Rule struct {
	AllOf      []Rule          `yaml:"all_of,omitempty" json:"all_of,omitempty"`
	AnyOf      []Rule          `yaml:"any_of,omitempty" json:"any_of,omitempty"`
	Open       bool            `yaml:"open,omitempty" json:"open,omitempty"`
	Education  *EducationRule  `yaml:"education,omitempty" json:"education,omitempty"`
	Experience *ExperienceRule `yaml:"experience,omitempty" json:"experience,omitempty"`
	Credential string          `yaml:"credential,omitempty" json:"credential,omitempty"`
	Training   string          `yaml:"training,omitempty" json:"training,omitempty"`
	Confidence Confidence      `yaml:"confidence,omitempty" json:"confidence,omitempty"`
	Source     string          `yaml:"source,omitempty" json:"source,omitempty"`
	Note       string          `yaml:"note,omitempty" json:"note,omitempty"`
}

// EducationRule asks for an education entry. Levels are ordered, so a higher
// level satisfies a lower one unless ExactLevel is set. Field and CAHIIM are
// only checked when set; Status defaults to completed.
type EducationRule struct {
	Level      string   `yaml:"level" json:"level"`
	ExactLevel bool     `yaml:"exact_level,omitempty" json:"exact_level,omitempty"`
	Field      string   `yaml:"field,omitempty" json:"field,omitempty"`
	CAHIIM     bool     `yaml:"cahiim_accredited,omitempty" json:"cahiim_accredited,omitempty"`
	Status     []string `yaml:"status,omitempty" json:"status,omitempty"`
}

// ExperienceRule asks for months of experience in an area; in catalog rules
// the area may be "any" (the largest of the seeker's areas counts).
type ExperienceRule struct {
	Area   string `yaml:"area" json:"area"`
	Months int    `yaml:"months" json:"months"`
}

// Catalog is the loaded, validated catalog. Treat it as read-only: the
// engine keeps compiled indexes next to the exported data.
type Catalog struct {
	Version     string       `yaml:"version" json:"version"`
	Sources     []Source     `yaml:"sources" json:"sources"`
	Issuers     []Issuer     `yaml:"issuers" json:"issuers"`
	Education   []Program    `yaml:"education" json:"education"`
	Trainings   []Training   `yaml:"trainings" json:"trainings"`
	Credentials []Credential `yaml:"credentials" json:"credentials"`
	Roles       []Role       `yaml:"roles" json:"roles"`

	c compiled
}

// DefaultCatalog loads the embedded catalog. It parses on every call (the
// package keeps no state), so callers should load it once and share it.
func DefaultCatalog() (*Catalog, error) {
	cat, err := LoadCatalog(defaultCatalogYAML)
	if err != nil {
		return nil, fmt.Errorf("default catalog: %w", err)
	}
	return cat, nil
}

// LoadCatalog parses and validates a catalog. Every problem found is
// reported at once, as an apierr Invalid error whose field paths name the
// offending entry (for example `credentials[RHIA].eligibility.rule.any_of[2].credential`).
func LoadCatalog(data []byte) (*Catalog, error) {
	var cat Catalog
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // a misspelt key must not silently drop a rule
	if err := dec.Decode(&cat); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, apierr.New(apierr.Invalid, "load catalog: empty document")
		}
		return nil, apierr.Wrap(err, apierr.Invalid, "load catalog: "+firstLine(err.Error()))
	}
	var fs apierr.Fields
	cat.c = compileCatalog(&cat, &fs)
	if err := fs.Err(); err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	return &cat, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Lookups by code; nil when the code is not in the catalog.

// Credential returns the credential with the given code.
func (c *Catalog) Credential(code string) *Credential {
	if i, ok := c.c.cred[code]; ok {
		return &c.Credentials[i]
	}
	return nil
}

// Program returns the education step with the given code.
func (c *Catalog) Program(code string) *Program {
	if i, ok := c.c.prog[code]; ok {
		return &c.Education[i]
	}
	return nil
}

// Training returns the training with the given code.
func (c *Catalog) Training(code string) *Training {
	if i, ok := c.c.train[code]; ok {
		return &c.Trainings[i]
	}
	return nil
}

// Issuer returns the issuer with the given code.
func (c *Catalog) Issuer(code string) *Issuer {
	if i, ok := c.c.issuer[code]; ok {
		return &c.Issuers[i]
	}
	return nil
}

// SourceURL returns the URL of a source, or its citation when no URL was
// recorded, or "" for an unknown id.
func (c *Catalog) SourceURL(id string) string {
	if i, ok := c.c.source[id]; ok {
		if c.Sources[i].URL != "" {
			return c.Sources[i].URL
		}
		return c.Sources[i].Citation
	}
	return ""
}
