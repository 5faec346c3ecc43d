package profiles_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/services/profiles"
)

func ptr[T any](v T) *T { return &v }

// fieldError reports whether err is an Invalid error naming field.
func fieldError(err error, field string) bool {
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != apierr.Invalid {
		return false
	}
	for _, f := range ae.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// A profile's version is the number of changes to it: 1 when created,
// one more for each change (contact details and consent included), and
// If-Match compares against it.
func TestVersionCountsChangesFromOne(t *testing.T) {
	p := start(t, profiles.Options{})
	ctx := context.Background()
	// Other seekers' events first: the version is the seeker's own.
	for i := range 3 {
		do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: fmt.Sprintf("other%d", i)}})
	}
	if got := do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "v1"}}); got.Version != 1 {
		t.Fatalf("a new profile has version %d, want 1", got.Version)
	}
	if got := do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "v1", Skills: []string{"ICD-10-CM"}}, IfMatch: ptr(uint64(1))}); got.Version != 2 {
		t.Fatalf("after a change: version %d, want 2", got.Version)
	}
	do(t, p.NC, profilesapi.Consent, profilesapi.ConsentRequest{ID: "v1", Employer: "acme", Granted: true})
	if got := do(t, p.NC, profilesapi.SeekerGet, profilesapi.SeekerRef{ID: "v1"}); got.Version != 3 {
		t.Fatalf("after consent: version %d, want 3", got.Version)
	}
	_, err := profilesapi.SeekerPut.Call(ctx, p.NC, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "v1"}, IfMatch: ptr(uint64(2))})
	if apierr.CodeOf(err) != apierr.PreconditionFail {
		t.Fatalf("If-Match 2 at version 3: %v, want precondition failed", err)
	}
	_, err = profilesapi.SeekerPut.Call(ctx, p.NC, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "v2"}, IfMatch: ptr(uint64(1))})
	if apierr.CodeOf(err) != apierr.PreconditionFail {
		t.Fatalf("If-Match 1 for a profile that does not exist: %v, want precondition failed", err)
	}
	if got := do(t, p.NC, profilesapi.SeekerGet, profilesapi.SeekerRef{ID: "v1"}); len(got.Skills) != 1 {
		t.Fatalf("a refused write changed the profile: %+v", got)
	}
}

