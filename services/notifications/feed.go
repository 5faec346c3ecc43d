package notifications

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
	"github.com/clerkpath/clerkpath/pkg/luascript"
)

// notifyScript tells one owner one notification, made of the parts not
// told before, atomically: each part's seen flag is set (a part already
// seen — a redelivered event, or one a second copy handled — is left out),
// the notification is added to the owner's feed (trimmed to FeedMaxLen and
// to entries younger than FeedTTL), a delivery is queued for each of the
// owner's enabled webhooks that wants the type, and the feed entry and the
// deliveries are recorded in the refs sets of the seekers they name.
//
//	KEYS: feed, hooks set, due
//	ARGV: type, timestamp, feed maxlen, feed ttl (s), seen ttl (s), now (ms),
//	      key prefix, R, R refs keys, then pairs (seen key, items JSON)
var notifyScript = redis.NewScript(`
local r = tonumber(ARGV[8])
local items = {}
for i = 9 + r, #ARGV, 2 do
  if redis.call('SET', ARGV[i], '1', 'NX', 'EX', ARGV[5]) then
    items[#items + 1] = ARGV[i + 1]
  end
end
if #items == 0 then return false end
local body = '{"type":' .. cjson.encode(ARGV[1]) .. ',"timestamp":' .. cjson.encode(ARGV[2]) ..
  ',"data":{"items":[' .. table.concat(items, ',') .. ']}}'
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'type', ARGV[1], 'body', body)
local oldest = tonumber(ARGV[6]) - 1000 * tonumber(ARGV[4])
redis.call('XTRIM', KEYS[1], 'MINID', '~', tostring(oldest))
redis.call('EXPIRE', KEYS[1], ARGV[4])
local refs = {'f ' .. KEYS[1] .. ' ' .. id}
local msg = 'msg_' .. (string.gsub(id, '-', '_'))
for _, h in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local raw = redis.call('GET', ARGV[7] .. 'hook:' .. h)
  if raw then
    local hook = cjson.decode(raw)
    local wanted = false
    if type(hook.events) == 'table' then
      for _, e in ipairs(hook.events) do
        if e == ARGV[1] then wanted = true end
      end
    end
    if hook.disabled ~= true and wanted then
      local job = h .. ':' .. id
      redis.call('HSET', ARGV[7] .. 'job:' .. job, 'hook', h, 'msg', msg, 'type', ARGV[1], 'body', body, 'attempt', '0', 'first', ARGV[6])
      redis.call('ZADD', KEYS[3], ARGV[6], job)
      refs[#refs + 1] = 'j ' .. job
    end
  end
end
for j = 1, r do
  redis.call('SADD', ARGV[8 + j], unpack(refs))
  redis.call('EXPIRE', ARGV[8 + j], ARGV[4])
end
return id
`)

// part is what one source event tells an owner: its items, told once
// (seen is the event's name for the owner's seen flag), and the
// pseudonyms of the seekers they name when the owner is not that seeker
// (a counselor, an employer).
type part struct {
	seen  string
	items []any
	refs  []string
}

// notice is one notification being assembled for one owner: the parts of
// every event of a batch that concern the owner, coalesced.
type notice struct {
	owner string
	typ   string
	parts []part
}

// notices collects a batch's notifications, one per owner and type.
type notices struct {
	order []string
	by    map[string]*notice
}

func (ns *notices) add(owner, typ, event string, refs []string, items ...any) {
	if len(items) == 0 {
		return
	}
	if ns.by == nil {
		ns.by = map[string]*notice{}
	}
	k := owner + "\x00" + typ
	n, ok := ns.by[k]
	if !ok {
		n = &notice{owner: owner, typ: typ}
		ns.by[k] = n
		ns.order = append(ns.order, k)
	}
	n.parts = append(n.parts, part{seen: event, items: items, refs: refs})
}

