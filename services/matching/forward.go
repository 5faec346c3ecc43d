package matching

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
	"github.com/clerkpath/clerkpath/services/matching/seekerindex"
)

// Matching limits.
const (
	// CandidatePool is how many postings a forward match scores: the
	// freshest postings that pass the hard filters.
	CandidatePool   = 200
	MaxMatchLimit   = 100
	DefaultMatches  = 20
	MaxNearMisses   = 20
	NearMissMaxGaps = 2
)

func (s *Service) matches(ctx context.Context, req matchingapi.MatchesRequest) (matchingapi.MatchesResponse, error) {
	if req.Limit == 0 {
		req.Limit = DefaultMatches
	}
	if req.Limit < 1 || req.Limit > MaxMatchLimit {
		return matchingapi.MatchesResponse{}, apierr.InvalidFields(apierr.FieldError{Field: "limit", Message: fmt.Sprintf("must be between 1 and %d", MaxMatchLimit)})
	}
	if req.RadiusMiles != 0 && (req.RadiusMiles < 1 || req.RadiusMiles > MaxRadiusMiles) {
		return matchingapi.MatchesResponse{}, apierr.InvalidFields(apierr.FieldError{Field: "radius_miles", Message: fmt.Sprintf("must be between 1 and %d", MaxRadiusMiles)})
	}
	if !profile.ValidID(req.SeekerID) {
		return matchingapi.MatchesResponse{}, apierr.InvalidFields(apierr.FieldError{Field: "seeker_id", Message: "1 to 64 letters, digits, '-' or '_'"})
	}
	return s.forwardMatchRadius(ctx, req.SeekerID, req.Limit, req.NearMisses == nil || *req.NearMisses, req.RadiusMiles)
}

// forwardMatch finds a seeker's matches: one Meilisearch query with every
// hard requirement as a filter, the pool scored by the pure scorer.
func (s *Service) forwardMatch(ctx context.Context, id string, limit int, nearMisses bool) (matchingapi.MatchesResponse, error) {
	return s.forwardMatchRadius(ctx, id, limit, nearMisses, 0)
}

