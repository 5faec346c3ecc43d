package auth

import "testing"

func TestPrincipalKeySeparatesOrganisations(t *testing.T) {
	a := Principal{Subject: "hr", Role: RoleEmployer, Org: "acme"}
	b := Principal{Subject: "hr", Role: RoleEmployer, Org: "globex"}
	c := Principal{Subject: "hr", Role: RoleSeeker}
	d := Principal{Subject: "acme:hr", Role: RoleEmployer}
	keys := map[string]bool{}
	for _, p := range []Principal{a, b, c, d} {
		if keys[p.Key()] {
			t.Errorf("%+v shares its key %q with another principal", p, p.Key())
		}
		keys[p.Key()] = true
	}
	if (Principal{}).Key() != "" {
		t.Error("the anonymous caller has a key")
	}
}
