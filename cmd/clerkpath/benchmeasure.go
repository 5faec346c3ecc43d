// The bench's measurements of one path each, beside its baseline: ingest
// against a raw Meilisearch add, the event path against a raw JetStream
// publish, reverse and forward matching, plans.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/seedgen"
	"github.com/clerkpath/clerkpath/services/matching"
	"github.com/clerkpath/clerkpath/services/matching/postingindex"
	"github.com/clerkpath/clerkpath/services/matching/seekerindex"
)

// jobsConsumersDone reports whether every consumer of JOBS has
// acknowledged everything up to the stream's last message.
func jobsConsumersDone(ctx context.Context, st *benchStack) (bool, error) {
	done, n, err := consumersDone(ctx, st, events.StreamJobs)
	return done && n > 0, err
}

// reverseAnnounced reports whether every JOBS consumer has acknowledged
// everything and no announcement is left to publish: reverse matching
// acknowledges a batch once its announcements are queued, and its flusher
// publishes them after (matching.AnnouncementsDue).
func reverseAnnounced(ctx context.Context, st *benchStack) (bool, error) {
	done, err := jobsConsumersDone(ctx, st)
	if err != nil || !done {
		return false, err
	}
	due, err := matching.AnnouncementsDue(ctx, st.redis.rdb)
	return due == 0, err
}

// consumersDone reports whether every consumer of stream (n of them) has
// acknowledged everything up to the stream's last message.
func consumersDone(ctx context.Context, st *benchStack, stream string) (done bool, n int, err error) {
	s, err := st.js.Stream(ctx, stream)
	if err != nil {
		return false, 0, err
	}
	cl := s.ListConsumers(ctx)
	done = true
	for ci := range cl.Info() {
		n++
		if ci.NumPending > 0 || ci.NumAckPending > 0 {
			done = false
		}
	}
	return done, n, cl.Err()
}

