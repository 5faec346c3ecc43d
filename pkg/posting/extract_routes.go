package posting

import (
	"bytes"
	"slices"
	"strings"
)

// A posting often lists ways to qualify rather than requirements: "one of
// the following: 1. an associate degree; 2. RHIT or RHIA; 3. two years of
// experience", a federal "Experience … OR Education …", "RHIT, RHIA or CCS;
// or 3 years of coding experience in lieu of certification", a level ladder
// ("Coder I: … Coder II: …"). The extractor reads each requirement into a
// slot: block 0 holds what every route requires, and an item of another
// block is one alternative of that block. A route is the global slot plus
// one item of every block (see routes).

// slot says where a requirement belongs: block 0 is every route; otherwise
// item (1-based) of block.
type slot struct{ block, item int }

// block is one list of alternatives. A ladder's items are levels: only the
// lowest advertised level counts, the others are dropped.
type block struct {
	ladder bool
	lines  bool  // a list of lines (under an opener, or joined by "OR")
	ranks  []int // per item: its level on a ladder, else 0
	low    int   // the lowest rank of a ladder
}

// lineInfo is what the layout pass knows of one line of a description.
type lineInfo struct {
	ls, le, cs int // line start, end, content start (after a bullet)
	t0, t1     int // its tokens are toks[t0:t1]
	bulleted   bool
	blank      bool
	heading    bool
	sec        section
	orLine     bool // the line says only "or"
	endsOr     bool // the line ends with the word "or" ("…; OR")
	startsOr   bool // the line starts with the word "or"
	opener     bool // the line ends in ":" after "one of the following" or the like
	rank       int  // a level label at its start ("Coder II", "Level 1:"): its level
	track      bool // the label names a track or option: an alternative, not a level
	at         slot // the slot of the line's requirements
}

// maxBlocks and maxItems bound the lists of alternatives of one posting, so
// that junk full of "or" and ";" costs linear time; real postings have one
// or two lists of two to four ways in. Beyond them, the last block (item)
// is reused.
const (
	maxBlocks = 32
	maxItems  = 16
)

// newBlock opens a block and returns its number.
func (e *extraction) newBlock(ladder bool) int {
	if len(e.blocks) == maxBlocks && !ladder && !e.blocks[maxBlocks-1].ladder {
		return maxBlocks
	}
	if len(e.blocks) == maxBlocks {
		return 0 // no room: every route
	}
	e.blocks = append(e.blocks, block{ladder: ladder})
	return len(e.blocks)
}

// newItem adds an item of the given rank to block b and returns its slot.
func (e *extraction) newItem(b, rank int) slot {
	if b == 0 {
		return slot{}
	}
	bl := &e.blocks[b-1]
	if len(bl.ranks) == maxItems {
		return slot{b, maxItems}
	}
	bl.ranks = append(bl.ranks, rank)
	return slot{b, len(bl.ranks)}
}

// dropped reports whether requirements in s are discarded: those of a
// ladder's higher levels.
func (e *extraction) dropped(s slot) bool {
	if s.block == 0 {
		return false
	}
	b := &e.blocks[s.block-1]
	return b.ladder && b.ranks[s.item-1] != b.low
}

// layout reads the structure of a description's lines: level ladders,
// lists of ways to qualify under an opener ("must meet one of the
// following:"), and lines joined by a line saying "OR". It sets each
// line's slot.
func (x *Extractor) layout(canon string, lines []lineInfo, toks []token, e *extraction) {
	if !slices.ContainsFunc(lines, func(l lineInfo) bool { return l.rank > 0 }) {
		namedLevels(canon, e.title, lines, toks)
	}
	e.levelLadder(lines)
	e.openerLists(lines)
	e.orJoinedLines(lines)
}

// levelLadder makes a block of a level ladder: two or more lines that
// open with a level label of different levels. An item runs from its label
// to a blank line or the next label.
func (e *extraction) levelLadder(lines []lineInfo) {
	first, levels := 0, 0
	for i := range lines {
		if r := lines[i].rank; r > 0 && first == 0 {
			first, levels = r, 1
		} else if r > 0 && r != first {
			levels = 2
		}
	}
	// Tracks ("Records track: … Coding track: …") are two ways in.
	tracks := slices.ContainsFunc(lines, func(l lineInfo) bool { return l.track })
	if b := 0; levels >= 2 {
		b = e.newBlock(!tracks)
		e.blocks[b-1].lines = tracks
		cur := slot{}
		for i := range lines {
			l := &lines[i]
			switch {
			case l.rank > 0:
				cur = e.newItem(b, l.rank)
			case l.blank || l.heading:
				cur = slot{}
			}
			if cur.block != 0 {
				l.at = cur
			}
		}
		bl := &e.blocks[b-1]
		bl.low = slices.Min(bl.ranks)
		if tracks {
			clear(bl.ranks) // every track counts
		}
	}
}

