package matching

import (
	"context"
	"slices"
	"sort"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// CaseloadRequest lists a counselor's clients.
type CaseloadRequest struct {
	Seekers []string `json:"seekers"`
}

// ClientView is one client of a caseload.
type ClientView struct {
	SeekerID     string         `json:"seeker_id"`
	Known        bool           `json:"known"`
	BestMatches  []match.Result `json:"best_matches"`
	NearMisses   []NearMiss     `json:"near_misses"`
	Progress     *Progress      `json:"progress,omitempty"`
	LocationNote string         `json:"location_note,omitempty"`
}

// Progress is a client's pathway position.
type Progress struct {
	Held         []string `json:"held"`
	EligibleNow  []string `json:"eligible_now"`
	NextStep     string   `json:"next_step,omitempty"`
	Target       string   `json:"target,omitempty"`
	TargetStatus string   `json:"target_status,omitempty"`
}

// Unlock is how many near-miss postings one credential would open, and for whom.
type Unlock struct {
	Credential string   `json:"credential"`
	Postings   int      `json:"postings"`
	Seekers    []string `json:"seekers"`
}

// CaseloadView is a counselor's whole caseload.
type CaseloadView struct {
	Clients []ClientView `json:"clients"`
	// BestUnlock is the single credential that would turn the most near
	// misses across the caseload into matches; Unlocks ranks them all.
	BestUnlock *Unlock  `json:"best_unlock,omitempty"`
	Unlocks    []Unlock `json:"unlocks"`
}

// MaxCaseload bounds one caseload request.
const MaxCaseload = 200

func (s *Service) caseload(ctx context.Context, r rpc.Request) (any, error) {
	var req CaseloadRequest
	if err := r.Decode(&req); err != nil {
		return nil, err
	}
	if len(req.Seekers) > MaxCaseload {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "seekers", Message: "at most 200"})
	}
	out := CaseloadView{Clients: []ClientView{}, Unlocks: []Unlock{}}
	unlocks := map[string]*Unlock{}
	for _, id := range req.Seekers {
		if !profile.ValidID(id) {
			continue
		}
		cv := ClientView{SeekerID: id, BestMatches: []match.Result{}, NearMisses: []NearMiss{}}
		res, err := s.forwardMatch(ctx, id, 3, true)
		if apierr.CodeOf(err) == apierr.NotFound {
			out.Clients = append(out.Clients, cv)
			continue
		}
		if err != nil {
			return nil, err
		}
		cv.Known, cv.BestMatches, cv.LocationNote = true, res.Matches, res.LocationNote
		cv.NearMisses = res.NearMisses[:min(3, len(res.NearMisses))]
		for _, nm := range res.NearMisses {
			// A near miss whose only gap is one credential group: any code
			// of the group unlocks it.
			if len(nm.Missing) != 1 || len(nm.Missing[0].Codes) == 0 {
				continue
			}
			for _, code := range nm.Missing[0].Codes {
				u := unlocks[code]
				if u == nil {
					u = &Unlock{Credential: code}
					unlocks[code] = u
				}
				u.Postings++
				if !slices.Contains(u.Seekers, id) {
					u.Seekers = append(u.Seekers, id)
				}
			}
		}
		if st, ok := s.seekers.state(id); ok {
			_, attrs, _ := s.seekers.view(id, s.now())
			st.Target = attrs.Target
			if s.cat.Credential(st.Target) == nil {
				st.Target = "" // a role, not a credential: no target plan
			}
			if plan, err := pathway.Recommend(s.cat, st, pathway.Options{Today: s.now()}); err == nil {
				p := &Progress{Held: plan.Held, EligibleNow: plan.EligibleNow}
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
