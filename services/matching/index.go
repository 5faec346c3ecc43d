package matching

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/posting"
)

// PostingsIndex is the Meilisearch index of open postings (after the
// configured prefix).
const PostingsIndex = "postings"

// Index field names used in filters.
const (
	// fieldGroups are the tokens of the groups every route requires (the
	// posting's summary), fieldAny every code the posting names, and
	// fieldOneWay the codes that are one way in among several: a route
	// needs them, not every route.
	fieldGroups     = "credentials_required_groups"
	fieldAny        = "credentials_any"
	fieldOneWay     = "credentials_one_way_in"
	fieldOrEligible = "credentials_or_eligible"
	// fieldRouteCount is how many routes (ways to qualify) the posting
	// has; route i < fieldRouteCount is indexed as routeField(i, …).
	fieldRouteCount = "route_count"
)

// Parts of a route in the index: routeField(i, routeGroups) holds route
// i's group tokens, and the others its minimums.
const (
	routeGroups     = "groups"
	routeEducation  = "education_rank"
	routeExperience = "experience_months"
)

func routeField(i int, part string) string { return fmt.Sprintf("route_%d_%s", i, part) }

// routeFields are the filterable fields of every route a posting may have.
func routeFields() []string {
	out := []string{fieldRouteCount}
	for i := range posting.MaxRoutes {
		out = append(out, routeField(i, routeGroups), routeField(i, routeEducation), routeField(i, routeExperience))
	}
	return out
}

func postingsIndex(uid string) meili.Index {
	maxFacets := int64(1000)
	return meili.Index{
		UID:        uid,
		PrimaryKey: "id",
		Settings: meilisearch.Settings{
			SearchableAttributes: []string{"title", "role", "employer", "skills", "code_sets", "ehr_systems", "description"},
			FilterableAttributes: append([]string{
				"status", "work_mode", "employment_type", "soc_code", "role", "employer", "employer_id",
				fieldGroups, fieldAny, fieldOneWay, fieldOrEligible, "credentials_preferred",
				"salary_hourly_min", "salary_hourly_max", "education_rank", "experience_months_min",
				"experience_in_lieu_of_education", "date_posted_ts", "_geo",
			}, routeFields()...),
			SortableAttributes: []string{"date_posted_ts", "salary_hourly_min", "salary_hourly_max", "_geo"},
			Faceting:           &meilisearch.Faceting{MaxValuesPerFacet: maxFacets},
			Pagination:         &meilisearch.Pagination{MaxTotalHits: 10000},
		},
	}
}

// JobEvent is the payload of jobs.posted and jobs.updated: the normalised
// posting and the organisation that owns it.
type JobEvent struct {
	posting.Posting
	EmployerID string `json:"employer_id"`
	ClusterID  string `json:"cluster_id,omitempty"`
}

// indexDoc is a posting as indexed: the normalised posting plus the fields
// filters need, among them each route's groups and minimums (match.Routes:
// an event written before routes has the route it implies). It returns the
// group tokens of every route too, for the filter vocabulary. Contact
// details of seekers never come near it: postings are employers' public
// documents.
func indexDoc(p posting.Posting) (map[string]any, []string, error) {
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
		doc[routeField(i, routeGroups)] = toks
		doc[routeField(i, routeEducation)] = rt.EducationMin.Rank()
		doc[routeField(i, routeExperience)] = rt.ExperienceMonthsMin
	}
	doc[fieldRouteCount] = len(routes)
	anyCodes = append(anyCodes, required...)
	anyCodes = append(anyCodes, p.CredentialsPreferred...)
	anyCodes = append(anyCodes, p.CredentialsOrEligible...)
	slices.Sort(anyCodes)
	slices.Sort(oneWay)
	slices.Sort(vocab)
	doc["status"] = "open"
	doc[fieldGroups] = groups
	doc[fieldAny] = slices.Compact(anyCodes)
	doc[fieldOneWay] = slices.Compact(oneWay)
	doc["education_rank"] = p.EducationMin.Rank()
	doc["date_posted_ts"] = p.DatePosted.Unix()
	if pt, ok := p.Location.Point(); ok {
		doc["_geo"] = map[string]float64{"lat": pt.Lat, "lng": pt.Lon}
	}
	return doc, slices.Compact(vocab), nil
}

// runIndexer batches events from JOBS into Meilisearch. A batch is
// acknowledged only after its Meilisearch task succeeded, so a posting counts
// as indexed only once it is searchable; then its reverse matches are
// computed.
func (s *Service) runIndexer(ctx context.Context) error {
	return events.Run(ctx, s.p.JS, events.Consumer{
		Stream:   events.StreamJobs,
		Durable:  "matching-postings-index",
		Filters:  []string{events.JobsPosted, events.JobsUpdated, events.JobsClosed, events.JobsStale},
		MaxBatch: 500,
		Linger:   20 * time.Millisecond,
	}, s.p.Log, s.indexBatch)
}

