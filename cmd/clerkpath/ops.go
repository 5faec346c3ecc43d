package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/platform"
)

// opsConn connects an operations command to the servers of a running
// backend: the configured URLs, else the ones `clerkpath run` starts.
type opsConn struct {
	cfg config.Config
	nc  *nats.Conn
	js  jetstream.JetStream
}

func connectOps(ctx context.Context, env environment) (*opsConn, error) {
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	if cfg.NATSURL == "" {
		cfg.NATSURL = fmt.Sprintf("nats://127.0.0.1:%d", defaultNATSPort)
	}
	if cfg.RedisURL == "" {
		cfg.RedisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", defaultRedisPort)
	}
	if cfg.MeiliURL == "" {
		cfg.MeiliURL = fmt.Sprintf("http://127.0.0.1:%d", defaultMeiliPort)
		key, err := os.ReadFile(filepath.Join(cfg.DataDir, "meili", "master.key"))
		if err == nil {
			cfg.MeiliKey = strings.TrimSpace(string(key))
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	nc, err := platform.ConnectNATS(cctx, cfg, cfg.NATSURL, "clerkpath-ops", zerolog.Nop())
	if err != nil {
		return nil, fmt.Errorf("%w (is the backend running? set %s)", err, config.EnvNATSURL)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &opsConn{cfg: cfg, nc: nc, js: js}, nil
}

func cmdRebuild(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("rebuild", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "Usage: clerkpath rebuild postings-index|profiles\n\nRebuilds a projection from its stream: empties it and deletes its durable consumer; the")
		fmt.Fprintln(env.stderr, "running service recreates the consumer and replays the stream from the start.")
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	c, err := connectOps(ctx, env)
	if err != nil {
		return err
	}
	defer c.nc.Close()
	switch fs.Arg(0) {
	case "postings-index":
		m := meili.Connect(c.cfg.MeiliURL, c.cfg.MeiliKey)
		info, err := m.Index(c.cfg.IndexPrefix+"postings").DeleteAllDocuments(ctx, nil)
		if err == nil {
			err = meili.Wait(ctx, m, info)
		}
		if err != nil {
			return fmt.Errorf("empty the postings index: %w", err)
		}
		return c.dropConsumer(ctx, env, events.StreamJobs, "matching-postings-index")
	case "profiles":
		opt, err := redis.ParseURL(c.cfg.RedisURL)
		if err != nil {
			return err
		}
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		for _, pattern := range []string{"clerkpath:seeker:*", "clerkpath:counselor:*", "clerkpath:employer:*"} {
			it := rdb.Scan(ctx, 0, pattern, 500).Iterator()
			for it.Next(ctx) {
				if err := rdb.Del(ctx, it.Val()).Err(); err != nil {
					return err
				}
			}
			if err := it.Err(); err != nil {
				return err
			}
		}
		return c.dropConsumer(ctx, env, events.StreamProfiles, "profiles-projection")
	}
	fs.Usage()
	return errUsage
}

func (c *opsConn) dropConsumer(ctx context.Context, env environment, stream, name string) error {
	err := c.js.DeleteConsumer(ctx, stream, name)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("delete consumer %s: %w", name, err)
	}
	fmt.Fprintf(env.stdout, "emptied; consumer %s on %s deleted: the service replays %s from the start\n", name, stream, stream)
	return nil
}

// dlqEntry is one dead-lettered event as `clerkpath dlq list` prints it.
type dlqEntry struct {
	Seq       uint64    `json:"seq"`
	Subject   string    `json:"subject"`
	EventID   string    `json:"event_id,omitempty"`
	Reason    string    `json:"reason"`
	Consumer  string    `json:"consumer"`
	Stream    string    `json:"stream"`
	StreamSeq string    `json:"stream_seq,omitempty"`
	Time      time.Time `json:"time"`
}

func cmdDLQ(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("dlq", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "Usage: clerkpath dlq list | clerkpath dlq replay SEQ\n\nlist prints dead-lettered events as JSON lines (payloads are not shown: they may be sealed")
		fmt.Fprintln(env.stderr, "personal data). replay publishes one back to its original subject and removes it from the DLQ.")
	}
	if err := fs.Parse(args); err != nil || fs.NArg() < 1 {
		fs.Usage()
		return errUsage
	}
	c, err := connectOps(ctx, env)
	if err != nil {
		return err
	}
	defer c.nc.Close()
	st, err := c.js.Stream(ctx, events.StreamDLQ)
	if err != nil {
		return err
	}
	switch fs.Arg(0) {
	case "list":
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(env.stdout)
		for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
			m, err := st.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			_ = enc.Encode(dlqEntry{Seq: m.Sequence, Subject: strings.TrimPrefix(m.Subject, events.DLQPrefix), EventID: m.Header.Get(events.HeaderID),
				Reason: m.Header.Get(events.HeaderDLQReason), Consumer: m.Header.Get(events.HeaderDLQConsumer), Stream: m.Header.Get(events.HeaderDLQStream),
				StreamSeq: m.Header.Get(events.HeaderDLQSeq), Time: m.Time})
		}
		return nil
	case "replay":
		if fs.NArg() != 2 {
			fs.Usage()
			return errUsage
		}
		seq, err := strconv.ParseUint(fs.Arg(1), 10, 64)
		if err != nil {
			return fmt.Errorf("SEQ: want a sequence number from `clerkpath dlq list`")
		}
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			return fmt.Errorf("dlq message %d: %w", seq, err)
		}
		out := nats.NewMsg(strings.TrimPrefix(m.Subject, events.DLQPrefix))
		out.Data = m.Data
		for k, vs := range m.Header {
			if strings.HasPrefix(k, "Clerkpath-Dlq-") || k == nats.MsgIdHdr {
				continue
			}
			for _, v := range vs {
				out.Header.Add(k, v)
			}
		}
		if _, err := c.js.PublishMsg(ctx, out, jetstream.WithMsgID(fmt.Sprintf("replay:%d", seq))); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		if err := st.DeleteMsg(ctx, seq); err != nil {
			return fmt.Errorf("replayed, but could not remove it from the DLQ: %w", err)
		}
		fmt.Fprintf(env.stdout, "replayed %d to %s\n", seq, out.Subject)
		return nil
	}
	fs.Usage()
	return errUsage
}
