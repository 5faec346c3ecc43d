// Package postingindex is the postings index: the Meilisearch index of
// open postings, a projection of the JOBS stream. It owns the index's
// settings and documents (Settings, Doc), the indexer that keeps it
// (Index.Run, on the durable consumer Durable), duplicate clusters settled
// to one shown posting each, and what every copy of matching derives from
// the shared index: the filter vocabulary, reloaded whenever the index's
// version moves (Index.Sync).
package postingindex

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/meili"
)

// Index is the postings index of one deployment (its uid carries the
// configured prefix), kept by Run and read through its Meilisearch client.
type Index struct {
	js      jetstream.JetStream
	mc      meilisearch.ServiceManager
	log     zerolog.Logger
	uid     string
	vocab   *Vocabulary
	version indexVersion
	moved   func() // called by Sync when the index's version moved
	// settling makes settleClusters take turns (clusters.go).
	settling sync.Mutex
}

// New is the postings index uid on the given clients; moved (when not nil)
// is called whenever Sync finds that the index changed, so that caches
// derived from it can be dropped. New does no I/O.
func New(js jetstream.JetStream, mc meilisearch.ServiceManager, log zerolog.Logger, uid string, moved func()) *Index {
	if moved == nil {
		moved = func() {}
	}
	return &Index{js: js, mc: mc, log: log, uid: uid, vocab: NewVocabulary(), version: indexVersion{uid: -1}, moved: moved}
}

// UID is the index's Meilisearch uid.
func (x *Index) UID() string { return x.uid }

// Vocabulary is the filter vocabulary of the index as of the last Sync.
func (x *Index) Vocabulary() *Vocabulary { return x.vocab }

// Prepare applies the index's settings, re-indexes documents written in
// an older layout (Migrate) and loads the vocabulary: what a copy does
// before it reads the index or runs the indexer.
func (x *Index) Prepare(ctx context.Context) error {
	if err := meili.EnsureIndex(ctx, x.mc, Settings(x.uid)); err != nil {
		return err
	}
	if n, err := Migrate(ctx, x.mc, x.uid); err != nil {
		return err
	} else if n > 0 {
		x.log.Info().Int("postings", n).Msg("postings indexed in an older layout (before routes, or before sites as plain numbers) re-indexed")
	}
	return x.Sync(ctx)
}

// Run batches events from JOBS into Meilisearch. A batch is
// acknowledged once its Meilisearch task succeeded, and on nothing else: a
// posting counts as indexed once it is searchable, and indexing never waits
// for matching or notifications (matching's reverse matching follows JOBS on
// its own consumer for those).
func (x *Index) Run(ctx context.Context) error {
	return events.Run(ctx, x.js, events.Consumer{
		Stream:          events.StreamJobs,
		Durable:         Durable,
		Filters:         []string{ingestapi.Posted.Subject, ingestapi.Updated.Subject, ingestapi.Closed.Subject, ingestapi.Stale.Subject},
		MaxBatch:        Batch,
		Prefetch:        Batch,
		Linger:          Linger,
		MinInterval:     MinInterval,
		IntervalPerBusy: IntervalPerBusy,
		MaxInterval:     MaxInterval,
		Pipeline:        Pipeline,
	}, x.log, x.indexBatch)
}

// Pipeline is how many batches the indexer has in Meilisearch at once.
// A batch is handed over once the one before has enqueued its tasks
// (events.Release), so Meilisearch's tasks stay in stream order, and
// Meilisearch, which indexes consecutive document tasks of an index as one
// batch, takes what arrived while it worked in one pass instead of one
// task after another (issue 14: 2,000 postings were 11 tasks one at a
// time, 16 s of Meilisearch's work against 3.6 s for the same documents
// in two tasks enqueued together).
const Pipeline = 3

// Indexer batching: Meilisearch's cost per task is high, and the indexer
// waits for a task before it takes the next batch, so a bulk load goes in
// as few, large tasks as possible (a burst of 2,500 postings is one task).
// Batch bounds what Meilisearch is given in one pass: the Pipeline's
// batches plus the one being gathered (events gives the consumer
// MaxAckPending 4 × Batch), so at most 10,000 postings are unacknowledged,
// in the batches in flight and the pull buffer (Prefetch: one batch ahead,
// not the default two). With 1,000, a backlog went in as passes of at most
// 3,000 documents, and each pass on a large index costs far more than its
// documents' share (issue 14: after the last of 10,000 postings was
// accepted, 10.7 s to searchable).
const (
	Batch  = 2500
	Linger = 100 * time.Millisecond
)

