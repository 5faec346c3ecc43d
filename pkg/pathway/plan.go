package pathway

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// The target planner turns a credential's eligibility rule into routes: sets
// of steps (education, training, experience, other credentials) that would
// satisfy it, then picks the best route by time or by cost.
//
// Each rule node expands to a short list of options: all_of multiplies its
// children's options (merging shared steps, so a prerequisite needed twice
// is taken once), any_of concatenates them. Lists are pruned to the best few
// at every node, dropping routes that another route's steps already cover.
// That is a heuristic bound on the search; with this catalog's handful of
// alternatives per rule it never cuts the best route. Limits (max months,
// max cost) prune on lower bounds, which only grow as steps are added, so no
// route that fits is lost to them.

const keepOptions = 8

// pstep is a step inside the planner.
type pstep struct {
	kind      string
	idx       int   // program, training or credential index; area for experience (-1: any)
	need      int   // experience: total months the rule asks for
	finish    uint8 // education already started: its status bit (final term or in progress), else 0
	why       string
	neededFor string

	mMin, mMax int  // duration in months; mMax valid when mKnown
	mKnown     bool // for credential steps: true with 0/0, since exam study time is not modelled
	cMin, cMax float64
	cKnown     bool
}

type stepKey struct {
	kind string
	idx  int
}

func (s *pstep) key() stepKey { return stepKey{s.kind, s.idx} }

type option struct {
	steps     []pstep
	uncertain int      // routes taken that rest on secondary-source rules
	caveats   []string // their notes
	sum       summary  // set by prune
}

type summary struct {
	uncertain  int
	mMin, mMax int
	mUnknown   int
	cMin, cMax float64
	cUnknown   int
	steps      int
}

func summarize(o *option) summary {
	s := summary{uncertain: o.uncertain, steps: len(o.steps)}
	for i := range o.steps {
		st := &o.steps[i]
		s.mMin += st.mMin
		if st.mKnown {
			s.mMax += st.mMax
		} else {
			s.mUnknown++
		}
		s.cMin += st.cMin
		if st.cKnown {
			s.cMax += st.cMax
		} else {
			s.cUnknown++
		}
	}
	return s
}

type planner struct {
	cat       *Catalog
	prof      *profile
	optimize  string
	maxMonths int     // 0: no limit
	maxCost   float64 // 0: no limit
	visiting  uint64  // credentials being expanded, a guard against loops
}

// compare orders options best first. Routes resting on fewer uncertain
// rules come first, then fewer unknown durations (or costs), then the
// worst-case total, then the best case; remaining ties fall to step codes so
// the answer is deterministic.
func (pl *planner) compare(a, b *option) int {
	sa, sb := &a.sum, &b.sum
	var c int
	if pl.optimize == OptimizeCost {
		c = cmp.Or(
			cmp.Compare(sa.uncertain, sb.uncertain),
			cmp.Compare(sa.cUnknown, sb.cUnknown),
			cmp.Compare(sa.cMax, sb.cMax),
			cmp.Compare(sa.cMin, sb.cMin),
			cmp.Compare(sa.mUnknown, sb.mUnknown),
			cmp.Compare(sa.mMax, sb.mMax),
			cmp.Compare(sa.mMin, sb.mMin),
		)
	} else {
		c = cmp.Or(
			cmp.Compare(sa.uncertain, sb.uncertain),
			cmp.Compare(sa.mUnknown, sb.mUnknown),
			cmp.Compare(sa.mMax, sb.mMax),
			cmp.Compare(sa.mMin, sb.mMin),
			cmp.Compare(sa.cUnknown, sb.cUnknown),
			cmp.Compare(sa.cMax, sb.cMax),
			cmp.Compare(sa.cMin, sb.cMin),
		)
	}
	if c != 0 {
		return c
	}
	if c = cmp.Compare(sa.steps, sb.steps); c != 0 {
		return c
	}
	for i := range a.steps {
		ka, kb := a.steps[i].key(), b.steps[i].key()
		if c = cmp.Or(strings.Compare(ka.kind, kb.kind), cmp.Compare(ka.idx, kb.idx)); c != 0 {
			return c
		}
	}
	return 0
}

