#!/usr/bin/env bash
# A real Kubernetes API server for tests: etcd + kube-apiserver built from the Go module proxy
# (no registry serves their binaries), cached by version under ~/.cache/heimdall/peers.
#   kubernetes.sh build          build both binaries once (6-15 minutes cold, instant when cached)
#   kubernetes.sh start DIR      start etcd and kube-apiserver on free loopback ports; writes
#                                DIR/admin.kubeconfig and DIR/env (KUBE_API_URL, ...)
#   kubernetes.sh stop DIR       stop both by PID (idempotent)
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
PEERS=${HEIMDALL_CACHE:-$HOME/.cache/heimdall}/peers
BIN=$PEERS/bin
# Bump RECIPE when the build recipe changes, so cached binaries are rebuilt.
RECIPE=2
APISERVER=$BIN/kube-apiserver-$KUBE_VERSION-r$RECIPE
ETCD=$BIN/etcd-$ETCD_VERSION

log() { echo "kubernetes.sh: $*" >&2; }

# Go is only needed to build the peers once; find it where the image puts it.
ensure_go() {
  command -v go >/dev/null && return 0
  [ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH" && return 0
  log "Go is needed once to build etcd and kube-apiserver (apt-get install golang-go, or https://go.dev)"
  exit 1
}

build_apiserver() {
  [ -x "$APISERVER" ] && return 0
  ensure_go
  log "building kube-apiserver $KUBE_VERSION from the Go module proxy (once)"
  local src=$PEERS/src/apiserver-$KUBE_VERSION staging
  mkdir -p "$src" "$BIN"
  (
    cd "$src"
    [ -f go.mod ] || go mod init local/apiserver >/dev/null 2>&1
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
    # k8s.io/kubernetes replaces its staging modules with v0.0.0; point each at its tag.
    staging="v0.${KUBE_VERSION#v1.}"
    for m in $(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' "$gomod"); do
      go mod edit "-replace=$m=$m@$staging"
    done
    go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION"
    # Stamp the version (a module build has none, and clients refuse "v0.0.0-master+$Format").
    local v=k8s.io/component-base/version minor=${KUBE_VERSION#v1.}
    minor=${minor%%.*}
    CGO_ENABLED=0 go build -trimpath \
      -ldflags="-s -w -X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean" \
      -o "$APISERVER.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  )
  mv "$APISERVER.tmp" "$APISERVER"
}

build_etcd() {
  [ -x "$ETCD" ] && return 0
  ensure_go
  log "building etcd $ETCD_VERSION from the Go module proxy (once)"
  local src=$PEERS/src/etcd-$ETCD_VERSION
  mkdir -p "$src" "$BIN"
  (
    cd "$src"
    [ -f go.mod ] || go mod init local/etcd >/dev/null 2>&1
    cat >main.go <<'GO'
// The etcd server binary, built from go.etcd.io/etcd/server/v3 (its own main module cannot be
// `go install`ed because of local replace directives).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    go mod tidy
    CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$ETCD.tmp" .
  )
  mv "$ETCD.tmp" "$ETCD"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for() {
  local what=$1 seconds=$2 check=$3 logfile=$4 i
  for ((i = 0; i < seconds * 4; i++)); do
    if eval "$check" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  log "$what did not become ready within ${seconds}s; last log lines:"
  tail -n 30 "$logfile" >&2
  return 1
}

start() {
  local dir=$1
  mkdir -p "$dir/etcd" "$dir/pki"
  local etcd_port etcd_peer api_port
  etcd_port=$(free_port); etcd_peer=$(free_port); api_port=$(free_port)

  "$ETCD" --data-dir "$dir/etcd/data" --name heimdall-test \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "heimdall-test=http://127.0.0.1:$etcd_peer" \
    --unsafe-no-fsync --log-level warn >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  wait_for etcd 30 "curl -fsS http://127.0.0.1:$etcd_port/health" "$dir/etcd.log"

  # Service-account signing keys and a static admin token (tests only, regenerated per run).
  openssl genrsa -out "$dir/pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/pki/sa.key" -pubout -out "$dir/pki/sa.pub" 2>/dev/null
  local admin_token
  admin_token=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
  echo "$admin_token,heimdall-test-admin,heimdall-test-admin,system:masters" >"$dir/pki/tokens.csv"

  "$APISERVER" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --secure-port "$api_port" --cert-dir "$dir/pki" \
    --token-auth-file "$dir/pki/tokens.csv" --authorization-mode RBAC \
    --service-account-key-file "$dir/pki/sa.pub" --service-account-signing-key-file "$dir/pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-cluster-ip-range 10.96.0.0/16 --allow-privileged=false \
    --disable-admission-plugins ServiceAccount \
    --enable-priority-and-fairness=false >"$dir/kube-apiserver.log" 2>&1 &
  echo $! >"$dir/kube-apiserver.pid"
  wait_for kube-apiserver 90 \
    "curl -fsSk -H 'Authorization: Bearer $admin_token' https://127.0.0.1:$api_port/readyz" "$dir/kube-apiserver.log"

  cat >"$dir/admin.kubeconfig" <<KC
apiVersion: v1
kind: Config
current-context: heimdall-test
clusters:
- name: heimdall-test
  cluster:
    server: https://127.0.0.1:$api_port
    insecure-skip-tls-verify: true
contexts:
- name: heimdall-test
  context: {cluster: heimdall-test, user: admin}
users:
- name: admin
  user: {token: $admin_token}
KC
  cat >"$dir/env" <<ENV
KUBE_API_URL=https://127.0.0.1:$api_port
KUBE_ADMIN_KUBECONFIG=$dir/admin.kubeconfig
ENV
}

stop() {
  local dir=$1 name pid
  for name in kube-apiserver etcd; do
    if [ -f "$dir/$name.pid" ]; then
      pid=$(cat "$dir/$name.pid")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
}

case "${1:-}" in
  build) build_etcd; build_apiserver ;;
  start) build_etcd; build_apiserver; start "${2:?DIR}" ;;
  stop) stop "${2:?DIR}" ;;
  *) echo "usage: kubernetes.sh build | start DIR | stop DIR" >&2; exit 2 ;;
esac
