package supervise

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// The master key reaches meilisearch through its environment: it is not in
// the process's arguments (world-readable in /proc/<pid>/cmdline and ps),
// and yet it is in force (a request without it is refused).
func TestMeiliMasterKeyIsNotOnTheCommandLine(t *testing.T) {
	bin, err := FindMeili(os.Getenv, ".")
	if err != nil {
		t.Skip(err)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("cmdline-test-key-%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := Start(ctx, MeiliSpec(bin, t.TempDir(), port, key), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(5 * time.Second)

	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	if len(cmdline) == 0 || bytes.Contains(cmdline, []byte(key)) {
		t.Fatalf("meilisearch's arguments carry the master key: %q", bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
	}
	if bytes.Contains(cmdline, []byte("--master-key")) {
		t.Fatalf("meilisearch's arguments name a master key: %q", bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
	}

	base := fmt.Sprintf("http://127.0.0.1:%d/keys", port)
	for _, c := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer " + key, http.StatusOK}} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("GET /keys, key sent %t: %d, want %d (is the key in force?)", c.auth != "", res.StatusCode, c.want)
		}
	}
}

// A process's CPU is read from its stat line, fields counted after the
// command name's last ')', since the name may hold spaces and ')': its
// own user and system time and its waited-for children's.
func TestParseProcStatCountsFromTheLastParenthesis(t *testing.T) {
	line := "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 40 8 20 0 3 0 1000 100000 200 18446744073709551615\n"
	got, err := parseProcStat([]byte(line))
	if err != nil || got != 3730*time.Millisecond {
		t.Fatalf("parseProcStat = %v, %v; want 3.73 s (250 + 75 + 40 + 8 ticks of 1/100 s)", got, err)
	}
	for _, bad := range []string{"", "4242 a S 1", "4242 (x) S 1 2 3", "4242 (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 2x5 75 0 0", "4242 (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 -1 0"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q): no error", bad)
		}
	}
}

// A process is charged the CPU of a child it forked and waited for, as a
// redis-server is charged its append-only-file rewrites: a shell runs a
// child that burns a fixed 300 ms of its own CPU (however long that takes
// on a loaded machine), waits for it, says so, and sleeps.
func TestCPUTimeCountsAWaitedForChild(t *testing.T) {
	const burn = 300 * time.Millisecond
	cmd := exec.Command("sh", "-c", `"$0" -test.run='^TestHelperBurnCPU$' >/dev/null; echo reaped; sleep 30`, os.Args[0])
	cmd.Env = append(os.Environ(), "SUPERVISE_BURN_CPU="+burn.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "reaped\n" {
		t.Fatalf("the shell said %q, %v; want reaped", line, err)
	}
	d, err := CPUTime(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if d < burn {
		t.Fatalf("the shell is charged %v, want at least its child's %v", d, burn)
	}
}

// TestHelperBurnCPU is the busy child of TestCPUTimeCountsAWaitedForChild,
// run as its own process; on its own it does nothing.
func TestHelperBurnCPU(t *testing.T) {
	want, err := time.ParseDuration(os.Getenv("SUPERVISE_BURN_CPU"))
	if err != nil {
		t.Skip("the child of TestCPUTimeCountsAWaitedForChild")
	}
	for x := 0; ; x++ {
		if x%100000 == 0 {
			d, err := CPUTime(0)
			if err != nil {
				t.Fatal(err)
			}
			if d >= want {
				return
			}
		}
	}
}

// parseProcStat never panics, and what it accepts is a whole number of
// ticks, never negative.
func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 1000 100000 200\n"))
	f.Add([]byte("1 (x) S"))
	f.Add([]byte(")"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseProcStat(b)
		if err == nil && (d < 0 || d%(time.Second/userHZ) != 0) {
			t.Fatalf("parseProcStat(%q) = %v", b, d)
		}
	})
}

// The machine's busy time is every column of /proc/stat's cpu line but
// idle and iowait; guest time (columns 9 and 10) is already in user.
func TestParseMachineStatLeavesOutIdleAndIOWait(t *testing.T) {
	got, err := parseMachineStat([]byte("cpu  100 20 30 5000 400 5 6 7 99 99\ncpu0 1 2 3 4 5 6 7 8\n"))
	if err != nil || got != 1680*time.Millisecond {
		t.Fatalf("parseMachineStat = %v, %v; want 1.68 s (100+20+30+5+6+7 ticks)", got, err)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 x 4 5"} {
		if _, err := parseMachineStat([]byte(bad)); err == nil {
			t.Errorf("parseMachineStat(%q): no error", bad)
		}
	}
}

// parseMachineStat never panics, and what it accepts is a whole number
// of ticks, never negative.
func FuzzParseMachineStat(f *testing.F) {
	f.Add([]byte("cpu  100 20 30 5000 400 5 6 7 99 99\ncpu0 1 2 3 4 5 6 7 8\n"))
	f.Add([]byte("cpu 1 2 3 4"))
	f.Add([]byte("cpu"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := parseMachineStat(b); err == nil && (d < 0 || d%(time.Second/userHZ) != 0) {
			t.Fatalf("parseMachineStat(%q) = %v", b, d)
		}
	})
}

// A memory field of /proc/PID/status is read in MB, whatever its
// alignment; a missing or garbled field is an error, and this process's
// own peak is a positive number.
func TestMemoryMB(t *testing.T) {
	status := []byte("Name:\tredis-server\nVmPeak:\t  300000 kB\nVmHWM:\t   204800 kB\nVmRSS:\t  102400 kB\n")
	for field, want := range map[string]float64{"VmHWM": 200, "VmRSS": 100} {
		if got, err := parseStatusMB(status, field); err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v MB", field, got, err, want)
		}
	}
	for _, bad := range []string{"VmSwap", "Vm"} {
		if _, err := parseStatusMB(status, bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if _, err := parseStatusMB([]byte("VmHWM:\tlots kB\n"), "VmHWM"); err == nil {
		t.Error("a garbled VmHWM: no error")
	}
	if mb, err := MemoryMB(0, "VmHWM"); err != nil || mb <= 0 {
		t.Errorf("this process's VmHWM: %v, %v", mb, err)
	}
}
