package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// --memory-limit takes NAME=LIMIT for a bench service and a GOMEMLIMIT
// value; anything else is refused before a stack starts.
func TestBenchMemoryLimitFlag(t *testing.T) {
	for v, ok := range map[string]bool{"250MiB": true, "1GiB": true, "268435456": true, "512B": true,
		"": false, "MiB": false, "-1MiB": false, "250MB": false, "0": false, "lots": false} {
		if validMemoryLimit(v) != ok {
			t.Errorf("validMemoryLimit(%q) = %v", v, !ok)
		}
	}
	for _, arg := range []string{"matching", "matching=lots", "nosuch=250MiB", "=250MiB"} {
		var stderr bytes.Buffer
		env := environment{getenv: os.Getenv, stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &stderr}
		err := cmdBench(context.Background(), []string{"--memory-limit", arg}, env)
		if err == nil || !strings.Contains(stderr.String()+err.Error(), "NAME=LIMIT") {
			t.Errorf("--memory-limit %s: %v; %s", arg, err, stderr.String())
		}
	}
}
