package pathway

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// compiled holds the catalog's indexes and rules in evaluation-ready form, so
// that Recommend does integer comparisons instead of string lookups.
type compiled struct {
	source, issuer, prog, train, cred, role map[string]int
	items                                   map[string]itemRef // every program, training and credential code

	elig    []*node // by credential index; nil when the rules are unknown
	rec     []*node // recommended preparation, advice only
	roleReq []*node // by role index
	appr    []*apprenticeRule

	progPre  [][]itemRef
	trainPre [][]itemRef

	// coveredBy[i] is the set of credentials that satisfy a rule asking for
	// credential i: i itself and every credential superseding it.
	coveredBy []uint64
	// supersededBy[i] is the set of credentials that supersede i.
	supersededBy []uint64

	// thresholds[a] lists, ascending, the experience months that required
	// rules ask for in area a (slot numAreas is "any"); the engine proposes
	// experience steps that reach them.
	thresholds [numAreas + 1][]int
}

type itemKind uint8

const (
	itemProgram itemKind = iota + 1
	itemTraining
	itemCredential
)

type itemRef struct {
	kind itemKind
	idx  int
}

type nodeKind uint8

const (
	nodeAll nodeKind = iota
	nodeAny
	nodeOpen
	nodeEdu
	nodeExp
	nodeCred
	nodeTrain
)

// node is a compiled Rule.
type node struct {
	kind nodeKind
	kids []*node

	level  int // education
	exact  bool
	field  string
	cahiim bool
	status uint8 // bit set of statusBit values

	area   int // experience; -1 means any area
	months int

	idx  int    // credential or training index
	mask uint64 // credential: the held credentials that satisfy it (coveredBy)

	uncertain bool // a route known only from secondary sources
	note      string
}

type apprenticeRule struct {
	suffix  string
	area    int
	months  int
	credits []credit
}

type credit struct {
	title  string
	rule   *node
	months int
	note   string
	// training is the one training the rule names, or -1: the planner
	// proposes that training as a way to earn the credit.
	training int
}

func entryPath(list string, i int, code string) string {
	if code == "" {
		return list + "[" + strconv.Itoa(i) + "]"
	}
	return list + "[" + code + "]"
}

// compileCatalog validates cat, recording every problem in fs, and builds the
// indexes. The result is only meaningful when fs stays empty.
func compileCatalog(cat *Catalog, fs *apierr.Fields) compiled {
	c := compiled{
		source: map[string]int{}, issuer: map[string]int{}, prog: map[string]int{},
		train: map[string]int{}, cred: map[string]int{}, role: map[string]int{},
		items: map[string]itemRef{},
	}
	if strings.TrimSpace(cat.Version) == "" {
		fs.Add("version", "required: the catalog must be versioned")
	}
	c.indexSources(fs, cat)
	c.indexIssuers(fs, cat)
	c.indexCodes(fs, cat)
	c.supersedes(fs, cat)
	// Issuer policies refer to credentials, so they are checked once codes are known.
	for i := range cat.Issuers {
		c.checkRecert(fs, entryPath("issuers", i, cat.Issuers[i].Code)+".recert", cat, &cat.Issuers[i])
	}
	c.compileEducation(fs, cat)
	c.compileTrainings(fs, cat)
	c.compileCredentials(fs, cat)
	c.compileRoles(fs, cat)
	if len(*fs) == 0 {
		c.checkCycles(fs, cat)
	}
	if len(*fs) == 0 {
		c.collectThresholds()
	}
	return c
}

// indexSources checks the sources and indexes them by id.
func (c *compiled) indexSources(fs *apierr.Fields, cat *Catalog) {
	for i, s := range cat.Sources {
		p := entryPath("sources", i, s.ID)
		switch {
		case s.ID == "":
			fs.Add(p+".id", "required")
		case hasKey(c.source, s.ID):
			fs.Add(p+".id", "duplicate source id %q", s.ID)
		default:
			c.source[s.ID] = i
		}
		if s.URL == "" && s.Citation == "" {
			fs.Add(p, "missing source: give a url, or a citation when no address was recorded")
		}
		if s.URL != "" && !strings.HasPrefix(s.URL, "https://") && !strings.HasPrefix(s.URL, "http://") {
			fs.Add(p+".url", "must be an http(s) address, got %q", s.URL)
		}
		if h := forbiddenSourceHost(s.URL); h != "" {
			fs.Add(p+".url", "%s is not a public page of the issuer (%s): cite the issuer's public page", s.URL, h)
		}
		if _, err := time.Parse(time.DateOnly, s.Checked); err != nil {
			fs.Add(p+".checked", "required: the day the source was last read, YYYY-MM-DD (got %q)", s.Checked)
		}
	}
}

