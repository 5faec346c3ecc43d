package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"
)

// meiliSteps says where Meilisearch's batches of index that started since
// t0 spent their time, from each batch's progress trace (GET /batches: the
// time of every step of the batch, nested steps named "a > b"): the
// steps that took the most, summed over the batches, each with its share
// of the batches' time. A batch's time is mostly one core (Meilisearch
// indexes on half the machine's cores by default), so these are the
// indexing costs the mixed load's searches wait behind (issue 14).
func meiliSteps(ctx context.Context, mc meilisearch.ServiceManager, index string, t0 time.Time) string {
	// Newest first, until a batch that started before t0. (Not the
	// afterEnqueuedAt filter: meilisearch-go 0.37 sends GetBatches' times
	// in a form Meilisearch refuses.)
	var batches []*meilisearch.Batch
	q := &meilisearch.BatchesQuery{IndexUIDs: []string{index}, Limit: 100}
	for {
		res, err := mc.GetBatches(ctx, q)
		if err != nil {
			return "batches: " + err.Error()
		}
		for _, b := range res.Results {
			if !b.StartedAt.IsZero() && b.StartedAt.Before(t0) {
				return describeSteps(batchSteps(batches), 5)
			}
			batches = append(batches, b)
		}
		if res.Next == 0 || len(res.Results) == 0 {
			break
		}
		q.From = res.Next
	}
	return describeSteps(batchSteps(batches), 5)
}

// stepTime is one step of Meilisearch's batches and the time spent in it.
type stepTime struct {
	name string
	took time.Duration
}

// stepsTotal is the batches' time: what the shares are of.
const stepsTotal = "total"

// batchSteps sums the steps of the batches' progress traces by their own
// time (a step's time less its nested steps': a step's time is partly in
// its own work, partly in the steps nested in it), longest first, after
// their total (named stepsTotal): the batches' own durations. A duration
// Meilisearch writes in a form time.ParseDuration does not read is left
// out.
func batchSteps(batches []*meilisearch.Batch) []stepTime {
	sums := map[string]time.Duration{}
	var total time.Duration
	for _, b := range batches {
		if b == nil {
			continue
		}
		if d, ok := meiliDuration(b.Duration); ok {
			total += d
		}
		if b.Stats == nil {
			continue
		}
		took := map[string]time.Duration{}
		for name, v := range b.Stats.ProgressTrace {
			if d, ok := meiliDuration(v); ok {
				took[name] = d
			}
		}
		for name, d := range took {
			for other, od := range took {
				if child, ok := strings.CutPrefix(other, name+" > "); ok && !strings.Contains(child, " > ") {
					d -= od
				}
			}
			if d > 0 {
				sums[name] += d
			}
		}
	}
	out := make([]stepTime, 0, len(sums)+1)
	for name, d := range sums {
		out = append(out, stepTime{name, d})
	}
	slices.SortFunc(out, func(a, b stepTime) int { return cmp.Or(cmp.Compare(b.took, a.took), strings.Compare(a.name, b.name)) })
	return append([]stepTime{{stepsTotal, total}}, out...)
}

// meiliDuration reads a duration as Meilisearch writes them: "1.23s",
// "12.34ms", "5.67µs", or ISO 8601 ("PT1.234S") for a batch's own.
func meiliDuration(s string) (time.Duration, bool) {
	if rest, ok := strings.CutPrefix(s, "PT"); ok {
		return isoSeconds(rest)
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= 0
}

// isoSeconds reads the time part of an ISO 8601 duration ("1H2M3.5S").
func isoSeconds(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var total time.Duration
	for s != "" {
		i := strings.IndexAny(s, "HMS")
		if i <= 0 {
			return 0, false
		}
		d, err := time.ParseDuration(s[:i] + strings.ToLower(s[i:i+1]))
		if err != nil || d < 0 {
			return 0, false
		}
		total += d
		s = s[i+1:]
	}
	return total, true
}

// describeSteps prints the batches' time and its n longest steps, the
// common "processing tasks > " left out of their names.
func describeSteps(steps []stepTime, n int) string {
	if len(steps) == 0 || steps[0].took == 0 {
		return "no batch with a duration"
	}
	total := steps[0].took
	parts := []string{fmt.Sprintf("batches %.1f s", total.Seconds())}
	for _, s := range steps[1:min(len(steps), n+1)] {
		parts = append(parts, fmt.Sprintf("%s %.1f s (%.0f%%)", strings.TrimPrefix(s.name, "processing tasks > "), s.took.Seconds(), 100*s.took.Seconds()/total.Seconds()))
	}
	return strings.Join(parts, "; ")
}
