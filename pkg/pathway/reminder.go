package pathway

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// Reminder audiences: who a recurring training is for.
const (
	ForHolders  = "holders"  // holders of any of Reminder.Holders
	ForNewHire  = "new_hire" // someone starting their first job in the field
	ForEveryone = "everyone" // anyone working, or about to work, with health records
)

// Reminder marks a training that is not a route to a credential but
// something to keep doing: continuing education on code-set changes,
// privacy and security awareness, on-the-job training.
type Reminder struct {
	For        string     `yaml:"for" json:"for"`
	Holders    []string   `yaml:"holders,omitempty" json:"holders,omitempty"`
	Recurrence Recurrence `yaml:"recurrence" json:"recurrence"`
}

// Recurrence says when a training comes round again. Text is what people
// read; Yearly lists fixed yearly dates (code-set updates), each with its
// own confidence. With confidence unknown, Text says what is commonly done
// and that no source states it.
type Recurrence struct {
	Text       string       `yaml:"text" json:"text"`
	Yearly     []YearlyDate `yaml:"yearly,omitempty" json:"yearly,omitempty"`
	Confidence Confidence   `yaml:"confidence" json:"confidence"`
	Source     string       `yaml:"source,omitempty" json:"source,omitempty"`
	Note       string       `yaml:"note,omitempty" json:"note,omitempty"`
}

// YearlyDate is a date that recurs every year, MM-DD.
type YearlyDate struct {
	On         string     `yaml:"on" json:"on"`
	What       string     `yaml:"what" json:"what"`
	Confidence Confidence `yaml:"confidence" json:"confidence"`
	Source     string     `yaml:"source,omitempty" json:"source,omitempty"`
}

// StepRecurrence is a recurring step's schedule as shown in a plan.
type StepRecurrence struct {
	Text       string     `json:"text"`
	Confidence Confidence `json:"confidence"`
	// Next lists the next date of each yearly update, soonest first.
	Next   []DueDate `json:"next,omitempty"`
	Source string    `json:"source,omitempty"` // URL or citation
	Note   string    `json:"note,omitempty"`
}

// DueDate is one upcoming date of a recurring step.
type DueDate struct {
	On         string     `json:"on"` // YYYY-MM-DD
	What       string     `json:"what"`
	Confidence Confidence `json:"confidence"`
}

// checkReminder validates a training's reminder; called by compileCatalog
// once credential codes are known.
func (c *compiled) checkReminder(fs *apierr.Fields, path string, r *Reminder) {
	if r == nil {
		return
	}
	switch r.For {
	case ForHolders:
		if len(r.Holders) == 0 {
			fs.Add(path+".holders", "required when for is holders")
		}
		for i, code := range r.Holders {
			if !hasKey(c.cred, code) {
				fs.Add(fmt.Sprintf("%s.holders[%d]", path, i), "unknown credential %q", code)
			}
		}
	case ForNewHire, ForEveryone:
		if len(r.Holders) > 0 {
			fs.Add(path+".holders", "only allowed when for is holders")
		}
	default:
		fs.Add(path+".for", "unknown audience %q; allowed: %s, %s, %s", r.For, ForHolders, ForNewHire, ForEveryone)
	}
	rp := path + ".recurrence"
	if strings.TrimSpace(r.Recurrence.Text) == "" {
		fs.Add(rp+".text", "required")
	}
	checkConfidence(fs, rp+".confidence", r.Recurrence.Confidence)
	c.checkSource(fs, rp+".source", r.Recurrence.Source, r.Recurrence.Confidence == Confirmed || r.Recurrence.Confidence == Secondary)
	if r.Recurrence.Confidence == Unknown && len(r.Recurrence.Yearly) > 0 {
		fs.Add(rp+".yearly", "an unknown recurrence has no dates")
	}
	for i, y := range r.Recurrence.Yearly {
		yp := fmt.Sprintf("%s.yearly[%d]", rp, i)
		if _, err := time.Parse("01-02", y.On); err != nil {
			fs.Add(yp+".on", "want MM-DD, got %q", y.On)
		}
		if y.What == "" {
			fs.Add(yp+".what", "required")
		}
		if y.Confidence != Confirmed && y.Confidence != Secondary {
			fs.Add(yp+".confidence", "must be confirmed or secondary, got %q", y.Confidence)
		}
		c.checkSource(fs, yp+".source", y.Source, true)
	}
}

func checkConfidence(fs *apierr.Fields, path string, c Confidence) {
	switch c {
	case Confirmed, Secondary, Estimate, Unknown:
	default:
		fs.Add(path, "must be confirmed, secondary, estimate or unknown, got %q", c)
	}
}

