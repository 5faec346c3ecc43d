// Package seekerindex is matching's in-memory, PII-free index of seekers:
// each seeker's matching attributes and credentials, as the scorer sees
// them, bucketed by place so that a posting is compared only with the
// seekers who could reach it.
package seekerindex

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/profile"
)

// state is what the index keeps of one seeker: matching attributes and
// credentials, never contact details. It is rebuilt from the PROFILES and
// CREDENTIALS streams at start.
//
// It keeps each fact once (issue 14: matching's memory at 100,000 seekers):
// what the scorer reads lives in view, and of the rest of the profile only
// what the pathway engine and the replies read, in path.
type state struct {
	path     pathAttrs
	profiled bool // the profile has arrived (credentials may arrive first)
	inRemote bool // in Index.remote
	// creds are the credentials held, one per code, sorted by code: a
	// slice, not maps (issue 14: two maps a seeker were two thirds of the
	// index's memory, about 1.1 KB of 1.7 KB a seeker).
	creds []heldCred
	// attrsVersion is the version of the profile event the index holds: an
	// event no newer than that changes nothing.
	attrsVersion uint64
	// view is the seeker as the scorer sees them, kept up to date on every
	// write (with the pathway engine's eligible_now) so that reads — a
	// posting scored against thousands of seekers — do no work per seeker.
	// Its slices may be shared with other seekers: never written in place.
	view match.Seeker
}

// pathAttrs is what the index keeps of a profile besides the scorer's view:
// what the pathway engine reads, and what the replies say.
type pathAttrs struct {
	education  []profile.Education
	experience []profile.Experience
	trainings  []string
	target     string
	located    bool // the profile gives a location (placed or not)
}

// Extra is what the index knows of a seeker beyond the scorer's view.
type Extra struct {
	// Target is the seeker's target: a credential code or a role.
	Target string
	// HasLocation is whether the profile gives a location, even one the
	// index could not place.
	HasLocation bool
}

// heldCred is a credential a seeker holds and the version of the event it
// came from (an event no newer than that changes nothing).
type heldCred struct {
	rec     profile.CredentialRecord
	version uint64
}

// find returns where code is, or would be inserted, in st.creds.
func (st *state) find(code string) (int, bool) {
	return slices.BinarySearchFunc(st.creds, code, func(h heldCred, code string) int { return strings.Compare(h.rec.Code, code) })
}

// Index is the in-memory, PII-free index of seekers used by reverse
// matching and candidate lists: seekers bucketed by a one-degree grid cell
// so that a posting looks only at seekers near it. It is safe for
// concurrent use.
//
// Every write carries the version of the event it comes from (the event's
// stream sequence): a write no newer than what the index holds for that
// seeker (its profile, or that credential) is ignored, so a replayed or
// redelivered event never undoes a newer one. A removed seeker stays
// removed: their id is never written again (pkg/shred refuses to seal for
// it too).
type Index struct {
	mu      sync.RWMutex
	seekers map[string]*state
	removed map[string]struct{}
	cells   map[cell]*stateSet
	remote  *stateSet // seekers without a location or who want remote work
	maxMi   int       // the largest radius of any seeker
	words   *interner // the strings and lists seekers share, kept once
	zcta    *geo.ZCTA
	cat     *pathway.Catalog
	today   func() time.Time
	// ParallelMin is the scan size from which Scan splits the work across
	// its workers (DefaultParallelMin unless changed before use).
	ParallelMin int
}

type cell struct{ lat, lon int }

func cellOf(p geo.Point) cell { return cell{int(math.Floor(p.Lat)), int(math.Floor(p.Lon))} }

// New is an empty index that places seekers with zcta (nil: seekers with
// only a ZIP code have no place) and computes what they may sit for now with
// the pathway catalog as of today().
func New(zcta *geo.ZCTA, cat *pathway.Catalog, today func() time.Time) *Index {
	return &Index{seekers: map[string]*state{}, removed: map[string]struct{}{}, cells: map[cell]*stateSet{}, remote: newStateSet(),
		words: newInterner(maxWords), zcta: zcta, cat: cat, today: today, ParallelMin: DefaultParallelMin}
}

// locate resolves a profile location to coordinates.
func (ix *Index) locate(l *profile.Location) *geo.Point {
	if l == nil {
		return nil
	}
	if l.Lat != nil && l.Lon != nil {
		return &geo.Point{Lat: *l.Lat, Lon: *l.Lon}
	}
	if ix.zcta != nil && l.PostalCode != "" {
		if p, ok := ix.zcta.Lookup(l.PostalCode); ok {
			return &p
		}
	}
	return nil
}

