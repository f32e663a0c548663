# Shared by the README commands: where caches live and how the toolchain is installed.
# Sourced, not run.

HEIMDALL_CACHE=${HEIMDALL_CACHE:-$HOME/.cache/heimdall}
# The build cache lives under $HOME so a fresh clone (and CI on the same machine) reuses it.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HEIMDALL_CACHE/target}
# Leptos reads this at compile time; setting it for every cargo call keeps `cargo test` and
# `cargo leptos build` from invalidating each other's builds.
export LEPTOS_OUTPUT_NAME=heimdall
export PATH="$HOME/.cargo/bin:$PATH"
# Not a variable the product reads; it only keeps npm quiet about the machine's npmrc.
export npm_config_loglevel=error

CARGO_LEPTOS_VERSION=0.3.10
CURRENT_STEP="start"

step() {
  CURRENT_STEP="$*"
  printf '\n\033[1m==> %s\033[0m\n' "$*"
}

die() {
  echo "heimdall: $*" >&2
  exit 1
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then die "need root (or sudo) to apt-get install $*"; fi
  apt-get update -q >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null || die "apt-get install $* failed"
}

# The exact wasm-bindgen version in Cargo.lock: the CLI must match it.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock"
}

ensure_build_tools() {
  step "toolchain"
  command -v cargo >/dev/null || die "Rust is not installed (https://rustup.rs); cargo must be on PATH"
  command -v npm >/dev/null || die "Node.js and npm are needed for Tailwind and wasm-opt"
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    echo "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 12 minutes, once)"
    cargo install "cargo-leptos@$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  fi
  local wbg
  wbg=$(wasm_bindgen_version)
  [ -n "$wbg" ] || die "no wasm-bindgen in Cargo.lock"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg\$"; then
    echo "installing wasm-bindgen-cli $wbg (matches Cargo.lock)"
    # Not --locked: its lockfile wants a webpki-roots the registry does not serve.
    cargo install wasm-bindgen-cli --version "$wbg" --force
  fi
  # Tailwind, sass, wasm-opt (binaryen 132, not Debian's) and playwright-core, exactly as the
  # committed lockfile says: `npm ci` never rewrites it, so a fresh clone stays clean. (The
  # lockfile lists every platform's optional packages; `npm install` adds them when missing.)
  if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ] \
    || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
  echo "cargo-leptos $(cargo leptos --version | awk '{print $2}'), wasm-bindgen $wbg, node $(node --version)"
}

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits (bounded) until URL answers 200.
wait_http_ok() {
  local url=$1 seconds=${2:-60} i
  for ((i = 0; i < seconds * 4; i++)); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 0.25
  done
  return 1
}

# Old build outputs of Heimdall's own crates pile up in the shared cache: each code change
# leaves another ~0.4 GB test binary and library behind, and a day of work once filled the
# disk (62 GB). Keep the newest few of each (the variants a run needs: the app library with
# and without test support, each test binary) and the incremental state of the last three
# hours; at worst cargo rebuilds one of them.
# The release build with the WASM split into lazy chunks, then a brotli and a gzip copy of each
# asset at their highest levels, which the server's file handler (leptos_axum's) sends as they are.
build_site() {
  cargo leptos build --release --split
  node "$ROOT/scripts/lib/precompress.mjs" "$ROOT/target/site/pkg"
}

prune_build_cache() {
  local profile dir stem keep=4
  for profile in debug release; do
    dir=$CARGO_TARGET_DIR/$profile
    [ -d "$dir/deps" ] || continue
    for stem in api heimdall libheimdall app libapp cli postgres_outage database oidc pipelines \
      forward_auth flink_jobs pipeline_service; do
      # Newest first; everything after the first $keep of one kind (by extension) goes.
      for ext in '' .rlib .rmeta .d; do
        find "$dir/deps" -maxdepth 1 -type f -name "$stem-????????????????$ext" -printf '%T@ %p\n' \
          | sort -rn | tail -n +$((keep + 1)) | cut -d' ' -f2- | xargs -r rm -f
      done
    done
    if [ -d "$dir/incremental" ]; then
      find "$dir/incremental" -mindepth 1 -maxdepth 1 -type d -mmin +180 -exec rm -rf {} +
    fi
  done
}