// openerLists makes a block of each list under an opener: each line (or
// each bullet, if the first item is one) is an item, up to a blank line, a
// heading or, for a bulleted list, the first line that is not a bullet.
// Lines saying only "or" between items are part of the list.
func (e *extraction) openerLists(lines []lineInfo) {
	for i := 0; i < len(lines); i++ {
		if !lines[i].opener || lines[i].at.block != 0 {
			continue
		}
		b := 0
		j := i + 1
		for j < len(lines) && lines[j].blank {
			j++
		}
		bulleted := j < len(lines) && lines[j].bulleted
		for ; j < len(lines); j++ {
			l := &lines[j]
			if l.blank {
				// A blank line ends the list unless an "or" joins the
				// next item to it.
				k := j + 1
				for k < len(lines) && lines[k].blank {
					k++
				}
				if k < len(lines) && (lines[k].orLine || lines[k].startsOr || lines[j-1].orLine || lines[j-1].endsOr) {
					continue
				}
				break
			}
			if l.orLine {
				continue
			}
			if l.at.block != 0 || l.heading || l.opener || (bulleted && !l.bulleted) {
				break
			}
			if b == 0 {
				b = e.newBlock(false)
				if b != 0 {
					e.blocks[b-1].lines = true
				}
			}
			l.at = e.newItem(b, 0)
		}
		i = j - 1
	}
}

// orJoinedLines makes alternatives of lines joined by "or": a line saying
// only "or" joins the content lines around it; a line ending (starting) in
// "or" joins the next (previous) one.
func (e *extraction) orJoinedLines(lines []lineInfo) {
	prev := -1
	joinNext := false
	for i := range lines {
		l := &lines[i]
		if l.blank || l.heading {
			if l.heading {
				prev, joinNext = -1, false
			}
			continue
		}
		if l.orLine {
			joinNext = prev >= 0
			continue
		}
		if p := prev; p >= 0 && (joinNext || l.startsOr) && l.at.block == 0 {
			if lines[p].at.block == 0 {
				lines[p].at = e.newItem(e.newBlock(false), 0)
				if b := lines[p].at.block; b != 0 {
					e.blocks[b-1].lines = true
				}
			}
			if lines[p].at.block != 0 && !e.blocks[lines[p].at.block-1].ladder {
				l.at = e.newItem(lines[p].at.block, 0)
			}
		}
		joinNext = l.endsOr
		prev = i
	}
}

// lineShape fills the layout facts of a line that need only its text.
func lineShape(canon string, lower []byte, l *lineInfo, toks []token) {
	text := bytes.TrimRight(lower[l.cs:l.le], " ")
	if len(text) == 0 {
		l.blank = true
		return
	}
	trim := bytes.Trim(text, " ;,.:-*")
	l.orLine = string(trim) == "or"
	if !l.orLine {
		l.endsOr = hasWordSuffix(text, "or")
		l.startsOr = bytes.HasPrefix(text, []byte("or "))
	}
	for _, tk := range toks {
		if tk.t.kind != kindOpener {
			continue
		}
		// A list follows: the line ends in ":", or the opener ends the
		// line ("must satisfy one of the options below.").
		rest := bytes.Trim(lower[tk.end:l.cs+len(text)], " .:")
		rest = bytes.TrimPrefix(rest, []byte("below"))
		if text[len(text)-1] == ':' || len(bytes.Trim(rest, " .:")) == 0 {
			l.opener = true
		}
	}
	l.rank = levelLabel(canon[l.cs:l.cs+len(text)], l.cs, toks)
}

// hasWordSuffix reports whether text ends with the word w, perhaps after
// punctuation ("…; OR").
func hasWordSuffix(text []byte, w string) bool {
	text = bytes.TrimRight(text, " ")
	if !bytes.HasSuffix(text, []byte(w)) {
		return false
	}
	i := len(text) - len(w)
	return i == 0 || !isWordByte(text[i-1])
}

