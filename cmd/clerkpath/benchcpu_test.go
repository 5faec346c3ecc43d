package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A metered span gives each process the CPU it used in the span, on this
// machine's real /proc: a process spinning for the span is charged most
// of it, a sleeping one next to nothing, and the machine at least the
// spinner.
func TestBenchMeterChargesEachProcessItsCPU(t *testing.T) {
	spin := exec.Command("sh", "-c", "while :; do :; done")
	sleep := exec.Command("sleep", "30")
	for _, c := range []*exec.Cmd{spin, sleep} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	}
	st := &benchStack{pids: map[string]int{"spin": spin.Process.Pid, "sleep": sleep.Process.Pid}}
	var kept []phaseCPU
	end := st.meter(func(p phaseCPU) { kept = append(kept, p) })("span")
	time.Sleep(800 * time.Millisecond)
	p := end()
	if len(kept) != 1 || kept[0].Phase != "span" {
		t.Fatalf("kept %+v, want the one span", kept)
	}
	if p.Seconds < 0.8 {
		t.Errorf("span lasted %.2f s, want ≥ 0.8", p.Seconds)
	}
	// Two cores shared with other tests: the spinner gets well over a
	// tenth of the span, never more than the span (one thread).
	if s := p.CPU["spin"]; s < 0.1 || s > p.Seconds+0.05 {
		t.Errorf("spinner charged %.2f s over %.2f s", s, p.Seconds)
	}
	if s := p.CPU["sleep"]; s > 0.02 {
		t.Errorf("sleeper charged %.2f s", s)
	}
	if p.CPU[machineCPU] < p.CPU["spin"]-0.02 {
		t.Errorf("machine %.2f s < spinner %.2f s", p.CPU[machineCPU], p.CPU["spin"])
	}
	if _, ok := p.CPU[benchProcessRSS]; !ok {
		t.Errorf("no figure for the bench's own process: %v", p.CPU)
	}
}

// A search row's note gives each process's CPU a request, busiest first,
// with their total; the machine's figure, which holds them, is not added.
func TestPerRequestCPUNamesEachProcess(t *testing.T) {
	p := phaseCPU{Phase: "search 8 ours", Seconds: 10, CPU: map[string]float64{"meilisearch": 8, "matching": 2, "gateway": 2, benchProcessRSS: 1, "redis-server": 0, machineCPU: 19}}
	got := perRequestMS(p, 2000)
	want := "total 6.50 = meilisearch 4.00, gateway 1.00, matching 1.00, bench (nats-server, load generator) 0.50"
	if got != want {
		t.Errorf("perRequestMS =\n %s\nwant\n %s", got, want)
	}
	if got := perRequestMS(p, 0); got != "no requests" {
		t.Errorf("perRequestMS of none = %q", got)
	}
	if got := coresBusy(p); !strings.HasPrefix(got, "machine 1.90: meilisearch 0.80, gateway 0.20, matching 0.20,") {
		t.Errorf("coresBusy = %q", got)
	}
}
