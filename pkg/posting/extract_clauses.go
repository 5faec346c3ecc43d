package posting

import (
	"bytes"
	"slices"
	"strings"
)

// scan reads one text: line by line, with the section set by the last
// heading, and clause by clause within a line. A description's layout
// (lists of ways to qualify, level ladders) is read first, so that each
// requirement goes to its route.
func (x *Extractor) scan(canon string, e *extraction, isTitle bool) {
	if canon == "" {
		return
	}
	lower := lowerASCII(e.lower[:0], canon)
	e.lower = lower[:0]
	toks := x.expandFamilies(lower, x.text.match(canon, lower, e.scratch), e.scratch)
	lines := e.lines[:0]
	t := 0
	for ls := 0; ls < len(canon); {
		le := strings.IndexByte(canon[ls:], '\n')
		if le < 0 {
			le = len(canon)
		} else {
			le += ls
		}
		t0 := t
		for t < len(toks) && toks[t].start < le {
			t++
		}
		l := lineInfo{ls: ls, le: le, t0: t0, t1: t}
		l.cs, l.bulleted = lineContent(lower, ls, le)
		if !isTitle {
			lineShape(canon, lower, &l, toks[t0:t])
			if !l.bulleted && !l.blank {
				l.sec, l.heading = x.heading(lower[l.cs:le], toks[t0:t])
			}
		}
		lines = append(lines, l)
		ls = le + 1
	}
	e.lines = lines[:0]
	if !isTitle {
		x.layout(canon, lines, toks, e)
	}
	sec := sectionNeutral
	e.lastGroup = -1
	for i := range lines {
		l := &lines[i]
		if l.heading {
			sec = l.sec
			e.lastGroup = -1
		}
		e.lineAt, e.cuts, e.cutAt = l.at, e.cuts[:0], e.cutAt[:0]
		e.linePreferred = e.linePreferred[:0]
		lineToks := toks[l.t0:l.t1]
		if !isTitle && !l.blank {
			e.lineCuts(canon, lower, l, lineToks)
		}
		x.line(lower, l.cs, l.le, lineToks, sec, e)
	}
	e.lineAt, e.cuts, e.cutAt = slot{}, e.cuts[:0], e.cutAt[:0]
}

// lineCuts finds the alternatives within a line (see splits) and gives each
// an item: of a new block, or of the block the line is already an item of.
func (e *extraction) lineCuts(canon string, lower []byte, l *lineInfo, toks []token) {
	cuts, preamble := splits(canon, lower, l.cs, l.le, toks, e.cuts[:0])
	e.cuts = cuts
	if len(cuts) == 0 || e.dropped(l.at) {
		e.cuts = e.cuts[:0]
		return
	}
	b, rank := l.at.block, 0
	if b != 0 {
		rank = e.blocks[b-1].ranks[l.at.item-1]
	}
	if b == 0 {
		b = e.newBlock(false)
		if !preamble {
			// The text before the first cut is the first alternative.
			e.lineAt = e.newItem(b, rank)
		}
	}
	for range cuts {
		e.cutAt = append(e.cutAt, e.newItem(b, rank))
	}
}

// lineContent skips leading spaces and a bullet ("- ", "* ", "1. ", "2) ").
func lineContent(lower []byte, ls, le int) (int, bool) {
	for ls < le && lower[ls] == ' ' {
		ls++
	}
	i := ls
	for i < le && i-ls < 3 && lower[i] >= '0' && lower[i] <= '9' {
		i++
	}
	if i > ls && i < le && (lower[i] == '.' || lower[i] == ')') && i+1 < le && lower[i+1] == ' ' {
		return skipSpaces(lower, i+1, le), true
	}
	if ls < le && (lower[ls] == '-' || lower[ls] == '*' || lower[ls] == '+' || lower[ls] == '>') && ls+1 < le && lower[ls+1] == ' ' {
		return skipSpaces(lower, ls+1, le), true
	}
	return ls, false
}

func skipSpaces(b []byte, i, end int) int {
	for i < end && b[i] == ' ' {
		i++
	}
	return i
}

// heading reports whether a line is a section heading, and which section it
// opens: a short line ending in ":", or a very short line naming a known
// section ("Preferred Qualifications", "BENEFITS"). A line naming a
// credential or a degree is content, not a heading.
func (x *Extractor) heading(line []byte, toks []token) (section, bool) {
	for _, tk := range toks {
		if tk.t.kind == kindCredential || tk.t.kind == kindEducation {
			return 0, false
		}
	}
	line = bytes.TrimRight(line, " ")
	if len(line) == 0 || len(line) > 60 {
		return 0, false
	}
	words := 1 + bytes.Count(line, []byte(" "))
	colon := line[len(line)-1] == ':'
	s, found := sectionNeutral, false
	for _, h := range x.headings {
		for _, w := range h.words {
			if bytes.Contains(line, w) {
				s, found = h.section, true
				break
			}
		}
		if found {
			break
		}
	}
	switch last := line[len(line)-1]; {
	case colon && words <= 8:
		return s, true
	case found && words <= 6 && last != '.' && last != ',' && last != ';':
		return s, true
	}
	return 0, false
}