// levelLabel returns the level a line opens with ("Coder II", "Coding
// Specialist I", "Level 2: …", "Tier One -"), or 0. The label is the text
// before a colon, or the whole of a short line; it must have two to five
// words, end in a level numeral and name no credential.
func levelLabel(line string, start int, toks []token) int {
	label := line
	if i := strings.IndexByte(line, ':'); i >= 0 && i <= 48 {
		label = line[:i]
	} else if len(line) > 48 {
		return 0
	}
	label = strings.TrimRight(label, " -")
	// Most lines have no level label: look for a level word or a final
	// roman numeral before walking the words.
	if n := len(label); n < 3 || label[n-1] != 'I' && label[n-1] != 'V' && !levelHint(label) {
		return 0
	}
	// Walk the label's words without allocating: a roman numeral as its
	// last word ("Coder II"), or a level word and a number anywhere
	// ("Level 2", "Tier 1 Coder (trainee)", "GS-5").
	rank, words := 0, 0
	prev := ""
	for i := 0; i < len(label); {
		if !isWordByte(label[i]) {
			i++
			continue
		}
		j := i
		for j < len(label) && isWordByte(label[j]) {
			j++
		}
		w := label[i:j]
		words++
		if rank == 0 && prev != "" && levelWord(prev) {
			rank = levelNumber(w)
		}
		if j == len(label) || strings.TrimRight(label[j:], " )") == "" {
			switch w {
			case "I":
				rank = 1
			case "II":
				rank = 2
			case "III":
				rank = 3
			case "IV":
				rank = 4
			case "V":
				rank = 5
			}
		}
		prev, i = w, j
	}
	if rank == 0 || words < 2 || words > 6 {
		return 0
	}
	for _, tk := range toks {
		if (tk.t.kind == kindCredential || tk.t.kind == kindEducation) && tk.start < start+len(label) {
			return 0
		}
	}
	return rank
}

// levelHint reports whether a label may hold a level number: a digit,
// or a number word ("Tier One"), found in one pass.
func levelHint(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			return true
		}
		if i > 0 && isWordByte(s[i-1]) || i+3 > len(s) {
			continue
		}
		switch c | 0x20 {
		case 'o', 't', 'f':
			w := s[i : i+3]
			if strings.EqualFold(w, "one") || strings.EqualFold(w, "two") || strings.EqualFold(w, "thr") || strings.EqualFold(w, "fou") || strings.EqualFold(w, "fiv") {
				return true
			}
		}
	}
	return false
}

// levelWord reports whether w names a level of a ladder.
func levelWord(w string) bool {
	for _, l := range [...]string{"level", "tier", "grade", "gs", "band", "step"} {
		if strings.EqualFold(w, l) {
			return true
		}
	}
	return false
}

// levelNumber reads "1" to "15" and "one" to "five", else 0.
func levelNumber(w string) int {
	if n, ok := numberWord(w); ok && n >= 1 && n <= 15 && w[0] >= '0' && w[0] <= '9' {
		return n
	}
	for i, n := range [...]string{"one", "two", "three", "four", "five"} {
		if strings.EqualFold(w, n) {
			return i + 1
		}
	}
	return 0
}

// namedLevels finds a ladder of named levels: two or more lines opening
// with a label ("HIM Associate: …", "HIM Specialist: …") that the
// posting's title names ("HIM Associate / HIM Specialist"). Postings list
// levels from the lowest, so a label's rank is its order.
func namedLevels(canon, title string, lines []lineInfo, toks []token) {
	if title == "" {
		return
	}
	var seen [8]string
	n := 0
	for i := range lines {
		l := &lines[i]
		if l.blank || l.heading {
			continue
		}
		text := canon[l.cs:l.le]
		c := strings.IndexByte(text, ':')
		if c <= 0 || c > 48 {
			continue
		}
		label := strings.TrimSpace(text[:c])
		words := 1 + strings.Count(label, " ")
		// "Entry-level candidates:" names the level "Entry-Level".
		name := label
		track := false
		for _, w := range [...]string{" candidates", " candidate", " applicants", " applicant", " level", " role", " position", " track", " option", " path"} {
			if len(name) > len(w) && strings.EqualFold(name[len(name)-len(w):], w) {
				name = name[:len(name)-len(w)]
				track = w == " track" || w == " option" || w == " path"
				break
			}
		}
		if words < 2 || words > 5 || len(name) > len(title) || !containsFold(title, name) {
			continue
		}
		if slices.ContainsFunc(toks[l.t0:l.t1], func(tk token) bool {
			return (tk.t.kind == kindCredential || tk.t.kind == kindEducation) && tk.start < l.cs+c
		}) {
			continue
		}
		rank := slices.IndexFunc(seen[:n], func(s string) bool { return strings.EqualFold(s, name) }) + 1
		if rank == 0 {
			if n == len(seen) {
				continue
			}
			seen[n] = name
			n++
			rank = n
		}
		l.rank, l.track = rank, track
	}
	if n < 2 {
		for i := range lines {
			lines[i].rank, lines[i].track = 0, false
		}
	}
}

