// Package supervise runs redis-server and meilisearch as child processes for
// the all-in-one runner and the test harness: it starts them, waits until
// they answer, restarts them when they die, and stops them without leaving
// orphans (the children get SIGKILL if this process dies first).
package supervise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Spec describes a child process.
type Spec struct {
	Name string
	Path string
	Args []string
	Dir  string
	Env  []string
	// Addr is host:port the child listens on; readiness is a TCP connect.
	Addr string
	// Ready optionally checks more than the port (for example an HTTP health).
	Ready func(ctx context.Context) error
	// Output receives the child's stdout and stderr (default: discarded).
	Output io.Writer
	// Restart restarts the child when it exits unexpectedly.
	Restart bool
}

// Process is a supervised child.
type Process struct {
	spec   Spec
	log    zerolog.Logger
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// Start starts the child and waits (at most until ctx ends or 30 s) until it
// is ready. The returned Process keeps it running until Stop.
func Start(ctx context.Context, spec Spec, log zerolog.Logger) (*Process, error) {
	if spec.Output == nil {
		spec.Output = io.Discard
	}
	p := &Process{spec: spec, log: log.With().Str("child", spec.Name).Logger(), done: make(chan struct{})}
	if err := p.launch(); err != nil {
		return nil, err
	}
	readyCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.waitReady(readyCtx); err != nil {
		p.kill()
		return nil, fmt.Errorf("%s not ready: %w", spec.Name, err)
	}
	superCtx, superCancel := context.WithCancel(context.Background())
	p.cancel = superCancel
	go p.supervise(superCtx)
	return p, nil
}

func (p *Process) launch() error {
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Dir = p.spec.Dir
	cmd.Env = append(os.Environ(), p.spec.Env...)
	cmd.Stdout = p.spec.Output
	cmd.Stderr = p.spec.Output
	// Own process group (Ctrl-C in a terminal reaches only us; we stop the
	// child in order) and SIGKILL if we die, so no orphans survive us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s (%s): %w", p.spec.Name, p.spec.Path, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	return nil
}

func (p *Process) waitReady(ctx context.Context) error {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	for {
		select {
		case <-exited:
			return errors.New("exited during start-up (see its log)")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		c, err := net.DialTimeout("tcp", p.spec.Addr, time.Second)
		if err != nil {
			continue
		}
		c.Close()
		if p.spec.Ready == nil || p.spec.Ready(ctx) == nil {
			return nil
		}
	}
}

func (p *Process) supervise(ctx context.Context) {
	defer close(p.done)
	backoff := 200 * time.Millisecond
	for {
		p.mu.Lock()
		exited := p.exited
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-exited:
		}
		if !p.spec.Restart {
			p.log.Error().Msg("child exited")
			return
		}
		p.log.Warn().Dur("restart_in", backoff).Msg("child exited; restarting")
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
		if err := p.launch(); err != nil {
			p.log.Error().Err(err).Msg("restart failed")
			continue
		}
		readyCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := p.waitReady(readyCtx); err == nil {
			backoff = 200 * time.Millisecond
			p.log.Info().Msg("child restarted")
		}
		cancel()
	}
}

// Stop sends SIGTERM, waits up to timeout, then SIGKILLs.
func (p *Process) Stop(timeout time.Duration) {
	if p.cancel != nil {
		p.cancel()
		<-p.done
	}
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(timeout):
		p.kill()
		<-exited
	}
}

func (p *Process) kill() {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Process.Kill()
	}
}

// Pid returns the child's current process id.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return strconv.Atoi(port)
}

// Binaries: where redis-server and meilisearch are looked up.
const (
	EnvRedisBin = "REDIS_BIN"
	EnvMeiliBin = "MEILI_BIN"
)

// FindRedis returns the redis-server to run: $REDIS_BIN, else redis-server on PATH.
func FindRedis(getenv func(string) string) (string, error) {
	if p := getenv(EnvRedisBin); p != "" {
		return checkExec(p, EnvRedisBin)
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errors.New("redis-server not found: run deployments/local/install.sh (Debian: apt-get install redis-server) or set REDIS_BIN")
	}
	return p, nil
}

// FindMeili returns the meilisearch to run: $MEILI_BIN, else .tools/meilisearch/meilisearch
// in the repository that contains dir, else meilisearch on PATH.
func FindMeili(getenv func(string) string, dir string) (string, error) {
	if p := getenv(EnvMeiliBin); p != "" {
		return checkExec(p, EnvMeiliBin)
	}
	if root, ok := RepoRoot(dir); ok {
		p := filepath.Join(root, ".tools", "meilisearch", "meilisearch")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("meilisearch"); err == nil {
		return p, nil
	}
	return "", errors.New("meilisearch not found: run deployments/local/install.sh (installs Meilisearch 1.21.0 into .tools/) or set MEILI_BIN")
}

// RepoRoot walks up from dir to the directory holding go.work.
func RepoRoot(dir string) (string, bool) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}

func checkExec(p, env string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %w", env, p, err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s=%s: not an executable file", env, p)
	}
	return p, nil
}

// RedisSpec returns the spec of a redis-server on 127.0.0.1:port keeping its
// data (AOF, fsync every second) in dir.
func RedisSpec(bin, dir string, port int) Spec {
	return Spec{
		Name: "redis",
		Path: bin,
		Dir:  dir,
		Args: []string{
			"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
			"--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
			"--protected-mode", "yes", "--daemonize", "no", "--logfile", "", "--databases", "1024",
		},
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
	}
}

