package matching

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/profile"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// UnlockPool bounds the postings, blocked for a client today, that the
// unlock counts look at: the freshest that some exam the client may sit
// now would open.
const UnlockPool = 1000

// MaxCaseload bounds one caseload request.
const MaxCaseload = 200

func (s *Service) caseload(ctx context.Context, req matchingapi.CaseloadRequest) (matchingapi.CaseloadView, error) {
	if len(req.Seekers) > MaxCaseload {
		return matchingapi.CaseloadView{}, apierr.InvalidFields(apierr.FieldError{Field: "seekers", Message: "at most 200"})
	}
	return s.caseloadView(ctx, req.Seekers)
}

func (s *Service) caseloadView(ctx context.Context, seekers []string) (matchingapi.CaseloadView, error) {
	out := matchingapi.CaseloadView{Clients: []matchingapi.ClientView{}, Unlocks: []matchingapi.Unlock{}}
	unlocks := map[string]*matchingapi.Unlock{}
	for _, id := range seekers {
		if !profile.ValidID(id) {
			continue
		}
		cv := matchingapi.ClientView{SeekerID: id, BestMatches: []matchingapi.MatchResult{}, NearMisses: []matchingapi.NearMiss{}}
		res, err := s.forwardMatch(ctx, id, 3, true)
		if apierr.CodeOf(err) == apierr.NotFound {
			out.Clients = append(out.Clients, cv)
			continue
		}
		if err != nil {
			return out, err
		}
		cv.Known, cv.BestMatches, cv.LocationNote = true, res.Matches, res.LocationNote
		cv.NearMisses = res.NearMisses[:min(3, len(res.NearMisses))]
		opened, err := s.unlocksFor(ctx, id)
		if err != nil {
			return out, err
		}
		for _, c := range opened {
			u := unlocks[c.exam]
			if u == nil {
				u = &matchingapi.Unlock{Credential: c.exam}
				unlocks[c.exam] = u
			}
			u.Postings += c.Postings
			u.Seekers = append(u.Seekers, id)
			u.Clients = append(u.Clients, c.UnlockClient)
		}
		if st, ok := s.seekers.State(id); ok {
			_, attrs, _ := s.seekers.View(id)
			st.Target = attrs.Target
			if s.cat.Credential(st.Target) == nil {
				st.Target = "" // a role, not a credential: no target plan
			}
			if plan, err := pathway.Recommend(s.cat, st, pathway.Options{Today: s.now()}); err == nil {
				p := &matchingapi.Progress{Held: plan.Held, EligibleNow: plan.EligibleNow}
				if len(plan.NextSteps) > 0 {
					p.NextStep = plan.NextSteps[0].Title
				}
				if plan.Target != nil {
					p.Target, p.TargetStatus = plan.Target.Target, plan.Target.Status
				}
				cv.Progress = p
			}
		}
		out.Clients = append(out.Clients, cv)
	}
	for _, u := range unlocks {
		sort.Strings(u.Seekers)
		sort.Slice(u.Clients, func(i, j int) bool { return u.Clients[i].SeekerID < u.Clients[j].SeekerID })
		out.Unlocks = append(out.Unlocks, *u)
	}
	sort.Slice(out.Unlocks, func(i, j int) bool {
		a, b := out.Unlocks[i], out.Unlocks[j]
		if a.Postings != b.Postings {
			return a.Postings > b.Postings
		}
		return a.Credential < b.Credential
	})
	if len(out.Unlocks) > 0 {
		best := out.Unlocks[0]
		out.BestUnlock = &best
	}
	return out, nil
}

// examUnlock is what one exam would open for one client.
type examUnlock struct {
	exam string
	matchingapi.UnlockClient
}

// unlocksFor counts, for each exam the client may sit now (the pathway
// engine's eligible_now) and has not passed, the postings within the
// client's reach that passing it would open: blocked today, open with what
// passing gives this client (CPC-A for an apprentice, so a posting that
// asks for CPC stays closed). Postings are counted among the UnlockPool
// freshest that some such exam opens.
func (s *Service) unlocksFor(ctx context.Context, id string) ([]examUnlock, error) {
	sk, attrs, ok := s.seekers.View(id)
	state, ok2 := s.seekers.State(id)
	if !ok || !ok2 {
		return nil, nil
	}
	var exams []examUnlock
	all := sk
	all.Held = slices.Clone(sk.Held)
	for _, code := range sk.EligibleNow {
		cr := s.cat.Credential(code)
		if cr == nil || slices.Contains(sk.Held, code) {
			continue
		}
		earns := code
		if a := cr.Apprentice; a != nil {
			if slices.Contains(sk.Held, code+a.Suffix) {
				continue // an apprentice already holds what the exam gives
			}
			if s.apprenticeOnPassing(state, code) {
				earns = code + a.Suffix
			}
		}
		exams = append(exams, examUnlock{exam: code, UnlockClient: matchingapi.UnlockClient{SeekerID: id, Earns: earns}})
		all.Held = append(all.Held, earns)
	}
	if len(exams) == 0 {
		return nil, nil
	}
	if err := s.postings.Sync(ctx); err != nil {
		return nil, apierr.Wrap(err, apierr.Unavailable, "caseloads are unavailable")
	}
	place, _ := placeFilter(sk, attrs)
	pool, err := s.query(ctx, joinAnd(`status = "open"`, postingindex.ShownFilter, place, "NOT ("+orTrue(s.eligibilityFilter(sk))+")", s.eligibilityFilter(all)), UnlockPool)
	if err != nil {
		return nil, err
	}
	var out []examUnlock
	for _, e := range exams {
		one := sk
		one.Held = append(slices.Clone(sk.Held), e.Earns)
		for i := range pool {
			if match.Qualifies(&one, &pool[i]) {
				e.Postings++
			}
		}
		if e.Postings > 0 {
			out = append(out, e)
		}
	}
	return out, nil
}

// apprenticeOnPassing reports whether passing code now would give the
// seeker its apprentice status: the pathway engine's view of the seeker
// holding it as an apprentice is not ready to drop the suffix.
func (s *Service) apprenticeOnPassing(state pathway.State, code string) bool {
	state.Credentials = append(slices.Clone(state.Credentials), pathway.HeldCredential{Code: code, EarnedOn: s.now().Format(time.DateOnly), Apprentice: true})
	plan, err := pathway.Recommend(s.cat, state, pathway.Options{Today: s.now()})
	if err != nil {
		return true // unknown: the issuer's default for a new certificant
	}
	for _, a := range plan.Apprentice {
		if a.Credential == code {
			return !a.ReadyToRemove
		}
	}
	return false
}
