package pathway

// Renewal of held credentials.
//
// For plans and the next-steps ranking: Plan.Recertification lists one
// Recert per renewal group. A group with Status RecertInGrace or
// RecertLapsed needs attention first; Recert.Action says what to do
// ("log 12 more CEUs by 2027-03-01", "reinstate …") and Plan.Overdue()
// returns just those groups, most urgent first. A lapsed credential counts
// for no eligibility rule and no role (see profile.lapsed in eval.go), but
// stays in Plan.Held and is never offered as an exam to sit again.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Renewal statuses.
const (
	RecertActive  = "active"
	RecertInGrace = "in_grace"
	RecertLapsed  = "lapsed"
	RecertUnknown = "unknown"
)

// Recert is the renewal state of the credentials one issuer counts together
// (or of one credential, for issuers that renew each on its own).
type Recert struct {
	Issuer string `json:"issuer"`
	// Credentials are the credentials maintained in this group.
	Credentials []string `json:"credentials"`
	// Superseded lists held credentials replaced by one in Credentials
	// (RHIT by RHIA): they are not maintained separately and add no CEUs
	// or fees.
	Superseded []string `json:"superseded,omitempty"`
	// Status is active, in_grace (the cycle ended short and the issuer's
	// grace period runs: AHIMA calls the credential inactive meanwhile,
	// AAPC revokes it at the end), lapsed (past grace: the credential is
	// lost and counts for nothing), or unknown when a needed rule or date
	// is missing.
	Status string `json:"status"`
	// IssuerStatus is the issuer's own word for the status where it has one
	// (AHIMA: inactive, revoked; AAPC: revoked).
	IssuerStatus string `json:"issuer_status,omitempty"`
	CycleStart   string `json:"cycle_start,omitempty"`
	CycleEnd     string `json:"cycle_end,omitempty"` // last day of the cycle: the CEU due date
	GraceEnds    string `json:"grace_ends,omitempty"`
	// DaysLeft counts days from today to the cycle end (active) or to the
	// end of grace (in_grace); 0 when lapsed.
	DaysLeft     int     `json:"days_left"`
	CEUsRequired *int    `json:"ceus_required"`
	CEUsLogged   float64 `json:"ceus_logged"`
	// CEUsShort is how many more CEUs the cycle needs; null when the
	// requirement is unknown.
	CEUsShort *float64 `json:"ceus_short"`
	// Prorated is set when this is a new certificant's first, pro-rated
	// submission: CEUsRequired is then the full number, an upper bound.
	Prorated bool `json:"prorated,omitempty"`
	// FromIssuerRequired is the least number of this cycle's CEUs that
	// must come from the issuer itself (AHIMA since 2025: 40%); null when
	// the issuer has no such rule or the requirement is unknown.
	FromIssuerRequired *int `json:"from_issuer_required"`
	// FromIssuerLogged counts logged CEUs whose provider is the issuer;
	// ProviderUnknown counts those that do not say their provider.
	FromIssuerLogged float64 `json:"from_issuer_logged"`
	ProviderUnknown  float64 `json:"provider_unknown"`
	// FeeUSD is the non-member renewal fee for the cycle; FeeMemberUSD the
	// member fee. Null when unknown.
	FeeUSD       *float64 `json:"fee_usd"`
	FeeMemberUSD *float64 `json:"fee_member_usd"`
	// Action is what to do now, for people: "log 12 more CEUs by …",
	// "renew …", "reinstate …"; empty when nothing is due.
	Action string   `json:"action,omitempty"`
	Notes  []string `json:"notes,omitempty"`
}

// Overdue returns the renewal groups that need action before anything
// else (in grace or lapsed): in grace first, soonest deadline first.
func (p *Plan) Overdue() []Recert {
	var out []Recert
	for _, r := range p.Recertification {
		if r.Status == RecertInGrace || r.Status == RecertLapsed {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b Recert) int {
		if a.Status != b.Status {
			if a.Status == RecertInGrace {
				return -1
			}
			return 1
		}
		return a.DaysLeft - b.DaysLeft
	})
	return out
}

