package matching

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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
	fieldGroups     = "credentials_required_groups"
	fieldAny        = "credentials_any"
	fieldOrEligible = "credentials_or_eligible"
)

func postingsIndex(uid string) meili.Index {
	maxFacets := int64(1000)
	return meili.Index{
		UID:        uid,
		PrimaryKey: "id",
		Settings: meilisearch.Settings{
			SearchableAttributes: []string{"title", "role", "employer", "skills", "code_sets", "ehr_systems", "description"},
			FilterableAttributes: []string{
				"status", "work_mode", "employment_type", "soc_code", "role", "employer", "employer_id",
				fieldGroups, fieldAny, fieldOrEligible, "credentials_preferred",
				"salary_hourly_min", "salary_hourly_max", "education_rank", "experience_months_min",
				"experience_in_lieu_of_education", "date_posted_ts", "_geo",
			},
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
// filters need. Contact details of seekers never come near it: postings
// are employers' public documents.
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
	anyCodes := []string{}
	for _, g := range p.CredentialsRequired {
		anyCodes = append(anyCodes, g...)
	}
	anyCodes = append(anyCodes, p.CredentialsPreferred...)
	anyCodes = append(anyCodes, p.CredentialsOrEligible...)
	slices.Sort(anyCodes)
	doc["status"] = "open"
	doc[fieldGroups] = groups
	doc[fieldAny] = slices.Compact(anyCodes)
	doc["education_rank"] = p.EducationMin.Rank()
	doc["date_posted_ts"] = p.DatePosted.Unix()
	if pt, ok := p.Location.Point(); ok {
		doc["_geo"] = map[string]float64{"lat": pt.Lat, "lng": pt.Lon}
	}
	return doc, groups, nil
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
		s.vocab.add(groups, p.CredentialsOrEligible)
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

// load reads the tokens and codes already in the index (at start).
func (v *vocabulary) load(ctx context.Context, c meilisearch.ServiceManager, index string) error {
	res, err := c.Index(index).Search(ctx, "", &meilisearch.SearchRequest{Limit: 0, Facets: []string{fieldGroups, fieldOrEligible}})
	if err != nil {
		return fmt.Errorf("load filter vocabulary: %w", err)
	}
	var dist map[string]map[string]int
	if b, err := json.Marshal(res.FacetDistribution); err == nil {
		_ = json.Unmarshal(b, &dist)
	}
	var groups, codes []string
	for g := range dist[fieldGroups] {
		groups = append(groups, g)
	}
	for c := range dist[fieldOrEligible] {
		codes = append(codes, c)
	}
	v.add(groups, codes)
	return nil
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
