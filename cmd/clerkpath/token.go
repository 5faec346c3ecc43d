package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/config"
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
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "Usage: clerkpath token --role R --sub ID [--org ORG] [--ttl 12h]\n\nMints a bearer token signed with the local development key ($CLERKPATH_DATA_DIR/dev-keys),")
		fmt.Fprintln(env.stderr, "which `clerkpath run` trusts when no other key is configured. Not for production.")
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
	privPath, _, err := ensureDevKeys(cfg)
	if err != nil {
		return err
	}
	priv, err := auth.LoadPrivateKey(privPath)
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
