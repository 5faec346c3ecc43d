package pathway

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestClassifyField(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// HIM as people write it
		{"Health Information Technology", FieldHIM},
		{"health information management", FieldHIM},
		{"Medical Records Administration", FieldHIM},
		{"Medical Record Technology", FieldHIM},
		{"HIM", FieldHIM},
		{"him", FieldHIM},
		{"  HIT  ", FieldHIM},
		{"AAS - Health Info. Management", FieldHIM},
		{"Health Information Administration (CAHIIM)", FieldHIM},
		{"Healthcare Information Management", FieldHIM},
		{"Health Informatics & Information Management", FieldHIM},
		{"RHIT program", FieldHIM},
		{"Health records", FieldHIM},
		// coding
		{"Medical Coding", FieldCoding},
		{"coding", FieldCoding},
		{"Medical Billing and Coding", FieldCoding},
		{"Medical billing & coding certificate", FieldCoding},
		{"Inpatient Coder Training", FieldCoding},
		{"CPC prep course", FieldCoding},
		// other
		{"Business", FieldOther},
		{"Nursing", FieldOther},
		{"other", FieldOther},
		{"Health Informatics", FieldOther},
		{"Healthcare Administration", FieldOther},
		{"Medical Billing", FieldOther},
		{"Computer Coding Bootcamp", FieldOther},
		{"Software coding", FieldOther},
		{"Biology 2", FieldOther},
		{"Enfermería", FieldOther},
		{"Rhythm studies", FieldOther},
	}
	for _, tt := range tests {
		got, err := ClassifyField(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ClassifyField(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestClassifyFieldRejectsNonsense(t *testing.T) {
	tests := []struct {
		in, msg string
	}{
		{"", "is blank"},
		{"   \t ", "is blank"},
		{"12345", "has no letters"},
		{"!!!", "has no letters"},
		{"--- / ---", "has no letters"},
		{"asdfgh", "does not read as a field of study"},
		{"ASDF", "does not read as a field of study"},
		{"qwerty123", "does not read as a field of study"},
		{"xxxxx", "does not read as a field of study"},
		{"zzz zzz", "does not read as a field of study"},
		{"hjkl lkjh", "does not read as a field of study"},
		{"xkcdqzt", "does not read as a field of study"},
		{strings.Repeat("Health ", 15), "longer than 100 characters"},
		{"Health\x00Information", "control characters"},
		{"bad \xff utf8", "not valid text"},
	}
	for _, tt := range tests {
		_, err := ClassifyField(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), `"Health Information Technology"`) {
			t.Errorf("ClassifyField(%q) error = %v, want %q with examples", tt.in, err, tt.msg)
		}
	}
	// 100 characters is fine.
	if _, err := ClassifyField(strings.Repeat("a", 99) + "b"); err != nil {
		// a 100-letter word of one repeated letter would be mash; this is not all one letter
		t.Errorf("100 characters: %v", err)
	}
}

// The engine reads free-text fields: a seeker who writes "Health
// Information Technology" is treated as HIM, and the plan echoes it.
func TestFreeTextFieldInState(t *testing.T) {
	cat := mustCatalog(t)
	p := recommend(t, cat, State{Education: []Education{highSchool(),
		edu(LevelAssociate, "Health Information Technology", true, StatusCompleted), edu(LevelBachelor, "Business", false, StatusCompleted)}})
	if len(p.EducationFields) != 2 || p.EducationFields[0] != (EducationField{Index: 1, Field: "Health Information Technology", FieldClass: FieldHIM}) ||
		p.EducationFields[1].FieldClass != FieldOther {
		t.Errorf("education_fields = %+v", p.EducationFields)
	}
	if !containsAny(p.EligibleNow, "RHIT") {
		t.Errorf("a CAHIIM associate in Health Information Technology makes RHIT eligible: %v", p.EligibleNow)
	}
	p = recommend(t, cat, State{Education: []Education{highSchool(), edu(LevelBachelor, "Medical Records Administration", true, StatusFinalTerm)}})
	if !containsAny(p.EligibleNow, "RHIA") {
		t.Errorf("a final-term CAHIIM bachelor's in Medical Records Administration makes RHIA eligible: %v", p.EligibleNow)
	}
	if p := recommend(t, cat, State{}); p.EducationFields == nil {
		t.Error("education_fields must be [] not null")
	}
}

func FuzzClassifyField(f *testing.F) {
	for _, s := range []string{"Health Information Technology", "HIM", "Medical Coding", "Business", "", "asdfgh", "xxxxx", "12345",
		"Medical Billing and Coding", "Software coding", "\x00", "é", strings.Repeat("ab ", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ClassifyField(s)
		c2, err2 := ClassifyField(s)
		if c != c2 || (err == nil) != (err2 == nil) {
			t.Fatalf("not deterministic on %q", s)
		}
		if err != nil {
			if c != "" || !strings.Contains(err.Error(), "for example") {
				t.Fatalf("rejection of %q: class %q, message %q", s, c, err)
			}
			return
		}
		if c != FieldHIM && c != FieldCoding && c != FieldOther {
			t.Fatalf("ClassifyField(%q) = %q", s, c)
		}
		trimmed := strings.TrimSpace(s)
		if utf8.RuneCountInString(trimmed) > MaxFieldLen || !strings.ContainsFunc(trimmed, unicode.IsLetter) {
			t.Fatalf("accepted %q", s)
		}
		// Not strings.EqualFold: its folding also pairs letters such as ſ
		// and S that ToLower keeps apart, and those may classify apart.
		//lint:ignore SA6005 the comparison must be ToLower's mapping, not Unicode case folding
		if c3, err3 := ClassifyField(" " + strings.ToUpper(trimmed) + " "); err3 == nil && c3 != c && strings.ToLower(strings.ToUpper(trimmed)) == strings.ToLower(trimmed) {
			t.Fatalf("case or spaces change the class of %q: %q vs %q", s, c, c3)
		}
	})
}
