package pathway

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// FormatText writes p as plain text for a terminal.
func FormatText(w io.Writer, p Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Career plan (catalog %s, as of %s)\n\n", p.CatalogVersion, p.Today)
	fmt.Fprintf(&b, "Credentials held: %s\n", listOrNone(p.Held))
	fmt.Fprintf(&b, "Eligible now:     %s\n", listOrNone(p.EligibleNow))
	for _, code := range p.EligibleNow {
		for _, c := range p.Caveats[code] {
			fmt.Fprintf(&b, "  %s: %s\n", code, c)
		}
	}
	fmt.Fprintf(&b, "Roles you meet:   %s\n", listOrNone(p.RolesNow))

	if len(p.NextSteps) > 0 {
		b.WriteString("\nNext steps, best first:\n")
		for i, s := range p.NextSteps {
			writeStep(&b, i+1, s, true)
		}
	}

	if p.Target != nil {
		writeTarget(&b, p.Target)
	}
	writeBlocked(&b, p.Blocked)
	writeApprentice(&b, p.Apprentice)
	writeRecertification(&b, p.Recertification)

	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("format plan: %w", err)
	}
	return nil
}

// writeTarget writes the plan to the target credential.
func writeTarget(b *strings.Builder, t *TargetPlan) {
	fmt.Fprintf(b, "\nPlan to %s (optimised for %s): %s\n", t.Target, t.Optimize, strings.ReplaceAll(t.Status, "_", " "))
	for i, s := range t.Steps {
		writeStep(b, i+1, s, false)
	}
	if len(t.Steps) > 0 {
		fmt.Fprintf(b, "  Total time: %s; cost: %s\n", monthsText(&t.MonthsMin, t.MonthsMax), usdText(&t.CostMin, t.CostMax))
	}
	for _, n := range t.Notes {
		fmt.Fprintf(b, "  note: %s\n", n)
	}
	for _, r := range t.Alternatives {
		fmt.Fprintf(b, "  alternative: %s (%s; %s)", strings.Join(r.Steps, " -> "),
			monthsText(&r.MonthsMin, r.MonthsMax), usdText(&r.CostMin, r.CostMax))
		if r.Uncertain {
			b.WriteString(" [uncertain]")
		}
		b.WriteString("\n")
	}
}

// writeBlocked writes why the seeker is not yet eligible for each credential.
func writeBlocked(b *strings.Builder, blocked map[string][]string) {
	if len(blocked) > 0 {
		b.WriteString("\nNot yet eligible:\n")
		for _, code := range sortedKeys(blocked) {
			fmt.Fprintf(b, "  %s:\n", code)
			for _, line := range blocked[code] {
				fmt.Fprintf(b, "    - %s\n", line)
			}
		}
	}
}

// writeApprentice writes the apprentice statuses and the ways out of them.
func writeApprentice(b *strings.Builder, statuses []ApprenticeStatus) {
	if len(statuses) > 0 {
		b.WriteString("\nApprentice status:\n")
		for _, a := range statuses {
			fmt.Fprintf(b, "  %s: %d of %d months credited, %d to go\n", a.Status, a.MonthsCredited, a.MonthsRequired, a.MonthsRemaining)
			for _, c := range a.Credited {
				fmt.Fprintf(b, "    counted: %s\n", c)
			}
			for _, way := range a.Ways {
				fmt.Fprintf(b, "    - %s\n", way)
			}
		}
	}
}

