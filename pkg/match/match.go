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
	Codes []string `json:"codes,omitempty"`
	// Short is how far off the seeker is: months of experience, or
	// education levels (posting.Education ranks).
	Short  int    `json:"short,omitempty"`
	Detail string `json:"detail"`
}

// Result is a seeker–posting match.
type Result struct {
	PostingID  string      `json:"posting_id"`
	Title      string      `json:"title"`
	Employer   string      `json:"employer"`
	Eligible   bool        `json:"eligible"`
	Score      float64     `json:"score"`
	Components []Component `json:"components"`
	Met        []string    `json:"met"`
	Missing    []Gap       `json:"missing"`
	// Route is the posting's way in (an index into its routes, least
	// demanding first) that the seeker meets, or else the one cheapest to
	// close, which Missing lists; RouteCount is how many ways in it has.
	Route      int `json:"route"`
	RouteCount int `json:"route_count"`
	// OtherRoutes describe the other ways in when the seeker meets none
	// (or-eligible credentials aside: every way in needs them).
	OtherRoutes   []string `json:"other_routes,omitempty"`
	DistanceMiles *float64 `json:"distance_miles,omitempty"`
	Summary       string   `json:"summary"`
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

// Gaps lists the requirements of p that s does not meet on the posting's
// route cheapest to close by DefaultCost (none when s meets a route).
func Gaps(s Seeker, p posting.Posting) []Gap {
	_, gaps, _ := closest(&s, &p, Routes(&p), DefaultCost)
	return gaps
}

// Routes returns p's ways in, least demanding first: its routes, or for an
// event written before routes the canonical form of the routes it implies
// (experience in place of education leaves one route, the experience, since
// the experience minimum applied either way).
func Routes(p *posting.Posting) []posting.Route {
	if len(p.Routes) > 0 {
		return p.Routes
	}
	// p.Alternatives() is the base route and, with experience in place of
	// education, the same without the education: meeting the base route
	// meets the second, so the second alone is the canonical form.
	groups, edu, exp := routeAt(p, routeCount(p)-1)
	rt := posting.Route{Credentials: groups, ExperienceMonthsMin: exp}
	if edu > 0 {
		rt.EducationMin = p.EducationMin
	}
	return []posting.Route{rt}
}

// Cost prices closing one gap, in rough months of effort: Score names the
// route whose gaps cost least in total. The matching service passes one
// built from the pathway engine's months for the closing steps.
type Cost func(Gap) float64

// DefaultCost is the cost without a pathway engine: a month per month of
// experience short, two years per education level short, and a year for a
// credential (study, an exam and its eligibility are unknown here), so a
// credential gap costs more than a few months of experience. Ties go to the
// earlier (less demanding) route.
func DefaultCost(g Gap) float64 {
	switch g.Kind {
	case "experience":
		return float64(g.Short)
	case "education":
		return 24 * float64(g.Short)
	}
	return 12
}

// closest returns the index of the first route s meets (met), with the
// or-eligible gaps only, or else of the route whose gaps cost least, with
// its gaps. Or-eligible credentials are global: their gaps come with every
// route.
func closest(s *Seeker, p *posting.Posting, routes []posting.Route, cost Cost) (idx int, gaps []Gap, met bool) {
	var global []Gap
	for _, code := range p.CredentialsOrEligible {
		if !slices.Contains(s.Held, code) && !slices.Contains(s.EligibleNow, code) {
			global = append(global, Gap{Kind: "or_eligible", Codes: []string{code}, Detail: "requires " + code + " or eligibility to sit for it"})
		}
	}
	best, bestCost := -1, math.Inf(1)
	var bestGaps []Gap
	for i, rt := range routes {
		rg := routeGaps(s, rt)
		if len(rg) == 0 {
			return i, global, true
		}
		c := 0.0
		if len(routes) > 1 { // one route: nothing to choose, nothing to price
			for _, g := range rg {
				c += cost(g)
			}
		}
		if best < 0 || c < bestCost {
			best, bestCost, bestGaps = i, c, rg
		}
	}
	// Credential gaps first, then or-eligible, education and experience:
	// the order a reader checks them.
	var out []Gap
	for _, g := range bestGaps {
		if g.Kind == "credential" {
			out = append(out, g)
		}
	}
	out = append(out, global...)
	for _, g := range bestGaps {
		if g.Kind != "credential" {
			out = append(out, g)
		}
	}
	return best, out, false
}

// routeGaps lists what s lacks for one route.
func routeGaps(s *Seeker, rt posting.Route) []Gap {
	var gaps []Gap
	for _, group := range rt.Credentials {
		if !heldAny(group, s.Held) {
			gaps = append(gaps, Gap{Kind: "credential", Codes: sorted(group), Detail: "requires " + orList(group)})
		}
	}
	if short := rt.EducationMin.Rank() - s.EducationRank; short > 0 {
		gaps = append(gaps, Gap{Kind: "education", Short: short, Detail: "requires " + educationWords(rt.EducationMin)})
	}
	if short := rt.ExperienceMonthsMin - s.ExperienceMonths; short > 0 {
		gaps = append(gaps, Gap{Kind: "experience", Short: short, Detail: fmt.Sprintf("requires %s of experience (you have %s)", months(rt.ExperienceMonthsMin), months(s.ExperienceMonths))})
	}
	return gaps
}

// Qualifies reports whether s meets one of p's routes and its or-eligible
// credentials, and can reach it: Score's Eligible, without building an
// explanation. It allocates nothing, for reverse matching against many
// seekers.
func Qualifies(s *Seeker, p *posting.Posting) bool {
	for _, code := range p.CredentialsOrEligible {
		if !slices.Contains(s.Held, code) && !slices.Contains(s.EligibleNow, code) {
			return false
		}
	}
	met := false
	for i := range routeCount(p) {
		if meetsRoute(s, p, i) {
			met = true
			break
		}
	}
	if !met {
		return false
	}
	ok, _, _ := reach(s, p, false)
	return ok
}

// routeCount and routeAt read p.Alternatives() without allocating: the
// routes when set, else the routes an event written before routes implies
// (not canonical: meeting one of them is meeting one of Routes).
func routeCount(p *posting.Posting) int {
	switch {
	case len(p.Routes) > 0:
		return len(p.Routes)
	case p.ExperienceInLieuOfEducation && p.ExperienceMonthsMin > 0 && p.EducationMin != posting.EducationNone:
		return 2
	}
	return 1
}

func routeAt(p *posting.Posting, i int) (groups [][]string, eduRank, expMonths int) {
	switch {
	case len(p.Routes) > 0:
		rt := &p.Routes[i]
		return rt.Credentials, rt.EducationMin.Rank(), rt.ExperienceMonthsMin
	case i == 1: // experience in place of education
		return p.CredentialsRequired, 0, p.ExperienceMonthsMin
	}
	return p.CredentialsRequired, p.EducationMin.Rank(), p.ExperienceMonthsMin
}

func meetsRoute(s *Seeker, p *posting.Posting, i int) bool {
	groups, edu, exp := routeAt(p, i)
	if edu > s.EducationRank || exp > s.ExperienceMonths {
		return false
	}
	for _, group := range groups {
		if !heldAny(group, s.Held) {
			return false
		}
	}
	return true
}

func heldAny(group, held []string) bool {
	for _, c := range group {
		if slices.Contains(held, c) {
			return true
		}
	}
	return false
}

// Score scores s against p at time now. Eligible is true when s meets one
// of p's routes (and its or-eligible credentials) and the place suits the
// seeker; otherwise Missing names the route cheapest to close by
// DefaultCost.
func Score(s Seeker, p posting.Posting, now time.Time) Result {
	return ScoreWith(s, p, now, DefaultCost)
}

// ScoreWith is Score with the caller's price of a gap, which decides the
// route a near miss names.
func ScoreWith(s Seeker, p posting.Posting, now time.Time, cost Cost) Result {
	if cost == nil {
		cost = DefaultCost
	}
	reach, dist := Reachable(s, p)
	routes := Routes(&p)
	ri, gaps, met := closest(&s, &p, routes, cost)
	r := Result{PostingID: p.ID, Title: p.Title, Employer: p.Employer, DistanceMiles: dist, Missing: gaps, Met: []string{},
		Route: ri, RouteCount: len(routes)}
	if r.Missing == nil {
		r.Missing = []Gap{}
	}
	r.Eligible = reach && len(gaps) == 0
	rt := routes[ri]
	switch {
	case len(routes) == 1:
	case met:
		r.Met = append(r.Met, fmt.Sprintf("you meet one of its %d ways in: %s", len(routes), routeWords(rt)))
	default:
		for i, o := range routes {
			if i != ri {
				r.OtherRoutes = append(r.OtherRoutes, routeWords(o))
			}
		}
	}
	requires := "which it requires"
	if len(routes) > 1 {
		requires = "which that way in requires"
	}
	for _, group := range rt.Credentials {
		if c := firstIn(group, s.Held); c != "" {
			r.Met = append(r.Met, "you hold "+c+", "+requires)
		}
	}
	if rt.EducationMin != posting.EducationNone && rt.EducationMin.Rank() <= s.EducationRank {
		r.Met = append(r.Met, "your education meets its minimum: "+educationWords(rt.EducationMin))
	}
	if rt.ExperienceMonthsMin > 0 && s.ExperienceMonths >= rt.ExperienceMonthsMin {
		r.Met = append(r.Met, fmt.Sprintf("your %s of experience meets its %s minimum", months(s.ExperienceMonths), months(rt.ExperienceMonthsMin)))
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

// routeWords describes a route: "RHIT and CCS or CIC and 1 year of
// experience".
func routeWords(rt posting.Route) string {
	var parts []string
	for _, g := range rt.Credentials {
		if len(g) > 2 {
			parts = append(parts, "one of "+orList(g))
		} else {
			parts = append(parts, orList(g))
		}
	}
	if rt.EducationMin != posting.EducationNone {
		parts = append(parts, educationWords(rt.EducationMin))
	}
	if rt.ExperienceMonthsMin > 0 {
		parts = append(parts, months(rt.ExperienceMonthsMin)+" of experience")
	}
	if len(parts) == 0 {
		return "no particular credential, education or experience"
	}
	return joinList(parts, "and")
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
	if len(r.OtherRoutes) == 0 {
		return "Not yet: it " + strings.Join(parts, "; it ") + "."
	}
	// Several ways in: the one named is the cheapest to close.
	return "Not yet: one way in (the closest for you) " + strings.Join(parts, "; it ") +
		"; another: " + strings.Join(r.OtherRoutes, "; another: ") + "."
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