// MeiliIndexingMemory is the memory Meilisearch may use for indexing
// (--max-indexing-memory). Its default, two thirds of the machine's memory
// (16 GB on a 24 GB machine), made every indexing task, even of one
// document, touch fresh memory that the kernel had to clear first (huge
// pages): measured in session 15, small tasks (1 to 20 postings) on
// 10,000 cost Meilisearch 47–123 ms of CPU, most of it in the kernel and
// varying run to run, and 14–19 ms with 1 GiB; bulk loads were faster too
// (docs/performance.md, "Session 15"). Compose and Kubernetes set the same
// (MEILI_MAX_INDEXING_MEMORY; the deployment tests check it).
const MeiliIndexingMemory = "1GiB"

// MeiliDBPath is where a meilisearch of MeiliSpec(…, dir, …) keeps its
// database.
func MeiliDBPath(dir string) string { return filepath.Join(dir, "data.ms") }

// MeiliSpec returns the spec of a meilisearch on 127.0.0.1:port with its
// database in dir and the given master key. The key goes to the child in its
// environment (MEILI_MASTER_KEY), never on its command line: any local user
// can read a process's arguments (ps, /proc/<pid>/cmdline), while its
// environment is readable only by its owner.
func MeiliSpec(bin, dir string, port int, masterKey string) Spec {
	return Spec{
		Name: "meilisearch",
		Path: bin,
		Dir:  dir,
		Args: []string{
			"--db-path", MeiliDBPath(dir),
			"--dump-dir", filepath.Join(dir, "dumps"),
			"--snapshot-dir", filepath.Join(dir, "snapshots"),
			"--http-addr", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			"--no-analytics",
			"--env", "development",
			"--log-level", "WARN",
			"--experimental-logs-mode", "json",
			"--max-indexing-memory", MeiliIndexingMemory,
		},
		Env:  []string{"MEILI_NO_ANALYTICS=true", "MEILI_MASTER_KEY=" + masterKey},
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
	}
}

// userHZ is the unit of the CPU times in /proc/PID/stat and /proc/stat: USER_HZ, which
// the kernel fixes at 100 on every architecture Go builds for on Linux
// (sysconf(_SC_CLK_TCK)).
const userHZ = 100

// MemoryMB is a memory field of a process's /proc/PID/status (pid 0: this
// one) in MB: "VmHWM" its peak resident set, "VmRSS" its resident set now.
func MemoryMB(pid int, field string) (float64, error) {
	b, err := readProc(pid, "status")
	if err != nil {
		return 0, err
	}
	return parseStatusMB(b, field)
}

// readProc reads /proc/PID/name (pid 0: /proc/self/name).
func readProc(pid int, name string) ([]byte, error) {
	if pid > 0 {
		return os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
	}
	return os.ReadFile("/proc/self/" + name)
}

// parseStatusMB reads "field:  N kB" from a /proc/PID/status text, in MB.
func parseStatusMB(b []byte, field string) (float64, error) {
	for l := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(l, field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc status %s: %w", field, err)
		}
		return float64(kb) / 1024, nil
	}
	return 0, fmt.Errorf("proc status: no %s", field)
}

// CPUTime is the user and system CPU time a process (pid 0: this one) and
// its children that it has waited for have used, from /proc/PID/stat, to a
// hundredth of a second. The children count: a redis-server rewriting its
// append-only file does it in a forked child, which can cost more CPU
// than Redis itself (issue 14).
func CPUTime(pid int) (time.Duration, error) {
	b, err := readProc(pid, "stat")
	if err != nil {
		return 0, err
	}
	return parseProcStat(b)
}

// parseProcStat reads utime, stime, cutime and cstime (fields 14 to 17)
// of one /proc/PID/stat line. The command name (field 2) is in
// parentheses and may itself hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseProcStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state is field 3, so utime (14) is f[11] and cstime
	// (17) f[14].
	if len(f) < 15 {
		return 0, fmt.Errorf("proc stat: %d fields after the command name, want at least 15", len(f))
	}
	var ticks uint64
	for _, s := range f[11:15] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc stat: cpu time %q: %w", s, err)
		}
		if ticks+n < ticks {
			return 0, fmt.Errorf("cpu time out of range")
		}
		ticks += n
	}
	return tickTime(ticks)
}

// tickTime is ticks of USER_HZ as a duration; a count a Duration cannot
// hold (about 2.9 million years) is an error, not a wrapped negative.
func tickTime(ticks uint64) (time.Duration, error) {
	const tick = time.Second / userHZ
	if ticks > uint64(math.MaxInt64/tick) {
		return 0, fmt.Errorf("cpu time of %d ticks is out of range", ticks)
	}
	return time.Duration(ticks) * tick, nil
}

// MachineBusy is the machine's non-idle CPU time since boot, summed over
// its CPUs, from the first line of /proc/stat.
func MachineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseMachineStat(b)
}

// parseMachineStat reads the "cpu" line of /proc/stat: user, nice,
// system, idle, iowait, irq, softirq, steal, ...; busy is all but idle and
// iowait (guest time is already inside user and nice).
func parseMachineStat(b []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: no cpu line")
	}
	var ticks uint64
	for i, s := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %q: %w", s, err)
		}
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if ticks+n < ticks {
			return 0, fmt.Errorf("cpu time out of range")
		}
		ticks += n
	}
	return tickTime(ticks)
}
