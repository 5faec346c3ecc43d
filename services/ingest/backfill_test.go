package ingest

import (
	"context"
	"slices"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
)

// A posting missing from its organisation's open set (accepted before the
// sets existed: in no set, and its record names no organisation) is put
// back by the backfill, once, and a sync then closes it; a posting the
// organisation closed is not put back.
func TestBackfillPutsOldPostingsInTheOpenSetsSoSyncClosesThem(t *testing.T) {
	s, p := start(t)
	ctx := context.Background()
	rdb := s.store.rdb
	res := mustSubmit(t, p, "acme", "bulk", "["+jobJSON("A", "Records Clerk", "95814")+","+jobJSON("B", "Scanning Clerk", "95814")+","+jobJSON("C", "Coder", "95814")+"]")
	a, b, c := res.Accepted[0].ID, res.Accepted[1].ID, res.Accepted[2].ID
	if _, err := ingestapi.Close.Call(ctx, p.NC, ingestapi.CloseRequest{Caller: ingestapi.Caller{Org: "acme"}, ID: c, Reason: ingestapi.ReasonFilled}); err != nil {
		t.Fatal(err)
	}
	// A lost its open-set entry; B is as postings were before the sets: in
	// no set, its record without organisation or listing fields.
	members, err := rdb.ZRange(ctx, orgListKey("acme"), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m[14:] == b {
			rdb.ZRem(ctx, orgListKey("acme"), m)
		}
	}
	rdb.SRem(ctx, orgOpenKey("acme"), a, b)
	rdb.HDel(ctx, postingKey(b), "org", "title", "identifier", "first_seen", "date_posted", "status")
	if open, _ := s.store.openOf(ctx, "acme"); len(open) != 0 {
		t.Fatalf("open set before the backfill: %v", open)
	}
	rdb.Del(ctx, backfillDoneKey)

	n, err := s.backfillOpenSets(ctx)
	if err != nil || n != 2 {
		t.Fatalf("backfill: %d postings, %v; want 2", n, err)
	}
	// The backfill's reader of JOBS is gone with it.
	jobs, err := p.JS.Stream(ctx, events.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	infos := jobs.ListConsumers(ctx)
	for info := range infos.Info() {
		if info.Config.Durable == "" {
			t.Errorf("reader %s left on JOBS after the backfill", info.Name)
		}
	}
	if err := infos.Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.backfillOpenSets(ctx); err != nil || n != 0 {
		t.Fatalf("second backfill: %d, %v; want nothing (done)", n, err)
	}
	rdb.Del(ctx, backfillDoneKey) // a second copy starting at the same time
	if n, err := s.backfillOpenSets(ctx); err != nil || n != 0 {
		t.Fatalf("backfill again: %d, %v; want nothing to add", n, err)
	}
	l := byID(list(t, p, ingestapi.ListRequest{EmployerID: "acme"}))
	if l[b].Title != "Scanning Clerk" || l[b].Status != ingestapi.StatusOpen || l[c].Status != ingestapi.StatusClosed {
		t.Fatalf("list after the backfill: B %+v, C %+v", l[b], l[c])
	}

	sync := mustSubmit(t, p, "acme", "bulk", "["+jobJSON("D", "ROI Specialist", "95814")+"]", ingestapi.HeaderSync, "true")
	slices.Sort(sync.Closed)
	want := []string{a, b}
	slices.Sort(want)
	if !slices.Equal(sync.Closed, want) {
		t.Fatalf("sync closed %v, want A and B %v (not C, closed before)", sync.Closed, want)
	}
}
