package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/supervise"
)

// devKeyDir is where `clerkpath run` and `clerkpath token` keep the local
// development signing key.
func devKeyDir(cfg config.Config) string { return filepath.Join(cfg.DataDir, "dev-keys") }

// ensureDevKeys creates the development key pair once and returns the
// paths of its private and public halves.
func ensureDevKeys(cfg config.Config) (priv, pub string, err error) {
	dir := devKeyDir(cfg)
	priv, pub = filepath.Join(dir, auth.PrivateKeyFile), filepath.Join(dir, auth.PublicKeyFile)
	if _, err := os.Stat(priv); err == nil {
		return priv, pub, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	if _, _, err := auth.WriteKeyPair(dir); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", "", fmt.Errorf("create development signing key: %w", err)
	}
	return priv, pub, nil
}

func cmdToken(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	role := fs.String("role", "", "seeker, employer, counselor or admin (required)")
	sub := fs.String("sub", "", "the user id: for a seeker, their seeker id (required)")
	org := fs.String("org", "", "the employer organisation (required for employers)")
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token is valid")
	keyFile := fs.String("key", "", "the Ed25519 private key (PEM) to sign with (default: the one the server trusts)")
	initKey := fs.Bool("init", false, "create the development key pair in $CLERKPATH_DATA_DIR/dev-keys when there is none")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "Usage: clerkpath token --role R --sub ID [--org ORG] [--ttl 12h] [--key FILE | --init]\n\nMints a bearer token signed with the key the server trusts: the private half beside")
		fmt.Fprintln(env.stderr, "$CLERKPATH_JWT_PUBLIC_KEY_FILE when that is set, else the local development key that `clerkpath run`")
		fmt.Fprintln(env.stderr, "creates in $CLERKPATH_DATA_DIR/dev-keys (default ./var). It never makes a new key unless told to with --init. Not for production.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("--role: %w", err)
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	priv, err := signingKey(cfg, *keyFile, *initKey)
	if err != nil {
		return err
	}
	tok, err := auth.Mint(priv, auth.Claims{Subject: *sub, Role: r, Org: *org, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: *ttl}, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, tok)
	return nil
}

// signingKey finds the private key whose public half the server verifies
// tokens with, resolved as the server resolves it: an explicit --key (checked
// against CLERKPATH_JWT_PUBLIC_KEY_FILE when that is set); the private half
// beside CLERKPATH_JWT_PUBLIC_KEY_FILE; or the development key under
// CLERKPATH_DATA_DIR, which only --init creates. A key the server would
// reject is refused here, with where it looked and how to point elsewhere.
func signingKey(cfg config.Config, keyFile string, initKey bool) (ed25519.PrivateKey, error) {
	if keyFile == "" && cfg.JWKSURL != "" {
		return nil, fmt.Errorf("the server verifies tokens with the identity provider's keys at %s (%s): get tokens from it, or pass --key with a private key it publishes", cfg.JWKSURL, config.EnvJWKSURL)
	}
	if keyFile == "" && cfg.JWTPublicKey != "" {
		keyFile = filepath.Join(filepath.Dir(cfg.JWTPublicKey), auth.PrivateKeyFile)
		if _, err := os.Stat(keyFile); err != nil {
			return nil, fmt.Errorf("the server trusts the public key %s (%s), and its private half is not beside it at %s: pass --key with the private key file", cfg.JWTPublicKey, config.EnvJWTPublicKey, keyFile)
		}
	}
	if keyFile == "" {
		return devSigningKey(cfg, initKey)
	}
	priv, err := auth.LoadPrivateKey(keyFile)
	if err != nil {
		return nil, err
	}
	if cfg.JWTPublicKey != "" {
		if err := checkKeyPair(priv, cfg.JWTPublicKey); err != nil {
			return nil, err
		}
	}
	return priv, nil
}

// devSigningKey loads the development key `clerkpath run` trusts when no
// other key is configured; with initKey it creates the pair when missing.
func devSigningKey(cfg config.Config, initKey bool) (ed25519.PrivateKey, error) {
	dir, err := filepath.Abs(devKeyDir(cfg))
	if err != nil {
		return nil, err
	}
	privPath := filepath.Join(dir, auth.PrivateKeyFile)
	if _, err := os.Stat(privPath); errors.Is(err, fs.ErrNotExist) {
		if !initKey {
			return nil, noDevKeyError(cfg, privPath)
		}
		if privPath, _, err = ensureDevKeys(cfg); err != nil {
			return nil, err
		}
	}
	return auth.LoadPrivateKey(privPath)
}

// noDevKeyError says where the development key was looked for and how to
// point at the one a running server uses.
func noDevKeyError(cfg config.Config, looked string) error {
	msg := fmt.Sprintf("no development signing key at %s (%s=%q, relative to the current directory). "+
		"Run clerkpath token in the directory `clerkpath run` runs in, set %s to the server's data directory, "+
		"or pass --key with the private key file; --init creates a new key pair, which a server already running does not trust",
		looked, config.EnvDataDir, cfg.DataDir, config.EnvDataDir)
	if cwd, err := os.Getwd(); err == nil {
		if root, ok := supervise.RepoRoot(cwd); ok {
			found := filepath.Join(root, "var", "dev-keys", auth.PrivateKeyFile)
			if _, err := os.Stat(found); err == nil && found != looked {
				msg += fmt.Sprintf(" (this repository has one: %s=%s)", config.EnvDataDir, filepath.Join(root, "var"))
			}
		}
	}
	return errors.New(msg)
}

// checkKeyPair refuses a private key whose public half is not the one in
// pubPath: the server would reject every token it signs.
func checkKeyPair(priv ed25519.PrivateKey, pubPath string) error {
	data, err := os.ReadFile(pubPath)
	if err != nil {
		return fmt.Errorf("read %s (%s): %w", pubPath, config.EnvJWTPublicKey, err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return fmt.Errorf("%s (%s): no PEM block", pubPath, config.EnvJWTPublicKey)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("%s (%s): %w", pubPath, config.EnvJWTPublicKey, err)
	}
	if want, ok := pub.(ed25519.PublicKey); !ok || !want.Equal(priv.Public()) {
		return fmt.Errorf("the signing key does not match the public key the server trusts (%s=%s): the server would reject its tokens", config.EnvJWTPublicKey, pubPath)
	}
	return nil
}