// recertAll works out every renewal group of ck's held credentials and
// marks the credentials of lapsed groups in ck.prof.lapsed.
func recertAll(cat *Catalog, ck *checked, today time.Time) []Recert {
	out := []Recert{}
	for ii := range cat.Issuers {
		is := &cat.Issuers[ii]
		var group []int
		for ci := range cat.Credentials {
			if cat.Credentials[ci].Issuer == is.Code && ck.prof.holds(ci) {
				group = append(group, ci)
			}
		}
		if len(group) == 0 {
			continue
		}
		groups := [][]int{group}
		if is.Recert.Combine == CombinePerCredential {
			groups = groups[:0]
			for _, ci := range group {
				groups = append(groups, []int{ci})
			}
		}
		for _, g := range groups {
			var r Recert
			if is.Recert.Due == DueMembershipRenewal {
				r = membershipGroup(cat, ck, is, g, today)
			} else {
				r = cycleGroup(cat, ck, is, g, today)
			}
			if r.Status == RecertLapsed {
				for _, ci := range g {
					ck.prof.lapsed |= bit(ci)
				}
			}
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b Recert) int {
		if c := strings.Compare(a.Issuer, b.Issuer); c != 0 {
			return c
		}
		return strings.Compare(strings.Join(a.Credentials, ","), strings.Join(b.Credentials, ","))
	})
	return out
}

// recertification returns the renewal groups worked out when the state
// was checked.
func (e *engine) recertification() []Recert { return e.ck.recert }

// maintained drops from members the credentials superseded by another
// member, and returns those separately.
func maintained(cat *Catalog, members []int) (keep, superseded []int) {
	var held uint64
	for _, ci := range members {
		held |= bit(ci)
	}
	for _, ci := range members {
		if cat.c.supersededBy[ci]&held != 0 {
			superseded = append(superseded, ci)
		} else {
			keep = append(keep, ci)
		}
	}
	return keep, superseded
}

// requiredCEUs applies the issuer's combination rule; nil when a number it
// needs is unknown.
func requiredCEUs(cat *Catalog, is *Issuer, group []int) *int {
	r := &is.Recert
	n := len(group)
	if n == 0 {
		return nil
	}
	switch r.Combine {
	case CombineAdditive:
		base := 0.0
		for _, ci := range group {
			f := cat.Credentials[ci].RecertCEUs
			if !f.Known() || f.Max == nil {
				return nil
			}
			base = max(base, *f.Max)
		}
		total := base
		if n > 1 {
			if !r.PerAdditional.Known() || !r.Cap.Known() {
				return nil
			}
			total = min(base+*r.PerAdditional.Max*float64(n-1), *r.Cap.Max)
		}
		v := int(total)
		return &v
	case CombineByCount:
		v := r.ByCount.Values[min(n, len(r.ByCount.Values))-1]
		return &v
	case CombinePerCredential:
		f := cat.Credentials[group[0]].RecertCEUs
		if !f.Known() || f.Max == nil {
			return nil
		}
		v := int(*f.Max)
		return &v
	}
	return nil
}

func codes(cat *Catalog, idx []int) []string {
	out := make([]string, len(idx))
	for i, ci := range idx {
		out[i] = cat.Credentials[ci].Code
	}
	slices.Sort(out)
	return out
}

