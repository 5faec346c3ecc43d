package postingindex

import (
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/strictjson"
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
// filterable and sortable fields, and no facet search.
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
				"experience_in_lieu_of_education", "date_posted_ts", match.FieldLat, match.FieldLon, FieldCluster, FieldClusterHidden,
			}, RouteFields()...),
			// A site is plain numbers (match.FieldLat, FieldLon), not
			// Meilisearch's _geo, which is neither filterable nor sortable:
			// its index was read and written whole by every indexing task,
			// most of each task's cost (docs/performance.md, "Session 14").
			SortableAttributes: []string{"date_posted_ts", "salary_hourly_min", "salary_hourly_max"},
			Faceting:           &meilisearch.Faceting{MaxValuesPerFacet: maxFacets},
			Pagination:         &meilisearch.Pagination{MaxTotalHits: 10000},
			// Nothing searches within facet values; facet counts do not
			// need it, and keeping it cost every indexing batch (meili.EnsureIndex).
			FacetSearch: false,
		},
	}
}

// Document is a posting as the index holds it: one JSON object (JSON),
// with its id and duplicate cluster for the indexer's bookkeeping. The
// indexer sends documents as NDJSON, straight from these bytes: a batch
// held as maps of decoded values, then encoded again, was most of
// matching's heap during a bulk ingest (issue 14: 31 MB of maps beside a
// 36 MB body at 100,000 postings).
type Document struct {
	ID      string
	Cluster string
	JSON    []byte
}

// Field is an index field a document carries besides the posting's own.
type Field struct {
	Key   string
	Value any
}

// Doc is a posting as indexed: the normalised posting plus the fields
// filters need, among them each route's groups and minimums (match.Routes:
// an event written before routes has the route it implies), then extra.
// It returns the group tokens of every route too, for the filter
// vocabulary. Contact details of seekers never come near it: postings are
// employers' public documents.
//
// The indexer updates documents in place (a partial update keeps the
// cluster fields that settling wrote), so a document names every field a
// posting may have: one the posting leaves out (a salary dropped by an
// update, a location gone remote, a route fewer) is null, not absent,
// or the index would keep its old value and filter by it.
func Doc(p posting.Posting, extra ...Field) (Document, []string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return Document{}, nil, err
	}
	routes := match.Routes(&p)
	if len(routes) > posting.MaxRoutes {
		return Document{}, nil, fmt.Errorf("%d routes, at most %d", len(routes), posting.MaxRoutes)
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
	oneWay := []string{}
	w := docWriter{b: b[:len(b)-1]} // the posting's object, still open
	for _, k := range omittedFields(&p) {
		w.null(k)
	}
	for i := range posting.MaxRoutes {
		if i >= len(routes) {
			w.null(RouteField(i, RouteGroups))
			w.null(RouteField(i, RouteEducation))
			w.null(RouteField(i, RouteExperience))
			continue
		}
		rt := routes[i]
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
		w.field(RouteField(i, RouteGroups), toks)
		w.field(RouteField(i, RouteEducation), rt.EducationMin.Rank())
		w.field(RouteField(i, RouteExperience), rt.ExperienceMonthsMin)
	}
	w.field(FieldRouteCount, len(routes))
	anyCodes = append(anyCodes, required...)
	anyCodes = append(anyCodes, p.CredentialsPreferred...)
	anyCodes = append(anyCodes, p.CredentialsOrEligible...)
	slices.Sort(anyCodes)
	slices.Sort(oneWay)
	slices.Sort(vocab)
	w.field("status", "open")
	w.field(FieldGroups, groups)
	w.field(FieldAny, slices.Compact(anyCodes))
	w.field(FieldOneWay, slices.Compact(oneWay))
	w.field("education_rank", p.EducationMin.Rank())
	w.field("date_posted_ts", p.DatePosted.Unix())
	if pt, ok := p.Location.Point(); ok {
		w.field("_geo", geoPoint{Lat: pt.Lat, Lng: pt.Lon})
		w.field(match.FieldLat, pt.Lat)
		w.field(match.FieldLon, pt.Lon)
	} else {
		w.null("_geo")
		w.null(match.FieldLat)
		w.null(match.FieldLon)
	}
	for _, f := range extra {
		w.field(f.Key, f.Value)
	}
	if w.err != nil {
		return Document{}, nil, w.err
	}
	return Document{ID: p.ID, Cluster: p.ID, JSON: append(w.b, '}')}, slices.Compact(vocab), nil
}

