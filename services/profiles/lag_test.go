package profiles_test

import (
	"context"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/services/profiles"
)

// A profile write answers once its event is stored, waiting at most a
// moment for the projection; under load the projection can be further
// behind. A read of that seeker must then wait for it, not answer "no
// seeker": credentials checked a seeker that way and refused a credential
// write made right after the profile's 200 (issue 14, seeding 100,000
// seekers). Redis's CLIENT PAUSE WRITE holds the projection back.
func TestASeekerJustWrittenIsFoundWhileTheProjectionLags(t *testing.T) {
	p := start(t, profiles.Options{})
	ctx := context.Background()
	if err := p.Redis.Do(ctx, "CLIENT", "PAUSE", "3500", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Redis.Do(ctx, "CLIENT", "UNPAUSE").Err() })
	t0 := time.Now()
	do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "lagging", Skills: []string{"indexing"}}})
	if time.Since(t0) > 3*time.Second {
		t.Skip("the write waited out the pause: the projection did not lag behind its answer")
	}
	got, err := profilesapi.SeekerGet.Call(ctx, p.NC, profilesapi.SeekerRef{ID: "lagging"})
	if err != nil {
		t.Fatalf("a seeker whose write was acknowledged %s ago: %v", time.Since(t0).Round(time.Millisecond), err)
	}
	if got.ID != "lagging" || len(got.Skills) != 1 {
		t.Fatalf("read %+v", got)
	}
}

// A deleted seeker, and one never written, are "no seeker" at once: the
// wait above is only for events the projection has not applied.
func TestADeletedSeekerIsNotFoundWithoutWaiting(t *testing.T) {
	p := start(t, profiles.Options{})
	ctx := context.Background()
	do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "leaving"}})
	do(t, p.NC, profilesapi.Delete, profilesapi.SeekerRef{ID: "leaving"})
	for _, id := range []string{"leaving", "never-written"} {
		t0 := time.Now()
		_, err := profilesapi.SeekerGet.Call(ctx, p.NC, profilesapi.SeekerRef{ID: id})
		if apierr.CodeOf(err) != apierr.NotFound {
			t.Fatalf("%s: %v", id, err)
		}
		if d := time.Since(t0); d > time.Second {
			t.Fatalf("%s: not found after %s: the read waited for nothing", id, d)
		}
	}
}