// containsFold reports whether s contains sub, ignoring ASCII case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func splitWords(s string) []string {
	var words []string
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		words = append(words, s[i:j])
		i = j
	}
	return words
}

// atom is a requirement's position in a line, for finding where an "or"
// separates alternatives of different kinds.
type atom struct {
	start, end int
	k          kind // kindCredential, kindEducation, or kindCue for a duration
}

// splits finds where a line's alternatives begin: after an opener that the
// line goes on past ("must meet one of the following: (a) …; (b) …") at
// every semicolon and "(b)"-style marker; anywhere at "; or", at an "OR"
// in capitals in a line that is not all capitals, at "or (b)", and at an
// "or" between requirements of different kinds ("CCS, or 4 years of
// experience", "an associate degree or two years of experience"). It
// returns the split points, ascending, and whether the text before the
// first one is a preamble rather than the first alternative.
func splits(canon string, lower []byte, ls, le int, toks []token, dst []int) ([]int, bool) {
	text := lower[ls:le]
	preamble := false
	openerEnd := -1
	for _, tk := range toks {
		if tk.t.kind == kindOpener && tk.end < le {
			openerEnd = tk.end
			break
		}
	}
	if openerEnd >= 0 {
		preamble = true
		dst = append(dst, openerEnd)
		for p := openerEnd; p < le; p++ {
			if lower[p] == ';' || marker(lower, p, le) {
				dst = append(dst, p)
			}
		}
	}
	hasOr := (bytes.Contains(text, []byte(" or")) || bytes.HasPrefix(text, []byte("or"))) && containsWord(text, "or")
	if !hasOr {
		return dst, preamble // most lines
	}
	var stack [16]atom
	atoms := stack[:0]
	for _, tk := range toks {
		switch tk.t.kind {
		case kindCredential, kindEducation:
			atoms = append(atoms, atom{tk.start, tk.end, tk.t.kind})
		}
	}
	if bytes.Contains(text, []byte("year")) || bytes.Contains(text, []byte("month")) || bytes.Contains(text, []byte("yr")) {
		atoms = durationAtoms(lower, ls, le, atoms)
		slices.SortFunc(atoms, func(a, b atom) int { return a.start - b.start })
	}
	upper := false
	for i := ls; i < le && !upper; i++ {
		upper = canon[i] >= 'a' && canon[i] <= 'z'
	}
	ti, ai := 0, 0 // toks[ti:] end after p; atoms[:ai] end at or before p
	for p := ls; p+2 <= le; p++ {
		// Jump to the next "or"; most are inside words ("for", "work").
		k := bytes.Index(lower[p:le], []byte("or"))
		if k < 0 {
			break
		}
		p += k
		if (p > ls && isWordByte(lower[p-1])) || (p+2 < le && isWordByte(lower[p+2])) {
			continue
		}
		for ti < len(toks) && toks[ti].end <= p {
			ti++
		}
		if p > ls && lower[p-1] == '/' || ti < len(toks) && toks[ti].start <= p {
			continue // "and/or", "or eligible"
		}
		for ai < len(atoms) && atoms[ai].end <= p {
			ai++
		}
		q := p - 1
		for q >= ls && lower[q] == ' ' {
			q--
		}
		switch {
		case q >= ls && lower[q] == ';':
			dst = append(dst, q)
		case upper && canon[p] == 'O' && canon[p+1] == 'R':
			dst = append(dst, p)
		case marker(lower, skipSpaces(lower, p+2, le), le):
			dst = append(dst, p)
		case ai > 0 && ai < len(atoms) && kindChange(lower, &atoms[ai-1], &atoms[ai], p):
			dst = append(dst, p)
		}
	}
	slices.Sort(dst)
	return slices.Compact(dst), preamble
}