// geoPoint is the site as a hit shows it (_geo, Meilisearch's form; the
// index neither filters nor sorts by it).
type geoPoint struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// docWriter appends members to an open JSON object; the first error
// stays in err.
type docWriter struct {
	b   []byte
	err error
}

func (w *docWriter) key(k string) {
	if w.b[len(w.b)-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.b = strconv.AppendQuote(w.b, k) // index field names are ASCII
	w.b = append(w.b, ':')
}

func (w *docWriter) null(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
}

func (w *docWriter) field(k string, v any) {
	w.key(k)
	switch v := v.(type) {
	case int:
		w.b = strconv.AppendInt(w.b, int64(v), 10)
	case int64:
		w.b = strconv.AppendInt(w.b, v, 10)
	case bool:
		w.b = strconv.AppendBool(w.b, v)
	default:
		vb, err := json.Marshal(v)
		if err != nil && w.err == nil {
			w.err = fmt.Errorf("index field %s: %w", k, err)
		}
		w.b = append(w.b, vb...)
	}
}

// postingOptional are posting.Posting's members that encoding/json may
// leave out, found once from its type.
var postingOptional = slices.DeleteFunc(strictjson.Fields(reflect.TypeFor[posting.Posting]()), func(f strictjson.Field) bool {
	return !f.OmitEmpty && !f.OmitZero
})

// omittedFields are the optional members json.Marshal leaves out of p.
func omittedFields(p *posting.Posting) []string {
	v := reflect.ValueOf(p).Elem()
	var out []string
	for _, f := range postingOptional {
		fv, err := v.FieldByIndexErr(f.Index)
		if err != nil {
			continue // in a nil embedded pointer: left out
		}
		left := f.OmitZero && fv.IsZero()
		if f.OmitEmpty {
			switch fv.Kind() {
			case reflect.Slice, reflect.Map, reflect.String, reflect.Array:
				left = left || fv.Len() == 0
			default:
				left = left || fv.IsZero()
			}
		}
		if left {
			out = append(out, f.Name)
		}
	}
	return out
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
func parseJob(data []byte) (Document, error) {
	var ev ingestapi.JobEvent
	if err := json.Unmarshal(data, &ev); err != nil || ev.ID == "" {
		return Document{}, events.Poison("posting does not parse: %v", err)
	}
	return EventDoc(ev)
}

// EventDoc is the document the indexer makes of a jobs.posted or
// jobs.updated event's payload; a document that can never be indexed is
// poison.
func EventDoc(ev ingestapi.JobEvent) (Document, error) {
	if !ValidID(ev.ID) {
		return Document{}, events.Poison("posting id %.60q: Meilisearch ids are 1 to 511 letters, digits, '-' or '_'", ev.ID)
	}
	doc, _, err := Doc(ev.Posting, append([]Field{{"employer_id", ev.EmployerID}}, clusterFields(ev)...)...)
	if err != nil {
		return Document{}, events.Poison("posting %s: %v", ev.ID, err)
	}
	doc.Cluster = cmp.Or(ev.ClusterID, ev.ID)
	return doc, nil
}

// clusterFields are a new document's cluster fields, as they are for a
// posting alone in its cluster, so that a burst of distinct postings needs
// no second Meilisearch task to settle their clusters. A posting that
// joins another's cluster starts hidden, and its cluster is settled
// (settleClusters) once it is searchable; the settled fields of a
// document already indexed are kept by the partial update, except for the
// first posting of a cluster, whose defaults settling corrects.
func clusterFields(ev ingestapi.JobEvent) []Field {
	cluster := cmp.Or(ev.ClusterID, ev.ID)
	if cluster != ev.ID {
		return []Field{{FieldCluster, cluster}, {FieldClusterHidden, true}}
	}
	return []Field{{FieldCluster, cluster}, {FieldClusterHidden, false}, {FieldClusterSize, 1}, {FieldClusterReposts, 0},
		{FieldClusterOwner, ev.EmployerID}, {FieldClusterFirstSeen, ev.DatePosted.Unix()}}
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
