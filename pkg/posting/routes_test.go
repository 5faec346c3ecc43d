package posting

import (
	"reflect"
	"testing"
)

func TestCanonicalRoutes(t *testing.T) {
	tests := []struct {
		name string
		in   []Route
		want []Route
	}{
		{"none is the open route", nil, []Route{{Credentials: [][]string{}}}},
		{
			"a route demanding more than another adds no way in",
			[]Route{
				{Credentials: [][]string{{"RHIT"}}, EducationMin: EducationAssociate},
				{Credentials: [][]string{{"RHIT", "RHIA"}}},
			},
			[]Route{{Credentials: [][]string{{"RHIA", "RHIT"}}}},
		},
		{
			"alternatives ordered least demanding first, groups sorted",
			[]Route{
				{Credentials: [][]string{{"CIC", "CCS"}, {"RHIT"}}},
				{ExperienceMonthsMin: 12},
				{EducationMin: EducationAssociate},
			},
			[]Route{
				{Credentials: [][]string{}, ExperienceMonthsMin: 12},
				{Credentials: [][]string{}, EducationMin: EducationAssociate},
				{Credentials: [][]string{{"CCS", "CIC"}, {"RHIT"}}},
			},
		},
		{
			"a group implied by a narrower one goes",
			[]Route{{Credentials: [][]string{{"RHIT", "RHIA"}, {"RHIT"}, {"RHIT"}}}},
			[]Route{{Credentials: [][]string{{"RHIT"}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanonicalRoutes(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CanonicalRoutes = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCanonicalRoutesKeepsTheLeastDemanding(t *testing.T) {
	var in []Route
	for i := 6; i >= 1; i-- {
		in = append(in, Route{ExperienceMonthsMin: 12 * i, Credentials: [][]string{{"X"}}})
		in = append(in, Route{EducationMin: EducationMaster, Credentials: [][]string{{string(rune('A' + i))}}})
	}
	got := CanonicalRoutes(in)
	if len(got) != MaxRoutes {
		t.Fatalf("kept %d routes, want %d", len(got), MaxRoutes)
	}
	// One route with X and 12 months dominates the other X routes.
	if got[0].ExperienceMonthsMin != 12 || got[0].Credentials[0][0] != "X" {
		t.Errorf("first route = %+v, want X with 12 months", got[0])
	}
}

func TestSetRoutesSummarisesWhatEveryRouteRequires(t *testing.T) {
	var r Requirements
	r.SetRoutes([]Route{
		{Credentials: [][]string{{"RHIT"}, {"CCS", "CIC"}}, EducationMin: EducationAssociate},
		{Credentials: [][]string{{"CCS"}}, ExperienceMonthsMin: 36},
	})
	if want := [][]string{{"CCS", "CIC"}}; !reflect.DeepEqual(r.CredentialsRequired, want) {
		t.Errorf("CredentialsRequired = %v, want %v", r.CredentialsRequired, want)
	}
	if r.EducationMin != EducationNone || r.ExperienceMonthsMin != 0 {
		t.Errorf("summary education %q experience %d, want none and 0", r.EducationMin, r.ExperienceMonthsMin)
	}
	if len(r.Routes) != 2 {
		t.Errorf("routes = %+v", r.Routes)
	}
}

func TestAlternativesOfAnOldEvent(t *testing.T) {
	r := Requirements{
		CredentialsRequired:         [][]string{{"RHIT"}},
		EducationMin:                EducationAssociate,
		ExperienceMonthsMin:         12,
		ExperienceInLieuOfEducation: true,
	}
	want := []Route{
		{Credentials: [][]string{{"RHIT"}}, EducationMin: EducationAssociate, ExperienceMonthsMin: 12},
		{Credentials: [][]string{{"RHIT"}}, ExperienceMonthsMin: 12},
	}
	if got := r.Alternatives(); !reflect.DeepEqual(got, want) {
		t.Errorf("Alternatives = %+v, want %+v", got, want)
	}
}
