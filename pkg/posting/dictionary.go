package posting

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
	"gopkg.in/yaml.v3"
)

//go:embed dictionary.yaml
var dictionaryYAML []byte

// dictionary is the YAML form of dictionary.yaml; see the comments there.
type dictionary struct {
	Credentials []struct {
		Code     string   `yaml:"code"`
		Issuer   string   `yaml:"issuer"`
		Names    []string `yaml:"names"`
		Aliases  []string `yaml:"aliases"`
		Families []string `yaml:"families"`
	} `yaml:"credentials"`
	Issuers []struct {
		Issuer string   `yaml:"issuer"`
		Terms  []string `yaml:"terms"`
	} `yaml:"issuers"`
	Families []struct {
		Family string   `yaml:"family"`
		Terms  []string `yaml:"terms"`
	} `yaml:"credential_families"`
	Openers    []string  `yaml:"alternative_openers"`
	EveryRoute []string  `yaml:"every_route"`
	CodeSets   []termSet `yaml:"code_sets"`
	EHRSystems []termSet `yaml:"ehr_systems"`
	Encoders   []termSet `yaml:"encoders"`
	Skills     []termSet `yaml:"skills"`
	Education  []struct {
		Level string   `yaml:"level"`
		Terms []string `yaml:"terms"`
	} `yaml:"education"`
	InLieu    []string  `yaml:"experience_in_lieu_of_education"`
	WorkModes []termSet `yaml:"work_modes"`
	Cues      []struct {
		Kind      string   `yaml:"kind"`
		Dir       string   `yaml:"dir"`
		Immediate bool     `yaml:"immediate"`
		Terms     []string `yaml:"terms"`
	} `yaml:"cues"`
	ClauseBreaks    []string `yaml:"clause_breaks"`
	EmployerContext []string `yaml:"employer_context"`
	Headings        []struct {
		Section string   `yaml:"section"`
		Words   []string `yaml:"words"`
	} `yaml:"headings"`
	Roles []struct {
		Role   string   `yaml:"role"`
		SOC    string   `yaml:"soc"`
		Titles []string `yaml:"titles"`
	} `yaml:"roles"`
	TitleWorkModes []termSet `yaml:"title_work_modes"`
}

type termSet struct {
	ID    string   `yaml:"id"`
	Terms []string `yaml:"terms"`
}

// kind says what a dictionary term stands for.
type kind uint8

const (
	kindCredential kind = iota + 1
	kindCodeSet
	kindEHR
	kindEncoder
	kindSkill
	kindEducation
	kindInLieu
	kindWorkMode
	kindCue
	kindClauseBreak
	kindEmployer
	kindRole
	kindOpener // "one of the following": a list of ways to qualify follows
	kindIssuer // "AHIMA": id is the issuer
	kindFamily // "coding credential": id is the family
	kindEveryRoute
)

// strength is how strongly a posting asks for something; cues carry one.
type strength uint8

const (
	strengthNone strength = iota
	strengthRequired
	strengthPreferred
	strengthEligible    // required, but eligibility or obtaining it after hire suffices
	strengthNegated     // "not required"
	strengthBenefit     // offered by the employer, not asked of the candidate
	strengthAlternative // "CPC-A will be considered": joins the group before it
)

// direction says on which side of a credential a cue sits.
type direction uint8

const (
	dirAny direction = iota
	dirPre
	dirPost
)

// section is the kind of posting section a heading opens.
type section uint8

const (
	sectionNeutral section = iota
	sectionRequired
	sectionPreferred
	sectionIgnore
)

// target is one meaning of a dictionary term; a term can have several
// ("ICD-10-CM/PCS" names two code sets).
type target struct {
	kind      kind
	id        string // credential code, code-set/EHR/skill id, education level, role
	exact     string // when set, the text must match it byte for byte
	strength  strength
	dir       direction
	immediate bool
	rank      int    // education: level rank; role: rule order
	soc       string // role: O*NET-SOC code
}

// automaton is an Aho-Corasick trie over lower-cased terms, with the
// meanings of each pattern and whether its ends need word boundaries.
type automaton struct {
	trie    *ahocorasick.Trie
	targets [][]target
	// A pattern that begins (ends) with a letter or digit must not be
	// preceded (followed) by one; "C++"-like edges need no check.
	wordStart, wordEnd []bool
}

type automatonBuilder struct {
	index    map[string]int
	patterns []string
	targets  [][]target
}

func (b *automatonBuilder) add(term string, t target) error {
	term = strings.TrimSpace(term)
	if strings.HasPrefix(term, "=") {
		term = term[1:]
		t.exact = term
	} else if isCode(term) {
		t.exact = term
	}
	if term == "" {
		return errors.New("empty term")
	}
	low := string(lowerASCII(nil, term))
	i, ok := b.index[low]
	if !ok {
		if b.index == nil {
			b.index = map[string]int{}
		}
		i = len(b.patterns)
		b.index[low] = i
		b.patterns = append(b.patterns, low)
		b.targets = append(b.targets, nil)
	}
	if !slices.Contains(b.targets[i], t) {
		b.targets[i] = append(b.targets[i], t)
	}
	return nil
}

