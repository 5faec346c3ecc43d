package posting

import (
	"slices"
	"strings"
	"testing"
)

func TestFingerprintIgnoresWhitespaceAndCase(t *testing.T) {
	a, err := Normalize(validRaw(), normalizeOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	r := validRaw()
	r.Title = "CODER III & abstractor"
	r.Employer = "  MERCY VALLEY   Medical Center"
	r.Description = "Inpatient coding in EPIC.\n\n\n- rhit AND (ccs or cic) required\n- RHIA desired\n-   3 years of coding experience\n"
	b, err := Normalize(r, normalizeOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint != b.Fingerprint || a.ID != b.ID {
		t.Errorf("same posting, different ids: %s/%s vs %s/%s", a.ID, a.Fingerprint, b.ID, b.Fingerprint)
	}
	// Sent twice, byte for byte: the same Nats-Msg-Id.
	if c, _ := Normalize(validRaw(), normalizeOpts(t)); c.Fingerprint != a.Fingerprint {
		t.Error("fingerprint is not deterministic")
	}
}

func TestFingerprintNoticesChanges(t *testing.T) {
	base, err := Normalize(validRaw(), normalizeOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(r *Raw){
		"salary":        func(r *Raw) { r.SalaryMax = ptr(80.0) },
		"a word":        func(r *Raw) { r.Description = strings.Replace(r.Description, "3 years", "4 years", 1) },
		"valid through": func(r *Raw) { r.ValidThrough = "2025-07-01" },
		"place":         func(r *Raw) { r.PostalCode = "98101" },
		"work mode":     func(r *Raw) { r.WorkMode = "hybrid" },
		// Moving text between fields is a change, not a coincidence.
		"field boundary": func(r *Raw) { r.Title, r.Employer = r.Title+" Mercy", "Valley Medical Center" },
	}
	for name, change := range changes {
		r := validRaw()
		change(&r)
		p, err := Normalize(r, normalizeOpts(t))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Fingerprint == base.Fingerprint {
			t.Errorf("%s: fingerprint unchanged", name)
		}
		// The sender's identifier keeps the id across edits.
		if name != "field boundary" && p.ID != base.ID {
			t.Errorf("%s: id changed", name)
		}
	}
	r := validRaw()
	r.Identifier = ""
	if p, _ := Normalize(r, normalizeOpts(t)); p.ID != p.Fingerprint {
		t.Errorf("without an identifier the id is the fingerprint: %s vs %s", p.ID, p.Fingerprint)
	}
}

func TestHamming(t *testing.T) {
	for _, c := range []struct {
		a, b uint64
		want int
	}{{0, 0, 0}, {0, 1, 1}, {0, ^uint64(0), 64}, {0xf0, 0x0f, 8}} {
		if got := Hamming(c.a, c.b); got != c.want {
			t.Errorf("Hamming(%x, %x) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestSimHashBasics(t *testing.T) {
	if SimHash("") != 0 {
		t.Error("empty text hashes to non-zero")
	}
	if SimHash("RHIT required") != SimHash("rhit   REQUIRED!") {
		t.Error("case and punctuation change the hash")
	}
	if SimHash("a b c d") == SimHash("d c b a") {
		t.Error("word order is ignored")
	}
	if SimHash("Café coder") != SimHash("CAFÉ CODER") {
		t.Error("non-ASCII case changes the hash")
	}
}

// TestSimHashSeparatesPostings checks NearDuplicateDistance against the
// labelled postings: every pair of distinct postings must be well apart, and
// nearly all re-posts with a sentence added must be within it. The distances
// of heavier edits are logged; see NearDuplicateDistance for what they say.
func TestSimHashSeparatesPostings(t *testing.T) {
	z := testZCTA(t)
	// The full postings of rounds 1-3 (files 01-70). Later rounds are
	// shorter, written to test how requirements are phrased; on a short
	// text one added sentence moves SimHash further (round 4-8 postings:
	// see docs/performance.md).
	set := slices.DeleteFunc(loadLabelled(t), func(lp labelledPosting) bool { return roundOf(lp.name) > "3" })
	ps := make([]Posting, len(set))
	for i, lp := range set {
		ps[i] = normalizeLabelled(t, lp, z)
	}
	closest, pair := 64, ""
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			if d := Hamming(ps[i].SimHash, ps[j].SimHash); d < closest {
				closest, pair = d, set[i].name+" / "+set[j].name
			}
		}
	}
	t.Logf("closest distinct postings: %d bits (%s); near-duplicate threshold %d", closest, pair, NearDuplicateDistance)
	if closest <= 2*NearDuplicateDistance {
		t.Errorf("distinct postings %s are only %d bits apart", pair, closest)
	}

	edits := []struct {
		name   string
		edit   func(string) string
		within float64 // the share of re-posts that must be within the threshold
	}{
		{"sentence added", func(d string) string { return d + "\nApply today!" }, 0.95},
		{"one word changed", func(d string) string { return strings.Replace(d, "experience", "background", 1) }, 0.75},
		{"agency intro", func(d string) string { return "Our client, a leading health system, is hiring! " + d }, 0},
		{"agency intro and outro", func(d string) string {
			return "Our client, a leading health system, is hiring! " + d + "\nApply today with MedStaff Search Partners."
		}, 0},
	}
	for _, e := range edits {
		near, worst := 0, 0
		for _, p := range ps {
			d := Hamming(p.SimHash, simHash(p.Title, e.edit(p.Description)))
			worst = max(worst, d)
			if d <= NearDuplicateDistance {
				near++
			}
		}
		share := float64(near) / float64(len(ps))
		t.Logf("%s: %d of %d within the threshold, furthest %d bits", e.name, near, len(ps), worst)
		if share < e.within {
			t.Errorf("%s: only %.0f%% within the threshold, want %.0f%%", e.name, 100*share, 100*e.within)
		}
	}
}
