package pathway

import (
	"slices"
	"strconv"
	"strings"
)

// CTDL exports a pathway as Credential Transparency Description Language
// JSON-LD (https://credreg.net/ctdl/terms): a ceterms:Pathway and its
// components in an @graph.
//
// With p nil the whole catalog becomes one pathway: every education step,
// training, credential, experience requirement and role is a component, and
// eligibility rules become nested ceterms:ComponentCondition trees
// (requiredNumber, targetComponent, logicalOperator). With a plan, the
// pathway holds the target route and the next steps; it may branch toward
// several destinations (the target plus credentials the next steps open),
// which CTDL leaves open but does not forbid.
//
// Components are linked both ways with ceterms:precedes / ceterms:precededBy
// and, from destination downwards, with ceterms:hasChild. Identifiers are
// URNs: nothing here is published to the Credential Registry, so there are
// no CTIDs. The logical operator values (logical:And, logical:Or) follow
// the CTDL concept scheme as we understand it; check them before publishing.
func CTDL(cat *Catalog, p *Plan) map[string]any {
	b := &ctdlBuilder{cat: cat, comps: map[string]map[string]any{}, edges: map[string][]string{}}
	if p == nil {
		b.id = "urn:clerkpath:pathway:catalog:" + cat.Version
		b.name = "Health information careers (clerkpath catalog " + cat.Version + ")"
		b.catalog()
	} else {
		b.id = "urn:clerkpath:pathway:plan:" + p.Today
		b.name = "Next steps as of " + p.Today
		if p.Target != nil {
			b.id += ":" + p.Target.Target
			b.name = "Plan toward " + p.Target.Target + " as of " + p.Today
		}
		b.plan(p)
	}
	return b.document()
}

const (
	ctdlContext   = "https://credreg.net/ctdl/schema/context/json"
	ctdlAnd       = "logical:And"
	ctdlOr        = "logical:Or"
	componentBase = "urn:clerkpath:component:"
)

type ctdlBuilder struct {
	cat      *Catalog
	id, name string
	comps    map[string]map[string]any
	order    []string
	edges    map[string][]string // from -> components it precedes
	dest     []string
}

func lang(s string) map[string]string { return map[string]string{"en-US": s} }

func (b *ctdlBuilder) component(id, typ, name, desc string) map[string]any {
	if c, ok := b.comps[id]; ok {
		return c
	}
	c := map[string]any{
		"@id":              id,
		"@type":            typ,
		"ceterms:name":     lang(name),
		"ceterms:isPartOf": b.id,
	}
	if desc != "" {
		c["ceterms:description"] = lang(desc)
	}
	b.comps[id] = c
	b.order = append(b.order, id)
	return c
}

func (b *ctdlBuilder) link(from, to string) {
	if from != to && !slices.Contains(b.edges[from], to) {
		b.edges[from] = append(b.edges[from], to)
	}
}

func (b *ctdlBuilder) destination(id string) {
	if !slices.Contains(b.dest, id) {
		b.dest = append(b.dest, id)
	}
}

func (b *ctdlBuilder) addCondition(id string, cond map[string]any) {
	c := b.comps[id]
	list, _ := c["ceterms:hasCondition"].([]map[string]any)
	c["ceterms:hasCondition"] = append(list, cond)
}

func degreeType(level string) string {
	switch level {
	case LevelHighSchool:
		return "ceterms:SecondarySchoolDiploma"
	case LevelCertificate:
		return "ceterms:Certificate"
	case LevelAssociate:
		return "ceterms:AssociateDegree"
	case LevelBachelor:
		return "ceterms:BachelorDegree"
	case LevelMaster:
		return "ceterms:MasterDegree"
	}
	return "ceterms:Credential"
}

func (b *ctdlBuilder) webpage(c map[string]any, source string) {
	if u := b.cat.SourceURL(source); strings.HasPrefix(u, "http") {
		c["ceterms:subjectWebpage"] = u
	}
}

func (b *ctdlBuilder) programComponent(pi int) string {
	pr := &b.cat.Education[pi]
	id := componentBase + "education:" + pr.Code
	c := b.component(id, "ceterms:CredentialComponent", pr.Title, pr.Note)
	c["ceterms:credentialType"] = degreeType(pr.Level)
	b.webpage(c, pr.Source)
	return id
}

func (b *ctdlBuilder) trainingComponent(ti int) string {
	t := &b.cat.Trainings[ti]
	id := componentBase + "training:" + t.Code
	c := b.component(id, "ceterms:CourseComponent", t.Title, t.Note)
	b.webpage(c, t.Source)
	return id
}

func (b *ctdlBuilder) credentialComponent(ci int) string {
	cr := &b.cat.Credentials[ci]
	id := componentBase + "credential:" + cr.Code
	desc := cr.Name + " (" + cr.Issuer + ")"
	if cr.Eligibility.Confidence == Unknown {
		desc += "; eligibility rules unknown — check with " + cr.Issuer
	}
	c := b.component(id, "ceterms:CredentialComponent", cr.Code, desc)
	c["ceterms:credentialType"] = "ceterms:Certification"
	b.webpage(c, cr.Source)
	return id
}

