package profiles_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/testenv"
	"github.com/clerkpath/clerkpath/services/profiles"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// start runs the service on a test's own servers until the test ends.
func start(t *testing.T, opts profiles.Options) *testenv.Servers {
	t.Helper()
	srv := testenv.Open(t, testenv.Needs{Streams: true, Redis: true})
	serve(t, srv.NC, srv.JS, srv.Redis, opts)
	return srv
}

// startCopy runs one copy of the service on its own connections to cfg's
// servers (several copies may share them) until the test ends.
func startCopy(t *testing.T, cfg config.Config, name string) *platform.Platform {
	t.Helper()
	p, err := platform.Open(context.Background(), cfg, name, platform.Needs{Redis: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	serve(t, p.NC, p.JS, p.Redis, fastGenerations)
	return p
}

func serve(t *testing.T, nc *nats.Conn, js jetstream.JetStream, rdb *redis.Client, opts profiles.Options) {
	t.Helper()
	s, err := profiles.New(nc, js, rdb, zerolog.Nop(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	testenv.Eventually(t, 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return rpc.Serving(ctx, nc, "profiles", profilesapi.Endpoints())
	})
}

// do calls an endpoint of the service and fails the test on an error.
func do[Req, Rep any](t *testing.T, nc *nats.Conn, e rpc.Endpoint[Req, Rep], req Req) Rep {
	t.Helper()
	out, err := e.Call(context.Background(), nc, req)
	if err != nil {
		t.Fatalf("%s: %v", e.Name, err)
	}
	return out
}

func TestContactDetailsNeverInTheClearAndDeletionShredsThem(t *testing.T) {
	p := start(t, profiles.Options{})
	ctx := context.Background()
	const email = "zelda.quist.7731@example.org"
	do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "s1", OpenToEmployers: true}})
	do(t, p.NC, profilesapi.ContactPut, profilesapi.ContactRequest{ID: "s1", Contact: profile.Contact{DisplayName: "Zelda Quist", Email: email, Phone: "+1 555 0100"}})
	got := do(t, p.NC, profilesapi.ContactGet, profilesapi.SeekerRef{ID: "s1"})
	if got.Email != email {
		t.Fatalf("contact %+v", got)
	}
	// Neither the event log nor Redis holds the e-mail in the clear.
	assertNowhere := func(needle string) {
		t.Helper()
		st, _ := p.JS.Stream(ctx, events.StreamProfiles)
		info, _ := st.Info(ctx)
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
			m, err := st.GetMsg(ctx, seq)
			if err == nil && bytes.Contains(m.Data, []byte(needle)) {
				t.Fatalf("PROFILES message %d holds %q in the clear", seq, needle)
			}
		}
		keys, _ := p.Redis.Keys(ctx, "*").Result()
		for _, k := range keys {
			dump, _ := p.Redis.Dump(ctx, k).Result()
			if bytes.Contains([]byte(dump), []byte(needle)) {
				t.Fatalf("redis key %s holds %q in the clear", k, needle)
			}
		}
	}
	assertNowhere(email)
	assertNowhere("Zelda")

	do(t, p.NC, profilesapi.Delete, profilesapi.SeekerRef{ID: "s1"})
	_, err := profilesapi.SeekerGet.Call(ctx, p.NC, profilesapi.SeekerRef{ID: "s1"})
	if apierr.CodeOf(err) != apierr.NotFound {
		t.Fatalf("after delete: %v, want not found", err)
	}
	// The id cannot be reused: its key is gone for good.
	_, err = profilesapi.SeekerPut.Call(ctx, p.NC, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "s1"}})
	if apierr.CodeOf(err) != apierr.Conflict {
		t.Fatalf("reuse after delete: %v, want conflict", err)
	}
	// Redis loses its data: reads answer 503 (never 404 for a seeker who
	// exists) while the service rebuilds the projection by itself, and the
	// replay of the whole stream does not resurrect the deleted seeker.
	do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "kept"}})
	if err := p.Redis.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	sawUnavailable := false
	testenv.Eventually(t, 10*time.Second, func() error {
		_, err := profilesapi.SeekerGet.Call(ctx, p.NC, profilesapi.SeekerRef{ID: "kept"})
		switch apierr.CodeOf(err) {
		case apierr.Unavailable:
			sawUnavailable = true
		case apierr.NotFound:
			t.Fatalf("an existing seeker answered 404 after Redis lost its data: %v", err)
		}
		return err
	})
	t.Logf("answered 503 while rebuilding: %v", sawUnavailable)
	if _, err := profilesapi.SeekerGet.Call(ctx, p.NC, profilesapi.SeekerRef{ID: "s1"}); apierr.CodeOf(err) != apierr.NotFound {
		t.Fatalf("after replay: %v", err)
	}
}