// indexIssuers checks the issuers (not yet their recertification
// policies, which name credentials) and indexes them by code.
func (c *compiled) indexIssuers(fs *apierr.Fields, cat *Catalog) {
	for i := range cat.Issuers {
		is := &cat.Issuers[i]
		p := entryPath("issuers", i, is.Code)
		switch {
		case is.Code == "":
			fs.Add(p+".code", "required")
		case hasKey(c.issuer, is.Code):
			fs.Add(p+".code", "duplicate issuer code %q", is.Code)
		default:
			c.issuer[is.Code] = i
		}
		if is.Name == "" {
			fs.Add(p+".name", "required")
		}
		c.checkSource(fs, p+".source", is.Source, true)
	}
}

// indexCodes indexes education, trainings, credentials and roles by code,
// reporting missing and duplicate codes: codes share one namespace.
func (c *compiled) indexCodes(fs *apierr.Fields, cat *Catalog) {
	// Prerequisites name codes without a kind.
	claim := func(p, code string, ref itemRef) {
		switch {
		case code == "":
			fs.Add(p+".code", "required")
		case hasKey(c.items, code) || hasKey(c.role, code):
			fs.Add(p+".code", "duplicate code %q", code)
		default:
			c.items[code] = ref
		}
	}
	for i, pr := range cat.Education {
		claim(entryPath("education", i, pr.Code), pr.Code, itemRef{itemProgram, i})
		if pr.Code != "" {
			c.prog[pr.Code] = i
		}
	}
	for i, t := range cat.Trainings {
		claim(entryPath("trainings", i, t.Code), t.Code, itemRef{itemTraining, i})
		if t.Code != "" {
			c.train[t.Code] = i
		}
	}
	for i, cr := range cat.Credentials {
		claim(entryPath("credentials", i, cr.Code), cr.Code, itemRef{itemCredential, i})
		if cr.Code != "" {
			c.cred[cr.Code] = i
		}
	}
	for i, r := range cat.Roles {
		p := entryPath("roles", i, r.Code)
		switch {
		case r.Code == "":
			fs.Add(p+".code", "required")
		case hasKey(c.items, r.Code) || hasKey(c.role, r.Code):
			fs.Add(p+".code", "duplicate code %q", r.Code)
		default:
			c.role[r.Code] = i
		}
	}
	if len(cat.Credentials) > maxItems {
		fs.Add("credentials", "at most %d credentials are supported, got %d", maxItems, len(cat.Credentials))
	}
	if len(cat.Trainings) > maxItems {
		fs.Add("trainings", "at most %d trainings are supported, got %d", maxItems, len(cat.Trainings))
	}
}

// compileEducation checks the education programs and compiles their
// prerequisites.
func (c *compiled) compileEducation(fs *apierr.Fields, cat *Catalog) {
	c.progPre = make([][]itemRef, len(cat.Education))
	for i := range cat.Education {
		pr := &cat.Education[i]
		p := entryPath("education", i, pr.Code)
		if pr.Title == "" {
			fs.Add(p+".title", "required")
		}
		rank := levelRank(pr.Level)
		if rank < 0 {
			fs.Add(p+".level", "unknown level %q; allowed: %s", pr.Level, levelList)
		}
		if pr.Field != "" && !validField(pr.Field) {
			fs.Add(p+".field", "unknown field %q; allowed: %s", pr.Field, fieldList)
		}
		if pr.CAHIIM && rank == 0 {
			fs.Add(p+".cahiim_accredited", "CAHIIM accredits postsecondary programs only")
		}
		c.checkSource(fs, p+".source", pr.Source, true)
		c.checkFact(fs, p+".months", &pr.Months)
		c.checkFact(fs, p+".cost_usd", &pr.CostUSD)
		c.progPre[i] = c.prereqs(fs, p, pr.Prerequisites)
	}
}