func (b *ctdlBuilder) experienceComponent(area, months int) string {
	id := componentBase + "experience:" + areaName(area) + ":" + strconv.Itoa(months)
	b.component(id, "ceterms:WorkExperienceComponent", describeExp(area, months), "")
	return id
}

// catalog exports every item, with eligibility rules as conditions.
func (b *ctdlBuilder) catalog() {
	cat := b.cat
	for pi := range cat.Education {
		id := b.programComponent(pi)
		b.prereqCondition(id, cat.c.progPre[pi])
	}
	for ti := range cat.Trainings {
		id := b.trainingComponent(ti)
		b.prereqCondition(id, cat.c.trainPre[ti])
	}
	for ci := range cat.Credentials {
		id := b.credentialComponent(ci)
		if n := cat.c.elig[ci]; n != nil {
			b.addCondition(id, b.ruleCondition(n, id))
		}
	}
	for ri := range cat.Roles {
		r := &cat.Roles[ri]
		id := componentBase + "job:" + r.Code
		c := b.component(id, "ceterms:JobComponent", r.Title, r.Note)
		if r.ONET != "" {
			c["ceterms:occupationType"] = []map[string]any{{
				"@type":                 "ceterms:CredentialAlignmentObject",
				"ceterms:codedNotation": r.ONET,
				"ceterms:framework":     "https://www.onetcenter.org/taxonomy.html",
			}}
		}
		if n := cat.c.roleReq[ri]; n != nil {
			b.addCondition(id, b.ruleCondition(n, id))
		}
	}
	// Destinations are the tops of the graph: what nothing else leads on from.
	for _, id := range b.order {
		typ := b.comps[id]["@type"]
		if (typ == "ceterms:JobComponent" || strings.Contains(id, ":credential:")) && len(b.edges[id]) == 0 {
			b.destination(id)
		}
	}
}

func (b *ctdlBuilder) itemComponent(r itemRef) string {
	switch r.kind {
	case itemProgram:
		return b.programComponent(r.idx)
	case itemTraining:
		return b.trainingComponent(r.idx)
	}
	return b.credentialComponent(r.idx)
}

func (b *ctdlBuilder) prereqCondition(id string, pre []itemRef) {
	if len(pre) == 0 {
		return
	}
	targets := make([]string, 0, len(pre))
	for _, r := range pre {
		t := b.itemComponent(r)
		targets = append(targets, t)
		b.link(t, id)
	}
	b.addCondition(id, componentCondition("prerequisites (education prerequisites are checked by level)", len(targets), ctdlAnd, targets))
}

// componentCondition is a condition met by required of the targets, joined
// by op (ctdlAnd or ctdlOr).
func componentCondition(desc string, required int, op string, targets []string) map[string]any {
	return map[string]any{
		"@type":                   "ceterms:ComponentCondition",
		"ceterms:description":     lang(desc),
		"ceterms:requiredNumber":  required,
		"ceterms:logicalOperator": op,
		"ceterms:targetComponent": targets,
	}
}

// leafTargets lists the components that satisfy a leaf rule.
func (b *ctdlBuilder) leafTargets(n *node) []string {
	switch n.kind {
	case nodeEdu:
		var out []string
		for pi := range b.cat.Education {
			pr := &b.cat.Education[pi]
			if eduMatch(n, eduEntry{level: levelRank(pr.Level), field: pr.Field, cahiim: pr.CAHIIM, status: statusBit(StatusCompleted)}) {
				out = append(out, b.programComponent(pi))
			}
		}
		return out
	case nodeExp:
		return []string{b.experienceComponent(n.area, n.months)}
	case nodeCred:
		return []string{b.credentialComponent(n.idx)}
	case nodeTrain:
		return []string{b.trainingComponent(n.idx)}
	}
	return nil
}

// ruleCondition turns a rule into a ComponentCondition tree and links every
// component it names to owner.
func (b *ctdlBuilder) ruleCondition(n *node, owner string) map[string]any {
	desc := b.cat.describe(n)
	if n.uncertain {
		desc += " (known from secondary sources only)"
	}
	if n.note != "" {
		desc += "; " + n.note
	}
	cond := map[string]any{"@type": "ceterms:ComponentCondition", "ceterms:description": lang(desc)}
	var targets []string
	var nested []map[string]any
	op, required := ctdlAnd, 1
	switch n.kind {
	case nodeAll, nodeAny:
		for _, k := range n.kids {
			if lt := b.leafTargets(k); len(lt) == 1 && !k.uncertain && k.note == "" {
				targets = append(targets, lt[0])
				b.link(lt[0], owner)
				continue
			}
			nested = append(nested, b.ruleCondition(k, owner))
		}
		required = len(n.kids)
		if n.kind == nodeAny {
			op, required = ctdlOr, 1
		}
	case nodeOpen:
		required = 0
	default:
		targets = b.leafTargets(n)
		for _, t := range targets {
			b.link(t, owner)
		}
		if len(targets) > 1 {
			op = ctdlOr
		}
	}
	cond["ceterms:requiredNumber"] = required
	cond["ceterms:logicalOperator"] = op
	if len(targets) > 0 {
		cond["ceterms:targetComponent"] = targets
	}
	if len(nested) > 0 {
		cond["ceterms:hasCondition"] = nested
	}
	return cond
}