func (ix *Index) unplace(id string, st *state) {
	if st.view.Point != nil {
		c := cellOf(*st.view.Point)
		if set := ix.cells[c]; set != nil {
			set.remove(id)
			if len(set.items) == 0 {
				delete(ix.cells, c)
			}
		}
	}
	ix.remote.remove(id)
	st.inRemote = false
}

func (ix *Index) place(id string, st *state) {
	if st.view.Point != nil {
		c := cellOf(*st.view.Point)
		if ix.cells[c] == nil {
			ix.cells[c] = newStateSet()
		}
		ix.cells[c].add(id, st)
	}
	if pref := st.view.RemotePref; st.view.Point == nil || pref == "remote" || pref == "any" || pref == "hybrid" {
		ix.remote.add(id, st)
		st.inRemote = true
	}
	ix.maxMi = max(ix.maxMi, st.view.RadiusMiles)
}

// stateSet is a set of seekers kept in a slice, so that scanning it —
// what reverse matching does for every posting — walks contiguous memory.
type stateSet struct {
	items []*state
	pos   map[string]int
}

func newStateSet() *stateSet { return &stateSet{pos: map[string]int{}} }

func (s *stateSet) add(id string, st *state) {
	if i, ok := s.pos[id]; ok {
		s.items[i] = st
		return
	}
	s.pos[id] = len(s.items)
	s.items = append(s.items, st)
}

func (s *stateSet) remove(id string) {
	i, ok := s.pos[id]
	if !ok {
		return
	}
	last := len(s.items) - 1
	s.items[i] = s.items[last]
	s.pos[s.items[i].view.ID] = i
	s.items[last] = nil
	s.items = s.items[:last]
	delete(s.pos, id)
}

// SetAttrs sets a seeker's matching attributes from the profile event of
// the given version, and reports whether it changed the index.
func (ix *Index) SetAttrs(sk profile.Seeker, version uint64) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if _, gone := ix.removed[sk.ID]; gone {
		return false
	}
	st := ix.seekers[sk.ID]
	if st == nil {
		st = newState(sk.ID)
		ix.seekers[sk.ID] = st
	} else if version <= st.attrsVersion {
		return false
	} else {
		ix.unplace(sk.ID, st)
	}
	st.profiled, st.attrsVersion = true, version
	st.path = pathAttrs{
		education: ix.words.education(sk.Education), experience: ix.words.experience(sk.Experience),
		trainings: ix.words.list(sk.Trainings), target: ix.words.word(sk.Target), located: sk.Location != nil,
	}
	v := &st.view
	v.EducationRank, v.ExperienceMonths = sk.EducationRank(), sk.ExperienceMonths()
	v.Skills, v.CodeSets, v.EHRSystems = ix.words.list(sk.Skills), ix.words.list(sk.CodeSets), ix.words.list(sk.EHRSystems)
	v.Point, v.RadiusMiles, v.RemotePref = ix.locate(sk.Location), sk.RadiusMiles, ix.words.word(sk.RemotePref)
	v.DesiredHourly, v.OpenToEmployers = sk.DesiredHourly, sk.OpenToEmployers
	ix.place(sk.ID, st)
	ix.refresh(st)
	return true
}

func newState(id string) *state {
	return &state{view: match.Seeker{ID: id}}
}

// AddCredential records a seeker's credential from the credential event of
// the given version (a later event for the same code replaces the record),
// and reports whether it changed the index.
func (ix *Index) AddCredential(id string, c profile.CredentialRecord, version uint64) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if _, gone := ix.removed[id]; gone {
		return false
	}
	st := ix.seekers[id]
	if st == nil {
		// Credentials may be recorded before the profile: keep them.
		st = newState(id)
		ix.seekers[id] = st
	}
	c = profile.CredentialRecord{Code: ix.words.word(c.Code), EarnedOn: ix.words.word(c.EarnedOn), Apprentice: c.Apprentice,
		MembershipRenewal: ix.words.word(c.MembershipRenewal)} // codes and dates repeat across seekers
	switch i, ok := st.find(c.Code); {
	case ok && version <= st.creds[i].version:
		return false
	case ok:
		st.creds[i] = heldCred{c, version}
	default:
		st.creds = slices.Insert(st.creds, i, heldCred{c, version})
	}
	ix.refresh(st)
	return true
}

// Remove forgets a deleted seeker for good.
func (ix *Index) Remove(id string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.removed[id] = struct{}{}
	if st := ix.seekers[id]; st != nil {
		ix.unplace(id, st)
		delete(ix.seekers, id)
	}
}

