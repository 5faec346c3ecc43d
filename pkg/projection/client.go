package projection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// RequestRebuild asks the owner of a projection to rebuild it (its rebuild
// subject), then follows the build on its status subject every poll,
// calling progress (if not nil) with each status, until the build's
// generation serves and the old one is dropped. If a build was already
// running it follows that one. It fails if the build fails, is replaced,
// or ctx ends (the build goes on without the caller).
func RequestRebuild(ctx context.Context, nc *nats.Conn, rebuild, status string, poll time.Duration, progress func(Status)) (Status, error) {
	for attempt := 0; ; attempt++ {
		st, err := rpc.Call[Status](ctx, nc, rebuild, struct{}{})
		if err != nil {
			return st, fmt.Errorf("ask for a rebuild (is the service running?): %w", err)
		}
		if st.State == StateBuilding && st.Serving != st.Generation {
			return follow(ctx, nc, status, poll, st, progress)
		}
		// The build found began before this request: it has swapped in
		// already (and is dropping its predecessor) or just ended. Wait for
		// it and ask again, so that the generation reported was built after
		// the request.
		if attempt == 4 {
			return st, fmt.Errorf("no new build started after %d requests (last: generation %d %s)", attempt+1, st.Generation, st.State)
		}
		if st.State == StateBuilding {
			// A newer build replacing the one waited for means it ended:
			// ask again, and follow whichever build runs then.
			if _, err := follow(ctx, nc, status, poll, st, nil); err != nil && !errors.Is(err, errReplaced) {
				return st, err
			}
		}
	}
}

// errReplaced: the build followed was replaced by a newer one.
var errReplaced = errors.New("replaced by a newer build")

// follow polls status until the build of st.Generation ends.
func follow(ctx context.Context, nc *nats.Conn, status string, poll time.Duration, st Status, progress func(Status)) (Status, error) {
	var err error
	gen := st.Generation
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for st.State == StateBuilding {
		if progress != nil {
			progress(st)
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("generation %d not built yet (the build goes on): %w", gen, ctx.Err())
		case <-tick.C:
		}
		if st, err = rpc.Call[Status](ctx, nc, status, struct{}{}); err != nil {
			return st, fmt.Errorf("follow the build of generation %d: %w", gen, err)
		}
		if st.Generation != gen {
			return st, fmt.Errorf("generation %d was replaced by a build of generation %d: %w", gen, st.Generation, errReplaced)
		}
	}
	if progress != nil {
		progress(st)
	}
	if st.State != StateDone {
		return st, fmt.Errorf("generation %d %s: %s (generation %d still serves)", gen, st.State, st.Error, st.Serving)
	}
	if st.Serving != gen {
		return st, fmt.Errorf("generation %d was built, but generation %d serves", gen, st.Serving)
	}
	return st, nil
}
