package main

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// TestDeletedSeekerLeavesNoIDInTheNATSStore is issue 13's erasure check: a
// seeker with a distinctive id writes their profile, contact details,
// consent, a counselor link, a note and a credential, is read by their
// counselor and an employer (access log) and matched (an announcement in
// a matches.found.batch, which stays: its entry is sealed); once
// they are deleted and every consumer has caught up, no file of the NATS
// server's store directory holds the id's bytes.
func TestDeletedSeekerLeavesNoIDInTheNATSStore(t *testing.T) {
	own := testenv.Open(t, testenv.Needs{NATS: true})
	s := startStack(t, func(c *config.Config) { c.NATSURL = own.Config.NATSURL })
	x := randomSuffix()
	id, counselor, org := "zqv-erasure-"+x, "c-erasure-"+x, "o-erasure-"+x
	me := bearer(s.token(t, "seeker", id, ""))
	coach := bearer(s.token(t, "counselor", counselor, ""))
	emp := bearer(s.token(t, "employer", "e-"+x, org))
	today := time.Now().UTC().Format(time.DateOnly)
	job := s.postOne(t, emp, `{"title":"Medical Records Clerk","description":"High school diploma required. Scanning and indexing.","employer":"Mercy","postal_code":"10001","date_posted":"`+today+`"}`)

	profile := `{"education":[{"level":"high_school","status":"completed"}],"skills":["scanning"],"location":{"postal_code":"10001"},"radius_miles":25,"open_to_employers":true}`
	must := func(want int, method, path, body string, tok []string) {
		t.Helper()
		if code, _, b := s.do(t, method, path, "application/json", body, tok...); code != want {
			t.Fatalf("%s %s: %d %s", method, path, code, b)
		}
	}
	must(200, "PUT", "/v1/seekers/"+id, profile, me)
	must(200, "PUT", "/v1/seekers/"+id, strings.Replace(profile, `"scanning"`, `"scanning","indexing"`, 1), me)
	must(200, "PUT", "/v1/seekers/"+id+"/contact", `{"display_name":"Zed Erasure","email":"zed.`+x+`@example.org"}`, me)
	must(200, "PUT", "/v1/seekers/"+id+"/consents/"+org, "", me)
	must(200, "PUT", "/v1/seekers/"+id+"/counselors/"+counselor, "", me)
	must(201, "POST", "/v1/seekers/"+id+"/notes", `{"text":"Call about the clerk opening."}`, coach)
	must(201, "POST", "/v1/seekers/"+id+"/credentials", `{"code":"CCA","earned_on":"2024-01-01"}`, me)
	// Others read the seeker: access records.
	must(200, "GET", "/v1/seekers/"+id, "", coach)
	must(200, "GET", "/v1/seekers/"+id+"/contact", "", emp)
	testenv.Eventually(t, 30*time.Second, func() error {
		if found := s.found(t, id); len(found) == 0 {
			return fmt.Errorf("no announcement to %s yet (posting %s)", id, job)
		}
		if code, _, b := s.do(t, "GET", "/v1/postings/"+job+"/candidates", "", "", emp...); code != 200 || !strings.Contains(string(b), id) {
			return fmt.Errorf("candidates: %d %s", code, b)
		}
		return nil
	})
	code, _, b := s.do(t, "GET", "/v1/seekers/"+id+"/access-log", "", "", me...)
	if code != 200 || strings.Count(string(b), `"actor"`) < 3 {
		t.Fatalf("access log: %d %s", code, b)
	}
	store := own.NATS.StoreDir()
	if holders := filesHolding(t, store, counselor); len(holders) == 0 {
		t.Fatalf("the store scan finds no file holding the counselor's id %s (in their access records): it reads nothing", counselor)
	}

	must(http.StatusNoContent, "DELETE", "/v1/seekers/"+id, "", me)
	testenv.Eventually(t, 60*time.Second, func() error {
		if err := consumersCaughtUp(own.JS); err != nil {
			return err
		}
		if holders := filesHolding(t, store, id); len(holders) > 0 {
			return fmt.Errorf("the deleted seeker's id is in %d files of the NATS store:\n%s", len(holders), strings.Join(holders, "\n"))
		}
		return nil
	})
}

// filesHolding lists the files under dir that hold s, each with the text
// around its first occurrence.
func filesHolding(t *testing.T, dir, s string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil // compacted away meanwhile
		}
		if err != nil {
			return err
		}
		if i := bytes.Index(b, []byte(s)); i >= 0 {
			from, to := max(i-60, 0), min(i+len(s)+60, len(b))
			out = append(out, fmt.Sprintf("%s: %q", strings.TrimPrefix(path, dir), b[from:to]))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the NATS store %s: %v", dir, err)
	}
	return out
}

