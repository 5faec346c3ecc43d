package matching

import (
	"context"
	"errors"
	"fmt"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/platform"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// What operators and `clerkpath` need to know about the matching service,
// exported here so that cmd/ asks the owner instead of repeating its index
// and consumer names.

// PostingsIndex is the Meilisearch index of open postings (after the
// configured prefix), kept by the postingindex package.
const PostingsIndex = postingindex.Name

// PostingsIndexConsumer is the indexer's durable consumer of JOBS: the
// postings index holds what it has acknowledged.
const PostingsIndexConsumer = postingindex.Durable

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

// OptionsFromConfig is the service's options from the process
// configuration: the index prefix, the key stream's replicas, the request
// timeout and the ZIP centroids (when the file cannot be read the service
// runs without them and says so: seekers located only by a ZIP code then
// get remote matches only).
func OptionsFromConfig(cfg config.Config, log zerolog.Logger) Options {
	opts := Options{IndexPrefix: cfg.IndexPrefix, StreamReplicas: cfg.StreamReplicas, RequestTimeout: cfg.RequestTimeout}
	z, err := geo.LoadZCTAFile(cfg.ZCTAFile)
	if err != nil {
		log.Warn().Err(err).Msg("no ZIP centroids: seekers located by ZIP code get remote matches only")
	} else {
		opts.ZIPs = z
	}
	return opts
}

// Run is how the commands (services/matching/cmd/matching, `clerkpath
// run`) start the service on the connections they opened: New with the
// options of p's configuration, then Serve until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error {
	s, err := New(p.NC, p.JS, p.Redis, p.Meili, p.Log, OptionsFromConfig(p.Config, p.Log))
	if err != nil {
		return err
	}
	return s.Serve(ctx)
}