// Pacing under a trickle (events.Consumer.MinInterval, IntervalPerBusy,
// MaxInterval): a partial batch goes no sooner than MinInterval, and three
// times what the last small batch took (at most MaxInterval), after the
// one before. A Meilisearch task's cost is mostly fixed and grows with the
// index, not with the task's documents (BenchmarkTaskCost): on 10,000
// postings about 250 ms of Meilisearch's CPU for a task of one posting and
// 330 ms for twenty, on 50,000 about 970 ms for one; most of it the geo
// index (the _geo R-tree, read and written whole by every task: 37 and
// 51 ms with _geo neither filterable nor sortable; session 14 took the geo
// index out, and session 15 capped Meilisearch's indexing memory, which
// took a task of one posting on 10,000 from about 120 ms to 14 ms:
// supervise.MeiliIndexingMemory). Under the bench's
// mixed load (a few postings a second, employers posting one by one,
// beside searches) the indexer sent a task per posting and Meilisearch
// kept one of the two cores busy indexing at every rate, the searches
// queued behind (issue 14, docs/performance.md "Session 11"). Paced, a
// trickle is about one task a second, or fewer as it grows, and a posting
// is searchable within a few seconds; what share of Meilisearch's time the
// tasks still take depends on what each costs. A posting after a quiet
// spell still goes after Linger, and a bulk's full batches go at once.
// MaxInterval bounds the wait of the partial batch at a bulk's end, whose
// small predecessor may have waited behind large tasks in Meilisearch's
// queue.
const (
	MinInterval     = time.Second
	IntervalPerBusy = 3
	MaxInterval     = 3 * time.Second
)

// Durable is the indexer's consumer of JOBS: the index holds what it has
// acknowledged.
const Durable = "matching-postings-index"

// indexBatch upserts the batch's postings and deletes its closed ones, then
// settles the duplicate clusters they touched; one error per message.
func (x *Index) indexBatch(ctx context.Context, msgs []jetstream.Msg) []error {
	errs := make([]error, len(msgs))
	var docs []Document
	var upsertIdx, deleteIdx []int
	var deletes []string
	for i, m := range msgs {
		if m.Subject() == events.JobsClosed || m.Subject() == events.JobsStale {
			id, err := ClosedID(m.Data())
			if err != nil {
				errs[i] = err
				continue
			}
			deletes = append(deletes, id)
			deleteIdx = append(deleteIdx, i)
			continue
		}
		doc, err := parseJob(m.Data())
		if err != nil {
			errs[i] = err
			continue
		}
		docs = append(docs, doc)
		upsertIdx = append(upsertIdx, i)
	}
	// The next batch may enqueue its tasks once this one's are enqueued:
	// after the upsert, or after the deletes when there are any.
	release := func() { events.Release(ctx) }
	if len(deletes) > 0 {
		release = func() {}
	}
	var clusters []string
	if len(docs) > 0 {
		// Once copied into the body, the documents are garbage: only the
		// body is held while Meilisearch works.
		batch, of := newLines(docs), make([]string, len(docs))
		for k, d := range docs {
			of[k] = d.Cluster
		}
		for k, err := range x.upsertAll(ctx, batch, release) {
			errs[upsertIdx[k]] = err
			if err == nil {
				clusters = append(clusters, of[k])
			}
		}
	}
	if len(deletes) > 0 {
		closed, err := x.clustersOf(ctx, deletes)
		if err == nil {
			clusters = append(clusters, closed...)
			var info *meilisearch.TaskInfo
			info, err = x.mc.Index(x.uid).DeleteDocuments(ctx, deletes, nil)
			events.Release(ctx)
			if err == nil {
				err = meili.Wait(ctx, x.mc, info)
			}
		}
		for _, i := range deleteIdx {
			errs[i] = wrap("remove closed postings", err)
		}
	}
	events.Release(ctx) // nothing to enqueue, or a read failed before the deletes
	if err := x.settleClusters(ctx, clusters); err != nil {
		for i := range errs {
			if !errors.Is(errs[i], events.ErrPoison) {
				errs[i] = err
			}
		}
	}
	return errs
}