// writeRecertification writes each recertification cycle and its CEUs.
func writeRecertification(b *strings.Builder, recerts []Recert) {
	if len(recerts) > 0 {
		b.WriteString("\nRecertification:\n")
		for _, r := range recerts {
			fmt.Fprintf(b, "  %s (%s): %s", r.Issuer, strings.Join(r.Credentials, ", "), strings.ReplaceAll(r.Status, "_", " "))
			if r.CycleEnd != "" {
				fmt.Fprintf(b, "; cycle %s to %s", r.CycleStart, r.CycleEnd)
			}
			switch r.Status {
			case RecertActive:
				fmt.Fprintf(b, ", %d days left", r.DaysLeft)
			case RecertInGrace:
				fmt.Fprintf(b, ", grace ends %s (%d days left)", r.GraceEnds, r.DaysLeft)
			}
			b.WriteString("\n")
			req := "unknown"
			if r.CEUsRequired != nil {
				req = fmt.Sprint(*r.CEUsRequired)
			}
			fmt.Fprintf(b, "    CEUs: %s of %s\n", plainNumber(r.CEUsLogged), req)
			if r.Action != "" {
				fmt.Fprintf(b, "    do: %s\n", r.Action)
			}
			for _, n := range r.Notes {
				fmt.Fprintf(b, "    note: %s\n", n)
			}
		}
	}
}

func writeStep(b *strings.Builder, n int, s Step, scored bool) {
	fmt.Fprintf(b, "  %d. [%s] %s", n, s.Kind, s.Title)
	if scored && s.Kind != KindRenewal { // renewal steps go by urgency, not score
		fmt.Fprintf(b, "  (score %.2f)", s.Score)
	}
	b.WriteString("\n")
	if s.Why != "" {
		fmt.Fprintf(b, "     why: %s\n", s.Why)
	}
	switch {
	case s.Kind == KindRenewal:
	case s.Recurrence != nil:
		fmt.Fprintf(b, "     cost: %s\n", usdText(s.CostMin, s.CostMax))
	case s.Kind != KindCredential:
		fmt.Fprintf(b, "     time: %s\n", monthsText(s.MonthsMin, s.MonthsMax))
		fallthrough
	default:
		fmt.Fprintf(b, "     cost: %s\n", usdText(s.CostMin, s.CostMax))
	}
	if len(s.Unlocks) > 0 {
		fmt.Fprintf(b, "     unlocks: %s\n", strings.Join(s.Unlocks, ", "))
	}
	if len(s.OpensRoles) > 0 {
		fmt.Fprintf(b, "     opens roles: %s\n", strings.Join(s.OpensRoles, ", "))
	}
	if s.Demand != "" {
		fmt.Fprintf(b, "     market: %s\n", s.Demand)
	}
	for _, c := range s.Cautions {
		fmt.Fprintf(b, "     caution: %s\n", c)
	}
	if r := s.Recurrence; r != nil {
		fmt.Fprintf(b, "     recurs: %s", r.Text)
		if r.Confidence == Unknown || r.Confidence == Secondary {
			fmt.Fprintf(b, " (%s)", r.Confidence)
		}
		b.WriteString("\n")
		for _, d := range r.Next {
			fmt.Fprintf(b, "       next: %s %s", d.On, d.What)
			if d.Confidence == Secondary {
				b.WriteString(" (secondary source)")
			}
			b.WriteString("\n")
		}
	}
	for _, note := range s.Notes {
		fmt.Fprintf(b, "     note: %s\n", note)
	}
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

func monthsText(lo, hi *int) string {
	switch {
	case lo == nil && hi == nil:
		return "unknown"
	case hi == nil:
		return fmt.Sprintf("at least %d months (upper bound unknown)", *lo)
	case lo == nil || *lo == 0 && *hi > 0:
		return fmt.Sprintf("up to %d months", *hi)
	case *lo == *hi:
		return fmt.Sprintf("%d months", *hi)
	}
	return fmt.Sprintf("%d-%d months", *lo, *hi)
}

func usdText(lo, hi *float64) string {
	switch {
	case lo == nil && hi == nil:
		return "unknown"
	case hi == nil:
		return fmt.Sprintf("at least $%.0f (upper bound unknown)", *lo)
	case lo == nil:
		return fmt.Sprintf("up to $%.0f", *hi)
	case *lo == *hi:
		return fmt.Sprintf("$%.0f", *hi)
	}
	return fmt.Sprintf("$%.0f-$%.0f", *lo, *hi)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
