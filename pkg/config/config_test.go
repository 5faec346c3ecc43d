package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Load(env())
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.StreamReplicas != 1 || c.RequestTimeout != 10*time.Second || c.RateLimit != 600 || c.RateLimitAnon != 120 {
		t.Fatalf("defaults %+v", c)
	}
	if err := c.Require(EnvNATSURL, EnvRedisURL); err == nil || !strings.Contains(err.Error(), EnvNATSURL) || !strings.Contains(err.Error(), EnvRedisURL) {
		t.Fatalf("Require: %v", err)
	}
}

// Every bad value is reported, each naming its variable, and credentials in
// URLs never appear in the message.
func TestBadValuesNameTheirVariable(t *testing.T) {
	_, err := Load(env(
		EnvNATSURL, "http://x:4222",
		EnvRedisURL, "redis://user:hunter2@host:notaport/0 bad",
		EnvMeiliURL, "http://127.0.0.1:7700",
		EnvHTTPAddr, "8080",
		EnvLogLevel, "loud",
		EnvStreamReplicas, "7",
		EnvRequestTimeout, "forever",
		EnvRateLimit, "-1",
	))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, v := range []string{EnvNATSURL, EnvRedisURL, EnvMeiliKey, EnvHTTPAddr, EnvLogLevel, EnvStreamReplicas, EnvRequestTimeout, EnvRateLimit} {
		if !strings.Contains(msg, v) {
			t.Errorf("error does not name %s:\n%s", v, msg)
		}
	}
	if strings.Contains(msg, "hunter2") {
		t.Errorf("error shows a password:\n%s", msg)
	}
	var ve *VarError
	if !errors.As(err, &ve) {
		t.Errorf("errors are not VarErrors: %T", err)
	}
}

func TestGoodValues(t *testing.T) {
	c, err := Load(env(EnvNATSURL, "nats://a:4222,nats://b:4222", EnvRedisURL, "redis://127.0.0.1:6379/3",
		EnvMeiliURL, "https://search.example", EnvMeiliKey, "k", EnvRequestTimeout, "2s", EnvLogFormat, "json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.RequestTimeout != 2*time.Second || c.LogFormat != "json" {
		t.Fatalf("%+v", c)
	}
}

func TestNATSSecurityFilesAreChecked(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "client.pem")
	if err := os.WriteFile(cert, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		EnvNATSCA:    filepath.Join(dir, "missing-ca.pem"),
		EnvNATSCert:  cert,
		EnvNATSCreds: cert,
		EnvNATSNKey:  cert,
	}
	_, err := Load(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{EnvNATSCA + `="` + env[EnvNATSCA] + `": cannot read the file`, "set " + EnvNATSCert + " and " + EnvNATSKey + " together", "not both"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
