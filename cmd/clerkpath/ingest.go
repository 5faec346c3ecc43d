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

// ingestOptions are clerkpath ingest's flags.
type ingestOptions struct {
	dry, sync, progress bool
	org, columns, today string
}

func cmdIngest(ctx context.Context, args []string, env environment) error {
	opt, files, err := parseIngestFlags(args, env.stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	now, err := ingestDay(opt)
	if err != nil {
		return err
	}
	colMap, err := parseColumns(opt.columns)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(env.stdout)
	defer out.Flush()
	run := &ingestRun{opt: opt, cols: colMap, now: now, out: out, errOut: json.NewEncoder(env.stderr),
		barOut: env.stderr, showBar: opt.progress || obs.IsTerminal(env.stderr)}
	if opt.dry {
		run.zcta, _ = geo.LoadZCTAFile(cfg.ZCTAFile) // without it, ZIP-only postings get no coordinates
	} else {
		if opt.org == "" {
			return errors.New("--org is required to publish (or use --dry-run)")
		}
		nc, err := connectIngest(ctx, cfg)
		if err != nil {
			return err
		}
		defer natsx.Drain(nc, 5*time.Second)
		run.send = ingestSender(nc, opt, colMap)
	}
	for _, name := range files {
		if err := run.file(ctx, name); err != nil {
			return err
		}
	}
	out.Flush()
	run.tot.print(env.stderr, opt)
	if run.tot.rejected > 0 {
		return fmt.Errorf("%d records rejected (listed above as JSON lines)", run.tot.rejected)
	}
	return nil
}

// parseIngestFlags returns the flags and the files; flag.ErrHelp when help
// was asked for.
func parseIngestFlags(args []string, stderr io.Writer) (ingestOptions, []string, error) {
	var opt ingestOptions
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&opt.dry, "dry-run", false, "publish nothing: print each normalised posting as a JSON line (rejected records to stderr)")
	fs.StringVar(&opt.org, "org", "", "the employer organisation the postings belong to (required unless --dry-run)")
	fs.StringVar(&opt.columns, "columns", "", `CSV column mapping, "Their Header:our_field,…"`)
	fs.BoolVar(&opt.progress, "progress", false, "show a progress bar even when stderr is not a terminal")
	fs.StringVar(&opt.today, "today", "", "with --dry-run: judge dates (stale, expired, in the future) as of this day, YYYY-MM-DD")
	fs.BoolVar(&opt.sync, "sync", false, "the file is the organisation's whole feed (an ATS export): its open postings missing from it are closed as removed_from_feed; one file, sent as one request")
	fs.Usage = func() {
		fmt.Fprint(stderr, ingestUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return opt, nil, err
		}
		return opt, nil, errUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return opt, nil, errUsage
	}
	if opt.sync && (fs.NArg() != 1 || opt.dry) {
		return opt, nil, errors.New("--sync takes exactly one file, the whole feed, and cannot be a --dry-run")
	}
	return opt, fs.Args(), nil
}

// ingestUsage is the help of clerkpath ingest, before its flags.
const ingestUsage = `Usage: clerkpath ingest [--dry-run] [--org ORG] [--columns MAP] [--sync] FILE...

Reads postings as JSON (.json: an object or an array), NDJSON (.ndjson, .jsonl), CSV (.csv)
or schema.org JobPosting JSON-LD (.jsonld, or .json with @context) and submits them to the ingest service
on $CLERKPATH_NATS_URL (default nats://127.0.0.1:4222, the one ` + "`clerkpath run`" + ` starts), in chunks.
`

// ingestDay is the moment dates are judged as of: now, or midday of the
// --today of a dry run.
func ingestDay(opt ingestOptions) (time.Time, error) {
	if opt.today == "" {
		return time.Now(), nil
	}
	if !opt.dry {
		return time.Time{}, errors.New("--today works only with --dry-run: the service judges dates as of today")
	}
	d, err := time.Parse("2006-01-02", opt.today)
	if err != nil {
		return time.Time{}, errors.New("--today: want a date like 2025-06-01")
	}
	return d.Add(12 * time.Hour), nil
}

// parseColumns reads --columns, "Their Header:our_field,…"; nil when empty.
func parseColumns(flagValue string) (map[string]string, error) {
	if flagValue == "" {
		return nil, nil
	}
	colMap := map[string]string{}
	for _, pair := range strings.Split(flagValue, ",") {
		from, to, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, fmt.Errorf(`--columns: want "Their Header:our_field,…"`)
		}
		colMap[strings.TrimSpace(from)] = strings.TrimSpace(to)
	}
	return colMap, nil
}

