package profiles

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/profile"
)

const storedDoc = `{"id":"s1","education":[{"level":"associate","field":"Health Information Technology","field_class":"HIM","status":"completed"}],` +
	`"experience":[{"area":"coding","months":14}],"trainings":[],"skills":["ICD-10-CM"],"ehr_systems":["Epic"],"code_sets":["CPT"],` +
	`"location":{"postal_code":"02139"},"radius_miles":25,"remote_preference":"any","desired_hourly":24,"open_to_employers":false,"version":0}`

// A merge patch changes what it names and keeps the rest: null removes a
// field, an object merges member by member, an array replaces the array.
func TestMergeSeeker(t *testing.T) {
	for _, tc := range []struct {
		name, patch string
		check       func(sk profile.Seeker) bool
	}{
		{"opt in keeps the rest", `{"open_to_employers":true}`, func(sk profile.Seeker) bool {
			return sk.OpenToEmployers && reflect.DeepEqual(sk.Skills, []string{"ICD-10-CM"}) && sk.DesiredHourly == 24 && len(sk.Education) == 1
		}},
		{"null removes", `{"skills":null,"location":null}`, func(sk profile.Seeker) bool {
			return sk.Skills == nil && sk.Location == nil && sk.CodeSets[0] == "CPT"
		}},
		{"arrays are replaced", `{"code_sets":["ICD-10-PCS","HCPCS"]}`, func(sk profile.Seeker) bool {
			return reflect.DeepEqual(sk.CodeSets, []string{"ICD-10-PCS", "HCPCS"}) && sk.EHRSystems[0] == "Epic"
		}},
		{"objects merge", `{"location":{"lat":42.36,"lon":-71.1}}`, func(sk profile.Seeker) bool {
			return sk.Location.PostalCode == "02139" && *sk.Location.Lat == 42.36
		}},
		{"empty patch", `{}`, func(sk profile.Seeker) bool { return sk.ID == "s1" && sk.RadiusMiles == 25 }},
	} {
		sk, err := mergeSeeker([]byte(storedDoc), []byte(tc.patch))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !tc.check(sk) {
			t.Errorf("%s: got %+v", tc.name, sk)
		}
	}
}

// A patch that is not a JSON object, or that names a field the profile
// does not have, or gives a value of the wrong type, is a field error.
func TestMergeSeekerRefusesBadPatches(t *testing.T) {
	for _, tc := range []struct{ patch, field string }{
		{`[{"op":"replace","path":"/skills","value":[]}]`, "body"},
		{`null`, "body"},
		{`"x"`, "body"},
		{`{"skills":`, "body"},
		{``, "body"},
		{`{"skillz":["a"]}`, "skillz"},
		{`{"radius_miles":"far"}`, "radius_miles"},
		{`{"location":{"zip":"02139"}}`, "zip"}, // as a PUT names it (strictjson: encoding/json gives no path)
	} {
		_, err := mergeSeeker([]byte(storedDoc), []byte(tc.patch))
		ae, ok := err.(*apierr.Error)
		if !ok || ae.Code != apierr.Invalid || len(ae.Fields) != 1 || ae.Fields[0].Field != tc.field {
			t.Errorf("%q: got %v, want a field error on %s", tc.patch, err, tc.field)
		}
	}
}

// FuzzMergeSeeker: any patch either fails with an Invalid error or yields
// a seeker in which every top-level field the patch does not name is what
// it was (RFC 7396: a merge patch changes only what it names).
func FuzzMergeSeeker(f *testing.F) {
	for _, p := range []string{`{}`, `{"open_to_employers":true}`, `{"skills":null}`, `{"location":{"lat":1,"lon":2}}`,
		`{"education":[{"level":"bachelor","status":"completed"}]}`, `[]`, `null`, `{"id":"x"}`, `{"a":{"b":null}}`, `{"radius_miles":1e400}`} {
		f.Add(p)
	}
	var before map[string]json.RawMessage
	if err := json.Unmarshal([]byte(storedDoc), &before); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, patch string) {
		sk, err := mergeSeeker([]byte(storedDoc), []byte(patch))
		if err != nil {
			if ae, ok := err.(*apierr.Error); !ok || ae.Code != apierr.Invalid {
				t.Fatalf("%q: %v is not an Invalid error", patch, err)
			}
			return
		}
		var named map[string]json.RawMessage
		if err := json.Unmarshal([]byte(patch), &named); err != nil {
			t.Fatalf("%q accepted but is not a JSON object: %v", patch, err)
		}
		out, _ := json.Marshal(sk)
		var after map[string]json.RawMessage
		_ = json.Unmarshal(out, &after)
		var kept profile.Seeker
		_ = json.Unmarshal([]byte(storedDoc), &kept)
		keptOut, _ := json.Marshal(kept)
		var want map[string]json.RawMessage
		_ = json.Unmarshal(keptOut, &want)
		for k := range before {
			if _, ok := named[k]; ok {
				continue
			}
			if string(after[k]) != string(want[k]) {
				t.Fatalf("%q changed %s, which it does not name: %s, was %s", patch, k, after[k], want[k])
			}
		}
	})
}
