#!/usr/bin/env bash
# End-to-end test of --web.config.file with real TLS clients (curl, openssl s_client) and a real
# Prometheus scraping over TLS + basic auth and over mutual TLS.
#
#   tests/integration/web_security_test.sh [path/to/io_uring_exporter]
#
# Needs root (the exporter loads BPF), openssl, curl, python3 and prometheus. Everything lives in
# a temporary directory; every process started here is stopped on exit. Takes ~15 s.
set -euo pipefail

exporter=${1:-${IOU_EXPORTER_BIN:-$(dirname "$0")/../../build/io_uring_exporter}}
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root (the exporter loads BPF programs)"
  exit 77
fi
for tool in openssl curl python3 prometheus; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (scripts/install-deps.sh --test)"; exit 1; }
done
[[ -x $exporter ]] || { echo "FAIL: exporter binary $exporter not found (build first)"; exit 1; }
exporter=$(realpath "$exporter")

work=$(mktemp -d /tmp/iou_websec.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
# Hard bound on the whole run, whatever hangs.
(
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleep 55 &
  sleeper=$!
  wait "$sleeper"
  echo "FAIL: timed out after 55 s" >&2
  kill -TERM $$
) &
pids+=($!)

failures=0
pass() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; failures=$((failures + 1)); }
fails() { ! "$@"; }
check() {  # check "description" command...
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cd "$work"

# ------------------------------------------------------------------ PKI
gen_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
# sign NAME CN CA EXTENSIONS
sign() {
  gen_key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
  printf '%b\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
for ca in ca rogue_ca; do
  gen_key "$ca.key"
  openssl req -x509 -new -key "$ca.key" -subj "/CN=$ca" -days 2 -out "$ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
done
sign server localhost ca "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"
sign client prometheus ca "subjectAltName=DNS:prometheus.example\nextendedKeyUsage=clientAuth"
sign other_client intruder ca "subjectAltName=DNS:intruder.example\nextendedKeyUsage=clientAuth"
sign rogue_client prometheus rogue_ca \
  "subjectAltName=DNS:prometheus.example\nextendedKeyUsage=clientAuth"
mkdir -p conf tls && mv server.pem server.key tls/ && chmod 600 tls/server.key

password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')
hash=$(python3 -W ignore -c 'import crypt, sys
print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10)))' "$password" 2>/dev/null || true)
if [[ $hash != '$2'* ]]; then
  # No crypt module: a hash made by htpasswd -nBC 10 for "fakepassword".
  password=fakepassword
  hash='$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi'
fi

# Relative paths: resolved against conf/, not the working directory.
cat >conf/tls_auth.yml <<EOF
tls_server_config:
  cert_file: ../tls/server.pem
  key_file: ../tls/server.key
  min_version: TLS13
http_server_config:
  headers:
    Strict-Transport-Security: max-age=63072000
    X-Frame-Options: sameorigin
basic_auth_users:
  prometheus: '$hash'
EOF
cat >conf/mtls.yml <<EOF
tls_server_config:
  cert_file: $work/tls/server.pem
  key_file: $work/tls/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ../ca.pem
  client_allowed_sans: [prometheus.example]
EOF

# ------------------------------------------------------------------ servers
port_auth=$(free_port)
port_mtls=$(free_port)
"$exporter" --web.config.file="$work/conf/tls_auth.yml" --web.listen-address=127.0.0.1:$port_auth \
  >auth.log 2>&1 &
pids+=($!)
pid_auth=$!
"$exporter" --web.config.file="$work/conf/mtls.yml" --web.listen-address=127.0.0.1:$port_mtls \
  >mtls.log 2>&1 &
pids+=($!)
pid_mtls=$!
auth_url=https://localhost:$port_auth
mtls_url=https://localhost:$port_mtls
mtls_client=(--cacert ca.pem --cert client.pem --key client.key)

# A real Prometheus, started now so that it warms up while the checks below run.
prom_port=$(free_port)
cat >prometheus.yml <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tls_basic_auth
    scheme: https
    basic_auth: {username: prometheus, password: '$password'}
    tls_config: {ca_file: $work/ca.pem, server_name: localhost}
    static_configs: [{targets: ['127.0.0.1:$port_auth']}]
  - job_name: mtls
    scheme: https
    tls_config:
      ca_file: $work/ca.pem
      cert_file: $work/client.pem
      key_file: $work/client.key
      server_name: localhost
    static_configs: [{targets: ['127.0.0.1:$port_mtls']}]
  - job_name: wrong_password
    scheme: https
    basic_auth: {username: prometheus, password: 'not-it'}
    tls_config: {ca_file: $work/ca.pem, server_name: localhost}
    static_configs: [{targets: ['127.0.0.1:$port_auth']}]
