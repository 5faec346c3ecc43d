package seekerindex

import (
	"slices"
	"strings"
)

// maxWords is how many distinct strings, and how many distinct lists, an
// index shares among its seekers. Past it, new values are kept as given, so
// a flood of made-up skills costs what it would without sharing.
const maxWords = 50_000

// interner keeps one copy of the strings many seekers repeat (skills, code
// sets, EHR systems, education levels, remote preferences) and of the lists
// many seekers have alike (the credentials held and the exams open now).
// Decoded from JSON, each seeker's copy of "release of information" would
// be an allocation of its own. Not safe for concurrent use: the index
// calls it under its write lock.
type interner struct {
	words map[string]string
	lists map[string][]string
	max   int
}

func newInterner(max int) *interner {
	return &interner{words: map[string]string{}, lists: map[string][]string{}, max: max}
}

// word returns the shared copy of s.
func (in *interner) word(s string) string {
	if s == "" {
		return ""
	}
	if w, ok := in.words[s]; ok {
		return w
	}
	if len(in.words) >= in.max {
		return s
	}
	w := strings.Clone(s) // not a piece of a larger buffer
	in.words[w] = w
	return w
}

// list returns a new slice of the shared copies of ss's strings (nil for
// nil).
func (in *interner) list(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = in.word(s)
	}
	return out
}

// sameList returns the shared list equal to ss (ss itself when it is empty
// or past the limit). The result is shared: it must never be written.
func (in *interner) sameList(ss []string) []string {
	if len(ss) == 0 {
		return ss
	}
	key := strings.Join(ss, "\x00")
	if l, ok := in.lists[key]; ok {
		if slices.Equal(l, ss) { // not ["a\x00b"] for ["a", "b"]
			return l
		}
		return ss
	}
	if len(in.lists) >= in.max {
		return ss
	}
	l := in.list(ss)
	in.lists[key] = l
	return l
}