// compileTrainings checks the trainings and compiles their prerequisites.
func (c *compiled) compileTrainings(fs *apierr.Fields, cat *Catalog) {
	c.trainPre = make([][]itemRef, len(cat.Trainings))
	for i := range cat.Trainings {
		t := &cat.Trainings[i]
		p := entryPath("trainings", i, t.Code)
		if t.Title == "" {
			fs.Add(p+".title", "required")
		}
		c.checkSource(fs, p+".source", t.Source, true)
		c.checkFact(fs, p+".months", &t.Months)
		c.checkFact(fs, p+".cost_usd", &t.CostUSD)
		c.trainPre[i] = c.prereqs(fs, p, t.Prerequisites)
		c.checkReminder(fs, p+".reminder", t.Reminder)
	}
}

// compileCredentials checks the credentials and compiles their
// eligibility, recommended and apprenticeship rules.
func (c *compiled) compileCredentials(fs *apierr.Fields, cat *Catalog) {
	c.elig = make([]*node, len(cat.Credentials))
	c.rec = make([]*node, len(cat.Credentials))
	c.appr = make([]*apprenticeRule, len(cat.Credentials))
	for i := range cat.Credentials {
		cr := &cat.Credentials[i]
		p := entryPath("credentials", i, cr.Code)
		if cr.Name == "" {
			fs.Add(p+".name", "required")
		}
		if !hasKey(c.issuer, cr.Issuer) {
			fs.Add(p+".issuer", "unknown issuer %q", cr.Issuer)
		}
		c.checkSource(fs, p+".source", cr.Source, true)
		switch cr.Confidence {
		case "", Confirmed, Secondary:
		default:
			fs.Add(p+".confidence", "must be confirmed or secondary, got %q", cr.Confidence)
		}
		c.elig[i] = c.requirement(fs, p+".eligibility", &cr.Eligibility)
		if cr.Recommended != nil {
			c.rec[i] = c.requirement(fs, p+".recommended", cr.Recommended)
		}
		if a := cr.Apprentice; a != nil {
			c.appr[i] = c.apprentice(fs, p+".apprentice", a)
		}
		c.checkFact(fs, p+".exam.minutes", &cr.Exam.Minutes)
		c.checkFact(fs, p+".exam.items", &cr.Exam.Items)
		for j := range cr.Exam.Fees {
			fp := p + ".exam.fees[" + strconv.Itoa(j) + "]"
			if cr.Exam.Fees[j].Label == "" {
				fs.Add(fp+".label", "required")
			}
			c.checkFact(fs, fp, &cr.Exam.Fees[j].Fact)
		}
		c.checkFact(fs, p+".recert_ceus", &cr.RecertCEUs)
	}
}

// compileRoles checks the roles and compiles what each requires.
func (c *compiled) compileRoles(fs *apierr.Fields, cat *Catalog) {
	c.roleReq = make([]*node, len(cat.Roles))
	for i := range cat.Roles {
		r := &cat.Roles[i]
		p := entryPath("roles", i, r.Code)
		if r.Title == "" {
			fs.Add(p+".title", "required")
		}
		c.checkSource(fs, p+".source", r.Source, true)
		c.roleReq[i] = c.requirement(fs, p+".requires", &r.Requires)
		c.checkFact(fs, p+".hourly_usd", &r.HourlyUSD)
	}
}

func hasKey[V any](m map[string]V, k string) bool { _, ok := m[k]; return ok }

// checkSource reports a missing or unknown source id.
func (c *compiled) checkSource(fs *apierr.Fields, path, id string, required bool) {
	if id == "" {
		if required {
			fs.Add(path, "missing source")
		}
		return
	}
	if !hasKey(c.source, id) {
		fs.Add(path, "unknown source %q", id)
	}
}

