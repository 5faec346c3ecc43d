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
	Kind  string `json:"kind"` // credential, education, training, experience or renewal
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
	Demand string `json:"demand,omitempty"`
	// Alternatives are credentials open to the seeker on the same terms as
	// this one (other AAPC exams, say), folded into this step.
	Alternatives []string `json:"alternatives,omitempty"`
	// Cautions are what a counselor would say before the seeker acts:
	// "eligible to sit, but the issuer recommends ... first".
	Cautions []string `json:"cautions,omitempty"`
	// Recurrence is set on recurring steps (code-set updates, privacy and
	// security awareness): when they come round again.
	Recurrence *StepRecurrence `json:"recurrence,omitempty"`
	Notes      []string        `json:"notes,omitempty"`
	// Score orders steps within their group (renewal actions first,
	// recurring reminders last); see docs/pathways.md for the rules that
	// can override it.
	Score float64 `json:"score"`
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
	ranked   []ranked // next steps as ordered, with what ordering used (for tests)
}

func (e *engine) eligibleMask(p *profile) uint64 {
	var m uint64
	for i, n := range e.cat.c.elig {
		// A credential superseded by one held (RHIT for an RHIA) is never
		// a step, whatever else it would need.
		if n != nil && !p.holds(i) && p.current()&e.cat.c.supersededBy[i] == 0 && eval(n, p, false) {
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
			if cv := e.caveats(i, true); len(cv) > 0 {
				if p.Caveats == nil {
					p.Caveats = map[string][]string{}
				}
				p.Caveats[code] = cv
			}
		case e.prof.current()&cat.c.supersededBy[i] != 0:
			p.Blocked[code] = []string{"not needed: you hold " + joinAnd(e.codes(e.prof.current()&cat.c.supersededBy[i])) + ", which replaces it"}
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
	p.Recertification = e.recertification()
	p.NextSteps = e.nextSteps(p.Recertification)
	p.Apprentice = e.apprenticeStatuses()
	return p
}

// caveats qualify an eligibility the seeker has now; withRec includes the
// issuer's recommended preparation when unmet (a next step shows that as a
// caution instead).
func (e *engine) caveats(i int, withRec bool) []string {
	cr := &e.cat.Credentials[i]
	var out []string
	if cr.Eligibility.Confidence == Secondary {
		out = append(out, fmt.Sprintf("%s eligibility rules come from secondary sources only; confirm with %s", cr.Code, cr.Issuer))
	}
	if n := e.cat.c.elig[i]; n != nil && !eval(n, e.prof, true) {
		out = append(out, "eligible only through a route known from secondary sources"+uncertainNote(n, e.prof))
	}
	if rec := e.cat.c.rec[i]; withRec && rec != nil && !eval(rec, e.prof, false) {
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

// Scoring weights. A step's benefit adds what it opens and the market's
// interest in it; its score subtracts its time and money from that. Scores
// order steps within a tier, subject to two rules that weights cannot
// break (see order): unknown time or cost never beats a known one that
// brings as much, and a credential whose recommended preparation is unmet
// ranks below the steps that meet it.
const (
	weightCredential   = 10.0  // earning a credential at all
	weightUnlock       = 6.0   // per credential made reachable: the right to sit, not yet the credential
	weightRole         = 6.0   // per role whose requirements are completed
	weightTarget       = 30.0  // the target itself
	weightOnPlan       = 20.0  // a step of the target plan
	weightRecommended  = 4.0   // meets recommended preparation
	weightApprentice   = 8.0   // shortens an apprenticeship
	weightRaise        = 3.0   // raises the seeker's education level
	weightKeepCurrent  = 9.0   // continuing education a held credential renews with
	weightOwnDegree    = 4.0   // eligible through the seeker's own degree: what it prepared them for
	perMonth           = 0.3   // per month of duration (worst case)
	unknownMonthsCost  = 8.0   // duration not in our sources
	perUSD             = 0.004 // per dollar (worst case)
	unknownUSDCost     = 2.0   // cost not in our sources
	demandPostings     = 3.0   // × log2(1 + postings)
	demandUplift       = 40.0  // × relative pay uplift, clamped
	demandIndirectRate = 0.5   // demand of what a step unlocks counts half
)

// Tiers come before scores: renewal actions first, reminders last.
const (
	tierUrgent   = 0 // log CEUs before grace ends, reinstate a lapsed credential
	tierStep     = 1
	tierReminder = 2 // recurring training that is not a credential step
)

// candidate is a next step before ranking.
type candidate struct {
	s        pstep
	unlocks  uint64
	opens    uint64
	meetsRec uint64 // credentials whose recommended preparation the step completes
	why      []string
	notes    []string
	cautions []string
	bonus    float64
	tier     int
	recur    *StepRecurrence
	// cautioned: a credential step whose issuer-recommended preparation
	// the seeker has not met.
	cautioned  bool
	apprentice bool // shortens an apprenticeship
}

// ranked is a scored step with what ordering needs to know.
type ranked struct {
	Step
	tier      int
	benefit   float64
	unknowns  int // unknown duration and unknown cost, each counted once
	cautioned bool
	cred      int    // credential index of a credential step, else -1
	meetsRec  uint64 // see candidate
}

// nextSteps ranks what the seeker can do next: sit for a credential they
// are eligible for, study, train, gain experience, or renew.
func (e *engine) nextSteps(recerts []Recert) []Step {
	var cands []candidate
	cands = append(cands, e.credentialCandidates()...)
	cands = append(cands, e.programCandidates()...)
	cands = append(cands, e.trainingCandidates()...)
	cands = append(cands, e.experienceCandidates()...)

	rs := e.renewalSteps(recerts)
	for i := range cands {
		rs = append(rs, e.rank(&cands[i]))
	}
	e.ranked = order(e.fold(rs))
	steps := make([]Step, len(e.ranked))
	for i := range e.ranked {
		steps[i] = e.ranked[i].Step
	}
	return steps
}

// credentialCandidates are the credentials the seeker may sit for now
// (not those below a rung they passed, unless it is the target).
func (e *engine) credentialCandidates() []candidate {
	cat := e.cat
	var cands []candidate
	for i := range cat.Credentials {
		if e.eligible&bit(i) == 0 || e.ck.target != i && e.pastRung(i) {
			continue
		}
		q := *e.prof
		q.held |= bit(i)
		c := candidate{s: credentialStep(cat, i, "", ""), tier: tierStep}
		e.outcome(&c, &q)
		e.preparation(&c, &q)
		c.bonus += weightCredential
		c.why = append([]string{fmt.Sprintf("You can sit for %s now (%s)", cat.Credentials[i].Code, e.metRoute(i))}, c.why...)
		if degreeRoute(cat.c.elig[i], e.prof) {
			c.bonus += weightOwnDegree
			c.why = append(c.why, "it is what your degree prepares you for")
		}
		if rec := cat.c.rec[i]; rec != nil {
			if eval(rec, e.prof, false) {
				c.bonus += weightRecommended
				c.why = append(c.why, "you have the preparation "+cat.Credentials[i].Issuer+" recommends")
			} else {
				c.cautioned = true
				c.cautions = append(c.cautions, e.recommendCaution(i))
			}
		}
		c.notes = append(c.notes, e.caveats(i, false)...)
		cands = append(cands, c)
	}
	return cands
}

// programCandidates are the education programs that would add something
// the seeker does not have, without those another program dominates.
func (e *engine) programCandidates() []candidate {
	cat := e.cat
	// The education a seeker has or is about to have (final term).
	highest := -1
	for _, ed := range e.prof.edu {
		if ed.status&(statusBit(StatusCompleted)|statusBit(StatusFinalTerm)) != 0 {
			highest = max(highest, ed.level)
		}
	}
	var programs []candidate
	for pi := range cat.Education {
		pr := &cat.Education[pi]
		lvl := levelRank(pr.Level)
		done := eduEntry{level: lvl, field: pr.Field, cahiim: pr.CAHIIM, status: statusBit(StatusCompleted)}
		if e.hasEdu(done) || e.outgrown(pr) || !e.prereqsMet(cat.c.progPre[pi]) {
			continue
		}
		q := e.prof.withEdu(done)
		c := candidate{s: programStep(cat, e.prof, pi, "", ""), tier: tierStep}
		e.outcome(&c, &q)
		e.preparation(&c, &q)
		if c.unlocks == 0 && c.opens == 0 && c.meetsRec == 0 && !c.apprentice && !e.inPlan[c.s.key()] && lvl <= highest {
			continue // adds nothing the seeker does not have
		}
		if lvl > highest || c.s.finish != 0 && lvl == highest {
			c.why = append(c.why, "raises your education to "+withArticle(levelName(lvl)))
			c.bonus += weightRaise
		}
		if pr.Note != "" && lvl > highest {
			c.notes = append(c.notes, pr.Note)
		}
		programs = append(programs, c)
	}
	return dropDominated(programs, e.inPlan)
}

// trainingCandidates are the trainings that would unlock, open or prepare
// for something (or are on the target plan), and reminders of trainings
// that must be repeated.
func (e *engine) trainingCandidates() []candidate {
	cat := e.cat
	var cands []candidate
	for ti := range cat.Trainings {
		t := &cat.Trainings[ti]
		if t.Reminder != nil {
			if c, ok := e.reminderCandidate(ti); ok {
				cands = append(cands, c)
			}
			continue
		}
		if e.prof.trainedIn(ti) || !e.prereqsMet(cat.c.trainPre[ti]) {
			continue
		}
		q := *e.prof
		q.trained |= bit(ti)
		c := candidate{s: trainingStep(cat, ti, "", ""), tier: tierStep}
		e.outcome(&c, &q)
		e.preparation(&c, &q)
		if c.unlocks != 0 || c.opens != 0 || c.meetsRec != 0 || c.apprentice || e.inPlan[c.s.key()] {
			cands = append(cands, c)
		}
	}
	return cands
}

// fold merges credential steps of one issuer that are alike in everything
// a plan weighs (nothing unlocked or opened, no market signal, not on the
// target plan, the same caution and score) into the first in catalog order,
// listing the others as alternatives: five AAPC exams open on the same
// terms are one choice, not five steps.
func (e *engine) fold(rs []ranked) []ranked {
	alike := func(a, b *ranked) bool {
		return a.cred >= 0 && b.cred >= 0 && a.tier == b.tier && a.cautioned == b.cautioned && a.Score == b.Score &&
			e.cat.Credentials[a.cred].Issuer == e.cat.Credentials[b.cred].Issuer &&
			len(a.Unlocks) == 0 && len(b.Unlocks) == 0 && len(a.OpensRoles) == 0 && len(b.OpensRoles) == 0 &&
			a.Demand == "" && b.Demand == "" && !e.onPlan(a.cred) && !e.onPlan(b.cred)
	}
	// Visit in catalog order (credentials by index, then the rest) so the
	// first credential of a kind keeps the step.
	byCred := make([]int, len(rs))
	for i := range byCred {
		byCred[i] = i
	}
	slices.SortStableFunc(byCred, func(a, b int) int { return cmp.Compare(rs[a].cred, rs[b].cred) })
	out := make([]ranked, 0, len(rs))
	for _, i := range byCred {
		j := slices.IndexFunc(out, func(o ranked) bool { return alike(&o, &rs[i]) })
		if j < 0 {
			out = append(out, rs[i])
			continue
		}
		out[j].Alternatives = append(out[j].Alternatives, rs[i].Code)
	}
	for i := range out {
		if alt := out[i].Alternatives; len(alt) > 0 {
			out[i].Title += " (or " + joinOr(alt) + ")"
			out[i].Notes = append(out[i].Notes, fmt.Sprintf("%s and %s are open to you on the same terms here: choose by the work you want to do",
				out[i].Code, joinAnd(alt)))
		}
	}
	return out
}

func (e *engine) onPlan(ci int) bool {
	return e.ck.target == ci || e.inPlan[stepKey{KindCredential, ci}]
}

// pastRung reports whether credential i is a rung the seeker is past or
// can step over: a stepping stone (see steppingStone) in the issuer's own
// recommended preparation for a credential of the same issuer that the
// seeker holds, or may sit for now with that preparation met (CCA, for an
// RHIT who can go straight to CCS). Only the same issuer's ladder counts:
// another body's credential (CPC for a CCS) has worth of its own.
func (e *engine) pastRung(i int) bool {
	cat := e.cat
	for b := range cat.Credentials {
		if b == i || cat.Credentials[b].Issuer != cat.Credentials[i].Issuer {
			continue
		}
		rec := cat.c.rec[b]
		if rec == nil || !steppingStone(rec, i) {
			continue
		}
		if e.prof.current()&bit(b) != 0 || e.eligible&bit(b) != 0 && eval(rec, e.prof, false) {
			return true
		}
	}
	return false
}

// degreeRoute reports whether rule n is met through a degree or
// certificate in a named field (not just a diploma): the credential the
// seeker's program leads to.
func degreeRoute(n *node, p *profile) bool {
	if n == nil || !eval(n, p, false) {
		return false
	}
	if n.kind == nodeEdu {
		return n.field != ""
	}
	return slices.ContainsFunc(n.kids, func(k *node) bool { return degreeRoute(k, p) })
}

// steppingStone reports whether rule n asks for credential i together with
// something else (inside an all_of, alone or among alternatives).
func steppingStone(n *node, i int) bool {
	if n.kind == nodeAll {
		for _, k := range n.kids {
			if k.kind == nodeCred && k.idx == i {
				return true
			}
			if k.kind == nodeAny && slices.ContainsFunc(k.kids, func(x *node) bool { return x.kind == nodeCred && x.idx == i }) {
				return true
			}
		}
	}
	return slices.ContainsFunc(n.kids, func(k *node) bool { return steppingStone(k, i) })
}

// recommendCaution words an eligibility whose recommended preparation is
// unmet: the seeker may sit, but the issuer advises preparing first.
func (e *engine) recommendCaution(i int) string {
	cr := &e.cat.Credentials[i]
	s := fmt.Sprintf("Eligible to sit, but %s recommends (does not require) %s first", cr.Issuer, e.cat.describe(e.cat.c.rec[i]))
	if n := cr.Recommended.Note; n != "" {
		s += " (" + n + ")"
	}
	return s
}

// outgrown reports whether a program is below what the seeker has: a lower
// degree than one completed (or in its final term) in the same field, or an
// unaccredited program beside an accredited one of the same level the
// seeker has started or finished. Such a program is never a step, whatever
// it would unlock.
func (e *engine) outgrown(pr *Program) bool {
	if pr.Field == "" {
		return false
	}
	lvl := levelRank(pr.Level)
	for _, ed := range e.prof.edu {
		if ed.field != pr.Field {
			continue
		}
		if ed.level > lvl && ed.status&(statusBit(StatusCompleted)|statusBit(StatusFinalTerm)) != 0 ||
			ed.level == lvl && ed.cahiim && !pr.CAHIIM {
			return true
		}
	}
	return false
}

// preparation adds what a step q would complete beyond eligibility: the
// recommended preparation of credentials the seeker can sit for (or
// targets), and months credited toward removing an apprentice suffix.
func (e *engine) preparation(c *candidate, q *profile) {
	cat := e.cat
	var future []string // credentials a new holder of which would be credited
	futureMonths, futureOf := 0, 0
	defer func() {
		if len(future) > 0 {
			c.why = append(c.why, fmt.Sprintf("%s credits it as %d of the %d months that keep a new holder of %s from being an apprentice",
				cat.Credentials[futureOf].Issuer, futureMonths, cat.c.appr[futureOf].months, joinOr(future)))
			c.bonus += weightApprentice / 2
			c.apprentice = true
		}
	}()
	for ci := range cat.Credentials {
		if rec := cat.c.rec[ci]; rec != nil && (e.eligible&bit(ci) != 0 || e.ck.target == ci) &&
			!eval(rec, e.prof, false) && eval(rec, q, false) {
			c.meetsRec |= bit(ci)
			c.why = append(c.why, fmt.Sprintf("meets the preparation %s recommends for %s", cat.Credentials[ci].Issuer, cat.Credentials[ci].Code))
			c.bonus += weightRecommended
		}
		a := cat.c.appr[ci]
		if a == nil || e.apprenticeCredit(a) >= a.months {
			continue
		}
		for _, cr := range a.credits {
			if cr.rule == nil || eval(cr.rule, e.prof, false) || !eval(cr.rule, q, false) {
				continue
			}
			switch {
			case e.prof.apprentice&bit(ci) != 0:
				c.why = append(c.why, fmt.Sprintf("%s credits it as %d months toward removing %s from %s%s",
					cat.Credentials[ci].Issuer, cr.months, a.suffix, cat.Credentials[ci].Code, a.suffix))
				c.bonus += weightApprentice
				c.apprentice = true
			case e.eligible&bit(ci) != 0 && !e.prof.holds(ci):
				if len(future) == 0 {
					futureMonths, futureOf = cr.months, ci
				}
				if !slices.Contains(future, cat.Credentials[ci].Code) {
					future = append(future, cat.Credentials[ci].Code)
				}
			}
		}
	}
}

// reminderCandidate proposes a recurring training to those it concerns.
func (e *engine) reminderCandidate(ti int) (candidate, bool) {
	t := &e.cat.Trainings[ti]
	why, ok := e.reminderFor(t.Reminder)
	if !ok {
		return candidate{}, false
	}
	c := candidate{s: trainingStep(e.cat, ti, "", ""), tier: tierReminder, recur: e.recurrence(&t.Reminder.Recurrence)}
	c.why = append(c.why, why)
	if t.Reminder.For == ForHolders {
		// Keeping a held credential is worth more than a generic reminder:
		// it competes with the other steps.
		c.tier = tierStep
		c.bonus += weightKeepCurrent
	}
	if t.Note != "" {
		c.notes = append(c.notes, t.Note)
	}
	return c, true
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

// dropDominated removes a step when another of the list reaches everything
// it reaches (credentials, roles, recommended preparation, apprenticeship
// credit) in no more months, both known: an unaccredited associate degree
// beside the CAHIIM-accredited one, say. Steps on the target route stay.
func dropDominated(cs []candidate, inPlan map[stepKey]bool) []candidate {
	covers := func(o, c *candidate) bool {
		return o.unlocks&c.unlocks == c.unlocks && o.opens&c.opens == c.opens && o.meetsRec&c.meetsRec == c.meetsRec &&
			(o.apprentice || !c.apprentice) && o.s.mKnown && c.s.mKnown && o.s.mMax <= c.s.mMax
	}
	out := make([]candidate, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		dominated := false
		for j := range cs {
			o := &cs[j]
			if i == j || inPlan[c.s.key()] || !covers(o, c) {
				continue
			}
			// Of two that cover each other, the one with more keeps, then the first.
			if !covers(c, o) || bits(o.unlocks)+bits(o.opens) > bits(c.unlocks)+bits(c.opens) || j < i {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, *c)
		}
	}
	return out
}

// experienceCandidates proposes one experience step per distinct goal, in
// the areas the seeker works in or toward (see goalAreas): a step is
// dropped when another one reaches every goal it reaches in no more months.
func (e *engine) experienceCandidates() []candidate {
	areas := e.goalAreas()
	var cands []candidate
	for a := 0; a < numAreas; a++ {
		if areas&(1<<a) == 0 {
			continue
		}
		cands = append(cands, e.experienceCandidate(a)...)
	}
	return slices.DeleteFunc(cands, func(c candidate) bool {
		for _, o := range cands {
			if o.s.idx != c.s.idx && o.unlocks&c.unlocks == c.unlocks && o.opens&c.opens == c.opens &&
				o.meetsRec&c.meetsRec == c.meetsRec && (o.apprentice || !c.apprentice) && !e.inPlan[c.s.key()] &&
				(o.s.mMax < c.s.mMax || o.s.mMax == c.s.mMax && o.s.idx < c.s.idx) {
				return true
			}
		}
		return false
	})
}

// goalAreas are the experience areas a seeker works in or toward: areas
// they have months in; the area of their field of study (coding for a
// coding certificate, records for HIM); areas named by the rules of
// credentials they hold or target, or by their target plan. A seeker with
// none of these is starting out: the areas entry-level catalog roles ask for.
func (e *engine) goalAreas() uint8 {
	cat := e.cat
	var m uint8
	for a := 0; a < numAreas; a++ {
		if e.prof.exp[a] > 0 {
			m |= 1 << a
		}
	}
	for _, ed := range e.prof.edu {
		switch ed.field {
		case FieldCoding:
			m |= 1 << areaIndex(AreaCoding)
		case FieldHIM:
			m |= 1 << areaIndex(AreaRecords)
		}
	}
	for ci := range cat.Credentials {
		if e.prof.held&bit(ci) != 0 || e.ck.target == ci {
			m |= ruleAreas(cat.c.elig[ci]) | ruleAreas(cat.c.rec[ci])
			if a := cat.c.appr[ci]; a != nil {
				m |= 1 << a.area
			}
		}
	}
	for k := range e.inPlan {
		if k.kind == KindExperience && k.idx >= 0 {
			m |= 1 << k.idx
		}
	}
	if m == 0 {
		for _, n := range cat.c.roleReq {
			m |= ruleAreas(n)
		}
	}
	return m
}

// ruleAreas is the set of experience areas a rule names ("any" names none).
func ruleAreas(n *node) uint8 {
	if n == nil {
		return 0
	}
	var m uint8
	if n.kind == nodeExp && n.area >= 0 {
		m |= 1 << n.area
	}
	for _, k := range n.kids {
		m |= ruleAreas(k)
	}
	return m
}

// experienceCandidates for area a: one step for each threshold that
// reaches a goal the shorter ones do not (a credential to sit, a role, an
// issuer's recommended preparation, the end of an apprenticeship).
func (e *engine) experienceCandidate(a int) []candidate {
	cat := e.cat
	have := e.prof.exp[a]
	ts := slices.Concat(cat.c.thresholds[a], cat.c.thresholds[numAreas])
	for ci, rec := range cat.c.rec {
		if rec != nil && (e.eligible&bit(ci) != 0 || e.ck.target == ci) {
			ts = appendThresholds(ts, rec, a)
		}
	}
	removes := map[int]string{} // total months -> what it removes
	for ci, ar := range cat.c.appr {
		if ar == nil || ar.area != a || e.prof.apprentice&bit(ci) == 0 {
			continue
		}
		if left := ar.months - e.apprenticeCredit(ar); left > 0 {
			ts = append(ts, have+left)
			removes[have+left] = fmt.Sprintf("removes %s from %s%s", ar.suffix, cat.Credentials[ci].Code, ar.suffix)
		}
	}
	slices.Sort(ts)
	ts = slices.Compact(ts)

	var out []candidate
	var prev candidate
	for _, t := range ts {
		if t <= have {
			continue
		}
		c := candidate{s: experienceStep(e.prof, a, t, "", ""), tier: tierStep}
		q := *e.prof
		q.exp[a] = t
		e.outcome(&c, &q)
		e.preparation(&c, &q)
		apprentice := ""
		for m, txt := range removes {
			if m <= t {
				apprentice = txt
			}
		}
		c.apprentice = apprentice != ""
		if c.unlocks&^prev.unlocks == 0 && c.opens&^prev.opens == 0 && c.meetsRec&^prev.meetsRec == 0 &&
			(!c.apprentice || prev.apprentice) && !e.inPlan[c.s.key()] {
			continue // nothing the previous step does not reach
		}
		c.why = append([]string{fmt.Sprintf("reaching %d months of %s experience (%d more)", t, areaName(a), t-have)}, c.why...)
		if apprentice != "" {
			c.why = append(c.why, apprentice)
			c.bonus += weightApprentice
		}
		out = append(out, c)
		prev = c
		if len(out) == maxExperienceStepsPerArea {
			break
		}
	}
	return out
}

// maxExperienceStepsPerArea keeps experience from crowding the list.
const maxExperienceStepsPerArea = 2

// appendThresholds adds the months rule n asks for in area a.
func appendThresholds(ts []int, n *node, a int) []int {
	if n.kind == nodeExp && n.area == a && !slices.Contains(ts, n.months) {
		ts = append(ts, n.months)
	}
	for _, k := range n.kids {
		ts = appendThresholds(ts, k, a)
	}
	return ts
}

// order sorts ranked steps: by tier, then by score, then applies two rules
// as constraints. A step must rank below another of its tier when
//   - it is a credential whose recommended preparation the seeker has not
//     met and the other has no such caution and is a credential step, a
//     step that completes the preparation, or a step that brings as much;
//     or
//   - it has more unknowns (duration, cost) and the other, with the same
//     caution, brings at least as much (benefit before time and cost).
//
// Both relations only point from cautioned to uncautioned or from more
// unknowns to fewer, so they have no cycle; the best-scored step whose
// betters are all placed goes next.
func order(rs []ranked) []ranked {
	idx := make([]int, len(rs)) // sorting indices: a ranked step is large
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		a, b := &rs[x], &rs[y]
		return cmp.Or(cmp.Compare(a.tier, b.tier), cmp.Compare(b.Score, a.Score),
			strings.Compare(a.Code, b.Code), strings.Compare(a.Kind, b.Kind))
	})
	out := make([]ranked, 0, len(rs))
	placed := make([]bool, len(rs))
	for len(out) < len(rs) {
		pick := -1
		for _, i := range idx {
			if placed[i] {
				continue
			}
			free := true
			for _, j := range idx {
				if !placed[j] && j != i && mustBelow(&rs[i], &rs[j]) {
					free = false
					break
				}
			}
			if free {
				pick = i
				break
			}
		}
		if pick < 0 { // unreachable: the relation has no cycle
			pick = slices.Index(placed, false)
		}
		placed[pick] = true
		out = append(out, rs[pick])
	}
	return out
}

func mustBelow(x, y *ranked) bool {
	if x.tier != y.tier {
		return false
	}
	if x.cautioned != y.cautioned {
		return x.cautioned && (y.cred >= 0 || y.meetsRec&bit(x.cred) != 0 || y.benefit >= x.benefit)
	}
	return x.unknowns > y.unknowns && y.benefit >= x.benefit
}

// metRoute words the route by which the seeker is eligible for credential
// i: only the alternatives they meet, not the whole rule.
func (e *engine) metRoute(i int) string {
	n := e.cat.c.elig[i]
	if n.kind == nodeOpen {
		return "no prior education or experience required"
	}
	return "through " + e.metText(n)
}

// metText describes the part of a satisfied rule that the seeker meets.
func (e *engine) metText(n *node) string {
	switch n.kind {
	case nodeAny:
		for _, k := range n.kids {
			if eval(k, e.prof, false) {
				return e.metText(k)
			}
		}
	case nodeAll:
		parts := make([]string, len(n.kids))
		for i, k := range n.kids {
			parts[i] = e.metText(k)
		}
		return strings.Join(parts, " and ")
	}
	return e.cat.describe(n)
}

// rank turns a candidate into a scored step.
func (e *engine) rank(c *candidate) ranked {
	s := e.publicStep(&c.s)
	s.Unlocks = e.codes(c.unlocks)
	s.OpensRoles = e.roleCodes(c.opens)
	s.Notes = append(s.Notes, c.notes...)
	s.Cautions = c.cautions
	s.Recurrence = c.recur

	benefit := c.bonus + weightUnlock*float64(bits(c.unlocks)) + weightRole*float64(bits(c.opens))
	if e.ck.target >= 0 {
		if c.s.kind == KindCredential && c.s.idx == e.ck.target {
			benefit += weightTarget
		} else if e.inPlan[c.s.key()] {
			benefit += weightOnPlan
		}
	}

	// Market demand: direct for a credential, half-weight through what a
	// step unlocks (the best of them).
	if c.s.kind == KindCredential {
		if d, txt, ok := e.demandFor(e.cat.Credentials[c.s.idx].Code); ok {
			benefit += d
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
			benefit += demandIndirectRate * best
			s.Demand = "unlocks " + strings.Join(texts, "; and ")
		}
	}

	score, unknowns := benefit, 0
	switch {
	case c.recur != nil:
		// A recurring step has no end to plan for: its time and cost are
		// not weighed.
	case c.s.kind != KindCredential:
		if c.s.mKnown {
			score -= perMonth * float64(c.s.mMax)
		} else {
			score -= unknownMonthsCost
			unknowns++
		}
		fallthrough
	default:
		if c.s.cKnown {
			score -= perUSD * c.s.cMax
		} else {
			score -= unknownUSDCost
			unknowns++
		}
	}

	why := c.why
	if c.s.why != "" {
		why = append([]string{c.s.why}, why...)
	}
	s.Why = capitalize(strings.Join(why, "; "))
	s.Score = math.Round(score*100) / 100
	r := ranked{Step: s, tier: c.tier, benefit: benefit, unknowns: unknowns, cautioned: c.cautioned, cred: -1, meetsRec: c.meetsRec}
	if c.s.kind == KindCredential {
		r.cred = c.s.idx
	}
	return r
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
		return credentialExamStep(s, &cat.Credentials[ps.idx])
	case KindEducation:
		pr := &cat.Education[ps.idx]
		s.Code, s.Title, months, cost = pr.Code, pr.Title, pr.Months, pr.CostUSD
		if ps.finish != 0 {
			s.Title = "Finish your " + pr.Title
		}
	case KindTraining:
		t := &cat.Trainings[ps.idx]
		s.Code, s.Title, months, cost = t.Code, t.Title, t.Months, t.CostUSD
	case KindExperience:
		return experienceGainStep(s, ps)
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
	recurring := ps.kind == KindTraining && cat.Trainings[ps.idx].Reminder != nil
	switch {
	case recurring:
		// Time and cost of a recurring step are per occurrence: the
		// recurrence says what is known.
	case ps.finish == statusBit(StatusFinalTerm):
		s.Notes = append(s.Notes, fmt.Sprintf("you are in your final term: time left is an estimate of %d-%d months (one semester, at the 4-6 calendar months per semester our program lengths assume)", termMonthsMin, termMonthsMax))
	case ps.finish == statusBit(StatusInProgress):
		note := "time left unknown: it depends on how far along you are"
		if months.Known() && months.Max != nil {
			note += fmt.Sprintf("; at most the whole program (%s months, %s)", strings.TrimSuffix(fmt.Sprintf("%.0f", *months.Max), ".0"), months.Confidence)
		}
		s.Notes = append(s.Notes, note)
	case !months.Known():
		if months.Note != "" {
			s.Notes = append(s.Notes, "duration unknown: "+months.Note)
		} else {
			s.Notes = append(s.Notes, "duration unknown: not in our sources")
		}
	case months.Confidence == Estimate:
		s.Notes = append(s.Notes, "duration is an estimate: "+months.Note)
	case months.Confidence == Secondary:
		s.Notes = append(s.Notes, "duration from secondary sources (uncertain)")
	}
	if !cost.Known() && !recurring {
		s.Notes = append(s.Notes, "cost unknown: not in our sources")
	}
	return s
}

// credentialExamStep fills s, a credential step, with the exam and its fees.
func credentialExamStep(s Step, cr *Credential) Step {
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
}

// experienceGainStep fills s, an experience step, with the months still to
// gain (at no cost).
func experienceGainStep(s Step, ps *pstep) Step {
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