func (s *Service) forwardMatchRadius(ctx context.Context, id string, limit int, nearMisses bool, radius int) (matchingapi.MatchesResponse, error) {
	today := s.now()
	sk, attrs, ok := s.seekers.View(id)
	if !ok {
		return matchingapi.MatchesResponse{}, apierr.New(apierr.NotFound, "no seeker %s", id)
	}
	if radius > 0 {
		sk.RadiusMiles = radius
	}
	if err := s.postings.Sync(ctx); err != nil {
		return matchingapi.MatchesResponse{}, apierr.Wrap(err, apierr.Unavailable, "matching is unavailable")
	}
	out := matchingapi.MatchesResponse{SeekerID: id, Matches: []matchingapi.MatchResult{}, NearMisses: []matchingapi.NearMiss{}}
	place, note := placeFilter(sk, attrs)
	out.LocationNote = note
	elig := s.eligibilityFilter(sk)
	// The candidates and, when asked for, the near-miss candidates are two
	// independent searches: sent at once, a near-miss match waits for the
	// slower of them rather than for both in turn.
	var (
		hits, misses []posting.Posting
		trust        map[string]matchingapi.Trust
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		hits, trust, err = s.queryTrust(gctx, matchesFilter(place, elig), CandidatePool)
		return err
	})
	if nearMisses {
		g.Go(func() (err error) {
			misses, err = s.query(gctx, nearMissFilter(place, elig), CandidatePool)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return out, err
	}
	var eligible []match.Result
	for _, p := range hits {
		r := match.Score(sk, p, today)
		if r.Eligible {
			eligible = append(eligible, r)
		}
	}
	match.Rank(eligible)
	for _, r := range eligible[:min(limit, len(eligible))] {
		t := trust[r.PostingID]
		r.Summary += explainTrust(t)
		out.Matches = append(out.Matches, matchingapi.MatchResult{Result: r, Trust: t})
	}
	if !nearMisses {
		return out, nil
	}
	// A posting with several ways in is a near miss by the way cheapest to
	// close, priced with the pathway engine's months for each credential.
	state, _ := s.seekers.State(id)
	closers := map[string]matchingapi.Closer{}
	cost := s.gapCost(state, closers)
	var near []match.Result
	for _, p := range misses {
		if reach, _ := match.Reachable(sk, p); !reach {
			continue
		}
		r := match.ScoreWith(sk, p, today, cost)
		if n := len(r.Missing); n >= 1 && n <= NearMissMaxGaps {
			near = append(near, r)
		}
	}
	match.Rank(near)
	near = near[:min(MaxNearMisses, len(near))]
	for _, r := range near {
		nm := matchingapi.NearMiss{Result: r}
		for _, g := range r.Missing {
			nm.Closers = append(nm.Closers, s.closer(state, g, closers))
		}
		out.NearMisses = append(out.NearMisses, nm)
	}
	return out, nil
}

// placeFilter keeps postings the seeker can reach: remote work, or sites
// within the radius. A seeker without a known location gets remote work
// only, and the reply says why.
func placeFilter(sk match.Seeker, extra seekerindex.Extra) (string, string) {
	remote := `work_mode = "remote"`
	switch {
	case sk.Point == nil && !extra.HasLocation:
		return remote, "Your profile has no location, so only remote postings are shown. Add a postal code to see jobs near you."
	case sk.Point == nil:
		return remote, "We could not place your postal code, so only remote postings are shown."
	case sk.RemotePref == "remote":
		return remote, ""
	case sk.RemotePref == "onsite":
		return match.GeoRadius(sk.Point.Lat, sk.Point.Lon, sk.RadiusMiles) + ` AND work_mode != "remote"`, ""
	}
	return "(" + remote + " OR " + match.GeoRadius(sk.Point.Lat, sk.Point.Lon, sk.RadiusMiles) + ")", ""
}

// eligibilityFilter is every hard requirement as one Meilisearch filter:
// no or-eligible credential the seeker neither holds nor may sit for, and
// some route met — route i exists, none of its groups is one the seeker
// cannot satisfy (holds none of its codes), and its education and
// experience minimums are within the seeker's. Only as many routes as some
// indexed posting has are spelled out.
func (s *Service) eligibilityFilter(sk match.Seeker) string {
	groups, orEligible, routes := s.postings.Vocabulary().Snapshot()
	var parts []string
	var missing []string
	for _, c := range orEligible {
		if !slices.Contains(sk.Held, c) && !slices.Contains(sk.EligibleNow, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		parts = append(parts, "NOT "+postingindex.FieldOrEligible+" IN "+match.InList(missing))
	}
	blocking := match.InList(match.BlockingTokens(groups, sk.Held))
	anyRoute := make([]string, 0, routes)
	for i := range min(routes, posting.MaxRoutes) {
		var rt []string
		if i > 0 {
			rt = append(rt, fmt.Sprintf("%s > %d", postingindex.FieldRouteCount, i))
		}
		if blocking != "[]" {
			rt = append(rt, "NOT "+postingindex.RouteField(i, postingindex.RouteGroups)+" IN "+blocking)
		}
		rt = append(rt,
			fmt.Sprintf("%s <= %d", postingindex.RouteField(i, postingindex.RouteEducation), sk.EducationRank),
			fmt.Sprintf("%s <= %d", postingindex.RouteField(i, postingindex.RouteExperience), sk.ExperienceMonths))
		anyRoute = append(anyRoute, "("+strings.Join(rt, " AND ")+")")
	}
	parts = append(parts, "("+strings.Join(anyRoute, " OR ")+")")
	return strings.Join(parts, " AND ")
}

func joinAnd(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " AND ")
}

func orTrue(f string) string {
	if f == "" {
		return `status = "open"`
	}
	return f
}

// query returns up to limit postings passing filter, newest first.
func (s *Service) query(ctx context.Context, filter string, limit int) ([]posting.Posting, error) {
	out, _, err := s.queryTrust(ctx, filter, limit)
	return out, err
}

// queryTrust is query with each posting's trust signals, by posting id.
// It sends candidateSearch, so the hits carry only what scoring reads, and
// decodes each hit once, straight into its posting and trust fields.
func (s *Service) queryTrust(ctx context.Context, filter string, limit int) ([]posting.Posting, map[string]matchingapi.Trust, error) {
	req := candidateSearch(filter, limit)
	raw, err := s.mc.Index(s.index).SearchRaw(ctx, "", &req)
	if err != nil {
		return nil, nil, apierr.Wrap(err, apierr.Unavailable, "matching is unavailable")
	}
	hits, err := decodeCandidates(*raw)
	if err != nil {
		return nil, nil, err
	}
	out := make([]posting.Posting, len(hits))
	trust := make(map[string]matchingapi.Trust, len(hits))
	today := s.now()
	for i := range hits {
		out[i] = hits[i].Posting
		trust[hits[i].ID] = trustSignals(hits[i].member(), today)
	}
	return out, trust, nil
}

// closer links a gap to the pathway step that closes it, with time and cost
// from the pathway engine. For a group of alternatives it picks the one the
// engine can reach soonest (then cheapest, then by code).
func (s *Service) closer(state pathway.State, g match.Gap, memo map[string]matchingapi.Closer) matchingapi.Closer {
	switch g.Kind {
	case "credential", "or_eligible":
		var best *matchingapi.Closer
		for _, code := range g.Codes {
			c, ok := memo[code]
			if !ok {
				c = s.planTo(state, code)
				memo[code] = c
			}
			c.Gap = g.Detail
			if best == nil || better(c, *best) {
				cc := c
				best = &cc
			}
		}
		if best != nil {
			return *best
		}
	case "education":
		return matchingapi.Closer{Gap: g.Detail, Text: "Complete the education it asks for: see your pathway plan for programs, their length and cost."}
	case "experience":
		return matchingapi.Closer{Gap: g.Detail, Text: "Gain the experience it asks for; " + g.Detail + "."}
	}
	return matchingapi.Closer{Gap: g.Detail, Text: g.Detail}
}

// gapCost prices a gap for choosing a near miss's route: a credential by
// the months of the quickest plan to it (a month more for each credential,
// so fewer exams win a tie; a credential no plan reaches costs more than any
// plan), other gaps by match.DefaultCost.
func (s *Service) gapCost(state pathway.State, memo map[string]matchingapi.Closer) match.Cost {
	return func(g match.Gap) float64 {
		if g.Kind != "credential" && g.Kind != "or_eligible" {
			return match.DefaultCost(g)
		}
		c := s.closer(state, g, memo)
		switch c.Status {
		case "eligible_now", "held", "planned", "over_limits":
			return 1 + float64(deref(c.MonthsMin))
		}
		return unplannableCost
	}
}

// unplannableCost is the price of a credential no plan reaches: more than
// any route a plan or experience can close.
const unplannableCost = 1000

func (s *Service) planTo(state pathway.State, code string) matchingapi.Closer {
	state.Target = code
	c := matchingapi.Closer{Code: code, Status: "unknown"}
	plan, err := pathway.Recommend(s.cat, state, pathway.Options{Today: s.now()})
	if err != nil || plan.Target == nil {
		c.Text = "Earn " + code + "."
		return c
	}
	t := plan.Target
	c.Status = t.Status
	c.MonthsMin, c.MonthsMax = &t.MonthsMin, t.MonthsMax
	c.CostMin, c.CostMax = &t.CostMin, t.CostMax
	c.Text = closerText(code, t)
	return c
}

func closerText(code string, t *pathway.TargetPlan) string {
	switch t.Status {
	case "eligible_now":
		return fmt.Sprintf("Eligible after %s: you may sit for it now; %s.", code, costWords(t.CostMin, t.CostMax))
	case "rules_unknown":
		return fmt.Sprintf("Eligible after %s: its eligibility rules are not published in our sources; check with the issuer.", code)
	case "unreachable":
		return fmt.Sprintf("Eligible after %s: no route to it from your current profile.", code)
	}
	return fmt.Sprintf("Eligible after %s: %s, %s (%d steps in your plan).", code, monthsWords(t.MonthsMin, t.MonthsMax), costWords(t.CostMin, t.CostMax), len(t.Steps))
}

func monthsWords(lo int, hi *int) string {
	switch {
	case hi == nil:
		return fmt.Sprintf("at least %d months", lo)
	case *hi == lo:
		return fmt.Sprintf("about %d months", lo)
	}
	return fmt.Sprintf("about %d–%d months", lo, *hi)
}

func costWords(lo float64, hi *float64) string {
	switch {
	case hi == nil:
		return fmt.Sprintf("from $%.0f (upper cost unknown)", lo)
	case *hi == lo:
		return fmt.Sprintf("$%.0f", lo)
	}
	return fmt.Sprintf("$%.0f–%.0f", lo, *hi)
}

// better orders closers: reachable first, then fewer months, then a known
// cost before an unknown one (an unknown upper cost reads as "from $0" and
// must not look cheapest), then cheaper.
func better(a, b matchingapi.Closer) bool {
	rank := func(c matchingapi.Closer) int {
		switch c.Status {
		case "eligible_now", "held":
			return 0
		case "planned", "over_limits":
			return 1
		case "rules_unknown":
			return 2
		}
		return 3
	}
	if rank(a) != rank(b) {
		return rank(a) < rank(b)
	}
	am, bm := deref(a.MonthsMin), deref(b.MonthsMin)
	if am != bm {
		return am < bm
	}
	if ak, bk := a.CostMax != nil, b.CostMax != nil; ak != bk {
		return ak
	}
	ac, bc := derefF(a.CostMin), derefF(b.CostMin)
	if ac != bc {
		return ac < bc
	}
	return a.Code < b.Code
}

func deref(p *int) int {
	if p == nil {
		return 1 << 30
	}
	return *p
}

func derefF(p *float64) float64 {
	if p == nil {
		return 1e18
	}
	return *p
}
