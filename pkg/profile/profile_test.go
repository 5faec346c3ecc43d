package profile

import (
	"errors"
	"strings"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// A field of study is free text: it is classified for the pathway engine
// and the class is returned with the profile; nonsense is rejected with a
// field-level message that gives examples.
func TestEducationFieldIsFreeText(t *testing.T) {
	tests := []struct {
		field, class string
	}{
		{"Health Information Technology", "HIM"},
		{"  Medical Records Administration ", "HIM"},
		{"HIM", "HIM"},
		{"Medical Coding", "coding"},
		{"Business", "other"},
		{"Nursing", "other"},
		{"", ""},
	}
	for _, tt := range tests {
		sk := Seeker{ID: "s1", Education: []Education{{Level: "associate", Field: tt.field, Status: "completed", FieldClass: "forged"}}}
		sk.Normalize()
		if err := sk.Validate(); err != nil {
			t.Errorf("%q: %v", tt.field, err)
		}
		if e := sk.Education[0]; e.FieldClass != tt.class || e.Field != strings.TrimSpace(tt.field) {
			t.Errorf("%q: field %q class %q, want class %q", tt.field, e.Field, e.FieldClass, tt.class)
		}
		// The pathway engine accepts the same text.
		st := PathwayState(sk, nil, nil)
		if len(st.Education) != 1 || st.Education[0].Field != strings.TrimSpace(tt.field) {
			t.Errorf("%q: pathway state %+v", tt.field, st.Education)
		}
	}
}

func TestEducationFieldRejectsNonsense(t *testing.T) {
	for _, tc := range []struct{ field, msg string }{
		{"asdfgh", "does not read as a field of study"},
		{"xxxxx", "does not read as a field of study"},
		{"12345", "has no letters"},
		{"?!", "has no letters"},
		{strings.Repeat("Health Information ", 6), "longer than 100 characters"},
	} {
		sk := Seeker{ID: "s1", Education: []Education{{Level: "high_school", Status: "completed"}, {Level: "associate", Field: tc.field, Status: "completed"}}}
		sk.Normalize()
		err := sk.Validate()
		var ae *apierr.Error
		var fe []apierr.FieldError
		if errors.As(err, &ae) {
			fe = ae.Fields
		}
		if len(fe) != 1 || fe[0].Field != "education[1].field" || !strings.Contains(fe[0].Message, tc.msg) || !strings.Contains(fe[0].Message, "Health Information Technology") {
			t.Errorf("%q: got %v, want education[1].field: %q with examples", tc.field, err, tc.msg)
		}
		if sk.Education[1].FieldClass != "" {
			t.Errorf("%q: a rejected field has no class, got %q", tc.field, sk.Education[1].FieldClass)
		}
	}
}