// connectIngest connects to the NATS server the ingest service listens on.
func connectIngest(ctx context.Context, cfg config.Config) (*nats.Conn, error) {
	url := cfg.NATSURL
	if url == "" {
		url = fmt.Sprintf("nats://127.0.0.1:%d", defaultNATSPort)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	nc, err := platform.ConnectNATS(cctx, cfg, url, "clerkpath-ingest-cli", zerolog.Nop())
	if err != nil {
		return nil, fmt.Errorf("%w (is `clerkpath run` running? set %s to another server)", err, config.EnvNATSURL)
	}
	return nc, nil
}

// ingestSender submits a chunk to the ingest service for the organisation,
// with the column mapping and the sync flag, and returns the reply's body.
func ingestSender(nc *nats.Conn, opt ingestOptions, colMap map[string]string) func(context.Context, chunk) ([]byte, error) {
	colJSON, _ := json.Marshal(colMap)
	return func(ctx context.Context, c chunk) ([]byte, error) {
		h := nats.Header{}
		h.Set("Content-Type", c.contentType)
		h.Set(ingestapi.HeaderEmployerOrg, opt.org)
		if colMap != nil {
			h.Set(ingestapi.HeaderColumns, string(colJSON))
		}
		if opt.sync {
			h.Set(ingestapi.HeaderSync, "true")
		}
		ctx, cancel := context.WithTimeout(ctx, ingestSubmitTimeout)
		defer cancel()
		return ingestapi.Submit.Forward(ctx, nc, rpc.Raw{Data: c.data, Header: h})
	}
}

// print writes the summary lines of a run.
func (tot *ingestTotals) print(w io.Writer, opt ingestOptions) {
	if opt.dry {
		fmt.Fprintf(w, "clerkpath ingest --dry-run: %d normalised, %d rejected\n", tot.normalised, tot.rejected)
		return
	}
	fmt.Fprintf(w, "clerkpath ingest: %d posted, %d updated, %d duplicate, %d rejected\n", tot.posted, tot.updated, tot.duplicate, tot.rejected)
	if tot.closed > 0 {
		fmt.Fprintf(w, "clerkpath ingest: %d of them closed by your organisation (filled, withdrawn, on hold): left closed\n", tot.closed)
	}
	if opt.sync {
		fmt.Fprintf(w, "clerkpath ingest --sync: %d postings missing from the feed closed, %d kept open (a rejected row may name them)\n", tot.removed, tot.keptOpen)
	}
}

// ingestSubmitTimeout bounds one submission (the service's own bound is 2 minutes).
const ingestSubmitTimeout = 2 * time.Minute

// ingestRun is one clerkpath ingest: what each file is read and sent
// with, and the totals so far.
type ingestRun struct {
	opt     ingestOptions
	cols    map[string]string
	now     time.Time
	zcta    *geo.ZCTA                                    // dry runs only
	send    func(context.Context, chunk) ([]byte, error) // nil in a dry run
	out     io.Writer                                    // the normalised postings of a dry run
	errOut  *json.Encoder                                // rejected records
	barOut  io.Writer
	showBar bool
	tot     ingestTotals
}

// file reads one file and sends it in chunks (a --sync feed whole), or
// normalises it locally in a dry run.
func (r *ingestRun) file(ctx context.Context, name string) error {
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
	bar := progressbar.NewOptions64(st.Size(), progressbar.OptionSetWriter(r.barOut), progressbar.OptionSetDescription(name),
		progressbar.OptionShowBytes(true), progressbar.OptionSetVisibility(r.showBar), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
	defer bar.Finish()
	handle := func(c chunk) error {
		defer bar.Add64(c.bytes)
		if r.opt.dry {
			return r.dryRun(name, c)
		}
		return r.submit(ctx, name, c)
	}
	if r.opt.sync {
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

// submit sends a chunk and counts what the service did with its records.
func (r *ingestRun) submit(ctx context.Context, name string, c chunk) error {
	body, err := r.send(ctx, c)
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) && ae.Code == apierr.Invalid {
			// The whole chunk is malformed: report it and go on.
			return r.reject(name, c, 0, 0, ae.Fields)
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
			r.tot.posted++
		case "updated":
			r.tot.updated++
		case "closed":
			r.tot.closed++
		default:
			r.tot.duplicate++
		}
	}
	for _, rej := range res.Rejected {
		if err := r.reject(name, c, rej.Index, rej.Line, rej.Errors); err != nil {
			return err
		}
	}
	r.tot.removed += len(res.Closed)
	r.tot.keptOpen += len(res.KeptOpen)
	return nil
}

// dryRun decodes and normalises a chunk locally, printing each posting.
func (r *ingestRun) dryRun(name string, c chunk) error {
	batch, err := posting.Decode(c.contentType, bytes.NewReader(c.data), posting.DecodeOptions{Columns: r.cols})
	if err != nil {
		return r.reject(name, c, 0, 0, apierr.As(err).Fields)
	}
	for _, e := range batch.Errors {
		if err := r.reject(name, c, e.Index, e.Line, e.Fields); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(r.out)
	for _, raw := range batch.Records {
		p, err := posting.Normalize(raw, posting.NormalizeOptions{Now: r.now, Geo: r.zcta})
		if err != nil {
			if err := r.reject(name, c, raw.Index, raw.Line, apierr.As(err).Fields); err != nil {
				return err
			}
			continue
		}
		r.tot.normalised++
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return nil
}

// reject counts a refused record (its index within the chunk, its line as
// the decoder gave it) and reports it on stderr; a chunk refused whole is
// reported at its first record.
func (r *ingestRun) reject(name string, c chunk, index, line int, fields []apierr.FieldError) error {
	r.tot.rejected++
	return r.errOut.Encode(rejectedLine{File: name, Index: c.firstIndex + index, Line: c.fileLine(index, line), Errors: fields})
}
