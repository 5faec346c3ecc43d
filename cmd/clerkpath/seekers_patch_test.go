package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/clerkpath/clerkpath/cmd/clerkpath/apiclient"
)

// A seeker changes part of their profile with PATCH (JSON Merge Patch):
// the rest of the profile stays, a new profile is version 1 and each change
// adds one, a stale If-Match is 412, and a body that is not a merge patch is
// 415.
func TestAPIClientSeekerPatchKeepsTheRest(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	check := newConformance(t)
	ctx := context.Background()
	seekerID := "sp-" + randomSuffix()
	seeker := check.client(t, s.base, s.token(t, "seeker", seekerID, ""))

	put, err := seeker.PutSeekerWithResponse(ctx, seekerID, nil, apiclient.SeekerProfileInput{
		Skills:        &[]string{"ICD-10-CM", "CPT"},
		CodeSets:      &[]string{"ICD-10-CM"},
		DesiredHourly: ptr(24.0),
		RadiusMiles:   ptr(40),
		Location:      &apiclient.SeekerLocation{PostalCode: ptr("10001")},
	})
	status(t, "PUT profile", put, put.Body, err, http.StatusOK)
	if etag := put.HTTPResponse.Header.Get("ETag"); etag != `"1"` || put.JSON200.Version != 1 {
		t.Fatalf("a new profile: ETag %s, version %d; want \"1\"", etag, put.JSON200.Version)
	}

	// The opt-in the README shows: only open_to_employers changes.
	etag := `"1"`
	patched, err := seeker.PatchSeekerWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, seekerID,
		&apiclient.PatchSeekerParams{IfMatch: &etag}, apiclient.SeekerProfilePatch{"open_to_employers": true})
	status(t, "PATCH open_to_employers", patched, patched.Body, err, http.StatusOK)
	got, err := seeker.GetSeekerWithResponse(ctx, seekerID)
	status(t, "GET profile", got, got.Body, err, http.StatusOK)
	sk := got.JSON200
	if !sk.OpenToEmployers || !slices.Equal(sk.Skills, []string{"ICD-10-CM", "CPT"}) || !slices.Equal(sk.CodeSets, []string{"ICD-10-CM"}) ||
		sk.DesiredHourly == nil || *sk.DesiredHourly != 24 || sk.RadiusMiles != 40 || sk.Location == nil || *sk.Location.PostalCode != "10001" {
		t.Fatalf("after the PATCH: %s", got.Body)
	}
	if e := got.HTTPResponse.Header.Get("ETag"); e != `"2"` || e != patched.HTTPResponse.Header.Get("ETag") {
		t.Fatalf("ETag after one change: GET %s, PATCH %s; want \"2\"", e, patched.HTTPResponse.Header.Get("ETag"))
	}

	// null removes one field; the others stay.
	patched, err = seeker.PatchSeekerWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, seekerID, nil, apiclient.SeekerProfilePatch{"skills": nil})
	status(t, "PATCH skills null", patched, patched.Body, err, http.StatusOK)
	if len(patched.JSON200.Skills) != 0 || !patched.JSON200.OpenToEmployers || patched.JSON200.RadiusMiles != 40 {
		t.Fatalf("after removing skills: %s", patched.Body)
	}

	// A stale ETag is 412 and changes nothing.
	stale, err := seeker.PatchSeekerWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, seekerID,
		&apiclient.PatchSeekerParams{IfMatch: &etag}, apiclient.SeekerProfilePatch{"radius_miles": 5})
	status(t, "PATCH with a stale ETag", stale, stale.Body, err, http.StatusPreconditionFailed)

	// A bad value is a field error, as for a PUT.
	bad, err := seeker.PatchSeekerWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, seekerID, nil, apiclient.SeekerProfilePatch{"radius_miles": 9999})
	status(t, "PATCH a bad value", bad, bad.Body, err, http.StatusBadRequest)
	if p := bad.ApplicationproblemJSON400; p == nil || p.Errors == nil ||
		!slices.ContainsFunc(*p.Errors, func(f apiclient.FieldError) bool { return f.Field == "radius_miles" }) {
		t.Fatalf("400 problem: %s", bad.Body)
	}

	// A JSON body that is not a merge patch is 415, naming the type to send.
	wrong, err := seeker.PatchSeekerWithBodyWithResponse(deliberatelyInvalid(ctx), seekerID, nil, "application/json", strings.NewReader(`{"radius_miles":5}`))
	status(t, "PATCH as application/json", wrong, wrong.Body, err, http.StatusUnsupportedMediaType)
	if wrong.HTTPResponse.Header.Get("Accept-Patch") != "application/merge-patch+json" {
		t.Fatalf("415 without Accept-Patch: %v", wrong.HTTPResponse.Header)
	}
	got, err = seeker.GetSeekerWithResponse(ctx, seekerID)
	status(t, "GET profile", got, got.Body, err, http.StatusOK)
	if got.JSON200.RadiusMiles != 40 || got.JSON200.Version != 3 {
		t.Fatalf("refused patches changed the profile: %s", got.Body)
	}
}
