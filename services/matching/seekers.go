package matching

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// seekerState is what matching keeps of one seeker: matching attributes and
// credentials, never contact details. It is rebuilt from the PROFILES and
// CREDENTIALS streams at start.
type seekerState struct {
	attrs    profile.Seeker
	profiled bool // attrs came from a profile (credentials may arrive first)
	inRemote bool // in seekerIndex.remote
	creds    map[string]profile.CredentialRecord
	point    *geo.Point
	// view is the seeker as the scorer sees them, rebuilt on every write
	// (with the pathway engine's eligible_now) so that reads — a posting
	// scored against thousands of seekers — do no work per seeker.
	view match.Seeker
}

// seekerIndex is the in-memory, PII-free index of seekers used by reverse
// matching and candidate lists: seekers bucketed by a one-degree grid cell
// so that a posting looks only at seekers near it.
type seekerIndex struct {
	mu      sync.RWMutex
	seekers map[string]*seekerState
	cells   map[cell]*stateSet
	remote  *stateSet // seekers without a location or who want remote work
	maxMi   int       // the largest radius of any seeker
	zcta    *geo.ZCTA
	cat     *pathway.Catalog
	today   func() time.Time
}

type cell struct{ lat, lon int }

func cellOf(p geo.Point) cell { return cell{int(math.Floor(p.Lat)), int(math.Floor(p.Lon))} }

func newSeekerIndex(zcta *geo.ZCTA, cat *pathway.Catalog) *seekerIndex {
	return &seekerIndex{seekers: map[string]*seekerState{}, cells: map[cell]*stateSet{}, remote: newStateSet(), zcta: zcta, cat: cat, today: time.Now}
}

// locate resolves a profile location to coordinates.
func (ix *seekerIndex) locate(l *profile.Location) *geo.Point {
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

func (ix *seekerIndex) unplace(id string, st *seekerState) {
	if st.point != nil {
		c := cellOf(*st.point)
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

func (ix *seekerIndex) place(id string, st *seekerState) {
	if st.point != nil {
		c := cellOf(*st.point)
		if ix.cells[c] == nil {
			ix.cells[c] = newStateSet()
		}
		ix.cells[c].add(id, st)
	}
	if st.point == nil || st.attrs.RemotePref == "remote" || st.attrs.RemotePref == "any" || st.attrs.RemotePref == "hybrid" {
		ix.remote.add(id, st)
		st.inRemote = true
	}
	ix.maxMi = max(ix.maxMi, st.attrs.RadiusMiles)
}

// stateSet is a set of seekers kept in a slice, so that scanning it —
// what reverse matching does for every posting — walks contiguous memory.
type stateSet struct {
	items []*seekerState
	pos   map[string]int
}

func newStateSet() *stateSet { return &stateSet{pos: map[string]int{}} }

func (s *stateSet) add(id string, st *seekerState) {
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
	s.pos[s.items[i].attrs.ID] = i
	s.items[last] = nil
	s.items = s.items[:last]
	delete(s.pos, id)
}

func (ix *seekerIndex) setAttrs(sk profile.Seeker) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	st := ix.seekers[sk.ID]
	if st == nil {
		st = &seekerState{creds: map[string]profile.CredentialRecord{}}
		ix.seekers[sk.ID] = st
	} else {
		ix.unplace(sk.ID, st)
	}
	st.attrs, st.profiled, st.point = sk, true, ix.locate(sk.Location)
	ix.place(sk.ID, st)
	ix.refresh(st)
}

func (ix *seekerIndex) addCredential(id string, c profile.CredentialRecord) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	st := ix.seekers[id]
	if st == nil {
		// Credentials may be recorded before the profile: keep them.
		st = &seekerState{creds: map[string]profile.CredentialRecord{}, attrs: profile.Seeker{ID: id}}
		ix.seekers[id] = st
	}
	st.creds[c.Code] = c
	ix.refresh(st)
}

func (ix *seekerIndex) remove(id string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if st := ix.seekers[id]; st != nil {
		ix.unplace(id, st)
		delete(ix.seekers, id)
	}
}

// view returns the seeker as the scorer sees them, and whether they are known.
func (ix *seekerIndex) view(id string, _ time.Time) (match.Seeker, profile.Seeker, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := ix.seekers[id]
	if st == nil || !st.profiled {
		return match.Seeker{}, profile.Seeker{}, false
	}
	return st.view, st.attrs, true
}

// refresh rebuilds st.view; callers hold the write lock.
func (ix *seekerIndex) refresh(st *seekerState) {
	held := make([]string, 0, len(st.creds))
	for code, c := range st.creds {
		if c.Apprentice {
			code += "-A"
		}
		held = append(held, code)
	}
	slices.Sort(held)
	eligible := []string{}
	if plan, err := pathway.Recommend(ix.cat, ix.stateLocked(st), pathway.Options{Today: ix.today()}); err == nil {
		eligible = plan.EligibleNow
	}
	a := st.attrs
	st.view = match.Seeker{
		ID: a.ID, Held: held, EligibleNow: eligible,
		EducationRank: a.EducationRank(), ExperienceMonths: a.ExperienceMonths(),
		Skills: a.Skills, CodeSets: a.CodeSets, EHRSystems: a.EHRSystems,
		Point: st.point, RadiusMiles: a.RadiusMiles, RemotePref: a.RemotePref,
		DesiredHourly: a.DesiredHourly, OpenToEmployers: a.OpenToEmployers,
	}
}

func (ix *seekerIndex) stateLocked(st *seekerState) pathway.State {
	creds := make([]profile.CredentialRecord, 0, len(st.creds))
	for _, c := range st.creds {
		creds = append(creds, c)
	}
	slices.SortFunc(creds, func(a, b profile.CredentialRecord) int { return strings.Compare(a.Code, b.Code) })
	s := profile.PathwayState(st.attrs, creds, nil)
	s.Target = "" // matching asks for specific targets itself
	return s
}

// state returns the seeker's pathway state.
func (ix *seekerIndex) state(id string) (pathway.State, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := ix.seekers[id]
	if st == nil {
		return pathway.State{}, false
	}
	return ix.stateLocked(st), true
}

// scan calls fn for each seeker who could reach a site at p (within the
// largest radius) and, for remote work, each seeker open to remote work,
// once each, in no particular order. Large scans are split across up to
// workers goroutines (fn's first argument says which; the call returns when
// all are done). fn must not keep the pointer nor call back into the
// index: it runs under the read lock.
func (ix *seekerIndex) scan(p *geo.Point, remote bool, workers int, fn func(worker int, sk *match.Seeker)) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var segs [][]*seekerState
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
	visit := func(w int, st *seekerState, fromRemote bool) {
		// A seeker in the remote set and in a cell is visited from the
		// remote set only. Credentials alone (no profile) are not a seeker.
		if !st.profiled || (remote && !fromRemote && st.inRemote) {
			return
		}
		fn(w, &st.view)
	}
	if workers < 2 || total < parallelScanMin {
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

// parallelScanMin is the scan size from which scan splits the work.
const parallelScanMin = 20_000

// near calls fn for each seeker scan would visit, on one goroutine.
func (ix *seekerIndex) near(p *geo.Point, remote bool, fn func(*match.Seeker)) {
	ix.scan(p, remote, 1, func(_ int, sk *match.Seeker) { fn(sk) })
}

func (ix *seekerIndex) size() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.seekers)
}