// consumersCaughtUp says which consumer of which stream still has messages
// to deliver or to be acknowledged.
func consumersCaughtUp(js jetstream.JetStream) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	names := js.StreamNames(ctx)
	for stream := range names.Name() {
		st, err := js.Stream(ctx, stream)
		if err != nil {
			return err
		}
		infos := st.ListConsumers(ctx)
		for info := range infos.Info() {
			if info.NumPending > 0 || info.NumAckPending > 0 {
				return fmt.Errorf("consumer %s of %s: %d pending, %d unacknowledged", info.Name, stream, info.NumPending, info.NumAckPending)
			}
		}
		if err := infos.Err(); err != nil {
			return err
		}
	}
	return names.Err()
}

// openKeyring opens the deployment's keyring as it is (its replica count),
// for tests that name seekers by pseudonym.
func openKeyring(ctx context.Context, js jetstream.JetStream) (*shred.Keyring, error) {
	st, err := js.Stream(ctx, shred.Stream)
	if err != nil {
		return nil, err
	}
	return shred.Open(ctx, js, st.CachedInfo().Config.Replicas)
}

// A seeker written before pseudonyms (a key on keys.<id>, a profile event
// on profiles.seeker.<id>, an access record on audit.seeker.<id>) keeps
// working through the API — their version goes on, their access log shows
// the old record and the new one in order — and once deleted leaves no file
// of the NATS store holding their id either.
func TestDeletedLegacySeekerLeavesNoIDInTheNATSStore(t *testing.T) {
	own := testenv.Open(t, testenv.Needs{NATS: true, Streams: true})
	s := startStack(t, func(c *config.Config) { c.NATSURL = own.Config.NATSURL })
	x := randomSuffix()
	id, counselor := "zqv-legacy-"+x, "c-legacy-"+x
	me, coach := bearer(s.token(t, "seeker", id, "")), bearer(s.token(t, "counselor", counselor, ""))
	writeLegacySeeker(t, own.JS, id)
	testenv.Eventually(t, 20*time.Second, func() error {
		if code, _, b := s.do(t, "GET", "/v1/seekers/"+id, "", "", me...); code != 200 || !strings.Contains(string(b), `"version":1`) {
			return fmt.Errorf("legacy seeker: %d %s", code, b)
		}
		return nil
	})
	if code, _, b := s.do(t, "PUT", "/v1/seekers/"+id+"/counselors/"+counselor, "application/json", "", me...); code != 200 {
		t.Fatalf("link: %d %s", code, b)
	}
	if code, h, b := s.do(t, "GET", "/v1/seekers/"+id, "", "", coach...); code != 200 || h.Get("ETag") != `"2"` {
		t.Fatalf("counselor reads the legacy seeker: %d %s %s", code, h.Get("ETag"), b)
	}
	code, _, b := s.do(t, "GET", "/v1/seekers/"+id+"/access-log", "", "", me...)
	if code != 200 || !strings.Contains(string(b), `"legacy-reader"`) || strings.Index(string(b), `"legacy-reader"`) > strings.Index(string(b), `"`+counselor+`"`) {
		t.Fatalf("access log, the legacy record first: %d %s", code, b)
	}
	if code, _, b := s.do(t, "DELETE", "/v1/seekers/"+id, "", "", me...); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, b)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		if err := consumersCaughtUp(own.JS); err != nil {
			return err
		}
		if holders := filesHolding(t, own.NATS.StoreDir(), id); len(holders) > 0 {
			return fmt.Errorf("the deleted legacy seeker's id is in %d files of the NATS store:\n%s", len(holders), strings.Join(holders, "\n"))
		}
		return nil
	})
}

// writeLegacySeeker writes what a version before pseudonyms wrote for a new
// seeker read by someone: their key on keys.<id>, a profile event on
// profiles.seeker.<id> sealed for the id, an access record on
// audit.seeker.<id>.
func writeLegacySeeker(t *testing.T, js jetstream.JetStream, id string) {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if _, err := js.Publish(ctx, "keys."+id, key); err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	plain, _ := json.Marshal(profile.Change{Seeker: &profile.Seeker{ID: id, Skills: []string{"scanning"}, Location: &profile.Location{PostalCode: "10001"}, RadiusMiles: 25}})
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := shred.Sealed{Subject: id, Data: gcm.Seal(nonce, nonce, plain, []byte(id))}
	if _, err := events.Publish(ctx, js, events.Event{Subject: events.SeekerSubjectPrefix + id, Type: events.TypeSeekerUpdated,
		ID: "legacy-" + hex.EncodeToString(nonce), Source: "profiles", Payload: sealed}); err != nil {
		t.Fatal(err)
	}
	rec := `{"actor":"legacy-reader","role":"counselor","action":"profile","at":"2026-01-01T00:00:00Z"}`
	if _, err := events.Publish(ctx, js, events.Event{Subject: events.AuditSeekerPrefix + id, Type: events.TypeAuditSeekerRead,
		ID: "audit-legacy-" + hex.EncodeToString(nonce), Source: "gateway", Payload: json.RawMessage(rec)}); err != nil {
		t.Fatal(err)
	}
}
