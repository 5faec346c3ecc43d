package posting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/geo"
)

// labelledNow is "now" for the labelled postings, all posted in May 2025.
var labelledNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

type labelledPosting struct {
	name    string
	Note    string          `json:"note"`
	Posting json.RawMessage `json:"posting"`
	Expect  struct {
		// Required is the one route of a file written before routes
		// (rounds 1-3): its credential groups, education and experience
		// unlabelled. Later files label Routes instead.
		Required   [][]string `json:"required"`
		Routes     []Route    `json:"routes"`
		Preferred  []string   `json:"preferred"`
		OrEligible []string   `json:"or_eligible"`
	} `json:"expect"`
}

// hasRoutes reports whether the file labels full routes (round 4 on).
func (lp *labelledPosting) hasRoutes() bool { return lp.Expect.Routes != nil }

// expectedRequired is the label's summary: the groups every route requires.
func (lp *labelledPosting) expectedRequired() [][]string {
	if !lp.hasRoutes() {
		return lp.Expect.Required
	}
	var r Requirements
	r.SetRoutes(MergeRoutes(lp.Expect.Routes))
	return r.CredentialsRequired
}

// routesRight reports whether the extracted routes are the labelled ones
// (compared after MergeRoutes, which changes no route's meaning): in full
// for a file that labels routes, and for an older file by their
// credentials alone (its one route's education and experience were never
// labelled), which must be the one labelled route.
func (lp *labelledPosting) routesRight(p Posting) bool {
	got := p.Alternatives()
	if lp.hasRoutes() {
		return reflect.DeepEqual(MergeRoutes(got), MergeRoutes(lp.Expect.Routes))
	}
	creds := make([]Route, len(got))
	for i, rt := range got {
		creds[i] = Route{Credentials: rt.Credentials}
	}
	return reflect.DeepEqual(CanonicalRoutes(creds), CanonicalRoutes([]Route{{Credentials: lp.Expect.Required}}))
}

func loadLabelled(t testing.TB) []labelledPosting {
	t.Helper()
	files, err := filepath.Glob("testdata/labelled/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no labelled postings: %v", err)
	}
	var out []labelledPosting
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var lp labelledPosting
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&lp); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		lp.name = filepath.Base(f)
		out = append(out, lp)
	}
	return out
}

func testZCTA(t testing.TB) *geo.ZCTA {
	t.Helper()
	f, err := os.Open("../geo/testdata/zips.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := geo.LoadZCTA(f)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// normalizeLabelled runs a labelled posting through Decode and Normalize, as
// ingest would.
func normalizeLabelled(t testing.TB, lp labelledPosting, z *geo.ZCTA) Posting {
	t.Helper()
	b, err := Decode(MediaJSON, bytes.NewReader(lp.Posting), DecodeOptions{})
	if err != nil || len(b.Records) != 1 {
		t.Fatalf("%s: decode: %v %+v", lp.name, err, b.Errors)
	}
	p, err := Normalize(b.Records[0], NormalizeOptions{Now: labelledNow, Geo: z})
	if err != nil {
		t.Fatalf("%s: normalize: %v", lp.name, err)
	}
	return p
}

// credentialItems flattens extracted or expected credentials into scoring
// items: each required group is one item (it must match exactly), each
// preferred and each or-eligible credential one item.
func credentialItems(required [][]string, preferred, orEligible []string) []string {
	var items []string
	for _, g := range required {
		g = slices.Clone(g)
		slices.Sort(g)
		items = append(items, "required:"+strings.Join(g, "|"))
	}
	for _, c := range preferred {
		items = append(items, "preferred:"+c)
	}
	for _, c := range orEligible {
		items = append(items, "or_eligible:"+c)
	}
	slices.Sort(items)
	return slices.Compact(items)
}

// TestCredentialExtractionAccuracy scores credential extraction on the
// labelled postings (see testdata/labelled/README.md) with micro-averaged
// precision and recall over required groups (the summary every route
// requires), preferred and or-eligible credentials, and the share of
// postings whose routes are exactly right, overall and per writing round.
func TestCredentialExtractionAccuracy(t *testing.T) {
	set := loadLabelled(t)
	if len(set) < 40 {
		t.Fatalf("only %d labelled postings, want at least 40", len(set))
	}
	z := testZCTA(t)
	var all, gated score
	rounds := map[string]*score{}
	for _, lp := range set {
		p := normalizeLabelled(t, lp, z)
		got := credentialItems(p.CredentialsRequired, p.CredentialsPreferred, p.CredentialsOrEligible)
		want := credentialItems(lp.expectedRequired(), lp.Expect.Preferred, lp.Expect.OrEligible)
		var s score
		var missing, extra []string
		for _, w := range want {
			if slices.Contains(got, w) {
				s.tp++
			} else {
				s.fn++
				missing = append(missing, w)
			}
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				s.fp++
				extra = append(extra, g)
			}
		}
		s.postings = 1
		if lp.routesRight(p) {
			s.routesRight = 1
		} else {
			t.Logf("%s: routes %s, want %s", lp.name, routesString(p.Alternatives()), routesString(expectedRoutes(lp)))
		}
		if len(missing)+len(extra) > 0 {
			t.Logf("%s (%s): missing %v, extra %v", lp.name, lp.Note, missing, extra)
		}
		all.add(s)
		r := roundOf(lp.name)
		if gatedRound(r) {
			gated.add(s)
		}
		if rounds[r] == nil {
			rounds[r] = &score{}
		}
		rounds[r].add(s)
	}
	for _, r := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"} {
		if s := rounds[r]; s != nil {
			t.Logf("round %s: %s", r, s)
		}
	}
	t.Logf("all %d postings: %s", len(set), &all)
	if gated.precision() < 0.95 || gated.recall() < 0.95 {
		t.Errorf("rounds %v: precision %.3f, recall %.3f: want both at least 0.95", gatedRounds, gated.precision(), gated.recall())
	}
}

