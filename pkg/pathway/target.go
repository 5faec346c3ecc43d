package pathway

import (
	"fmt"
	"strings"
)

// Target plan statuses.
const (
	TargetHeld         = "held"
	TargetEligibleNow  = "eligible_now"
	TargetPlanned      = "planned"
	TargetOverLimits   = "over_limits"
	TargetRulesUnknown = "rules_unknown"
	TargetUnreachable  = "unreachable"
)

// targetPlan plans the way to the state's target credential: held, rules
// unknown, unreachable, or the best route with its notes and alternatives.
func (e *engine) targetPlan() *TargetPlan {
	cat := e.cat
	ti := e.ck.target
	cr := &cat.Credentials[ti]
	tp := &TargetPlan{Target: cr.Code, Optimize: e.ck.optimize, Steps: []Step{}, Notes: []string{}}

	if e.prof.holds(ti) {
		tp.Status = TargetHeld
		tp.Notes = append(tp.Notes, "you already hold "+cr.Code)
		return tp
	}
	if cat.c.elig[ti] == nil {
		tp.Status = TargetRulesUnknown
		tp.Notes = append(tp.Notes, "eligibility rules unknown — check with "+cr.Issuer)
		if cr.Eligibility.Note != "" {
			tp.Notes = append(tp.Notes, cr.Eligibility.Note)
		}
		return tp
	}

	opts := e.targetRoutes(ti, tp)
	if len(opts) == 0 {
		tp.Status = TargetUnreachable
		tp.Notes = append(tp.Notes, "no route can be planned: every route depends on rules that are unknown")
		tp.Notes = append(tp.Notes, cat.blocked(ti, e.prof)...)
		return tp
	}

	best := &opts[0]
	if len(best.steps) == 1 {
		tp.Status = TargetEligibleNow
	}
	unknownMonths, unknownCost := e.bestRoute(tp, best)
	e.targetNotes(tp, ti, best, unknownMonths, unknownCost)
	e.alternatives(tp, opts)
	return tp
}

// targetRoutes returns the routes to credential ti, best first, within the
// plan's limits; when none fits them, the routes without limits and the
// status TargetOverLimits with a note on what the best one needs.
func (e *engine) targetRoutes(ti int, tp *TargetPlan) []option {
	cat := e.cat
	limited := e.ck.maxMonths > 0 || e.ck.maxCost > 0
	pl := &planner{cat: cat, prof: e.prof, optimize: e.ck.optimize, maxMonths: e.ck.maxMonths, maxCost: e.ck.maxCost}
	opts := pl.prune(pl.credentialOptions(ti, ""))
	tp.Status = TargetPlanned
	if len(opts) == 0 && limited {
		free := &planner{cat: cat, prof: e.prof, optimize: e.ck.optimize}
		opts = free.prune(free.credentialOptions(ti, ""))
		if len(opts) > 0 {
			tp.Status = TargetOverLimits
			s := &opts[0].sum
			tp.Notes = append(tp.Notes, fmt.Sprintf("no route fits your limits (%s): the best route needs at least %d months and $%.0f",
				limitsText(e.ck.maxMonths, e.ck.maxCost), s.mMin, s.cMin))
		}
	}
	return opts
}

// bestRoute puts the best route's steps and totals in tp and returns the
// codes of the steps whose duration or cost no source gives.
func (e *engine) bestRoute(tp *TargetPlan, best *option) (unknownMonths, unknownCost []string) {
	e.inPlan = make(map[stepKey]bool, len(best.steps))
	for i := range best.steps {
		ps := &best.steps[i]
		e.inPlan[ps.key()] = true
		s := e.publicStep(ps)
		s.Why = capitalize(ps.why)
		tp.Steps = append(tp.Steps, s)
		if !ps.mKnown {
			unknownMonths = append(unknownMonths, s.Code)
		}
		if !ps.cKnown {
			unknownCost = append(unknownCost, s.Code)
		}
	}
	sum := best.sum
	tp.MonthsMin, tp.CostMin = sum.mMin, sum.cMin
	if sum.mUnknown == 0 {
		v := sum.mMax
		tp.MonthsMax = &v
	}
	if sum.cUnknown == 0 {
		v := sum.cMax
		tp.CostMax = &v
	}

	return unknownMonths, unknownCost
}

