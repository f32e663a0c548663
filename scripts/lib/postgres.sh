#!/usr/bin/env bash
# A private PostgreSQL cluster on loopback, for tests. Stopped by its data directory, never by
# process name, so it cannot touch anyone else's PostgreSQL.
#   postgres.sh start DIR PORT   -> initdb (once) and start; prints nothing on success
#   postgres.sh stop DIR         -> fast shutdown, idempotent
#   postgres.sh url PORT         -> the superuser URL
set -euo pipefail

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ]; then
    apt-get install -y -q postgresql >/dev/null 2>&1 || true
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  [ -n "$bin" ] || { echo "postgres.sh: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }
  echo "$bin"
}

# initdb refuses to run as root; run as the `postgres` user when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:?usage: postgres.sh start DIR PORT | stop DIR | url PORT}
case "$cmd" in
  start)
    dir=${2:?DIR}; port=${3:?PORT}; B=$(pg_bin)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_pg "$B/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_pg "$B/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
      || { tail -n 30 "$dir/log" >&2; exit 1; }
    ;;
  stop)
    dir=${2:?DIR}; B=$(pg_bin)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$B/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  url)
    echo "postgres://postgres@127.0.0.1:${2:?PORT}/postgres"
    ;;
  *) echo "postgres.sh: unknown command $cmd" >&2; exit 2 ;;
esac
