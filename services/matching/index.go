package matching

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/meili"
)

// PostingsIndex is the Meilisearch index of open postings (after the
// configured prefix).
const PostingsIndex = "postings"

func postingsIndex(uid string) meili.Index {
	return meili.Index{
		UID:        uid,
		PrimaryKey: "id",
		Settings: meilisearch.Settings{
			SearchableAttributes: []string{"title", "role", "employer", "skills", "code_sets", "ehr_systems", "description"},
			FilterableAttributes: []string{
				"status", "work_mode", "employment_type", "soc_code", "employer", "employer_id",
				"credentials_required_groups", "credentials_preferred", "credentials_any",
				"salary_hourly_min", "salary_hourly_max", "education_min", "experience_months_min", "_geo",
			},
			SortableAttributes: []string{"date_posted", "salary_hourly_min", "salary_hourly_max", "_geo"},
		},
	}
}

// indexer batches events from JOBS into Meilisearch. A batch is acknowledged
// only after its Meilisearch task succeeded, so a posting counts as indexed
// only once it is searchable.
func (s *Service) runIndexer(ctx context.Context) error {
	return events.Run(ctx, s.p.JS, events.Consumer{
		Stream:   events.StreamJobs,
		Durable:  "matching-postings-index",
		Filters:  []string{events.JobsPosted, events.JobsUpdated, events.JobsClosed},
		MaxBatch: 500,
		Linger:   20 * time.Millisecond,
	}, s.p.Log, s.indexBatch)
}

func (s *Service) indexBatch(ctx context.Context, msgs []jetstream.Msg) []error {
	errs := make([]error, len(msgs))
	var upserts []map[string]any
	var upsertIdx []int
	var deletes []string
	var deleteIdx []int
	for i, m := range msgs {
		var doc map[string]any
		if err := json.Unmarshal(m.Data(), &doc); err != nil {
			errs[i] = events.Poison("posting is not JSON: %v", err)
			continue
		}
		id, _ := doc["id"].(string)
		if id == "" {
			errs[i] = events.Poison("posting has no id")
			continue
		}
		if m.Subject() == events.JobsClosed {
			deletes = append(deletes, id)
			deleteIdx = append(deleteIdx, i)
			continue
		}
		upserts = append(upserts, doc)
		upsertIdx = append(upsertIdx, i)
	}
	ix := s.p.Meili.Index(s.index)
	pk := "id"
	if len(upserts) > 0 {
		info, err := ix.UpdateDocuments(ctx, upserts, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err == nil {
			err = meili.Wait(ctx, s.p.Meili, info)
		}
		for _, i := range upsertIdx {
			errs[i] = wrap("index postings", err)
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
	}
	return errs
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
