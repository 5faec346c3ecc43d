package profiles_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/testenv"
	"github.com/clerkpath/clerkpath/services/profiles"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

func start(t *testing.T) *platform.Platform {
	t.Helper()
	cfg := env.Fresh(t)
	ctx, cancel := context.WithCancel(context.Background())
	p, err := platform.Open(ctx, cfg, "profiles", platform.Needs{Redis: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- profiles.Run(ctx, p) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		p.Close()
	})
	testenv.Eventually(t, 5*time.Second, func() error {
		_, err := p.NC.Request("$SRV.PING.profiles", nil, time.Second)
		return err
	})
	return p
}

func call[T any](t *testing.T, p *platform.Platform, subject string, req any) T {
	t.Helper()
	out, err := rpc.Call[T](context.Background(), p.NC, subject, req)
	if err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
	return out
}

func TestContactDetailsNeverInTheClearAndDeletionShredsThem(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	const email = "zelda.quist.7731@example.org"
	call[profile.Seeker](t, p, profiles.SubjectSeekerPut, map[string]any{"seeker": map[string]any{"id": "s1", "open_to_employers": true}})
	call[profile.Contact](t, p, profiles.SubjectContactPut, map[string]any{"id": "s1", "contact": map[string]any{"display_name": "Zelda Quist", "email": email, "phone": "+1 555 0100"}})
	got := call[profile.Contact](t, p, profiles.SubjectContactGet, map[string]any{"id": "s1"})
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

	call[map[string]any](t, p, profiles.SubjectDelete, map[string]any{"id": "s1"})
	_, err := rpc.Call[profile.Seeker](ctx, p.NC, profiles.SubjectSeekerGet, map[string]any{"id": "s1"})
	if apierr.CodeOf(err) != apierr.NotFound {
		t.Fatalf("after delete: %v, want not found", err)
	}
	// The id cannot be reused: its key is gone for good.
	_, err = rpc.Call[profile.Seeker](ctx, p.NC, profiles.SubjectSeekerPut, map[string]any{"seeker": map[string]any{"id": "s1"}})
	if apierr.CodeOf(err) != apierr.Conflict {
		t.Fatalf("reuse after delete: %v, want conflict", err)
	}
	// Redis loses its data: reads answer 503 (never 404 for a seeker who
	// exists) while the service rebuilds the projection by itself, and the
	// replay of the whole stream does not resurrect the deleted seeker.
	call[profile.Seeker](t, p, profiles.SubjectSeekerPut, map[string]any{"seeker": map[string]any{"id": "kept"}})
	if err := p.Redis.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	sawUnavailable := false
	testenv.Eventually(t, 10*time.Second, func() error {
		_, err := rpc.Call[profile.Seeker](ctx, p.NC, profiles.SubjectSeekerGet, map[string]any{"id": "kept"})
		switch apierr.CodeOf(err) {
		case apierr.Unavailable:
			sawUnavailable = true
		case apierr.NotFound:
			t.Fatalf("an existing seeker answered 404 after Redis lost its data: %v", err)
		}
		return err
	})
	t.Logf("answered 503 while rebuilding: %v", sawUnavailable)
	if _, err := rpc.Call[profile.Seeker](ctx, p.NC, profiles.SubjectSeekerGet, map[string]any{"id": "s1"}); apierr.CodeOf(err) != apierr.NotFound {
		t.Fatalf("after replay: %v", err)
	}
}

func TestCounselorLinksAndConsent(t *testing.T) {
	p := start(t)
	call[profile.Seeker](t, p, profiles.SubjectSeekerPut, map[string]any{"seeker": map[string]any{"id": "s2"}})
	rel := call[profile.Relations](t, p, profiles.SubjectCounselorLink, map[string]any{"id": "s2", "counselor": "c1", "linked": true})
	if len(rel.Counselors) != 1 || rel.Counselors[0] != "c1" {
		t.Fatalf("relations %+v", rel)
	}
	cl := call[struct{ Seekers []string }](t, p, profiles.SubjectCaseload, map[string]any{"counselor": "c1"})
	if len(cl.Seekers) != 1 || cl.Seekers[0] != "s2" {
		t.Fatalf("caseload %+v", cl)
	}
	rel = call[profile.Relations](t, p, profiles.SubjectConsent, map[string]any{"id": "s2", "employer": "acme", "granted": true})
	if len(rel.Employers) != 1 {
		t.Fatalf("consent %+v", rel)
	}
	call[profile.Relations](t, p, profiles.SubjectCounselorLink, map[string]any{"id": "s2", "counselor": "c1", "linked": false})
	cl = call[struct{ Seekers []string }](t, p, profiles.SubjectCaseload, map[string]any{"counselor": "c1"})
	if len(cl.Seekers) != 0 {
		t.Fatalf("caseload after unlink %+v", cl)
	}
	// Deleting the seeker removes them from every caseload.
	call[profile.Relations](t, p, profiles.SubjectCounselorLink, map[string]any{"id": "s2", "counselor": "c9", "linked": true})
	call[map[string]any](t, p, profiles.SubjectDelete, map[string]any{"id": "s2"})
	cl = call[struct{ Seekers []string }](t, p, profiles.SubjectCaseload, map[string]any{"counselor": "c9"})
	if len(cl.Seekers) != 0 {
		t.Fatalf("caseload after delete %+v", cl)
	}
	_, err := rpc.Call[profile.Relations](context.Background(), p.NC, profiles.SubjectConsent, map[string]any{"id": "nobody", "employer": "acme", "granted": true})
	if apierr.CodeOf(err) != apierr.NotFound {
		t.Fatalf("consent for unknown seeker: %v", err)
	}
}

// A field of study is free text: the profile answers with its class, a
// document stored before classes existed gets one on read, and nonsense is
// a field-level error.
func TestEducationFieldOfStudy(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	put := map[string]any{"seeker": map[string]any{"id": "f1", "education": []map[string]any{
		{"level": "associate", "field": "Health Information Technology", "cahiim_accredited": true, "status": "completed"},
		{"level": "bachelor", "field": "Business", "status": "completed"},
	}}}
	got := call[profile.Seeker](t, p, profiles.SubjectSeekerPut, put)
	if len(got.Education) != 2 || got.Education[0].FieldClass != "HIM" || got.Education[1].FieldClass != "other" {
		t.Fatalf("put answered %+v, want field classes HIM and other", got.Education)
	}
	if g := call[profile.Seeker](t, p, profiles.SubjectSeekerGet, map[string]any{"id": "f1"}); g.Education[0].FieldClass != "HIM" {
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
	if g := call[profile.Seeker](t, p, profiles.SubjectSeekerGet, map[string]any{"id": "f2"}); len(g.Education) != 1 || g.Education[0].FieldClass != "coding" {
		t.Fatalf("old document answered %+v, want class coding", g.Education)
	}
	_, err = rpc.Call[profile.Seeker](ctx, p.NC, profiles.SubjectSeekerPut, map[string]any{"seeker": map[string]any{"id": "f3",
		"education": []map[string]any{{"level": "associate", "field": "asdfgh", "status": "completed"}}}})
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != apierr.Invalid || len(ae.Fields) != 1 || ae.Fields[0].Field != "education[0].field" ||
		!strings.Contains(ae.Fields[0].Message, "Health Information Technology") {
		t.Fatalf("nonsense field: %v, want a field error on education[0].field with examples", err)
	}
}