// newRecert fills what every group reports whatever its dates: the
// credentials, superseded ones, the CEU requirement, fees and the rules to
// follow.
func newRecert(cat *Catalog, is *Issuer, group []int) (Recert, []int) {
	keep, sup := maintained(cat, group)
	r := Recert{Issuer: is.Code, Status: RecertUnknown, Credentials: codes(cat, keep)}
	if len(sup) > 0 {
		r.Superseded = codes(cat, sup)
		for _, ci := range sup {
			var by []string
			for _, k := range keep {
				if cat.c.supersededBy[ci]&bit(k) != 0 {
					by = append(by, cat.Credentials[k].Code)
				}
			}
			r.Notes = append(r.Notes, fmt.Sprintf("%s is superseded by %s: once granted, %s replaces it and only %s's CEUs are maintained",
				cat.Credentials[ci].Code, joinAnd(by), joinAnd(by), joinAnd(by)))
		}
	}
	r.CEUsRequired = requiredCEUs(cat, is, keep)
	if r.CEUsRequired == nil {
		r.Notes = append(r.Notes, "CEU requirement unknown — check with "+is.Code)
	}
	pol := &is.Recert
	if f := pol.Fees; f != nil {
		if f.First.Known() && f.PerAdditional.Known() {
			v := *f.First.Max + *f.PerAdditional.Max*float64(len(keep)-1)
			r.FeeUSD = &v
		}
		if f.Member.Known() {
			v := *f.Member.Max
			r.FeeMemberUSD = &v
		} else if r.FeeUSD != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("renewal fee: $%s per cycle for non-members; %s members pay less (amount not in our sources)", plainNumber(*r.FeeUSD), is.Code))
		}
	}
	if pol.Note != "" {
		r.Notes = append(r.Notes, pol.Note)
	}
	return r, keep
}

// cycleGroup follows cycles of CycleMonths from the earliest exam date.
func cycleGroup(cat *Catalog, ck *checked, is *Issuer, group []int, today time.Time) Recert {
	r, _ := newRecert(cat, is, group)
	anchor, undated := earliestEarned(cat, ck, group)
	pol := &is.Recert
	if len(undated) > 0 {
		r.Notes = append(r.Notes, "add earned_on for "+joinAnd(undated)+" to track its cycle")
	}
	if anchor.IsZero() {
		shareRule(&r, is, nil)
		return r
	}
	if !pol.CycleMonths.Known() || pol.CycleMonths.Max == nil {
		r.Notes = append(r.Notes, "renewal cycle unknown — check with "+is.Code)
		shareRule(&r, is, nil)
		return r
	}
	if len(group) > 1 {
		r.Notes = append(r.Notes, fmt.Sprintf("cycle anchored on your earliest %s exam date (%s); check how %s aligns later credentials",
			is.Code, anchor.Format(time.DateOnly), is.Code))
	}
	cycle := int(*pol.CycleMonths.Max)
	graceKnown := pol.GraceDays.Known() && pol.GraceDays.Max != nil
	grace := 0
	if graceKnown {
		grace = int(*pol.GraceDays.Max)
	}

	walkCycles(&r, cat, ck, is, group, anchor, cycle, grace, graceKnown, today)
	end, _ := time.Parse(time.DateOnly, r.CycleEnd)
	shareRule(&r, is, &end)
	finish(&r, is, graceKnown)
	return r
}

// earliestEarned is the earliest exam date of the group's credentials, and
// the codes of those without one.
func earliestEarned(cat *Catalog, ck *checked, group []int) (anchor time.Time, undated []string) {
	for _, ci := range group {
		d := ck.earned[ci]
		switch {
		case d.IsZero():
			undated = append(undated, cat.Credentials[ci].Code)
		case anchor.IsZero() || d.Before(anchor):
			anchor = d
		}
	}
	return anchor, undated
}

