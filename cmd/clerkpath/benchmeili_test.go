package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// The bench reads where a real Meilisearch's batches spent their time:
// the batches of the index that started since t0, not the other index's,
// and steps that Meilisearch 1.21 names and times.
func TestMeiliStepsReadsARealBatchTrace(t *testing.T) {
	srv := testenv.Open(t, testenv.Needs{Meili: true})
	ctx := context.Background()
	t0 := time.Now().Add(-time.Second) // Meilisearch's clock, not ours, stamps the batches
	uid, other := srv.Config.IndexPrefix+"steps", srv.Config.IndexPrefix+"other"
	for _, ix := range []string{uid, other} {
		info, err := srv.Meili.Index(ix).AddDocuments(ctx, []map[string]any{{"id": "a", "title": "Medical Records Clerk"}, {"id": "b", "title": "Coder"}}, nil)
		if err == nil {
			err = meili.Wait(ctx, srv.Meili, info)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	got := meiliSteps(ctx, srv.Meili, uid, t0)
	t.Logf("steps: %s", got)
	if !strings.HasPrefix(got, "batches ") || !strings.Contains(got, "%)") {
		t.Fatalf("got %q, want the batches' time and their longest steps with shares", got)
	}
	res, err := srv.Meili.GetBatches(ctx, &meilisearch.BatchesQuery{IndexUIDs: []string{uid}})
	if err != nil {
		t.Fatal(err)
	}
	steps := batchSteps(res.Results)
	if len(res.Results) != 1 || len(steps) < 2 || steps[0].name != stepsTotal || steps[0].took <= 0 {
		t.Fatalf("%d batches of %s, steps %v: want its one batch, its total and its steps", len(res.Results), uid, steps)
	}
	for _, s := range steps[1:] {
		if s.took > steps[0].took {
			t.Errorf("step %q took %v, longer than its batches' %v", s.name, s.took, steps[0].took)
		}
	}
}

func TestBatchStepsSumsEachStepsOwnTimeLongestFirst(t *testing.T) {
	batch := func(d string, trace map[string]string) *meilisearch.Batch {
		return &meilisearch.Batch{Duration: d, Stats: &meilisearch.BatchStats{ProgressTrace: trace}}
	}
	got := batchSteps([]*meilisearch.Batch{
		batch("PT1.5S", map[string]string{"processing tasks": "1.50s", "processing tasks > indexing": "1.2s", "processing tasks > indexing > geo": "900.00ms", "processing tasks > indexing > words": "300ms", "processing tasks > retrieving config": "5.5µs"}),
		batch("PT0.5S", map[string]string{"processing tasks > indexing > geo": "400ms", "processing tasks > odd": "soon"}),
		nil,
		{Duration: "PT1M"}, // a batch without stats counts in the total
	})
	// Own times: processing tasks 1.5 − 1.2 − 5.5µs; indexing 1.2 − 0.9 − 0.3 = 0.
	want := []stepTime{{stepsTotal, 62 * time.Second}, {"processing tasks > indexing > geo", 1300 * time.Millisecond},
		{"processing tasks > indexing > words", 300 * time.Millisecond}, {"processing tasks", 300*time.Millisecond - 5500*time.Nanosecond}, {"processing tasks > retrieving config", 5500 * time.Nanosecond}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if d := describeSteps(got, 1); d != "batches 62.0 s; indexing > geo 1.3 s (2%)" {
		t.Fatalf("described as %q", d)
	}
	if d := describeSteps(nil, 3); d != "no batch with a duration" {
		t.Fatalf("nothing described as %q", d)
	}
}

func TestMeiliDurationReadsBothForms(t *testing.T) {
	for in, want := range map[string]time.Duration{"PT0.012S": 12 * time.Millisecond, "PT1M2.5S": 62500 * time.Millisecond, "PT1H": time.Hour, "12.34ms": 12340 * time.Microsecond, "5.67µs": 5670 * time.Nanosecond, "1.00s": time.Second} {
		if got, ok := meiliDuration(in); !ok || got != want {
			t.Errorf("%q: got %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "PT", "PTS", "P1D", "-1s", "PT-1S", "soon"} {
		if got, ok := meiliDuration(in); ok {
			t.Errorf("%q read as %v", in, got)
		}
	}
}
