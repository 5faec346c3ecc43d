package posting

import (
	"slices"
)

// Education is a minimum education level, ordered from lowest to highest;
// the empty value means the posting states none.
type Education string

const (
	EducationNone        Education = ""
	EducationHighSchool  Education = "high_school"
	EducationCertificate Education = "certificate" // a postsecondary non-degree award
	EducationAssociate   Education = "associate"
	EducationBachelor    Education = "bachelor"
	EducationMaster      Education = "master"
)

// Rank orders education levels: 0 for none or unknown, then 1 (high school)
// to 5 (master's).
func (e Education) Rank() int {
	switch e {
	case EducationHighSchool:
		return 1
	case EducationCertificate:
		return 2
	case EducationAssociate:
		return 3
	case EducationBachelor:
		return 4
	case EducationMaster:
		return 5
	}
	return 0
}

// Requirements is what a posting asks of a candidate, and what the job is.
// Lists are sorted and never nil, so the JSON form always has arrays.
type Requirements struct {
	Role     string `json:"role"`     // e.g. "coder", "cancer_registrar"; "" when the title matches no rule
	SOCCode  string `json:"soc_code"` // O*NET-SOC, e.g. "29-2072.00"
	WorkMode string `json:"work_mode"`

	// CredentialsRequired lists groups of alternatives: a candidate needs one
	// credential from every group. "RHIT and (CCS or CIC)" is
	// [["RHIT"], ["CCS", "CIC"]].
	CredentialsRequired [][]string `json:"credentials_required"`
	// CredentialsPreferred are wanted but not needed.
	CredentialsPreferred []string `json:"credentials_preferred"`
	// CredentialsOrEligible are needed, but being eligible for them (or
	// obtaining them within a period after hire) is enough.
	CredentialsOrEligible []string `json:"credentials_or_eligible"`

	// Routes are the ways to qualify (see Route), least demanding first;
	// never empty once extracted. CredentialsRequired, EducationMin and
	// ExperienceMonthsMin summarise what every route requires (SetRoutes).
	// Events written before routes existed have none: use Alternatives.
	Routes []Route `json:"routes,omitempty"`

	EducationMin                Education `json:"education_min"`
	ExperienceMonthsMin         int       `json:"experience_months_min"`
	ExperienceInLieuOfEducation bool      `json:"experience_in_lieu_of_education"`

	CodeSets   []string `json:"code_sets"`   // ICD-10-CM, ICD-10-PCS, CPT, HCPCS, …
	EHRSystems []string `json:"ehr_systems"` // Epic, Oracle Health (Cerner), …
	Encoders   []string `json:"encoders"`    // 3M, Optum, …
	Skills     []string `json:"skills"`      // release_of_information, hipaa, …
}

// Extract reads the requirements of a posting from its title and plain-text
// description with the DefaultExtractor.
func Extract(title, text string) Requirements {
	return DefaultExtractor().Extract(title, text)
}

// Extract reads the requirements of a posting from its title and plain-text
// description (run HTML through PlainText first).
//
// Credentials are found by the dictionary's codes and full names. Their
// strength comes from cue words in the same clause ("required", "preferred",
// "or eligible", "not required", "we pay for your … exam"), then from the
// section heading above them ("Preferred Qualifications"), and is "required"
// by default, except in sentences about the employer's own staff. Credentials
// joined by "or", "/" or commas form one group of alternatives; "and" and
// "with" start a new group.
//
// What a posting asks is read as routes, the ways to qualify (see Route and
// extract_routes.go): lists of alternatives ("one of the following", lines
// joined by "OR", "X; or 3 years of experience", "will also consider Y with
// experience") give one route each, a level ladder counts at its lowest
// level, and the summary fields hold what every route requires.
func (x *Extractor) Extract(title, text string) Requirements {
	return x.extract(foldText(title), foldText(text))
}

// extract is Extract on text that is already folded (PlainText's output is).
func (x *Extractor) extract(title, text string) Requirements {
	sc, _ := x.scratch.Get().(*scratch)
	if sc == nil {
		sc = new(scratch)
	}
	defer x.scratch.Put(sc)
	e := extraction{scratch: sc, lastGroup: -1}
	x.titleFacts(title, &e)
	e.title = title
	x.scan(title, &e, true)
	x.scan(text, &e, false)
	return e.result()
}

