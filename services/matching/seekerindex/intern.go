package seekerindex

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/profile"
)

// maxWords is how many distinct strings, and how many distinct lists, an
// index shares among its seekers. Past it, new values are kept as given, so
// a flood of made-up skills costs what it would without sharing.
const maxWords = 50_000

// interner keeps one copy of the strings many seekers repeat (skills, code
// sets, EHR systems, education levels, remote preferences) and of the lists
// many seekers have alike (the credentials held, the exams open now, the
// education and experience records). Decoded from JSON, each seeker's copy
// of "release of information" would be an allocation of its own. Not safe
// for concurrent use: the index calls it under its write lock.
type interner struct {
	words       map[string]string
	lists       map[string][]string
	educations  map[string][]profile.Education
	experiences map[string][]profile.Experience
	max         int
}

func newInterner(max int) *interner {
	return &interner{words: map[string]string{}, lists: map[string][]string{},
		educations: map[string][]profile.Education{}, experiences: map[string][]profile.Experience{}, max: max}
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
	return share(in.lists, in.max, strings.Join(ss, "\x00"), ss, in.list)
}

// education returns the shared records equal to es (nil for none). The
// result is shared: it must never be written.
func (in *interner) education(es []profile.Education) []profile.Education {
	if len(es) == 0 {
		return nil
	}
	var key strings.Builder
	for _, e := range es {
		fmt.Fprintf(&key, "%s\x00%s\x00%s\x00%t\x00%s\x01", e.Level, e.Field, e.FieldClass, e.CAHIIMAccredited, e.Status)
	}
	return share(in.educations, in.max, key.String(), es, func(es []profile.Education) []profile.Education {
		out := make([]profile.Education, len(es))
		for i, e := range es {
			out[i] = profile.Education{Level: in.word(e.Level), Field: in.word(e.Field), FieldClass: in.word(e.FieldClass),
				CAHIIMAccredited: e.CAHIIMAccredited, Status: in.word(e.Status)}
		}
		return out
	})
}

// experience returns the shared records equal to es (nil for none). The
// result is shared: it must never be written.
func (in *interner) experience(es []profile.Experience) []profile.Experience {
	if len(es) == 0 {
		return nil
	}
	var key strings.Builder
	for _, e := range es {
		fmt.Fprintf(&key, "%s\x00%d\x01", e.Area, e.Months)
	}
	return share(in.experiences, in.max, key.String(), es, func(es []profile.Experience) []profile.Experience {
		out := make([]profile.Experience, len(es))
		for i, e := range es {
			out[i] = profile.Experience{Area: in.word(e.Area), Months: e.Months}
		}
		return out
	})
}

// share returns m's slice under key when it equals xs; else, below max
// entries and with key free, keeps copyOf(xs) under key and returns it;
// else copyOf(xs), shared with nobody. A key two different slices make
// (a string holding the separator) is kept by the first only.
func share[T comparable](m map[string][]T, max int, key string, xs []T, copyOf func([]T) []T) []T {
	l, taken := m[key]
	switch {
	case taken && slices.Equal(l, xs):
		return l
	case taken || len(m) >= max:
		return copyOf(xs)
	}
	l = copyOf(xs)
	m[key] = l
	return l
}
