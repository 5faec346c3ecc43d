package testenv

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Tally counts the calls of loops running on several goroutines (writers
// and readers under a rebuild, say) and keeps the first failure, for the
// test to report once the loops are done. The zero Tally is ready to use.
type Tally struct {
	calls, failed atomic.Int64
	first         atomic.Value // the first failure's message
}

// Add counts one call; a non-nil err counts it as failed.
func (t *Tally) Add(err error) {
	t.calls.Add(1)
	if err != nil {
		t.failed.Add(1)
		t.first.CompareAndSwap(nil, err.Error())
	}
}

// Calls is how many calls were counted.
func (t *Tally) Calls() int64 { return t.calls.Load() }

// Err is nil when no call failed, else how many of how many failed and the
// first failure.
func (t *Tally) Err() error {
	f := t.failed.Load()
	if f == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d failed; first: %v", f, t.calls.Load(), t.first.Load())
}

// Repeat calls op with i = 0, 1, 2, … until ctx ends, or n times when
// n > 0, waiting pause after each call, and adds each call to tally. An
// error returned once ctx has ended is not a failure: the call was cut
// short by the test, not refused.
func Repeat(ctx context.Context, n int, pause time.Duration, tally *Tally, op func(ctx context.Context, i int) error) {
	for i := 0; (n <= 0 || i < n) && ctx.Err() == nil; i++ {
		err := op(ctx, i)
		if ctx.Err() != nil {
			err = nil
		}
		tally.Add(err)
		if pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
	}
}
