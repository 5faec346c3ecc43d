package matching

import (
	"context"
	"fmt"
	"sync"

	"github.com/meilisearch/meilisearch-go"
)

// What a copy of the service derives from the postings index — the filter
// vocabulary and the market cache — comes from the shared index, never from
// what this copy indexed itself: every copy reads the same index, so every
// copy answers the same.
//
// The index's version is the uid of its last succeeded Meilisearch task
// (tasks of one index finish in uid order, and a task is marked succeeded
// once its documents are searchable). Before each read that depends on the
// vocabulary or the market, a copy asks Meilisearch for that uid; when it
// moved, the copy reloads the vocabulary from the index's facets and drops
// its market cache. A result computed after reading version v reflects at
// least every task up to v, so a cache entry is never older than its
// version.
type indexVersion struct {
	mu  sync.Mutex
	uid int64 // -1: not loaded yet
}

// sync brings the vocabulary and the market cache up to the index's
// current version.
func (s *Service) syncIndex(ctx context.Context) error {
	res, err := s.mc.GetTasks(ctx, &meilisearch.TasksQuery{
		IndexUIDS: []string{s.index}, Statuses: []meilisearch.TaskStatus{meilisearch.TaskStatusSucceeded}, Limit: 1,
	})
	if err != nil {
		return fmt.Errorf("postings index version: %w", err)
	}
	uid := int64(0)
	if len(res.Results) > 0 {
		uid = res.Results[0].UID
	}
	s.version.mu.Lock()
	defer s.version.mu.Unlock()
	if uid == s.version.uid {
		return nil
	}
	v := newVocabulary()
	if err := v.load(ctx, s.mc, s.index); err != nil {
		return err
	}
	s.vocab.replace(v)
	s.market.invalidate()
	s.version.uid = uid
	return nil
}