// checkFact normalises `value` into min/max and enforces the confidence
// contract: unknown facts carry no value, known ones carry a source.
func (c *compiled) checkFact(fs *apierr.Fields, path string, f *Fact) {
	if f.Value != nil {
		if f.Min != nil || f.Max != nil {
			fs.Add(path, "give either value or min/max, not both")
		}
		v := *f.Value
		f.Min, f.Max, f.Value = &v, &v, nil
	}
	switch f.Confidence {
	case Unknown:
		if f.Min != nil || f.Max != nil {
			fs.Add(path, "an unknown fact must not carry a value")
		}
		c.checkSource(fs, path+".source", f.Source, false)
		return
	case Confirmed, Secondary:
		c.checkSource(fs, path+".source", f.Source, true)
	case Estimate:
		if f.Note == "" {
			fs.Add(path+".note", "an estimate must say how it was derived")
		}
		c.checkSource(fs, path+".source", f.Source, false)
	case "":
		fs.Add(path+".confidence", "required; allowed: confirmed, secondary, estimate, unknown")
		return
	default:
		fs.Add(path+".confidence", "unknown confidence %q; allowed: confirmed, secondary, estimate, unknown", f.Confidence)
		return
	}
	if f.Min == nil && f.Max == nil {
		fs.Add(path, "a %s fact needs a value (or say confidence: unknown)", f.Confidence)
	}
	if (f.Min != nil && *f.Min < 0) || (f.Max != nil && *f.Max < 0) {
		fs.Add(path, "must not be negative")
	}
	if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
		fs.Add(path, "min %g is above max %g", *f.Min, *f.Max)
	}
}

func (c *compiled) prereqs(fs *apierr.Fields, path string, codes []string) []itemRef {
	refs := make([]itemRef, 0, len(codes))
	for j, code := range codes {
		ref, ok := c.items[code]
		if !ok {
			fs.Add(path+".prerequisites["+strconv.Itoa(j)+"]", "dangling prerequisite %q: no such education, training or credential", code)
			continue
		}
		refs = append(refs, ref)
	}
	return refs
}

func (c *compiled) requirement(fs *apierr.Fields, path string, r *Requirement) *node {
	switch r.Confidence {
	case Unknown:
		if r.Rule != nil {
			fs.Add(path+".rule", "rules marked unknown must not give a rule")
		}
		c.checkSource(fs, path+".source", r.Source, false)
		return nil
	case Confirmed, Secondary:
		c.checkSource(fs, path+".source", r.Source, true)
	default:
		fs.Add(path+".confidence", "got %q; allowed: confirmed, secondary, unknown", r.Confidence)
		return nil
	}
	if r.Rule == nil {
		fs.Add(path+".rule", "required (or say confidence: unknown)")
		return nil
	}
	return c.rule(fs, path+".rule", r.Rule, 0)
}

func (c *compiled) rule(fs *apierr.Fields, path string, r *Rule, depth int) *node {
	if depth > maxRuleDepth {
		fs.Add(path, "rule nested deeper than %d levels", maxRuleDepth)
		return nil
	}
	n := &node{note: r.Note, area: -1}
	switch r.Confidence {
	case "", Confirmed:
	case Secondary:
		n.uncertain = true
		c.checkSource(fs, path+".source", r.Source, true)
	default:
		fs.Add(path+".confidence", "got %q; allowed on a rule: confirmed, secondary", r.Confidence)
	}
	if r.Confidence == "" || r.Confidence == Confirmed {
		c.checkSource(fs, path+".source", r.Source, false)
	}

	set := 0
	for _, b := range []bool{len(r.AllOf) > 0, len(r.AnyOf) > 0, r.Open, r.Education != nil,
		r.Experience != nil, r.Credential != "", r.Training != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		fs.Add(path, "give exactly one of all_of, any_of, open, education, experience, credential, training (got %d)", set)
		return nil
	}
	switch {
	case len(r.AllOf) > 0 || len(r.AnyOf) > 0:
		kids, key := r.AllOf, ".all_of"
		n.kind = nodeAll
		if len(r.AnyOf) > 0 {
			kids, key, n.kind = r.AnyOf, ".any_of", nodeAny
		}
		for i := range kids {
			if k := c.rule(fs, path+key+"["+strconv.Itoa(i)+"]", &kids[i], depth+1); k != nil {
				n.kids = append(n.kids, k)
			}
		}
	case r.Open:
		n.kind = nodeOpen
	case r.Education != nil:
		educationRule(fs, path, n, r.Education)
	case r.Experience != nil:
		experienceRule(fs, path, n, r.Experience)
	case r.Credential != "":
		n.kind = nodeCred
		i, ok := c.cred[r.Credential]
		if !ok {
			fs.Add(path+".credential", "unknown credential code %q", r.Credential)
		} else if i < len(c.coveredBy) {
			n.mask = c.coveredBy[i]
		}
		n.idx = i
	case r.Training != "":
		n.kind = nodeTrain
		i, ok := c.train[r.Training]
		if !ok {
			fs.Add(path+".training", "unknown training code %q", r.Training)
		}
		n.idx = i
	}
	return n
}

