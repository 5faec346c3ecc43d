package matching

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// Announcements are bundled: one matches.found.batch message holds both
// seekers' entries, and neither its message id nor an entry id names a
// seeker. Once a seeker is deleted, their key is shredded: their entry in
// the bundle no longer opens while the other seeker's does, an
// announcement published alone before bundles (matches.found, its
// sequence kept) is securely erased, and no file of the stream's store
// holds the seeker's id.
func TestDeletedSeekersAnnouncementsLeaveNoIDInTheStore(t *testing.T) {
	t.Parallel()
	srv := testenv.Open(t, testenv.All)
	ctx := context.Background()
	c := startCopy(t, srv.Config, true)
	f := newFeed(t, srv.Config)
	const id, stays = "seeker-to-forget-7q", "seeker-who-stays"
	f.seeker(t, profile.Seeker{ID: id, RemotePref: "remote", RadiusMiles: 25})
	f.seeker(t, profile.Seeker{ID: stays, RemotePref: "remote", RadiusMiles: 25})
	testenv.Eventually(t, 20*time.Second, func() error {
		if n := c.s.seekers.Size(); n < 2 {
			return fmt.Errorf("%d seekers of 2", n)
		}
		return nil
	})
	f.post(t, remoteOpening("remote-roi-1", time.Now()))
	settled(t, c.s, 60*time.Second)
	// settled can see the reverse consumer idle a moment before it has the
	// posting (once in a make test run): wait for the announcements.
	testenv.Eventually(t, 30*time.Second, func() error {
		if got, n := f.announced(t); got[id]["remote-roi-1"] != 1 || n != 2 {
			return fmt.Errorf("announced %v in %d announcements, want remote-roi-1 once to each seeker", got, n)
		}
		return nil
	})
	msgs := f.foundMsgs(t)
	if len(msgs) != 1 || msgs[0].subject != matchingapi.MatchesFoundBatch.Subject || len(msgs[0].ids) != 2 {
		t.Fatalf("MATCHES holds %+v, want one bundle of both seekers' announcements", msgs)
	}
	st, err := srv.JS.Stream(ctx, events.StreamMatches)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := st.GetMsg(ctx, msgs[0].seq)
	if err != nil {
		t.Fatal(err)
	}
	ids := append([]string{bundle.Header.Get("Nats-Msg-Id")}, msgs[0].ids...)
	for _, v := range ids {
		if !strings.HasPrefix(v, "found") || strings.Contains(v, "seeker") {
			t.Errorf("id %q: want found:<random token> or found-batch:<digest>", v)
		}
	}
	legacy := legacyAnnouncement(t, c.s, f, id)

	// The profiles service shreds the key and publishes the deletion.
	if err := f.keys.Shred(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := events.Publish(ctx, f.js, events.Event{Subject: events.SeekerSubjectPrefix + id, Type: events.TypeSeekerDeleted,
		ID: "delete:" + id, Source: "test", Payload: map[string]string{"id": id}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		if _, err := st.GetMsg(ctx, legacy); !errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("the deleted seeker's single announcement is still stored (%v)", err)
		}
		return nil
	})
	after := f.foundMsgs(t)
	if len(after) != 1 || after[0].seq != msgs[0].seq || len(after[0].found) != 1 || after[0].found[0].SeekerID != stays {
		t.Errorf("after the deletion MATCHES holds %+v, want the bundle, opening for %s only", after, stays)
	}
	noFileHolds(t, streamDir(t, srv.NATS.StoreDir(), matchingapi.MatchesFound.Stream), id)
	// The eraser forgets the erased sequences only after the erase that
	// shrank MATCHES: wait for it rather than read in between.
	testenv.Eventually(t, 10*time.Second, func() error {
		if n, err := c.s.rdb.Exists(ctx, sentKey(id)).Result(); err != nil || n != 0 {
			return fmt.Errorf("the deleted seeker's announcement sequences are still kept (%d, %v)", n, err)
		}
		return nil
	})
}

// legacyAnnouncement publishes an announcement of the seeker alone, as
// matches.found, recording its sequence as flushes did before bundles, and
// returns its sequence.
func legacyAnnouncement(t *testing.T, s *Service, f feed, seeker string) uint64 {
	t.Helper()
	ctx := context.Background()
	sealed, err := f.keys.Seal(ctx, seeker, matchingapi.Found{SeekerID: seeker, Postings: []string{"remote-roi-0"}})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := events.Publish(ctx, f.js, events.Event{Subject: matchingapi.MatchesFound.Subject, ID: "found:" + announcementToken(), Source: "test", Payload: sealed})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.SAdd(ctx, sentKey(seeker), ack.Sequence).Err(); err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// noFileHolds fails the test if a file under dir holds s (or none is there).
func noFileHolds(t *testing.T, dir, s string) {
	t.Helper()
	var files int
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("%s holds the deleted seeker's id", path)
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("read %d files of %s: %v", files, dir, err)
	}
}

// streamDir finds a stream's directory in a nats-server store.
func streamDir(t *testing.T, store, stream string) string {
	t.Helper()
	var dir string
	_ = filepath.WalkDir(store, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == stream && filepath.Base(filepath.Dir(path)) == "streams" {
			dir = path
			return filepath.SkipAll
		}
		return nil
	})
	if dir == "" {
		t.Fatalf("no directory of stream %s under %s", stream, store)
	}
	return dir
}
