package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/natsserver"
	"github.com/clerkpath/clerkpath/pkg/natsx"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// syncAlwaysServers is testenv's Redis with a nats-server of its own that
// fsyncs every write, as production and `clerkpath bench` run it.
func syncAlwaysServers(tb testing.TB) *testenv.Servers {
	tb.Helper()
	srv := testenv.Open(tb, testenv.Needs{Redis: true})
	ns, err := natsserver.Start(natsserver.Options{StoreDir: tb.TempDir(), SyncAlways: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if srv.NC, err = natsx.Connect(ctx, ns.ClientURL(), "clerkpath-test", zerolog.Nop()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.NC.Close)
	if srv.JS, err = jetstream.New(srv.NC); err != nil {
		tb.Fatal(err)
	}
	if err := events.EnsureStreams(ctx, srv.JS, 1); err != nil {
		tb.Fatal(err)
	}
	return srv
}

// bulkBody is n distinct postings as a JSON array, the round's own.
func bulkBody(round, n int) string {
	desc := strings.Repeat("Review inpatient records and assign ICD-10-CM and ICD-10-PCS codes. ", 10)
	recs := make([]string, n)
	for i := range recs {
		recs[i] = fmt.Sprintf(`{"identifier":"R%d-%d","title":"Inpatient Coder %d","description":"RHIT and (CCS or CIC) required. Team %d-%d works days. %s","employer":"Bench Health","date_posted":"%s","postal_code":"10001"}`,
			round, i, i, round, i, desc, today())
	}
	return "[" + strings.Join(recs, ",") + "]"
}

// BenchmarkBulkAccept submits bulks of 1,000 distinct postings to the
// ingest service on a nats-server that fsyncs every write, one at a time
// and two at once (as `clerkpath bench` sends them); ms per bulk.
func BenchmarkBulkAccept(b *testing.B) {
	for _, at := range []int{1, 2} {
		b.Run(fmt.Sprintf("at-once=%d", at), func(b *testing.B) {
			srv := syncAlwaysServers(b)
			_, srv = startWith(b, srv, Options{SweepInterval: -1})
			round := 0
			for b.Loop() {
				var g errgroup.Group
				for range at {
					round++
					body := bulkBody(round, 1000)
					g.Go(func() error {
						h := nats.Header{}
						h.Set("Content-Type", "application/json")
						h.Set(ingestapi.HeaderEmployerOrg, "acme")
						res, err := ingestapi.Submit.Call(context.Background(), srv.NC, rpc.Raw{Data: []byte(body), Header: h})
						if err == nil && len(res.Accepted) != 1000 {
							err = fmt.Errorf("%d accepted, %d rejected", len(res.Accepted), len(res.Rejected))
						}
						return err
					})
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*at), "ms/bulk")
		})
	}
}

// rememberWatch records, at each Redis transaction (MULTI … EXEC), how
// many events the JOBS stream holds.
type rememberWatch struct {
	js     jetstream.JetStream
	mu     sync.Mutex
	stored []uint64
}

func (w *rememberWatch) watch(ctx context.Context, cmds []redis.Cmder, _ bool) error {
	if len(cmds) == 0 || cmds[0].Name() != "multi" {
		return nil
	}
	st, err := w.js.Stream(ctx, events.StreamJobs)
	if err != nil {
		return err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.stored = append(w.stored, info.State.Msgs)
	w.mu.Unlock()
	return nil
}

// A bulk's postings are remembered in Redis chunk by chunk, each once
// JetStream has stored its chunk's events, while it stores the rest, not
// all after the last (issue 14: on a stream that fsyncs every write,
// storing the events is most of a bulk's time). Every posting is
// remembered in the end: sent again, all are duplicates.
func TestBulkRememberedWhileTheRestIsStored(t *testing.T) {
	srv := syncAlwaysServers(t)
	w := &rememberWatch{js: srv.JS}
	srv.Redis.AddHook(testenv.RedisWatch(w.watch))
	_, srv = startWith(t, srv, Options{SweepInterval: -1})
	body := bulkBody(1, 1000)
	res, err := submit(t, srv, "application/json", "", body)
	if err != nil || len(res.Accepted) != 1000 {
		t.Fatalf("bulk: %v, %d accepted", err, len(res.Accepted))
	}
	w.mu.Lock()
	stored := slices.Clone(w.stored)
	w.mu.Unlock()
	// One transaction a chunk, each after its chunk's events are stored
	// (how many of the rest are stored by then is the machine's timing).
	if len(stored) != 1000/rememberChunk {
		t.Fatalf("events in JOBS at each remembering transaction: %v; want one transaction per %d postings", stored, rememberChunk)
	}
	for k, n := range stored {
		if n < uint64((k+1)*rememberChunk) {
			t.Fatalf("events in JOBS at each remembering transaction: %v; chunk %d remembered before its events were stored", stored, k)
		}
	}
	t.Logf("events in JOBS at each remembering transaction: %v", stored)
	res, err = submit(t, srv, "application/json", "", body)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Accepted {
		if o.Status != outcomeDuplicate || o.Sequence != 0 {
			t.Fatalf("sent again: %+v, want a duplicate not published again", o)
		}
	}
	if n := countSubject(t, srv, ingestapi.Posted.Subject); n != 1000 {
		t.Fatalf("%d posted events, want 1000", n)
	}
}

// sequenceHolds checks that each posted or updated outcome's sequence holds
// that posting's event.
func sequenceHolds(t *testing.T, srv *testenv.Servers, outs []ingestapi.Outcome) {
	t.Helper()
	ctx := context.Background()
	st, err := srv.JS.Stream(ctx, events.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Sequence == 0 {
			t.Fatalf("%+v: no sequence", o)
		}
		m, err := st.GetMsg(ctx, o.Sequence)
		if err != nil {
			t.Fatalf("%s: sequence %d: %v", o.ID, o.Sequence, err)
		}
		var ev ingestapi.JobEvent
		if err := json.Unmarshal(m.Data, &ev); err != nil || ev.Posting.ID != o.ID {
			t.Fatalf("%s (%s): sequence %d holds %q (%v)", o.ID, o.Status, o.Sequence, ev.Posting.ID, err)
		}
	}
}

// A bulk's events go as atomic batches; each outcome's sequence is its own
// event's. When Redis has forgotten the postings (a restore, a flush) and
// the feed comes again with new postings in it, JetStream still knows the
// old ones: they are duplicates at their first sequences, and the new ones
// in the same chunks are posted.
func TestBulkSequencesNameTheirEventsAndRepeatsJetStreamKnows(t *testing.T) {
	srv := syncAlwaysServers(t)
	_, srv = startWith(t, srv, Options{SweepInterval: -1})
	body := bulkBody(1, 450)
	res, err := submit(t, srv, "application/json", "", body)
	if err != nil || len(res.Accepted) != 450 {
		t.Fatalf("bulk: %v, %d accepted", err, len(res.Accepted))
	}
	sequenceHolds(t, srv, res.Accepted)
	first := map[string]uint64{}
	for _, o := range res.Accepted {
		first[o.ID] = o.Sequence
	}

	if err := srv.Redis.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	more := strings.TrimSuffix(body, "]") + "," + strings.TrimPrefix(bulkBody(2, 50), "[")
	res, err = submit(t, srv, "application/json", "", more)
	if err != nil || len(res.Accepted) != 500 {
		t.Fatalf("bulk again: %v, %d accepted", err, len(res.Accepted))
	}
	var posted []ingestapi.Outcome
	for _, o := range res.Accepted {
		switch seq, old := first[o.ID]; {
		case old && (o.Status != outcomeDuplicate || o.Sequence != seq):
			t.Fatalf("%s sent again: %s at %d, want a duplicate at %d", o.ID, o.Status, o.Sequence, seq)
		case !old && o.Status != outcomePosted:
			t.Fatalf("%s is new: %s", o.ID, o.Status)
		case !old:
			posted = append(posted, o)
		}
	}
	sequenceHolds(t, srv, posted)
	if n := countSubject(t, srv, ingestapi.Posted.Subject); n != 500 {
		t.Fatalf("%d posted events, want 500", n)
	}
}
