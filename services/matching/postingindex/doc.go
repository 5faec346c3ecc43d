package postingindex

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/posting"
)

// Name is the Meilisearch index of open postings (after the configured
// prefix).
const Name = "postings"

// Index field names used in filters.
const (
	// FieldGroups are the tokens of the groups every route requires (the
	// posting's summary), FieldAny every code the posting names, and
	// FieldOneWay the codes that are one way in among several: a route
	// needs them, not every route.
	FieldGroups     = "credentials_required_groups"
	FieldAny        = "credentials_any"
	FieldOneWay     = "credentials_one_way_in"
	FieldOrEligible = "credentials_or_eligible"
	// FieldRouteCount is how many routes (ways to qualify) the posting
	// has; route i < FieldRouteCount is indexed as RouteField(i, …).
	FieldRouteCount = "route_count"
)

// Parts of a route in the index: RouteField(i, RouteGroups) holds route
// i's group tokens, and the others its minimums.
const (
	RouteGroups     = "groups"
	RouteEducation  = "education_rank"
	RouteExperience = "experience_months"
)

func RouteField(i int, part string) string { return fmt.Sprintf("route_%d_%s", i, part) }

// RouteFields are the filterable fields of every route a posting may have.
func RouteFields() []string {
	out := []string{FieldRouteCount}
	for i := range posting.MaxRoutes {
		out = append(out, RouteField(i, RouteGroups), RouteField(i, RouteEducation), RouteField(i, RouteExperience))
	}
	return out
}

// Settings are the index's Meilisearch settings: its searchable,
// filterable and sortable fields.
func Settings(uid string) meili.Index {
	maxFacets := int64(1000)
	return meili.Index{
		UID:        uid,
		PrimaryKey: "id",
		Settings: meilisearch.Settings{
			SearchableAttributes: []string{"title", "role", "employer", "skills", "code_sets", "ehr_systems", "description"},
			FilterableAttributes: append([]string{
				"status", "work_mode", "employment_type", "soc_code", "role", "employer", "employer_id",
				FieldGroups, FieldAny, FieldOneWay, FieldOrEligible, "credentials_preferred",
				"salary_hourly_min", "salary_hourly_max", "education_rank", "experience_months_min",
				"experience_in_lieu_of_education", "date_posted_ts", "_geo", FieldCluster, FieldClusterHidden,
			}, RouteFields()...),
			SortableAttributes: []string{"date_posted_ts", "salary_hourly_min", "salary_hourly_max", "_geo"},
			Faceting:           &meilisearch.Faceting{MaxValuesPerFacet: maxFacets},
			Pagination:         &meilisearch.Pagination{MaxTotalHits: 10000},
		},
	}
}

// Doc is a posting as indexed: the normalised posting plus the fields
// filters need, among them each route's groups and minimums (match.Routes:
// an event written before routes has the route it implies). It returns the
// group tokens of every route too, for the filter vocabulary. Contact
// details of seekers never come near it: postings are employers' public
// documents.
func Doc(p posting.Posting) (map[string]any, []string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, err
	}
	groups := make([]string, 0, len(p.CredentialsRequired))
	for _, g := range p.CredentialsRequired {
		groups = append(groups, match.GroupToken(g))
	}
	vocab := slices.Clone(groups)
	anyCodes, required := []string{}, []string{}
	for _, g := range p.CredentialsRequired {
		required = append(required, g...)
	}
	routes := match.Routes(&p)
	if len(routes) > posting.MaxRoutes {
		return nil, nil, fmt.Errorf("%d routes, at most %d", len(routes), posting.MaxRoutes)
	}
	oneWay := []string{}
	for i, rt := range routes {
		toks := make([]string, 0, len(rt.Credentials))
		for _, g := range rt.Credentials {
			toks = append(toks, match.GroupToken(g))
			anyCodes = append(anyCodes, g...)
			for _, c := range g {
				if !slices.Contains(required, c) {
					oneWay = append(oneWay, c)
				}
			}
		}
		vocab = append(vocab, toks...)
		doc[RouteField(i, RouteGroups)] = toks
		doc[RouteField(i, RouteEducation)] = rt.EducationMin.Rank()
		doc[RouteField(i, RouteExperience)] = rt.ExperienceMonthsMin
	}
	doc[FieldRouteCount] = len(routes)
	anyCodes = append(anyCodes, required...)
	anyCodes = append(anyCodes, p.CredentialsPreferred...)
	anyCodes = append(anyCodes, p.CredentialsOrEligible...)
	slices.Sort(anyCodes)
	slices.Sort(oneWay)
	slices.Sort(vocab)
	doc["status"] = "open"
	doc[FieldGroups] = groups
	doc[FieldAny] = slices.Compact(anyCodes)
	doc[FieldOneWay] = slices.Compact(oneWay)
	doc["education_rank"] = p.EducationMin.Rank()
	doc["date_posted_ts"] = p.DatePosted.Unix()
	if pt, ok := p.Location.Point(); ok {
		doc["_geo"] = map[string]float64{"lat": pt.Lat, "lng": pt.Lon}
	}
	return doc, slices.Compact(vocab), nil
}

// ValidID is what Meilisearch accepts as a document id.
func ValidID(id string) bool {
	if id == "" || len(id) > 511 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// parseJob reads a jobs.posted or jobs.updated event into the document to
// index; a document that can never be indexed is poison.
func parseJob(data []byte) (map[string]any, error) {
	var ev ingestapi.JobEvent
	if err := json.Unmarshal(data, &ev); err != nil || ev.ID == "" {
		return nil, events.Poison("posting does not parse: %v", err)
	}
	if !ValidID(ev.ID) {
		return nil, events.Poison("posting id %.60q: Meilisearch ids are 1 to 511 letters, digits, '-' or '_'", ev.ID)
	}
	doc, _, err := Doc(ev.Posting)
	if err != nil {
		return nil, events.Poison("posting %s: %v", ev.ID, err)
	}
	doc["employer_id"] = ev.EmployerID
	clusterFields(doc, ev)
	return doc, nil
}

// clusterFields sets a new document's cluster fields as they are for a
// posting alone in its cluster, so that a burst of distinct postings needs
// no second Meilisearch task to settle their clusters. A posting that
// joins another's cluster starts hidden, and its cluster is settled
// (settleClusters) once it is searchable; the settled fields of a
// document already indexed are kept by the partial update, except for the
// first posting of a cluster, whose defaults settling corrects.
func clusterFields(doc map[string]any, ev ingestapi.JobEvent) {
	cluster := cmp.Or(ev.ClusterID, ev.ID)
	doc[FieldCluster] = cluster
	if cluster != ev.ID {
		doc[FieldClusterHidden] = true
		return
	}
	doc[FieldClusterHidden] = false
	doc[FieldClusterSize], doc[FieldClusterReposts] = 1, 0
	doc[FieldClusterOwner], doc[FieldClusterFirstSeen] = ev.EmployerID, ev.DatePosted.Unix()
}

// ClosedID reads the posting id of a jobs.closed or jobs.stale event.
func ClosedID(data []byte) (string, error) {
	var ref struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &ref); err != nil || ref.ID == "" {
		return "", events.Poison("closed posting without an id")
	}
	return ref.ID, nil
}