// seekerEvent applies one PROFILES or CREDENTIALS event to the index and
// returns the seeker it was about ("" when it changes nothing matching
// uses).
func (s *Service) applySeekerEvent(ctx context.Context, subject, typ string, data []byte) (string, error) {
	switch {
	case strings.HasPrefix(subject, events.SeekerSubjectPrefix):
		id := strings.TrimPrefix(subject, events.SeekerSubjectPrefix)
		if typ == events.TypeSeekerDeleted {
			s.seekers.remove(id)
			return id, nil
		}
		if typ != events.TypeSeekerUpdated {
			return "", nil
		}
		var ch profile.Change
		if err := s.open(ctx, id, data, &ch); err != nil || ch.Seeker == nil {
			return "", err
		}
		s.seekers.setAttrs(*ch.Seeker)
		return id, nil
	case subject == events.CredentialsEarned:
		var sealed shred.Sealed
		if err := json.Unmarshal(data, &sealed); err != nil {
			return "", events.Poison("credential event is not sealed: %v", err)
		}
		var ch profile.CredentialChange
		if err := s.open(ctx, sealed.Subject, data, &ch); err != nil || ch.Credential == nil {
			return "", err
		}
		s.seekers.addCredential(sealed.Subject, *ch.Credential)
		return sealed.Subject, nil
	}
	return "", nil
}

// open unseals an event about seeker id. A shredded seeker's events are
// skipped (nil error, v untouched).
func (s *Service) open(ctx context.Context, id string, data []byte, v any) error {
	var sealed shred.Sealed
	if err := json.Unmarshal(data, &sealed); err != nil || sealed.Subject != id {
		return events.Poison("event is not sealed for its seeker")
	}
	err := s.keys.Open(ctx, sealed, v)
	if errors.Is(err, shred.ErrShredded) {
		return nil
	}
	return err
}

// loadSeekers replays PROFILES and CREDENTIALS into the index with ordered
// consumers (no side effects), then keeps following them until ctx ends.
// ready is closed once the replay has caught up.
func (s *Service) loadSeekers(ctx context.Context, ready chan<- struct{}) error {
	type feed struct {
		stream  string
		filters []string
	}
	feeds := []feed{
		{events.StreamProfiles, []string{events.SeekerSubjectPrefix + ">"}},
		{events.StreamCredentials, []string{events.CredentialsEarned}},
	}
	var wg sync.WaitGroup
	var caught sync.WaitGroup
	errc := make(chan error, len(feeds))
	for _, f := range feeds {
		caught.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- s.follow(ctx, f.stream, f.filters, caught.Done)
		}()
	}
	go func() { caught.Wait(); close(ready) }()
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) follow(ctx context.Context, stream string, filters []string, caughtUp func()) error {
	cons, err := s.p.JS.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: filters, DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	var once sync.Once
	if info.NumPending == 0 {
		once.Do(caughtUp)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		env := events.EnvelopeOf(m)
		if _, err := s.applySeekerEvent(ctx, m.Subject(), env.Type, m.Data()); err != nil {
			s.p.Log.Warn().Err(err).Str("subject", m.Subject()).Msg("seeker event skipped")
		}
		if md, err := m.Metadata(); err == nil && md.NumPending == 0 {
			once.Do(caughtUp)
		}
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	cc.Stop()
	once.Do(caughtUp)
	return nil
}
