package pathway

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// graphOf round-trips a CTDL document through JSON, as a consumer sees it.
func graphOf(t *testing.T, doc map[string]any) (pathway map[string]any, comps map[string]map[string]any) {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Context string           `json:"@context"`
		Graph   []map[string]any `json:"@graph"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Context != ctdlContext {
		t.Errorf("@context = %q", m.Context)
	}
	comps = map[string]map[string]any{}
	for _, n := range m.Graph {
		id, _ := n["@id"].(string)
		if n["@type"] == "ceterms:Pathway" {
			if pathway != nil {
				t.Fatal("two pathways in one graph")
			}
			pathway = n
			continue
		}
		if _, dup := comps[id]; dup {
			t.Fatalf("component %s twice", id)
		}
		comps[id] = n
	}
	if pathway == nil {
		t.Fatal("no ceterms:Pathway")
	}
	return pathway, comps
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// checkGraph asserts referential integrity: every reference names a
// component, and precedes/precededBy mirror each other.
func checkGraph(t *testing.T, pathway map[string]any, comps map[string]map[string]any) {
	t.Helper()
	for _, id := range strs(pathway["ceterms:hasDestinationComponent"]) {
		if _, ok := comps[id]; !ok {
			t.Errorf("destination %s is not a component", id)
		}
		if comps[id]["ceterms:isDestinationComponentOf"] != pathway["@id"] {
			t.Errorf("destination %s does not point back to the pathway", id)
		}
	}
	var walk func(owner string, conds any)
	walk = func(owner string, conds any) {
		list, _ := conds.([]any)
		for _, c := range list {
			cm := c.(map[string]any)
			if cm["@type"] != "ceterms:ComponentCondition" {
				t.Errorf("%s: condition of type %v", owner, cm["@type"])
			}
			if _, ok := cm["ceterms:requiredNumber"].(float64); !ok {
				t.Errorf("%s: condition without requiredNumber", owner)
			}
			if op := cm["ceterms:logicalOperator"]; op != ctdlAnd && op != ctdlOr {
				t.Errorf("%s: logicalOperator %v", owner, op)
			}
			for _, tgt := range strs(cm["ceterms:targetComponent"]) {
				if _, ok := comps[tgt]; !ok {
					t.Errorf("%s: target %s is not a component", owner, tgt)
				}
			}
			walk(owner, cm["ceterms:hasCondition"])
		}
	}
	for id, c := range comps {
		if c["ceterms:isPartOf"] != pathway["@id"] {
			t.Errorf("%s is not part of the pathway", id)
		}
		for _, next := range strs(c["ceterms:precedes"]) {
			if !slices.Contains(strs(comps[next]["ceterms:precededBy"]), id) {
				t.Errorf("%s precedes %s but is not in its precededBy", id, next)
			}
		}
		for _, prev := range strs(c["ceterms:precededBy"]) {
			if !slices.Contains(strs(comps[prev]["ceterms:precedes"]), id) {
				t.Errorf("%s precededBy %s without the reverse link", id, prev)
			}
		}
		walk(id, c["ceterms:hasCondition"])
	}
}

func TestCTDLWholeCatalog(t *testing.T) {
	cat := mustCatalog(t)
	pathway, comps := graphOf(t, CTDL(cat, nil))
	checkGraph(t, pathway, comps)

	wantComponents := len(cat.Education) + len(cat.Trainings) + len(cat.Credentials) + len(cat.Roles)
	if len(comps) <= wantComponents {
		t.Errorf("%d components, want every item plus experience components (> %d)", len(comps), wantComponents)
	}
	if dest := strs(pathway["ceterms:hasDestinationComponent"]); len(dest) < 2 {
		t.Errorf("a catalog branches: want several destinations, got %v", dest)
	}

	chps := comps[componentBase+"credential:CHPS"]
	conds, _ := chps["ceterms:hasCondition"].([]any)
	if len(conds) != 1 {
		t.Fatalf("CHPS conditions = %v", conds)
	}
	top := conds[0].(map[string]any)
	if top["ceterms:logicalOperator"] != ctdlOr || top["ceterms:requiredNumber"] != 1.0 {
		t.Errorf("CHPS top condition = %v, want 1 of several (Or)", top)
	}
	tiers, _ := top["ceterms:hasCondition"].([]any)
	if len(tiers) != 6 {
		t.Fatalf("CHPS has %d tiers, want 6", len(tiers))
	}
	first := tiers[0].(map[string]any)
	if first["ceterms:logicalOperator"] != ctdlAnd || first["ceterms:requiredNumber"] != 2.0 ||
		!slices.Contains(strs(first["ceterms:targetComponent"]), componentBase+"experience:privacy_security:72") {
		t.Errorf("first CHPS tier = %v, want high school AND 72 months", first)
	}
	exp := comps[componentBase+"experience:privacy_security:72"]
	if exp["@type"] != "ceterms:WorkExperienceComponent" {
		t.Errorf("experience component type = %v", exp["@type"])
	}
	// The 2017 proviso route's conditions are unknown: RHIT must not be
	// exported as a way to the RHIA.
	if slices.Contains(strs(comps[componentBase+"credential:RHIT"]["ceterms:precedes"]), componentBase+"credential:RHIA") {
		t.Error("RHIT must not precede RHIA: the proviso route is not plannable")
	}
	if raw, _ := json.Marshal(comps[componentBase+"credential:RHIA"]); strings.Contains(string(raw), "credential:RHIT") {
		t.Errorf("RHIA's conditions name RHIT: %s", raw)
	}
	if comps[componentBase+"training:practicode"]["@type"] != "ceterms:CourseComponent" {
		t.Error("trainings must be CourseComponents")
	}
	if comps[componentBase+"education:associate_him_cahiim"]["ceterms:credentialType"] != "ceterms:AssociateDegree" {
		t.Error("an associate program must be typed AssociateDegree")
	}
	if _, ok := comps[componentBase+"credential:CHDA"]["ceterms:hasCondition"]; ok {
		t.Error("CHDA's rules are unknown: it must carry no condition")
	}
}

func TestCTDLPlan(t *testing.T) {
	cat := mustCatalog(t)
	p := recommend(t, cat, State{Education: []Education{highSchool()}, Experience: []Experience{exp(AreaPrivacySecurity, 12)}, Target: "CHPS"})
	pathway, comps := graphOf(t, CTDL(cat, &p))
	checkGraph(t, pathway, comps)

	dest := strs(pathway["ceterms:hasDestinationComponent"])
	if !slices.Contains(dest, componentBase+"credential:CHPS") || len(dest) < 2 {
		t.Errorf("destinations = %v, want CHPS and the branches the next steps open", dest)
	}
	// The plan is CCA, then experience, then CHPS: both precede CHPS, and
	// CHPS requires both (And, 2).
	chps := comps[componentBase+"credential:CHPS"]
	for _, pre := range []string{componentBase + "credential:CCA", componentBase + "experience:privacy_security"} {
		if !slices.Contains(strs(chps["ceterms:precededBy"]), pre) {
			t.Errorf("CHPS not preceded by %s: %v", pre, chps["ceterms:precededBy"])
		}
	}
	var planCond map[string]any
	for _, c := range chps["ceterms:hasCondition"].([]any) {
		if cm := c.(map[string]any); cm["ceterms:logicalOperator"] == ctdlAnd {
			planCond = cm
		}
	}
	if planCond == nil || planCond["ceterms:requiredNumber"] != 2.0 {
		t.Errorf("CHPS plan condition = %v, want And of 2", planCond)
	}
	if comps[componentBase+"experience:privacy_security"]["@type"] != "ceterms:WorkExperienceComponent" {
		t.Error("experience step must be a WorkExperienceComponent")
	}

	// Same plan, same document.
	a, _ := json.Marshal(CTDL(cat, &p))
	b, _ := json.Marshal(CTDL(cat, &p))
	if string(a) != string(b) {
		t.Error("CTDL export is not deterministic")
	}
}
