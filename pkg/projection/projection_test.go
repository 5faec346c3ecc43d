package projection

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// msg is a jetstream.Msg with a subject only (ApplyByKey reads no more).
type msg struct {
	jetstream.Msg
	subject string
	n       int
}

func (m msg) Subject() string { return m.subject }

func TestApplyByKeyKeepsEachKeysOrderAndRunsKeysAtOnce(t *testing.T) {
	var msgs []jetstream.Msg
	for i := range 60 {
		msgs = append(msgs, msg{subject: fmt.Sprintf("k%d", i%6), n: i})
	}
	var mu sync.Mutex
	last := map[string]int{}
	running, most := 0, 0
	errs := ApplyByKey(context.Background(), msgs, 4, jetstream.Msg.Subject, func(_ context.Context, m jetstream.Msg) error {
		mm := m.(msg)
		mu.Lock()
		running++
		most = max(most, running)
		if prev, ok := last[mm.subject]; ok && prev > mm.n {
			t.Errorf("%s: %d applied after %d", mm.subject, mm.n, prev)
		}
		last[mm.subject] = mm.n
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		if mm.n == 13 { // k1's third event fails
			return errors.New("boom")
		}
		return nil
	})
	if most < 2 || most > 4 {
		t.Errorf("at most %d at once, want 2..4", most)
	}
	for i, err := range errs {
		failed := i%6 == 1 && i >= 13 // the failed event and k1's later ones
		if (err != nil) != failed {
			t.Errorf("event %d (key k%d): error %v, want failed=%v", i, i%6, err, failed)
		}
	}
}
