// Package notificationsapi is the contract of the notifications service: its
// request/reply endpoints (webhooks and the notification feed that the
// gateway's server-sent events read) and its events (see pkg/contract).
package notificationsapi

import (
	"encoding/json"
	"regexp"
	"time"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Owner kinds: whose events a webhook or a feed carries.
const (
	OwnerSeeker    = "seeker"    // the seeker's own events
	OwnerCounselor = "counselor" // the events of the counselor's caseload
	OwnerEmployer  = "employer"  // the events of an employer organisation
)

// Owner is the subscriber: a seeker, a counselor or an employer
// organisation. The gateway fills it from the caller's token, never from
// the request body.
type Owner struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// Notification types.
const (
	TypeMatchesNew         = "matches.new"         // new matches (coalesced)
	TypePostingClosed      = "posting.closed"      // a posting the seeker matched was closed
	TypeCredentialExpiring = "credential.expiring" // a credential's renewal cycle ends soon
	TypeCandidateNew       = "candidate.new"       // a new qualified, opted-in candidate for an employer's posting
	TypeNearMissMatched    = "near_miss.matched"   // a posting that was a near miss of the seeker is now a match
)

// Types lists every notification type, the values a webhook's events filter accepts.
func Types() []string {
	return []string{TypeMatchesNew, TypePostingClosed, TypeCredentialExpiring, TypeCandidateNew, TypeNearMissMatched}
}

// Body is a notification as delivered: to a webhook as the request body,
// to server-sent events as the data of an event. Items holds one or more
// of the type's items (MatchItem for matches.new, ClosedItem for
// posting.closed, ExpiringItem for credential.expiring, CandidateItem for
// candidate.new, NearMissItem for near_miss.matched): the events of a
// short window told as one.
type Body struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		Items []json.RawMessage `json:"items"`
	} `json:"data"`
}

// MatchItem is one new match. SeekerID is set only in a counselor's
// notification (their client).
type MatchItem struct {
	PostingID string `json:"posting_id"`
	SeekerID  string `json:"seeker_id,omitempty"`
}

// NearMissItem is a posting that was a near miss of the seeker and is now a
// match (told instead of a matches.new item for it). Missing names the
// steps the near miss lacked (credential or education codes), the ones the
// seeker closed; empty when unknown (an experience gap, or the posting
// changed). SeekerID is set only in a counselor's notification.
type NearMissItem struct {
	PostingID string   `json:"posting_id"`
	SeekerID  string   `json:"seeker_id,omitempty"`
	Missing   []string `json:"missing,omitempty"`
}

// ClosedItem is a posting the seeker matched that was closed (reason:
// filled, withdrawn, on_hold, expired, stale…).
type ClosedItem struct {
	PostingID string `json:"posting_id"`
	Reason    string `json:"reason"`
}

// ExpiringItem is a credential renewal cycle ending soon. SeekerID is set
// only in a counselor's notification.
type ExpiringItem struct {
	SeekerID string `json:"seeker_id,omitempty"`
	Issuer   string `json:"issuer"`
	CycleEnd string `json:"cycle_end"`
	DaysLeft int    `json:"days_left"`
}

// CandidateItem is a new qualified candidate for an employer's posting: a
// seeker who opted in to be seen by employers (as /candidates shows them).
type CandidateItem struct {
	PostingID string `json:"posting_id"`
	SeekerID  string `json:"seeker_id"`
}

