package matching

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
)

// A near miss that became a match is told as such (Found.WasNearMiss). For
// that matching remembers each seeker's near misses:
//
//	clerkpath:nearmiss:<seeker>  hash: posting id → the codes it missed ("RHIT,CCS"), the
//	                             seeker's near misses at their last list refresh
//
// The near misses are those a forward match shows the seeker (the best
// MaxNearMisses), written at each list refresh (a profile change or a
// credential earned) after the refresh has listed its new matches and
// flushed their announcement. The claim of an announcement (claimScript)
// looks each new posting up in the hash: one that is there was a near miss
// and becomes a match; the claim marks it ("^<id>=<codes>") and takes it
// out of the hash. So a posting the seeker's new credential turns into a
// match is found among the near misses of the refresh before, and reverse
// matching, which finds a changed posting now suits a seeker, pays nothing
// for it in its scan.
func nearKey(seeker string) string { return "clerkpath:nearmiss:" + seeker }

// nearKeep bounds how long a seeker's near misses are kept without a
// refresh: postings older than this are closed or stale anyway.
const nearKeep = 60 * 24 * time.Hour

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