// A PATCH changes what it names, keeps the rest, and is checked as a PUT
// of the merged profile would be; a refused patch changes nothing.
func TestPatchKeepsTheRest(t *testing.T) {
	p := start(t, profiles.Options{})
	ctx := context.Background()
	do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "pa",
		Skills: []string{"ICD-10-CM"}, CodeSets: []string{"CPT"}, DesiredHourly: 24, RadiusMiles: 40}})
	patch := func(body string, ifMatch *uint64) (profilesapi.SeekerWrite, error) {
		return profilesapi.SeekerPatch.Call(ctx, p.NC, profilesapi.PatchSeekerRequest{ID: "pa", Patch: json.RawMessage(body), IfMatch: ifMatch})
	}
	got, err := patch(`{"open_to_employers":true}`, ptr(uint64(1)))
	if err != nil {
		t.Fatal(err)
	}
	if !got.OpenToEmployers || got.Version != 2 || !slices.Equal(got.Skills, []string{"ICD-10-CM"}) || got.DesiredHourly != 24 || got.RadiusMiles != 40 {
		t.Fatalf("patch answered %+v", got)
	}
	if g := do(t, p.NC, profilesapi.SeekerGet, profilesapi.SeekerRef{ID: "pa"}); !g.OpenToEmployers || !slices.Equal(g.CodeSets, []string{"CPT"}) || g.Version != 2 {
		t.Fatalf("stored %+v", g)
	}
	if got, err = patch(`{"skills":null,"radius_miles":null}`, nil); err != nil || len(got.Skills) != 0 || got.RadiusMiles != 25 || got.Skills == nil {
		t.Fatalf("null removes (back to the defaults a PUT gives): %+v, %v", got, err)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"radius_miles":9999}`, "radius_miles"},
		{`{"remote_preference":"moon"}`, "remote_preference"},
		{`{"skillz":["x"]}`, "skillz"},
		{`{"id":"someone-else"}`, "id"},
		{`[{"op":"add","path":"/skills/-","value":"x"}]`, "body"},
	} {
		if _, err := patch(tc.body, nil); !fieldError(err, tc.field) {
			t.Errorf("%s: %v, want a field error on %s", tc.body, err, tc.field)
		}
	}
	if _, err := patch(`{"skills":["x"]}`, ptr(uint64(2))); apierr.CodeOf(err) != apierr.PreconditionFail {
		t.Errorf("stale If-Match: %v, want precondition failed", err)
	}
	if g := do(t, p.NC, profilesapi.SeekerGet, profilesapi.SeekerRef{ID: "pa"}); g.Version != 3 || !g.OpenToEmployers {
		t.Fatalf("refused patches changed the profile: %+v", g)
	}
	_, err = profilesapi.SeekerPatch.Call(ctx, p.NC, profilesapi.PatchSeekerRequest{ID: "nobody", Patch: json.RawMessage(`{"skills":[]}`)})
	if apierr.CodeOf(err) != apierr.NotFound {
		t.Fatalf("patch of a seeker who does not exist: %v, want not found", err)
	}
}

// Patches sent at once without If-Match each change their own field and
// none is lost (each is merged into the version it is written against);
// with the same If-Match exactly one wins and the others are told the
// profile changed.
func TestConcurrentPatchesLoseNothing(t *testing.T) {
	p := start(t, profiles.Options{})
	ctx := context.Background()
	do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "cc"}})
	patches := []string{`{"skills":["a"]}`, `{"trainings":["b"]}`, `{"ehr_systems":["c"]}`, `{"code_sets":["d"]}`,
		`{"target":"RHIT"}`, `{"availability":"immediately"}`, `{"desired_hourly":30}`, `{"open_to_employers":true}`}
	var wg sync.WaitGroup
	errs := make([]error, len(patches))
	for i, body := range patches {
		wg.Go(func() {
			_, errs[i] = profilesapi.SeekerPatch.Call(ctx, p.NC, profilesapi.PatchSeekerRequest{ID: "cc", Patch: json.RawMessage(body)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("patch %s: %v", patches[i], err)
		}
	}
	g := do(t, p.NC, profilesapi.SeekerGet, profilesapi.SeekerRef{ID: "cc"})
	if len(g.Skills) != 1 || len(g.Trainings) != 1 || len(g.EHRSystems) != 1 || len(g.CodeSets) != 1 || g.Target != "RHIT" ||
		g.Availability != "immediately" || g.DesiredHourly != 30 || !g.OpenToEmployers || g.Version != uint64(1+len(patches)) {
		t.Fatalf("after %d concurrent patches: %+v", len(patches), g)
	}

	won := make([]bool, 6)
	for i := range won {
		wg.Go(func() {
			_, err := profilesapi.SeekerPatch.Call(ctx, p.NC, profilesapi.PatchSeekerRequest{ID: "cc",
				Patch: json.RawMessage(fmt.Sprintf(`{"radius_miles":%d}`, 10+i)), IfMatch: ptr(g.Version)})
			switch apierr.CodeOf(err) {
			case apierr.PreconditionFail:
			default:
				if err != nil {
					t.Errorf("patch %d: %v", i, err)
				}
				won[i] = err == nil
			}
		})
	}
	wg.Wait()
	winners := 0
	for _, w := range won {
		if w {
			winners++
		}
	}
	if winners != 1 {
		t.Fatalf("%d of %d writes with the same If-Match succeeded, want 1", winners, len(won))
	}
}

// With the ZIP centroids loaded an unknown ZIP code is refused naming the
// field sent; without them it is accepted with a warning saying so.
func TestZIPCodesCheckedAgainstCentroids(t *testing.T) {
	z, err := geo.LoadZCTA(strings.NewReader("zip,lat,lon\n02139,42.3647,-71.1042\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := func(zip string) profilesapi.PutSeekerRequest {
		return profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "z1", Location: &profile.Location{PostalCode: zip}}}
	}
	t.Run("loaded", func(t *testing.T) {
		p := start(t, profiles.Options{ZIPs: z})
		if got := do(t, p.NC, profilesapi.SeekerPut, at("02139")); len(got.Warnings) != 0 {
			t.Fatalf("a known ZIP: warnings %v", got.Warnings)
		}
		if _, err := profilesapi.SeekerPut.Call(ctx, p.NC, at("99999")); !fieldError(err, "location.postal_code") {
			t.Fatalf("unknown ZIP on PUT: %v, want a field error on location.postal_code", err)
		}
		_, err := profilesapi.SeekerPatch.Call(ctx, p.NC, profilesapi.PatchSeekerRequest{ID: "z1", Patch: json.RawMessage(`{"location":{"postal_code":"99999"}}`)})
		if !fieldError(err, "location.postal_code") {
			t.Fatalf("unknown ZIP on PATCH: %v, want a field error on location.postal_code", err)
		}
		if g := do(t, p.NC, profilesapi.SeekerGet, profilesapi.SeekerRef{ID: "z1"}); g.Location.PostalCode != "02139" || g.Version != 1 {
			t.Fatalf("refused writes changed the profile: %+v", g)
		}
	})
	t.Run("not loaded", func(t *testing.T) {
		p := start(t, profiles.Options{})
		got := do(t, p.NC, profilesapi.SeekerPut, at("99999"))
		if len(got.Warnings) != 1 || got.Warnings[0].Field != "location.postal_code" || !strings.Contains(got.Warnings[0].Message, "not checked") {
			t.Fatalf("unknown ZIP without centroids: warnings %v, want one on location.postal_code", got.Warnings)
		}
		if g := do(t, p.NC, profilesapi.SeekerGet, profilesapi.SeekerRef{ID: "z1"}); g.Location == nil || g.Location.PostalCode != "99999" {
			t.Fatalf("stored %+v", g)
		}
	})
}
