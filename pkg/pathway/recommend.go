package pathway

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	mathbits "math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// Options are the inputs of Recommend that do not come from the seeker.
type Options struct {
	// Today is the date plans and renewal cycles are computed against; only
	// its calendar date (in its own location) counts. Required.
	Today time.Time
	// Demand is the local job market, used to rank steps. Optional.
	Demand Demand
}

// Demand is a market signal near the seeker.
type Demand struct {
	// Credentials maps a credential code to its demand. Codes the catalog
	// does not know are ignored: market data may name credentials outside it.
	Credentials map[string]CredentialDemand
	// RadiusMiles is the search radius the postings were counted in.
	RadiusMiles int
	// QualifiedMedianHourly is the median hourly pay of postings the seeker
	// already qualifies for: the baseline for pay uplift.
	QualifiedMedianHourly float64
}

// CredentialDemand is the market signal for one credential.
type CredentialDemand struct {
	Postings     int     // open postings near the seeker requiring or preferring it
	MedianHourly float64 // median hourly pay of those postings, USD
}

// Plan is Recommend's answer. Empty lists are [] in JSON, unknown numbers null.
type Plan struct {
	CatalogVersion string `json:"catalog_version"`
	Today          string `json:"today"`
	// Held lists the credentials the seeker holds.
	Held []string `json:"held"`
	// EligibleNow lists credentials the seeker may sit for today, sorted.
	EligibleNow []string `json:"eligible_now"`
	// Caveats qualify an eligibility: secondary-source rules, recommended
	// preparation not met, apprentice status on passing.
	Caveats map[string][]string `json:"caveats,omitempty"`
	// RolesNow lists catalog roles whose stated requirements the seeker meets.
	RolesNow []string `json:"roles_now"`
	// NextSteps are the steps the seeker can take now, best first.
	NextSteps []Step `json:"next_steps"`
	// Target is the route to State.Target; nil without a target.
	Target *TargetPlan `json:"plan,omitempty"`
	// Blocked says, for every credential neither held nor eligible, what
	// blocks it: one line per route.
	Blocked map[string][]string `json:"blocked"`
	// Apprentice reports each held apprentice status (CPC-A, COC-A).
	Apprentice []ApprenticeStatus `json:"apprentice,omitempty"`
	// Recertification reports each issuer's renewal cycle for held credentials.
	Recertification []Recert `json:"recertification"`
	// EducationFields says how each education entry's field of study, as
	// written, was read: HIM, coding or other.
	EducationFields []EducationField `json:"education_fields"`
}

// Step is one thing to do. Nil numbers are unknown.
type Step struct {
	Kind  string `json:"kind"` // credential, education, training or experience
	Code  string `json:"code"` // catalog code; the area for experience steps
	Title string `json:"title"`
	Why   string `json:"why"`
	// MonthsMin and MonthsMax bound the step's duration. Credential steps
	// leave them null: no source gives exam preparation time.
	MonthsMin *int     `json:"months_min"`
	MonthsMax *int     `json:"months_max"`
	CostMin   *float64 `json:"cost_min"` // USD
	CostMax   *float64 `json:"cost_max"`
	// Unlocks lists credentials that become open to the seeker after this step.
	Unlocks []string `json:"unlocks"`
	// OpensRoles lists catalog roles whose requirements the step completes.
	OpensRoles []string `json:"opens_roles,omitempty"`
	// NeededFor names the plan step that requires this one.
	NeededFor string `json:"needed_for,omitempty"`
	// Demand explains the market signal behind the score, when given.
	Demand string   `json:"demand,omitempty"`
	Notes  []string `json:"notes,omitempty"`
	Score  float64  `json:"score"`
}

// TargetPlan is the route to the seeker's target credential.
type TargetPlan struct {
	Target   string `json:"target"`
	Optimize string `json:"optimize"`
	// Status is one of: held, eligible_now, planned, over_limits (no route
	// fits max_months/max_cost_usd; Steps shows the best route anyway),
	// rules_unknown, unreachable.
	Status string `json:"status"`
	Steps  []Step `json:"steps"`
	// MonthsMin is a lower bound; MonthsMax is null when a step's duration
	// is unknown. Steps are added end to end; exam study time is excluded.
	MonthsMin int      `json:"months_min"`
	MonthsMax *int     `json:"months_max"`
	CostMin   float64  `json:"cost_min"`
	CostMax   *float64 `json:"cost_max"`
	Notes     []string `json:"notes"`
	// Alternatives are the next-best routes, as step codes.
	Alternatives []Route `json:"alternatives,omitempty"`
}