// walkCycles walks the renewal cycles of cycle months from anchor to today
// and leaves in r the cycle today is in, or the one the group lapsed in.
// A cycle that ended short of its CEUs puts the group in grace, then lapses it; CEUs logged during
// grace complete it (and then count for that cycle only). A cycle that
// was met rolls forward. Each cycle asks only for the credentials held
// by its end. Without a known requirement nothing can be judged: the
// cycle rolls, status unknown.
func walkCycles(r *Recert, cat *Catalog, ck *checked, is *Issuer, group []int, anchor time.Time, cycle, grace int, graceKnown bool, today time.Time) {
	pol := &is.Recert
	var used time.Time // CEUs on or before this day completed an earlier cycle in grace
	for k := 0; k < 2000; k++ {
		start := addMonths(anchor, cycle*k)
		end := addMonths(anchor, cycle*(k+1)).AddDate(0, 0, -1)
		var members []int
		for _, ci := range group {
			if d := ck.earned[ci]; d.IsZero() || !d.After(end) {
				members = append(members, ci)
			}
		}
		keep, _ := maintained(cat, members)
		r.CEUsRequired = requiredCEUs(cat, is, keep)
		r.CycleStart, r.CycleEnd = start.Format(time.DateOnly), end.Format(time.DateOnly)
		lg := logged(ck, group, is.Code, maxTime(start, used.AddDate(0, 0, 1)), end)
		r.CEUsLogged, r.FromIssuerLogged, r.ProviderUnknown = lg.hours, lg.fromIssuer, lg.unknown
		if !today.After(end) {
			r.DaysLeft = days(today, end)
			if r.CEUsRequired != nil {
				r.Status = RecertActive
			}
			break
		}
		if r.CEUsRequired == nil || cycleMet(is, *r.CEUsRequired, end, lg) {
			continue
		}
		graceEnd := end.AddDate(0, 0, grace)
		if graceKnown {
			// CEUs logged during grace complete the missed cycle.
			from := maxTime(start, used.AddDate(0, 0, 1))
			if done, ok := completedOn(ck, group, is, from, end, graceEnd, *r.CEUsRequired); ok {
				used = done
				continue
			}
			if lgg := logged(ck, group, is.Code, from, graceEnd); !today.After(graceEnd) {
				r.CEUsLogged, r.FromIssuerLogged, r.ProviderUnknown = lgg.hours, lgg.fromIssuer, lgg.unknown
			}
			r.GraceEnds = graceEnd.Format(time.DateOnly)
			if !today.After(graceEnd) {
				r.Status, r.DaysLeft, r.IssuerStatus = RecertInGrace, days(today, graceEnd), pol.GraceStatus
				break
			}
		}
		r.Status, r.DaysLeft, r.IssuerStatus = RecertLapsed, 0, pol.LapsedStatus
		break
	}
}

// membershipGroup dates CEUs by the membership renewal the seeker gave:
// they fall due on it every CycleMonths, and the credentials are lost
// GraceDays after a missed renewal.
func membershipGroup(cat *Catalog, ck *checked, is *Issuer, group []int, today time.Time) Recert {
	r, keep := newRecert(cat, is, group)
	pol := &is.Recert
	renewal, first, differ := membershipDates(ck, group)
	cycle := 0
	if pol.CycleMonths.Known() && pol.CycleMonths.Max != nil {
		cycle = int(*pol.CycleMonths.Max)
	}
	if renewal.IsZero() || cycle == 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("your CEUs fall due on your %s membership renewal date, not a fixed time after the exam; give membership_renewal (from your %s account) to see the date", is.Code, is.Code))
		shareRule(&r, is, nil)
		finish(&r, is, pol.GraceDays.Known())
		return r
	}
	if differ {
		r.Notes = append(r.Notes, fmt.Sprintf("your %s credentials give different membership renewal dates; the earliest, %s, is used (one membership covers them all)", is.Code, renewal.Format(time.DateOnly)))
	}
	mc := membershipCycle{renewal: renewal, due: ceuDueDate(&r, is, renewal)}
	mc.start = addMonths(mc.due, -cycle).AddDate(0, 0, 1)
	if !first.IsZero() && first.After(mc.start) {
		r.Prorated = true
		mc.start = first
		r.Notes = append(r.Notes, fmt.Sprintf("first submission after certification: %s pro-rates the CEUs to your renewal month (the number is set in your %s account; %s is the full amount)",
			is.Code, is.Code, intOr(r.CEUsRequired, "the full amount")))
	}
	r.CycleStart, r.CycleEnd = mc.start.Format(time.DateOnly), mc.due.Format(time.DateOnly)
	if r.CEUsRequired == nil {
		r.CEUsRequired = requiredCEUs(cat, is, keep)
	}
	graceKnown := pol.GraceDays.Known() && pol.GraceDays.Max != nil
	membershipStatus(&r, ck, group, is, mc, graceKnown, today)
	shareRule(&r, is, &mc.due)
	finish(&r, is, graceKnown)
	if r.Status == RecertInGrace {
		r.Action = membershipGraceAction(&r, is, mc)
	}
	return r
}

