package gateway

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/auth"
)

// The refusals that need no lookup say, in good English, who may use the
// route or whom the path names, so a caller can tell what to change.
func TestAuthorizeRefusalsSayWhy(t *testing.T) {
	s := &server{}
	tests := []struct {
		name   string
		p      auth.Principal
		rule   access
		values map[string]string
		code   apierr.Code
		want   string
	}{
		{"anonymous", auth.Principal{}, access{roles: employers}, nil,
			apierr.Unauthenticated, "sign in: this route needs a bearer token"},
		{"an employer on a seekers' and counselors' route", auth.Principal{Subject: "e1", Role: auth.RoleEmployer, Org: "o1"},
			access{roles: []auth.Role{auth.RoleSeeker, auth.RoleCounselor}}, nil,
			apierr.Forbidden, "an employer may not use this route: it is for seekers, counselors and admins"},
		{"a seeker on an employers' route", auth.Principal{Subject: "s1", Role: auth.RoleSeeker},
			access{roles: employers}, nil,
			apierr.Forbidden, "a seeker may not use this route: it is for employers and admins"},
		{"a counselor for another counselor", auth.Principal{Subject: "c1", Role: auth.RoleCounselor},
			access{roles: counselors, counselor: "counselor"}, map[string]string{"counselor": "c2"},
			apierr.Forbidden, "a counselor acts only for themselves: the path names counselor c2, and you are c1"},
		{"an employer for another organisation", auth.Principal{Subject: "e1", Role: auth.RoleEmployer, Org: "o1"},
			access{roles: employers, org: "org"}, map[string]string{"org": "o2"},
			apierr.Forbidden, "an employer acts only for their own organisation: the path names o2, and yours is o1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for k, v := range tt.values {
				r.SetPathValue(k, v)
			}
			err := s.authorize(context.Background(), tt.p, r, tt.rule)
			e := apierr.As(err)
			if err == nil || e.Code != tt.code || e.Message != tt.want {
				t.Fatalf("got %v (code %s), want %s %q", err, e.Code, tt.code, tt.want)
			}
		})
	}
	for _, role := range []string{"admin", "employer", "seeker", "counselor"} {
		if got := withArticle(role); strings.HasPrefix(got, "a a") || strings.HasPrefix(got, "a e") {
			t.Errorf("withArticle(%q) = %q", role, got)
		}
	}
}
