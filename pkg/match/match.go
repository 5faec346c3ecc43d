// Package match scores how well a job seeker fits a job posting, explains
// the score in words a seeker understands, and names what is missing. It is
// pure: the same seeker, posting and date always give the same result.
package match

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/posting"
)

// Seeker is what matching knows of a seeker: matching attributes only,
// never contact details.
type Seeker struct {
	ID string
	// Held are the credential codes the seeker holds (an apprentice holds
	// "CPC-A", not "CPC").
	Held []string
	// EligibleNow are credentials the seeker may sit for today (from the
	// pathway engine): they satisfy "or eligible" requirements.
	EligibleNow []string
	// EducationRank: 0 none, 1 high school, 2 certificate, 3 associate,
	// 4 bachelor, 5 master (posting.Education.Rank).
	EducationRank    int
	ExperienceMonths int
	Skills           []string
	CodeSets         []string
	EHRSystems       []string
	Point            *geo.Point
	RadiusMiles      int
	RemotePref       string // onsite, hybrid, remote, any
	DesiredHourly    float64
	OpenToEmployers  bool
}

// Component is one named part of a score.
type Component struct {
	Name   string  `json:"name"`
	Points float64 `json:"points"`
	Max    float64 `json:"max"`
	Detail string  `json:"detail"`
}

// Gap is one requirement the seeker does not meet.
type Gap struct {
	Kind string `json:"kind"` // credential, or_eligible, education, experience
	// Codes are the alternatives that would close a credential gap.
	Codes  []string `json:"codes,omitempty"`
	Detail string   `json:"detail"`
}

// Result is a seeker–posting match.
type Result struct {
	PostingID     string      `json:"posting_id"`
	Title         string      `json:"title"`
	Employer      string      `json:"employer"`
	Eligible      bool        `json:"eligible"`
	Score         float64     `json:"score"`
	Components    []Component `json:"components"`
	Met           []string    `json:"met"`
	Missing       []Gap       `json:"missing"`
	DistanceMiles *float64    `json:"distance_miles,omitempty"`
	Summary       string      `json:"summary"`
}

// Weights of the score components; they sum to 100.
const (
	WeightPreferred  = 20.0
	WeightSkills     = 30.0
	WeightExperience = 15.0
	WeightDistance   = 15.0
	WeightPay        = 10.0
	WeightFreshness  = 10.0
	// FreshForDays is how long a posting keeps freshness points (linearly
	// decreasing to zero).
	FreshForDays = 30.0
)

// Reachable reports whether the posting's place suits the seeker: remote
// work (unless the seeker wants on-site only), or a site within the
// seeker's radius. It returns the distance when both places are known.
func Reachable(s Seeker, p posting.Posting) (bool, *float64) {
	ok, d, known := reach(&s, &p, true)
	if !known {
		return ok, nil
	}
	return ok, &d
}

// reach is Reachable without allocating; the distance is computed only
// when needed (a site posting) or asked for.
func reach(s *Seeker, p *posting.Posting, wantDist bool) (ok bool, dist float64, known bool) {
	remote := p.WorkMode == "remote"
	if (!remote || wantDist) && s.Point != nil && p.Location.Lat != nil && p.Location.Lon != nil {
		dist = round2(geo.DistanceMiles(*s.Point, geo.Point{Lat: *p.Location.Lat, Lon: *p.Location.Lon}))
		known = true
	}
	switch {
	case remote:
		return s.RemotePref != "onsite", dist, known
	case s.RemotePref == "remote", !known:
		return false, dist, known
	}
	return dist <= float64(s.RadiusMiles), dist, known
}