// ingestToSearchable ingests n postings through the API and waits until
// every one accepted as new is searchable.
func ingestToSearchable(ctx context.Context, st *benchStack, h *benchHTTP, pop population, n int) (ours, accepted time.Duration, err error) {
	idx := st.postingsIndex()
	before := max(st.indexed(ctx, idx), 0)
	t0 := time.Now()
	acc, err := pop.postings(ctx, h, n, "bench", "B")
	if err != nil {
		return 0, 0, err
	}
	accepted = time.Since(t0)
	if acc < n/2 {
		return 0, 0, fmt.Errorf("only %d of %d postings accepted as new", acc, n)
	}
	// Polled every 20 ms: each poll is a request Meilisearch answers
	// while it indexes.
	for st.indexed(ctx, idx) < before+int64(acc) {
		if time.Since(t0) > 15*time.Minute {
			return 0, 0, fmt.Errorf("only %d of %d postings searchable after 15 min", st.indexed(ctx, idx)-before, acc)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(t0), accepted, nil
}

// awaitReverseSettled waits, up to wait, until every JOBS consumer (reverse
// matching above all) and every MATCHES consumer (notifications, which
// writes what reverse matching announced) has acknowledged everything,
// saying how far reverse matching is every 30 s; it reports what reverse
// matching had left when wait ran out. A baseline measured after it runs
// beside nothing of the work before it (session 11: a raw add that
// started once JOBS was done ran beside notifications and Redis at half a
// core).
func awaitReverseSettled(ctx context.Context, st *benchStack, wait time.Duration, say func(string, ...any)) (left uint64, err error) {
	t0, lastSay := time.Now(), time.Now()
	for {
		done, err := reverseAnnounced(ctx, st)
		if err != nil {
			return 0, err
		}
		if done {
			told, _, err := consumersDone(ctx, st, events.StreamMatches)
			if err != nil || told {
				return 0, err
			}
		}
		left, err = reverseLeft(ctx, st)
		if err != nil {
			return 0, err
		}
		if time.Since(t0) > wait {
			return left, nil
		}
		if time.Since(lastSay) > 30*time.Second {
			if done {
				say("  reverse matching done; notifications still writing its announcements")
			} else {
				say("  reverse matching: %d postings still to match", left)
			}
			lastSay = time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reverseLeft is how many JOBS events reverse matching has not
// acknowledged.
func reverseLeft(ctx context.Context, st *benchStack) (uint64, error) {
	c, err := st.js.Consumer(ctx, events.StreamJobs, matching.ReverseDurable)
	if err != nil {
		return 0, err
	}
	info := c.CachedInfo()
	return info.NumPending + uint64(info.NumAckPending), nil
}

// rawAdd adds the postings index's documents, as indexed, into a second
// index with its settings, in batches of 1,000, and times it.
func rawAdd(ctx context.Context, st *benchStack) (time.Duration, error) {
	idx := st.postingsIndex()
	settings, err := st.mc.Index(idx).GetSettings(ctx)
	if err != nil {
		return 0, err
	}
	rawIdx := st.cfg.IndexPrefix + "raw_postings"
	pk := "id"
	if err := meili.EnsureIndex(ctx, st.mc, meili.Index{UID: rawIdx, PrimaryKey: pk, Settings: *settings}); err != nil {
		return 0, fmt.Errorf("raw index: %w", err)
	}
	var docs [][]map[string]any
	for off := int64(0); ; off += 1000 {
		var page meilisearch.DocumentsResult
		if err := st.mc.Index(idx).GetDocuments(ctx, &meilisearch.DocumentsQuery{Offset: off, Limit: 1000}, &page); err != nil {
			return 0, err
		}
		var batch []map[string]any
		for _, h := range page.Results {
			var d map[string]any
			if err := h.DecodeInto(&d); err != nil {
				return 0, err
			}
			batch = append(batch, d)
		}
		if len(batch) == 0 {
			break
		}
		docs = append(docs, batch)
	}
	t1 := time.Now()
	var last *meilisearch.TaskInfo
	for _, b := range docs {
		if last, err = st.mc.Index(rawIdx).AddDocuments(ctx, b, &meilisearch.DocumentOptions{PrimaryKey: &pk}); err != nil {
			return 0, err
		}
	}
	if err := meili.Wait(ctx, st.mc, last); err != nil {
		return 0, err
	}
	return time.Since(t1), nil
}

// meiliTaskSummary describes Meilisearch's tasks enqueued since t0, per
// index and type: how many, in how many of Meilisearch's batches (it
// processes consecutive tasks of an index together: tasks that started
// and finished at the same instants were one batch), how many documents,
// how long Meilisearch worked on those batches and from the first
// enqueued to the last finished.
func meiliTaskSummary(ctx context.Context, mc meilisearch.ServiceManager, t0 time.Time) []string {
	type agg struct {
		tasks, docs, unfinished int64
		busy                    time.Duration
		first, last             time.Time
		batches                 map[[2]time.Time]bool
	}
	sums := map[string]*agg{}
	var keys []string
	q := &meilisearch.TasksQuery{AfterEnqueuedAt: t0, Limit: 1000}
	for {
		res, err := mc.GetTasks(ctx, q)
		if err != nil {
			return []string{"tasks: " + err.Error()}
		}
		for _, t := range res.Results {
			k := t.IndexUID + " " + string(t.Type)
			a := sums[k]
			if a == nil {
				a = &agg{first: t.EnqueuedAt, batches: map[[2]time.Time]bool{}}
				sums[k] = a
				keys = append(keys, k)
			}
			a.tasks++
			a.docs += t.Details.ReceivedDocuments + t.Details.ProvidedIds
			if b := [2]time.Time{t.StartedAt, t.FinishedAt}; !t.FinishedAt.IsZero() && !t.StartedAt.IsZero() && !a.batches[b] {
				a.batches[b] = true
				a.busy += t.FinishedAt.Sub(t.StartedAt)
			}
			if t.EnqueuedAt.Before(a.first) {
				a.first = t.EnqueuedAt
			}
			if t.FinishedAt.IsZero() {
				a.unfinished++
			} else if t.FinishedAt.After(a.last) {
				a.last = t.FinishedAt
			}
		}
		if res.Next == 0 || len(res.Results) == 0 {
			break
		}
		q.From = res.Next
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		a := sums[k]
		span := fmt.Sprintf("%d unfinished", a.unfinished)
		if a.unfinished == 0 {
			span = fmt.Sprintf("first enqueued to last finished %.1f s", a.last.Sub(a.first).Seconds())
		}
		out[i] = fmt.Sprintf("%s: %d tasks in %d batches, %d documents, busy %.1f s, %s", k, a.tasks, len(a.batches), a.docs, a.busy.Seconds(), span)
	}
	return out
}

// benchEventPath times accepting single postings through the API against
// raw synchronous JetStream publishes of a message of the same size into a
// file stream on the same (sync always) server.
func benchEventPath(ctx context.Context, st *benchStack, h *benchHTTP, pop population) (ours, raw []time.Duration, err error) {
	tok, err := h.mint("employer", "bench-employer", "bench-events")
	if err != nil {
		return nil, nil, err
	}
	r := rand.New(rand.NewPCG(pop.seed, 2<<40))
	for i, rec := range seedgen.Records(r, 300, pop.places, pop.now, "E") {
		body, _ := json.Marshal(rec)
		t := time.Now()
		code, b, err := h.do(ctx, "POST", "/v1/postings", tok, body)
		if err != nil || code != 201 {
			return nil, nil, fmt.Errorf("posting %d: %d %s %v", i, code, b, err)
		}
		ours = append(ours, time.Since(t))
	}
	if _, err := st.js.CreateStream(ctx, jetstream.StreamConfig{Name: "BENCHRAW", Subjects: []string{"benchraw.>"}, Storage: jetstream.FileStorage}); err != nil {
		return nil, nil, err
	}
	msg := bytes.Repeat([]byte("x"), 3<<10)
	for i := range 300 {
		t := time.Now()
		if _, err := st.js.Publish(ctx, "benchraw."+strconv.Itoa(i), msg); err != nil {
			return nil, nil, err
		}
		raw = append(raw, time.Since(t))
	}
	return ours, raw, nil
}

// benchReverse submits n postings one at a time and times each from the
// API's 201 to every JOBS consumer (the indexer and reverse matching,
// whose acknowledgement comes after the posting's matches are written and
// their announcements queued) having acknowledged it and no announcement
// being left to publish (reverseAnnounced).
func benchReverse(ctx context.Context, st *benchStack, h *benchHTTP, pop population, n int) ([]time.Duration, error) {
	tok, err := h.mint("employer", "bench-employer", "bench-reverse")
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(pop.seed, 3<<40))
	var out []time.Duration
	for i, rec := range seedgen.Records(r, n, pop.places, pop.now, "R") {
		body, _ := json.Marshal(rec)
		code, b, err := h.do(ctx, "POST", "/v1/postings", tok, body)
		if err != nil || code != 201 {
			return nil, fmt.Errorf("posting %d: %d %s %v", i, code, b, err)
		}
		t := time.Now()
		for {
			done, err := reverseAnnounced(ctx, st)
			if err != nil {
				return nil, err
			}
			if done {
				break
			}
			if time.Since(t) > time.Minute {
				return nil, errors.New("a posting was not reverse matched within a minute")
			}
			// Each poll lists JOBS's consumers, a JetStream API request
			// that queues with the keyring reads of the path measured.
			time.Sleep(10 * time.Millisecond)
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

// forwardBaseline sends, raw to Meilisearch, the searches matching sends
// for a seeker's forward match (matching.ForwardSearches): the seeker as
// matching's seekers index views them, rebuilt from the seeded data, and
// the postings index's filter vocabulary.
type forwardBaseline struct {
	st    *benchStack
	h     *benchHTTP
	pop   population
	vocab *postingindex.Vocabulary
	ix    *seekerindex.Index
}

func newForwardBaseline(ctx context.Context, st *benchStack, h *benchHTTP, pop population) (*forwardBaseline, error) {
	vocab := postingindex.NewVocabulary()
	if err := vocab.Load(ctx, st.mc, st.postingsIndex()); err != nil {
		return nil, err
	}
	zcta, err := geo.LoadZCTAFile(st.cfg.ZCTAFile)
	if err != nil {
		return nil, err
	}
	cat, err := pathway.DefaultCatalog()
	if err != nil {
		return nil, err
	}
	ix := seekerindex.New(zcta, cat, func() time.Time { return time.Now().UTC() })
	return &forwardBaseline{st: st, h: h, pop: pop, vocab: vocab, ix: ix}, nil
}

// search sends seeker i's forward-match searches one after another, as
// matching does, and returns the time and the ids of the first search's
// hits (the candidates the matches are chosen from).
func (fb *forwardBaseline) search(ctx context.Context, i int, near bool) (time.Duration, map[string]bool, error) {
	id := seekerID(i)
	if _, _, ok := fb.ix.View(id); !ok {
		m := fb.pop.member(i)
		fb.ix.SetAttrs(m.Seeker, 1)
		for _, c := range m.Credentials {
			fb.ix.AddCredential(id, c, 1)
		}
	}
	sk, attrs, _ := fb.ix.View(id)
	path := fb.st.cfg.MeiliURL + "/indexes/" + fb.st.postingsIndex() + "/search"
	var took time.Duration
	var ids map[string]bool
	for _, q := range matching.ForwardSearches(sk, attrs, fb.vocab, near) {
		body, _ := json.Marshal(map[string]any{"q": "", "filter": q.Filter, "sort": q.Sort, "limit": q.Limit})
		req, err := http.NewRequestWithContext(ctx, "POST", path, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+fb.st.cfg.MeiliKey)
		t := time.Now()
		res, err := fb.h.c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		took += time.Since(t)
		if err != nil || res.StatusCode != 200 {
			return 0, nil, fmt.Errorf("raw forward search: %d %.200s %v", res.StatusCode, b, err)
		}
		if ids == nil {
			var out struct {
				Hits []struct {
					ID string `json:"id"`
				} `json:"hits"`
			}
			_ = json.Unmarshal(b, &out)
			ids = map[string]bool{}
			for _, h := range out.Hits {
				ids[h.ID] = true
			}
		}
	}
	return took, ids, nil
}

// forwardRun is one forward-match measurement: clerkpath's latencies, the
// raw same-filter searches' and how many seekers had a match outside the
// raw candidates (the filters differ; it should be 0).
type forwardRun struct {
	ours, raw []time.Duration
	matched   int // seekers with at least one match
	outside   int
}

// benchForward asks n seekers' matches through the API, each followed by
// the same seeker's raw same-filter searches.
func benchForward(ctx context.Context, h *benchHTTP, fb *forwardBaseline, seekers int, near bool, n int) (forwardRun, error) {
	var fr forwardRun
	if seekers == 0 {
		return fr, nil
	}
	r := rand.New(rand.NewPCG(fb.pop.seed, 4<<40))
	for range n {
		i := r.IntN(seekers)
		id := seekerID(i)
		tok, err := h.mint("seeker", id, "")
		if err != nil {
			return fr, err
		}
		t := time.Now()
		code, b, err := h.do(ctx, "GET", "/v1/seekers/"+id+"/matches?near_misses="+strconv.FormatBool(near), tok, nil)
		if err != nil || code != 200 {
			return fr, fmt.Errorf("matches of %s: %d %.200s %v", id, code, b, err)
		}
		fr.ours = append(fr.ours, time.Since(t))
		raw, ids, err := fb.search(ctx, i, near)
		if err != nil {
			return fr, err
		}
		fr.raw = append(fr.raw, raw)
		var got struct {
			Matches []struct {
				PostingID string `json:"posting_id"`
			} `json:"matches"`
		}
		_ = json.Unmarshal(b, &got)
		if len(got.Matches) > 0 {
			fr.matched++
		}
		for _, m := range got.Matches {
			if !ids[m.PostingID] {
				fr.outside++
				break
			}
		}
	}
	return fr, nil
}

// benchPlanInProcess times n calls of pathway.Recommend on planBody in
// this process, after 100 calls to warm up and a collection, so that the
// figures are the engine's and not a collection left over from what ran
// before.
func benchPlanInProcess(n int) ([]time.Duration, error) {
	cat, err := pathway.DefaultCatalog()
	if err != nil {
		return nil, err
	}
	var st pathway.State
	if err := json.Unmarshal([]byte(planBody), &st); err != nil {
		return nil, err
	}
	today := time.Now()
	for range 100 {
		if _, err := pathway.Recommend(cat, st, pathway.Options{Today: today}); err != nil {
			return nil, err
		}
	}
	runtime.GC()
	out := make([]time.Duration, 0, n)
	for range n {
		t := time.Now()
		if _, err := pathway.Recommend(cat, st, pathway.Options{Today: today}); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

func benchPlan(ctx context.Context, h *benchHTTP, n int) (inproc, gw []time.Duration, err error) {
	if inproc, err = benchPlanInProcess(n); err != nil {
		return nil, nil, err
	}
	for range n {
		t := time.Now()
		code, b, err := h.do(ctx, "POST", "/v1/pathways/plan", "", []byte(planBody))
		if err != nil || code != 200 {
			return nil, nil, fmt.Errorf("plan: %d %.200s %v", code, b, err)
		}
		gw = append(gw, time.Since(t))
	}
	return inproc, gw, nil
}