// educationRule compiles an education leaf of a rule into n.
func educationRule(fs *apierr.Fields, path string, n *node, e *EducationRule) {
	n.kind = nodeEdu
	n.level, n.exact, n.field, n.cahiim = levelRank(e.Level), e.ExactLevel, e.Field, e.CAHIIM
	if n.level < 0 {
		fs.Add(path+".education.level", "unknown level %q; allowed: %s", e.Level, levelList)
	}
	if e.Field != "" && !validField(e.Field) {
		fs.Add(path+".education.field", "unknown field %q; allowed: %s", e.Field, fieldList)
	}
	for j, s := range e.Status {
		b := statusBit(s)
		if b == 0 {
			fs.Add(path+".education.status["+strconv.Itoa(j)+"]", "unknown status %q; allowed: %s", s, statusList)
		}
		n.status |= b
	}
	if n.status == 0 {
		n.status = statusBit(StatusCompleted)
	}
}

// experienceRule compiles an experience leaf of a rule into n.
func experienceRule(fs *apierr.Fields, path string, n *node, need *ExperienceRule) {
	n.kind = nodeExp
	n.months = need.Months
	if need.Area != AreaAny {
		n.area = areaIndex(need.Area)
		if n.area < 0 {
			fs.Add(path+".experience.area", "unknown area %q; allowed: %s, any", need.Area, areaList)
		}
	}
	if n.months <= 0 || n.months > maxMonths {
		fs.Add(path+".experience.months", "must be between 1 and %d, got %d", maxMonths, n.months)
	}
}

func (c *compiled) apprentice(fs *apierr.Fields, path string, a *Apprentice) *apprenticeRule {
	ar := &apprenticeRule{suffix: a.Suffix, area: areaIndex(a.Experience.Area), months: a.Experience.Months}
	if a.Suffix == "" {
		fs.Add(path+".suffix", "required")
	}
	if ar.area < 0 {
		fs.Add(path+".experience.area", "unknown area %q; allowed: %s", a.Experience.Area, areaList)
	}
	if ar.months <= 0 || ar.months > maxMonths {
		fs.Add(path+".experience.months", "must be between 1 and %d", maxMonths)
	}
	switch a.Confidence {
	case Confirmed, Secondary:
		c.checkSource(fs, path+".source", a.Source, true)
	default:
		fs.Add(path+".confidence", "got %q; allowed: confirmed, secondary", a.Confidence)
	}
	for j := range a.Credits {
		cr := &a.Credits[j]
		cp := path + ".credits[" + strconv.Itoa(j) + "]"
		if cr.Title == "" {
			fs.Add(cp+".title", "required")
		}
		if cr.Months <= 0 || cr.Months > maxMonths {
			fs.Add(cp+".months", "must be between 1 and %d", maxMonths)
		}
		n := c.rule(fs, cp+".rule", &cr.Rule, 0)
		if n != nil {
			ar.credits = append(ar.credits, credit{title: cr.Title, rule: n, months: cr.Months, note: cr.Note, training: firstTraining(n)})
		}
	}
	return ar
}

// firstTraining returns the index of the first training a rule names, or -1.
func firstTraining(n *node) int {
	if n.kind == nodeTrain {
		return n.idx
	}
	for _, k := range n.kids {
		if t := firstTraining(k); t >= 0 {
			return t
		}
	}
	return -1
}