func (pl *planner) fits(o *option) bool {
	s := &o.sum
	if pl.maxMonths > 0 && s.mMin > pl.maxMonths {
		return false
	}
	if pl.maxCost > 0 && s.cMin > pl.maxCost {
		return false
	}
	return true
}

// subsumes reports whether route a asks for nothing that b does not: every
// step of a is in b (an experience step for no more months) and a rests on
// no more uncertain rules. Then b is never better, only longer.
func subsumes(a, b *option) bool {
	if a.uncertain > b.uncertain {
		return false
	}
	for i := range a.steps {
		s := &a.steps[i]
		j := slices.IndexFunc(b.steps, func(t pstep) bool { return t.key() == s.key() })
		if j < 0 || b.steps[j].need < s.need {
			return false
		}
	}
	return true
}

func (pl *planner) prune(opts []option) []option {
	for i := range opts {
		opts[i].sum = summarize(&opts[i])
	}
	opts = slices.DeleteFunc(opts, func(o option) bool { return !pl.fits(&o) })
	slices.SortStableFunc(opts, func(a, b option) int { return pl.compare(&a, &b) })
	out := opts[:0]
	for i := range opts {
		dominated := false
		for j := range out {
			if subsumes(&out[j], &opts[i]) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, opts[i])
		}
		if len(out) == keepOptions {
			break
		}
	}
	return out
}

// merge unions two routes; a shared step is taken once, and of two
// experience steps in one area the longer wins.
func merge(a, b *option) option {
	steps := make([]pstep, len(a.steps), len(a.steps)+len(b.steps))
	copy(steps, a.steps)
	for _, s := range b.steps {
		j := slices.IndexFunc(steps, func(t pstep) bool { return t.key() == s.key() })
		switch {
		case j < 0:
			steps = append(steps, s)
		case s.kind == KindExperience && s.need > steps[j].need:
			steps[j] = s
		}
	}
	caveats := a.caveats
	for _, c := range b.caveats {
		if !slices.Contains(caveats, c) {
			caveats = append(slices.Clip(caveats), c)
		}
	}
	return option{steps: steps, uncertain: a.uncertain + b.uncertain, caveats: caveats}
}

func (pl *planner) product(as, bs []option) []option {
	out := make([]option, 0, len(as)*len(bs))
	for i := range as {
		for j := range bs {
			out = append(out, merge(&as[i], &bs[j]))
		}
	}
	return pl.prune(out)
}

func appendStep(opts []option, s pstep) []option {
	for i := range opts {
		steps := make([]pstep, len(opts[i].steps), len(opts[i].steps)+1)
		copy(steps, opts[i].steps)
		opts[i].steps = append(steps, s)
	}
	return opts
}