// line splits a line into clauses at sentence ends, semicolons, table cell
// bars, spaced dashes and clause-breaking words ("but", "however"), but never
// inside a dictionary term ("Certified Coding Specialist - Physician-based").
func (x *Extractor) line(lower []byte, ls, le int, toks []token, sec section, e *extraction) {
	// Every index only moves forward, so a line costs time linear in its
	// length and tokens, however many clauses it has.
	start := ls
	first := 0  // toks[first:] lie in the current clause or after it
	inTerm := 0 // toks[:inTerm] end before the candidate break
	words := 0  // the next clause-breaking word at or after p
	for p := ls; p <= le; {
		// The next candidate break: punctuation, a clause-breaking word, or
		// the end of the line.
		q := le
		if i := bytes.IndexAny(lower[p:le], ";|.!?-"); i >= 0 {
			q = p + i
		}
		for words < len(toks) && (toks[words].start < p || toks[words].t.kind != kindClauseBreak) {
			words++
		}
		word := words < len(toks) && toks[words].start <= q && toks[words].start > start
		if word {
			q = toks[words].start
		}
		next := q + 1 // where the clause after a break starts
		if q < le {
			brk := word
			if word {
				next = q // the word belongs to the clause it opens
				words++
			} else {
				switch lower[q] {
				case ';', '|':
					brk = true
				case '.', '!', '?':
					brk = (q+1 == le || lower[q+1] == ' ') && !abbreviation(lower[start:q])
				case '-':
					brk = q > ls && lower[q-1] == ' ' && q+1 < le && lower[q+1] == ' '
				}
			}
			for inTerm < len(toks) && toks[inTerm].end <= q {
				inTerm++
			}
			if !brk || (!word && inTerm < len(toks) && toks[inTerm].start < q) {
				p = q + 1
				continue
			}
		}
		last := first
		for last < len(toks) && toks[last].start < q {
			last++
		}
		if start < q {
			x.clause(lower, start, q, toks[first:last], sec, e)
		}
		first = last
		start = next
		p = max(next, q+1)
	}
}

// abbreviation reports whether the text before a full stop ends in an
// abbreviation ("e.g.", "B.S.", "approx.") rather than a sentence.
func abbreviation(before []byte) bool {
	i := len(before)
	for i > 0 && before[i-1] != ' ' && before[i-1] != '(' && len(before)-i < 16 {
		i--
	}
	w := string(before[i:])
	if len(w) <= 1 || strings.Contains(w, ".") {
		return true
	}
	switch w {
	case "eg", "ie", "etc", "vs", "st", "dr", "no", "approx", "incl", "jr", "sr", "inc", "dept", "min", "max", "yrs", "hrs", "mr", "ms", "mrs":
		return true
	}
	return false
}

// clause reads the facts of one clause and resolves the strength of the
// credentials and degrees in it.
func (x *Extractor) clause(lower []byte, start, end int, toks []token, sec section, e *extraction) {
	c, m := e.scanClause(lower, start, end, toks, sec)
	negated := e.negated
	e.negated = nil
	if sec == sectionIgnore {
		return
	}
	defer func() { e.override, e.discardExperience = nil, false }()
	runs := buildRuns(lower, toks, kindCredential)
	e.substitute(&c, m, len(runs) > 0)
	// "RHIT is not required but is highly desirable": a clause opened by
	// "but" that names no credential turns the negated ones before it into
	// a preference.
	if len(negated) > 0 && len(runs) == 0 && len(toks) > 0 && toks[0].start == start && toks[0].t.kind == kindClauseBreak &&
		slices.ContainsFunc(c.cues, func(tk token) bool { return tk.t.strength == strengthPreferred }) {
		for _, g := range negated {
			e.apply(g, strengthPreferred)
		}
	}
	for i := range runs {
		c.credentials(runs, i, e)
	}
	runs = buildRuns(lower, toks, kindEducation)
	for i := range runs {
		c.education(runs, i, e)
	}
	c.experience(e)
}

// clauseMarks is what a clause says about the requirements around it.
type clauseMarks struct {
	forCredential bool // "experience may be substituted for certification"
	forExperience bool // "a degree may substitute for the required experience"
	forEducation  bool // "in lieu of a degree, 4 years of experience"
	lieuAt        int  // where the substitution is stated; -1 when none is
	everyRoute    bool // "… is required of all candidates"
}

