package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/config"
)

// runToken runs `clerkpath token` in-process with the given environment.
func runToken(t *testing.T, vars map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	env := environment{getenv: func(k string) string { return vars[k] }, stdout: &out, stderr: &errb}
	err := run(context.Background(), append([]string{"token", "--role", "seeker", "--sub", "s-1"}, args...), env)
	return strings.TrimSpace(out.String()), err
}

// verifies says whether the server configured with pubPath accepts tok.
func verifies(t *testing.T, pubPath, tok string) bool {
	t.Helper()
	pem, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(context.Background(), auth.Options{PublicKeyPEM: pem, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Leeway: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	_, err = v.Verify(tok)
	return err == nil
}

// Run where no server keeps its data, `clerkpath token` refuses, naming
// where it looked and how to point at the right key, and creates nothing;
// --init creates the key pair that `clerkpath run` then trusts.
func TestTokenNeverMintsANewKeySilently(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "elsewhere")
	vars := map[string]string{config.EnvDataDir: data}
	tok, err := runToken(t, vars)
	if err == nil || tok != "" {
		t.Fatalf("token without a key: %q, %v", tok, err)
	}
	looked := filepath.Join(data, "dev-keys", auth.PrivateKeyFile)
	for _, want := range []string{looked, config.EnvDataDir, "--key", "--init"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "dev-keys")); !os.IsNotExist(err) {
		t.Fatalf("a refused token left a key directory behind: %v", err)
	}

	tok, err = runToken(t, vars, "--init")
	if err != nil {
		t.Fatal(err)
	}
	_, pub, err := ensureDevKeys(config.Config{DataDir: data}) // what `clerkpath run` trusts
	if err != nil {
		t.Fatal(err)
	}
	if !verifies(t, pub, tok) {
		t.Fatal("the server does not accept a token made with --init's key")
	}
	again, err := runToken(t, vars) // the same key, found now
	if err != nil || !verifies(t, pub, again) {
		t.Fatalf("second token: %v", err)
	}
}

// With CLERKPATH_JWT_PUBLIC_KEY_FILE set, the token is signed with the
// private half beside it; a key that is not that pair, or no private half,
// or a JWKS-verifying server, is refused with a message saying why.
func TestTokenUsesTheKeyTheServerTrusts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, pub, err := auth.WriteKeyPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{config.EnvJWTPublicKey: pub, config.EnvDataDir: t.TempDir()}
	tok, err := runToken(t, vars)
	if err != nil || !verifies(t, pub, tok) {
		t.Fatalf("token with the configured pair: %v", err)
	}

	other := t.TempDir()
	otherPriv, _, err := auth.WriteKeyPair(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runToken(t, vars, "--key", otherPriv); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("a key the server would reject: %v", err)
	}

	lonely := filepath.Join(t.TempDir(), auth.PublicKeyFile)
	b, _ := os.ReadFile(pub)
	if err := os.WriteFile(lonely, b, 0o600); err != nil {
		t.Fatal(err)
	}
	vars[config.EnvJWTPublicKey] = lonely
	if _, err := runToken(t, vars); err == nil || !strings.Contains(err.Error(), lonely) || !strings.Contains(err.Error(), "--key") {
		t.Fatalf("no private half beside the public key: %v", err)
	}
	tok, err = runToken(t, vars, "--key", filepath.Join(dir, auth.PrivateKeyFile))
	if err != nil || !verifies(t, lonely, tok) {
		t.Fatalf("--key with the matching private key: %v", err)
	}

	jwks := map[string]string{config.EnvJWKSURL: "https://idp.example/.well-known/jwks.json", config.EnvDataDir: t.TempDir()}
	if _, err := runToken(t, jwks); err == nil || !strings.Contains(err.Error(), "idp.example") {
		t.Fatalf("a server verifying with JWKS: %v", err)
	}
}
