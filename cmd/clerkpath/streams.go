package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// cmdStreams shows or changes the replication of clerkpath's streams: the
// one deliberate way to change it (services refuse to start when
// CLERKPATH_STREAM_REPLICAS differs from the streams').
func cmdStreams(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("streams", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	replicas := fs.Int("replicas", 0, "set every stream's replica count to N (1, 3 or 5 in practice; at most the cluster's size)")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "Usage: clerkpath streams [--replicas N]\n\nPrints each stream's replica count; with --replicas, changes every stream (and the key stream) to N.")
		fmt.Fprintln(env.stderr, "Then start the services with CLERKPATH_STREAM_REPLICAS=N.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *replicas < 0 || *replicas > 5 {
		fs.Usage()
		return errUsage
	}
	c, err := connectOps(ctx, env)
	if err != nil {
		return err
	}
	defer c.nc.Close()
	if *replicas > 0 {
		if err := events.SetReplicas(ctx, c.js, *replicas); err != nil {
			return err
		}
		if err := shred.SetReplicas(ctx, c.js, *replicas); err != nil {
			return err
		}
	}
	names := []string{shred.Stream}
	for _, cfg := range events.StreamConfigs(1) {
		names = append(names, cfg.Name)
	}
	for _, name := range names {
		st, err := c.js.Stream(ctx, name)
		if err != nil {
			fmt.Fprintf(env.stdout, "%-14s %v\n", name, err)
			continue
		}
		fmt.Fprintf(env.stdout, "%-14s replicas %d\n", name, st.CachedInfo().Config.Replicas)
	}
	return nil
}
