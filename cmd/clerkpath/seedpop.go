package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/seedgen"
)

// seedPopulation loads a seeded population through the HTTP API of a
// running backend.
func seedPopulation(ctx context.Context, env environment, api, org string, postings, seekers int, seed uint64) error {
	if postings < 0 || postings > 1_000_000 || seekers < 0 || seekers > 1_000_000 {
		return errors.New("--postings and --seekers: from 0 to 1000000")
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	places, err := seedgen.ReadPlacesFile(cfg.ZCTAFile)
	if err != nil {
		return fmt.Errorf("ZIP centroids (run deployments/local/install.sh): %w", err)
	}
	h := &benchHTTP{base: strings.TrimRight(api, "/"), c: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: defaultSeedWorkers}}}
	if h.mint, err = devMinter(devKeyDir(cfg), cfg); err != nil {
		return fmt.Errorf("development key (is this the data directory of `clerkpath run`?): %w", err)
	}
	pop := population{places: seedgen.NewSampler(places), seed: seed, now: time.Now().UTC()}
	d, retries, err := pop.seekers(ctx, h, seekers, defaultSeedWorkers, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%d seekers (bench-000000 on) in %.1f s\n", seekers, d.Seconds())
	if retries > 0 {
		fmt.Fprintf(env.stdout, "%d credential writes answered 404 right after their profile was saved and were sent again\n", retries)
	}
	if postings > 0 {
		t := time.Now()
		acc, err := pop.postings(ctx, h, postings, org, "SEED")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%d of %d postings accepted as new for organisation %s in %.1f s (the rest share another's job key: duplicates); they are searchable once matching has indexed them\n", acc, postings, org, time.Since(t).Seconds())
	}
	return nil
}