// membershipCycle is the CEU cycle a membership renewal date sets.
type membershipCycle struct {
	renewal    time.Time // the membership renewal date (the group's earliest)
	start, due time.Time // CEUs count from start and are due on due
}

// membershipDates returns the earliest membership renewal date the group's
// credentials give, whether they give different ones, and the earliest
// date one was earned.
func membershipDates(ck *checked, group []int) (renewal, first time.Time, differ bool) {
	for _, ci := range group {
		if d := ck.renewal[ci]; !d.IsZero() {
			if !renewal.IsZero() && !d.Equal(renewal) {
				differ = true
			}
			if renewal.IsZero() || d.Before(renewal) {
				renewal = d
			}
		}
		if d := ck.earned[ci]; !d.IsZero() && (first.IsZero() || d.Before(first)) {
			first = d
		}
	}
	return renewal, first, differ
}

// ceuDueDate returns the renewal date on which CEUs fall due: AAPC's
// example puts odd renewal months in odd years and even months in even
// years, so in the other years they are due a year later (said in a note).
func ceuDueDate(r *Recert, is *Issuer, renewal time.Time) time.Time {
	if ceuYear(renewal) {
		return renewal
	}
	due := renewal.AddDate(1, 0, 0)
	r.Notes = append(r.Notes, fmt.Sprintf("membership dues are yearly (next %s) but CEUs are due every two years; by %s's pattern (odd renewal months in odd years) yours are due %s — confirm in your %s account",
		renewal.Format(time.DateOnly), is.Code, due.Format(time.DateOnly), is.Code))
	return due
}

// membershipStatus sets the CEUs logged and the status: active until the
// renewal date, then in grace or lapsed when the issuer's grace is known.
func membershipStatus(r *Recert, ck *checked, group []int, is *Issuer, mc membershipCycle, graceKnown bool, today time.Time) {
	pol := &is.Recert
	switch {
	case !today.After(mc.renewal):
		lg := logged(ck, group, is.Code, mc.start, mc.due)
		r.CEUsLogged, r.FromIssuerLogged, r.ProviderUnknown = lg.hours, lg.fromIssuer, lg.unknown
		r.Status, r.DaysLeft = RecertActive, days(today, mc.due)
	case graceKnown:
		// The renewal date has passed: the membership (and the CEUs, in a
		// CEU year) are overdue.
		graceEnd := mc.renewal.AddDate(0, 0, int(*pol.GraceDays.Max))
		lg := logged(ck, group, is.Code, mc.start, minTime(today, mc.due))
		r.CEUsLogged, r.FromIssuerLogged, r.ProviderUnknown = lg.hours, lg.fromIssuer, lg.unknown
		r.GraceEnds = graceEnd.Format(time.DateOnly)
		if !today.After(graceEnd) {
			r.Status, r.DaysLeft, r.IssuerStatus = RecertInGrace, days(today, graceEnd), pol.GraceStatus
		} else {
			r.Status, r.IssuerStatus = RecertLapsed, pol.LapsedStatus
		}
		r.Notes = append(r.Notes, fmt.Sprintf("your membership renewal date %s has passed: if you renewed, give your next renewal date", mc.renewal.Format(time.DateOnly)))
	default:
		r.Notes = append(r.Notes, "your membership renewal date has passed and what follows is unknown — check with "+is.Code)
	}
}

// membershipGraceAction is what to do in grace: renew, and log the CEUs
// still short when they were due on this renewal.
func membershipGraceAction(r *Recert, is *Issuer, mc membershipCycle) string {
	pol := &is.Recert
	action := fmt.Sprintf("renew your %s membership by %s", is.Code, r.GraceEnds)
	if mc.due.Equal(mc.renewal) && r.CEUsShort != nil && *r.CEUsShort > 0 {
		action += fmt.Sprintf(" and log %s more CEUs", num(*r.CEUsShort))
	}
	return action + fmt.Sprintf(" (%s: credentials are %s %d days after a missed renewal)", is.Code, orWord(pol.LapsedStatus, "lost"), int(*pol.GraceDays.Max))
}