// expand returns the routes that satisfy n; nil when none can (the rule
// rests on a credential whose own rules are unknown, for example).
func (pl *planner) expand(n *node, parent string) []option {
	if eval(n, pl.prof, false) {
		if eval(n, pl.prof, true) {
			return []option{{}}
		}
		// Met, but only through a route known from secondary sources.
		note := strings.TrimPrefix(uncertainNote(n, pl.prof), ": ")
		if note == "" {
			note = "a route known only from secondary sources"
		}
		return []option{{uncertain: 1, caveats: []string{note}}}
	}
	var res []option
	switch n.kind {
	case nodeAll:
		res = []option{{}}
		for _, k := range n.kids {
			ko := pl.expand(k, parent)
			if len(ko) == 0 {
				return nil
			}
			res = pl.product(res, ko)
		}
	case nodeAny:
		for _, k := range n.kids {
			res = append(res, pl.expand(k, parent)...)
		}
		res = pl.prune(res)
	case nodeEdu:
		why := fmt.Sprintf("%s needs %s", parent, describeEdu(n))
		for pi := range pl.cat.Education {
			pr := &pl.cat.Education[pi]
			m := eduEntry{level: levelRank(pr.Level), field: pr.Field, cahiim: pr.CAHIIM, status: statusBit(StatusCompleted)}
			if eduMatch(n, m) {
				res = append(res, pl.programOptions(pi, parent, why)...)
			}
		}
		res = pl.prune(res)
	case nodeExp:
		res = pl.prune([]option{{steps: []pstep{pl.experienceStep(n.area, n.months, parent)}}})
	case nodeCred:
		res = pl.credentialOptions(n.idx, parent)
	case nodeTrain:
		res = pl.trainingOptions(n.idx, parent, fmt.Sprintf("%s needs %s", parent, pl.cat.Trainings[n.idx].Title))
	}
	if n.uncertain {
		note := n.note
		if note == "" {
			note = "a route known only from secondary sources"
		}
		for i := range res {
			res[i].uncertain++
			if !slices.Contains(res[i].caveats, note) {
				res[i].caveats = append(slices.Clip(res[i].caveats), note)
			}
		}
	}
	return res
}

// prereqsMet reports whether the seeker already has a prerequisite.
// Education prerequisites are checked by level only: a master's program
// needs some bachelor's degree, not the catalog's HIM one.
func (pl *planner) prereqMet(r itemRef) bool {
	switch r.kind {
	case itemProgram:
		lvl := levelRank(pl.cat.Education[r.idx].Level)
		for _, e := range pl.prof.edu {
			if e.status == statusBit(StatusCompleted) && e.level >= lvl {
				return true
			}
		}
		return false
	case itemTraining:
		return pl.prof.trainedIn(r.idx)
	}
	return pl.prof.holds(r.idx)
}

func (pl *planner) prereqOptions(pre []itemRef, code string) []option {
	res := []option{{}}
	for _, r := range pre {
		if pl.prereqMet(r) {
			continue
		}
		var ro []option
		why := "prerequisite of " + code
		switch r.kind {
		case itemProgram:
			ro = pl.programOptions(r.idx, code, why)
		case itemTraining:
			ro = pl.trainingOptions(r.idx, code, why)
		default:
			ro = pl.credentialOptions(r.idx, code)
		}
		if len(ro) == 0 {
			return nil
		}
		res = pl.product(res, ro)
	}
	return res
}

func (pl *planner) programOptions(pi int, parent, why string) []option {
	pr := &pl.cat.Education[pi]
	res := pl.prereqOptions(pl.cat.c.progPre[pi], pr.Code)
	if res == nil {
		return nil
	}
	return appendStep(res, pl.programStep(pi, parent, why))
}

func (pl *planner) trainingOptions(ti int, parent, why string) []option {
	t := &pl.cat.Trainings[ti]
	res := pl.prereqOptions(pl.cat.c.trainPre[ti], t.Code)
	if res == nil {
		return nil
	}
	return appendStep(res, pl.trainingStep(ti, parent, why))
}

func (pl *planner) credentialOptions(ci int, parent string) []option {
	if pl.visiting&bit(ci) != 0 {
		return nil
	}
	n := pl.cat.c.elig[ci]
	if n == nil {
		return nil // rules unknown: no route can be promised
	}
	code := pl.cat.Credentials[ci].Code
	pl.visiting |= bit(ci)
	res := pl.expand(n, code)
	pl.visiting &^= bit(ci)
	if res == nil {
		return nil
	}
	why := "your target"
	if parent != "" {
		why = parent + " needs " + code
	}
	return pl.prune(appendStep(res, pl.credentialStep(ci, parent, why)))
}

// Step constructors. They carry the numbers the planner sums.

func factRange(f Fact) (lo, hi float64, known bool) {
	if f.Confidence == Unknown {
		return 0, 0, false
	}
	if f.Min != nil {
		lo = *f.Min
	}
	if f.Max != nil {
		return lo, *f.Max, true
	}
	return lo, 0, false
}

