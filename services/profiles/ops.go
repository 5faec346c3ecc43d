package profiles

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/platform"
)

// What operators and `clerkpath` need to know about the profiles service,
// exported here so that cmd/ asks the owner instead of repeating it. The
// rebuild itself is the service's own endpoint pair, profilesapi.Rebuild
// and profilesapi.RebuildStatus (pkg/contract/profilesapi).
const (
	// ProjectionName names the projection's Redis keys: clerkpath:profiles:…
	// (the generation pointer clerkpath:profiles:gen, generation N's data
	// under clerkpath:profiles:g<N>:, see store).
	ProjectionName = "profiles"
	// ProjectionDurable is the base name of the projection's consumer on
	// PROFILES; each generation N has its own, ProjectionDurable-g<N>.
	ProjectionDurable = "profiles-projection"
)

// OptionsFromConfig is the service's options from the process
// configuration: the key stream's replicas, the request timeout and the ZIP
// centroids (when the file cannot be read the service runs without them and
// says so: postal codes are then accepted with a warning).
func OptionsFromConfig(cfg config.Config, log zerolog.Logger) Options {
	opts := Options{StreamReplicas: cfg.StreamReplicas, RequestTimeout: cfg.RequestTimeout}
	if cfg.ZCTAFile != "" {
		z, err := geo.LoadZCTAFile(cfg.ZCTAFile)
		if err != nil {
			log.Warn().Err(err).Msg("ZIP centroids not loaded")
		}
		opts.ZIPs = z
	}
	return opts
}

// Run is how the commands (services/profiles/cmd/profiles, `clerkpath run`)
// start the service on the connections they opened: New with the options
// of p's configuration, then Serve until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error {
	s, err := New(p.NC, p.JS, p.Redis, p.Log, OptionsFromConfig(p.Config, p.Log))
	if err != nil {
		return err
	}
	return s.Serve(ctx)
}