// Route is a summarised alternative route.
type Route struct {
	Steps     []string `json:"steps"` // "kind:code"
	MonthsMin int      `json:"months_min"`
	MonthsMax *int     `json:"months_max"`
	CostMin   float64  `json:"cost_min"`
	CostMax   *float64 `json:"cost_max"`
	Uncertain bool     `json:"uncertain,omitempty"`
}

// Recommend evaluates st against the catalog: what the seeker may sit for
// now, what blocks the rest, ranked next steps, the route to st.Target,
// apprentice status and renewal deadlines. It reads no clock: opt.Today is
// required. Invalid input gives an apierr Invalid error with field paths.
func Recommend(cat *Catalog, st State, opt Options) (Plan, error) {
	if cat == nil {
		return Plan{}, errors.New("recommend: nil catalog")
	}
	var fs apierr.Fields
	if opt.Today.IsZero() {
		fs.Add("options.today", "required")
	}
	for code, d := range opt.Demand.Credentials {
		if d.Postings < 0 || !(d.MedianHourly >= 0 && d.MedianHourly < 1e6) {
			fs.Add("options.demand.credentials."+code, "postings and median_hourly must not be negative")
		}
	}
	if opt.Demand.RadiusMiles < 0 || !(opt.Demand.QualifiedMedianHourly >= 0 && opt.Demand.QualifiedMedianHourly < 1e6) {
		fs.Add("options.demand", "radius_miles and qualified_median_hourly must not be negative")
	}
	if err := fs.Err(); err != nil {
		return Plan{}, fmt.Errorf("recommend: %w", err)
	}
	today := civil(opt.Today)
	ck, err := st.check(cat, today)
	if err != nil {
		return Plan{}, fmt.Errorf("recommend: %w", err)
	}
	e := &engine{cat: cat, ck: ck, prof: &ck.prof, today: today, demand: &opt.Demand}
	return e.run(), nil
}

type engine struct {
	cat    *Catalog
	ck     *checked
	prof   *profile
	today  time.Time
	demand *Demand

	eligible uint64 // credentials the seeker may sit for now
	roles    uint64 // roles the seeker qualifies for now
	inPlan   map[stepKey]bool
}

func (e *engine) eligibleMask(p *profile) uint64 {
	var m uint64
	for i, n := range e.cat.c.elig {
		if n != nil && !p.holds(i) && eval(n, p, false) {
			m |= bit(i)
		}
	}
	return m
}

func (e *engine) roleMask(p *profile) uint64 {
	var m uint64
	for i, n := range e.cat.c.roleReq {
		if n != nil && eval(n, p, false) {
			m |= bit(i)
		}
	}
	return m
}

func (e *engine) run() Plan {
	cat := e.cat
	p := Plan{
		CatalogVersion:  cat.Version,
		Today:           e.today.Format(time.DateOnly),
		Held:            []string{},
		EligibleNow:     []string{},
		RolesNow:        []string{},
		Blocked:         map[string][]string{},
		NextSteps:       []Step{},
		Recertification: []Recert{},
		EducationFields: e.ck.fields,
	}
	e.eligible = e.eligibleMask(e.prof)
	e.roles = e.roleMask(e.prof)
	for i := range cat.Credentials {
		code := cat.Credentials[i].Code
		switch {
		case e.prof.holds(i):
			p.Held = append(p.Held, code)
		case e.eligible&bit(i) != 0:
			p.EligibleNow = append(p.EligibleNow, code)
			if cv := e.caveats(i); len(cv) > 0 {
				if p.Caveats == nil {
					p.Caveats = map[string][]string{}
				}
				p.Caveats[code] = cv
			}
		default:
			p.Blocked[code] = cat.blocked(i, e.prof)
		}
	}
	slices.Sort(p.Held)
	slices.Sort(p.EligibleNow)
	for i := range cat.Roles {
		if e.roles&bit(i) != 0 {
			p.RolesNow = append(p.RolesNow, cat.Roles[i].Code)
		}
	}
	slices.Sort(p.RolesNow)

	if e.ck.target >= 0 {
		p.Target = e.targetPlan()
	}
	p.NextSteps = e.nextSteps()
	p.Apprentice = e.apprenticeStatuses()
	p.Recertification = e.recertification()
	return p
}

