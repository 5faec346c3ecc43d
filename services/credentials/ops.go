package credentials

import (
	"context"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/platform"
)

// What operators and `clerkpath` need to know about the credentials service
// is exported beside what it names: the projection's Redis key prefix
// (ProjectionName) and its consumers (ProjectionDurable, DeletionsDurable)
// in projection.go; the rebuild is the service's own endpoint pair,
// credentialsapi.Rebuild and credentialsapi.RebuildStatus
// (pkg/contract/credentialsapi).

// OptionsFromConfig is the service's options from the process
// configuration: the notice window of credentials.expiring, the keyring
// stream's replicas and the request timeout.
func OptionsFromConfig(cfg config.Config) Options {
	return Options{ExpiringDays: cfg.ExpiringDays, StreamReplicas: cfg.StreamReplicas, RequestTimeout: cfg.RequestTimeout}
}

// Run is how the commands (services/credentials/cmd/credentials, `clerkpath
// run`) start the service on the connections they opened: New with the
// options of p's configuration (a bad catalog stops the start), then Serve
// until ctx ends.
func Run(ctx context.Context, p *platform.Platform) error {
	s, err := New(ctx, p.NC, p.JS, p.Redis, p.Log, OptionsFromConfig(p.Config))
	if err != nil {
		return err
	}
	return s.Serve(ctx)
}
