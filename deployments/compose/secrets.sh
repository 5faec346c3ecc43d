#!/usr/bin/env bash
# Makes the secrets deployments/compose/compose.yaml mounts, under
# deployments/compose/secrets/ (git-ignored), and the .env it reads:
#   secrets/tls/     a CA, the NATS server and route certificate (openssl)
#   secrets/nkeys/   one NKey user seed per service and for ops (nk, run with go)
#   secrets/jwt/     the Ed25519 key pair tokens are signed with (clerkpath token)
#   .env             the NKeys' public halves, the NATS system password, the
#                    Meilisearch master key
# For local use: the files are made readable by the containers' user. In
# Kubernetes keep them in Secrets instead (docs/deploy.md).
# Existing files are kept; delete secrets/ and .env to start over.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/secrets"
mkdir -p "$out/tls" "$out/nkeys" "$out/jwt"

if [ ! -s "$out/tls/ca.crt" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj "/CN=clerkpath NATS CA" -keyout "$out/tls/ca.key" -out "$out/tls/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=nats" \
    -keyout "$out/tls/server.key" -out "$out/tls/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:nats-0.nats,DNS:nats-1.nats,DNS:nats-2.nats,DNS:localhost,IP:127.0.0.1" \
    "extendedKeyUsage=serverAuth,clientAuth" >"$out/tls/ext.cnf"
  openssl x509 -req -in "$out/tls/server.csr" -CA "$out/tls/ca.crt" -CAkey "$out/tls/ca.key" -CAcreateserial \
    -days 825 -extfile "$out/tls/ext.cnf" -out "$out/tls/server.crt" 2>/dev/null
  # One certificate serves clients and routes here; production may split them.
  cp "$out/tls/server.crt" "$out/tls/route.crt"
  cp "$out/tls/server.key" "$out/tls/route.key"
  rm -f "$out/tls/server.csr" "$out/tls/ext.cnf" "$out/tls/ca.srl"
fi

env_lines=()
for u in gateway profiles credentials ingest matching notifications ops; do
  seed="$out/nkeys/$u.nk"
  if [ ! -s "$seed" ]; then
    (cd "$root/pkg" && go run github.com/nats-io/nkeys/nk@v0.4.16 -gen user) >"$seed"
  fi
  pub=$(cd "$root/pkg" && go run github.com/nats-io/nkeys/nk@v0.4.16 -inkey "$seed" -pubout)
  env_lines+=("NATS_NKEY_$(echo "$u" | tr a-z A-Z)=$pub")
done

if [ ! -s "$out/jwt/jwt_ed25519_public.pem" ]; then
  tmp=$(mktemp -d)
  (cd "$root/cmd/clerkpath" && CLERKPATH_DATA_DIR="$tmp" go run . token --init --role admin --sub ops >/dev/null)
  cp "$tmp/dev-keys/"jwt_ed25519_*.pem "$out/jwt/"
  rm -rf "$tmp"
fi

if [ ! -s "$here/.env" ]; then
  {
    echo "NATS_SYS_PASSWORD=$(openssl rand -hex 24)"
    echo "MEILI_MASTER_KEY=$(openssl rand -hex 24)"
  } >"$here/.env"
fi
# NKey public halves are rewritten each time from the seeds.
grep -v '^NATS_NKEY_' "$here/.env" >"$here/.env.tmp" || true
printf '%s\n' "${env_lines[@]}" >>"$here/.env.tmp"
mv "$here/.env.tmp" "$here/.env"

# The containers run as an unprivileged user that does not own these files.
chmod -R a+rX "$out"
echo "secrets in ${out#$root/}, settings in ${here#$root/}/.env"
