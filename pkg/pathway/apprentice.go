package pathway

import (
	"fmt"
	"strings"
)

// ApprenticeStatus reports a held apprentice status (such as CPC-A) and
// what is left to remove the suffix.
type ApprenticeStatus struct {
	Credential      string `json:"credential"` // CPC
	Status          string `json:"status"`     // CPC-A
	MonthsRequired  int    `json:"months_required"`
	MonthsCredited  int    `json:"months_credited"`
	MonthsRemaining int    `json:"months_remaining"`
	// ReadyToRemove is true when experience and credits cover the
	// requirement: the seeker can ask the issuer to drop the suffix.
	ReadyToRemove bool `json:"ready_to_remove"`
	// Credited lists what counts so far.
	Credited []string `json:"credited"`
	// Ways lists how the remaining months can be covered.
	Ways   []string `json:"ways"`
	Source string   `json:"source"`
}

// apprenticeCredit counts months toward removing an apprentice suffix:
// experience in the rule's area plus the months of each credit the seeker
// has earned (each credit counts once, whichever of its alternatives was
// completed), capped at what is required.
func (e *engine) apprenticeCredit(a *apprenticeRule) int {
	total := e.prof.exp[a.area]
	for _, c := range a.credits {
		if eval(c.rule, e.prof, false) {
			total += c.months
		}
	}
	return min(total, a.months)
}

func (e *engine) apprenticeStatuses() []ApprenticeStatus {
	cat := e.cat
	var out []ApprenticeStatus
	for ci, a := range cat.c.appr {
		if a == nil || e.prof.apprentice&bit(ci) == 0 {
			continue
		}
		cr := &cat.Credentials[ci]
		credited := e.apprenticeCredit(a)
		st := ApprenticeStatus{
			Credential: cr.Code, Status: cr.Code + a.suffix, MonthsRequired: a.months,
			MonthsCredited: credited, MonthsRemaining: a.months - credited,
			ReadyToRemove: credited >= a.months, Credited: []string{}, Ways: []string{},
			Source: cat.SourceURL(cr.Apprentice.Source),
		}
		area := areaName(a.area)
		if m := e.prof.exp[a.area]; m > 0 {
			st.Credited = append(st.Credited, fmt.Sprintf("%d months of %s experience", m, area))
		}
		var open []string
		openMonths := 0
		for _, c := range a.credits {
			if eval(c.rule, e.prof, false) {
				st.Credited = append(st.Credited, fmt.Sprintf("%s (%d months)", c.title, c.months))
			} else {
				open = append(open, fmt.Sprintf("%s: %s (credited %d months)", c.title, cat.describe(c.rule), c.months))
				openMonths += c.months
			}
		}
		if st.ReadyToRemove {
			st.Ways = append(st.Ways, fmt.Sprintf("you meet the requirement: ask %s to remove %s", cr.Issuer, a.suffix))
		} else {
			left := st.MonthsRemaining
			st.Ways = append(st.Ways, fmt.Sprintf("work %d more months in %s", left, area))
			for _, o := range open {
				st.Ways = append(st.Ways, "complete "+o)
			}
			if len(open) > 1 && openMonths >= left {
				st.Ways = append(st.Ways, "complete "+strings.Join(open, " and ")+": together they cover what is left")
			}
		}
		out = append(out, st)
	}
	return out
}
