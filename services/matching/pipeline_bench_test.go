package matching

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/profile"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// BenchmarkPipelineWithSeekers measures the running service (its JOBS
// consumers: indexer and reverse matching with announcements) with
// BENCH_SEEKERS seekers (default 10,000) in memory:
//
//   - each round publishes 1,000 jobs.posted events and times them until
//     all are searchable, then adds the same documents straight into a
//     second index with the same settings (a raw Meilisearch add), and
//     reports the medians and their ratio;
//   - after the rounds, 20 single postings are published one at a time and
//     each is timed until every announcement of its matches is published
//     (the reverse consumer has acknowledged it and no announcement is
//     due), reporting p50 and p95.
//
// `go test -run '^$' -bench PipelineWithSeekers -benchtime 5x .`
func BenchmarkPipelineWithSeekers(b *testing.B) {
	cfg := ownServers(b)
	ctx := context.Background()
	a := startCopy(b, cfg, true)
	f := newFeed(b, cfg)
	r := rand.New(rand.NewPCG(31, 32))
	places := zipPoints(b, cfg.ZCTAFile, 300)
	nSeekers := envInt("BENCH_SEEKERS", 10_000)
	for i := range nSeekers {
		id := "s" + strconv.Itoa(i)
		a.s.seekers.SetAttrs(genSeeker(r, id, places), 1)
		for _, c := range pick(r, credentialPool, r.IntN(3)) {
			a.s.seekers.AddCredential(id, profile.CredentialRecord{Code: c, EarnedOn: "2024-01-01"}, 1)
		}
	}
	raw := cfg.IndexPrefix + "raw"
	if err := meili.EnsureIndex(ctx, a.s.mc, postingindex.Settings(raw)); err != nil {
		b.Fatal(err)
	}
	count := func(index string) int64 {
		st, err := a.s.mc.Index(index).GetStats(ctx, nil)
		if err != nil {
			return -1
		}
		return st.NumberOfDocuments
	}
	now := time.Now()
	var ours, theirs []time.Duration
	round := 0
	for b.Loop() {
		round++
		ps := genPostings(r, 1000, places, now)
		var docs []postingindex.Document
		for i := range ps {
			ps[i].ID = fmt.Sprintf("r%d-%04d", round, i)
			raw := ps[i]
			raw.ID += "-raw"
			doc, _, err := postingindex.Doc(raw, postingindex.Field{Key: "employer_id", Value: "org-1"})
			if err != nil {
				b.Fatal(err)
			}
			docs = append(docs, doc)
		}
		before := count(a.s.index)
		t0 := time.Now()
		var futs []func() error
		for _, p := range ps {
			fu, err := events.PublishAsync(f.js, events.Event{Subject: events.JobsPosted, ID: "posted:" + p.ID, Source: "bench", Payload: ingestapi.JobEvent{Posting: p, EmployerID: "org-1"}})
			if err != nil {
				b.Fatal(err)
			}
			futs = append(futs, func() error { _, err := events.Await(ctx, f.js, events.JobsPosted, fu); return err })
		}
		for _, w := range futs {
			if err := w(); err != nil {
				b.Fatal(err)
			}
		}
		// Searchable: the documents are counted and the indexer has
		// acknowledged every event (it does so once its task succeeded).
		for count(a.s.index) < before+1000 || !indexerDone(b, a.s) {
			time.Sleep(5 * time.Millisecond)
		}
		ours = append(ours, time.Since(t0))
		// Let the reverse matching of this round finish before the raw add,
		// so that the two are timed under the same load.
		settled(b, a.s, 10*time.Minute)
		pk := "id"
		t1 := time.Now()
		info, err := a.s.mc.Index(raw).AddDocumentsNdjson(ctx, postingindex.NDJSON(docs), &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err == nil {
			err = meili.Wait(ctx, a.s.mc, info)
		}
		if err != nil {
			b.Fatal(err)
		}
		theirs = append(theirs, time.Since(t1))
		b.Logf("round %d: clerkpath %s, raw %s", round, ours[len(ours)-1].Round(time.Millisecond), theirs[len(theirs)-1].Round(time.Millisecond))
	}
	b.StopTimer()
	var lat []time.Duration
	pairs := 0
	for i, p := range genPostings(r, 20, places, now) {
		p.ID = fmt.Sprintf("one-%02d", i)
		if i%4 == 0 {
			p.WorkMode, p.CredentialsRequired, p.Routes = "remote", nil, nil // suits thousands
		}
		t0 := time.Now()
		f.post(b, p)
		settled(b, a.s, 2*time.Minute)
		lat = append(lat, time.Since(t0))
		n, _ := a.s.rdb.SCard(ctx, postingKey(p.ID)).Result()
		pairs += int(n)
		b.Logf("posting %s: %d seekers announced in %s", p.ID, n, lat[len(lat)-1].Round(time.Millisecond))
	}
	q := func(ds []time.Duration, at float64) float64 {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return ds[max(0, int(math.Ceil(at*float64(len(ds))))-1)].Seconds() // nearest rank
	}
	b.ReportMetric(q(ours, 0.5), "clerkpath-s/1000")
	b.ReportMetric(q(theirs, 0.5), "raw-meili-s/1000")
	b.ReportMetric(q(ours, 0.5)/q(theirs, 0.5), "ratio")
	b.ReportMetric(q(lat, 0.5), "announce-p50-s")
	b.ReportMetric(q(lat, 0.95), "announce-p95-s")
	b.ReportMetric(float64(pairs)/float64(len(lat)), "seekers/posting")
}

// indexerDone reports whether the indexer has acknowledged every event.
func indexerDone(b *testing.B, s *Service) bool {
	c, err := s.js.Consumer(context.Background(), events.StreamJobs, postingindex.Durable)
	if err != nil {
		b.Fatal(err)
	}
	info := c.CachedInfo()
	return info.NumPending == 0 && info.NumAckPending == 0
}
