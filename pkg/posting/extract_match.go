package posting

import (
	"cmp"
	"slices"
)

// scratch holds the buffers of one Extract call, pooled because a posting
// needs a few kilobytes of them and ingest extracts thousands per second.
type scratch struct {
	lower []byte
	cands []cand
	toks  []token
	fam   []token // tokens with credential families expanded
	lines []lineInfo
	cuts  []int
	cutAt []slot
}

// cand is a match of a pattern before overlaps are resolved.
type cand struct{ start, end, pat int }

// token is one dictionary match in the text.
type token struct {
	start, end int
	t          *target
}

// match finds the dictionary terms in lower (canon lower-cased, same
// offsets). Where matches overlap the leftmost, then longest, wins.
func (a *automaton) match(canon string, lower []byte, sc *scratch) []token {
	cands, out := sc.cands[:0], sc.toks[:0]
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
	// Keep the grown buffers; the tokens stay valid until the next match.
	sc.cands, sc.toks = cands[:0], out[:0]
	return out
}

// titleFacts reads the role, its SOC code and any work mode from the title.
func (x *Extractor) titleFacts(title string, e *extraction) {
	lower := lowerASCII(e.lower[:0], title)
	e.lower = lower[:0]
	best := (*target)(nil)
	for _, tk := range x.title.match(title, lower, e.scratch) {
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
