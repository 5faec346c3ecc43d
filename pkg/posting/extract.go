package posting

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
)

// Education is a minimum education level, ordered from lowest to highest;
// the empty value means the posting states none.
type Education string

const (
	EducationNone        Education = ""
	EducationHighSchool  Education = "high_school"
	EducationCertificate Education = "certificate" // a postsecondary non-degree award
	EducationAssociate   Education = "associate"
	EducationBachelor    Education = "bachelor"
	EducationMaster      Education = "master"
)

// Rank orders education levels: 0 for none or unknown, then 1 (high school)
// to 5 (master's).
func (e Education) Rank() int {
	switch e {
	case EducationHighSchool:
		return 1
	case EducationCertificate:
		return 2
	case EducationAssociate:
		return 3
	case EducationBachelor:
		return 4
	case EducationMaster:
		return 5
	}
	return 0
}

// Requirements is what a posting asks of a candidate, and what the job is.
// Lists are sorted and never nil, so the JSON form always has arrays.
type Requirements struct {
	Role     string `json:"role"`     // e.g. "coder", "cancer_registrar"; "" when the title matches no rule
	SOCCode  string `json:"soc_code"` // O*NET-SOC, e.g. "29-2072.00"
	WorkMode string `json:"work_mode"`

	// CredentialsRequired lists groups of alternatives: a candidate needs one
	// credential from every group. "RHIT and (CCS or CIC)" is
	// [["RHIT"], ["CCS", "CIC"]].
	CredentialsRequired [][]string `json:"credentials_required"`
	// CredentialsPreferred are wanted but not needed.
	CredentialsPreferred []string `json:"credentials_preferred"`
	// CredentialsOrEligible are needed, but being eligible for them (or
	// obtaining them within a period after hire) is enough.
	CredentialsOrEligible []string `json:"credentials_or_eligible"`

	EducationMin                Education `json:"education_min"`
	ExperienceMonthsMin         int       `json:"experience_months_min"`
	ExperienceInLieuOfEducation bool      `json:"experience_in_lieu_of_education"`

	CodeSets   []string `json:"code_sets"`   // ICD-10-CM, ICD-10-PCS, CPT, HCPCS, …
	EHRSystems []string `json:"ehr_systems"` // Epic, Oracle Health (Cerner), …
	Encoders   []string `json:"encoders"`    // 3M, Optum, …
	Skills     []string `json:"skills"`      // release_of_information, hipaa, …
}

// Extract reads the requirements of a posting from its title and plain-text
// description with the DefaultExtractor.
func Extract(title, text string) Requirements {
	return DefaultExtractor().Extract(title, text)
}

// Extract reads the requirements of a posting from its title and plain-text
// description (run HTML through PlainText first).
//
// Credentials are found by the dictionary's codes and full names. Their
// strength comes from cue words in the same clause ("required", "preferred",
// "or eligible", "not required", "we pay for your … exam"), then from the
// section heading above them ("Preferred Qualifications"), and is "required"
// by default, except in sentences about the employer's own staff. Credentials
// joined by "or", "/" or commas form one group of alternatives; "and" and
// "with" start a new group.
func (x *Extractor) Extract(title, text string) Requirements {
	var e extraction
	e.lastGroup = -1
	t := foldText(title)
	x.titleFacts(t, &e)
	x.scan(t, &e, true)
	x.scan(foldText(text), &e, false)
	return e.result()
}

// token is one dictionary match in the text.
type token struct {
	start, end int
	t          *target
}