// caveats qualify an eligibility the seeker has now.
func (e *engine) caveats(i int) []string {
	cr := &e.cat.Credentials[i]
	var out []string
	if cr.Eligibility.Confidence == Secondary {
		out = append(out, fmt.Sprintf("%s eligibility rules come from secondary sources only; confirm with %s", cr.Code, cr.Issuer))
	}
	if n := e.cat.c.elig[i]; n != nil && !eval(n, e.prof, true) {
		out = append(out, "eligible only through a route known from secondary sources"+uncertainNote(n, e.prof))
	}
	if rec := e.cat.c.rec[i]; rec != nil && !eval(rec, e.prof, false) {
		out = append(out, fmt.Sprintf("%s recommends (does not require) %s", cr.Issuer, e.cat.describe(rec)))
	}
	if a := e.cat.c.appr[i]; a != nil && e.apprenticeCredit(a) < a.months {
		out = append(out, fmt.Sprintf("passing now gives %s%s (apprentice) until you have %d months of %s experience or equivalent credits",
			cr.Code, a.suffix, a.months, areaName(a.area)))
	}
	return out
}

// uncertainNote finds the satisfied uncertain route's note.
func uncertainNote(n *node, p *profile) string {
	if n.uncertain && eval(n, p, false) {
		if n.note != "" {
			return ": " + n.note
		}
		return ""
	}
	for _, k := range n.kids {
		if s := uncertainNote(k, p); s != "" {
			return s
		}
	}
	return ""
}

// Scoring weights. A step's score adds what it opens and the market's
// interest in it, and subtracts its time and money; unknown time or cost
// costs a flat penalty so it neither wins nor vanishes.
const (
	weightCredential   = 10.0  // earning a credential at all
	weightUnlock       = 12.0  // per credential made reachable
	weightRole         = 6.0   // per role whose requirements are completed
	weightTarget       = 30.0  // the target itself
	weightOnPlan       = 20.0  // a step of the target plan
	weightRecommended  = 4.0   // meets recommended preparation
	weightApprentice   = 8.0   // shortens an apprenticeship
	perMonth           = 0.3   // per month of duration (worst case)
	unknownMonthsCost  = 8.0   // duration not in our sources
	perUSD             = 0.004 // per dollar (worst case)
	unknownUSDCost     = 2.0   // cost not in our sources
	demandPostings     = 3.0   // × log2(1 + postings)
	demandUplift       = 40.0  // × relative pay uplift, clamped
	demandIndirectRate = 0.5   // demand of what a step unlocks counts half
)

// candidate is a next step before ranking.
type candidate struct {
	s       pstep
	unlocks uint64
	opens   uint64
	why     []string
	notes   []string
	bonus   float64
}