func (b *automatonBuilder) build() automaton {
	a := automaton{targets: b.targets, wordStart: make([]bool, len(b.patterns)), wordEnd: make([]bool, len(b.patterns))}
	tb := ahocorasick.NewTrieBuilder()
	for i, p := range b.patterns {
		tb.AddString(p)
		a.wordStart[i] = isWordByte(p[0])
		a.wordEnd[i] = isWordByte(p[len(p)-1])
	}
	a.trie = tb.Build()
	return a
}

// isCode reports whether a term is a code ("RHIT", "ICD-10-CM", "3M"): it has
// an upper-case letter and no lower-case one. Codes match only in their own
// case, so "Epic" the EHR and "ROI" the skill do not fire on ordinary words.
func isCode(term string) bool {
	upper := false
	for i := 0; i < len(term); i++ {
		c := term[i]
		if c >= 'a' && c <= 'z' {
			return false
		}
		upper = upper || (c >= 'A' && c <= 'Z')
	}
	return upper
}

// headingRule maps words found in a short heading line to a section.
type headingRule struct {
	section section
	words   [][]byte
}

// Extractor reads requirements from postings. It is built once from the
// dictionary (building the automata takes milliseconds) and is safe for
// concurrent use.
type Extractor struct {
	text     automaton // credentials, code sets, EHRs, skills, cues, …
	title    automaton // role rules and title work modes
	headings []headingRule
	codes    []string // credential codes, sorted
	// members[family][issuer] are the credentials of a family ("coding")
	// that an issuer awards, as tokens' targets.
	members map[string]map[string][]*target
	scratch sync.Pool
}

// DefaultExtractor returns the Extractor built from the embedded
// dictionary.yaml, building it on first use. It panics if the embedded
// dictionary is invalid, which the package tests rule out.
func DefaultExtractor() *Extractor { return defaultExtractor() }

var defaultExtractor = sync.OnceValue(func() *Extractor {
	x, err := NewExtractor()
	if err != nil {
		panic(err)
	}
	return x
})

// NewExtractor builds an Extractor from the embedded dictionary.yaml.
func NewExtractor() (*Extractor, error) {
	var d dictionary
	if err := yaml.Unmarshal(dictionaryYAML, &d); err != nil {
		return nil, fmt.Errorf("posting dictionary: %w", err)
	}
	x, err := compile(&d)
	if err != nil {
		return nil, fmt.Errorf("posting dictionary: %w", err)
	}
	return x, nil
}

// Credentials returns the codes of every credential the extractor knows,
// sorted.
func (x *Extractor) Credentials() []string { return slices.Clone(x.codes) }

func compile(d *dictionary) (*Extractor, error) {
	dc := &dictCompiler{x: &Extractor{}}
	dc.credentials(d)
	dc.textTerms(d)
	dc.cues(d)
	dc.clauseTerms(d)
	dc.titleTerms(d)
	dc.headings(d)
	if len(dc.x.codes) == 0 {
		dc.errs = append(dc.errs, errors.New("no credentials"))
	}
	if err := errors.Join(dc.errs...); err != nil {
		return nil, err
	}
	dc.x.text = dc.text.build()
	dc.x.title = dc.title.build()
	return dc.x, nil
}

// dictCompiler builds an Extractor from a dictionary: the terms go into
// the automaton of the posting's text or of its title, and every problem
// is collected so that one run reports them all.
type dictCompiler struct {
	x           *Extractor
	text, title automatonBuilder
	errs        []error
}

func (dc *dictCompiler) add(b *automatonBuilder, where, term string, t target) {
	if err := b.add(term, t); err != nil {
		dc.errs = append(dc.errs, fmt.Errorf("%s: %w", where, err))
	}
}

// credentials adds the credentials' codes, aliases and names, and records
// which credentials belong to each family.
func (dc *dictCompiler) credentials(d *dictionary) {
	for _, c := range d.Credentials {
		if !isCode(c.Code) || slices.Contains(dc.x.codes, c.Code) {
			dc.errs = append(dc.errs, fmt.Errorf("credential %q: want a unique upper-case code", c.Code))
			continue
		}
		dc.x.codes = append(dc.x.codes, c.Code)
		t := target{kind: kindCredential, id: c.Code}
		for _, f := range c.Families {
			if dc.x.members == nil {
				dc.x.members = map[string]map[string][]*target{}
			}
			if dc.x.members[f] == nil {
				dc.x.members[f] = map[string][]*target{}
			}
			dc.x.members[f][c.Issuer] = append(dc.x.members[f][c.Issuer], &target{kind: kindCredential, id: c.Code})
		}
		for _, term := range append(append([]string{c.Code}, c.Aliases...), c.Names...) {
			dc.add(&dc.text, "credential "+c.Code, term, t)
		}
	}
	slices.Sort(dc.x.codes)
}