func TestCounselorLinksAndConsent(t *testing.T) {
	p := start(t, profiles.Options{})
	do(t, p.NC, profilesapi.SeekerPut, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "s2"}})
	rel := do(t, p.NC, profilesapi.CounselorLink, profilesapi.CounselorLinkRequest{ID: "s2", Counselor: "c1", Linked: true})
	if len(rel.Counselors) != 1 || rel.Counselors[0] != "c1" {
		t.Fatalf("relations %+v", rel)
	}
	cl := do(t, p.NC, profilesapi.CaseloadGet, profilesapi.CaseloadRequest{Counselor: "c1"})
	if len(cl.Seekers) != 1 || cl.Seekers[0] != "s2" {
		t.Fatalf("caseload %+v", cl)
	}
	rel = do(t, p.NC, profilesapi.Consent, profilesapi.ConsentRequest{ID: "s2", Employer: "acme", Granted: true})
	if len(rel.Employers) != 1 {
		t.Fatalf("consent %+v", rel)
	}
	do(t, p.NC, profilesapi.CounselorLink, profilesapi.CounselorLinkRequest{ID: "s2", Counselor: "c1"})
	cl = do(t, p.NC, profilesapi.CaseloadGet, profilesapi.CaseloadRequest{Counselor: "c1"})
	if len(cl.Seekers) != 0 {
		t.Fatalf("caseload after unlink %+v", cl)
	}
	// Deleting the seeker removes them from every caseload.
	do(t, p.NC, profilesapi.CounselorLink, profilesapi.CounselorLinkRequest{ID: "s2", Counselor: "c9", Linked: true})
	do(t, p.NC, profilesapi.Delete, profilesapi.SeekerRef{ID: "s2"})
	cl = do(t, p.NC, profilesapi.CaseloadGet, profilesapi.CaseloadRequest{Counselor: "c9"})
	if len(cl.Seekers) != 0 {
		t.Fatalf("caseload after delete %+v", cl)
	}
	_, err := profilesapi.Consent.Call(context.Background(), p.NC, profilesapi.ConsentRequest{ID: "nobody", Employer: "acme", Granted: true})
	if apierr.CodeOf(err) != apierr.NotFound {
		t.Fatalf("consent for unknown seeker: %v", err)
	}
}

// A field of study is free text: the profile answers with its class, a
// document stored before classes existed gets one on read, and nonsense is
// a field-level error.
func TestEducationFieldOfStudy(t *testing.T) {
	p := start(t, profiles.Options{})
	ctx := context.Background()
	put := profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "f1", Education: []profile.Education{
		{Level: "associate", Field: "Health Information Technology", CAHIIMAccredited: true, Status: "completed"},
		{Level: "bachelor", Field: "Business", Status: "completed"},
	}}}
	got := do(t, p.NC, profilesapi.SeekerPut, put)
	if len(got.Education) != 2 || got.Education[0].FieldClass != "HIM" || got.Education[1].FieldClass != "other" {
		t.Fatalf("put answered %+v, want field classes HIM and other", got.Education)
	}
	if g := do(t, p.NC, profilesapi.SeekerGet, profilesapi.SeekerRef{ID: "f1"}); g.Education[0].FieldClass != "HIM" {
		t.Fatalf("get answered %+v", g.Education)
	}
	// A projection document without classes (written before they existed).
	old := `{"id":"f2","education":[{"level":"certificate","field":"Medical Billing and Coding","status":"completed"}],"experience":[],"trainings":[],"skills":[],"ehr_systems":[],"code_sets":[],"radius_miles":25,"remote_preference":"any","open_to_employers":false,"version":0}`
	gen, err := p.Redis.Get(ctx, "clerkpath:profiles:gen").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Redis.HSet(ctx, "clerkpath:profiles:g"+gen+":seeker:f2", "doc", old, "version", "1").Err(); err != nil {
		t.Fatal(err)
	}
	if g := do(t, p.NC, profilesapi.SeekerGet, profilesapi.SeekerRef{ID: "f2"}); len(g.Education) != 1 || g.Education[0].FieldClass != "coding" {
		t.Fatalf("old document answered %+v, want class coding", g.Education)
	}
	_, err = profilesapi.SeekerPut.Call(ctx, p.NC, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "f3",
		Education: []profile.Education{{Level: "associate", Field: "asdfgh", Status: "completed"}}}})
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != apierr.Invalid || len(ae.Fields) != 1 || ae.Fields[0].Field != "education[0].field" ||
		!strings.Contains(ae.Fields[0].Message, "Health Information Technology") {
		t.Fatalf("nonsense field: %v, want a field error on education[0].field with examples", err)
	}
}
