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
	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/contract/credentialsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/services/matching"
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

// rebuildTarget is a projection `clerkpath rebuild` can rebuild: the
// service that owns it builds a new generation and swaps it in (pkg/projection);
// the CLI only asks it and follows its progress.
type rebuildTarget struct {
	name            string
	rebuild, status string // the owner's subjects
}

// rebuildTargets are the projections rebuilt in generations, in the order
// `rebuild all` runs them. The postings index and match lists (owned by the
// matching service) join this list when matching serves its own
// svc.matching.rebuild / .rebuild.status endpoints with a projection.Status.
var rebuildTargets = []rebuildTarget{
	{"profiles", profilesapi.Rebuild.Subject, profilesapi.RebuildStatus.Subject},
	{"credentials", credentialsapi.Rebuild.Subject, credentialsapi.RebuildStatus.Subject},
}

func cmdRebuild(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("rebuild", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	timeout := fs.Duration("timeout", 30*time.Minute, "give up waiting for a build after this long")
	progress := fs.Bool("progress", false, "show a progress bar even when stderr is not a terminal")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "Usage: clerkpath rebuild [-timeout D] [-progress] profiles|credentials|all|postings-index")
		fmt.Fprintln(env.stderr, "\nprofiles, credentials (all: both) ask the owning service to build a new generation of its")
		fmt.Fprintln(env.stderr, "Redis projection from its streams while the old one serves, then swap it in; the command")
		fmt.Fprintln(env.stderr, "follows the build and exits non-zero if it fails. postings-index empties the index and")
		fmt.Fprintln(env.stderr, "deletes its consumer (the old way: searches miss postings until the replay is done).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	var targets []rebuildTarget
	switch what := fs.Arg(0); what {
	case "all":
		targets = rebuildTargets
	case "postings-index":
	default:
		for _, t := range rebuildTargets {
			if t.name == what {
				targets = []rebuildTarget{t}
			}
		}
		if targets == nil {
			fs.Usage()
			return errUsage
		}
	}
	c, err := connectOps(ctx, env)
	if err != nil {
		return err
	}
	defer c.nc.Close()
	if fs.Arg(0) == "postings-index" {
		m := meili.Connect(c.cfg.MeiliURL, c.cfg.MeiliKey)
		defer m.Close()
		if err := matching.ResetPostingsIndex(ctx, m, c.js, c.cfg.IndexPrefix); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "emptied; consumer %s on %s deleted: the service replays %s from the start\n", matching.PostingsIndexConsumer, events.StreamJobs, events.StreamJobs)
		return nil
	}
	showBar := *progress || obs.IsTerminal(env.stderr)
	for _, t := range targets {
		if err := c.rebuild(ctx, env, t, *timeout, showBar); err != nil {
			return fmt.Errorf("rebuild %s: %w", t.name, err)
		}
	}
	return nil
}

// rebuild asks the owner of t to build a new generation and follows the
// build until it is swapped in and the old generation dropped.
func (c *opsConn) rebuild(ctx context.Context, env environment, t rebuildTarget, timeout time.Duration, showBar bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var bar *progressbar.ProgressBar
	st, err := projection.RequestRebuild(ctx, c.nc, t.rebuild, t.status, 200*time.Millisecond, func(st projection.Status) {
		if st.Total == 0 {
			return // not measured yet (or an empty stream)
		}
		if bar == nil {
			// Of known length: an unknown length spins in a goroutine of its own.
			bar = progressbar.NewOptions64(int64(st.Total), progressbar.OptionSetWriter(env.stderr),
				progressbar.OptionSetDescription(fmt.Sprintf("%s generation %d", t.name, st.Generation)),
				progressbar.OptionSetVisibility(showBar), progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		}
		bar.ChangeMax64(int64(st.Total))
		_ = bar.Set64(int64(st.Applied))
	})
	if bar != nil {
		if err == nil {
			_ = bar.Finish()
		}
		_ = bar.Exit()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s: generation %d serves (built from %d stream sequences); the old generation is dropped\n", t.name, st.Generation, st.Total)
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