EOF
prometheus --config.file=prometheus.yml --storage.tsdb.path="$work/tsdb" \
  --web.listen-address=127.0.0.1:$prom_port >prometheus.log 2>&1 &
pids+=($!)
# ------------------------------------------------------------------ start-up errors
# One line naming the key and the fix, exit code 1, before any BPF is loaded. Checked while the
# servers above load their BPF programs.
startup_error() {  # startup_error "description" config-text expected-substring
  local cfg="$work/conf/bad.yml" out rc=0
  printf '%s\n' "$2" >"$cfg"
  out=$(timeout 20 "$exporter" --web.config.file="$cfg" --web.listen-address=127.0.0.1:1 2>&1) || rc=$?
  local last=${out##*$'\n'}
  if [[ $rc -eq 1 && $last == *"--web.config.file=$cfg: "*"$3"* ]]; then
    pass "start-up error: $1"
  else
    fail "start-up error: $1: exit $rc, output: $out"
  fi
}
startup_error "unknown key" $'tls_server_config:\n  certfile: x' \
  'unknown key "tls_server_config.certfile" (line 2): did you mean "cert_file"?'
startup_error "missing cert file" $'tls_server_config:\n  cert_file: nope.pem\n  key_file: ../tls/server.key' \
  "tls_server_config.cert_file: cannot read $work/conf/nope.pem: No such file or directory"
startup_error "unreadable key" $'tls_server_config:\n  cert_file: ../tls/server.pem\n  key_file: ../tls' \
  "tls_server_config.key_file: cannot read $work/tls: Is a directory"
startup_error "key of another certificate" $'tls_server_config:\n  cert_file: ../tls/server.pem\n  key_file: ../client.key' \
  "does not match the certificate's public key"
startup_error "bad min_version" $'tls_server_config:\n  cert_file: ../tls/server.pem\n  key_file: ../tls/server.key\n  min_version: TLS1.3' \
  'tls_server_config.min_version: "TLS1.3" is not a TLS version (line 4) (use TLS10, TLS11, TLS12 or TLS13)'
startup_error "plain-text password" $'basic_auth_users:\n  prometheus: hunter2' \
  "basic_auth_users.prometheus is not a bcrypt hash (line 2)"
out=$(timeout 20 "$exporter" --web.config.file="$work/none.yml" 2>&1) && rc=0 || rc=$?
check "start-up error: missing config file" \
  test "$rc" -eq 1 -a -n "$(grep -F -- "--web.config.file: cannot read $work/none.yml: No such file" <<<"$out")"

# /healthz needs no credentials: it doubles as the readiness check.
wait_ready() {  # wait_ready pid url curl-args...
  local pid=$1 url=$2
  shift 2
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || return 1
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$@" "$url/healthz" || true) == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}
wait_ready "$pid_auth" "$auth_url" --cacert ca.pem || { cat auth.log; echo "FAIL: TLS exporter did not start"; exit 1; }
wait_ready "$pid_mtls" "$mtls_url" "${mtls_client[@]}" || { cat mtls.log; echo "FAIL: mTLS exporter did not start"; exit 1; }
pass "both exporters serve /healthz over TLS"

# ------------------------------------------------------------------ TLS + basic auth
code() { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }
check "untrusted certificate is refused by curl without --cacert" \
  test "$(code "$auth_url/healthz")" = 000
check "plain HTTP on the TLS port gets no response" \
  test "$(code "http://127.0.0.1:$port_auth/healthz")" = 000
check "/metrics without credentials: 401" test "$(code --cacert ca.pem "$auth_url/metrics")" = 401
headers=$(curl -s -D - -o /dev/null --cacert ca.pem "$auth_url/metrics" | tr -d '\r')
check "401 carries WWW-Authenticate: Basic" grep -q '^WWW-Authenticate: Basic' <<<"$headers"
check "/metrics with a wrong password: 401" \
  test "$(code --cacert ca.pem -u "prometheus:wrong$password" "$auth_url/metrics")" = 401
check "/metrics with an unknown user: 401" \
  test "$(code --cacert ca.pem -u "root:$password" "$auth_url/metrics")" = 401
check "/ without credentials: 401 (everything but /healthz is protected)" \
  test "$(code --cacert ca.pem "$auth_url/")" = 401
body=$(curl -s --fail --cacert ca.pem -u "prometheus:$password" "$auth_url/metrics" || true)
check "/metrics with the right password: 200 and metrics" grep -q '^# TYPE io_uring_' <<<"$body"
headers=$(curl -s -D - -o /dev/null --cacert ca.pem -u "prometheus:$password" "$auth_url/metrics" | tr -d '\r')
check "configured Strict-Transport-Security header" \
  grep -q '^Strict-Transport-Security: max-age=63072000$' <<<"$headers"
check "configured X-Frame-Options replaces the default" \
  test "$(curl -s -D - -o /dev/null --cacert ca.pem "$auth_url/healthz" | tr -d '\r' | grep -c '^X-Frame-Options')" = 1
check "min_version TLS13: curl limited to TLS 1.2 fails" \
  test "$(code --cacert ca.pem --tls-max 1.2 "$auth_url/healthz")" = 000
s_client() { timeout 10 openssl s_client -connect "127.0.0.1:$1" -servername localhost -CAfile ca.pem \
  -verify_return_error "${@:2}" </dev/null >s_client.out 2>&1; }
check "min_version TLS13: openssl s_client -tls1_2 fails" fails s_client "$port_auth" -tls1_2
check "min_version TLS13: openssl s_client -tls1_3 succeeds" s_client "$port_auth" -tls1_3
check "s_client negotiated TLSv1.3" grep -q 'TLSv1.3' s_client.out

# ------------------------------------------------------------------ mutual TLS
check "mTLS: client certificate from the CA: 200" test "$(code "${mtls_client[@]}" "$mtls_url/metrics")" = 200
check "mTLS: no client certificate: handshake refused" test "$(code --cacert ca.pem "$mtls_url/metrics")" = 000
check "mTLS: certificate from another CA: refused" \
  test "$(code --cacert ca.pem --cert rogue_client.pem --key rogue_client.key "$mtls_url/metrics")" = 000
check "mTLS: right CA, SAN not in client_allowed_sans: refused" \
  test "$(code --cacert ca.pem --cert other_client.pem --key other_client.key "$mtls_url/metrics")" = 000
check "mTLS: s_client without a certificate fails" fails s_client "$port_mtls" -tls1_2
# TLS 1.3 reports a missing certificate only after the handshake; make s_client read the alert.
check "mTLS: s_client with the client certificate succeeds" \
  s_client "$port_mtls" -cert client.pem -key client.key

# ------------------------------------------------------------------ a real Prometheus
ups() {  # "job=value ..." for every job's up series
  curl -s "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode 'query=up' |
    python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(" ".join(s["metric"]["job"] + "=" + s["value"][1] for s in r))' 2>/dev/null || true
}
up_auth=none up_mtls=none up_wrong=none
for _ in $(seq 1 60); do
  all=" $(ups) "
  up_auth=$(grep -o ' tls_basic_auth=[0-9]*' <<<"$all" | cut -d= -f2 || true)
  up_mtls=$(grep -o ' mtls=[0-9]*' <<<"$all" | cut -d= -f2 || true)
  up_wrong=$(grep -o ' wrong_password=[0-9]*' <<<"$all" | cut -d= -f2 || true)
  [[ $up_auth == 1 && $up_mtls == 1 && $up_wrong == 0 ]] && break
  sleep 0.5
done
check "Prometheus over TLS + basic auth: up == 1 (got $up_auth)" test "$up_auth" = 1
check "Prometheus over mutual TLS: up == 1 (got $up_mtls)" test "$up_mtls" = 1
check "Prometheus with a wrong password: up == 0 (got $up_wrong)" test "$up_wrong" = 0
if [[ $up_auth != 1 || $up_mtls != 1 ]]; then
  tail -n 20 prometheus.log
  curl -s "http://127.0.0.1:$prom_port/api/v1/targets" | head -c 3000
  echo
fi

# ------------------------------------------------------------------ clean shutdown
for log in auth.log mtls.log; do
  check "$log: no errors logged" fails grep -E ' (error|critical) ' "$log"
done
kill "$pid_auth" "$pid_mtls"
rc1=0 rc2=0
wait "$pid_auth" || rc1=$?
wait "$pid_mtls" || rc2=$?
check "exporters exit 0 on SIGTERM" test "$rc1:$rc2" = 0:0

if ((failures)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all web security checks passed"
