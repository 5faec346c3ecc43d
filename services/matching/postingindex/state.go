package postingindex

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/posting"
)

// What a copy of matching derives from the postings index — the filter
// vocabulary here and matching's market cache — comes from the shared
// index, never from what this copy indexed itself: every copy reads the
// same index, so every copy answers the same.
//
// The index's version is the uid of its last succeeded Meilisearch task
// (tasks of one index finish in uid order, and a task is marked succeeded
// once its documents are searchable). Before each read that depends on the
// vocabulary or the market, a copy asks Meilisearch for that uid (Sync);
// when it moved, the copy reloads the vocabulary from the index's facets
// and drops its market cache (New's moved). A result computed after
// reading version v reflects at least every task up to v, so a cache entry
// is never older than its version.
type indexVersion struct {
	mu  sync.Mutex
	uid int64 // -1: not loaded yet
}

// Sync brings the vocabulary up to the index's current version and,
// when the version moved, calls New's moved (matching drops its market
// cache).
func (x *Index) Sync(ctx context.Context) error {
	res, err := x.mc.GetTasks(ctx, &meilisearch.TasksQuery{
		IndexUIDS: []string{x.uid}, Statuses: []meilisearch.TaskStatus{meilisearch.TaskStatusSucceeded}, Limit: 1,
	})
	if err != nil {
		return fmt.Errorf("postings index version: %w", err)
	}
	uid := int64(0)
	if len(res.Results) > 0 {
		uid = res.Results[0].UID
	}
	x.version.mu.Lock()
	defer x.version.mu.Unlock()
	if uid == x.version.uid {
		return nil
	}
	v := NewVocabulary()
	if err := v.Load(ctx, x.mc, x.uid); err != nil {
		return err
	}
	x.vocab.replace(v)
	x.moved()
	x.version.uid = uid
	return nil
}

// Vocabulary is the set of group tokens (of every route) and or-eligible
// codes in the index, and the most routes any posting has: what a seeker's
// filter is built from.
type Vocabulary struct {
	mu         sync.RWMutex
	groups     map[string]struct{}
	orEligible map[string]struct{}
	routes     int
}

// NewVocabulary is an empty vocabulary.
func NewVocabulary() *Vocabulary {
	return &Vocabulary{groups: map[string]struct{}{}, orEligible: map[string]struct{}{}}
}

// Add records the group tokens, or-eligible codes and route count of
// postings.
func (v *Vocabulary) Add(groups, orEligible []string, routes int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.routes = max(v.routes, routes)
	for _, g := range groups {
		v.groups[g] = struct{}{}
	}
	for _, c := range orEligible {
		v.orEligible[c] = struct{}{}
	}
}

// replace takes the contents of w.
func (v *Vocabulary) replace(w *Vocabulary) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.groups, v.orEligible, v.routes = w.groups, w.orEligible, w.routes
}

// Snapshot is the vocabulary now (at least one route).
func (v *Vocabulary) Snapshot() (groups, orEligible []string, routes int) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	routes = max(1, v.routes)
	for g := range v.groups {
		groups = append(groups, g)
	}
	for c := range v.orEligible {
		orEligible = append(orEligible, c)
	}
	return groups, orEligible, routes
}

// Load reads the tokens, codes and route counts already in the index (at
// start): every route's group tokens, so a seeker's filter knows them all.
func (v *Vocabulary) Load(ctx context.Context, c meilisearch.ServiceManager, index string) error {
	facets := []string{FieldGroups, FieldOrEligible, FieldRouteCount}
	for i := range posting.MaxRoutes {
		facets = append(facets, RouteField(i, RouteGroups))
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
		if f == FieldGroups || strings.HasSuffix(f, "_"+RouteGroups) {
			for g := range values {
				groups = append(groups, g)
			}
		}
	}
	for c := range dist[FieldOrEligible] {
		codes = append(codes, c)
	}
	routes := 1
	for n := range dist[FieldRouteCount] {
		if k, err := strconv.Atoi(n); err == nil {
			routes = max(routes, k)
		}
	}
	v.Add(groups, codes, routes)
	return nil
}

// Migrate re-indexes documents written in an older layout from the
// postings they hold: before the index had routes (no route_count), so
// that the route filter selects them, and before sites were plain numbers
// (no match.FieldLat, which Doc writes as null for a posting without a
// site), so that a radius finds them. It runs at start, before the
// indexer, and does nothing on an index already migrated. It reports how
// many documents it rewrote.
func Migrate(ctx context.Context, c meilisearch.ServiceManager, index string) (int, error) {
	const batch = 1000
	pk := "id"
	n := 0
	for {
		res, err := c.Index(index).Search(ctx, "", &meilisearch.SearchRequest{Filter: FieldRouteCount + " NOT EXISTS OR " + match.FieldLat + " NOT EXISTS", Limit: batch})
		if err != nil {
			return n, fmt.Errorf("find postings indexed in an older layout: %w", err)
		}
		if len(res.Hits) == 0 {
			return n, nil
		}
		docs := make([]Document, 0, len(res.Hits))
		for _, h := range res.Hits {
			var ev ingestapi.JobEvent
			if err := h.DecodeInto(&ev); err != nil {
				return n, fmt.Errorf("decode indexed posting: %w", err)
			}
			doc, _, err := Doc(ev.Posting, Field{"employer_id", ev.EmployerID})
			if err != nil {
				return n, fmt.Errorf("re-index posting %s: %w", ev.ID, err)
			}
			docs = append(docs, doc)
		}
		info, err := c.Index(index).UpdateDocumentsNdjson(ctx, NDJSON(docs), &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err == nil {
			err = meili.Wait(ctx, c, info)
		}
		if err != nil {
			return n, fmt.Errorf("re-index postings in the current layout: %w", err)
		}
		n += len(docs)
	}
}
