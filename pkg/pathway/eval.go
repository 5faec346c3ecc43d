package pathway

import (
	"fmt"
	"strings"
)

// profile is a validated State in evaluation form. It is small and copied by
// value when the engine asks "what if the seeker took this step?".
type profile struct {
	edu        []eduEntry
	exp        [numAreas]int
	held       uint64 // credential index bits
	lapsed     uint64 // held but lapsed (past cycle end and grace, or revoked): counts for nothing
	apprentice uint64 // held with the apprentice suffix
	trained    uint64 // training index bits
}

type eduEntry struct {
	level  int
	field  string
	cahiim bool
	status uint8
}

func bit(i int) uint64 { return 1 << uint(i) }

func (p *profile) holds(i int) bool     { return p.held&bit(i) != 0 }
func (p *profile) current() uint64      { return p.held &^ p.lapsed }
func (p *profile) trainedIn(i int) bool { return p.trained&bit(i) != 0 }

// expIn returns the months of experience counting for an area; for "any"
// (-1) the largest single area, because concurrent jobs must not add up.
func (p *profile) expIn(area int) int {
	if area >= 0 {
		return p.exp[area]
	}
	m := 0
	for _, v := range p.exp {
		m = max(m, v)
	}
	return m
}

// withEdu returns a copy of p with one more education entry; the copy
// never shares its education list with p.
func (p profile) withEdu(e eduEntry) profile {
	edu := make([]eduEntry, len(p.edu), len(p.edu)+1)
	copy(edu, p.edu)
	p.edu = append(edu, e)
	return p
}

func eduMatch(n *node, e eduEntry) bool {
	if e.status&n.status == 0 {
		return false
	}
	if n.exact && e.level != n.level || !n.exact && e.level < n.level {
		return false
	}
	if n.field != "" && e.field != n.field {
		return false
	}
	return !n.cahiim || e.cahiim
}

// eval reports whether p satisfies n. With certainOnly, routes known only
// from secondary sources count as unsatisfied, which tells a solid
// eligibility apart from an uncertain one.
func eval(n *node, p *profile, certainOnly bool) bool {
	if certainOnly && n.uncertain {
		return false
	}
	switch n.kind {
	case nodeAll:
		for _, k := range n.kids {
			if !eval(k, p, certainOnly) {
				return false
			}
		}
		return true
	case nodeAny:
		for _, k := range n.kids {
			if eval(k, p, certainOnly) {
				return true
			}
		}
		return false
	case nodeOpen:
		return true
	case nodeEdu:
		for _, e := range p.edu {
			if eduMatch(n, e) {
				return true
			}
		}
		return false
	case nodeExp:
		return p.expIn(n.area) >= n.months
	case nodeCred:
		// A lapsed credential counts for nothing; a current credential
		// that supersedes the one asked for (RHIA for RHIT) counts.
		return p.current()&n.mask != 0
	case nodeTrain:
		return p.trainedIn(n.idx)
	}
	return false
}

// describe words a requirement for people.
func (cat *Catalog) describe(n *node) string {
	switch n.kind {
	case nodeAll:
		parts := make([]string, len(n.kids))
		for i, k := range n.kids {
			parts[i] = cat.describe(k)
			if k.kind == nodeAny && len(k.kids) > 1 {
				parts[i] = "(" + parts[i] + ")"
			}
		}
		return strings.Join(parts, " and ")
	case nodeAny:
		parts := make([]string, len(n.kids))
		for i, k := range n.kids {
			parts[i] = cat.describe(k)
			if k.kind == nodeAll {
				parts[i] = "(" + parts[i] + ")"
			}
		}
		return joinOr(parts)
	case nodeOpen:
		return "no prior education or experience"
	case nodeEdu:
		return describeEdu(n)
	case nodeExp:
		return describeExp(n.area, n.months)
	case nodeCred:
		return cat.Credentials[n.idx].Code
	case nodeTrain:
		return cat.Trainings[n.idx].Title
	}
	return ""
}

func describeEdu(n *node) string {
	var b strings.Builder
	if n.level == 0 {
		b.WriteString("a high school diploma or GED")
	} else {
		if n.status == statusBit(StatusCompleted) {
			b.WriteString("completed ")
		}
		if n.cahiim {
			b.WriteString("CAHIIM-accredited ")
		}
		b.WriteString(levelName(n.level))
		if !n.exact && n.level < 4 {
			b.WriteString(" or higher")
		}
		if n.field != "" {
			b.WriteString(" in ")
			b.WriteString(n.field)
		}
	}
	if n.status&statusBit(StatusFinalTerm) != 0 {
		b.WriteString(" (completed, or in its final term)")
	}
	if n.level == 0 {
		return b.String()
	}
	return withArticle(b.String())
}