func (s *Service) indexBatch(ctx context.Context, msgs []jetstream.Msg) []error {
	errs := make([]error, len(msgs))
	var docs []map[string]any
	var posted []posting.Posting
	var upsertIdx, deleteIdx []int
	var deletes []string
	for i, m := range msgs {
		if m.Subject() == events.JobsClosed || m.Subject() == events.JobsStale {
			var ref struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(m.Data(), &ref); err != nil || ref.ID == "" {
				errs[i] = events.Poison("closed posting without an id")
				continue
			}
			deletes = append(deletes, ref.ID)
			deleteIdx = append(deleteIdx, i)
			continue
		}
		var ev JobEvent
		if err := json.Unmarshal(m.Data(), &ev); err != nil || ev.ID == "" {
			errs[i] = events.Poison("posting does not parse: %v", err)
			continue
		}
		p := ev.Posting
		doc, groups, err := indexDoc(p)
		if err != nil {
			errs[i] = events.Poison("posting: %v", err)
			continue
		}
		doc["employer_id"] = ev.EmployerID
		s.vocab.add(groups, p.CredentialsOrEligible, len(match.Routes(&p)))
		docs = append(docs, doc)
		posted = append(posted, p)
		upsertIdx = append(upsertIdx, i)
	}
	ix := s.p.Meili.Index(s.index)
	pk := "id"
	if len(docs) > 0 {
		info, err := ix.UpdateDocuments(ctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err == nil {
			err = meili.Wait(ctx, s.p.Meili, info)
		}
		for _, i := range upsertIdx {
			errs[i] = wrap("index postings", err)
		}
		if err == nil {
			for _, p := range posted {
				if err := s.reverseMatch(ctx, p); err != nil {
					s.p.Log.Warn().Err(err).Str("posting", p.ID).Msg("reverse match")
				}
			}
		}
	}
	if len(deletes) > 0 {
		info, err := ix.DeleteDocuments(ctx, deletes, nil)
		if err == nil {
			err = meili.Wait(ctx, s.p.Meili, info)
		}
		for _, i := range deleteIdx {
			errs[i] = wrap("remove closed postings", err)
		}
		if err == nil {
			for _, id := range deletes {
				if err := s.unlistPosting(ctx, id); err != nil {
					s.p.Log.Warn().Err(err).Str("posting", id).Msg("remove closed posting from match lists")
				}
			}
		}
	}
	s.market.invalidate()
	return errs
}

// load reads the tokens, codes and route counts already in the index (at
// start): every route's group tokens, so a seeker's filter knows them all.
func (v *vocabulary) load(ctx context.Context, c meilisearch.ServiceManager, index string) error {
	facets := []string{fieldGroups, fieldOrEligible, fieldRouteCount}
	for i := range posting.MaxRoutes {
		facets = append(facets, routeField(i, routeGroups))
	}
	res, err := c.Index(index).Search(ctx, "", &meilisearch.SearchRequest{Limit: 0, Facets: facets})
	if err != nil {
		return fmt.Errorf("load filter vocabulary: %w", err)
	}
	var dist map[string]map[string]int
	if b, err := json.Marshal(res.FacetDistribution); err == nil {
		_ = json.Unmarshal(b, &dist)
	}
	var groups, codes []string
	for f, values := range dist {
		if f == fieldGroups || strings.HasSuffix(f, "_"+routeGroups) {
			for g := range values {
				groups = append(groups, g)
			}
		}
	}
	for c := range dist[fieldOrEligible] {
		codes = append(codes, c)
	}
	routes := 1
	for n := range dist[fieldRouteCount] {
		if k, err := strconv.Atoi(n); err == nil {
			routes = max(routes, k)
		}
	}
	v.add(groups, codes, routes)
	return nil
}

// migrateRoutes re-indexes documents written before the index had routes
// (no route_count) from the postings they hold, so that the route filter
// selects them; it runs at start, before the indexer, and does nothing on
// an index already migrated. It reports how many documents it rewrote.
func migrateRoutes(ctx context.Context, c meilisearch.ServiceManager, index string) (int, error) {
	const batch = 1000
	pk := "id"
	n := 0
	for {
		res, err := c.Index(index).Search(ctx, "", &meilisearch.SearchRequest{Filter: fieldRouteCount + " NOT EXISTS", Limit: batch})
		if err != nil {
			return n, fmt.Errorf("find postings indexed without routes: %w", err)
		}
		if len(res.Hits) == 0 {
			return n, nil
		}
		docs := make([]map[string]any, 0, len(res.Hits))
		for _, h := range res.Hits {
			var ev JobEvent
			if err := h.DecodeInto(&ev); err != nil {
				return n, fmt.Errorf("decode indexed posting: %w", err)
			}
			doc, _, err := indexDoc(ev.Posting)
			if err != nil {
				return n, fmt.Errorf("re-index posting %s: %w", ev.ID, err)
			}
			doc["employer_id"] = ev.EmployerID
			docs = append(docs, doc)
		}
		info, err := c.Index(index).UpdateDocuments(ctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err == nil {
			err = meili.Wait(ctx, c, info)
		}
		if err != nil {
			return n, fmt.Errorf("re-index postings with routes: %w", err)
		}
		n += len(docs)
	}
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
