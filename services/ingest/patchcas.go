package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
)

// errVersionChanged is a conditional remember that found the posting at
// another version (or no longer open) than the one its patch was merged
// onto: the patch is merged again onto the new version.
var errVersionChanged = errors.New("the posting changed since it was read")

// rememberIf records a patched version only if the posting is still open
// at the version the patch was read at (base), in one transaction watched
// on the posting's record: of two patches merged onto the same version,
// the second to be remembered fails and is merged again, so that neither
// change is lost. A write to the record by anything else meanwhile (a
// patch counter, a close) makes it read the record again.
func (d *store) rememberIf(ctx context.Context, org string, a accepted, base string, now time.Time) error {
	key := postingKey(a.p.ID)
	check := func(tx *redis.Tx) error {
		v, err := tx.HMGet(ctx, key, "fingerprint", "status").Result()
		if err != nil {
			return err
		}
		fp, _ := v[0].(string)
		status, _ := v[1].(string)
		if fp != base || (status != "" && status != ingestapi.StatusOpen) {
			return errVersionChanged
		}
		_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			return queueRemember(ctx, pipe, org, []accepted{a}, now)
		})
		return err
	}
	for range maxWatchRetries {
		err := d.rdb.Watch(ctx, check, key)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return fmt.Errorf("remember patched posting %s: %w", a.p.ID, errVersionChanged)
}

// Retry bounds: a watched write retried when the record was written
// meanwhile, and a patch merged again onto a newer version.
const (
	maxWatchRetries  = 50
	maxPatchAttempts = 32
)