// Upsert upserts documents and returns one error per document. When
// Meilisearch refuses the batch for what is in it (a task that failed with
// an invalid_request error), it splits the batch in halves until it has
// found the documents it refuses: those are poison, with Meilisearch's
// reason, and every other document is indexed. Any other failure (Meilisearch
// down, an internal error) fails the whole batch, to be retried.
func (x *Index) Upsert(ctx context.Context, docs []Document) []error {
	return x.upsertAll(ctx, newLines(docs), func() {})
}

// upsertAll is Upsert calling enqueued once the first task is enqueued (or
// could not be). The halves of a refused batch are enqueued after it, and
// so possibly after a later batch's task: a refused document is rare, and
// the halves hold the same postings' latest events unless the next batch
// updated one of them too.
func (x *Index) upsertAll(ctx context.Context, docs lines, enqueued func()) []error {
	errs := make([]error, docs.len())
	err := x.upsert(ctx, docs.body(), enqueued)
	var refused *refusedError
	switch {
	case err == nil:
	case errors.As(err, &refused) && docs.len() == 1:
		errs[0] = events.Poison("meilisearch refused the posting: %s", refused.msg)
	case errors.As(err, &refused):
		h := docs.len() / 2
		copy(errs, x.upsertAll(ctx, docs.part(0, h), func() {}))
		copy(errs[h:], x.upsertAll(ctx, docs.part(h, docs.len()), func() {}))
	default:
		for i := range errs {
			errs[i] = wrap("index postings", err)
		}
	}
	return errs
}

// lines are documents laid end to end in one buffer as NDJSON, each with
// its newline: line k is buf[start(k):ends[k]]. Any run of them is a body
// to send as it is, so that a batch in Meilisearch's hands is held once,
// as the body, not also as its documents.
type lines struct {
	buf  []byte
	from int // where line 0 starts
	ends []int
}

// newLines copies docs into a buffer of their exact size.
func newLines(docs []Document) lines {
	n := 0
	for _, d := range docs {
		n += len(d.JSON) + 1
	}
	l := lines{buf: make([]byte, 0, n), ends: make([]int, 0, len(docs))}
	for _, d := range docs {
		l.buf = append(l.buf, d.JSON...)
		l.buf = append(l.buf, '\n')
		l.ends = append(l.ends, len(l.buf))
	}
	return l
}

func (l lines) len() int { return len(l.ends) }

func (l lines) start(k int) int {
	if k == 0 {
		return l.from
	}
	return l.ends[k-1]
}

func (l lines) body() []byte {
	if len(l.ends) == 0 {
		return nil
	}
	return l.buf[l.from:l.ends[len(l.ends)-1]]
}

// part is lines i to j-1, sharing the buffer.
func (l lines) part(i, j int) lines { return lines{buf: l.buf, from: l.start(i), ends: l.ends[i:j]} }

// NDJSON is docs as one NDJSON body, one document per line (encoding/json
// escapes every newline inside a value).
func NDJSON(docs []Document) []byte { return newLines(docs).body() }

// refusedError is a Meilisearch task that failed because of the documents
// it was given.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return "meilisearch refused the documents: " + e.msg }

func (x *Index) upsert(ctx context.Context, body []byte, enqueued func()) error {
	pk := "id"
	info, err := x.mc.Index(x.uid).UpdateDocumentsNdjson(ctx, body, &meilisearch.DocumentOptions{PrimaryKey: &pk})
	enqueued()
	if err != nil {
		return err
	}
	t, err := x.mc.WaitForTask(ctx, info.TaskUID, meili.TaskPoll)
	if err != nil {
		return fmt.Errorf("wait for meilisearch task %d: %w", info.TaskUID, err)
	}
	switch {
	case t.Status == meilisearch.TaskStatusSucceeded:
		return nil
	case t.Error.Type == "invalid_request":
		return &refusedError{msg: fmt.Sprintf("%s (%s)", t.Error.Message, t.Error.Code)}
	}
	return fmt.Errorf("meilisearch task %d (%s) %s: %s (%s)", t.UID, t.Type, t.Status, t.Error.Message, t.Error.Code)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