// gatedRounds are the rounds the test holds to 0.95: the development set
// and the rounds whose misses have been fixed. A fresh round joins only
// after it has been scored once, as it came.
var gatedRounds = []string{"1", "2", "3", "4", "5", "6", "7", "8"}

func gatedRound(r string) bool { return slices.Contains(gatedRounds, r) }

func expectedRoutes(lp labelledPosting) []Route {
	if lp.hasRoutes() {
		return lp.Expect.Routes
	}
	return []Route{{Credentials: lp.Expect.Required}}
}

func routesString(routes []Route) string {
	var parts []string
	for _, rt := range CanonicalRoutes(routes) {
		s := groupsKey(rt.Credentials)
		if rt.EducationMin != EducationNone {
			s += " " + string(rt.EducationMin)
		}
		if rt.ExperienceMonthsMin > 0 {
			s += fmt.Sprintf(" %dmo", rt.ExperienceMonthsMin)
		}
		parts = append(parts, "{"+strings.TrimSpace(s)+"}")
	}
	return strings.Join(parts, " or ")
}

// roundOf tells which writing round a labelled file belongs to (see the
// README there) by its number: 1-48, 49-60, 61-70, 71-94, 95-104,
// 105-114, 115-125, 126-135, 136 and up.
func roundOf(name string) string {
	n, _ := strconv.Atoi(name[:strings.IndexByte(name, '-')])
	switch {
	case n < 49:
		return "1"
	case n < 61:
		return "2"
	case n < 71:
		return "3"
	case n < 95:
		return "4"
	case n < 105:
		return "5"
	case n < 115:
		return "6"
	case n < 126:
		return "7"
	case n < 136:
		return "8"
	}
	return "9"
}

type score struct{ tp, fp, fn, postings, routesRight int }

func (s *score) add(o score) {
	s.tp, s.fp, s.fn = s.tp+o.tp, s.fp+o.fp, s.fn+o.fn
	s.postings, s.routesRight = s.postings+o.postings, s.routesRight+o.routesRight
}

func (s *score) precision() float64 { return float64(s.tp) / float64(max(s.tp+s.fp, 1)) }

func (s *score) recall() float64 { return float64(s.tp) / float64(max(s.tp+s.fn, 1)) }

func (s *score) String() string {
	return fmt.Sprintf("%d items expected, %d extracted, %d right: precision %.3f, recall %.3f; routes exactly right in %d of %d postings (%.3f)",
		s.tp+s.fn, s.tp+s.fp, s.tp, s.precision(), s.recall(), s.routesRight, s.postings, float64(s.routesRight)/float64(max(s.postings, 1)))
}
