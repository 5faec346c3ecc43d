package pathway

import (
	"fmt"
	"slices"
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
	Issuer      string   `json:"issuer"`
	Credentials []string `json:"credentials"`
	// Status is active, in_grace (the cycle ended short of its CEUs and the
	// grace period runs), lapsed, or unknown when a needed rule or date is
	// missing.
	Status     string `json:"status"`
	CycleStart string `json:"cycle_start,omitempty"`
	CycleEnd   string `json:"cycle_end,omitempty"` // last day of the cycle
	GraceEnds  string `json:"grace_ends,omitempty"`
	// DaysLeft counts days from today to the cycle end (active) or to the
	// end of grace (in_grace); 0 when lapsed.
	DaysLeft            int      `json:"days_left"`
	CEUsRequired        *int     `json:"ceus_required"`
	CEUsLogged          float64  `json:"ceus_logged"`
	SelfReviewsRequired int      `json:"self_reviews_required"`
	SelfReviewsLogged   int      `json:"self_reviews_logged"`
	Notes               []string `json:"notes,omitempty"`
}

// recertification groups held credentials by issuer and works out each
// group's cycle.
func (e *engine) recertification() []Recert {
	cat := e.cat
	out := []Recert{}
	for ii := range cat.Issuers {
		is := &cat.Issuers[ii]
		var group []int
		for ci := range cat.Credentials {
			if cat.Credentials[ci].Issuer == is.Code && e.prof.holds(ci) {
				group = append(group, ci)
			}
		}
		if len(group) == 0 {
			continue
		}
		if is.Recert.Combine == CombinePerCredential {
			for _, ci := range group {
				out = append(out, e.recertGroup(is, []int{ci}))
			}
			continue
		}
		out = append(out, e.recertGroup(is, group))
	}
	slices.SortStableFunc(out, func(a, b Recert) int {
		if c := strings.Compare(a.Issuer, b.Issuer); c != 0 {
			return c
		}
		return strings.Compare(strings.Join(a.Credentials, ","), strings.Join(b.Credentials, ","))
	})
	return out
}

// requirement gives the CEUs and self-reviews a cycle needs for the
// credentials in group.
func requirement(cat *Catalog, is *Issuer, group []int) (*int, int) {
	reviews := 0
	if sr := is.Recert.SelfReview; sr != nil {
		for _, ci := range group {
			if slices.Contains(sr.Credentials, cat.Credentials[ci].Code) {
				reviews = sr.PerCycle
			}
		}
	}
	return requiredCEUs(cat, is, group), reviews
}

