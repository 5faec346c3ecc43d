// Command clerkpath is the all-in-one command: `clerkpath run` starts the
// whole backend in one process, and the other subcommands are the tools
// around it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string, env environment) error
}

// environment is everything a subcommand may touch of the process, so that
// tests can run subcommands in-process.
type environment struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func commands() map[string]command {
	return map[string]command{
		"run":     {"start the whole backend: NATS, Redis, Meilisearch, every service and the HTTP gateway", cmdRun},
		"token":   {"mint a development bearer token for a role and user", cmdToken},
		"rebuild": {"rebuild a projection (profiles, credentials, all, postings-index) from its streams", cmdRebuild},
		"dlq":     {"list dead-lettered events, or replay one", cmdDLQ},
		"streams": {"show the streams' replication, or change it (--replicas N)", cmdStreams},
		"seed":    {"load demo postings and seekers into a running backend", cmdSeed},
		"bench":   {"start a private stack, seed it and measure each path beside its baseline (make bench)", cmdBench},
		"ingest":  {"submit job postings from files (JSON, NDJSON, CSV, JSON-LD), or --dry-run to print them normalised", cmdIngest},

		"pathway": {"plan a career from a profile file: eligible now, next steps, route to a target, renewals (no servers)", cmdPathway},
	}
}

// errUsage makes main exit with status 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], environment{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "clerkpath:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, env environment) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stdout, cmds)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "clerkpath: unknown command %q\n\n", args[0])
		usage(env.stderr, cmds)
		return errUsage
	}
	return c.run(ctx, args[1:], env)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "clerkpath: career pathways and job matching for medical records and health information")
	fmt.Fprintln(w, "\nUsage: clerkpath <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'clerkpath <command> --help' for a command's flags.")
}