// durationAtoms appends the durations of lower[ls:le] ("2 years", "six
// months"): each unit word is read with the few words before it, so a
// line costs time linear in its length.
func durationAtoms(lower []byte, ls, le int, atoms []atom) []atom {
	from := ls // windows never overlap
	for p := ls; p < le; p++ {
		c := lower[p]
		if c != 'y' && c != 'm' || p > ls && isWordByte(lower[p-1]) {
			continue
		}
		if !bytes.HasPrefix(lower[p:le], []byte("year")) && !bytes.HasPrefix(lower[p:le], []byte("yr")) && !bytes.HasPrefix(lower[p:le], []byte("mo")) {
			continue
		}
		end := p
		for end < le && isWordByte(lower[end]) {
			end++
		}
		start := max(from, p-40)
		if _, at, ok := firstDuration(string(lower[start:end])); ok {
			atoms = append(atoms, atom{start + at, start + at + 1, kindCue})
		}
		from, p = end, end
	}
	return atoms
}

// marker reports whether a list marker "(a)" to "(e)" or "(1)" to "(5)"
// starts at p.
func marker(lower []byte, p, le int) bool {
	if p+2 < le && lower[p] == '(' && lower[p+2] == ')' {
		c := lower[p+1]
		return c >= 'a' && c <= 'e' || c >= '1' && c <= '5'
	}
	// "1) … 2) …": a digit or letter and ")" alone, after a space.
	if p+2 < le && p > 0 && lower[p-1] == ' ' && lower[p+1] == ')' && lower[p+2] == ' ' {
		c := lower[p]
		return c >= 'a' && c <= 'e' || c >= '1' && c <= '5'
	}
	return false
}

// kindChange reports whether the "or" at p joins requirements of different
// kinds: before, the nearest one before it, in the same clause, and after,
// the one right after it, with no comma, "and", "with" or "plus" between.
func kindChange(lower []byte, before, after *atom, p int) bool {
	// Two durations joined by "or" are alternatives too ("2 years of
	// coding, or 1 year with an RHIT").
	if after.start <= p || after.start-p > 64 || before.k == after.k && before.k != kindCue {
		return false
	}
	if p-before.end > 160 || bytes.ContainsAny(lower[before.end:p], ";.") {
		return false
	}
	gap := lower[p+2 : after.start]
	if bytes.ContainsAny(gap, ",;.") {
		return false
	}
	for _, w := range [...]string{"and", "with", "plus"} {
		// "certified coders with one year, or uncertified coders with
		// three years": "with" may stand between two durations.
		if containsWord(gap, w) && !(w == "with" && before.k == kindCue && after.k == kindCue) {
			return false
		}
	}
	return true
}

// routes builds the posting's routes: the global slot's requirements plus
// one item of every block. Items that state nothing readable ("an
// equivalent combination of education and experience") are no route; a
// block with one readable item is part of every route.
func (e *extraction) routes(groups []reqGroup) []Route {
	global, items := e.slotParts(groups)
	combos := []routePart{global}
	for b := range items {
		if alts := e.alternatives(b, items[b]); len(alts) > 0 {
			combos = combineParts(combos, alts)
		}
	}
	return e.routesOf(combos)
}

// routePart is what one slot asks, or what one combination of slots asks:
// credential groups, an education rank and months of experience.
type routePart struct {
	groups   [][]string
	edu, exp int
}

// slotParts gathers the requirements of each slot: the global one, and
// each item of each block.
func (e *extraction) slotParts(groups []reqGroup) (routePart, [][]routePart) {
	var global routePart
	items := make([][]routePart, len(e.blocks))
	for b := range e.blocks {
		items[b] = make([]routePart, len(e.blocks[b].ranks))
	}
	at := func(s slot) *routePart {
		if s.block == 0 {
			return &global
		}
		return &items[s.block-1][s.item-1]
	}
	for _, g := range groups {
		p := at(g.at)
		p.groups = append(p.groups, g.ids)
	}
	for _, v := range e.edu {
		p := at(v.at)
		p.edu = max(p.edu, v.n)
	}
	for _, v := range e.exp {
		p := at(v.at)
		p.exp = max(p.exp, v.n)
	}
	return global, items
}