// Webhook is a registered receiver. The secret is shown only once, in
// WebhookCreated.
type Webhook struct {
	ID             string     `json:"id"`
	URL            string     `json:"url"`
	Events         []string   `json:"events"` // the notification types delivered; all when created without a filter
	CreatedAt      time.Time  `json:"created_at"`
	Disabled       bool       `json:"disabled"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
}

// WebhookCreateRequest registers a webhook for its owner.
type WebhookCreateRequest struct {
	Owner  Owner    `json:"owner"`
	URL    string   `json:"url"`
	Events []string `json:"events,omitempty"`
}

// WebhookCreated is the new webhook with its signing secret
// ("whsec_" + base64), which is never shown again.
type WebhookCreated struct {
	Webhook
	Secret string `json:"secret"`
}

// OwnerRequest names the owner whose webhooks are listed.
type OwnerRequest struct {
	Owner Owner `json:"owner"`
}

// WebhookList is an owner's webhooks, newest first.
type WebhookList struct {
	Webhooks []Webhook `json:"webhooks"`
}

// WebhookRef names one webhook of an owner; another owner's webhook is
// not found.
type WebhookRef struct {
	Owner Owner  `json:"owner"`
	ID    string `json:"id"`
}

// WebhookDeleted confirms a deletion.
type WebhookDeleted struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

// Delivery is one attempt to deliver a notification to a webhook.
type Delivery struct {
	MessageID  string     `json:"message_id"` // the webhook-id header
	Type       string     `json:"type"`
	Attempt    int        `json:"attempt"`
	At         time.Time  `json:"at"`
	Status     int        `json:"status,omitempty"` // the receiver's HTTP status; 0 when none came
	Error      string     `json:"error,omitempty"`
	OK         bool       `json:"ok"`
	DurationMS int64      `json:"duration_ms"`
	NextTry    *time.Time `json:"next_try,omitempty"` // when it is retried; absent after success or the last attempt
}

// DeliveryList is a webhook's latest delivery attempts, newest first.
type DeliveryList struct {
	WebhookID  string     `json:"webhook_id"`
	Deliveries []Delivery `json:"deliveries"`
}

// FeedRequest reads an owner's notifications after the id After (the
// Last-Event-ID of server-sent events; empty: only what comes next),
// waiting up to WaitMS for one to arrive.
type FeedRequest struct {
	Owner  Owner  `json:"owner"`
	After  string `json:"after,omitempty"`
	WaitMS int    `json:"wait_ms,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// Notification is one message of a feed, as delivered to webhooks (Body)
// and server-sent events (ID is the event id).
type Notification struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Body json.RawMessage `json:"body"` // {"type","timestamp","data":{"items":[…]}}
}

// Feed is the notifications after the request's id, oldest first; Cursor
// is the id to ask after next time (the last one's, or the feed's end).
type Feed struct {
	Notifications []Notification `json:"notifications"`
	Cursor        string         `json:"cursor"`
}

var eventIDPattern = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// ValidEventID reports whether id has the form of a feed's event id
// ("<ms>-<n>"), as Last-Event-ID carries it back.
func ValidEventID(id string) bool { return eventIDPattern.MatchString(id) }

// Feed limits.
const (
	MaxFeedWait  = 20 * time.Second
	MaxFeedLimit = 100
)

// WebhookCreate registers a webhook.
var WebhookCreate = rpc.Endpoint[WebhookCreateRequest, WebhookCreated]{
	Name: "webhook-create", Subject: "svc.notifications.webhook.create",
	Doc: "registers a webhook for a seeker, a counselor's caseload or an employer organisation and returns its signing secret once",
}

// WebhookListing lists an owner's webhooks.
var WebhookListing = rpc.Endpoint[OwnerRequest, WebhookList]{
	Name: "webhook-list", Subject: "svc.notifications.webhook.list",
	Doc: "lists an owner's webhooks with whether each is disabled and why",
}

// WebhookDelete deletes one of an owner's webhooks.
var WebhookDelete = rpc.Endpoint[WebhookRef, WebhookDeleted]{
	Name: "webhook-delete", Subject: "svc.notifications.webhook.delete",
	Doc: "deletes one of an owner's webhooks and its pending deliveries",
}

// WebhookDeliveries lists a webhook's latest delivery attempts.
var WebhookDeliveries = rpc.Endpoint[WebhookRef, DeliveryList]{
	Name: "webhook-deliveries", Subject: "svc.notifications.webhook.deliveries",
	Doc: "lists a webhook's latest delivery attempts (status, error, next try), newest first",
}

// FeedRead reads an owner's notifications after an id, waiting for new ones.
var FeedRead = rpc.Endpoint[FeedRequest, Feed]{
	Name: "feed", Subject: "svc.notifications.feed",
	Doc: "reads an owner's notifications after an event id, waiting up to wait_ms for one (the gateway's server-sent events)",
}

// Endpoints lists every endpoint this package declares.
func Endpoints() []rpc.Spec {
	return []rpc.Spec{WebhookCreate.Spec(), WebhookListing.Spec(), WebhookDelete.Spec(), WebhookDeliveries.Spec(), FeedRead.Spec()}
}

// Topics lists every event topic this package declares: none, the service
// publishes no events (its notifications live in Redis, see docs/notifications.md).
func Topics() []events.TopicSpec {
	return []events.TopicSpec{}
}