// maxRequiredGroups bounds the required groups of one posting. Real
// postings have one to four; the bound keeps consolidation cheap on junk
// that names hundreds.
const maxRequiredGroups = 32

// extraction accumulates the facts of one Extract call.
type extraction struct {
	*scratch

	role, soc  string
	title      string
	titleMode  string
	textMode   string
	required   []reqGroup
	lastGroup  int     // index in required of the last group, for "CPC-A will be considered"
	negated    []group // groups the last clause negated
	preferred  []string
	orEligible []string
	edu, exp   []slotValue // education ranks and months of experience, by slot
	hsRequired bool        // a high-school diploma is required
	// lieuMonths of experience stand in for a degree ("in lieu of a
	// degree, 4 years"); discardExperience keeps a clause saying so from
	// requiring them of everyone.
	lieuMonths        int
	discardExperience bool
	inLieu            bool
	codeSets, ehrs    []string
	encoders, skills  []string

	// linePreferred are the credentials the current line prefers, for "CPC
	// strongly preferred; will hire CPC-A".
	linePreferred []string

	// Where requirements go (see extract_routes.go).
	blocks   []block
	lineAt   slot  // the slot of the current line
	override *slot // the slot of the rest of the clause ("will also consider … with 3 years")
}

// reqGroup is a required group of alternatives and the slot it belongs to.
type reqGroup struct {
	ids []string
	at  slot
}

// slotValue is an education rank or a number of months, in a slot.
type slotValue struct {
	at slot
	n  int
}

// slotAt returns the slot of a requirement found at offset pos of the
// current line.
func (e *extraction) slotAt(pos int) slot {
	if e.override != nil {
		return *e.override
	}
	// The last cut at or before pos; cuts are sorted.
	i, found := slices.BinarySearch(e.cuts, pos)
	if found {
		i++
	}
	if i == 0 {
		return e.lineAt
	}
	return e.cutAt[i-1]
}

func (e *extraction) addEducation(pos, rank int) {
	at := e.slotAt(pos)
	if rank == 0 || e.dropped(at) {
		return
	}
	if rank == EducationHighSchool.Rank() {
		e.hsRequired = true
	}
	e.edu = addMax(e.edu, at, rank)
}

func (e *extraction) addExperience(pos, months int) {
	if e.discardExperience {
		return
	}
	if at := e.slotAt(pos); !e.dropped(at) {
		e.exp = addMax(e.exp, at, months)
	}
}

// addMax keeps the most of n and what list holds for the slot; the list
// has at most one entry per slot, so it stays bounded by the slots.
func addMax(list []slotValue, at slot, n int) []slotValue {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].at == at {
			list[i].n = max(list[i].n, n)
			return list
		}
	}
	return append(list, slotValue{at, n})
}

func (e *extraction) apply(g group, s strength) {
	at := e.slotAt(g.at)
	if e.dropped(at) {
		return
	}
	ids := make([]string, len(g.ms))
	for i, m := range g.ms {
		ids[i] = m.id
	}
	switch s {
	case strengthRequired:
		slices.Sort(ids)
		if i := slices.IndexFunc(e.required, func(g reqGroup) bool { return g.at == at && slices.Equal(g.ids, ids) }); i >= 0 {
			e.lastGroup = i // said again
			return
		}
		if len(e.required) == maxRequiredGroups {
			return
		}
		e.required = append(e.required, reqGroup{ids, at})
		e.lastGroup = len(e.required) - 1
	case strengthPreferred:
		for _, id := range ids {
			e.preferred = addUnique(e.preferred, id)
			e.linePreferred = addUnique(e.linePreferred, id)
		}
	case strengthEligible:
		for _, id := range ids {
			e.orEligible = addUnique(e.orEligible, id)
		}
	}
}

// joinLast adds g's credentials to the last required group, as alternatives.
func (e *extraction) joinLast(g group) bool {
	if e.lastGroup < 0 || e.lastGroup >= len(e.required) {
		return false
	}
	last := &e.required[e.lastGroup]
	for _, m := range g.ms {
		last.ids = addUnique(last.ids, m.id)
	}
	slices.Sort(last.ids)
	return true
}

