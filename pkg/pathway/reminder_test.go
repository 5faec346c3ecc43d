package pathway

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCatalogRejectsBadReminders(t *testing.T) {
	good := string(defaultCatalogYAML)
	for _, tc := range []struct {
		name, old, new, field, msg string
	}{
		{"unknown audience", "      for: holders\n", "      for: managers\n", "trainings[code_set_updates_ce].reminder.for", "unknown audience"},
		{"unknown holder", "holders: [CCA, CCS,", "holders: [CCA, XYZ,", "trainings[code_set_updates_ce].reminder.holders[1]", "unknown credential"},
		{"bad date", `{on: "10-01",`, `{on: "10-32",`, "trainings[code_set_updates_ce].reminder.recurrence.yearly[0].on", "want MM-DD"},
		{"dates on an unknown recurrence", "        text: \"commonly yearly; not a credential requirement\"\n        confidence: unknown\n",
			"        text: \"commonly yearly; not a credential requirement\"\n        confidence: unknown\n        yearly: [{on: \"01-01\", what: x, confidence: confirmed, source: icd10_update_calendar}]\n",
			"trainings[privacy_security_awareness].reminder.recurrence.yearly", "no dates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("catalog lacks %q", tc.old)
			}
			_, err := LoadCatalog([]byte(strings.Replace(good, tc.old, tc.new, 1)))
			wantField(t, err, tc.field, tc.msg)
		})
	}
}

func TestCTDLLeavesRenewalStepsOut(t *testing.T) {
	cat := mustCatalog(t)
	var lapsed State
	for _, g := range goldenSeekers() {
		if g.name == "Lapsed RHIT" {
			lapsed = g.state
		}
	}
	p := recommendOn(t, cat, lapsed, goldenToday)
	if p.NextSteps[0].Kind != KindRenewal {
		t.Fatalf("first step %s, want a renewal step", p.NextSteps[0].Kind)
	}
	b, err := json.Marshal(CTDL(cat, &p))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), KindRenewal+":") {
		t.Error("the CTDL export names a renewal step as a pathway component")
	}
}