// tell writes every collected notification (notifyScript), tellChunk
// calls a pipelined round trip (luascript.Pipelined). Each call stays
// atomic on its own; one round trip a call was most of notifications'
// Redis time when a batch of announcements named thousands of seekers
// (issue 14).
//
// An owner told about many seekers at once (an employer whose postings a
// bulk ingest announced to thousands) gets one notification per
// notifyParts of the batch's events: one script call must not hold Redis,
// which every gateway request's rate limit also waits on, for long (issue
// 14: one call of an employer's hundreds of parts took 73 ms at the median
// and up to 447 ms).
func (s *Service) tell(ctx context.Context, ns *notices) error {
	now := s.now()
	var calls []luascript.Call
	for _, k := range ns.order {
		for parts := range slices.Chunk(ns.by[k].parts, notifyParts) {
			c, err := notifyCallOf(ns.by[k], parts, now)
			if err != nil {
				return err
			}
			calls = append(calls, c)
		}
	}
	for chunk := range slices.Chunk(calls, tellChunk) {
		if _, err := luascript.Pipelined(ctx, s.rdb, notifyScript, chunk); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	return nil
}

// tellChunk is how many notifications tell writes in one pipelined round
// trip.
const tellChunk = 500

// notifyParts is how many events' parts one notification (one script
// call) holds at most.
const notifyParts = 32

// notifyCallOf is the call that tells n's owner the parts (some of n's):
// one notification, recorded in the refs of every seeker the parts name.
func notifyCallOf(n *notice, parts []part, now time.Time) (luascript.Call, error) {
	var refs []string
	for _, p := range parts {
		for _, r := range p.refs {
			if !slices.Contains(refs, r) {
				refs = append(refs, r)
			}
		}
	}
	args := []any{n.typ, now.UTC().Format(time.RFC3339Nano), FeedMaxLen, FeedTTL, SeenTTL, now.UnixMilli(), KeyPrefix, len(refs)}
	for _, r := range refs {
		args = append(args, refsKey(r))
	}
	for _, p := range parts {
		items := make([]byte, 0, 64*len(p.items))
		for i, it := range p.items {
			b, err := json.Marshal(it)
			if err != nil {
				return luascript.Call{}, fmt.Errorf("notification item: %w", err)
			}
			if i > 0 {
				items = append(items, ',')
			}
			items = append(items, b...)
		}
		args = append(args, seenKey(n.owner, p.seen), string(items))
	}
	return luascript.Call{Keys: []string{feedKey(n.owner), hooksKey(n.owner), dueKey}, Args: args}, nil
}

func (s *Service) feed(ctx context.Context, req notificationsapi.FeedRequest) (notificationsapi.Feed, error) {
	out := notificationsapi.Feed{Notifications: []notificationsapi.Notification{}}
	owner, err := s.ownerKey(req.Owner)
	if err != nil {
		return out, err
	}
	var fs apierr.Fields
	if req.After != "" && !notificationsapi.ValidEventID(req.After) {
		fs.Add("after", "an event id as the stream sent it (digits-digits)")
	}
	if req.WaitMS < 0 || time.Duration(req.WaitMS)*time.Millisecond > notificationsapi.MaxFeedWait {
		fs.Add("wait_ms", "0 to %d", notificationsapi.MaxFeedWait.Milliseconds())
	}
	if req.Limit < 0 || req.Limit > notificationsapi.MaxFeedLimit {
		fs.Add("limit", "1 to %d", notificationsapi.MaxFeedLimit)
	}
	if err := fs.Err(); err != nil {
		return out, err
	}
	limit := int64(req.Limit)
	if limit == 0 {
		limit = 50
	}
	key := feedKey(owner)
	after := req.After
	if after == "" {
		last, err := s.rdb.XRevRangeN(ctx, key, "+", "-", 1).Result()
		if err != nil {
			return out, apierr.Wrap(err, apierr.Unavailable, "notifications are unavailable; try again")
		}
		after = "0-0"
		if len(last) > 0 {
			after = last[0].ID
		}
	}
	out.Cursor = after
	wait := time.Duration(req.WaitMS) * time.Millisecond
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d)-time.Second)
	}
	block := time.Duration(-1) // no BLOCK: answer at once
	if wait >= time.Millisecond {
		block = wait
	}
	res, err := s.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{key, after}, Count: limit, Block: block}).Result()
	if errors.Is(err, redis.Nil) {
		return out, nil
	}
	if err != nil {
		return out, apierr.Wrap(err, apierr.Unavailable, "notifications are unavailable; try again")
	}
	for _, st := range res {
		for _, m := range st.Messages {
			typ, _ := m.Values["type"].(string)
			body, _ := m.Values["body"].(string)
			out.Notifications = append(out.Notifications, notificationsapi.Notification{ID: m.ID, Type: typ, Body: json.RawMessage(body)})
			out.Cursor = m.ID
		}
	}
	return out, nil
}