// Gaps lists the requirements of p that s does not meet.
func Gaps(s Seeker, p posting.Posting) []Gap {
	var gaps []Gap
	for _, group := range p.CredentialsRequired {
		if !heldAny(group, s.Held) {
			gaps = append(gaps, Gap{Kind: "credential", Codes: sorted(group), Detail: "requires " + orList(group)})
		}
	}
	for _, code := range p.CredentialsOrEligible {
		if !slices.Contains(s.Held, code) && !slices.Contains(s.EligibleNow, code) {
			gaps = append(gaps, Gap{Kind: "or_eligible", Codes: []string{code}, Detail: "requires " + code + " or eligibility to sit for it"})
		}
	}
	if !educationOK(s, p) {
		gaps = append(gaps, Gap{Kind: "education", Detail: "requires " + educationWords(p.EducationMin)})
	}
	if s.ExperienceMonths < p.ExperienceMonthsMin {
		gaps = append(gaps, Gap{Kind: "experience", Detail: fmt.Sprintf("requires %s of experience (you have %s)", months(p.ExperienceMonthsMin), months(s.ExperienceMonths))})
	}
	return gaps
}

// Qualifies reports whether s meets every requirement of p and can reach
// it: Score's Eligible, without building an explanation. It allocates
// nothing, for reverse matching against many seekers.
func Qualifies(s *Seeker, p *posting.Posting) bool {
	for _, group := range p.CredentialsRequired {
		if !heldAny(group, s.Held) {
			return false
		}
	}
	for _, code := range p.CredentialsOrEligible {
		if !slices.Contains(s.Held, code) && !slices.Contains(s.EligibleNow, code) {
			return false
		}
	}
	if !educationOK(*s, *p) || s.ExperienceMonths < p.ExperienceMonthsMin {
		return false
	}
	ok, _, _ := reach(s, p, false)
	return ok
}

func educationOK(s Seeker, p posting.Posting) bool {
	if p.EducationMin.Rank() <= s.EducationRank {
		return true
	}
	return p.ExperienceInLieuOfEducation && p.ExperienceMonthsMin > 0 && s.ExperienceMonths >= p.ExperienceMonthsMin
}

func heldAny(group, held []string) bool {
	for _, c := range group {
		if slices.Contains(held, c) {
			return true
		}
	}
	return false
}

// Score scores s against p at time now. Eligible is true when no
// requirement is missing and the place suits the seeker.
func Score(s Seeker, p posting.Posting, now time.Time) Result {
	reach, dist := Reachable(s, p)
	gaps := Gaps(s, p)
	r := Result{PostingID: p.ID, Title: p.Title, Employer: p.Employer, DistanceMiles: dist, Missing: gaps, Met: []string{}}
	if r.Missing == nil {
		r.Missing = []Gap{}
	}
	r.Eligible = reach && len(gaps) == 0
	for _, group := range p.CredentialsRequired {
		if c := firstIn(group, s.Held); c != "" {
			r.Met = append(r.Met, "you hold "+c+", which it requires")
		}
	}
	if p.EducationMin != posting.EducationNone && p.EducationMin.Rank() <= s.EducationRank {
		r.Met = append(r.Met, "your education meets its minimum: "+educationWords(p.EducationMin))
	}
	if p.ExperienceMonthsMin > 0 && s.ExperienceMonths >= p.ExperienceMonthsMin {
		r.Met = append(r.Met, fmt.Sprintf("your %s of experience meets its %s minimum", months(s.ExperienceMonths), months(p.ExperienceMonthsMin)))
	}
	r.Components = []Component{
		preferred(s, p),
		skills(s, p),
		experience(s, p),
		distance(s, p, dist),
		pay(s, p),
		freshness(p, now),
	}
	for _, c := range r.Components {
		r.Score += c.Points
	}
	r.Score = round2(r.Score)
	r.Summary = summary(r, reach)
	return r
}

// Points is Score's total without the explanation: the same number,
// computed without building any text, for storing many matches at once.
func Points(s *Seeker, p *posting.Posting, now time.Time) float64 {
	var dist *float64
	if _, d, known := reach(s, p, false); known {
		dist = &d // does not escape: distancePoints only reads it
	}
	total := preferredPoints(s, p) + skillsPoints(s, p) + experiencePoints(s, p) +
		distancePoints(s, p, dist) + payPoints(s, p) + freshnessPoints(p, now)
	return round2(total)
}

func preferredPoints(s *Seeker, p *posting.Posting) float64 {
	if len(p.CredentialsPreferred) == 0 {
		return WeightPreferred
	}
	n := 0
	for _, code := range p.CredentialsPreferred {
		if slices.Contains(s.Held, code) {
			n++
		}
	}
	return round2(WeightPreferred * float64(n) / float64(len(p.CredentialsPreferred)))
}