// plan exports a Plan: the target route, the next steps, and what they open.
func (b *ctdlBuilder) plan(p *Plan) {
	if p.Target != nil {
		b.targetRoute(p.Target)
	}
	b.nextSteps(p.NextSteps)
}

func stepID(s *Step) string { return componentBase + s.Kind + ":" + s.Code }

// stepComponent makes a component for a step; credential steps reuse the
// catalog credential component, which carries its type and source page.
func (b *ctdlBuilder) stepComponent(s *Step) string {
	id := stepID(s)
	switch s.Kind {
	case KindCredential:
		if ci, ok := b.cat.c.cred[s.Code]; ok {
			return b.credentialComponent(ci)
		}
		b.component(id, "ceterms:CredentialComponent", s.Code, s.Why)
	case KindEducation:
		c := b.component(id, "ceterms:CredentialComponent", s.Title, s.Why)
		if pr := b.cat.Program(s.Code); pr != nil {
			c["ceterms:credentialType"] = degreeType(pr.Level)
			b.webpage(c, pr.Source)
		}
	case KindTraining:
		b.component(id, "ceterms:CourseComponent", s.Title, s.Why)
	default:
		b.component(id, "ceterms:WorkExperienceComponent", s.Title, s.Why)
	}
	return id
}

// targetRoute exports the route to the target: each step precedes the
// step it is needed for, which asks for all of them; the target is the
// destination.
func (b *ctdlBuilder) targetRoute(t *TargetPlan) {
	preds := map[string][]string{}
	byCode := map[string]string{}
	for i := range t.Steps {
		id := b.stepComponent(&t.Steps[i])
		if t.Steps[i].Kind != KindExperience { // NeededFor names catalog items only
			byCode[t.Steps[i].Code] = id
		}
	}
	for i := range t.Steps {
		s := &t.Steps[i]
		if to, ok := byCode[s.NeededFor]; ok {
			id := stepID(s)
			b.link(id, to)
			preds[to] = append(preds[to], id)
		}
	}
	for _, to := range sortedKeys(preds) {
		if _, ok := b.comps[to]; !ok {
			continue
		}
		b.addCondition(to, componentCondition("all steps of the planned route", len(preds[to]), ctdlAnd, preds[to]))
	}
	b.destination(componentBase + KindCredential + ":" + t.Target)
}

// nextSteps exports the next steps (renewals aside): each precedes the
// credentials it makes the seeker eligible for, which any one of them opens.
func (b *ctdlBuilder) nextSteps(steps []Step) {
	unlockedBy := map[string][]string{}
	for i := range steps {
		s := &steps[i]
		if s.Kind == KindRenewal {
			continue // keeping a held credential is not a component of a pathway
		}
		id := b.stepComponent(s)
		if s.Kind == KindCredential {
			b.destination(id)
		}
		for _, code := range s.Unlocks {
			ci, ok := b.cat.c.cred[code]
			if !ok {
				continue
			}
			to := b.credentialComponent(ci)
			b.link(id, to)
			b.destination(to)
			unlockedBy[to] = append(unlockedBy[to], id)
		}
	}
	for _, to := range sortedKeys(unlockedBy) {
		b.addCondition(to, componentCondition("any one of these next steps makes you eligible", 1, ctdlOr, unlockedBy[to]))
	}
}

func (b *ctdlBuilder) document() map[string]any {
	precededBy := map[string][]string{}
	for from, tos := range b.edges {
		for _, to := range tos {
			precededBy[to] = append(precededBy[to], from)
		}
	}
	ids := slices.Clone(b.order)
	slices.Sort(ids)
	graph := make([]any, 0, len(ids)+1)
	slices.Sort(b.dest)
	pathway := map[string]any{
		"@id":                             b.id,
		"@type":                           "ceterms:Pathway",
		"ceterms:name":                    lang(b.name),
		"ceterms:hasDestinationComponent": b.dest,
		"ceterms:hasChild":                b.dest,
		"ceterms:hasPart":                 ids,
	}
	graph = append(graph, pathway)
	for _, id := range ids {
		c := b.comps[id]
		if tos := b.edges[id]; len(tos) > 0 {
			s := slices.Clone(tos)
			slices.Sort(s)
			c["ceterms:precedes"] = s
		}
		if froms := precededBy[id]; len(froms) > 0 {
			slices.Sort(froms)
			c["ceterms:precededBy"] = froms
			c["ceterms:hasChild"] = froms
		}
		if slices.Contains(b.dest, id) {
			c["ceterms:isDestinationComponentOf"] = b.id
		}
		graph = append(graph, c)
	}
	return map[string]any{"@context": ctdlContext, "@graph": graph}
}
