package platform

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A service binary without the servers it needs stops at once, naming the
// variables to set.
func TestRunServiceNamesMissingVariables(t *testing.T) {
	var stderr bytes.Buffer
	ran := false
	err := RunService(context.Background(), func(string) string { return "" }, &stderr, "matching", Needs{Redis: true, Meili: true},
		func(context.Context, *Platform) error { ran = true; return nil })
	if err == nil || ran {
		t.Fatalf("err %v, ran %v", err, ran)
	}
	for _, v := range []string{"CLERKPATH_NATS_URL", "CLERKPATH_REDIS_URL", "CLERKPATH_MEILI_URL", "CLERKPATH_MEILI_KEY"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s: %v", v, err)
		}
	}
	err = RunService(context.Background(), func(k string) string {
		if k == "CLERKPATH_LOG_LEVEL" {
			return "chatty"
		}
		return ""
	}, &stderr, "ingest", Needs{}, func(context.Context, *Platform) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "CLERKPATH_LOG_LEVEL") {
		t.Fatalf("bad log level: %v", err)
	}
}