// alternatives returns the items of block b that are ways in: not dropped
// from a ladder and stating something readable. None when the block offers
// no choice among readable items.
func (e *extraction) alternatives(b int, items []routePart) []routePart {
	var alts []routePart
	unread := 0
	for i, it := range items {
		if e.dropped(slot{b + 1, i + 1}) {
			continue
		}
		if len(it.groups) == 0 && it.edu == 0 && it.exp == 0 {
			unread++
			continue
		}
		alts = append(alts, it)
	}
	// A list of lines with one alternative read and others not ("a
	// medical office certificate", "1 year working at a front desk")
	// still has other ways in: the one read is not required of all.
	if len(alts) == 1 && unread > 0 && e.blocks[b].lines {
		return nil
	}
	return alts
}

// combineParts joins every combination with every alternative, up to
// 4*MaxRoutes combinations.
func combineParts(combos, alts []routePart) []routePart {
	var next []routePart
	for _, c := range combos {
		for _, a := range alts {
			if len(next) == 4*MaxRoutes {
				break
			}
			next = append(next, routePart{
				groups: append(slices.Clip(c.groups), a.groups...),
				edu:    max(c.edu, a.edu),
				exp:    max(c.exp, a.exp),
			})
		}
	}
	return next
}

// routesOf turns the combinations into routes, adding the experience that
// stands in for a degree as a route of its own, and merges them.
func (e *extraction) routesOf(combos []routePart) []Route {
	out := make([]Route, 0, len(combos)+1)
	for _, c := range combos {
		rt := Route{Credentials: c.groups, EducationMin: educationOfRank(c.edu), ExperienceMonthsMin: c.exp}
		if rt.Credentials == nil {
			rt.Credentials = [][]string{}
		}
		out = append(out, rt)
		// "Associate degree or equivalent experience": the experience in
		// place of the degree is a route of its own, keeping a diploma;
		// so are the months stated to stand in for a degree ("in lieu of
		// a degree, 4 years").
		if c.edu > EducationHighSchool.Rank() && (e.inLieu && c.exp > 0 || e.lieuMonths > 0) {
			in := rt
			in.EducationMin = EducationNone
			if e.hsRequired {
				in.EducationMin = EducationHighSchool
			}
			in.ExperienceMonthsMin = max(c.exp, e.lieuMonths)
			out = append(out, in)
		}
	}
	if len(out) <= 1 {
		return out // nothing to merge; SetRoutes canonicalises
	}
	return MergeRoutes(out)
}

// MergeRoutes joins routes that differ only in one credential group into
// one route whose group holds both ("RN with 3 years, or RHIA with 3
// years" is one route, RN or RHIA with 3 years): a candidate meets the
// merged route exactly when they meet one of the two. It repeats until no
// two routes merge.
// The result is canonical (CanonicalRoutes).
func MergeRoutes(routes []Route) []Route {
	routes = CanonicalRoutes(routes)
	for merged := true; merged; {
		merged = false
	outer:
		for i := 0; i < len(routes); i++ {
			for j := i + 1; j < len(routes); j++ {
				if g, ok := mergeable(routes[i], routes[j]); ok {
					routes[i] = g
					routes = slices.Delete(routes, j, j+1)
					merged = true
					break outer
				}
			}
		}
		if merged {
			routes = CanonicalRoutes(routes)
		}
	}
	return routes
}

// mergeable returns a and b merged when they differ only in one group.
func mergeable(a, b Route) (Route, bool) {
	if a.EducationMin != b.EducationMin || a.ExperienceMonthsMin != b.ExperienceMonthsMin || len(a.Credentials) != len(b.Credentials) || len(a.Credentials) == 0 {
		return Route{}, false
	}
	onlyA, onlyB := -1, -1
	for i, g := range a.Credentials {
		if !slices.ContainsFunc(b.Credentials, func(h []string) bool { return slices.Equal(g, h) }) {
			if onlyA >= 0 {
				return Route{}, false
			}
			onlyA = i
		}
	}
	for i, g := range b.Credentials {
		if !slices.ContainsFunc(a.Credentials, func(h []string) bool { return slices.Equal(g, h) }) {
			if onlyB >= 0 {
				return Route{}, false
			}
			onlyB = i
		}
	}
	if onlyA < 0 || onlyB < 0 {
		return a, onlyA < 0 && onlyB < 0
	}
	out := Route{EducationMin: a.EducationMin, ExperienceMonthsMin: a.ExperienceMonthsMin}
	out.Credentials = slices.Clone(a.Credentials)
	u := slices.Concat(a.Credentials[onlyA], b.Credentials[onlyB])
	slices.Sort(u)
	out.Credentials[onlyA] = slices.Compact(u)
	return out, true
}

