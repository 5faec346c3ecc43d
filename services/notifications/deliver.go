package notifications

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	napi "github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
)

// Standard Webhooks headers (https://www.standardwebhooks.com).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Sign is the webhook-signature of a message: "v1," and the base64
// HMAC-SHA256, keyed with the secret's bytes (the base64 after "whsec_"),
// of "<id>.<timestamp>.<body>".
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Verify checks a delivery as a receiver would: one of the space-separated
// signatures in the webhook-signature header is "v1," and the signature
// of the webhook-id, webhook-timestamp and body, and the timestamp is
// within tolerance of now (replays of old messages are refused).
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, ts := h.Get(HeaderID), h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if id == "" || err != nil {
		return errors.New("webhook: missing or malformed webhook-id or webhook-timestamp")
	}
	if now.Sub(time.Unix(sec, 0)).Abs() > tolerance {
		return errors.New("webhook: timestamp outside the tolerance")
	}
	want, err := Sign(secret, id, sec, body)
	if err != nil {
		return err
	}
	for _, sig := range strings.Fields(h.Get(HeaderSignature)) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return errors.New("webhook: no matching signature")
}

// claimScript leases up to ARGV[3] due deliveries: each is pushed to the
// lease's end, so that no other copy takes it meanwhile, and comes back by
// itself if this copy dies before settling it.
var claimScript = redis.NewScript(`
local jobs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, j in ipairs(jobs) do redis.call('ZADD', KEYS[1], ARGV[2], j) end
return jobs
`)

// deliverLoop delivers due webhooks every PollEvery until ctx ends.
func (s *Service) deliverLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.PollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.deliverDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("webhook deliveries: will retry")
		}
	}
}

// deliverDue delivers the deliveries due now, up to 8 at once.
func (s *Service) deliverDue(ctx context.Context) error {
	now := s.now()
	lease := now.Add(s.opts.DeliveryTimeout + 30*time.Second)
	jobs, err := claimScript.Run(ctx, s.rdb, []string{dueKey}, now.UnixMilli(), lease.UnixMilli(), 32).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("claim deliveries: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, job := range jobs {
		g.Go(func() error {
			if err := s.deliver(ctx, job); err != nil && ctx.Err() == nil {
				s.log.Warn().Err(err).Msg("webhook delivery not settled; retried after its lease")
			}
			return nil
		})
	}
	return g.Wait()
}

// deliver makes one attempt at one delivery and settles it: done, retried
// later, or, after the last retry (or a 410 Gone), the webhook disabled.
func (s *Service) deliver(ctx context.Context, job string) error {
	f, err := s.rdb.HGetAll(ctx, jobKey(job)).Result()
	if err != nil {
		return err
	}
	if len(f) == 0 {
		return s.rdb.ZRem(ctx, dueKey, job).Err()
	}
	hook, err := s.hook(ctx, f["hook"])
	if errors.Is(err, redis.Nil) || (err == nil && hook.Disabled) {
		return s.dropJob(ctx, job)
	}
	if err != nil {
		return err
	}
	attempt, _ := strconv.Atoi(f["attempt"])
	attempt++
	d := napi.Delivery{MessageID: f["msg"], Type: f["type"], Attempt: attempt, At: s.now().UTC()}
	status, derr := s.post(ctx, hook, f["msg"], []byte(f["body"]))
	if ctx.Err() != nil {
		return ctx.Err() // stopping: not an attempt; the lease brings it back
	}
	d.DurationMS = time.Since(d.At).Milliseconds()
	d.Status = status
	d.OK = derr == nil && status >= 200 && status < 300
	switch {
	case derr != nil:
		d.Error = truncate(derr.Error(), 300)
	case !d.OK:
		d.Error = "the receiver answered " + strconv.Itoa(status)
	}
	if d.OK {
		return s.settle(ctx, hook.ID, job, d, nil)
	}
	if status == http.StatusGone || attempt > len(s.opts.Backoff) {
		reason := fmt.Sprintf("disabled after %d failed attempts to deliver %s: %s", attempt, d.MessageID, d.Error)
		if status == http.StatusGone {
			reason = "the receiver answered 410 Gone"
		}
		if err := s.disable(ctx, hook, reason); err != nil {
			return err
		}
		return s.settle(ctx, hook.ID, job, d, nil)
	}
	next := s.now().Add(s.opts.Backoff[attempt-1])
	d.NextTry = &next
	return s.settle(ctx, hook.ID, job, d, &next)
}

// post sends one signed delivery and returns the receiver's status.
func (s *Service) post(ctx context.Context, hook hookRecord, msg string, body []byte) (int, error) {
	ts := s.now().Unix()
	sig, err := Sign(hook.Secret, msg, ts, body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "clerkpath-webhooks/1")
	req.Header.Set(HeaderID, msg)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, sig)
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// settle records the attempt and either reschedules the delivery at next
// or ends it.
func (s *Service) settle(ctx context.Context, hookID, job string, d napi.Delivery, next *time.Time) error {
	doc, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, logKey(hookID), doc)
		p.LTrim(ctx, logKey(hookID), 0, DeliveryLog-1)
		if next != nil {
			p.HSet(ctx, jobKey(job), "attempt", d.Attempt)
			p.ZAdd(ctx, dueKey, redis.Z{Score: float64(next.UnixMilli()), Member: job})
			return nil
		}
		p.Del(ctx, jobKey(job))
		p.ZRem(ctx, dueKey, job)
		return nil
	})
	return err
}

func (s *Service) dropJob(ctx context.Context, job string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, jobKey(job))
		p.ZRem(ctx, dueKey, job)
		return nil
	})
	return err
}

// disable marks a webhook disabled with the reason (unless it was deleted
// meanwhile: SET XX). Its other pending deliveries are dropped when due.
func (s *Service) disable(ctx context.Context, hook hookRecord, reason string) error {
	at := s.now().UTC()
	hook.Disabled, hook.DisabledAt, hook.DisabledReason = true, &at, reason
	doc, err := json.Marshal(hook)
	if err != nil {
		return err
	}
	if err := s.rdb.SetXX(ctx, hookKey(hook.ID), doc, redis.KeepTTL).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("disable webhook: %w", err)
	}
	s.log.Warn().Str("webhook", hook.ID).Msg("webhook disabled after failed deliveries")
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