func (e *engine) nextSteps() []Step {
	cat := e.cat
	var cands []candidate

	for i := range cat.Credentials {
		if e.eligible&bit(i) == 0 {
			continue
		}
		q := *e.prof
		q.held |= bit(i)
		c := candidate{s: credentialStep(cat, i, "", "")}
		e.outcome(&c, &q)
		c.bonus += weightCredential
		c.why = append([]string{fmt.Sprintf("You can sit for %s now (%s)", cat.Credentials[i].Code, e.metRoute(i))}, c.why...)
		c.notes = append(c.notes, e.caveats(i)...)
		cands = append(cands, c)
	}

	highest := -1
	for _, ed := range e.prof.edu {
		if ed.status == statusBit(StatusCompleted) {
			highest = max(highest, ed.level)
		}
	}
	for pi := range cat.Education {
		pr := &cat.Education[pi]
		lvl := levelRank(pr.Level)
		done := eduEntry{level: lvl, field: pr.Field, cahiim: pr.CAHIIM, status: statusBit(StatusCompleted)}
		if e.hasEdu(done) || !e.prereqsMet(cat.c.progPre[pi]) {
			continue
		}
		q := e.prof.withEdu(done)
		c := candidate{s: programStep(cat, e.prof, pi, "", "")}
		e.outcome(&c, &q)
		if c.unlocks == 0 && c.opens == 0 && !e.inPlan[c.s.key()] && lvl <= highest {
			continue // adds nothing the seeker does not have
		}
		if lvl > highest {
			c.why = append(c.why, "raises your education to "+withArticle(levelName(lvl)))
		}
		cands = append(cands, c)
	}

	for ti := range cat.Trainings {
		if e.prof.trainedIn(ti) || !e.prereqsMet(cat.c.trainPre[ti]) {
			continue
		}
		q := *e.prof
		q.trained |= bit(ti)
		c := candidate{s: trainingStep(cat, ti, "", "")}
		e.outcome(&c, &q)
		useful := c.unlocks != 0 || c.opens != 0 || e.inPlan[c.s.key()]
		for ci := range cat.Credentials {
			if a := cat.c.appr[ci]; a != nil && e.prof.apprentice&bit(ci) != 0 {
				for _, cr := range a.credits {
					if cr.training == ti && e.apprenticeCredit(a) < a.months {
						c.why = append(c.why, fmt.Sprintf("%s credits it as %d months toward removing %s from %s%s",
							cat.Credentials[ci].Issuer, cr.months, a.suffix, cat.Credentials[ci].Code, a.suffix))
						c.bonus += weightApprentice
						useful = true
					}
				}
			}
			if rec := cat.c.rec[ci]; rec != nil && (e.eligible&bit(ci) != 0 || e.ck.target == ci) &&
				!eval(rec, e.prof, false) && eval(rec, &q, false) {
				c.why = append(c.why, fmt.Sprintf("meets the recommended preparation for %s", cat.Credentials[ci].Code))
				c.bonus += weightRecommended
				useful = true
			}
		}
		if useful {
			cands = append(cands, c)
		}
	}

	for a := 0; a < numAreas; a++ {
		if c, ok := e.experienceCandidate(a); ok {
			cands = append(cands, c)
		}
	}

	steps := make([]Step, 0, len(cands))
	for i := range cands {
		steps = append(steps, e.rank(&cands[i]))
	}
	slices.SortStableFunc(steps, func(a, b Step) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.Code, b.Code), strings.Compare(a.Kind, b.Kind))
	})
	return steps
}

func (e *engine) hasEdu(want eduEntry) bool {
	for _, ed := range e.prof.edu {
		if ed.status == want.status && ed.level == want.level && ed.field == want.field && (!want.cahiim || ed.cahiim) {
			return true
		}
	}
	return false
}

func (e *engine) prereqsMet(pre []itemRef) bool {
	pl := planner{cat: e.cat, prof: e.prof}
	for _, r := range pre {
		if !pl.prereqMet(r) {
			return false
		}
	}
	return true
}

// outcome fills what the step would open: credentials newly within reach
// and roles whose requirements become met, and target-plan membership.
func (e *engine) outcome(c *candidate, q *profile) {
	c.unlocks = e.eligibleMask(q) &^ e.eligible
	c.opens = e.roleMask(q) &^ e.roles
	if c.unlocks != 0 {
		c.why = append(c.why, "makes you eligible for "+joinAnd(e.codes(c.unlocks)))
	}
	if c.opens != 0 {
		c.why = append(c.why, "meets the stated requirements of "+joinAnd(e.roleTitles(c.opens)))
	}
	if e.inPlan[c.s.key()] {
		c.why = append(c.why, "part of your plan toward "+e.cat.Credentials[e.ck.target].Code)
	}
}

