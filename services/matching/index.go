package matching

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
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
				"experience_in_lieu_of_education", "date_posted_ts", "_geo", fieldCluster, fieldClusterHidden,
			}, routeFields()...),
			SortableAttributes: []string{"date_posted_ts", "salary_hourly_min", "salary_hourly_max", "_geo"},
			Faceting:           &meilisearch.Faceting{MaxValuesPerFacet: maxFacets},
			Pagination:         &meilisearch.Pagination{MaxTotalHits: 10000},
		},
	}
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
// acknowledged once its Meilisearch task succeeded, and on nothing else: a
// posting counts as indexed once it is searchable, and indexing never waits
// for matching or notifications (runReverse follows JOBS on its own
// consumer for those).
func (s *Service) runIndexer(ctx context.Context) error {
	return events.Run(ctx, s.js, events.Consumer{
		Stream:   events.StreamJobs,
		Durable:  indexerDurable,
		Filters:  []string{ingestapi.Posted.Subject, ingestapi.Updated.Subject, ingestapi.Closed.Subject, ingestapi.Stale.Subject},
		MaxBatch: IndexBatch,
		Linger:   IndexLinger,
	}, s.log, s.indexBatch)
}

// Indexer batching: Meilisearch's cost per task is high, and the indexer
// waits for a task before it takes the next batch, so a bulk load goes in
// as few, large tasks as possible (a burst of 1,000 postings is one task).
const (
	IndexBatch  = 1000
	IndexLinger = 100 * time.Millisecond
)

// indexerDurable is the indexer's consumer of JOBS.
const indexerDurable = "matching-postings-index"

// validID is what Meilisearch accepts as a document id.
func validID(id string) bool {
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
	if !validID(ev.ID) {
		return nil, events.Poison("posting id %.60q: Meilisearch ids are 1 to 511 letters, digits, '-' or '_'", ev.ID)
	}
	doc, _, err := indexDoc(ev.Posting)
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
	doc[fieldCluster] = cluster
	if cluster != ev.ID {
		doc[fieldClusterHidden] = true
		return
	}
	doc[fieldClusterHidden] = false
	doc[fieldClusterSize], doc[fieldClusterReposts] = 1, 0
	doc[fieldClusterOwner], doc[fieldClusterFirstSeen] = ev.EmployerID, ev.DatePosted.Unix()
}

// closedID reads the posting id of a jobs.closed or jobs.stale event.
func closedID(data []byte) (string, error) {
	var ref struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &ref); err != nil || ref.ID == "" {
		return "", events.Poison("closed posting without an id")
	}
	return ref.ID, nil
}

func (s *Service) indexBatch(ctx context.Context, msgs []jetstream.Msg) []error {
	errs := make([]error, len(msgs))
	var docs []map[string]any
	var upsertIdx, deleteIdx []int
	var deletes []string
	for i, m := range msgs {
		if m.Subject() == events.JobsClosed || m.Subject() == events.JobsStale {
			id, err := closedID(m.Data())
			if err != nil {
				errs[i] = err
				continue
			}
			deletes = append(deletes, id)
			deleteIdx = append(deleteIdx, i)
			continue
		}
		doc, err := parseJob(m.Data())
		if err != nil {
			errs[i] = err
			continue
		}
		docs = append(docs, doc)
		upsertIdx = append(upsertIdx, i)
	}
	var clusters []string
	if len(docs) > 0 {
		for k, err := range s.addDocs(ctx, docs) {
			errs[upsertIdx[k]] = err
			if err == nil {
				clusters = append(clusters, docs[k][fieldCluster].(string))
			}
		}
	}
	if len(deletes) > 0 {
		closed, err := s.clustersOf(ctx, deletes)
		if err == nil {
			clusters = append(clusters, closed...)
			var info *meilisearch.TaskInfo
			if info, err = s.mc.Index(s.index).DeleteDocuments(ctx, deletes, nil); err == nil {
				err = meili.Wait(ctx, s.mc, info)
			}
		}
		for _, i := range deleteIdx {
			errs[i] = wrap("remove closed postings", err)
		}
	}
	if err := s.settleClusters(ctx, clusters); err != nil {
		for i := range errs {
			if !errors.Is(errs[i], events.ErrPoison) {
				errs[i] = err
			}
		}
	}
	return errs
}

// addDocs upserts documents and returns one error per document. When
// Meilisearch refuses the batch for what is in it (a task that failed with
// an invalid_request error), it splits the batch in halves until it has
// found the documents it refuses: those are poison, with Meilisearch's
// reason, and every other document is indexed. Any other failure (Meilisearch
// down, an internal error) fails the whole batch, to be retried.
func (s *Service) addDocs(ctx context.Context, docs []map[string]any) []error {
	errs := make([]error, len(docs))
	err := s.upsert(ctx, docs)
	var refused *refusedError
	switch {
	case err == nil:
	case errors.As(err, &refused) && len(docs) == 1:
		errs[0] = events.Poison("meilisearch refused the posting: %s", refused.msg)
	case errors.As(err, &refused):
		h := len(docs) / 2
		copy(errs, s.addDocs(ctx, docs[:h]))
		copy(errs[h:], s.addDocs(ctx, docs[h:]))
	default:
		for i := range errs {
			errs[i] = wrap("index postings", err)
		}
	}
	return errs
}

// refusedError is a Meilisearch task that failed because of the documents
// it was given.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return "meilisearch refused the documents: " + e.msg }

func (s *Service) upsert(ctx context.Context, docs []map[string]any) error {
	pk := "id"
	info, err := s.mc.Index(s.index).UpdateDocuments(ctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
	if err != nil {
		return err
	}
	t, err := s.mc.WaitForTask(ctx, info.TaskUID, meili.TaskPoll)
	if err != nil {
		return fmt.Errorf("wait for meilisearch task %d: %w", info.TaskUID, err)
	}
	switch {
	case t.Status == meilisearch.TaskStatusSucceeded:
		return nil
	case t.Error.Type == "invalid_request":
		return &refusedError{msg: fmt.Sprintf("%s (%s)", t.Error.Message, t.Error.Code)}
	}
	return fmt.Errorf("meilisearch task %d (%s) %s: %s (%s)", t.UID, t.Type, t.Status, t.Error.Message, t.Error.Code)
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
			var ev ingestapi.JobEvent
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
