package testenv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRepeatCountsCallsAndKeepsTheFirstFailure(t *testing.T) {
	var tally Tally
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			Repeat(context.Background(), 10, 0, &tally, func(_ context.Context, i int) error {
				if w == 1 && i >= 7 {
					return fmt.Errorf("writer %d, call %d", w, i)
				}
				return nil
			})
		})
	}
	wg.Wait()
	if tally.Calls() != 30 {
		t.Errorf("%d calls, want 30", tally.Calls())
	}
	err := tally.Err()
	if err == nil || !strings.HasPrefix(err.Error(), "3 of 30 failed; first: writer 1, call 7") {
		t.Errorf("Err() = %v", err)
	}
	if err := new(Tally).Err(); err != nil {
		t.Errorf("an empty tally: %v", err)
	}
}

func TestRepeatStopsWithItsContextAndDoesNotCountTheCutCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var tally Tally
	done := make(chan struct{})
	go func() {
		defer close(done)
		Repeat(ctx, 0, 0, &tally, func(ctx context.Context, i int) error {
			if i == 1 {
				cancel()
				return errors.New("cut short")
			}
			return nil
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Repeat did not stop when its context ended")
	}
	if tally.Calls() != 2 || tally.Err() != nil {
		t.Errorf("%d calls, %v; want 2 and no failure", tally.Calls(), tally.Err())
	}
}

func TestRepeatPauseEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	var tally Tally
	Repeat(ctx, 0, time.Hour, &tally, func(context.Context, int) error { return nil })
	if took := time.Since(t0); took > 10*time.Second || tally.Calls() != 1 {
		t.Errorf("%d calls in %v; want one, and the pause cut short", tally.Calls(), took)
	}
}
