package matching

import (
	"context"
	"errors"
	"fmt"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/meili"
)

// What operators and `clerkpath` need to know about the matching service,
// exported here so that cmd/ asks the owner instead of repeating its index
// and consumer names.

// PostingsIndexConsumer is the indexer's durable consumer of JOBS: the
// postings index holds what it has acknowledged.
const PostingsIndexConsumer = indexerDurable

// ResetPostingsIndex empties the postings index of the deployment with the
// index prefix and deletes the indexer's consumer, so that a running
// matching service replays JOBS into the index from the start (`clerkpath
// rebuild postings-index`). Until the replay is done, searches miss
// postings.
func ResetPostingsIndex(ctx context.Context, m meilisearch.ServiceManager, js jetstream.JetStream, indexPrefix string) error {
	info, err := m.Index(indexPrefix+PostingsIndex).DeleteAllDocuments(ctx, nil)
	if err == nil {
		err = meili.Wait(ctx, m, info)
	}
	if err != nil {
		return fmt.Errorf("empty the postings index: %w", err)
	}
	err = js.DeleteConsumer(ctx, events.StreamJobs, PostingsIndexConsumer)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("delete consumer %s: %w", PostingsIndexConsumer, err)
	}
	return nil
}