func skillsPoints(s *Seeker, p *posting.Posting) float64 {
	want := len(p.Skills) + len(p.CodeSets) + len(p.EHRSystems)
	if want == 0 {
		return WeightSkills
	}
	hit, total := 0, 0
	for _, list := range [][]string{p.Skills, p.CodeSets, p.EHRSystems} {
		for _, w := range list {
			total++
			if hasFold(s.Skills, w) || hasFold(s.CodeSets, w) || hasFold(s.EHRSystems, w) {
				hit++
			}
		}
	}
	return round2(WeightSkills * float64(hit) / float64(total))
}

func hasFold(list []string, w string) bool {
	for _, x := range list {
		if strings.EqualFold(x, w) {
			return true
		}
	}
	return false
}

func experiencePoints(s *Seeker, p *posting.Posting) float64 {
	if p.ExperienceMonthsMin == 0 {
		return WeightExperience
	}
	return round2(WeightExperience * math.Min(1, float64(s.ExperienceMonths)/float64(p.ExperienceMonthsMin)))
}

func distancePoints(s *Seeker, p *posting.Posting, dist *float64) float64 {
	switch {
	case p.WorkMode == "remote":
		return WeightDistance
	case dist == nil || s.RadiusMiles <= 0:
		return 0
	}
	return round2(WeightDistance * math.Max(0, 1-*dist/float64(s.RadiusMiles)))
}

func payPoints(s *Seeker, p *posting.Posting) float64 {
	top := math.Max(p.SalaryHourlyMax, p.SalaryHourlyMin)
	switch {
	case top == 0:
		return WeightPay / 2
	case s.DesiredHourly <= 0, top >= s.DesiredHourly:
		return WeightPay
	}
	return round2(WeightPay * top / s.DesiredHourly)
}

func freshnessPoints(p *posting.Posting, now time.Time) float64 {
	if p.DatePosted.IsZero() {
		return 0
	}
	days := math.Max(0, now.Sub(p.DatePosted).Hours()/24)
	return round2(WeightFreshness * math.Max(0, 1-days/FreshForDays))
}

func preferred(s Seeker, p posting.Posting) Component {
	c := Component{Name: "preferred_credentials", Max: WeightPreferred}
	if len(p.CredentialsPreferred) == 0 {
		c.Points, c.Detail = WeightPreferred, "no preferred credentials listed"
		return c
	}
	var have []string
	for _, code := range p.CredentialsPreferred {
		if slices.Contains(s.Held, code) {
			have = append(have, code)
		}
	}
	c.Points = preferredPoints(&s, &p)
	if len(have) == 0 {
		c.Detail = "it prefers " + orList(p.CredentialsPreferred) + "; you hold none of them"
	} else {
		c.Detail = fmt.Sprintf("you hold %s of the preferred %s", strings.Join(have, ", "), andList(p.CredentialsPreferred))
	}
	return c
}

func skills(s Seeker, p posting.Posting) Component {
	c := Component{Name: "skills", Max: WeightSkills}
	want := union(p.Skills, p.CodeSets, p.EHRSystems)
	if len(want) == 0 {
		c.Points, c.Detail = WeightSkills, "no specific skills, code sets or systems listed"
		return c
	}
	have := union(s.Skills, s.CodeSets, s.EHRSystems)
	var hit, miss []string
	for _, w := range want {
		if slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			hit = append(hit, w)
		} else {
			miss = append(miss, w)
		}
	}
	c.Points = skillsPoints(&s, &p)
	c.Detail = fmt.Sprintf("%d of %d skills, code sets and systems it lists", len(hit), len(want))
	if len(hit) > 0 {
		c.Detail += "; you have " + strings.Join(hit, ", ")
	}
	if len(miss) > 0 {
		c.Detail += "; you lack " + strings.Join(miss, ", ")
	}
	return c
}

func experience(s Seeker, p posting.Posting) Component {
	c := Component{Name: "experience", Max: WeightExperience}
	if p.ExperienceMonthsMin == 0 {
		c.Points, c.Detail = WeightExperience, "no experience minimum"
		return c
	}
	c.Points = experiencePoints(&s, &p)
	c.Detail = fmt.Sprintf("%s of the %s it asks for", months(s.ExperienceMonths), months(p.ExperienceMonthsMin))
	return c
}

