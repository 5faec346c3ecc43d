package postingindex

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// A backlog is handed to Meilisearch in batches of up to Batch postings:
// 2,500 distinct postings already in JOBS when the indexer starts (a bulk
// load that outran it) go in tasks of more than 1,000 documents, not the
// three or more of 1,000-posting batches, so that Meilisearch indexes them
// in few passes (issue 14). Real NATS and Meilisearch.
func TestBacklogIsIndexedInFewLargeTasks(t *testing.T) {
	t.Parallel()
	srv := testenv.Open(t, testenv.Needs{Streams: true, Meili: true})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	x := New(srv.JS, srv.Meili, zerolog.Nop(), srv.Config.IndexPrefix+"postings", nil)
	if err := x.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 2500
	now := time.Now().UTC().Truncate(time.Second)
	futures := make([]jetstream.PubAckFuture, n)
	for i := range futures {
		p := posting.Posting{ID: fmt.Sprintf("acme-b%04d", i), Title: fmt.Sprintf("Coder %d", i), Employer: "Acme Health",
			Description: "Remote coding.", DatePosted: now, EmploymentType: []string{"FULL_TIME"}}
		p.WorkMode = "remote"
		ev := ingestapi.Posted.New("", ingestapi.JobEvent{Posting: p, EmployerID: "acme"})
		ev.ID, ev.Source, ev.Time = p.ID, "test", now
		f, err := events.PublishAsync(srv.JS, ev)
		if err != nil {
			t.Fatal(err)
		}
		futures[i] = f
	}
	for _, f := range futures {
		if _, err := events.Await(ctx, srv.JS, f.Msg().Subject, f); err != nil {
			t.Fatal(err)
		}
	}
	defer runIndexer(t, ctx, x)()
	testenv.Eventually(t, 2*time.Minute, func() error {
		st, err := srv.Meili.Index(x.UID()).GetStats(ctx, nil)
		if err != nil {
			return err
		}
		if st.NumberOfDocuments != n || st.IsIndexing {
			return fmt.Errorf("%d of %d postings indexed", st.NumberOfDocuments, n)
		}
		return nil
	})
	tasks, err := srv.Meili.GetTasks(ctx, &meilisearch.TasksQuery{IndexUIDS: []string{x.UID()},
		Types: []meilisearch.TaskType{meilisearch.TaskTypeDocumentAdditionOrUpdate}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	largest := int64(0)
	for _, tk := range tasks.Results {
		sizes = append(sizes, tk.Details.ReceivedDocuments)
		largest = max(largest, tk.Details.ReceivedDocuments)
	}
	// With batches of 1,000 no task can hold more than 1,000 documents,
	// whatever the timing; the linger may still cut the first batch short.
	if largest <= 1000 || len(tasks.Results) > 3 {
		t.Fatalf("%d postings went to Meilisearch as %d document tasks (received documents %v); want one of more than 1,000, at most 3 in all", n, len(tasks.Results), sizes)
	}
	t.Logf("%d postings: %d document tasks, received documents %v", n, len(tasks.Results), sizes)
}

// runIndexer runs x's indexer until the returned stop is called; stop
// waits for it and fails t on its error.
func runIndexer(t *testing.T, ctx context.Context, x *Index) (stop func()) {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- x.Run(runCtx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
