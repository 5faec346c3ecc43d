package seekerindex

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/clerkpath/clerkpath/pkg/profile"
)

// Seekers who list the same skills and hold the same credentials share one
// copy of them, and a later write to one seeker never shows in another's
// view through what they share.
func TestSeekersShareWhatTheyHaveAlikeAndWritesStayTheirOwn(t *testing.T) {
	ix := newIndex(t)
	// Decoded from separate events, equal strings are separate copies.
	skill := func() string { return string([]byte("release of information")) }
	edu := func() []profile.Education {
		return []profile.Education{{Level: "associate", Field: string([]byte("Health Information Technology")), Status: "completed"}}
	}
	exp := func() []profile.Experience {
		return []profile.Experience{{Area: string([]byte("release_of_information")), Months: 18}}
	}
	a := profile.Seeker{ID: "a", Skills: []string{skill()}, RemotePref: "remote", Education: edu(), Experience: exp()}
	b := profile.Seeker{ID: "b", Skills: []string{skill()}, RemotePref: "remote", Education: edu(), Experience: exp()}
	ix.SetAttrs(a, 1)
	ix.SetAttrs(b, 1)
	for _, id := range []string{"a", "b"} {
		ix.AddCredential(id, profile.CredentialRecord{Code: "CCA", EarnedOn: "2024-01-01"}, 2)
	}
	va, _, _ := ix.View("a")
	vb, _, _ := ix.View("b")
	if unsafe.StringData(va.Skills[0]) != unsafe.StringData(vb.Skills[0]) {
		t.Error("two seekers' equal skills are two copies")
	}
	if &va.Held[0] != &vb.Held[0] || len(va.EligibleNow) > 0 && &va.EligibleNow[0] != &vb.EligibleNow[0] {
		t.Error("two seekers' equal credential lists are two copies")
	}
	sa, sb := ix.seekers["a"], ix.seekers["b"]
	if &sa.path.education[0] != &sb.path.education[0] || &sa.path.experience[0] != &sb.path.experience[0] {
		t.Error("two seekers' equal education and experience records are two copies")
	}
	// a's event slice is not kept: changing it later changes nothing.
	a.Skills[0] = "scanning"
	if va, _, _ = ix.View("a"); va.Skills[0] != "release of information" {
		t.Fatalf("the index kept the caller's slice: %v", va.Skills)
	}

	ix.AddCredential("a", profile.CredentialRecord{Code: "RHIT", EarnedOn: "2025-06-01"}, 3)
	ix.SetAttrs(profile.Seeker{ID: "a", Skills: []string{"coding"}, RemotePref: "remote",
		Education: []profile.Education{{Level: "bachelor", Field: "Health Information Management", Status: "completed"}}}, 4)
	va, _, _ = ix.View("a")
	vb, _, _ = ix.View("b")
	if !slices.Equal(va.Held, []string{"CCA", "RHIT"}) || !slices.Equal(va.Skills, []string{"coding"}) {
		t.Fatalf("a after its writes: held %v, skills %v", va.Held, va.Skills)
	}
	if !slices.Equal(vb.Held, []string{"CCA"}) || !slices.Equal(vb.Skills, []string{"release of information"}) {
		t.Fatalf("a's writes reached b: held %v, skills %v", vb.Held, vb.Skills)
	}
	if va.EducationRank != 4 || vb.EducationRank != 3 || !slices.Equal(sb.path.education, edu()) || !slices.Equal(sb.path.experience, exp()) {
		t.Fatalf("education ranks a %d, b %d (want 4, 3); b's records %+v %+v", va.EducationRank, vb.EducationRank, sb.path.education, sb.path.experience)
	}
}

// Past its limit the interner shares nothing new but still answers right;
// and lists whose joined keys collide are not taken for each other.
func TestInternerPastItsLimitAndAmbiguousKeys(t *testing.T) {
	in := newInterner(2)
	in.word("a")
	in.word("b")
	c := string([]byte("c"))
	if got := in.word(c); got != "c" || len(in.words) != 2 {
		t.Fatalf("past the limit: %q, %d words kept", got, len(in.words))
	}
	in = newInterner(10)
	one := in.sameList([]string{"a\x00b"})
	two := in.sameList([]string{"a", "b"})
	if !slices.Equal(one, []string{"a\x00b"}) || !slices.Equal(two, []string{"a", "b"}) {
		t.Fatalf("colliding keys: %q and %q", one, two)
	}
	if in.list(nil) != nil || in.sameList(nil) != nil {
		t.Fatal("nil lists must stay nil")
	}
}

// What the index keeps beyond the scorer's view: the target, and whether
// the profile gives a location even where the index cannot place it.
func TestExtraSaysTargetAndWhetherALocationWasGiven(t *testing.T) {
	ix := newIndex(t) // no ZCTA: a postal code alone cannot be placed
	ix.SetAttrs(profile.Seeker{ID: "z", Target: "RHIT", Location: &profile.Location{PostalCode: "43215"}}, 1)
	ix.SetAttrs(profile.Seeker{ID: "n", Target: "coder"}, 1)
	sz, xz, _ := ix.View("z")
	_, xn, _ := ix.View("n")
	if sz.Point != nil || !xz.HasLocation || xz.Target != "RHIT" {
		t.Fatalf("postal code only: point %v, extra %+v", sz.Point, xz)
	}
	if xn.HasLocation || xn.Target != "coder" {
		t.Fatalf("no location: extra %+v", xn)
	}
}