func distance(s Seeker, p posting.Posting, dist *float64) Component {
	c := Component{Name: "distance", Max: WeightDistance}
	switch {
	case p.WorkMode == "remote":
		c.Points, c.Detail = WeightDistance, "remote work"
	case dist == nil || s.RadiusMiles <= 0:
		c.Detail = "distance unknown"
	default:
		c.Points = distancePoints(&s, &p, dist)
		c.Detail = fmt.Sprintf("%.1f miles away, within your %d-mile radius", *dist, s.RadiusMiles)
		if *dist > float64(s.RadiusMiles) {
			c.Detail = fmt.Sprintf("%.1f miles away, beyond your %d-mile radius", *dist, s.RadiusMiles)
		}
	}
	return c
}

func pay(s Seeker, p posting.Posting) Component {
	c := Component{Name: "pay", Max: WeightPay}
	top := math.Max(p.SalaryHourlyMax, p.SalaryHourlyMin)
	switch {
	case top == 0:
		c.Points, c.Detail = WeightPay/2, "pay not stated"
	case s.DesiredHourly <= 0:
		c.Points, c.Detail = WeightPay, fmt.Sprintf("pays up to $%.2f/h", top)
	case top >= s.DesiredHourly:
		c.Points, c.Detail = WeightPay, fmt.Sprintf("pays up to $%.2f/h, at or above your $%.2f/h", top, s.DesiredHourly)
	default:
		c.Points = payPoints(&s, &p)
		c.Detail = fmt.Sprintf("pays up to $%.2f/h, below your $%.2f/h", top, s.DesiredHourly)
	}
	return c
}

func freshness(p posting.Posting, now time.Time) Component {
	c := Component{Name: "freshness", Max: WeightFreshness}
	if p.DatePosted.IsZero() {
		c.Detail = "posting date unknown"
		return c
	}
	c.Points = freshnessPoints(&p, now)
	c.Detail = fmt.Sprintf("posted %d days ago", int(math.Max(0, now.Sub(p.DatePosted).Hours()/24)))
	return c
}

func summary(r Result, reach bool) string {
	switch {
	case !reach:
		return "outside your area or work-mode preference"
	case r.Eligible:
		return fmt.Sprintf("You qualify: %.0f/100.", r.Score)
	}
	parts := make([]string, 0, len(r.Missing))
	for _, g := range r.Missing {
		parts = append(parts, g.Detail)
	}
	return "Not yet: it " + strings.Join(parts, "; it ") + "."
}

// Rank sorts results best first: eligible before not, then by score, then
// newest posting id order for ties (by id, so equal inputs give equal
// order).
func Rank(rs []Result) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.Eligible != b.Eligible {
			return a.Eligible
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.PostingID < b.PostingID
	})
}

func firstIn(group, held []string) string {
	for _, c := range sorted(group) {
		if slices.Contains(held, c) {
			return c
		}
	}
	return ""
}

func sorted(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}

func union(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, x := range l {
			if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, x) }) {
				out = append(out, x)
			}
		}
	}
	return out
}

func orList(xs []string) string  { return joinList(sorted(xs), "or") }
func andList(xs []string) string { return joinList(sorted(xs), "and") }

func joinList(xs []string, word string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " " + word + " " + xs[len(xs)-1]
}

func months(n int) string {
	switch {
	case n == 12:
		return "1 year"
	case n%12 == 0 && n > 0:
		return fmt.Sprintf("%d years", n/12)
	case n == 1:
		return "1 month"
	}
	return fmt.Sprintf("%d months", n)
}

func educationWords(e posting.Education) string {
	switch e {
	case posting.EducationHighSchool:
		return "a high school diploma or GED"
	case posting.EducationCertificate:
		return "a postsecondary certificate"
	case posting.EducationAssociate:
		return "an associate degree"
	case posting.EducationBachelor:
		return "a bachelor's degree"
	case posting.EducationMaster:
		return "a master's degree"
	}
	return "no particular education"
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