func (c *compiled) checkRecert(fs *apierr.Fields, path string, cat *Catalog, is *Issuer) {
	r := &is.Recert
	c.checkFact(fs, path+".cycle_months", &r.CycleMonths)
	c.checkFact(fs, path+".grace_days", &r.GraceDays)
	if f := r.CycleMonths; f.Known() && (f.Max == nil || *f.Max < 1 || *f.Max > maxMonths || (f.Min != nil && *f.Min != *f.Max)) {
		fs.Add(path+".cycle_months", "must be one whole number of months between 1 and %d", maxMonths)
	}
	if f := r.GraceDays; f.Known() && (f.Max == nil || *f.Max > maxMonths*31 || (f.Min != nil && *f.Min != *f.Max)) {
		fs.Add(path+".grace_days", "must be one number of days between 0 and %d", maxMonths*31)
	}
	switch r.Due {
	case "", DueCycle, DueMembershipRenewal:
	default:
		fs.Add(path+".due", "unknown %q; allowed: cycle, membership_renewal", r.Due)
	}
	switch r.Combine {
	case CombineAdditive:
		c.checkFact(fs, path+".per_additional", &r.PerAdditional)
		c.checkFact(fs, path+".cap", &r.Cap)
	case CombineByCount:
		if r.ByCount == nil || len(r.ByCount.Values) == 0 {
			fs.Add(path+".by_count", "required when combine is by_count")
			break
		}
		if !slices.IsSorted(r.ByCount.Values) || r.ByCount.Values[0] <= 0 {
			fs.Add(path+".by_count.values", "must be positive and ascending")
		}
		switch r.ByCount.Confidence {
		case Confirmed, Secondary:
			c.checkSource(fs, path+".by_count.source", r.ByCount.Source, true)
		default:
			fs.Add(path+".by_count.confidence", "got %q; allowed: confirmed, secondary", r.ByCount.Confidence)
		}
	case CombinePerCredential, CombineUnknown:
	default:
		fs.Add(path+".combine", "unknown %q; allowed: additive, by_count, per_credential, unknown", r.Combine)
	}
	if sh := r.IssuerShare; sh != nil {
		if sh.Percent <= 0 || sh.Percent > 100 {
			fs.Add(path+".issuer_share.percent", "must be between 1 and 100, got %d", sh.Percent)
		}
		if _, err := time.Parse(time.DateOnly, sh.Since); err != nil {
			fs.Add(path+".issuer_share.since", "want YYYY-MM-DD, got %q", sh.Since)
		}
		switch sh.Confidence {
		case Confirmed, Secondary:
			c.checkSource(fs, path+".issuer_share.source", sh.Source, true)
		default:
			fs.Add(path+".issuer_share.confidence", "got %q; allowed: confirmed, secondary", sh.Confidence)
		}
	}
	if f := r.Fees; f != nil {
		c.checkFact(fs, path+".fees.first", &f.First)
		c.checkFact(fs, path+".fees.per_additional", &f.PerAdditional)
		c.checkFact(fs, path+".fees.member", &f.Member)
	}
	if r.Reinstatement.Confidence == "" {
		fs.Add(path+".reinstatement.confidence", "required: say what reinstating a lost credential takes, or confidence: unknown")
	} else if r.Reinstatement.Rule != nil {
		fs.Add(path+".reinstatement.rule", "reinstatement is described in its note, not a rule")
	} else {
		switch r.Reinstatement.Confidence {
		case Unknown:
			c.checkSource(fs, path+".reinstatement.source", r.Reinstatement.Source, false)
		case Confirmed, Secondary:
			c.checkSource(fs, path+".reinstatement.source", r.Reinstatement.Source, true)
			if r.Reinstatement.Note == "" {
				fs.Add(path+".reinstatement.note", "say what reinstatement needs")
			}
		default:
			fs.Add(path+".reinstatement.confidence", "got %q; allowed: confirmed, secondary, unknown", r.Reinstatement.Confidence)
		}
	}
}

// supersedes checks each credential's supersedes list and builds the
// coveredBy and supersededBy sets that rules and renewal use.
func (c *compiled) supersedes(fs *apierr.Fields, cat *Catalog) {
	n := len(cat.Credentials)
	c.coveredBy = make([]uint64, n)
	c.supersededBy = make([]uint64, n)
	for i := range n {
		c.coveredBy[i] = bit(i)
	}
	for i := range cat.Credentials {
		cr := &cat.Credentials[i]
		p := entryPath("credentials", i, cr.Code)
		if len(cr.Supersedes) > 0 {
			c.checkSource(fs, p+".supersedes_source", cr.SupersedesSource, true)
		}
		for j, code := range cr.Supersedes {
			jp := p + ".supersedes[" + strconv.Itoa(j) + "]"
			k, ok := c.cred[code]
			switch {
			case !ok:
				fs.Add(jp, "unknown credential code %q", code)
			case k == i:
				fs.Add(jp, "%s cannot supersede itself", code)
			case cat.Credentials[k].Issuer != cr.Issuer:
				fs.Add(jp, "%s is issued by %s, not %s: only an issuer's own credential can be replaced", code, cat.Credentials[k].Issuer, cr.Issuer)
			default:
				c.coveredBy[k] |= bit(i)
				c.supersededBy[k] |= bit(i)
			}
		}
	}
}

