// Package meili connects clerkpath to Meilisearch: index settings applied and
// waited for at start, and task results checked, because Meilisearch writes
// are asynchronous and a write counts only once its task succeeded.
package meili

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/meilisearch/meilisearch-go"
)

// MaxIdleConns is how many idle connections to Meilisearch a client keeps.
// It is above the rpc.MaxInFlight requests an endpoint works on at once:
// with net/http's default of two, every concurrent search past the second
// opened a new TCP connection and closed it after one use (measured in
// docs/performance.md, "Search throughput").
const MaxIdleConns = 128

// Connect returns a client for url with key. It does not dial. Its
// connections are kept for reuse, and responses are not gzipped: Meilisearch
// runs next to the services, where compressing each response costs both
// sides CPU and saves nothing worth having. An answer read raw (SearchRaw)
// is kept as Meilisearch sent it (unmarshal).
func Connect(url, key string) meilisearch.ServiceManager {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = MaxIdleConns
	t.MaxIdleConnsPerHost = MaxIdleConns
	t.DisableCompression = true
	return meilisearch.New(url, meilisearch.WithAPIKey(key),
		meilisearch.WithCustomClient(&http.Client{Timeout: 30 * time.Second, Transport: t}),
		meilisearch.WithCustomJsonUnmarshaler(unmarshal))
}

// unmarshal is json.Unmarshal, except that an answer read into a
// *json.RawMessage (SearchRaw's) is copied, not scanned: json.Unmarshal
// would check that the whole answer is valid JSON, and every reader of a
// raw answer checks it again as it decodes it (DecodeSearch, json.Unmarshal).
// The scan was 15% of matching's CPU in the search phase of
// `clerkpath bench` (its CPU profile); on a 27 KB answer it costs 0.17 ms,
// the copy 0.02 ms.
func unmarshal(data []byte, v any) error {
	if raw, ok := v.(*json.RawMessage); ok {
		*raw = append((*raw)[:0:0], bytes.TrimSpace(data)...)
		return nil
	}
	return json.Unmarshal(data, v)
}

// Index is an index's identity and settings.
type Index struct {
	UID        string
	PrimaryKey string
	Settings   meilisearch.Settings
}

// TaskPoll is how often task status is polled.
const TaskPoll = 10 * time.Millisecond

// Wait waits for the task and returns an error unless it succeeded.
func Wait(ctx context.Context, c meilisearch.ServiceManager, info *meilisearch.TaskInfo) error {
	if info == nil {
		return errors.New("meilisearch: no task")
	}
	t, err := c.WaitForTask(ctx, info.TaskUID, TaskPoll)
	if err != nil {
		return fmt.Errorf("wait for meilisearch task %d: %w", info.TaskUID, err)
	}
	if t.Status != meilisearch.TaskStatusSucceeded {
		return fmt.Errorf("meilisearch task %d (%s) %s: %s (%s)", t.UID, t.Type, t.Status, t.Error.Message, t.Error.Code)
	}
	return nil
}

// EnsureIndex creates the index when missing and applies its settings,
// waiting for both: documents must not be loaded before the settings hold.
//
// Settings.FacetSearch is applied as given, false included (a settings
// update of meilisearch-go leaves a false out, and Meilisearch's default
// is true): an index serves facet search (POST /indexes/{uid}/facet-search,
// searching within a facet's values) only when its settings ask for it.
// Without it Meilisearch keeps no facet-search structures, which every
// indexing batch otherwise rebuilds for the facets it touched (issue 14:
// 11–23 % of the postings index's batch time under the bench's mixed
// load). Facet counts in searches (facetDistribution) do not need it.
func EnsureIndex(ctx context.Context, c meilisearch.ServiceManager, ix Index) error {
	if _, err := c.GetIndex(ctx, ix.UID); err != nil {
		var me *meilisearch.Error
		if !errors.As(err, &me) || me.StatusCode != http.StatusNotFound {
			return fmt.Errorf("get index %s: %w", ix.UID, err)
		}
		info, err := c.CreateIndex(ctx, &meilisearch.IndexConfig{Uid: ix.UID, PrimaryKey: ix.PrimaryKey})
		if err != nil {
			return fmt.Errorf("create index %s: %w", ix.UID, err)
		}
		// A concurrent creator may win; index_already_exists is fine.
		if err := Wait(ctx, c, info); err != nil {
			if _, gerr := c.GetIndex(ctx, ix.UID); gerr != nil {
				return fmt.Errorf("create index %s: %w", ix.UID, err)
			}
		}
	}
	settings := ix.Settings
	info, err := c.Index(ix.UID).UpdateSettings(ctx, &settings)
	if err != nil {
		return fmt.Errorf("update settings of %s: %w", ix.UID, err)
	}
	if err := Wait(ctx, c, info); err != nil {
		return fmt.Errorf("settings of %s: %w", ix.UID, err)
	}
	on, err := c.Index(ix.UID).GetFacetSearch(ctx)
	if err != nil {
		return fmt.Errorf("facet search setting of %s: %w", ix.UID, err)
	}
	if on == ix.Settings.FacetSearch {
		return nil
	}
	if info, err = c.Index(ix.UID).UpdateFacetSearch(ctx, ix.Settings.FacetSearch); err == nil {
		err = Wait(ctx, c, info)
	}
	if err != nil {
		return fmt.Errorf("facet search setting of %s: %w", ix.UID, err)
	}
	return nil
}
