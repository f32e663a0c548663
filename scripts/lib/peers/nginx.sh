#!/usr/bin/env bash
# nginx from Debian's archive, for the ForwardAuth browser tests: the package is downloaded
# once and unpacked under the cache (never installed system-wide, so no service starts and
# nothing binds port 80). Its configuration is end2end/peers/nginx.conf with the ports filled in.
#   nginx.sh start DIR FRONT_PORT ECHO_PORT HEIMDALL_PORT  -> runs in the background
#   nginx.sh stop DIR                                       -> idempotent
#   nginx.sh path                                           -> the binary (fetched if missing),
#                                                              for the Rust bypass suite
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
CACHE=${HEIMDALL_CACHE:-$HOME/.cache/heimdall}/peers/nginx

die() { echo "nginx.sh: $*" >&2; exit 1; }

# The unpacked binary, fetched the first time. `apt-get download` needs package lists; a
# fresh machine may not have them yet.
nginx_bin() {
  local bin=$CACHE/root/usr/sbin/nginx
  if [ ! -x "$bin" ]; then
    local tmp
    tmp=$(mktemp -d)
    chmod 777 "$tmp"
    if ! (cd "$tmp" && apt-get download nginx >/dev/null 2>&1); then
      apt-get update -q >/dev/null 2>&1 || die "apt-get update failed"
      (cd "$tmp" && apt-get download nginx >/dev/null 2>&1) || die "apt-get download nginx failed"
    fi
    rm -rf "$CACHE/root.partial"
    mkdir -p "$CACHE"
    dpkg-deb -x "$tmp"/nginx_*.deb "$CACHE/root.partial" || die "cannot unpack the nginx package"
    rm -rf "$CACHE/root" "$tmp"
    mv "$CACHE/root.partial" "$CACHE/root"
  fi
  "$bin" -V 2>&1 | grep -q -- '--with-http_auth_request_module' \
    || die "this nginx has no auth_request module"
  echo "$bin"
}

cmd=${1:?usage: nginx.sh start DIR FRONT_PORT ECHO_PORT HEIMDALL_PORT | stop DIR | path}
case "$cmd" in
  path) nginx_bin ;;
  start)
    dir=${2:?DIR}; front=${3:?FRONT_PORT}; echo_port=${4:?ECHO_PORT}; heimdall=${5:?HEIMDALL_PORT}
    bin=$(nginx_bin)
    mkdir -p "$dir/tmp"
    sed -e "s|__DIR__|$dir|g" -e "s|__FRONT_PORT__|$front|g" -e "s|__ECHO_PORT__|$echo_port|g" \
      -e "s|__HEIMDALL_PORT__|$heimdall|g" "$ROOT/end2end/peers/nginx.conf" >"$dir/nginx.conf"
    "$bin" -t -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/check.log" 2>&1 \
      || { cat "$dir/check.log" >&2; die "the nginx configuration does not load"; }
    "$bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" || { tail -n 20 "$dir/error.log" >&2; die "nginx did not start"; }
    ;;
  stop)
    dir=${2:?DIR}
    if [ -f "$dir/nginx.pid" ]; then
      kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
      for _ in $(seq 50); do [ -f "$dir/nginx.pid" ] || break; sleep 0.1; done
    fi
    ;;
  *) die "unknown command $cmd" ;;
esac