// forbiddenSourceHost names why a URL may not be shown as a source: an
// issuer's staging or QA host, or a third-party copy of an issuer's page.
func forbiddenSourceHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	for _, bad := range []struct{ host, why string }{
		{"cms-test.ahima.org", "an AHIMA staging host"},
		{"cms-qa.ahima.org", "an AHIMA staging host"},
		{"nasroo.com", "a third-party mirror"},
	} {
		if host == bad.host || strings.HasSuffix(host, "."+bad.host) {
			return bad.why
		}
	}
	return ""
}

// checkCycles rejects prerequisite loops: programs and trainings through
// their prerequisites, credentials through the credentials and trainings
// their eligibility rules require. A loop would make its members unreachable.
func (c *compiled) checkCycles(fs *apierr.Fields, cat *Catalog) {
	const (
		white = iota
		grey
		black
	)
	color := map[itemRef]int{}
	var stack []itemRef
	reported := false
	var visit func(r itemRef)
	visit = func(r itemRef) {
		color[r] = grey
		stack = append(stack, r)
		for _, next := range c.prerequisitesOf(r) {
			switch color[next] {
			case grey:
				if !reported {
					start := slices.Index(stack, next)
					names := make([]string, 0, len(stack)-start+1)
					for _, s := range stack[start:] {
						names = append(names, itemCode(cat, s))
					}
					names = append(names, itemCode(cat, next))
					fs.Add(kindList(next.kind)+"["+itemCode(cat, next)+"]", "prerequisite cycle: %s", strings.Join(names, " -> "))
					reported = true
				}
			case white:
				visit(next)
			}
		}
		stack = stack[:len(stack)-1]
		color[r] = black
	}
	// Visit in catalog order so the reported cycle is deterministic.
	for i := range cat.Education {
		if r := (itemRef{itemProgram, i}); color[r] == white {
			visit(r)
		}
	}
	for i := range cat.Trainings {
		if r := (itemRef{itemTraining, i}); color[r] == white {
			visit(r)
		}
	}
	for i := range cat.Credentials {
		if r := (itemRef{itemCredential, i}); color[r] == white {
			visit(r)
		}
	}
}

// itemCode is the catalog code of an education program, training or
// credential.
func itemCode(cat *Catalog, r itemRef) string {
	switch r.kind {
	case itemProgram:
		return cat.Education[r.idx].Code
	case itemTraining:
		return cat.Trainings[r.idx].Code
	}
	return cat.Credentials[r.idx].Code

}

// prerequisitesOf are the items r requires: a program's or training's
// prerequisites, or every credential and training a credential's
// eligibility rule names.
func (c *compiled) prerequisitesOf(r itemRef) []itemRef {
	switch r.kind {
	case itemProgram:
		return c.progPre[r.idx]
	case itemTraining:
		return c.trainPre[r.idx]
	}
	var out []itemRef
	var walk func(n *node)
	walk = func(n *node) {
		if n == nil {
			return
		}
		switch n.kind {
		case nodeCred:
			out = append(out, itemRef{itemCredential, n.idx})
		case nodeTrain:
			out = append(out, itemRef{itemTraining, n.idx})
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(c.elig[r.idx])
	return out

}

func kindList(k itemKind) string {
	switch k {
	case itemProgram:
		return "education"
	case itemTraining:
		return "trainings"
	}
	return "credentials"
}

func (c *compiled) collectThresholds() {
	var walk func(n *node)
	walk = func(n *node) {
		if n == nil {
			return
		}
		if n.kind == nodeExp {
			slot := n.area
			if slot < 0 {
				slot = numAreas
			}
			if !slices.Contains(c.thresholds[slot], n.months) {
				c.thresholds[slot] = append(c.thresholds[slot], n.months)
			}
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	for _, n := range c.elig {
		walk(n)
	}
	for _, n := range c.roleReq {
		walk(n)
	}
	for _, a := range c.appr {
		if a != nil && !slices.Contains(c.thresholds[a.area], a.months) {
			c.thresholds[a.area] = append(c.thresholds[a.area], a.months)
		}
	}
	for i := range c.thresholds {
		slices.Sort(c.thresholds[i])
	}
}
