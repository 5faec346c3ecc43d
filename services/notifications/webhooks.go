package notifications

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
)

// hookRecord is a webhook as stored: the public part, its owner key and
// its signing secret. The delivery script reads "disabled" and "events".
type hookRecord struct {
	notificationsapi.Webhook
	Owner  string `json:"owner"`
	Secret string `json:"secret"`
}

func (s *Service) createWebhook(ctx context.Context, req notificationsapi.WebhookCreateRequest) (notificationsapi.WebhookCreated, error) {
	var out notificationsapi.WebhookCreated
	owner, err := s.ownerKey(req.Owner)
	if err != nil {
		return out, err
	}
	var fs apierr.Fields
	if problem := CheckURL(req.URL, s.opts.AllowLoopbackHTTP); problem != "" {
		fs.Add("url", "%s", problem)
	}
	kinds := notificationsapi.Types()
	for i, e := range req.Events {
		if !slices.Contains(kinds, e) {
			fs.Add("events["+strconv.Itoa(i)+"]", "one of %v", kinds)
		}
	}
	if err := fs.Err(); err != nil {
		return out, err
	}
	n, err := s.rdb.SCard(ctx, hooksKey(owner)).Result()
	if err != nil {
		return out, apierr.Wrap(err, apierr.Unavailable, "webhooks are unavailable; try again")
	}
	if n >= MaxWebhooks {
		return out, apierr.New(apierr.Conflict, "at most %d webhooks each; delete one first", MaxWebhooks)
	}
	events := kinds
	if len(req.Events) > 0 {
		events = slices.Compact(slices.Sorted(slices.Values(req.Events)))
	}
	secret := make([]byte, 24)
	idBytes := make([]byte, 12)
	if _, err := rand.Read(secret); err != nil {
		return out, err
	}
	if _, err := rand.Read(idBytes); err != nil {
		return out, err
	}
	rec := hookRecord{
		Webhook: notificationsapi.Webhook{ID: "wh_" + hex.EncodeToString(idBytes), URL: req.URL, Events: events, CreatedAt: s.now().UTC()},
		Owner:   owner,
		Secret:  "whsec_" + base64.StdEncoding.EncodeToString(secret),
	}
	doc, err := json.Marshal(rec)
	if err != nil {
		return out, err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, hookKey(rec.ID), doc, 0)
		p.SAdd(ctx, hooksKey(owner), rec.ID)
		return nil
	})
	if err != nil {
		return out, apierr.Wrap(err, apierr.Unavailable, "could not save the webhook; try again")
	}
	return notificationsapi.WebhookCreated{Webhook: rec.Webhook, Secret: rec.Secret}, nil
}

func (s *Service) listWebhooks(ctx context.Context, req notificationsapi.OwnerRequest) (notificationsapi.WebhookList, error) {
	out := notificationsapi.WebhookList{Webhooks: []notificationsapi.Webhook{}}
	owner, err := s.ownerKey(req.Owner)
	if err != nil {
		return out, err
	}
	ids, err := s.rdb.SMembers(ctx, hooksKey(owner)).Result()
	if err != nil {
		return out, apierr.Wrap(err, apierr.Unavailable, "webhooks are unavailable; try again")
	}
	for _, id := range ids {
		rec, err := s.hook(ctx, id)
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return out, err
		}
		out.Webhooks = append(out.Webhooks, rec.Webhook)
	}
	slices.SortFunc(out.Webhooks, func(a, b notificationsapi.Webhook) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// hook reads one webhook; redis.Nil when there is none.
func (s *Service) hook(ctx context.Context, id string) (hookRecord, error) {
	var rec hookRecord
	doc, err := s.rdb.Get(ctx, hookKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return rec, err
	}
	if err != nil {
		return rec, apierr.Wrap(err, apierr.Unavailable, "webhooks are unavailable; try again")
	}
	if err := json.Unmarshal(doc, &rec); err != nil {
		return rec, fmt.Errorf("webhook %s: %w", id, err)
	}
	return rec, nil
}

// ownedHook reads a webhook of the owner; another owner's is not found.
func (s *Service) ownedHook(ctx context.Context, ref notificationsapi.WebhookRef) (hookRecord, error) {
	owner, err := s.ownerKey(ref.Owner)
	if err != nil {
		return hookRecord{}, err
	}
	notFound := apierr.New(apierr.NotFound, "no webhook %s", ref.ID)
	if len(ref.ID) > 64 {
		return hookRecord{}, notFound
	}
	rec, err := s.hook(ctx, ref.ID)
	if errors.Is(err, redis.Nil) || (err == nil && rec.Owner != owner) {
		return hookRecord{}, notFound
	}
	return rec, err
}

func (s *Service) deleteWebhook(ctx context.Context, ref notificationsapi.WebhookRef) (notificationsapi.WebhookDeleted, error) {
	rec, err := s.ownedHook(ctx, ref)
	if err != nil {
		return notificationsapi.WebhookDeleted{}, err
	}
	if err := s.dropHooks(ctx, rec.Owner, rec.ID); err != nil {
		return notificationsapi.WebhookDeleted{}, apierr.Wrap(err, apierr.Unavailable, "could not delete the webhook; try again")
	}
	return notificationsapi.WebhookDeleted{ID: rec.ID, Deleted: true}, nil
}

// dropHooks deletes webhooks and their delivery logs; their pending
// deliveries are dropped when next due (the webhook is gone).
func (s *Service) dropHooks(ctx context.Context, owner string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.Del(ctx, hookKey(id), logKey(id))
			p.SRem(ctx, hooksKey(owner), id)
		}
		return nil
	})
	return err
}

func (s *Service) deliveries(ctx context.Context, ref notificationsapi.WebhookRef) (notificationsapi.DeliveryList, error) {
	out := notificationsapi.DeliveryList{WebhookID: ref.ID, Deliveries: []notificationsapi.Delivery{}}
	if _, err := s.ownedHook(ctx, ref); err != nil {
		return out, err
	}
	docs, err := s.rdb.LRange(ctx, logKey(ref.ID), 0, -1).Result()
	if err != nil {
		return out, apierr.Wrap(err, apierr.Unavailable, "delivery attempts are unavailable; try again")
	}
	for _, doc := range docs {
		var d notificationsapi.Delivery
		if err := json.Unmarshal([]byte(doc), &d); err == nil {
			out.Deliveries = append(out.Deliveries, d)
		}
	}
	return out, nil
}