// View returns the seeker as the scorer sees them and what else the index
// knows of them, and whether they are known (have a profile). The view's
// slices must not be written.
func (ix *Index) View(id string) (match.Seeker, Extra, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := ix.seekers[id]
	if st == nil || !st.profiled {
		return match.Seeker{}, Extra{}, false
	}
	return st.view, Extra{Target: st.path.target, HasLocation: st.path.located}, true
}

// refresh brings the parts of st.view that depend on credentials up to
// date; callers hold the write lock.
func (ix *Index) refresh(st *state) {
	held := make([]string, 0, len(st.creds))
	for _, c := range st.creds {
		code := c.rec.Code
		if c.rec.Apprentice {
			code += "-A"
		}
		held = append(held, code)
	}
	slices.Sort(held)
	eligible := []string{}
	if plan, err := pathway.Recommend(ix.cat, ix.stateLocked(st), pathway.Options{Today: ix.today()}); err == nil {
		eligible = plan.EligibleNow
	}
	// Most seekers hold and may sit for one of a few same lists: share them.
	st.view.Held, st.view.EligibleNow = ix.words.sameList(held), ix.words.sameList(eligible)
}

func (ix *Index) stateLocked(st *state) pathway.State {
	creds := make([]profile.CredentialRecord, len(st.creds)) // by code
	for i, c := range st.creds {
		creds[i] = c.rec
	}
	p := st.path
	s := profile.PathwayState(profile.Seeker{Education: p.education, Experience: p.experience, Trainings: p.trainings}, creds, nil)
	s.Target = "" // matching asks for specific targets itself
	return s
}

// State returns the seeker's pathway state (without a target).
func (ix *Index) State(id string) (pathway.State, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := ix.seekers[id]
	if st == nil {
		return pathway.State{}, false
	}
	return ix.stateLocked(st), true
}

// Scan calls fn for each seeker who could reach a site at p (within the
// largest radius) and, for remote work, each seeker open to remote work,
// once each, in no particular order. Large scans are split across up to
// workers goroutines (fn's first argument says which; the call returns when
// all are done). fn must not keep the pointer nor call back into the
// index: it runs under the read lock.
func (ix *Index) Scan(p *geo.Point, remote bool, workers int, fn func(worker int, sk *match.Seeker)) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var segs [][]*state
	total := 0
	if remote {
		segs = append(segs, ix.remote.items)
		total += len(ix.remote.items)
	}
	if p != nil {
		c := cellOf(*p)
		dLat := int(math.Ceil(float64(ix.maxMi)/69.0)) + 1
		cosLat := math.Max(0.1, math.Cos(p.Lat*math.Pi/180))
		dLon := int(math.Ceil(float64(ix.maxMi)/(69.0*cosLat))) + 1
		for la := c.lat - dLat; la <= c.lat+dLat; la++ {
			for lo := c.lon - dLon; lo <= c.lon+dLon; lo++ {
				if set := ix.cells[cell{la, lo}]; set != nil {
					segs = append(segs, set.items)
					total += len(set.items)
				}
			}
		}
	}
	visit := func(w int, st *state, fromRemote bool) {
		// A seeker in the remote set and in a cell is visited from the
		// remote set only. Credentials alone (no profile) are not a seeker.
		if !st.profiled || (remote && !fromRemote && st.inRemote) {
			return
		}
		fn(w, &st.view)
	}
	if workers < 2 || total < ix.ParallelMin {
		for i, seg := range segs {
			for _, st := range seg {
				visit(0, st, remote && i == 0)
			}
		}
		return
	}
	// Split the segments' concatenation into equal ranges, one per worker.
	per := (total + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, total)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			off := 0
			for i, seg := range segs {
				a, b := max(lo-off, 0), min(hi-off, len(seg))
				for j := a; j < b; j++ {
					visit(w, seg[j], remote && i == 0)
				}
				off += len(seg)
				if off >= hi {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// DefaultParallelMin is the scan size from which Scan splits the work.
const DefaultParallelMin = 20_000

// Near calls fn for each seeker Scan would visit, on one goroutine.
func (ix *Index) Near(p *geo.Point, remote bool, fn func(*match.Seeker)) {
	ix.Scan(p, remote, 1, func(_ int, sk *match.Seeker) { fn(sk) })
}

// Each calls fn for every seeker with a profile, in no particular order.
// fn must not keep the pointer nor call back into the index: it runs under
// the read lock.
func (ix *Index) Each(fn func(sk *match.Seeker)) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, st := range ix.seekers {
		if st.profiled {
			fn(&st.view)
		}
	}
}

// Size is the number of seekers the index holds (with a profile or
// credentials only).
func (ix *Index) Size() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.seekers)
}