// textTerms adds the term sets, education levels, issuers, families and
// the words that open or join alternatives.
func (dc *dictCompiler) textTerms(d *dictionary) {
	for _, g := range []struct {
		k    kind
		sets []termSet
	}{{kindCodeSet, d.CodeSets}, {kindEHR, d.EHRSystems}, {kindEncoder, d.Encoders}, {kindSkill, d.Skills}, {kindWorkMode, d.WorkModes}} {
		for _, s := range g.sets {
			if s.ID == "" {
				dc.errs = append(dc.errs, errors.New("term set without an id"))
			}
			for _, term := range s.Terms {
				dc.add(&dc.text, s.ID, term, target{kind: g.k, id: s.ID})
			}
		}
	}
	for _, e := range d.Education {
		rank := Education(e.Level).Rank()
		if rank == 0 {
			dc.errs = append(dc.errs, fmt.Errorf("education level %q: want high_school, certificate, associate, bachelor or master", e.Level))
		}
		for _, term := range e.Terms {
			dc.add(&dc.text, "education "+e.Level, term, target{kind: kindEducation, id: e.Level, rank: rank})
		}
	}
	for _, is := range d.Issuers {
		for _, term := range is.Terms {
			dc.add(&dc.text, "issuer "+is.Issuer, term, target{kind: kindIssuer, id: is.Issuer})
		}
	}
	for _, f := range d.Families {
		if len(dc.x.members[f.Family]) == 0 {
			dc.errs = append(dc.errs, fmt.Errorf("credential family %q has no credentials", f.Family))
		}
		for _, term := range f.Terms {
			dc.add(&dc.text, "family "+f.Family, term, target{kind: kindFamily, id: f.Family})
		}
	}
	for _, term := range d.Openers {
		dc.add(&dc.text, "alternative opener", term, target{kind: kindOpener})
	}
	for _, term := range d.EveryRoute {
		dc.add(&dc.text, "every route", term, target{kind: kindEveryRoute})
	}
	for _, term := range d.InLieu {
		dc.add(&dc.text, "in lieu", term, target{kind: kindInLieu})
	}
}

// cues adds the words that say how strongly a clause asks for what it
// names (required, preferred, ...) and on which side they apply.
func (dc *dictCompiler) cues(d *dictionary) {
	for _, c := range d.Cues {
		t := target{kind: kindCue, immediate: c.Immediate}
		switch c.Kind {
		case "required":
			t.strength = strengthRequired
		case "preferred":
			t.strength = strengthPreferred
		case "eligible":
			t.strength = strengthEligible
		case "negated":
			t.strength = strengthNegated
		case "benefit":
			t.strength = strengthBenefit
		case "alternative":
			t.strength = strengthAlternative
		default:
			dc.errs = append(dc.errs, fmt.Errorf("cue kind %q unknown", c.Kind))
		}
		switch c.Dir {
		case "any":
			t.dir = dirAny
		case "pre":
			t.dir = dirPre
		case "post":
			t.dir = dirPost
		default:
			dc.errs = append(dc.errs, fmt.Errorf("cue dir %q: want any, pre or post", c.Dir))
		}
		for _, term := range c.Terms {
			dc.add(&dc.text, "cue "+c.Kind, term, t)
		}
	}
}

// clauseTerms adds the words that end a clause or mark the employer
// speaking of itself.
func (dc *dictCompiler) clauseTerms(d *dictionary) {
	for _, term := range d.ClauseBreaks {
		dc.add(&dc.text, "clause break", term, target{kind: kindClauseBreak})
	}
	for _, term := range d.EmployerContext {
		dc.add(&dc.text, "employer context", term, target{kind: kindEmployer})
	}
}

// titleTerms adds the roles' titles and the work modes a title may name.
func (dc *dictCompiler) titleTerms(d *dictionary) {
	for i, r := range d.Roles {
		if r.Role == "" {
			dc.errs = append(dc.errs, errors.New("role without a name"))
		}
		for _, term := range r.Titles {
			dc.add(&dc.title, "role "+r.Role, term, target{kind: kindRole, id: r.Role, soc: r.SOC, rank: i + 1})
		}
	}
	for _, s := range d.TitleWorkModes {
		for _, term := range s.Terms {
			dc.add(&dc.title, "title work mode", term, target{kind: kindWorkMode, id: s.ID})
		}
	}
}

// headings compiles the section headings and what each section means.
func (dc *dictCompiler) headings(d *dictionary) {
	for _, h := range d.Headings {
		var s section
		switch h.Section {
		case "neutral":
			s = sectionNeutral
		case "required":
			s = sectionRequired
		case "preferred":
			s = sectionPreferred
		case "ignore":
			s = sectionIgnore
		default:
			dc.errs = append(dc.errs, fmt.Errorf("heading section %q unknown", h.Section))
		}
		rule := headingRule{section: s}
		for _, w := range h.Words {
			rule.words = append(rule.words, []byte(w))
		}
		dc.x.headings = append(dc.x.headings, rule)
	}
}