// expandFamilies replaces a credential family named with its issuers ("an
// AHIMA or AAPC coding credential", "a coding certification through AHIMA
// or AAPC") by the family's credentials from those issuers, as one list of
// alternatives. A family named without an issuer ("coding certification
// required") names no credential and is left alone. toks is returned
// unchanged when it holds no family.
func (x *Extractor) expandFamilies(lower []byte, toks []token, sc *scratch) []token {
	if !slices.ContainsFunc(toks, func(tk token) bool { return tk.t.kind == kindFamily }) {
		return toks
	}
	out := sc.fam[:0]
	for i := 0; i < len(toks); i++ {
		tk := toks[i]
		if tk.t.kind != kindFamily {
			out = append(out, tk)
			continue
		}
		// Issuers before it ("AHIMA or AAPC coding credential") …
		lo, start := len(out), tk.start
		for lo > 0 && out[lo-1].t.kind == kindIssuer && joinsIssuers(lower[out[lo-1].end:start], false) {
			lo--
			start = out[lo].start
		}
		issuers := make([]string, 0, 3)
		for _, is := range out[lo:] {
			issuers = append(issuers, is.t.id)
		}
		out = out[:lo]
		// … or after it ("coding certification through AHIMA or AAPC").
		end, j := tk.end, i+1
		if len(issuers) == 0 {
			for j < len(toks) && toks[j].t.kind == kindIssuer && joinsIssuers(lower[end:toks[j].start], end == tk.end) {
				issuers = append(issuers, toks[j].t.id)
				end = toks[j].end
				j++
			}
		}
		var members []*target
		for _, is := range issuers {
			members = append(members, x.members[tk.t.id][is]...)
		}
		if len(members) == 0 {
			out = append(out, tk)
			continue
		}
		for _, m := range members {
			out = append(out, token{start: start, end: end, t: m})
		}
		i = j - 1
	}
	sc.fam = out[:0]
	return out
}

// joinsIssuers reports whether gap only joins issuer names ("or", "/",
// "and") or, first after a family, introduces them ("through", "from").
func joinsIssuers(gap []byte, first bool) bool {
	if len(gap) > 24 {
		return false
	}
	for _, c := range gap {
		if !isWordByte(c) && !bytes.ContainsRune([]byte(" /,()&-"), rune(c)) {
			return false
		}
	}
	intro := false
	for _, w := range splitWords(string(gap)) {
		switch w {
		case "or", "and":
			if first {
				return false
			}
		case "through", "from", "by", "via", "issued", "with":
			if !first {
				return false
			}
			intro = true
		default:
			return false
		}
	}
	return !first || intro
}

// Restate makes the routes agree with what a sender stated in fields,
// which win over the text: a stated education (or months of experience)
// replaces every route's, and with experience in place of education, a
// route's experience without its degree is a route too (keeping a
// diploma the text requires). nil leaves a part as the text says.
func (r *Requirements) Restate(edu *Education, months *int, inLieu *bool) {
	if edu == nil && months == nil && inLieu == nil {
		return
	}
	routes := slices.Clone(r.Alternatives())
	hs := false
	for i := range routes {
		hs = hs || routes[i].EducationMin == EducationHighSchool
		if edu != nil {
			routes[i].EducationMin = *edu
		}
		if months != nil {
			routes[i].ExperienceMonthsMin = *months
		}
	}
	if inLieu != nil {
		r.ExperienceInLieuOfEducation = *inLieu
	}
	if r.ExperienceInLieuOfEducation {
		for _, rt := range routes {
			if rt.EducationMin.Rank() > EducationHighSchool.Rank() && rt.ExperienceMonthsMin > 0 {
				rt.EducationMin = EducationNone
				if hs {
					rt.EducationMin = EducationHighSchool
				}
				routes = append(routes, rt)
			}
		}
	}
	r.SetRoutes(MergeRoutes(routes))
}