// match finds the dictionary terms in lower (canon lower-cased, same
// offsets). Where matches overlap the leftmost, then longest, wins.
func (a *automaton) match(canon string, lower []byte, out []token) []token {
	type cand struct{ start, end, pat int }
	var cands []cand
	a.trie.Walk(lower, func(end, n, pat int64) bool {
		s, e, p := int(end-n+1), int(end+1), int(pat)
		if a.wordStart[p] && s > 0 && isWordByte(lower[s-1]) {
			return true
		}
		if a.wordEnd[p] && e < len(lower) && isWordByte(lower[e]) {
			return true
		}
		for _, t := range a.targets[p] {
			if t.exact == "" || canon[s:e] == t.exact {
				cands = append(cands, cand{s, e, p})
				break
			}
		}
		return true
	})
	slices.SortFunc(cands, func(x, y cand) int {
		if c := cmp.Compare(x.start, y.start); c != 0 {
			return c
		}
		return cmp.Compare(y.end, x.end)
	})
	next := 0
	for _, c := range cands {
		if c.start < next {
			continue
		}
		next = c.end
		for i := range a.targets[c.pat] {
			t := &a.targets[c.pat][i]
			if t.exact == "" || canon[c.start:c.end] == t.exact {
				out = append(out, token{c.start, c.end, t})
			}
		}
	}
	return out
}

// titleFacts reads the role, its SOC code and any work mode from the title.
func (x *Extractor) titleFacts(title string, e *extraction) {
	lower := lowerASCII(nil, title)
	best := (*target)(nil)
	for _, tk := range x.title.match(title, lower, nil) {
		switch tk.t.kind {
		case kindRole:
			if best == nil || tk.t.rank < best.rank {
				best = tk.t
			}
		case kindWorkMode:
			e.titleMode = bestMode(e.titleMode, tk.t.id)
		}
	}
	if best != nil {
		e.role, e.soc = best.id, best.soc
	}
}

