package projection

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Checksum digests every key of generation g of projection name (read
// from the pointer when g is 0): each key without the generation prefix,
// its type and its value (hash fields and set members sorted, lists in
// order), sorted by key. Two generations built from the same events have
// the same checksum. It returns the generation read and its key count.
func Checksum(ctx context.Context, rdb *redis.Client, name string, g uint64) (sum string, gen uint64, keys int, err error) {
	if g == 0 {
		if g, err = rdb.Get(ctx, "clerkpath:"+name+":gen").Uint64(); err != nil {
			return "", 0, 0, fmt.Errorf("generation pointer of %s: %w", name, err)
		}
	}
	prefix := fmt.Sprintf("clerkpath:%s:g%d:", name, g)
	var lines []string
	it := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		k := it.Val()
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			return "", g, 0, err
		}
		var val []string
		switch typ {
		case "hash":
			h, err := rdb.HGetAll(ctx, k).Result()
			if err != nil {
				return "", g, 0, err
			}
			for f, v := range h {
				val = append(val, f+"="+v)
			}
			slices.Sort(val)
		case "set":
			if val, err = rdb.SMembers(ctx, k).Result(); err != nil {
				return "", g, 0, err
			}
			slices.Sort(val)
		case "list":
			if val, err = rdb.LRange(ctx, k, 0, -1).Result(); err != nil {
				return "", g, 0, err
			}
		case "string":
			v, err := rdb.Get(ctx, k).Result()
			if err != nil {
				return "", g, 0, err
			}
			val = []string{v}
		case "none":
			continue // deleted meanwhile
		default:
			return "", g, 0, fmt.Errorf("key %s: unexpected type %s", k, typ)
		}
		lines = append(lines, strings.TrimPrefix(k, prefix)+"\t"+typ+"\t"+strings.Join(val, "\x1f"))
	}
	if err := it.Err(); err != nil {
		return "", g, 0, err
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)), g, len(lines), nil
}
