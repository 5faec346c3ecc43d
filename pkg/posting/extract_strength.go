package posting

import (
	"bytes"
	"cmp"
	"slices"
)

// mention is one credential or degree found in a clause.
type mention struct {
	id       string
	rank     int // education level rank
	eligible bool
	at       int // offset in the text
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
			m := mention{id: tk.t.id, rank: tk.t.rank, eligible: pendingEligible, at: tk.start}
			pendingEligible = false
			if cur >= 0 {
				r := &runs[cur]
				gap := lower[min(gapFrom, tk.start):tk.start]
				o, ok := gapOp(gap)
				if !ok && len(gap) <= 48 && r.ms[len(r.ms)-1].id == m.id && bytes.HasSuffix(bytes.TrimRight(gap, " "), []byte("(")) {
					// "Registered Health Information Administrator or
					// Technician (RHIA/RHIT)": the codes in parentheses
					// restate the name, and what follows them joins it.
					o, ok = opParen, true
				}
				if ok {
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
			o, ok := gapOp(lower[min(gapFrom, tk.start):tk.start])
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
			case "either", "both", "a", "an", "the", "active", "current", "valid", "certification", "certifications", "coding",
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
	// next[i] is the first "or"/"and" at or after ops[i]; one backward pass
	// keeps long lists linear.
	ops := make([]op, len(r.ops))
	next := opList
	for i := len(r.ops) - 1; i >= 0; i-- {
		if o := r.ops[i]; o == opOr || o == opAnd {
			next = o
		}
		ops[i] = next
	}
	prev := opOr // no explicit connector at all: alternatives
	for i := range ops {
		if o := r.ops[i]; o == opOr || o == opAnd {
			prev = o
		}
		if ops[i] == opList {
			ops[i] = prev
		}
	}
	gs := []group{{}}
	for i, m := range r.ms {
		if i > 0 && ops[i-1] == opAnd {
			gs = append(gs, group{at: m.at})
		}
		g := &gs[len(gs)-1]
		if len(g.ms) == 0 {
			g.at = m.at
		}
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
	at       int // offset of its first mention
}

// clauseCtx holds what the strength of a run depends on.
type clauseCtx struct {
	lower      []byte
	start, end int
	cues       []token
	sec        section
	employer   bool
	toks       []token
}

// ownRequirements reports whether the clause also states experience or
// education (asked only when a cue offers an alternative).
func (c *clauseCtx) ownRequirements() bool {
	return slices.ContainsFunc(c.toks, func(tk token) bool { return tk.t.kind == kindEducation }) || statesExperience(c.lower[c.start:c.end])
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
	// Cues are sorted and never overlap runs: look only between the
	// neighbouring runs, so a clause costs time linear in its cues.
	first, _ := slices.BinarySearchFunc(c.cues, lo, func(tk token, pos int) int { return cmp.Compare(tk.start, pos) })
	for j := first; j < len(c.cues) && c.cues[j].start < hi; j++ {
		tk := &c.cues[j]
		switch {
		case tk.end <= r.start && tk.start >= lo && tk.t.dir != dirPost:
			if tk.t.immediate {
				if _, ok := gapOp(c.lower[tk.end:r.start]); !ok {
					continue
				}
			}
			if pre != nil && pre.strength == strengthAlternative && tk.t.strength == strengthRequired {
				continue // "we will also consider candidates with a CCA"
			}
			if pre != nil && pre.strength == strengthPreferred && tk.t.strength == strengthNegated {
				post = append(post, pre) // "Preferred, not required: CCS"
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
		e.negated = append(e.negated, gs...) // unless a "but" clause says otherwise
	case has(strengthNegated):
		// "RHIT preferred, not required" or "not required but preferred".
		for _, g := range gs {
			e.apply(g, strengthPreferred)
		}
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
	case has(strengthEligible):
		c.eligibleGroups(e, gs, pre, post)
	case has(strengthBenefit):
		// offered, not asked for: nothing to record
	case has(strengthAlternative):
		c.alternativeGroups(e, gs)
	default:
		c.cuedGroups(e, gs, pre, post)
	}
}

// eligibleGroups applies an eligibility cue ("or eligible", "the ability
// to obtain it") to the groups of a run.
func (c *clauseCtx) eligibleGroups(e *extraction, gs []group, pre *target, post []*target) {
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
}

// alternativeGroups applies a cue that opens an alternative ("will be
// considered", "we will also consider") to the groups of a run.
func (c *clauseCtx) alternativeGroups(e *extraction, gs []group) {
	// "CPC-A will be considered" widens the last group; "we will also
	// consider a CCS with 3 years of coding" is a route of its own.
	if e.override == nil && c.ownRequirements() && e.alternativeRoute(slices.ContainsFunc(c.toks, func(tk token) bool { return tk.t.kind == kindEducation })) {
		for _, g := range gs {
			e.apply(g, eligibleOr(g, strengthRequired))
		}
		return
	}
	for _, g := range gs {
		if g.eligible || e.joinLast(g) {
			if g.eligible {
				e.apply(g, strengthEligible)
			}
			continue
		}
		// "CPC strongly preferred; will hire CPC-A": what is preferred
		// is also a way to meet the requirement.
		for _, id := range e.linePreferred {
			if !slices.ContainsFunc(g.ms, func(m mention) bool { return m.id == id }) {
				g.ms = append(g.ms, mention{id: id, at: g.at})
			}
		}
		e.apply(g, strengthRequired)
	}
}

// cuedGroups applies the required or preferred cues before and after a run
// to its groups, else the section's strength, else required.
func (c *clauseCtx) cuedGroups(e *extraction, gs []group, pre *target, post []*target) {
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
		// "Preferred: RHIA and CCS required": as above, the trailing cue
		// belongs to the last group, the leading one to the others.
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
	at := runs[i].start
	for _, g := range runs[i].groups() {
		low := 0
		for _, m := range g.ms {
			if low == 0 || m.rank < low {
				low = m.rank
			}
		}
		level = max(level, low)
	}
	e.addEducation(at, level)
}