// targetNotes adds what a reader of the plan must know: what durations
// leave out, what is unknown, limits, secondary sources, apprentice status.
func (e *engine) targetNotes(tp *TargetPlan, ti int, best *option, unknownMonths, unknownCost []string) {
	cat := e.cat
	cr := &cat.Credentials[ti]
	tp.Notes = append(tp.Notes, "durations add steps end to end and leave out exam preparation, which no source gives")
	if len(unknownMonths) > 0 {
		tp.Notes = append(tp.Notes, "months_max unknown: no source gives the duration of "+joinAnd(unknownMonths))
	}
	if len(unknownCost) > 0 {
		tp.Notes = append(tp.Notes, "cost_max unknown: no source gives the cost of "+joinAnd(unknownCost))
	}
	if tp.Status != TargetOverLimits {
		tp.Notes = append(tp.Notes, limitNotes(e.ck.maxMonths, e.ck.maxCost, tp)...)
	}
	if cr.Eligibility.Confidence == Secondary {
		tp.Notes = append(tp.Notes, fmt.Sprintf("%s eligibility rules come from secondary sources only; confirm with %s", cr.Code, cr.Issuer))
	}
	if best.uncertain > 0 {
		tp.Notes = append(tp.Notes, "this route relies on a rule known only from secondary sources: "+strings.Join(best.caveats, "; "))
	}
	if a := cat.c.appr[ti]; a != nil {
		tp.Notes = append(tp.Notes, fmt.Sprintf("passing without %d months of %s experience (or AAPC's training credits) gives %s%s, an apprentice status",
			a.months, areaName(a.area), cr.Code, a.suffix))
	}
}

// alternatives adds up to two other routes after the best.
func (e *engine) alternatives(tp *TargetPlan, opts []option) {
	for i := 1; i < len(opts) && i <= 2; i++ {
		o := &opts[i]
		r := Route{MonthsMin: o.sum.mMin, CostMin: o.sum.cMin, Uncertain: o.uncertain > 0}
		for j := range o.steps {
			r.Steps = append(r.Steps, o.steps[j].kind+":"+e.stepCode(&o.steps[j]))
		}
		if o.sum.mUnknown == 0 {
			v := o.sum.mMax
			r.MonthsMax = &v
		}
		if o.sum.cUnknown == 0 {
			v := o.sum.cMax
			r.CostMax = &v
		}
		tp.Alternatives = append(tp.Alternatives, r)
	}
}

func (e *engine) stepCode(ps *pstep) string {
	switch ps.kind {
	case KindCredential:
		return e.cat.Credentials[ps.idx].Code
	case KindEducation:
		return e.cat.Education[ps.idx].Code
	case KindTraining:
		return e.cat.Trainings[ps.idx].Code
	}
	return areaName(ps.idx)
}

func limitsText(months int, cost float64) string {
	var parts []string
	if months > 0 {
		parts = append(parts, fmt.Sprintf("%d months", months))
	}
	if cost > 0 {
		parts = append(parts, fmt.Sprintf("$%.0f", cost))
	}
	return strings.Join(parts, " and ")
}

// limitNotes says whether a planned route fits the seeker's limits: surely,
// only in the best case, or unknowably because some numbers are missing.
func limitNotes(maxMonths int, maxCost float64, tp *TargetPlan) []string {
	var out []string
	if maxMonths > 0 {
		switch {
		case tp.MonthsMax != nil && *tp.MonthsMax <= maxMonths:
			out = append(out, fmt.Sprintf("fits within %d months", maxMonths))
		case tp.MonthsMax != nil:
			out = append(out, fmt.Sprintf("fits within %d months only in the best case: it takes %d to %d months", maxMonths, tp.MonthsMin, *tp.MonthsMax))
		default:
			out = append(out, fmt.Sprintf("cannot confirm it fits within %d months: some durations are unknown (known part: at least %d months)", maxMonths, tp.MonthsMin))
		}
	}
	if maxCost > 0 {
		switch {
		case tp.CostMax != nil && *tp.CostMax <= maxCost:
			out = append(out, fmt.Sprintf("fits within $%.0f", maxCost))
		case tp.CostMax != nil:
			out = append(out, fmt.Sprintf("fits within $%.0f only in the best case: it costs $%.0f to $%.0f", maxCost, tp.CostMin, *tp.CostMax))
		default:
			out = append(out, fmt.Sprintf("cannot confirm it fits within $%.0f: some costs are unknown (known part: at least $%.0f)", maxCost, tp.CostMin))
		}
	}
	return out
}
