package matching

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// An announcement's message id names no seeker, and once the seeker is
// deleted their announcements are erased from the MATCHES stream: no file
// of the stream's store holds the seeker's id any more.
func TestDeletedSeekersAnnouncementsLeaveNoIDInTheStore(t *testing.T) {
	t.Parallel()
	srv := testenv.Open(t, testenv.All)
	ctx := context.Background()
	c := startCopy(t, srv.Config, true)
	f := newFeed(t, srv.Config)
	const id = "seeker-to-forget-7q"
	f.seeker(t, profile.Seeker{ID: id, RemotePref: "remote", RadiusMiles: 25})
	f.seeker(t, profile.Seeker{ID: "seeker-who-stays", RemotePref: "remote", RadiusMiles: 25})
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
			return fmt.Errorf("announced %v in %d events, want remote-roi-1 once to each seeker", got, n)
		}
		return nil
	})
	st, err := srv.JS.Stream(ctx, events.StreamMatches)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 2; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if msgID := m.Header.Get("Nats-Msg-Id"); !strings.HasPrefix(msgID, "found:") || strings.Contains(msgID, "seeker") {
			t.Errorf("message id %q: want found:<random token>", msgID)
		}
	}

	// The profiles service shreds the key and publishes the deletion.
	if err := f.keys.Shred(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := events.Publish(ctx, f.js, events.Event{Subject: events.SeekerSubjectPrefix + id, Type: events.TypeSeekerDeleted,
		ID: "delete:" + id, Source: "test", Payload: map[string]string{"id": id}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.Msgs != 1 {
			return fmt.Errorf("MATCHES holds %d announcements, want the other seeker's 1", info.State.Msgs)
		}
		return nil
	})
	dir := streamDir(t, srv.NATS.StoreDir(), matchingapi.MatchesFound.Stream)
	var files int
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(b, []byte(id)) {
			t.Errorf("%s holds the deleted seeker's id", path)
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("read %d files of %s: %v", files, dir, err)
	}
	// The eraser forgets the erased sequences only after the erase that
	// shrank MATCHES: wait for it rather than read in between.
	testenv.Eventually(t, 10*time.Second, func() error {
		if n, err := c.s.rdb.Exists(ctx, sentKey(id)).Result(); err != nil || n != 0 {
			return fmt.Errorf("the deleted seeker's announcement sequences are still kept (%d, %v)", n, err)
		}
		return nil
	})
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
