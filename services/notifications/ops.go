package notifications

// What operators (and cmd/clerkpath's ops) need to know about this
// service's storage: every Redis key starts with KeyPrefix, and no key or
// value names a seeker in the clear (a seeker is a pseudonym, see owner.go).
//
//	clerkpath:notify:pseudonym-key        the key of the seekers' pseudonyms (32 random bytes, made once)
//	clerkpath:notify:feed:<owner>         stream: the owner's notifications (MAXLEN ~FeedMaxLen, expires FeedTTL after the last)
//	clerkpath:notify:hooks:<owner>        set: the owner's webhook ids
//	clerkpath:notify:hook:<id>            string: the webhook (JSON, with its owner and secret)
//	clerkpath:notify:log:<id>             list: the webhook's latest delivery attempts (JSON, newest first)
//	clerkpath:notify:job:<hook>:<msg>     hash: a delivery in progress (hook, msg, type, body, attempt, first)
//	clerkpath:notify:due                  sorted set: deliveries by due time (ms)
//	clerkpath:notify:seen:<owner>:<event> flag: the event was told to the owner (redelivery, second copy)
//	clerkpath:notify:matched:<posting>    set: seekers (owners) told they matched the posting
//	clerkpath:notify:refs:<pseudonym>     set: feed entries and deliveries naming the seeker elsewhere (a counselor's, an employer's), removed on deletion
//
// <owner> is seeker:<pseudonym>, counselor:<id> or employer:<org>.
const KeyPrefix = "clerkpath:notify:"

// Consumer names, one durable consumer per stream, shared by every copy of
// the service (each event is handled by one copy).
const (
	ConsumerMatches     = "notifications-matches"
	ConsumerJobs        = "notifications-jobs"
	ConsumerCredentials = "notifications-credentials"
	ConsumerProfiles    = "notifications-profiles"
)

// Consumers lists the service's durable consumers by stream.
func Consumers() map[string]string {
	return map[string]string{
		"MATCHES":     ConsumerMatches,
		"JOBS":        ConsumerJobs,
		"CREDENTIALS": ConsumerCredentials,
		"PROFILES":    ConsumerProfiles,
	}
}

// Limits of what is kept.
const (
	FeedMaxLen  = 500            // notifications kept per owner (approximately)
	FeedTTL     = 30 * 24 * 3600 // seconds a feed is kept after its last notification
	SeenTTL     = 7 * 24 * 3600  // seconds an event is remembered as told
	MatchedTTL  = 30 * 24 * 3600 // seconds a posting's matched seekers are remembered
	DeliveryLog = 100            // delivery attempts kept per webhook
	MaxWebhooks = 10             // webhooks per owner
)

func feedKey(owner string) string      { return KeyPrefix + "feed:" + owner }
func hooksKey(owner string) string     { return KeyPrefix + "hooks:" + owner }
func hookKey(id string) string         { return KeyPrefix + "hook:" + id }
func logKey(id string) string          { return KeyPrefix + "log:" + id }
func jobKey(id string) string          { return KeyPrefix + "job:" + id }
func matchedKey(posting string) string { return KeyPrefix + "matched:" + posting }
func refsKey(pseudonym string) string  { return KeyPrefix + "refs:" + pseudonym }
func seenKey(owner, event string) string {
	return KeyPrefix + "seen:" + owner + ":" + event
}

// matchedChunk is how many seekers one command adds to a posting's
// matched set (a remote posting can be announced to most seekers at once).
const matchedChunk = 500

const dueKey = KeyPrefix + "due"