// ceuYear reports whether AAPC CEUs fall due on a renewal date: odd months
// in odd years, even months in even years (AAPC's published example).
func ceuYear(d time.Time) bool { return int(d.Month())%2 == d.Year()%2 }

type loggedCEUs struct{ hours, fromIssuer, unknown float64 }

// logged sums CEU hours for the group's credentials between start and end,
// both inclusive, and how many came from the issuer or give no provider.
func logged(ck *checked, group []int, issuer string, start, end time.Time) loggedCEUs {
	var l loggedCEUs
	for _, u := range ck.ceus {
		if !slices.Contains(group, u.cred) || u.on.Before(start) || u.on.After(end) {
			continue
		}
		l.hours += u.hours
		switch u.provider {
		case "":
			l.unknown += u.hours
		case issuer:
			l.fromIssuer += u.hours
		}
	}
	return l
}

// cycleMet: enough CEUs and, where the issuer asks a share from itself and
// every CEU says its provider, enough of them from the issuer. When some
// CEUs give no provider the share cannot be checked and is shown as a rule
// to follow instead.
func cycleMet(is *Issuer, required int, end time.Time, l loggedCEUs) bool {
	if l.hours < float64(required) {
		return false
	}
	if need := issuerShare(is, required, end); need != nil && l.unknown == 0 && l.fromIssuer < float64(*need) {
		return false
	}
	return true
}

// issuerShare is the least number of CEUs the issuer must provide in a
// cycle ending on end; nil when no share applies.
func issuerShare(is *Issuer, required int, end time.Time) *int {
	sh := is.Recert.IssuerShare
	if sh == nil {
		return nil
	}
	since, _ := time.Parse(time.DateOnly, sh.Since)
	if end.Before(since) {
		return nil
	}
	v := int(math.Ceil(float64(required) * float64(sh.Percent) / 100))
	return &v
}

// shareRule reports the issuer-share rule: a number when the cycle end and
// requirement are known, the rule in words otherwise.
func shareRule(r *Recert, is *Issuer, end *time.Time) {
	sh := is.Recert.IssuerShare
	if sh == nil {
		return
	}
	if end != nil && !end.IsZero() && r.CEUsRequired != nil {
		need := issuerShare(is, *r.CEUsRequired, *end)
		if need == nil {
			return
		}
		r.FromIssuerRequired = need
		msg := fmt.Sprintf("at least %d of your %d CEUs must come from %s (%d%%, for cycles ending from %s)", *need, *r.CEUsRequired, is.Code, sh.Percent, sh.Since)
		switch {
		case r.ProviderUnknown > 0:
			msg += fmt.Sprintf("; %s of your logged CEUs do not say their provider, so this is not checked here", num(r.ProviderUnknown))
		case r.FromIssuerLogged < float64(*need):
			msg += fmt.Sprintf("; %s logged from %s so far", num(r.FromIssuerLogged), is.Code)
		}
		r.Notes = append(r.Notes, msg)
		return
	}
	r.Notes = append(r.Notes, fmt.Sprintf("at least %d%% of each cycle's CEUs must come from %s (cycles ending from %s)", sh.Percent, is.Code, sh.Since))
}

