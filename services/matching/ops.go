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
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/platform"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
	"github.com/clerkpath/clerkpath/services/matching/seekerindex"
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

// ForwardSearches are the Meilisearch searches a forward match of the
// seeker sends to the postings index, built as the service builds them:
// the candidates passing every hard filter and, with nearMisses, the
// near-miss candidates (passing the place filter, failing the hard ones).
// sk and extra are the seeker as the seekers index views them
// (seekerindex.Index.View); vocab is the postings index's filter
// vocabulary (postingindex.Vocabulary.Load). clerkpath bench sends them
// raw to Meilisearch: the same-filter baseline of forward matching.
func ForwardSearches(sk match.Seeker, extra seekerindex.Extra, vocab *postingindex.Vocabulary, nearMisses bool) []meilisearch.SearchRequest {
	x := postingindex.New(nil, nil, zerolog.Nop(), "", nil)
	x.Vocabulary().Add(vocab.Snapshot())
	s := &Service{postings: x}
	place, _ := placeFilter(sk, extra)
	elig := s.eligibilityFilter(sk)
	filters := []string{matchesFilter(place, elig)}
	if nearMisses {
		filters = append(filters, nearMissFilter(place, elig))
	}
	out := make([]meilisearch.SearchRequest, len(filters))
	for i, f := range filters {
		out[i] = candidateSearch(f, CandidatePool)
	}
	return out
}

// matchesFilter is the filter of a forward match's candidates: open, shown,
// within reach (place) and passing every hard requirement (elig).
func matchesFilter(place, elig string) string {
	return joinAnd(`status = "open"`, postingindex.ShownFilter, place, elig)
}

// nearMissFilter is the filter of a forward match's near-miss candidates:
// open, shown, within reach and failing some hard requirement.
func nearMissFilter(place, elig string) string {
	return joinAnd(`status = "open"`, postingindex.ShownFilter, place, "NOT ("+orTrue(elig)+")")
}
