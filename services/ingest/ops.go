package ingest

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/platform"
)

// What operators and `clerkpath` need to know about the ingest service,
// exported here so that cmd/ asks the owner instead of repeating it. Ingest
// has no consumer and no projection to rebuild: JetStream's JOBS stream is
// the record of every posting, and Redis holds only what de-duplication
// and the employers' lists need (store.go). Losing Redis loses the
// near-duplicate clusters, the employers' lists and the lifecycle
// deadlines of postings received before; postings are not lost.
const (
	// RedisKeyPrefix starts every Redis key the service writes.
	RedisKeyPrefix = "clerkpath:"
)

// RedisKeyPatterns are the patterns (SCAN MATCH) of the service's Redis
// keys, for operators inspecting or clearing them.
var RedisKeyPatterns = []string{
	"clerkpath:posting:*", "clerkpath:simband:*", "clerkpath:jobkey:*",
	expiresKey, seenKey,
	"clerkpath:org-postings:*", "clerkpath:org-open:*", "clerkpath:cluster-open:*",
	backfillDoneKey,
}

// OptionsFromConfig is the service's options from the process
// configuration: the stale period, the request timeout and the ZIP
// centroids (without them ZIP codes are accepted with a warning).
func OptionsFromConfig(cfg config.Config, log zerolog.Logger) Options {
	return Options{ZCTA: LoadZCTA(cfg.ZCTAFile, log), StaleAfterDays: cfg.StaleAfterDays, RequestTimeout: cfg.RequestTimeout}
}

// LoadZCTA reads the ZIP centroids; nil (with a warning in the log) when
// they cannot be read.
func LoadZCTA(path string, log zerolog.Logger) *geo.ZCTA {
	z, err := geo.LoadZCTAFile(path)
	if err != nil {
		log.Warn().Err(err).Msg("no ZIP centroids: ZIP codes of postings are not checked and get no coordinates")
		return nil
	}
	return z
}

// Run is how the commands (services/ingest/cmd/ingest, `clerkpath run`)
// start the service on the connections they opened: New with the options
// of p's configuration, then Serve until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error {
	s, err := New(p.NC, p.JS, p.Redis, p.Log, OptionsFromConfig(p.Config, p.Log))
	if err != nil {
		return err
	}
	return s.Serve(ctx)
}
