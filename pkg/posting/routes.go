package posting

import (
	"slices"
	"strings"
)

// Route is one way to qualify for a posting: one credential from each
// group of Credentials, at least EducationMin, and at least
// ExperienceMonthsMin months of experience. A candidate who meets every
// part of any one route qualifies.
//
// Real postings, federal ones above all, list ways to qualify: "one of the
// following: (a) an associate degree in HIT; (b) one year of experience;
// (c) RHIT, RHIA, CCA, CCS, CPC, COC or CIC". That is three routes, the
// third a single group of seven alternatives; reading it as one route
// with seven required credentials shuts every qualified seeker out.
// schema.org's experienceInPlaceOfEducation is the two-route case
// {education} or {experience}.
type Route struct {
	Credentials         [][]string `json:"credentials"`
	EducationMin        Education  `json:"education_min"`
	ExperienceMonthsMin int        `json:"experience_months_min"`
}

// MaxRoutes bounds the routes kept for one posting: the postings index has
// a field per route, so a seeker's filter stays exact. Real postings list
// two to four; beyond the bound the least demanding routes are kept.
const MaxRoutes = 4

// Alternatives returns the posting's routes: Routes when set, else the
// routes implied by the summary fields of an event written before routes
// existed (the base route, and experience in place of education as a
// second route).
func (r *Requirements) Alternatives() []Route {
	if len(r.Routes) > 0 {
		return r.Routes
	}
	base := Route{Credentials: r.CredentialsRequired, EducationMin: r.EducationMin, ExperienceMonthsMin: r.ExperienceMonthsMin}
	if base.Credentials == nil {
		base.Credentials = [][]string{}
	}
	if r.ExperienceInLieuOfEducation && r.ExperienceMonthsMin > 0 && r.EducationMin != EducationNone {
		return []Route{base, {Credentials: base.Credentials, ExperienceMonthsMin: r.ExperienceMonthsMin}}
	}
	return []Route{base}
}

// SetRoutes canonicalises routes and stores them with the summary fields
// every route shares: CredentialsRequired holds the groups every route
// requires (a group is required by a route that has a group inside it),
// EducationMin and ExperienceMonthsMin the lowest over the routes. The
// summary is therefore a necessary condition: a filter on it never shuts
// out a candidate who meets some route.
func (r *Requirements) SetRoutes(routes []Route) {
	routes = CanonicalRoutes(routes)
	r.Routes = routes
	r.CredentialsRequired = commonGroups(routes)
	r.EducationMin, r.ExperienceMonthsMin = routes[0].EducationMin, routes[0].ExperienceMonthsMin
	for _, rt := range routes[1:] {
		if rt.EducationMin.Rank() < r.EducationMin.Rank() {
			r.EducationMin = rt.EducationMin
		}
		r.ExperienceMonthsMin = min(r.ExperienceMonthsMin, rt.ExperienceMonthsMin)
	}
}

// CanonicalRoutes sorts each route's groups and codes, drops duplicate
// groups and groups implied by a narrower one, drops routes that demand
// everything another route demands and more (they add no way in), orders
// the routes from least to most demanding, and keeps at most MaxRoutes.
// No routes at all is the one open route.
func CanonicalRoutes(routes []Route) []Route {
	out := make([]Route, 0, len(routes))
	for _, rt := range routes {
		rt.Credentials = canonicalGroups(rt.Credentials)
		out = append(out, rt)
	}
	if len(out) == 0 {
		return []Route{{Credentials: [][]string{}}}
	}
	var kept []Route
	for i, a := range out {
		redundant := false
		for j, b := range out {
			if i != j && routeImplies(a, b) && (!routeImplies(b, a) || j < i) {
				redundant = true // b is easier, or an earlier copy of a
				break
			}
		}
		if !redundant {
			kept = append(kept, a)
		}
	}
	slices.SortStableFunc(kept, func(a, b Route) int {
		if c := len(a.Credentials) - len(b.Credentials); c != 0 {
			return c
		}
		if c := a.EducationMin.Rank() - b.EducationMin.Rank(); c != 0 {
			return c
		}
		if c := a.ExperienceMonthsMin - b.ExperienceMonthsMin; c != 0 {
			return c
		}
		return strings.Compare(groupsKey(a.Credentials), groupsKey(b.Credentials))
	})
	if len(kept) > MaxRoutes {
		kept = kept[:MaxRoutes]
	}
	return kept
}

// routeImplies reports whether meeting a always meets b: a demands at
// least b's education and experience, and each of b's groups has a group
// of a inside it.
func routeImplies(a, b Route) bool {
	if a.EducationMin.Rank() < b.EducationMin.Rank() || a.ExperienceMonthsMin < b.ExperienceMonthsMin {
		return false
	}
	for _, g := range b.Credentials {
		if !slices.ContainsFunc(a.Credentials, func(h []string) bool { return isSubset(h, g) }) {
			return false
		}
	}
	return true
}

// canonicalGroups sorts and de-duplicates codes and groups and drops a
// group implied by a narrower one ("RHIT" makes "RHIT or RHIA" redundant).
func canonicalGroups(groups [][]string) [][]string {
	var norm [][]string
	for _, g := range groups {
		g = slices.Compact(slices.Sorted(slices.Values(g)))
		if len(g) > 0 {
			norm = append(norm, g)
		}
	}
	out := [][]string{}
	for i, g := range norm {
		implied := false
		for j, h := range norm {
			if i != j && isSubset(h, g) && (len(h) < len(g) || j < i) {
				implied = true
				break
			}
		}
		if !implied {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(strings.Join(a, "|"), strings.Join(b, "|")) })
	return out
}

// commonGroups returns the groups every route requires: any route's group
// G such that each route has a group inside G.
func commonGroups(routes []Route) [][]string {
	var out [][]string
	for _, cand := range routes {
		for _, g := range cand.Credentials {
			all := true
			for _, rt := range routes {
				if !slices.ContainsFunc(rt.Credentials, func(h []string) bool { return isSubset(h, g) }) {
					all = false
					break
				}
			}
			if all {
				out = append(out, g)
			}
		}
	}
	return canonicalGroups(out)
}

func groupsKey(groups [][]string) string {
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = strings.Join(g, "|")
	}
	return strings.Join(parts, "&")
}