// withArticle prefixes "a" or "an" by the first letter, which is right for
// every phrase this package builds.
func withArticle(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

func describeExp(area, months int) string {
	if area < 0 {
		return fmt.Sprintf("%d months of work experience (any area)", months)
	}
	return fmt.Sprintf("%d months %s experience", months, areaName(area))
}

func joinOr(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// missing lists what n still needs from p, with what the seeker has where
// that helps ("has 12"); empty when n is satisfied.
func (cat *Catalog) missing(n *node, p *profile) []string {
	if eval(n, p, false) {
		return nil
	}
	switch n.kind {
	case nodeAll:
		var out []string
		for _, k := range n.kids {
			out = append(out, cat.missing(k, p)...)
		}
		return out
	case nodeAny:
		alts := make([]string, 0, len(n.kids))
		for _, k := range n.kids {
			m := strings.Join(cat.missing(k, p), " and ")
			if len(n.kids) > 1 && k.kind == nodeAll {
				m = "(" + m + ")"
			}
			alts = append(alts, m)
		}
		if len(alts) > 1 {
			return []string{"(" + joinOr(alts) + ")"}
		}
		return alts
	case nodeEdu:
		if h := eduHint(n, p); h != "" {
			return []string{describeEdu(n) + " — " + h}
		}
		return []string{describeEdu(n)}
	case nodeExp:
		return []string{fmt.Sprintf("%s (has %d)", describeExp(n.area, n.months), p.expIn(n.area))}
	case nodeTrain:
		return []string{fmt.Sprintf("%s (%s)", cat.Trainings[n.idx].Title, cat.Trainings[n.idx].Code)}
	case nodeCred:
		if p.held&n.mask != 0 {
			return []string{cat.describe(n) + " — yours has lapsed: reinstate it first"}
		}
	}
	return []string{cat.describe(n)}
}

// eduHint explains why the seeker's nearest education entry does not count.
func eduHint(n *node, p *profile) string {
	for _, relax := range []func(m *node){
		func(m *node) { m.status = 0xff },
		func(m *node) { m.cahiim = false },
		func(m *node) { m.exact = false },
		func(m *node) { m.field = "" },
	} {
		m := *n
		relax(&m)
		for _, e := range p.edu {
			if !eduMatch(&m, e) {
				continue
			}
			switch {
			case e.status&n.status == 0:
				return fmt.Sprintf("yours is %s %s", withArticle(levelName(e.level)), statusWords(e.status))
			case n.cahiim && !e.cahiim:
				return fmt.Sprintf("your %s is not CAHIIM-accredited", levelName(e.level))
			case n.exact && e.level != n.level:
				return fmt.Sprintf("you have %s; our sources do not say it qualifies", withArticle(levelName(e.level)))
			case n.field != "" && e.field != n.field:
				field := e.field
				if field == "" {
					field = "an unstated field"
				}
				return fmt.Sprintf("your %s is in %s", levelName(e.level), field)
			}
		}
	}
	return ""
}

func statusWords(b uint8) string {
	switch b {
	case statusBit(StatusFinalTerm):
		return "in its final term"
	case statusBit(StatusInProgress):
		return "in progress"
	}
	return "completed"
}

// blocked explains, route by route, why credential i is out of reach.
func (cat *Catalog) blocked(i int, p *profile) []string {
	n := cat.c.elig[i]
	if n == nil {
		return append([]string{"eligibility rules unknown — check with " + cat.Credentials[i].Issuer}, cat.unknownRoutes(i)...)
	}
	routes := []*node{n}
	if n.kind == nodeAny {
		routes = n.kids
	}
	out := make([]string, 0, len(routes))
	for _, r := range routes {
		out = append(out, cat.routeLine(r, p))
	}
	return append(out, cat.unknownRoutes(i)...)
}

// unknownRoutes words the routes of credential i whose conditions no source
// states: shown, never planned.
func (cat *Catalog) unknownRoutes(i int) []string {
	var out []string
	for _, u := range cat.Credentials[i].Eligibility.UnknownRoutes {
		out = append(out, "not planned, conditions unknown: "+u)
	}
	return out
}

func (cat *Catalog) routeLine(r *node, p *profile) string {
	var b strings.Builder
	b.WriteString("needs ")
	b.WriteString(strings.Join(cat.missing(r, p), " and "))
	if r.kind == nodeAll {
		var met []string
		for _, k := range r.kids {
			if eval(k, p, false) {
				met = append(met, cat.describe(k))
			}
		}
		if len(met) > 0 {
			b.WriteString("; already met: ")
			b.WriteString(strings.Join(met, ", "))
		}
	}
	if r.uncertain {
		b.WriteString(" [uncertain route, secondary sources only")
		if r.note != "" {
			b.WriteString(": ")
			b.WriteString(r.note)
		}
		b.WriteString("]")
	}
	return b.String()
}
