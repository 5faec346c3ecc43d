package posting

import (
	"bytes"
	"slices"
	"strings"
)

// experience records the months of experience a clause requires: the
// first figure in the clause (the headline; "five years of coding, with two
// years of auditing" is five), the most across clauses. Its strength comes
// from the cues in its comma-separated part of the clause ("2 years of
// billing experience, pediatric experience preferred"), else from a cue
// before that part, else from the section. A clause that holds
// alternatives ("RN with 3 years …, OR RHIA with 3 years …") is read part
// by part.
func (c *clauseCtx) experience(e *extraction) {
	start := c.start
	i, _ := slices.BinarySearch(e.cuts, start+1)
	if i == len(e.cuts) || e.cuts[i] >= c.end {
		c.experiencePart(e, false)
		return
	}
	// "2 years of inpatient coding, or 1 year with an RHIT": a part may
	// leave the kind of experience to the clause.
	said := experienceWord(c.lower[c.start:c.end])
	for ; i < len(e.cuts) && e.cuts[i] < c.end; i++ {
		c.experienceIn(e, start, e.cuts[i], said)
		start = e.cuts[i]
	}
	c.experienceIn(e, start, c.end, said)
}

// experienceIn reads the experience of the part [start, end) of a clause.
func (c *clauseCtx) experienceIn(e *extraction, start, end int, said bool) {
	c0 := *c
	c0.start, c0.end = start, end
	c0.experiencePart(e, said)
}

// experienceWord reports whether text says what a duration is of.
func experienceWord(text []byte) bool {
	if containsWord(text, "experience") || containsWord(text, "exp") || containsWord(text, "coding") || containsWord(text, "work") || containsWord(text, "working") {
		return true
	}
	// "Two years in a hospital HIM department", "1 year at a clinic".
	for _, unit := range [...]string{"years in a", "year in a", "years at a", "year at a", "months in a", "months at a", "yrs in a"} {
		if bytes.Contains(text, []byte(unit)) {
			return true
		}
	}
	return false
}

func (c *clauseCtx) experiencePart(e *extraction, said bool) {
	text := c.lower[c.start:c.end]
	if !bytes.Contains(text, []byte("year")) && !bytes.Contains(text, []byte("month")) && !bytes.Contains(text, []byte("yr")) {
		return // most clauses: no duration, nothing to do
	}
	if !said && !experienceWord(text) {
		return
	}
	months, at, ok := firstDuration(string(text))
	if !ok {
		return
	}
	lo, hi := c.start, c.end
	if i := bytes.LastIndexByte(text[:at], ','); i >= 0 {
		lo = c.start + i + 1
	}
	if i := bytes.IndexByte(text[at:], ','); i >= 0 {
		hi = c.start + at + i
	}
	// The first cue after the figure in its part, else the last before it.
	s := strengthNone
	for _, tk := range c.cues {
		if tk.t.strength != strengthRequired && tk.t.strength != strengthPreferred {
			continue
		}
		if tk.start >= c.start+at && tk.end <= hi && tk.t.dir != dirPre {
			s = tk.t.strength
			break
		}
		if tk.end <= c.start+at && (tk.start >= lo || tk.t.dir != dirPost) {
			s = tk.t.strength
		}
	}
	switch s {
	case strengthPreferred:
		return
	case strengthNone:
		if c.sec == sectionPreferred || (c.sec == sectionNeutral && c.employer) {
			return
		}
	}
	e.addExperience(c.start+at, months)
}

// statesExperience reports whether a clause states a duration of
// experience, as experience reads it.
func statesExperience(text []byte) bool {
	if !bytes.Contains(text, []byte("year")) && !bytes.Contains(text, []byte("month")) && !bytes.Contains(text, []byte("yr")) {
		return false
	}
	if !experienceWord(text) {
		return false
	}
	_, _, ok := firstDuration(string(text))
	return ok
}

// experienceMonths returns the first duration in lower-cased text ("2
// years", "two (2) years", "1+ year", "1-2 years", "6 months") in months.
func experienceMonths(lower string) (int, bool) {
	months, _, ok := firstDuration(lower)
	return months, ok
}

// firstDuration finds the first duration in lower and its offset. Durations
// after "within", "after", "last" and the like are deadlines or history, not
// experience.
func firstDuration(lower string) (months, at int, ok bool) {
	type word struct {
		w  string
		at int
	}
	var stack [48]word
	words := stack[:0]
	for i := 0; i < len(lower); {
		if !durationByte(lower[i]) {
			i++
			continue
		}
		j := i
		for j < len(lower) && durationByte(lower[j]) {
			j++
		}
		words = append(words, word{lower[i:j], i})
		i = j
	}
	for i, w := range words {
		n, isNum := numberWord(strings.TrimSuffix(w.w, "+"))
		if !isNum {
			continue
		}
		if i > 0 {
			switch words[i-1].w {
			case "within", "after", "last", "past", "first", "every", "per", "in", "over", "for", "than":
				continue
			}
		}
		j := i + 1
		// "two (2) years", "1-2 years", "1 to 2 years", "3 plus years";
		// never across a colon or a sentence ("GS-6: One year").
		for j < len(words) && j <= i+3 && chains(lower[words[j-1].at+len(words[j-1].w):words[j].at]) {
			if _, isNum := numberWord(strings.TrimSuffix(words[j].w, "+")); isNum || words[j].w == "to" || words[j].w == "plus" || words[j].w == "+" || words[j].w == "full" {
				j++
				continue
			}
			break
		}
		if j >= len(words) {
			continue
		}
		m := 0
		switch words[j].w {
		case "year", "years", "yr", "yrs":
			m = n * 12
		case "month", "months", "mo", "mos":
			m = n
		}
		if j+1 < len(words) {
			switch words[j+1].w {
			case "course", "courses", "program", "programs", "degree", "degrees", "college", "university", "institution":
				continue // "a 4-year course of study", "a two-year degree"
			}
		}
		if m > 0 && m <= 600 {
			return m, w.at, true
		}
	}
	return 0, 0, false
}

// chains reports whether the text between two words of a duration joins
// them ("two (2) years", "1-2 years"): never a colon, a sentence or a list
// marker ("GS-6: One year", "3) 1 yr").
func chains(gap string) bool {
	return !strings.ContainsAny(gap, ":;,.") && (!strings.Contains(gap, ")") || strings.Contains(gap, "("))
}

func durationByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' }

func numberWord(w string) (int, bool) {
	switch w {
	case "a", "one":
		return 1, true
	case "two":
		return 2, true
	case "three":
		return 3, true
	case "four":
		return 4, true
	case "five":
		return 5, true
	case "six":
		return 6, true
	case "seven":
		return 7, true
	case "eight":
		return 8, true
	case "nine":
		return 9, true
	case "ten":
		return 10, true
	case "eleven":
		return 11, true
	case "twelve":
		return 12, true
	case "eighteen":
		return 18, true
	case "twenty":
		return 20, true
	case "twenty-four":
		return 24, true
	}
	if len(w) == 0 || len(w) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return 0, false
		}
		n = n*10 + int(w[i]-'0')
	}
	return n, true
}

func containsWord(text []byte, w string) bool {
	for i := 0; ; {
		j := bytes.Index(text[i:], []byte(w))
		if j < 0 {
			return false
		}
		j += i
		if (j == 0 || !isWordByte(text[j-1])) && (j+len(w) == len(text) || !isWordByte(text[j+len(w)])) {
			return true
		}
		i = j + 1
	}
}
