package matching

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/seedgen"
	"github.com/clerkpath/clerkpath/pkg/supervise"
	"github.com/clerkpath/clerkpath/pkg/testenv"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// BenchmarkSearchCost is what one public search costs Meilisearch, in its
// own CPU (from /proc) per search, on BENCH_POSTINGS postings (default
// 10,000) made as the bench makes them: seedgen's records in employers'
// words, decoded and normalised as ingest does, ZIP codes placed. Each
// sub-benchmark sends the bench's ten text queries one after another (one
// client): as PublicSearch builds them (facets=4), without the facets
// (facets=0) and with one facet (facets=1). It says how much of a search's
// cost its facet counts are (issue 14: the mixed load's searches are most
// of Meilisearch's CPU).
//
// `go test -run '^$' -bench SearchCost -benchtime 500x .`
func BenchmarkSearchCost(b *testing.B) {
	srv := testenv.Open(b, testenv.Needs{Meili: true})
	ctx := context.Background()
	n := testenv.EnvInt(b, "BENCH_POSTINGS", 10_000)
	docs := benchPostingDocs(b, srv.Config.ZCTAFile, n, 1, "S")
	uid := srv.Config.IndexPrefix + "searchcost"
	benchIndex(b, srv.Meili, postingindex.Settings(uid), docs)
	queries := []string{"medical records", "coder", "RHIT", "release of information", "cancer registrar", "inpatient coding", "privacy", "remote coder", "health information", "data analyst"}
	for _, facets := range []int{4, 0, 1} {
		b.Run(fmt.Sprintf("facets=%d", facets), func(b *testing.B) {
			cpu := meiliCPU(b, srv.MeiliPID)
			ops := 0
			for b.Loop() {
				req, err := PublicSearch(queries[ops%len(queries)])
				if err != nil {
					b.Fatal(err)
				}
				req.Facets = req.Facets[:facets]
				if _, err := srv.Meili.Index(uid).SearchRaw(ctx, req.Query, req); err != nil {
					b.Fatal(err)
				}
				ops++
			}
			cpu(ops)
		})
	}
}

// benchIndex creates the index ix and adds docs to it, 1,000 a task.
func benchIndex(b *testing.B, mc meilisearch.ServiceManager, ix meili.Index, docs []postingindex.Document) {
	b.Helper()
	ctx := context.Background()
	if err := meili.EnsureIndex(ctx, mc, ix); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(docs); i += 1000 {
		info, err := mc.Index(ix.UID).UpdateDocumentsNdjson(ctx, postingindex.NDJSON(docs[i:min(i+1000, len(docs))]), nil)
		if err == nil {
			err = meili.Wait(ctx, mc, info)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// meiliCPU starts metering Meilisearch's CPU (process pid); the function
// it returns reports it per op over ops as meili-cpu-ms/op.
func meiliCPU(b *testing.B, pid int) func(ops int) {
	b.Helper()
	before, err := supervise.CPUTime(pid)
	if err != nil {
		b.Fatal(err)
	}
	return func(ops int) {
		after, err := supervise.CPUTime(pid)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64((after-before).Microseconds())/1000/float64(max(ops, 1)), "meili-cpu-ms/op")
	}
}

// benchPostingDocs makes n index documents as ingest and the indexer would
// from the bench's generated records, each posting its own duplicate
// cluster (seed picks them; ids begin with
// prefix).
func benchPostingDocs(b *testing.B, zctaFile string, n int, seed uint64, prefix string) []postingindex.Document {
	b.Helper()
	places, err := seedgen.ReadPlacesFile(zctaFile)
	if err != nil {
		b.Fatalf("ZIP centroids (run deployments/local/install.sh): %v", err)
	}
	zcta, err := geo.LoadZCTAFile(zctaFile)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	recs := seedgen.Records(rand.New(rand.NewPCG(seed, 2)), n, seedgen.NewSampler(places), now, prefix)
	docs := make([]postingindex.Document, 0, n)
	for from := 0; from < n; from += posting.MaxRecords { // a batch decodes at most MaxRecords
		body, err := json.Marshal(recs[from:min(from+posting.MaxRecords, n)])
		if err != nil {
			b.Fatal(err)
		}
		batch, err := posting.Decode(posting.MediaJSON, bytes.NewReader(body), posting.DecodeOptions{})
		if err != nil || len(batch.Errors) > 0 {
			b.Fatalf("decode records: %v %v", err, batch.Errors)
		}
		for i, r := range batch.Records {
			p, err := posting.Normalize(r, posting.NormalizeOptions{Now: now, Geo: zcta})
			if err != nil {
				b.Fatal(err)
			}
			p.ID = fmt.Sprintf("%s%07d", prefix, from+i)
			d, err := postingindex.EventDoc(ingestapi.JobEvent{Posting: p, EmployerID: "org-1"})
			if err != nil {
				b.Fatal(err)
			}
			docs = append(docs, d)
		}
	}
	return docs
}
