package matching

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
)

// A near miss that became a match is told as such (Found.WasNearMiss). For
// that matching remembers each seeker's near misses, and marks a posting
// that enters the seeker's list while it is one of them:
//
//	clerkpath:nearmiss:<seeker>       hash: posting id → the codes it missed ("RHIT,CCS"), the
//	                                  seeker's near misses at their last list refresh
//	clerkpath:announce:near:<seeker>  hash: posting id → codes, pending postings that were near misses
//
// The near misses are those a forward match shows the seeker (the best
// MaxNearMisses), written at each list refresh (a profile change or a
// credential earned), after the refresh has listed the new matches: a
// posting the seeker's new credential turns into a match is still found
// among the near misses of the refresh before. A posting that enters the
// list (listScript, or a reverse match through markPending) and is among
// them moves to the near hash in the same Redis step; claimScript puts it
// in the announcement ("^<id>=<codes>") and empties the hash.
func nearKey(seeker string) string        { return "clerkpath:nearmiss:" + seeker }
func nearPendingKey(seeker string) string { return "clerkpath:announce:near:" + seeker }

// nearKeep bounds how long a seeker's near misses are kept without a
// refresh: postings older than this are closed or stale anyway.
const nearKeep = 60 * 24 * time.Hour

// nearScript moves the postings named in ARGV that are among a seeker's
// near misses (KEYS[1]) to their pending near misses (KEYS[2]).
var nearScript = redis.NewScript(`
for _, p in ipairs(ARGV) do
  local was = redis.call('HGET', KEYS[1], p)
  if was then
    redis.call('HSET', KEYS[2], p, was)
    redis.call('HDEL', KEYS[1], p)
  end
end
return 1
`)

// rememberNearMisses replaces a seeker's stored near misses.
func (s *Service) rememberNearMisses(ctx context.Context, seeker string, near []matchingapi.NearMiss) error {
	pipe := s.rdb.TxPipeline()
	pipe.Del(ctx, nearKey(seeker))
	if len(near) > 0 {
		fields := make([]any, 0, 2*len(near))
		for _, nm := range near {
			fields = append(fields, nm.PostingID, missingCodes(nm))
		}
		pipe.HSet(ctx, nearKey(seeker), fields...)
		pipe.Expire(ctx, nearKey(seeker), nearKeep)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("remember near misses: %w", err)
	}
	return nil
}

// missingCodes are the codes of the steps that close a near miss, as
// stored: comma-separated, only letters, digits, '-' and '_'.
func missingCodes(nm matchingapi.NearMiss) string {
	var codes []string
	for _, c := range nm.Closers {
		if c.Code != "" && strings.Trim(c.Code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == "" {
			codes = append(codes, c.Code)
		}
	}
	return strings.Join(codes, ",")
}

// formerNearMiss reads an announcement's "^<id>=<codes>" field.
func formerNearMiss(field string) (matchingapi.FormerNearMiss, bool) {
	id, codes, ok := strings.Cut(strings.TrimPrefix(field, "^"), "=")
	if !ok || id == "" {
		return matchingapi.FormerNearMiss{}, false
	}
	f := matchingapi.FormerNearMiss{PostingID: id}
	if codes != "" {
		f.Missing = strings.Split(codes, ",")
	}
	return f, true
}