// experienceCandidate proposes reaching the next experience threshold in
// an area that opens something, or that removes an apprentice suffix.
func (e *engine) experienceCandidate(a int) (candidate, bool) {
	cat := e.cat
	have := e.prof.exp[a]
	need := 0
	for _, t := range slices.Concat(cat.c.thresholds[a], cat.c.thresholds[numAreas]) {
		if t <= have || (need != 0 && t >= need) {
			continue
		}
		q := *e.prof
		q.exp[a] = t
		if e.eligibleMask(&q)&^e.eligible != 0 || e.roleMask(&q)&^e.roles != 0 {
			need = t
		}
	}
	apprentice := ""
	for ci, ar := range cat.c.appr {
		if ar == nil || ar.area != a || e.prof.apprentice&bit(ci) == 0 {
			continue
		}
		if left := ar.months - e.apprenticeCredit(ar); left > 0 && (need == 0 || have+left <= need) {
			need = have + left
			apprentice = fmt.Sprintf("removes %s from %s%s", ar.suffix, cat.Credentials[ci].Code, ar.suffix)
		}
	}
	if need == 0 {
		return candidate{}, false
	}
	s := experienceStep(e.prof, a, need, "", "")
	c := candidate{s: s}
	q := *e.prof
	q.exp[a] = need
	e.outcome(&c, &q)
	c.why = append([]string{fmt.Sprintf("reaching %d months of %s experience (%d more)", need, areaName(a), need-have)}, c.why...)
	if apprentice != "" {
		c.why = append(c.why, apprentice)
		c.bonus += weightApprentice
	}
	return c, true
}

// metRoute words the route by which the seeker is eligible for credential i.
func (e *engine) metRoute(i int) string {
	n := e.cat.c.elig[i]
	if n.kind == nodeAny {
		for _, k := range n.kids {
			if eval(k, e.prof, false) {
				return "through " + e.cat.describe(k)
			}
		}
	}
	if n.kind == nodeOpen {
		return "no prior education or experience required"
	}
	return "requires " + e.cat.describe(n)
}

// rank turns a candidate into a scored Step.
func (e *engine) rank(c *candidate) Step {
	s := e.publicStep(&c.s)
	s.Unlocks = e.codes(c.unlocks)
	s.OpensRoles = e.roleCodes(c.opens)
	s.Notes = append(s.Notes, c.notes...)

	score := c.bonus + weightUnlock*float64(bits(c.unlocks)) + weightRole*float64(bits(c.opens))
	if e.ck.target >= 0 {
		if c.s.kind == KindCredential && c.s.idx == e.ck.target {
			score += weightTarget
		} else if e.inPlan[c.s.key()] {
			score += weightOnPlan
		}
	}
	if c.s.kind != KindCredential {
		if c.s.mKnown {
			score -= perMonth * float64(c.s.mMax)
		} else {
			score -= unknownMonthsCost
		}
	}
	if c.s.cKnown {
		score -= perUSD * c.s.cMax
	} else {
		score -= unknownUSDCost
	}

	// Market demand: direct for a credential, half-weight through what a
	// step unlocks (the best of them).
	if c.s.kind == KindCredential {
		if d, txt, ok := e.demandFor(e.cat.Credentials[c.s.idx].Code); ok {
			score += d
			s.Demand = txt
		}
	} else {
		best, texts := math.Inf(-1), []string(nil)
		for _, code := range s.Unlocks {
			if d, txt, ok := e.demandFor(code); ok {
				best = max(best, d)
				texts = append(texts, txt)
			}
		}
		if texts != nil {
			score += demandIndirectRate * best
			s.Demand = "unlocks " + strings.Join(texts, "; and ")
		}
	}

	why := c.why
	if c.s.why != "" {
		why = append([]string{c.s.why}, why...)
	}
	s.Why = capitalize(strings.Join(why, "; "))
	s.Score = math.Round(score*100) / 100
	return s
}

// demandFor scores and explains the market signal for a credential.
func (e *engine) demandFor(code string) (float64, string, bool) {
	d, ok := e.demand.Credentials[code]
	if !ok || (d.Postings == 0 && d.MedianHourly == 0) {
		return 0, "", false
	}
	if e.cat.Credential(code) == nil {
		return 0, "", false
	}
	score := demandPostings * math.Log2(1+float64(d.Postings))
	var b strings.Builder
	b.WriteString(code)
	b.WriteString(": required or preferred by ")
	b.WriteString(strconv.Itoa(d.Postings))
	if d.Postings == 1 {
		b.WriteString(" open posting")
	} else {
		b.WriteString(" open postings")
	}
	if e.demand.RadiusMiles > 0 {
		fmt.Fprintf(&b, " within %d miles", e.demand.RadiusMiles)
	}
	if d.MedianHourly > 0 {
		fmt.Fprintf(&b, "; median $%.2f/h", d.MedianHourly)
		if q := e.demand.QualifiedMedianHourly; q > 0 {
			fmt.Fprintf(&b, " vs $%.2f/h for postings you already qualify for", q)
			score += min(max(demandUplift*(d.MedianHourly-q)/q, -10), 15)
		}
	}
	return score, b.String(), true
}

