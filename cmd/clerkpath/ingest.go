package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/natsx"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// rejectedLine is how the CLI reports a refused record (to stderr).
type rejectedLine struct {
	File   string              `json:"file"`
	Index  int                 `json:"index"`
	Line   int                 `json:"line,omitempty"`
	Errors []apierr.FieldError `json:"errors"`
}

type ingestTotals struct{ posted, updated, duplicate, closed, rejected, normalised, removed, keptOpen int }

func cmdIngest(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	dry := fs.Bool("dry-run", false, "publish nothing: print each normalised posting as a JSON line (rejected records to stderr)")
	org := fs.String("org", "", "the employer organisation the postings belong to (required unless --dry-run)")
	columns := fs.String("columns", "", `CSV column mapping, "Their Header:our_field,…"`)
	progress := fs.Bool("progress", false, "show a progress bar even when stderr is not a terminal")
	todayFlag := fs.String("today", "", "with --dry-run: judge dates (stale, expired, in the future) as of this day, YYYY-MM-DD")
	sync := fs.Bool("sync", false, "the file is the organisation's whole feed (an ATS export): its open postings missing from it are closed as removed_from_feed; one file, sent as one request")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "Usage: clerkpath ingest [--dry-run] [--org ORG] [--columns MAP] [--sync] FILE...")
		fmt.Fprintln(env.stderr, "\nReads postings as JSON (.json: an object or an array), NDJSON (.ndjson, .jsonl), CSV (.csv)")
		fmt.Fprintln(env.stderr, "or schema.org JobPosting JSON-LD (.jsonld, or .json with @context) and submits them to the ingest service")
		fmt.Fprintln(env.stderr, "on $CLERKPATH_NATS_URL (default nats://127.0.0.1:4222, the one `clerkpath run` starts), in chunks.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	if *sync && (fs.NArg() != 1 || *dry) {
		return errors.New("--sync takes exactly one file, the whole feed, and cannot be a --dry-run")
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	now := time.Now()
	if *todayFlag != "" {
		if !*dry {
			return errors.New("--today works only with --dry-run: the service judges dates as of today")
		}
		d, err := time.Parse("2006-01-02", *todayFlag)
		if err != nil {
			return errors.New("--today: want a date like 2025-06-01")
		}
		now = d.Add(12 * time.Hour)
	}
	var colMap map[string]string
	if *columns != "" {
		colMap = map[string]string{}
		for _, pair := range strings.Split(*columns, ",") {
			from, to, ok := strings.Cut(pair, ":")
			if !ok {
				return fmt.Errorf(`--columns: want "Their Header:our_field,…"`)
			}
			colMap[strings.TrimSpace(from)] = strings.TrimSpace(to)
		}
	}
	var send func(ctx context.Context, c chunk) ([]byte, error)
	var zcta *geo.ZCTA
	if *dry {
		zcta, _ = geo.LoadZCTAFile(cfg.ZCTAFile) // without it, ZIP-only postings get no coordinates
	} else {
		if *org == "" {
			return errors.New("--org is required to publish (or use --dry-run)")
		}
		url := cfg.NATSURL
		if url == "" {
			url = fmt.Sprintf("nats://127.0.0.1:%d", defaultNATSPort)
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		nc, err := platform.ConnectNATS(cctx, cfg, url, "clerkpath-ingest-cli", zerolog.Nop())
		cancel()
		if err != nil {
			return fmt.Errorf("%w (is `clerkpath run` running? set %s to another server)", err, config.EnvNATSURL)
		}
		defer natsx.Drain(nc, 5*time.Second)
		colJSON, _ := json.Marshal(colMap)
		send = func(ctx context.Context, c chunk) ([]byte, error) {
			h := nats.Header{}
			h.Set("Content-Type", c.contentType)
			h.Set(ingestapi.HeaderEmployerOrg, *org)
			if colMap != nil {
				h.Set(ingestapi.HeaderColumns, string(colJSON))
			}
			if *sync {
				h.Set(ingestapi.HeaderSync, "true")
			}
			ctx, cancel := context.WithTimeout(ctx, ingestSubmitTimeout)
			defer cancel()
			return ingestapi.Submit.Forward(ctx, nc, rpc.Raw{Data: c.data, Header: h})
		}
	}
	out := bufio.NewWriter(env.stdout)
	defer out.Flush()
	errOut := json.NewEncoder(env.stderr)
	var tot ingestTotals
	for _, name := range fs.Args() {
		if err := ingestFile(ctx, name, colMap, *dry, *sync, now, zcta, send, out, errOut, &tot, *progress || obs.IsTerminal(env.stderr), env.stderr); err != nil {
			return err
		}
	}
	out.Flush()
	if *dry {
		fmt.Fprintf(env.stderr, "clerkpath ingest --dry-run: %d normalised, %d rejected\n", tot.normalised, tot.rejected)
	} else {
		fmt.Fprintf(env.stderr, "clerkpath ingest: %d posted, %d updated, %d duplicate, %d rejected\n", tot.posted, tot.updated, tot.duplicate, tot.rejected)
		if tot.closed > 0 {
			fmt.Fprintf(env.stderr, "clerkpath ingest: %d of them closed by your organisation (filled, withdrawn, on hold): left closed\n", tot.closed)
		}
		if *sync {
			fmt.Fprintf(env.stderr, "clerkpath ingest --sync: %d postings missing from the feed closed, %d kept open (a rejected row may name them)\n", tot.removed, tot.keptOpen)
		}
	}
	if tot.rejected > 0 {
		return fmt.Errorf("%d records rejected (listed above as JSON lines)", tot.rejected)
	}
	return nil
}

// ingestSubmitTimeout bounds one submission (the service's own bound is 2 minutes).
const ingestSubmitTimeout = 2 * time.Minute

func ingestFile(ctx context.Context, name string, cols map[string]string, dry, whole bool, now time.Time, zcta *geo.ZCTA,
	send func(context.Context, chunk) ([]byte, error), out io.Writer, errOut *json.Encoder, tot *ingestTotals, showBar bool, barOut io.Writer) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(4096)
	mt, err := mediaTypeOf(name, head)
	if err != nil {
		return err
	}
	bar := progressbar.NewOptions64(st.Size(), progressbar.OptionSetWriter(barOut), progressbar.OptionSetDescription(name),
		progressbar.OptionShowBytes(true), progressbar.OptionSetVisibility(showBar), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
	defer bar.Finish()
	handle := func(c chunk) error {
		defer bar.Add64(c.bytes)
		if dry {
			return dryRun(c, name, cols, zcta, now, out, errOut, tot)
		}
		body, err := send(ctx, c)
		if err != nil {
			var ae *apierr.Error
			if errors.As(err, &ae) && ae.Code == apierr.Invalid {
				// The whole chunk is malformed: report it and go on.
				tot.rejected++
				return errOut.Encode(rejectedLine{File: name, Index: c.firstIndex, Line: c.fileLine(0, 0), Errors: ae.Fields})
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		var res ingestapi.Result
		if err := json.Unmarshal(body, &res); err != nil {
			return fmt.Errorf("%s: bad reply: %w", name, err)
		}
		for _, a := range res.Accepted {
			switch a.Status {
			case "posted":
				tot.posted++
			case "updated":
				tot.updated++
			case "closed":
				tot.closed++
			default:
				tot.duplicate++
			}
		}
		for _, r := range res.Rejected {
			tot.rejected++
			if err := errOut.Encode(rejectedLine{File: name, Index: c.firstIndex + r.Index, Line: c.fileLine(r.Index, r.Line), Errors: r.Errors}); err != nil {
				return err
			}
		}
		tot.removed += len(res.Closed)
		tot.keptOpen += len(res.KeptOpen)
		return nil
	}
	if whole {
		// A sync is one submission: closing what a chunk lacks would close
		// the rest of the feed.
		data, err := io.ReadAll(io.LimitReader(br, posting.MaxBodyBytes+1))
		if err != nil {
			return err
		}
		if len(data) > posting.MaxBodyBytes {
			return fmt.Errorf("%s: a --sync feed is sent as one request of at most %d bytes", name, posting.MaxBodyBytes)
		}
		return handle(chunk{contentType: mt, data: data, bytes: st.Size()})
	}
	return splitFile(br, mt, handle)
}

// dryRun decodes and normalises a chunk locally, printing each posting.
func dryRun(c chunk, name string, cols map[string]string, zcta *geo.ZCTA, now time.Time, out io.Writer, errOut *json.Encoder, tot *ingestTotals) error {
	batch, err := posting.Decode(c.contentType, bytes.NewReader(c.data), posting.DecodeOptions{Columns: cols})
	if err != nil {
		tot.rejected++
		return errOut.Encode(rejectedLine{File: name, Index: c.firstIndex, Line: c.fileLine(0, 0), Errors: apierr.As(err).Fields})
	}
	for _, e := range batch.Errors {
		tot.rejected++
		if err := errOut.Encode(rejectedLine{File: name, Index: c.firstIndex + e.Index, Line: c.fileLine(e.Index, e.Line), Errors: e.Fields}); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(out)
	for _, raw := range batch.Records {
		p, err := posting.Normalize(raw, posting.NormalizeOptions{Now: now, Geo: zcta})
		if err != nil {
			tot.rejected++
			if err := errOut.Encode(rejectedLine{File: name, Index: c.firstIndex + raw.Index, Line: c.fileLine(raw.Index, raw.Line), Errors: apierr.As(err).Fields}); err != nil {
				return err
			}
			continue
		}
		tot.normalised++
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return nil
}
