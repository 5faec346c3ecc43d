package pathway

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

func mustCatalog(t testing.TB) *Catalog {
	t.Helper()
	cat, err := DefaultCatalog()
	if err != nil {
		t.Fatalf("DefaultCatalog: %v", err)
	}
	return cat
}

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

const testToday = "2025-06-01"

func recommend(t testing.TB, cat *Catalog, st State) Plan {
	t.Helper()
	return recommendOn(t, cat, st, testToday)
}

func recommendOn(t testing.TB, cat *Catalog, st State, today string) Plan {
	t.Helper()
	p, err := Recommend(cat, st, Options{Today: date(today)})
	if err != nil {
		t.Fatalf("Recommend: %v", err)
	}
	return p
}

func edu(level, field string, cahiim bool, status string) Education {
	return Education{Level: level, Field: field, CAHIIM: cahiim, Status: status}
}

func highSchool() Education { return edu(LevelHighSchool, "", false, StatusCompleted) }

func exp(area string, months int) Experience { return Experience{Area: area, Months: months} }

func held(codes ...string) []HeldCredential {
	out := make([]HeldCredential, len(codes))
	for i, c := range codes {
		out[i] = HeldCredential{Code: c}
	}
	return out
}

// fieldErrors returns the field errors of an apierr Invalid error.
func fieldErrors(t *testing.T, err error) []apierr.FieldError {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	if got := apierr.CodeOf(err); got != apierr.Invalid {
		t.Fatalf("code = %q, want invalid (err: %v)", got, err)
	}
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("not an *apierr.Error: %v", err)
	}
	return ae.Fields
}

// wantField asserts that err names field with a message containing every
// one of the given fragments.
func wantField(t *testing.T, err error, field string, fragments ...string) {
	t.Helper()
	fs := fieldErrors(t, err)
	for _, f := range fs {
		if f.Field != field {
			continue
		}
		ok := true
		for _, frag := range fragments {
			ok = ok && strings.Contains(f.Message, frag)
		}
		if ok {
			return
		}
	}
	t.Errorf("no field error %q containing %q in %v", field, fragments, fs)
}

func stepCodes(steps []Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Kind + ":" + s.Code
	}
	return out
}

func findStep(steps []Step, kind, code string) (Step, bool) {
	i := slices.IndexFunc(steps, func(s Step) bool { return s.Kind == kind && s.Code == code })
	if i < 0 {
		return Step{}, false
	}
	return steps[i], true
}
