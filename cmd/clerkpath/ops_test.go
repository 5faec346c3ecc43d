package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/contract/credentialsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func (s *stack) opsEnv(k string) string {
	switch k {
	case config.EnvNATSURL:
		return s.cfg.NATSURL
	case config.EnvRedisURL:
		return s.cfg.RedisURL
	case config.EnvMeiliURL:
		return s.cfg.MeiliURL
	case config.EnvMeiliKey:
		return s.cfg.MeiliKey
	case config.EnvIndexPrefix:
		return s.cfg.IndexPrefix
	}
	return ""
}

func TestRebuildPostingsIndexReplaysTheStream(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	emp := bearer(s.token(t, "employer", "e-1", "mercy"))
	id := s.postOne(t, emp, `{"title":"Cancer Registrar","description":"CTR required.","employer":"Mercy","postal_code":"95814","date_posted":"`+time.Now().UTC().Format("2006-01-02")+`"}`)
	out, stderr, err := runCLI(t, s.opsEnv, "rebuild", "postings-index")
	if err != nil {
		t.Fatalf("rebuild: %v %s", err, stderr)
	}
	if !strings.Contains(out, "replays JOBS") {
		t.Fatalf("rebuild said %q", out)
	}
	testenv.Eventually(t, 15*time.Second, func() error {
		if code, _, _ := s.do(t, "GET", "/v1/postings/"+id, "", ""); code != 200 {
			return fmt.Errorf("posting not back in the index (%d)", code)
		}
		return nil
	})
}

func TestDeadLettersCanBeListedAndReplayed(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	nc, err := nats.Connect(s.cfg.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	// A posting event that can never be indexed.
	if _, err := events.Publish(context.Background(), js, events.Event{Subject: events.JobsPosted, ID: "poison-1", Payload: map[string]any{"title": "no id"}}); err != nil {
		t.Fatal(err)
	}
	var entry dlqEntry
	testenv.Eventually(t, 10*time.Second, func() error {
		out, _, err := runCLI(t, s.opsEnv, "dlq", "list")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if json.Unmarshal([]byte(line), &entry) == nil && entry.EventID == "poison-1" {
				return nil
			}
		}
		return fmt.Errorf("not dead-lettered yet: %q", out)
	})
	if entry.Subject != events.JobsPosted || entry.Consumer != "matching-postings-index" || !strings.Contains(entry.Reason, "does not parse") && !strings.Contains(entry.Reason, "poison") {
		t.Fatalf("entry %+v", entry)
	}
	out, stderr, err := runCLI(t, s.opsEnv, "dlq", "replay", fmt.Sprint(entry.Seq))
	if err != nil || !strings.Contains(out, "replayed") {
		t.Fatalf("replay: %v %s %s", err, out, stderr)
	}
	// Still poison: it comes back to the DLQ under a new sequence.
	testenv.Eventually(t, 10*time.Second, func() error {
		out, _, _ := runCLI(t, s.opsEnv, "dlq", "list")
		var seqs []uint64
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var e dlqEntry
			if json.Unmarshal([]byte(line), &e) == nil && e.EventID == "poison-1" {
				seqs = append(seqs, e.Seq)
			}
		}
		if len(seqs) != 1 || seqs[0] == entry.Seq {
			return fmt.Errorf("dlq entries for the event: %v (replayed %d)", seqs, entry.Seq)
		}
		return nil
	})
}

func TestSeedLoadsDemoDataThatMatches(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	getenv := func(k string) string {
		if k == config.EnvZCTAFile {
			return s.cfg.ZCTAFile
		}
		return s.opsEnv(k)
	}
	out, stderr, err := runCLI(t, getenv, "seed", "--postings", "30")
	if err != nil || !strings.Contains(out, "30 demo postings accepted (0 rejected)") {
		t.Fatalf("seed: %v\n%s\n%s", err, out, stderr)
	}
	tok := bearer(s.token(t, "seeker", "demo-cho", ""))
	testenv.Eventually(t, 15*time.Second, func() error {
		code, _, b := s.do(t, "GET", "/v1/seekers/demo-cho/matches", "", "", tok...)
		var m matchesBody
		if code != 200 || json.Unmarshal(b, &m) != nil || len(m.Matches) == 0 {
			return fmt.Errorf("%d %s", code, b)
		}
		return nil
	})
}

func TestStreamsShowsReplication(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	out, _, err := runCLI(t, s.opsEnv, "streams")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"JOBS", "PROFILES", "SUBJECT_KEYS"} {
		if !strings.Contains(out, name) || !strings.Contains(out, "replicas 1") {
			t.Errorf("streams output lacks %s with its replicas:\n%s", name, out)
		}
	}
	if _, _, err := runCLI(t, s.opsEnv, "streams", "--replicas", "9"); err == nil {
		t.Error("--replicas 9 accepted")
	}
}

// TestRebuildAllAsksTheOwnersAndKeepsServing: `clerkpath rebuild all`
// asks the profiles and credentials services to build new generations,
// follows them to the end, and a seeker's profile and records answer
// throughout and after.
func TestRebuildAllAsksTheOwnersAndKeepsServing(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	nc, err := nats.Connect(s.cfg.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	if _, err := profilesapi.SeekerPut.Call(ctx, nc, profilesapi.PutSeekerRequest{Seeker: profile.Seeker{ID: "rb-1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := credentialsapi.Earn.Call(ctx, nc, credentialsapi.EarnRequest{SeekerID: "rb-1",
		Credential: profile.CredentialRecord{Code: "RHIT", EarnedOn: "2024-01-01"}}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(readErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := profilesapi.SeekerGet.Call(ctx, nc, profilesapi.SeekerRef{ID: "rb-1"}); err != nil {
				readErr <- fmt.Errorf("profile during rebuild: %w", err)
				return
			}
			recs, err := credentialsapi.Records.Call(ctx, nc, credentialsapi.SeekerRef{SeekerID: "rb-1"})
			if err != nil || len(recs.Credentials) != 1 {
				readErr <- fmt.Errorf("records during rebuild: %+v %v", recs, err)
				return
			}
		}
	}()
	out, stderr, err := runCLI(t, s.opsEnv, "rebuild", "-progress", "all")
	close(stop)
	if err != nil {
		t.Fatalf("rebuild all: %v\n%s", err, stderr)
	}
	if e := <-readErr; e != nil {
		t.Fatal(e)
	}
	for _, want := range []string{"profiles: generation 2 serves", "credentials: generation 2 serves"} {
		if !strings.Contains(out, want) {
			t.Fatalf("rebuild all said %q, want %q", out, want)
		}
	}
	if !strings.Contains(stderr, "generation 2") {
		t.Errorf("no progress bar on stderr: %q", stderr)
	}
}

// TestRebuildFailsClearlyWithoutItsService: with nobody serving the
// projection, the command exits non-zero and says why.
func TestRebuildFailsClearlyWithoutItsService(t *testing.T) {
	t.Parallel()
	cfg := testenv.Open(t, testenv.Needs{NATS: true}).Config
	getenv := func(k string) string {
		if k == config.EnvNATSURL {
			return cfg.NATSURL
		}
		return ""
	}
	_, _, err := runCLI(t, getenv, "rebuild", "-timeout", "5s", "credentials")
	if err == nil || !strings.Contains(err.Error(), "rebuild credentials: ask for a rebuild (is the service running?)") {
		t.Fatalf("rebuild without the service: %v", err)
	}
	if _, _, err := runCLI(t, getenv, "rebuild", "caseloads"); err == nil {
		t.Fatal("an unknown projection was accepted")
	}
}