// publicStep converts a planner step into a Step with titles and numbers.
func (e *engine) publicStep(ps *pstep) Step {
	cat := e.cat
	s := Step{Kind: ps.kind, Unlocks: []string{}, NeededFor: ps.neededFor}
	var months, cost Fact
	switch ps.kind {
	case KindCredential:
		cr := &cat.Credentials[ps.idx]
		s.Code, s.Title = cr.Code, "Pass the "+cr.Code+" exam ("+cr.Name+", "+cr.Issuer+")"
		if lo, hi, ok := feeRange(cr); ok {
			s.CostMin, s.CostMax = &lo, &hi
			for _, f := range cr.Exam.Fees {
				if f.Confidence == Secondary {
					s.Notes = append(s.Notes, "exam fees from secondary sources (uncertain)")
					break
				}
			}
		} else {
			s.Notes = append(s.Notes, "exam fee unknown")
		}
		return s
	case KindEducation:
		pr := &cat.Education[ps.idx]
		s.Code, s.Title, months, cost = pr.Code, pr.Title, pr.Months, pr.CostUSD
		if ps.finish {
			s.Title = "Finish your " + pr.Title
		}
	case KindTraining:
		t := &cat.Trainings[ps.idx]
		s.Code, s.Title, months, cost = t.Code, t.Title, t.Months, t.CostUSD
	case KindExperience:
		s.Code = areaName(ps.idx)
		left := ps.mMax
		s.Title = fmt.Sprintf("Gain %d more months of %s experience (%d in total)", left, s.Code, ps.need)
		if ps.idx < 0 {
			s.Title = fmt.Sprintf("Gain %d more months of work experience in any area (%d in total)", left, ps.need)
		}
		zero := 0.0
		s.MonthsMin, s.MonthsMax, s.CostMin, s.CostMax = &left, &left, &zero, &zero
		return s
	}
	if ps.mKnown || ps.mMin > 0 {
		lo := ps.mMin
		s.MonthsMin = &lo
	}
	if ps.mKnown {
		hi := ps.mMax
		s.MonthsMax = &hi
	}
	if ps.cKnown || ps.cMin > 0 {
		lo := ps.cMin
		s.CostMin = &lo
	}
	if ps.cKnown {
		hi := ps.cMax
		s.CostMax = &hi
	}
	switch {
	case !months.Known():
		s.Notes = append(s.Notes, "duration unknown: not in our sources")
	case months.Confidence == Estimate:
		s.Notes = append(s.Notes, "duration is an estimate: "+months.Note)
	case months.Confidence == Secondary:
		s.Notes = append(s.Notes, "duration from secondary sources (uncertain)")
	}
	if ps.finish {
		s.Notes = append(s.Notes, "you have started this; time left is at most the whole program")
	}
	if !cost.Known() {
		s.Notes = append(s.Notes, "cost unknown: not in our sources")
	}
	return s
}

func (e *engine) codes(m uint64) []string {
	out := []string{}
	for i := range e.cat.Credentials {
		if m&bit(i) != 0 {
			out = append(out, e.cat.Credentials[i].Code)
		}
	}
	slices.Sort(out)
	return out
}

func (e *engine) roleCodes(m uint64) []string {
	var out []string
	for i := range e.cat.Roles {
		if m&bit(i) != 0 {
			out = append(out, e.cat.Roles[i].Code)
		}
	}
	slices.Sort(out)
	return out
}

func (e *engine) roleTitles(m uint64) []string {
	var out []string
	for i := range e.cat.Roles {
		if m&bit(i) != 0 {
			out = append(out, e.cat.Roles[i].Title)
		}
	}
	return out
}

func bits(m uint64) int { return mathbits.OnesCount64(m) }

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