// inProgress reports whether the seeker has started (but not finished) a
// program like pr, so the step is to finish it: the status bit of the
// furthest such entry (final term before in progress), or 0.
func (p *profile) inProgress(pr *Program) uint8 {
	lvl := levelRank(pr.Level)
	var st uint8
	for _, e := range p.edu {
		if e.level == lvl && e.field == pr.Field && e.cahiim == pr.CAHIIM && e.status != statusBit(StatusCompleted) {
			if st == 0 || e.status == statusBit(StatusFinalTerm) {
				st = e.status
			}
		}
	}
	return st
}

// A final term is one semester. The catalog's program lengths assume 4-6
// calendar months per semester (see associate_him_cahiim), so one term
// left is estimated the same way.
const (
	termMonthsMin = 4
	termMonthsMax = 6
)

func (pl *planner) programStep(pi int, parent, why string) pstep {
	return programStep(pl.cat, pl.prof, pi, parent, why)
}

func programStep(cat *Catalog, prof *profile, pi int, parent, why string) pstep {
	pr := &cat.Education[pi]
	s := pstep{kind: KindEducation, idx: pi, why: why, neededFor: parent}
	lo, hi, ok := factRange(pr.Months)
	s.mMin, s.mMax, s.mKnown = int(math.Floor(lo)), int(math.Ceil(hi)), ok
	s.cMin, s.cMax, s.cKnown = factRange(pr.CostUSD)
	switch st := prof.inProgress(pr); st {
	case statusBit(StatusFinalTerm):
		// One term left: an estimate, whatever the whole program takes.
		s.finish, s.mMin, s.mMax, s.mKnown, s.cMin = st, termMonthsMin, termMonthsMax, true, 0
	case statusBit(StatusInProgress):
		// Time left is unknown: we do not know how far along the seeker
		// is. Money left is at most the whole program's.
		s.finish, s.mMin, s.mMax, s.mKnown, s.cMin = st, 0, 0, false, 0
	}
	return s
}

func (pl *planner) trainingStep(ti int, parent, why string) pstep {
	return trainingStep(pl.cat, ti, parent, why)
}

func trainingStep(cat *Catalog, ti int, parent, why string) pstep {
	t := &cat.Trainings[ti]
	s := pstep{kind: KindTraining, idx: ti, why: why, neededFor: parent}
	lo, hi, ok := factRange(t.Months)
	s.mMin, s.mMax, s.mKnown = int(math.Floor(lo)), int(math.Ceil(hi)), ok
	s.cMin, s.cMax, s.cKnown = factRange(t.CostUSD)
	return s
}

func (pl *planner) credentialStep(ci int, parent, why string) pstep {
	return credentialStep(pl.cat, ci, parent, why)
}

func credentialStep(cat *Catalog, ci int, parent, why string) pstep {
	s := pstep{kind: KindCredential, idx: ci, why: why, neededFor: parent, mKnown: true}
	s.cMin, s.cMax, s.cKnown = feeRange(&cat.Credentials[ci])
	return s
}

// feeRange spans a credential's known exam fees.
func feeRange(cr *Credential) (lo, hi float64, known bool) {
	for _, f := range cr.Exam.Fees {
		if f.Confidence == Unknown || f.Min == nil {
			continue
		}
		v := *f.Min
		if !known || v < lo {
			lo = v
		}
		if !known || v > hi {
			hi = v
		}
		known = true
	}
	return lo, hi, known
}

func (pl *planner) experienceStep(area, need int, parent string) pstep {
	return experienceStep(pl.prof, area, need, parent, fmt.Sprintf("%s needs %s", parent, describeExp(area, need)))
}

func experienceStep(prof *profile, area, need int, parent, why string) pstep {
	left := max(need-prof.expIn(area), 0)
	return pstep{kind: KindExperience, idx: area, need: need, why: why, neededFor: parent,
		mMin: left, mMax: left, mKnown: true, cKnown: true}
}