// requiredCEUs applies the issuer's combination rule; nil when a number it
// needs is unknown.
func requiredCEUs(cat *Catalog, is *Issuer, group []int) *int {
	r := &is.Recert
	n := len(group)
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

func (e *engine) recertGroup(is *Issuer, group []int) Recert {
	cat := e.cat
	r := Recert{Issuer: is.Code, Status: RecertUnknown}
	var anchor time.Time
	var undated []string
	for _, ci := range group {
		r.Credentials = append(r.Credentials, cat.Credentials[ci].Code)
		d := e.ck.earned[ci]
		switch {
		case d.IsZero():
			undated = append(undated, cat.Credentials[ci].Code)
		case anchor.IsZero() || d.Before(anchor):
			anchor = d
		}
	}
	slices.Sort(r.Credentials)
	pol := &is.Recert
	r.CEUsRequired, r.SelfReviewsRequired = requirement(cat, is, group)
	if r.SelfReviewsRequired > 0 {
		var coding []string
		for _, ci := range group {
			if slices.Contains(pol.SelfReview.Credentials, cat.Credentials[ci].Code) {
				coding = append(coding, cat.Credentials[ci].Code)
			}
		}
		r.Notes = append(r.Notes, fmt.Sprintf("coding credentials (%s) need %d coding self-reviews per cycle, %g CEUs each, counted in the total",
			strings.Join(coding, ", "), pol.SelfReview.PerCycle, pol.SelfReview.CEUsEach))
	}
	if r.CEUsRequired == nil {
		r.Notes = append(r.Notes, "CEU requirement unknown — check with "+is.Code)
	}
	if pol.Note != "" {
		r.Notes = append(r.Notes, pol.Note)
	}
	if len(undated) > 0 {
		r.Notes = append(r.Notes, "add earned_on for "+joinAnd(undated)+" to track its cycle")
	}
	if anchor.IsZero() {
		return r
	}
	if !pol.CycleMonths.Known() || pol.CycleMonths.Max == nil {
		r.Notes = append(r.Notes, "renewal cycle unknown — check with "+is.Code)
		return r
	}
	if len(group) > 1 {
		r.Notes = append(r.Notes, fmt.Sprintf("cycle anchored on your earliest %s exam date (%s); check how %s aligns later credentials",
			is.Code, anchor.Format(time.DateOnly), is.Code))
	}
	cycle := int(*pol.CycleMonths.Max)
	grace, graceKnown := 0, pol.GraceMonths.Known() && pol.GraceMonths.Max != nil
	if graceKnown {
		grace = int(*pol.GraceMonths.Max)
	}

	e.rollCycle(&r, is, group, anchor, cycle, grace, graceKnown)

	if graceKnown && pol.GraceMonths.Confidence == Secondary && r.Status != RecertActive {
		r.Notes = append(r.Notes, fmt.Sprintf("the %d-month grace period comes from secondary sources (uncertain)", grace))
	}
	if r.Status == RecertInGrace {
		r.Notes = append(r.Notes, "CEUs logged after the cycle end are not counted toward it here; check with "+is.Code+" how grace-period CEUs are credited")
	}
	if !graceKnown && r.Status == RecertLapsed {
		r.Notes = append(r.Notes, "grace period unknown — check with "+is.Code+" before assuming the credential is lost")
	}
	return r
}

// rollCycle walks cycles from the anchor to today. A cycle that ended short
// of its CEUs or self-reviews puts the group in grace, then lapses it; a
// cycle that was met rolls forward. Each cycle asks only for the credentials
// held by its end. Without a known requirement nothing can be judged, so the
// cycle just rolls and the status stays unknown.
func (e *engine) rollCycle(r *Recert, is *Issuer, group []int, anchor time.Time, cycle, grace int, graceKnown bool) {
	today := e.today
	members := make([]int, 0, len(group))
	for k := 0; k < 2000; k++ {
		start := addMonths(anchor, cycle*k)
		next := addMonths(anchor, cycle*(k+1))
		end := next.AddDate(0, 0, -1)
		members = members[:0]
		for _, ci := range group {
			if d := e.ck.earned[ci]; d.IsZero() || !d.After(end) {
				members = append(members, ci)
			}
		}
		r.CEUsRequired, r.SelfReviewsRequired = requirement(e.cat, is, members)
		r.CycleStart, r.CycleEnd = start.Format(time.DateOnly), end.Format(time.DateOnly)
		r.CEUsLogged, r.SelfReviewsLogged = e.logged(group, start, end)
		if !today.After(end) {
			r.DaysLeft = days(today, end)
			if r.CEUsRequired != nil {
				r.Status = RecertActive
			}
			return
		}
		if r.CEUsRequired == nil {
			continue
		}
		if r.CEUsLogged >= float64(*r.CEUsRequired) && r.SelfReviewsLogged >= r.SelfReviewsRequired {
			continue
		}
		if graceKnown {
			graceEnd := addMonths(next, grace).AddDate(0, 0, -1)
			r.GraceEnds = graceEnd.Format(time.DateOnly)
			if !today.After(graceEnd) {
				r.Status, r.DaysLeft = RecertInGrace, days(today, graceEnd)
				return
			}
		}
		r.Status, r.DaysLeft = RecertLapsed, 0
		return
	}
}

// logged sums CEU hours and self-reviews for the group's credentials
// between start and end, both inclusive.
func (e *engine) logged(group []int, start, end time.Time) (hours float64, reviews int) {
	for _, u := range e.ck.ceus {
		if !slices.Contains(group, u.cred) || u.on.Before(start) || u.on.After(end) {
			continue
		}
		hours += u.hours
		if u.selfReview {
			reviews++
		}
	}
	return hours, reviews
}

// addMonths adds n calendar months, clamping to the month's last day so
// that 31 January plus one month is 28 or 29 February, not 2 March.
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	total := int(m) - 1 + n
	y += total / 12
	mm := time.Month(total%12 + 1)
	if last := time.Date(y, mm+1, 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
		d = last
	}
	return time.Date(y, mm, d, 0, 0, 0, 0, time.UTC)
}

func days(from, to time.Time) int { return int(to.Sub(from).Hours() / 24) }
