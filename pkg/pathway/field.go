package pathway

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFieldLen is the longest field of study accepted, in characters.
const MaxFieldLen = 100

// FieldExamples is shown with every rejected field of study.
const FieldExamples = `for example "Health Information Technology", "Medical Records Administration", "HIM", "Medical Coding", "Business" or "Nursing"`

// EducationField is how the engine read one education entry's field of
// study: Index is the entry's position in State.Education.
type EducationField struct {
	Index      int    `json:"index"`
	Field      string `json:"field"`
	FieldClass string `json:"field_class"`
}

// EducationFields returns how the engine reads the fields of study in st,
// one per education entry that gives a field; entries whose field is
// rejected carry an empty class (Validate reports them).
func EducationFields(st State) []EducationField {
	out := []EducationField{}
	for i, e := range st.Education {
		if e.Field == "" {
			continue
		}
		c, _ := ClassifyField(e.Field)
		out = append(out, EducationField{Index: i, Field: e.Field, FieldClass: c})
	}
	return out
}

// ClassifyField reads a field of study as people write it ("Health
// Information Technology", "Medical Records Administration", "HIM",
// "Medical Billing and Coding", "Business") and returns its class: FieldHIM,
// FieldCoding or FieldOther. It rejects what cannot be a field of study
// (blank, no letters, digits or punctuation only, keyboard mash such as
// "asdfgh" or "xxxxx", control characters, over MaxFieldLen characters)
// with an error whose message says what is wrong and gives examples. It is
// pure and allocation-light, for use in validation of every request.
func ClassifyField(s string) (string, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return "", errors.New("is blank; write the field you studied, " + FieldExamples)
	case !utf8.ValidString(t):
		return "", errors.New("is not valid text; write the field you studied, " + FieldExamples)
	case utf8.RuneCountInString(t) > MaxFieldLen:
		return "", errors.New("is longer than 100 characters; write just the field you studied, " + FieldExamples)
	}
	letters := 0
	for _, r := range t {
		if unicode.IsControl(r) {
			return "", errors.New("contains control characters; write the field you studied, " + FieldExamples)
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	if letters == 0 {
		return "", errors.New("has no letters; write the field you studied, " + FieldExamples)
	}
	words := fieldWords(t)
	real := 0
	for _, w := range words {
		if !mash(w) {
			real++
		}
	}
	if real == 0 {
		return "", errors.New("does not read as a field of study; write the field you studied, " + FieldExamples)
	}
	return classifyWords(words), nil
}

// fieldWords lowercases s and splits it into runs of letters and digits.
func fieldWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// keyboardRows are the letter rows of a US keyboard, forwards and backwards.
var keyboardRows = [...]string{"qwertyuiop", "asdfghjkl", "zxcvbnm", "poiuytrewq", "lkjhgfdsa", "mnbvcxz"}

// mash reports whether a word is keyboard mash rather than a word: one
// letter repeated ("xxxxx"), four or more neighbouring keys in a row
// ("asdf", "qwerty"), or six or more letters without a vowel.
func mash(w string) bool {
	if !hasLetter(w) {
		return false // a number beside words ("2") is neither
	}
	n := utf8.RuneCountInString(w)
	if n >= 3 && strings.Count(w, w[:1]) == len(w) {
		return true
	}
	if n >= 4 {
		for _, row := range keyboardRows {
			if strings.Contains(row, w) {
				return true
			}
		}
		for _, row := range keyboardRows {
			// "asdfgh1", "qwerty123": a row prefix of four or more, then digits
			if p := len(commonRun(w, row)); p >= 4 && strings.TrimLeft(w[p:], "0123456789") == "" {
				return true
			}
		}
	}
	if n >= 6 && !strings.ContainsAny(w, "aeiouy") && isASCIILetters(w) {
		return true
	}
	return false
}

// commonRun returns the longest prefix of w found in row.
func commonRun(w, row string) string {
	for k := len(w); k > 0; k-- {
		if strings.Contains(row, w[:k]) {
			return w[:k]
		}
	}
	return ""
}

func hasLetter(w string) bool {
	for _, r := range w {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

func isASCIILetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// classifyWords applies the rules, HIM first:
//
//   - HIM: the catalog's own word; "health information" or "health info"
//     (technology,
//     management, administration, technician); "medical records",
//     "health records", "medical record administration"; the abbreviations
//     HIM, HIT, HIIM, HIMT, RHIT, RHIA; "information management" with
//     "health" or "medical".
//   - coding: "coding" or "coder" (medical, billing and coding, inpatient
//     coding ...), unless it is about computers (software, computer,
//     programming, web, bootcamp); the catalog's own word; coding
//     credentials named as the field (CPC, CCA, CCS).
//   - other: anything else (Business, Nursing, Health Informatics, Health
//     Administration, Medical Billing).
func classifyWords(words []string) string {
	has := func(w string) bool {
		for _, x := range words {
			if x == w {
				return true
			}
		}
		return false
	}
	seq := func(a, b string) bool {
		for i := 0; i+1 < len(words); i++ {
			if words[i] == a && strings.HasPrefix(words[i+1], b) {
				return true
			}
		}
		return false
	}
	switch {
	case has("him"), has("hit"), has("hiim"), has("himt"), has("rhit"), has("rhia"):
		return FieldHIM
	case seq("health", "information"), seq("health", "info") && !seq("health", "informatics"), seq("medical", "record"), seq("health", "record"), seq("patient", "record"):
		return FieldHIM
	case seq("information", "management") && (has("health") || has("medical") || has("healthcare")):
		return FieldHIM
	}
	if has("coding") || has("coder") || has("coders") || has("cpc") || has("cca") || has("ccs") {
		for _, w := range []string{"software", "computer", "computers", "programming", "web", "bootcamp", "python", "java", "javascript"} {
			if has(w) {
				return FieldOther
			}
		}
		return FieldCoding
	}
	return FieldOther
}
