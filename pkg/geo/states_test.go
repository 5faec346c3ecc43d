package geo

import (
	"strings"
	"testing"
)

func TestStateCode(t *testing.T) {
	for in, want := range map[string]string{
		"CA": "CA", "ca": "CA", " California ": "CA", "NEW  YORK": "NY", "District of Columbia": "DC",
		"Puerto Rico": "PR", "Tex.": "", "Narnia": "", "": "", "XX": "", "Washington": "WA",
	} {
		got, ok := StateCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("StateCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	n := 0
	for code := range strings.FieldsSeq(stateCodeList) {
		name, ok := stateName(code)
		if !ok {
			t.Errorf("%s has no name", code)
		}
		if back, _ := StateCode(name); back != code {
			t.Errorf("StateCode(%q) = %q, want %q", name, back, code)
		}
		n++
	}
	if n != 56 { // 50 states, DC and five territories
		t.Errorf("%d codes", n)
	}
}