// finish adds the shortfall, the action and the grace and lapse notes.
func finish(r *Recert, is *Issuer, graceKnown bool) {
	pol := &is.Recert
	if r.CEUsRequired != nil {
		short := max(0, float64(*r.CEUsRequired)-r.CEUsLogged)
		r.CEUsShort = &short
	}
	switch r.Status {
	case RecertActive:
		r.Action = logAction(r, is, r.CycleEnd)
	case RecertInGrace:
		r.Action = logAction(r, is, r.GraceEnds)
		if pol.GraceStatus != "" {
			r.Notes = append(r.Notes, fmt.Sprintf("%s lists the credential as %s until then", is.Code, pol.GraceStatus))
		}
		if pol.GraceDays.Note != "" {
			r.Notes = append(r.Notes, pol.GraceDays.Note)
		}
	case RecertLapsed:
		word := orWord(pol.LapsedStatus, "lapsed")
		if pol.Reinstatement.Confidence == Unknown || pol.Reinstatement.Note == "" {
			r.Action = fmt.Sprintf("reinstate: the credential is %s; what reinstatement takes is not in our sources — ask %s", word, is.Code)
		} else {
			r.Action = fmt.Sprintf("reinstate: the credential is %s; %s", word, pol.Reinstatement.Note)
			if pol.Reinstatement.Confidence == Secondary {
				r.Action += " (secondary source: confirm with " + is.Code + ")"
			}
		}
		r.Notes = append(r.Notes, "a lapsed credential counts for no eligibility and no role until it is reinstated")
		if !graceKnown {
			r.Notes = append(r.Notes, "grace period unknown — check with "+is.Code+" before assuming the credential is lost")
		}
	}
	if graceKnown && pol.GraceDays.Confidence == Secondary && r.Status != RecertActive {
		r.Notes = append(r.Notes, fmt.Sprintf("the %g-day grace period comes from secondary sources (uncertain)", *pol.GraceDays.Max))
	}
}

// logAction words what is left to log by a date, with the issuer's share
// when it is checked; empty when nothing is left.
func logAction(r *Recert, is *Issuer, by string) string {
	short := 0.0
	if r.CEUsShort != nil {
		short = *r.CEUsShort
	}
	share := 0.0
	if r.FromIssuerRequired != nil && r.ProviderUnknown == 0 {
		share = max(0, float64(*r.FromIssuerRequired)-r.FromIssuerLogged)
	}
	switch {
	case share > 0 && share >= short:
		return fmt.Sprintf("log %s more CEUs from %s by %s", num(share), is.Code, by)
	case share > 0:
		return fmt.Sprintf("log %s more CEUs by %s, at least %s of them from %s", num(short), by, num(share), is.Code)
	case short > 0:
		return fmt.Sprintf("log %s more CEUs by %s", num(short), by)
	}
	return ""
}

func intOr(p *int, s string) string {
	if p == nil {
		return s
	}
	return fmt.Sprint(*p)
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// num is a CEU count rounded up to the cent, written plainly (never 2e+06).
func num(f float64) string { return plainNumber(math.Ceil(f*100) / 100) }

// plainNumber writes an amount as people write it, 2000000 rather than %g's
// 2e+06, with no more decimals than it has.
func plainNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// completedOn finds the day a cycle that ended short was completed during
// grace: the date of the CEU that brought it to its requirement.
func completedOn(ck *checked, group []int, is *Issuer, from, end, graceEnd time.Time, required int) (time.Time, bool) {
	var late []time.Time
	for _, u := range ck.ceus {
		if slices.Contains(group, u.cred) && u.on.After(end) && !u.on.After(graceEnd) {
			late = append(late, u.on)
		}
	}
	slices.SortFunc(late, func(a, b time.Time) int { return a.Compare(b) })
	for _, d := range late {
		if cycleMet(is, required, end, logged(ck, group, is.Code, from, d)) {
			return d, true
		}
	}
	return time.Time{}, false
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// addMonths adds n calendar months, clamping to the month's last day so
// that 31 January plus one month is 28 or 29 February, not 2 March.
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	total := int(m) - 1 + n
	y += total / 12
	mm := time.Month(total%12 + 1)
	if total < 0 && total%12 != 0 {
		y--
		mm = time.Month(total%12 + 13)
	}
	if last := time.Date(y, mm+1, 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
		d = last
	}
	return time.Date(y, mm, d, 0, 0, 0, 0, time.UTC)
}

func days(from, to time.Time) int { return int(to.Sub(from).Hours() / 24) }