// educationRoute makes the experience required so far one route and the
// rest of the clause another: "Two years of experience … Substitution: an
// associate degree may substitute for the required experience" is {2
// years} or {associate degree}. It reports false when no experience is
// required of every route yet.
func (e *extraction) educationRoute() bool {
	i := slices.IndexFunc(e.exp, func(v slotValue) bool { return v.at.block == 0 })
	if i < 0 {
		return false
	}
	b := e.newBlock(false)
	if b == 0 {
		return false
	}
	e.exp[i].at = e.newItem(b, 0)
	at := e.newItem(b, 0)
	e.override = &at
	return true
}

// alternativeRoute starts a route beside the last required group: "RHIT
// required. Will also consider a CCS with 3 years of coding" is {RHIT} or
// {CCS, 3 years}. The last group moves to an item of a new block (or, if it
// is already an alternative, stays there) and the rest of the clause goes
// to a new item of that block. It reports false when there is no last
// group to stand beside.
func (e *extraction) alternativeRoute(withEducation bool) bool {
	if e.lastGroup < 0 || e.lastGroup >= len(e.required) {
		return false
	}
	last := &e.required[e.lastGroup]
	if last.at.block == 0 {
		last.at = e.newItem(e.newBlock(false), 0)
	}
	if last.at.block == 0 || e.blocks[last.at.block-1].ladder {
		return false // no room for another list, or a ladder's level
	}
	at := e.newItem(last.at.block, e.blocks[last.at.block-1].ranks[last.at.item-1])
	e.override = &at
	// "Master's with RHIA; a bachelor's with RHIA and 7 years will be
	// considered": an alternative naming its own degree replaces the
	// degree required so far, which goes with the group it stands beside.
	if withEducation {
		if i := slices.IndexFunc(e.edu, func(v slotValue) bool { return v.at.block == 0 && v.n > EducationHighSchool.Rank() }); i >= 0 {
			e.edu[i].at = last.at
			if e.hsRequired {
				e.edu = addMax(e.edu, slot{}, EducationHighSchool.Rank())
			}
		}
	}
	return true
}

// result consolidates: a group with a member that eligibility satisfies is
// satisfied by eligibility as a whole; groups implied by a smaller group go;
// a credential strictly required or or-eligible is not also "preferred".
func (e *extraction) result() Requirements {
	var req []reqGroup
	for _, g := range e.required {
		if slices.ContainsFunc(g.ids, func(id string) bool { return slices.Contains(e.orEligible, id) }) {
			for _, id := range g.ids {
				e.orEligible = addUnique(e.orEligible, id)
			}
			continue
		}
		req = append(req, g)
	}
	routes := e.routes(req)
	var pref []string
	for _, id := range e.preferred {
		strict := slices.Contains(e.orEligible, id) || slices.ContainsFunc(routes, func(rt Route) bool {
			return slices.ContainsFunc(rt.Credentials, func(g []string) bool { return len(g) == 1 && g[0] == id })
		})
		if !strict {
			pref = append(pref, id)
		}
	}
	mode := e.titleMode
	if mode == "" {
		mode = e.textMode
	}
	r := Requirements{
		Role:                        e.role,
		SOCCode:                     e.soc,
		WorkMode:                    mode,
		CredentialsPreferred:        sorted(pref),
		CredentialsOrEligible:       sorted(e.orEligible),
		ExperienceInLieuOfEducation: e.inLieu,
		CodeSets:                    sorted(e.codeSets),
		EHRSystems:                  sorted(e.ehrs),
		Encoders:                    sorted(e.encoders),
		Skills:                      sorted(e.skills),
	}
	r.SetRoutes(routes)
	return r
}

func educationOfRank(rank int) Education {
	for _, e := range [...]Education{EducationHighSchool, EducationCertificate, EducationAssociate, EducationBachelor, EducationMaster} {
		if e.Rank() == rank {
			return e
		}
	}
	return EducationNone
}

func isSubset(small, big []string) bool {
	for _, s := range small {
		if !slices.Contains(big, s) {
			return false
		}
	}
	return true
}

func addUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// sorted returns list sorted, and an empty slice for none so that JSON shows
// [] rather than null.
func sorted(list []string) []string {
	if len(list) == 0 {
		return []string{}
	}
	slices.Sort(list)
	return list
}