// bestMode keeps the more specific of two work modes: a posting that says
// both "remote" and "hybrid" is hybrid, and "remote" beats "onsite" (which
// postings say of their offices even when the job is remote).
func bestMode(a, b string) string {
	rank := func(m string) int {
		switch m {
		case "hybrid":
			return 3
		case "remote":
			return 2
		case "onsite":
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// scan reads one text: line by line, with the section set by the last
// heading, and clause by clause within a line.
func (x *Extractor) scan(canon string, e *extraction, isTitle bool) {
	if canon == "" {
		return
	}
	lower := lowerASCII(e.lower[:0], canon)
	e.lower = lower
	toks := x.text.match(canon, lower, e.toks[:0])
	e.toks = toks
	sec := sectionNeutral
	e.lastGroup = -1
	for ls := 0; ls < len(canon); {
		le := strings.IndexByte(canon[ls:], '\n')
		if le < 0 {
			le = len(canon)
		} else {
			le += ls
		}
		n := 0
		for n < len(toks) && toks[n].start < le {
			n++
		}
		lineToks := toks[:n]
		toks = toks[n:]
		cs, bulleted := lineContent(lower, ls, le)
		if !bulleted && !isTitle {
			if s, ok := x.heading(lower[cs:le], lineToks); ok {
				sec = s
				e.lastGroup = -1
			}
		}
		x.line(lower, cs, le, lineToks, sec, e)
		ls = le + 1
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
	for len(line) > 0 && line[len(line)-1] == ' ' {
		line = line[:len(line)-1]
	}
	if len(line) == 0 || len(line) > 60 {
		return 0, false
	}
	words := len(strings.Fields(string(line)))
	colon := line[len(line)-1] == ':'
	s, found := sectionNeutral, false
	for _, h := range x.headings {
		for _, w := range h.words {
			if strings.Contains(string(line), w) {
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
// bars, spaced dashes and clause-breaking words ("but", "however").
func (x *Extractor) line(lower []byte, ls, le int, toks []token, sec section, e *extraction) {
	start := ls
	k := 0
	for p := ls; p <= le; p++ {
		brk := p == le
		if !brk {
			switch lower[p] {
			case ';', '|':
				brk = true
			case '.', '!', '?':
				brk = (p+1 == le || lower[p+1] == ' ') && !abbreviation(lower[start:p])
			case '-':
				brk = p > ls && lower[p-1] == ' ' && p+1 < le && lower[p+1] == ' '
			}
			for k < len(toks) && toks[k].end <= p {
				k++
			}
			if k < len(toks) && toks[k].start < p {
				brk = false // inside a term: "Certified Coding Specialist - Physician-based"
			} else if k < len(toks) && toks[k].start == p && toks[k].t.kind == kindClauseBreak && p > start {
				brk = true
			}
		}
		if !brk {
			continue
		}
		n := 0
		for n < len(toks) && toks[n].start < p {
			n++
		}
		if start < p {
			x.clause(lower, start, p, toks[:n], sec, e)
		}
		toks = toks[n:]
		k = 0
		start = p + 1
		if p < le && lower[p] != ';' && lower[p] != '|' && lower[p] != '.' && lower[p] != '!' && lower[p] != '?' && lower[p] != '-' {
			start = p // a clause-breaking word belongs to the next clause
		}
	}
}

// abbreviation reports whether the text before a full stop ends in an
// abbreviation ("e.g.", "B.S.", "approx.") rather than a sentence.
func abbreviation(before []byte) bool {
	i := len(before)
	for i > 0 && before[i-1] != ' ' && before[i-1] != '(' {
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
	employer := false
	var cues []token
	for _, tk := range toks {
		switch tk.t.kind {
		case kindCodeSet:
			e.codeSets = addUnique(e.codeSets, tk.t.id)
		case kindEHR:
			e.ehrs = addUnique(e.ehrs, tk.t.id)
		case kindEncoder:
			e.encoders = addUnique(e.encoders, tk.t.id)
		case kindSkill:
			e.skills = addUnique(e.skills, tk.t.id)
		case kindWorkMode:
			e.textMode = bestMode(e.textMode, tk.t.id)
		case kindInLieu:
			if sec != sectionIgnore {
				e.inLieu = true
			}
		case kindEmployer:
			employer = true
		case kindCue:
			cues = append(cues, tk)
		}
	}
	if sec == sectionIgnore {
		return
	}
	c := clauseCtx{lower: lower, start: start, end: end, cues: cues, sec: sec, employer: employer}
	runs := buildRuns(lower, toks, kindCredential)
	for i := range runs {
		c.credentials(runs, i, e)
	}
	runs = buildRuns(lower, toks, kindEducation)
	for i := range runs {
		c.education(runs, i, e)
	}
	c.experience(e)
}

// mention is one credential or degree found in a clause.
type mention struct {
	id       string
	rank     int // education level rank
	eligible bool
}

// op joins two mentions of a run.
type op uint8

const (
	opList  op = iota // a comma or nothing: takes the meaning of the nearest "or"/"and"
	opOr              // "or", "/", "and/or"
	opAnd             // "and", "&", "with", "as well as"
	opParen           // "(" alone: "Certified Tumor Registrar (CTR)"
)

// run is a list of mentions joined only by connecting words: "RHIT, RHIA or
// CCS", "RHIT and (CCS or CIC)".
type run struct {
	ms         []mention
	ops        []op // ops[i] joins ms[i] and ms[i+1]
	start, end int
}

// buildRuns groups the mentions of kind k in a clause into runs. An
// eligibility marker right after a credential ("RHIT-eligible", "RHIT or
// eligible") marks it, and one between alternatives ("RHIA or progress
// toward the RHIA") marks the next; neither ends the run.
func buildRuns(lower []byte, toks []token, k kind) []run {
	var runs []run
	cur := -1
	gapFrom := 0             // where the text between the last mention and the next starts
	pendingEligible := false // an eligibility cue stands between the last mention and the next
	for _, tk := range toks {
		switch {
		case tk.t.kind == k:
			m := mention{id: tk.t.id, rank: tk.t.rank, eligible: pendingEligible}
			pendingEligible = false
			if cur >= 0 {
				r := &runs[cur]
				if o, ok := gapOp(lower[gapFrom:tk.start]); ok {
					last := &r.ms[len(r.ms)-1]
					switch {
					case last.id == m.id && o != opAnd:
						// The same credential again: a code after its name.
						last.eligible = last.eligible || m.eligible
					case o == opParen:
						// "CRC certification (CPC or CCS …)": what the
						// parenthesis holds is a clause of its own.
						ok = false
					default:
						r.ms = append(r.ms, m)
						r.ops = append(r.ops, o)
					}
					if ok {
						r.end, gapFrom = tk.end, tk.end
						continue
					}
				}
				m.eligible = false
			}
			runs = append(runs, run{ms: []mention{m}, start: tk.start, end: tk.end})
			cur, gapFrom = len(runs)-1, tk.end
		case k == kindCredential && cur >= 0 && tk.t.kind == kindCue && tk.t.strength == strengthEligible && tk.start >= gapFrom:
			o, ok := gapOp(lower[gapFrom:tk.start])
			switch {
			case !ok:
			case tk.t.immediate && tk.t.dir == dirPost && !pendingEligible:
				r := &runs[cur]
				r.ms[len(r.ms)-1].eligible = true
				r.end, gapFrom = tk.end, tk.end
			case tk.t.dir != dirPost && o == opOr:
				pendingEligible, gapFrom = true, tk.end
			}
		}
	}
	return runs
}

// gapOp reads the text between two mentions. It returns false unless the
// text holds only connecting words and punctuation.
func gapOp(gap []byte) (op, bool) {
	if len(gap) > 48 {
		return 0, false
	}
	or, and, paren := false, false, false
	// "CIC in lieu of the CCS": one credential offered in place of another.
	for _, alt := range [...]string{"in lieu of", "in place of", "instead of"} {
		if i := bytes.Index(gap, []byte(alt)); i >= 0 {
			if op, ok := gapOp(append(append([]byte(nil), gap[:i]...), gap[i+len(alt):]...)); ok && op != opAnd {
				return opOr, true
			}
			return 0, false
		}
	}
	for i := 0; i < len(gap); {
		c := gap[i]
		if isWordByte(c) {
			j := i
			for j < len(gap) && isWordByte(gap[j]) {
				j++
			}
			switch string(gap[i:j]) {
			case "or":
				or = true
			case "and", "with", "well":
				and = true
			case "either", "both", "a", "an", "the", "active", "current", "valid", "certification", "certifications",
				"certified", "credential", "credentials", "credentialed", "from", "through", "via", "by", "ahima", "aapc",
				"nha", "ncra", "acdis", "hcca", "hfma", "as", "one", "of", "following", "any", "s", "also":
			default:
				return 0, false
			}
			i = j
			continue
		}
		switch c {
		case '/':
			or = true
		case '&':
			and = true
		case '(':
			paren = true
		case ',', ')', ' ', '-', ':', '\'', '"', '*', '[', ']':
		default:
			if c < 0x80 {
				return 0, false
			}
			// ®, ™ and other non-ASCII symbols after a code.
		}
		i++
	}
	switch {
	case or:
		return opOr, true
	case and:
		return opAnd, true
	case paren:
		return opParen, true
	}
	return opList, true
}

// groups splits a run into groups of alternatives. A comma takes the meaning
// of the nearest explicit connector after it ("RHIT, RHIA or CCS"), else
// before it; a bare list counts as alternatives, the usual meaning of
// "CCS, CPC, CIC" in a posting.
func (r *run) groups() []group {
	ops := make([]op, len(r.ops))
	copy(ops, r.ops)
	for i, o := range ops {
		if o != opList && o != opParen {
			continue
		}
		ops[i] = opOr
		found := false
		for j := i + 1; j < len(r.ops); j++ {
			if r.ops[j] == opOr || r.ops[j] == opAnd {
				ops[i], found = r.ops[j], true
				break
			}
		}
		for j := i - 1; !found && j >= 0; j-- {
			if r.ops[j] == opOr || r.ops[j] == opAnd {
				ops[i], found = r.ops[j], true
			}
		}
	}
	gs := []group{{}}
	for i, m := range r.ms {
		if i > 0 && ops[i-1] == opAnd {
			gs = append(gs, group{})
		}
		g := &gs[len(gs)-1]
		g.eligible = g.eligible || m.eligible
		if !slices.ContainsFunc(g.ms, func(x mention) bool { return x.id == m.id }) {
			g.ms = append(g.ms, m)
		}
	}
	return gs
}

type group struct {
	ms       []mention
	eligible bool
}

// clauseCtx holds what the strength of a run depends on.
type clauseCtx struct {
	lower      []byte
	start, end int
	cues       []token
	sec        section
	employer   bool
}

// cuesOf returns the cue just before run i (after the previous run) and the
// cues after it (before the next run). Immediate cues count only when
// nothing but connecting words stand between them and the run.
func (c *clauseCtx) cuesOf(runs []run, i int) (pre *target, post []*target) {
	r := runs[i]
	lo, hi := c.start, c.end
	if i > 0 {
		lo = runs[i-1].end
	}
	if i+1 < len(runs) {
		hi = runs[i+1].start
	}
	for j := range c.cues {
		tk := &c.cues[j]
		switch {
		case tk.end <= r.start && tk.start >= lo && tk.t.dir != dirPost:
			if tk.t.immediate {
				if _, ok := gapOp(c.lower[tk.end:r.start]); !ok {
					continue
				}
			}
			pre = tk.t
		case tk.start >= r.end && tk.end <= hi && tk.t.dir != dirPre:
			if tk.t.immediate {
				if _, ok := gapOp(c.lower[r.end:tk.start]); !ok {
					continue
				}
			}
			post = append(post, tk.t)
		}
	}
	return pre, post
}

// credentials resolves the strength of credential run i and records it.
func (c *clauseCtx) credentials(runs []run, i int, e *extraction) {
	pre, post := c.cuesOf(runs, i)
	has := func(s strength) bool {
		return (pre != nil && pre.strength == s) || slices.ContainsFunc(post, func(t *target) bool { return t.strength == s })
	}
	gs := runs[i].groups()
	switch {
	case has(strengthNegated) && !has(strengthPreferred):
		return
	case firstStrength(post) == strengthPreferred:
		// "RHIA or progress toward the RHIA preferred": a preference, even
		// for eligibility. "Must have RHIT and CCS preferred": the trailing
		// cue belongs to the last group, the leading one to the others.
		last := gs
		if len(gs) > 1 && pre != nil && pre.strength == strengthRequired {
			for _, g := range gs[:len(gs)-1] {
				e.apply(g, eligibleOr(g, strengthRequired))
			}
			last = gs[len(gs)-1:]
		}
		for _, g := range last {
			e.apply(g, strengthPreferred)
		}
		return
	case has(strengthEligible):
		// "You'll need an active CPC or CCS, and the CPMA (or the ability
		// to obtain it)": the eligibility cue after the run belongs to its
		// last group when a different cue leads the run.
		if len(gs) > 1 && pre != nil && pre.strength != strengthEligible && firstStrength(post) == strengthEligible {
			for _, g := range gs[:len(gs)-1] {
				e.apply(g, c.strengthOf(pre.strength))
			}
			e.apply(gs[len(gs)-1], strengthEligible)
			return
		}
		for _, g := range gs {
			e.apply(g, strengthEligible)
		}
		return
	case has(strengthBenefit):
		return
	case has(strengthAlternative):
		for _, g := range gs {
			if g.eligible || !e.joinLast(g) {
				e.apply(g, eligibleOr(g, strengthRequired))
			}
		}
		return
	}
	preS := strengthNone
	if pre != nil && (pre.strength == strengthRequired || pre.strength == strengthPreferred) {
		preS = pre.strength
	}
	postS := firstStrength(post)
	if postS != strengthRequired && postS != strengthPreferred {
		postS = strengthNone
	}
	var s strength
	switch {
	case preS != strengthNone && postS != strengthNone && preS != postS && len(gs) > 1:
		// "Must have RHIT and CCS preferred": the trailing cue belongs to
		// the last group, the leading one to the others.
		for _, g := range gs[:len(gs)-1] {
			e.apply(g, eligibleOr(g, preS))
		}
		e.apply(gs[len(gs)-1], eligibleOr(gs[len(gs)-1], postS))
		return
	case postS != strengthNone:
		s = postS
	case preS != strengthNone:
		s = preS
	case c.sec == sectionRequired:
		s = strengthRequired
	case c.sec == sectionPreferred:
		s = strengthPreferred
	case c.employer:
		return // "our team of RHITs and CCS coders"
	default:
		s = strengthRequired
	}
	for _, g := range gs {
		e.apply(g, eligibleOr(g, s))
	}
}

// eligibleOr is the strength of a group that would otherwise have s: a group
// with an "-eligible" member is satisfied by eligibility.
func eligibleOr(g group, s strength) strength {
	if g.eligible {
		return strengthEligible
	}
	return s
}

// strengthOf maps a cue strength that cannot stand for a credential group
// (negated, benefit, alternative) to the clause's default.
func (c *clauseCtx) strengthOf(s strength) strength {
	if s == strengthRequired || s == strengthPreferred || s == strengthEligible {
		return s
	}
	if c.sec == sectionPreferred {
		return strengthPreferred
	}
	return strengthRequired
}

func firstStrength(ts []*target) strength {
	for _, t := range ts {
		if t.strength != strengthNone {
			return t.strength
		}
	}
	return strengthNone
}

// education records the level of degree run i when the posting requires it:
// the lowest alternative within a group, the highest across "and" groups.
func (c *clauseCtx) education(runs []run, i int, e *extraction) {
	pre, post := c.cuesOf(runs, i)
	s := firstStrength(post)
	if s == strengthNone && pre != nil {
		s = pre.strength
	}
	switch s {
	case strengthPreferred, strengthNegated, strengthBenefit:
		return
	case strengthNone:
		if c.sec == sectionPreferred || (c.sec == sectionNeutral && c.employer) {
			return
		}
	}
	level := 0
	for _, g := range runs[i].groups() {
		low := 0
		for _, m := range g.ms {
			if low == 0 || m.rank < low {
				low = m.rank
			}
		}
		level = max(level, low)
	}
	e.eduRank = max(e.eduRank, level)
}

// experience records the months of experience a clause requires: the
// first figure in the clause (the headline; "five years of coding, with two
// years of auditing" is five), the most across clauses. Its strength comes
// from the cues in its comma-separated part of the clause ("2 years of
// billing experience, pediatric experience preferred"), else from a cue
// before that part, else from the section.
func (c *clauseCtx) experience(e *extraction) {
	text := c.lower[c.start:c.end]
	if !containsWord(text, "experience") && !containsWord(text, "exp") && !containsWord(text, "coding") {
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
	s := strengthNone
	for _, tk := range c.cues {
		if tk.start >= lo && tk.end <= hi && (tk.t.strength == strengthRequired || tk.t.strength == strengthPreferred) && s != strengthRequired {
			s = tk.t.strength
		}
	}
	if s == strengthNone {
		for _, tk := range c.cues {
			if tk.end <= lo && tk.t.dir != dirPost && (tk.t.strength == strengthRequired || tk.t.strength == strengthPreferred) {
				s = tk.t.strength
			}
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
	e.expMonths = max(e.expMonths, months)
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
	var words []word
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
		// "two (2) years", "1-2 years", "1 to 2 years", "3 plus years"
		for j < len(words) && j <= i+3 {
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
		if m > 0 && m <= 600 {
			return m, w.at, true
		}
	}
	return 0, 0, false
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
	s := string(text)
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		j += i
		if (j == 0 || !isWordByte(s[j-1])) && (j+len(w) == len(s) || !isWordByte(s[j+len(w)])) {
			return true
		}
		i = j + 1
	}
}

// extraction accumulates the facts of one Extract call.
type extraction struct {
	lower []byte
	toks  []token

	role, soc          string
	titleMode          string
	textMode           string
	required           [][]string
	lastGroup          int // index in required of the last group, for "CPC-A will be considered"
	preferred          []string
	orEligible         []string
	eduRank, expMonths int
	inLieu             bool
	codeSets, ehrs     []string
	encoders, skills   []string
}

func (e *extraction) apply(g group, s strength) {
	ids := make([]string, len(g.ms))
	for i, m := range g.ms {
		ids[i] = m.id
	}
	switch s {
	case strengthRequired:
		e.required = append(e.required, ids)
		e.lastGroup = len(e.required) - 1
	case strengthPreferred:
		for _, id := range ids {
			e.preferred = addUnique(e.preferred, id)
		}
	case strengthEligible:
		for _, id := range ids {
			e.orEligible = addUnique(e.orEligible, id)
		}
	}
}

// joinLast adds g's credentials to the last required group, as alternatives.
func (e *extraction) joinLast(g group) bool {
	if e.lastGroup < 0 || e.lastGroup >= len(e.required) {
		return false
	}
	for _, m := range g.ms {
		e.required[e.lastGroup] = addUnique(e.required[e.lastGroup], m.id)
	}
	return true
}

// result consolidates: a group with a member that eligibility satisfies is
// satisfied by eligibility as a whole; groups implied by a smaller group go;
// a credential strictly required or or-eligible is not also "preferred".
func (e *extraction) result() Requirements {
	var req [][]string
	for _, g := range e.required {
		g = slices.Clone(g)
		slices.Sort(g)
		if slices.ContainsFunc(g, func(id string) bool { return slices.Contains(e.orEligible, id) }) {
			for _, id := range g {
				e.orEligible = addUnique(e.orEligible, id)
			}
			continue
		}
		req = append(req, g)
	}
	var groups [][]string
	for i, g := range req {
		implied := false
		for j, h := range req {
			if i != j && isSubset(h, g) && (len(h) < len(g) || j < i) {
				implied = true // h is stricter, or an earlier copy of g
				break
			}
		}
		if !implied {
			groups = append(groups, g)
		}
	}
	var pref []string
	for _, id := range e.preferred {
		strict := slices.Contains(e.orEligible, id) || slices.ContainsFunc(groups, func(g []string) bool { return len(g) == 1 && g[0] == id })
		if !strict {
			pref = append(pref, id)
		}
	}
	mode := e.titleMode
	if mode == "" {
		mode = e.textMode
	}
	r := Requirements{
		Role:                        e.role,
		SOCCode:                     e.soc,
		WorkMode:                    mode,
		CredentialsRequired:         groups,
		CredentialsPreferred:        sorted(pref),
		CredentialsOrEligible:       sorted(e.orEligible),
		EducationMin:                educationOfRank(e.eduRank),
		ExperienceMonthsMin:         e.expMonths,
		ExperienceInLieuOfEducation: e.inLieu,
		CodeSets:                    sorted(e.codeSets),
		EHRSystems:                  sorted(e.ehrs),
		Encoders:                    sorted(e.encoders),
		Skills:                      sorted(e.skills),
	}
	if r.CredentialsRequired == nil {
		r.CredentialsRequired = [][]string{}
	}
	return r
}

func educationOfRank(rank int) Education {
	for _, e := range [...]Education{EducationHighSchool, EducationCertificate, EducationAssociate, EducationBachelor, EducationMaster} {
		if e.Rank() == rank {
			return e
		}
	}
	return EducationNone
}

func isSubset(small, big []string) bool {
	for _, s := range small {
		if !slices.Contains(big, s) {
			return false
		}
	}
	return true
}

func addUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// sorted returns list sorted, and an empty slice for none so that JSON shows
// [] rather than null.
func sorted(list []string) []string {
	if len(list) == 0 {
		return []string{}
	}
	slices.Sort(list)
	return list
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lowerASCII appends s with ASCII letters lower-cased to dst. Other bytes are
// kept, so offsets in the result are offsets in s.
func lowerASCII(dst []byte, s string) []byte {
	dst = append(dst, s...)
	b := dst[len(dst)-len(s):]
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return dst
}
