package auth

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteKeyPairLoadAndVerify(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	privPath, pubPath, err := WriteKeyPair(dir)
	if err != nil {
		t.Fatalf("WriteKeyPair: %v", err)
	}
	for path, want := range map[string]fs.FileMode{privPath: 0o600, pubPath: 0o644} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		// The umask may only remove bits, never add them.
		if st.Mode().Perm()&^want != 0 {
			t.Errorf("%s mode %v; want at most %v", filepath.Base(path), st.Mode().Perm(), want)
		}
	}
	if st, _ := os.Stat(privPath); st.Mode().Perm()&0o077 != 0 {
		t.Errorf("private key is readable by others: %v", st.Mode().Perm())
	}

	priv, err := LoadPrivateKey(privPath)
	if err != nil {
		t.Fatalf("LoadPrivateKey: %v", err)
	}
	pubPEM, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	v := newTestVerifier(t, pubPEM)
	tok, err := Mint(priv, Claims{Subject: "dev-1", Role: RoleAdmin, Issuer: testIssuer, Audience: testAudience, TTL: time.Hour}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := v.Verify(tok); err != nil || p != (Principal{Subject: "dev-1", Role: RoleAdmin}) {
		t.Fatalf("Verify minted token: %+v, %v", p, err)
	}

	// A second call must not clobber the existing pair.
	if _, _, err := WriteKeyPair(dir); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second WriteKeyPair: %v; want fs.ErrExist", err)
	}
	again, err := LoadPrivateKey(privPath)
	if err != nil || !again.Equal(priv) {
		t.Fatal("existing private key changed")
	}
}

func TestLoadPrivateKeyRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	_, pubPath, err := WriteKeyPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not pem"), 0o600)
	for _, p := range []string{pubPath, junk, filepath.Join(dir, "missing.pem")} {
		if _, err := LoadPrivateKey(p); err == nil {
			t.Errorf("LoadPrivateKey(%s) succeeded", filepath.Base(p))
		}
	}
}

func TestMintClaims(t *testing.T) {
	priv := keys().ed
	tok, err := Mint(priv, Claims{Subject: "u1", Role: RoleEmployer, Org: "acme", Issuer: "iss", Audience: "aud", TTL: 15 * time.Minute}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	var header map[string]any
	var claims map[string]any
	decode := func(seg string, into any) {
		b, err := base64.RawURLEncoding.DecodeString(seg)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatal(err)
		}
	}
	decode(parts[0], &header)
	decode(parts[1], &claims)
	if header["alg"] != "EdDSA" || header["kid"] != KeyID(priv.Public().(ed25519.PublicKey)) {
		t.Errorf("header %v", header)
	}
	now := float64(testNow.Unix())
	want := map[string]any{"sub": "u1", "role": "employer", "org": "acme", "iss": "iss", "iat": now, "nbf": now, "exp": now + 900}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v; want %v", k, claims[k], v)
		}
	}
	if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != "aud" {
		t.Errorf("aud = %v", claims["aud"])
	}
	jti, _ := claims["jti"].(string)
	if len(jti) < 16 {
		t.Errorf("jti %q is not random enough", jti)
	}
	tok2, _ := Mint(priv, Claims{Subject: "u1", Role: RoleEmployer, Org: "acme", Issuer: "iss", Audience: "aud", TTL: 15 * time.Minute}, testNow)
	if tok2 == tok {
		t.Error("two mints gave the same token; jti is not random")
	}
}

func TestMintRefusesBadClaims(t *testing.T) {
	good := Claims{Subject: "u1", Role: RoleSeeker, Issuer: "iss", Audience: "aud", TTL: time.Minute}
	cases := map[string]func(*Claims){
		"empty subject":        func(c *Claims) { c.Subject = "" },
		"bad subject":          func(c *Claims) { c.Subject = "a b" },
		"unknown role":         func(c *Claims) { c.Role = "root" },
		"employer without org": func(c *Claims) { c.Role = RoleEmployer },
		"seeker with org":      func(c *Claims) { c.Org = "acme" },
		"no issuer":            func(c *Claims) { c.Issuer = "" },
		"no audience":          func(c *Claims) { c.Audience = "" },
		"zero TTL":             func(c *Claims) { c.TTL = 0 },
	}
	for name, edit := range cases {
		c := good
		edit(&c)
		if _, err := Mint(keys().ed, c, testNow); err == nil {
			t.Errorf("%s: Mint succeeded", name)
		}
	}
	if _, err := Mint(ed25519.PrivateKey{1, 2, 3}, good, testNow); err == nil {
		t.Error("Mint with a short key succeeded")
	}
}

// RFC 8037 appendix A.3 gives the thumbprint of its example key.
func TestKeyIDIsRFC7638Thumbprint(t *testing.T) {
	x, err := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := KeyID(ed25519.PublicKey(x)), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Fatalf("KeyID = %s; want %s", got, want)
	}
}

// Minting and verifying use the same clock contract: a token minted at t is
// valid at t and invalid once its TTL (plus leeway) has passed.
func TestMintedTokenLifetime(t *testing.T) {
	k := keys()
	tok, err := Mint(k.ed, Claims{Subject: "u1", Role: RoleSeeker, Issuer: testIssuer, Audience: testAudience, TTL: time.Minute}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at time.Time
		ok bool
	}{
		{testNow, true},
		{testNow.Add(time.Minute + testLeeway - time.Second), true},
		{testNow.Add(time.Minute + testLeeway), false},
		{testNow.Add(-testLeeway - time.Second), false},
	} {
		o := testOptions(k.edPEM)
		o.Now = func() time.Time { return tc.at }
		v, err := NewVerifier(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(tok)
		if (err == nil) != tc.ok {
			t.Errorf("at %s: err %v; want ok=%v", tc.at.Sub(testNow), err, tc.ok)
		}
	}
}