// reminderFor reports whether the reminder concerns the seeker, and why.
func (e *engine) reminderFor(r *Reminder) (string, bool) {
	switch r.For {
	case ForHolders:
		var held []string
		for _, code := range r.Holders {
			if ci, ok := e.cat.c.cred[code]; ok && e.prof.current()&bit(ci) != 0 {
				held = append(held, code)
			}
		}
		if len(held) == 0 {
			return "", false
		}
		return "keeps your " + joinAnd(held) + " current: continuing education on code-set changes counts toward your renewal CEUs", true
	case ForNewHire:
		if e.prof.expIn(-1) > 0 {
			return "", false
		}
		return "when you start your first health-information job", true
	case ForEveryone:
		return "for anyone who works with health records", true
	}
	return "", false
}

// recurrence works out the next date of each yearly update after today.
func (e *engine) recurrence(r *Recurrence) *StepRecurrence {
	sr := &StepRecurrence{Text: r.Text, Confidence: r.Confidence, Note: r.Note, Source: e.cat.SourceURL(r.Source)}
	for _, y := range r.Yearly {
		d, err := time.Parse("01-02", y.On)
		if err != nil {
			continue // rejected when the catalog loads
		}
		next := time.Date(e.today.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		if !next.After(e.today) {
			next = next.AddDate(1, 0, 0)
		}
		sr.Next = append(sr.Next, DueDate{On: next.Format(time.DateOnly), What: y.What, Confidence: y.Confidence})
	}
	slices.SortStableFunc(sr.Next, func(a, b DueDate) int { return strings.Compare(a.On, b.On) })
	return sr
}

// renewalSteps turn renewal groups that need action into steps that come
// before everything else: CEUs to log while in grace, a lapsed credential
// to reinstate, or CEUs still missing from a cycle that ends within
// renewalSoonDays. The wording of the action is the renewal report's.
func (e *engine) renewalSteps(recerts []Recert) []ranked {
	var out []ranked
	for _, r := range recerts {
		codes := joinAnd(r.Credentials)
		s := Step{Kind: KindRenewal, Code: strings.Join(r.Credentials, "+"), Unlocks: []string{}}
		status := r.IssuerStatus
		switch {
		case r.Status == RecertLapsed:
			if status == "" {
				status = "lapsed"
			}
			s.Title = fmt.Sprintf("Reinstate %s (%s)", codes, r.Issuer)
			s.Why = fmt.Sprintf("Your %s is %s: it counts for no eligibility and no role until %s reinstates it", codes, status, r.Issuer)
			s.Notes = append(s.Notes, capitalize(r.Action))
		case r.Status == RecertInGrace && r.Action != "":
			s.Title = fmt.Sprintf("%s (%s)", capitalize(r.Action), codes)
			s.Why = fmt.Sprintf("Your %s cycle ended on %s short of its requirements (%s of %s CEUs logged); you have %d days left to complete it",
				codes, r.CycleEnd, ceuText(r.CEUsLogged), intText(r.CEUsRequired), r.DaysLeft)
			if status != "" {
				s.Why += fmt.Sprintf(" (%s lists it as %s meanwhile)", r.Issuer, status)
			}
		case r.Status == RecertActive && r.Action != "" && r.DaysLeft <= renewalSoonDays:
			s.Title = fmt.Sprintf("%s (%s)", capitalize(r.Action), codes)
			s.Why = fmt.Sprintf("Your %s cycle ends %s, %d days from now, with %s of %s CEUs logged",
				codes, r.CycleEnd, r.DaysLeft, ceuText(r.CEUsLogged), intText(r.CEUsRequired))
		default:
			continue
		}
		s.Notes = append(s.Notes, r.Notes...)
		// Urgency: a grace period about to end, then a lapsed credential,
		// then a cycle about to end.
		urgency := float64(r.DaysLeft)
		switch r.Status {
		case RecertLapsed:
			urgency = 1e6
		case RecertActive:
			urgency += 2e6
		}
		out = append(out, ranked{Step: s, tier: tierUrgent, cred: -1, benefit: urgency})
	}
	slices.SortStableFunc(out, func(a, b ranked) int { return cmp.Compare(a.benefit, b.benefit) })
	for i := range out {
		out[i].Score = float64(len(out) - i)
	}
	return out
}

func intText(v *int) string {
	if v == nil {
		return "unknown"
	}
	return fmt.Sprint(*v)
}

// renewalSoonDays is how close a cycle end must be for missing CEUs to
// become a step of their own.
const renewalSoonDays = 180

func ceuText(v float64) string { return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0") }

// KindRenewal is a step that keeps a held credential: CEUs to log, or a
// lapsed credential to reinstate.
const KindRenewal = "renewal"
