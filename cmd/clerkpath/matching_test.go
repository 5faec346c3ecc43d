package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/natsx"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// events returns the test's own JetStream connection and the seekers'
// keyring, opened once per stack and closed with the test.
func (s *stack) events(t testing.TB) (jetstream.JetStream, *shred.Keyring) {
	t.Helper()
	if s.js == nil {
		ctx := context.Background()
		nc, err := natsx.Connect(ctx, s.cfg.NATSURL, "test", zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := shred.Open(ctx, js, 1)
		if err != nil {
			t.Fatal(err)
		}
		s.js, s.keys = js, keys
	}
	return s.js, s.keys
}

// earn records a credential the way the credentials service does: a
// credentials.earned event sealed with the seeker's key.
func (s *stack) earn(t *testing.T, seeker, code string) {
	t.Helper()
	ctx := context.Background()
	js, keys := s.events(t)
	sealed, err := keys.Seal(ctx, seeker, profile.CredentialChange{SeekerID: seeker, Credential: &profile.CredentialRecord{Code: code, EarnedOn: "2026-11-01"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Publish(ctx, js, events.Event{Subject: events.CredentialsEarned, ID: "earned:" + seeker + ":" + code, Source: "test", Payload: sealed}); err != nil {
		t.Fatal(err)
	}
}

// found returns the posting ids announced to a seeker: in matches.found
// messages and in the entries of matches.found.batch ones.
func (s *stack) found(t *testing.T, seeker string) []string {
	t.Helper()
	ctx := context.Background()
	js, keys := s.events(t)
	st, err := js.Stream(ctx, events.StreamMatches)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := st.Info(ctx)
	var out []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		var sealed []shred.Sealed
		if b, err := matchingapi.MatchesFoundBatch.Decode(m.Data); m.Subject == matchingapi.MatchesFoundBatch.Subject && err == nil {
			for _, a := range b.Announcements {
				sealed = append(sealed, a.Sealed)
			}
		} else if one := (shred.Sealed{}); json.Unmarshal(m.Data, &one) == nil {
			sealed = append(sealed, one)
		}
		for _, sd := range sealed {
			var f matchingapi.Found
			if sd.Subject == keys.Pseudonym(seeker) && keys.Open(ctx, sd, &f) == nil {
				out = append(out, f.Postings...)
			}
		}
	}
	return out
}

type matchesBody struct {
	Matches []struct {
		PostingID  string `json:"posting_id"`
		Score      float64
		Summary    string
		Components []struct{ Name, Detail string }
	} `json:"matches"`
	NearMisses []struct {
		PostingID string `json:"posting_id"`
		Missing   []struct{ Kind, Detail string }
		Closers   []struct{ Code, Text string }
	} `json:"near_misses"`
	LocationNote string `json:"location_note"`
}

func (s *stack) postOne(t testing.TB, tok []string, body string) string {
	t.Helper()
	code, _, b := s.do(t, "POST", "/v1/postings", "application/json", body, tok...)
	if code != http.StatusCreated {
		t.Fatalf("POST posting: %d %s", code, b)
	}
	var out struct {
		Accepted []struct{ ID string } `json:"accepted"`
	}
	_ = json.Unmarshal(b, &out)
	id := out.Accepted[0].ID
	// 30 s, as the tests' other waits for a posting to be searchable: the
	// package's stacks share one Meilisearch, which under make test's load
	// (every package at once on two cores) once took over 10 s.
	testenv.Eventually(t, 30*time.Second, func() error {
		if code, _, _ := s.do(t, "GET", "/v1/postings/"+id, "", ""); code != 200 {
			return fmt.Errorf("posting %s not indexed", id)
		}
		return nil
	})
	return id
}

// The journey: a seeker with CCA but no RHIT sees RHIT-required
// postings only as near misses with the RHIT step attached; earning RHIT
// moves them into matches and emits matches.found; an employer sees the
// seeker only after they opt in.
func TestMatchingJourney(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	today := time.Now().UTC().Format("2006-01-02")
	emp := bearer(s.token(t, "employer", "e-1", "mercy"))
	rhitJob := s.postOne(t, emp, `{"title":"Health Information Technician","description":"RHIT required. ICD-10-CM coding and chart analysis.","employer":"Mercy","postal_code":"10001","date_posted":"`+today+`","salary_min":24,"salary_max":28,"salary_unit":"HOUR"}`)
	clerkJob := s.postOne(t, emp, `{"title":"Medical Records Clerk","description":"High school diploma required. Scanning and indexing.","employer":"Mercy","postal_code":"10002","date_posted":"`+today+`"}`)
	farJob := s.postOne(t, emp, `{"title":"Medical Records Clerk","description":"High school diploma required.","employer":"Mercy","postal_code":"60601","date_posted":"`+today+`"}`)

	me := bearer(s.token(t, "seeker", "ana", ""))
	profile := `{"education":[{"level":"high_school","status":"completed"}],"skills":["chart_analysis"],"code_sets":["ICD-10-CM"],"location":{"postal_code":"10001"},"radius_miles":25,"open_to_employers":false}`
	if code, _, b := s.do(t, "PUT", "/v1/seekers/ana", "application/json", profile, me...); code != 200 {
		t.Fatalf("profile: %d %s", code, b)
	}
	s.earn(t, "ana", "CCA")

	get := func() matchesBody {
		code, _, b := s.do(t, "GET", "/v1/seekers/ana/matches", "", "", me...)
		if code != 200 {
			t.Fatalf("matches: %d %s", code, b)
		}
		var m matchesBody
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	ids := func(m matchesBody) []string {
		var out []string
		for _, r := range m.Matches {
			out = append(out, r.PostingID)
		}
		return out
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		m := get()
		if !slices.Contains(ids(m), clerkJob) || slices.Contains(ids(m), rhitJob) || slices.Contains(ids(m), farJob) {
			return fmt.Errorf("matches %v", ids(m))
		}
		if len(m.NearMisses) != 1 || m.NearMisses[0].PostingID != rhitJob {
			return fmt.Errorf("near misses %+v", m.NearMisses)
		}
		return nil
	})
	m := get()
	nm := m.NearMisses[0]
	if len(nm.Closers) != 1 || nm.Closers[0].Code != "RHIT" || !strings.Contains(nm.Closers[0].Text, "Eligible after RHIT") {
		t.Fatalf("near miss closers %+v", nm.Closers)
	}
	if len(m.Matches[0].Components) != 6 || m.Matches[0].Summary == "" {
		t.Fatalf("match is not explained: %+v", m.Matches[0])
	}
	// Determinism: the same data, the same answer, byte for byte.
	_, _, b1 := s.do(t, "GET", "/v1/seekers/ana/matches", "", "", me...)
	_, _, b2 := s.do(t, "GET", "/v1/seekers/ana/matches", "", "", me...)
	if string(b1) != string(b2) {
		t.Fatalf("same data, different answers:\n%s\n%s", b1, b2)
	}

	// The employer does not see the seeker: not opted in.
	candidates := func() string {
		code, _, b := s.do(t, "GET", "/v1/postings/"+clerkJob+"/candidates", "", "", emp...)
		if code != 200 {
			t.Fatalf("candidates: %d %s", code, b)
		}
		return string(b)
	}
	if strings.Contains(candidates(), `"ana"`) {
		t.Fatal("an employer sees a seeker who did not opt in")
	}

	// Earning RHIT moves the RHIT job into matches and announces it.
	s.earn(t, "ana", "RHIT")
	testenv.Eventually(t, 10*time.Second, func() error {
		if !slices.Contains(ids(get()), rhitJob) {
			return fmt.Errorf("RHIT job not matched yet: %v", ids(get()))
		}
		if !slices.Contains(s.found(t, "ana"), rhitJob) {
			return fmt.Errorf("no matches.found for the RHIT job: %v", s.found(t, "ana"))
		}
		return nil
	})

	// Opting in makes the seeker a candidate, without contact details.
	optIn := strings.Replace(profile, `"open_to_employers":false`, `"open_to_employers":true`, 1)
	if code, _, b := s.do(t, "PUT", "/v1/seekers/ana", "application/json", optIn, me...); code != 200 {
		t.Fatalf("opt in: %d %s", code, b)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if c := candidates(); !strings.Contains(c, `"seeker_id":"ana"`) {
			return fmt.Errorf("candidates %s", c)
		}
		return nil
	})
	if c := candidates(); strings.Contains(c, "email") || strings.Contains(c, "display_name") || strings.Contains(c, "phone") {
		t.Fatalf("candidates carry contact fields: %s", c)
	}
	// The export holds what every service keeps about the seeker.
	testenv.Eventually(t, 10*time.Second, func() error {
		code, _, b := s.do(t, "GET", "/v1/seekers/ana/export", "", "", me...)
		if code != 200 || !strings.Contains(string(b), `"RHIT"`) || !strings.Contains(string(b), rhitJob) {
			return fmt.Errorf("export %d: %s", code, b)
		}
		return nil
	})
}

func TestMatchesBadInputAndNoLocation(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	me := bearer(s.token(t, "seeker", "bo", ""))
	if code, _, b := s.do(t, "PUT", "/v1/seekers/bo", "application/json", `{"education":[{"level":"high_school","status":"completed"}]}`, me...); code != 200 {
		t.Fatalf("profile: %d %s", code, b)
	}
	var m matchesBody
	testenv.Eventually(t, 5*time.Second, func() error {
		code, _, b := s.do(t, "GET", "/v1/seekers/bo/matches", "", "", me...)
		if code != 200 {
			return fmt.Errorf("%d %s", code, b)
		}
		return json.Unmarshal(b, &m)
	})
	if !strings.Contains(m.LocationNote, "only remote postings") {
		t.Fatalf("location note %q", m.LocationNote)
	}
	for _, q := range []string{"limit=1000", "radius_miles=9999", "limit=abc"} {
		code, _, b := s.do(t, "GET", "/v1/seekers/bo/matches?"+q, "", "", me...)
		if code != 400 || !strings.Contains(string(b), "between") && !strings.Contains(string(b), "whole number") {
			t.Fatalf("%s: %d %s", q, code, b)
		}
	}
	admin := bearer(s.token(t, "admin", "root", ""))
	if code, _, _ := s.do(t, "GET", "/v1/seekers/nobody/matches", "", "", admin...); code != 404 {
		t.Fatalf("unknown seeker: %d", code)
	}
	if code, _, _ := s.do(t, "GET", "/v1/postings/nope/candidates", "", "", admin...); code != 404 {
		t.Fatalf("unknown posting: %d", code)
	}
	if code, _, b := s.do(t, "GET", "/v1/market?zip=10001&radius_miles=5000", "", "", me...); code != 400 {
		t.Fatalf("absurd market radius: %d %s", code, b)
	}
}