// scanClause records the facts a clause names (code sets, systems, skills,
// work mode) and returns the clause with its cues, and its marks.
func (e *extraction) scanClause(lower []byte, start, end int, toks []token, sec section) (clauseCtx, clauseMarks) {
	c := clauseCtx{lower: lower, start: start, end: end, sec: sec, toks: toks}
	m := clauseMarks{lieuAt: -1}
	for _, tk := range toks {
		switch tk.t.kind {
		case kindCodeSet, kindEHR, kindEncoder, kindSkill, kindWorkMode:
			e.addFact(tk.t)
		case kindInLieu:
			var what standsFor
			m.lieuAt, what = inLieu(lower, start, end, tk, sec)
			switch what {
			case standsForCredential:
				m.forCredential = true
			case standsForExperience:
				m.forExperience = true
			case standsForEducation:
				m.forEducation = true
				e.inLieu = true
			}
		case kindEveryRoute:
			m.everyRoute = true
		case kindEmployer:
			c.employer = true
		case kindCue:
			c.cues = append(c.cues, tk)
		}
	}
	return c, m
}

// substitute applies what the clause stands in for: a route of its own for
// experience in place of a credential or of the required experience, months
// in place of a degree, or requirements asked of every route.
func (e *extraction) substitute(c *clauseCtx, m clauseMarks, namesCredentials bool) {
	text := c.lower[c.start:c.end]
	// "Three years of coding experience may be substituted for the
	// certification": the experience is a route beside the credential
	// required before it.
	if m.forCredential && !namesCredentials && statesExperience(text) && e.slotAt(c.start).block == 0 {
		e.alternativeRoute(false)
	}
	hasEducation := func() bool {
		return slices.ContainsFunc(c.toks, func(tk token) bool { return tk.t.kind == kindEducation })
	}
	switch {
	case m.everyRoute:
		// "… is required of all candidates", whatever alternative the
		// clause sits in.
		e.override = &slot{}
	case m.forExperience && e.slotAt(c.start).block == 0 && hasEducation():
		e.educationRoute()
	case m.forEducation && e.slotAt(m.lieuAt).block == 0 && statesExperience(text):
		// "In lieu of a degree, 4 years of experience will be accepted",
		// "Two years of coding experience can replace the associate degree
		// requirement": the years stand in for the degree, in a route of
		// their own, and are not asked of graduates too.
		if months, _, ok := firstDuration(string(text)); ok {
			e.lieuMonths = max(e.lieuMonths, months)
			e.discardExperience = true
		}
	}
}

// addFact records a code set, EHR system, encoder, skill or work mode the
// posting names.
func (e *extraction) addFact(t *target) {
	switch t.kind {
	case kindCodeSet:
		e.codeSets = addUnique(e.codeSets, t.id)
	case kindEHR:
		e.ehrs = addUnique(e.ehrs, t.id)
	case kindEncoder:
		e.encoders = addUnique(e.encoders, t.id)
	case kindSkill:
		e.skills = addUnique(e.skills, t.id)
	case kindWorkMode:
		e.textMode = bestMode(e.textMode, t.id)
	}
}

// standsFor is what an "in lieu of" term says the clause's other
// requirement stands in for.
type standsFor uint8

const (
	standsForNothing standsFor = iota
	standsForCredential
	standsForExperience
	standsForEducation
)

// inLieu reads the "in lieu of" term tk of the clause lower[start:end]:
// what stands in for what, from the words after the term up to a comma,
// unless the term names it ("in lieu of a degree"). at is where the term
// starts, or -1 when it only sets credentials against each other.
func inLieu(lower []byte, start, end int, tk token, sec section) (at int, what standsFor) {
	term := lower[tk.start:tk.end]
	after := lower[tk.end:min(end, tk.end+40)]
	if i := bytes.IndexAny(after, ",;"); i >= 0 {
		after = after[:i]
	}
	generic := false
	switch string(term) {
	case "in lieu of", "in place of", "instead of", "can replace", "may replace", "can substitute for":
		generic = true
	}
	if bytes.Contains(term, []byte("degree")) || bytes.Contains(term, []byte("education")) {
		after = nil
	}
	switch {
	case bytes.Contains(after, []byte("certif")) || bytes.Contains(after, []byte("credential")):
		// "3 years of experience in lieu of certification" stands
		// in for a credential, not for education.
		return tk.start, standsForCredential
	case containsWord(after, "experience") && !containsWord(lower[start:tk.start], "experience"):
		// "a degree may substitute for the required experience":
		// education in place of experience.
		return tk.start, standsForExperience
	case generic && !containsWord(after, "degree") && !containsWord(after, "education") && !containsWord(after, "diploma"):
		return -1, standsForNothing // "CIC in lieu of the CCS": credentials, read by gapOp
	case sec != sectionIgnore:
		return tk.start, standsForEducation
	}
	return tk.start, standsForNothing
}
