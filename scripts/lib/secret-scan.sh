#!/usr/bin/env bash
# Greps the logs a test run captured for secrets that must never be logged: password hashes,
# session ids, API tokens, JWTs, the fixtures' passwords and the test clients' secrets, and
# every token the vault tests handled (the `*.secrets` files they write beside the logs).
#   secret-scan.sh LOG...
# Prints one cargo-style "test result:" line so the run's summary counts it; exits 1 on a find.
set -uo pipefail

patterns=(
  '\$argon2id\$'                                   # password hashes
  'hms_[A-Za-z0-9_-]{20,}'                         # session ids (cookie values)
  'hmt_[A-Za-z0-9_-]{20,}'                         # personal API tokens
  'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.'   # JWTs (Heimdall's and the providers')
  '(alice|dave|vera)-password'                     # Keycloak fixture passwords
  '[a-z-]+-password-123'                           # passwords of users the Rust tests create
)
for var in HEIMDALL_TEST_GOOGLE_CLIENT_SECRET HEIMDALL_TEST_KEYCLOAK_CLIENT_SECRET HEIMDALL_E2E_ADMIN_PASSWORD \
  HEIMDALL_E2E_METRICS_TOKEN; do
  if [ -n "${!var:-}" ]; then patterns+=("$(printf '%s' "${!var}" | sed 's/[][\.*^$/]/\\&/g')"); fi
done

files=()
lines=0
for f in "$@"; do
  [ -s "$f" ] || continue
  files+=("$f")
  lines=$((lines + $(wc -l <"$f")))
done
if [ "${#files[@]}" = 0 ] || [ "$lines" -lt 100 ]; then
  echo "secret scan: expected captured logs, found ${#files[@]} file(s) with $lines line(s)" >&2
  echo "test result: FAILED. 0 passed; 1 failed; (secret scan had nothing to scan)"
  exit 1
fi
# The logs must show sign-ins happened, or the scan proves nothing.
if ! grep -q "signed in" "${files[@]}"; then
  echo "secret scan: no sign-in was logged; the capture is not what the tests did" >&2
  echo "test result: FAILED. 0 passed; 1 failed; (secret scan saw no sign-in)"
  exit 1
fi

found=0
# The vault's tokens, learnt by the tests: matched as fixed strings, whatever their form.
learnt=()
for f in "$@"; do
  for s in "$(dirname "$f")"/*.secrets; do [ -s "$s" ] && learnt+=("$s"); done
done
if [ "${#learnt[@]}" -gt 0 ]; then
  sort -u "${learnt[@]}" | grep -v '^$' >"${TMPDIR:-/tmp}/heimdall-learnt-secrets.$$" || true
  known=$(wc -l <"${TMPDIR:-/tmp}/heimdall-learnt-secrets.$$")
  if hits=$(grep -F -H -n -f "${TMPDIR:-/tmp}/heimdall-learnt-secrets.$$" "${files[@]}"); then
    echo "secret scan: a token the vault tests handled is in a log:" >&2
    printf '%s\n' "$hits" | cut -c1-120 | head -5 >&2
    found=1
  fi
  rm -f "${TMPDIR:-/tmp}/heimdall-learnt-secrets.$$"
  echo "secret scan: $known token(s) learnt from the vault tests" >&2
fi
for p in "${patterns[@]}"; do
  # The first start's admin password is printed once to stderr by design, not logged.
  if hits=$(grep -E -H -n -- "$p" "${files[@]}" | grep -v '^[^:]*:[0-9]*:    password: '); then
    echo "secret scan: /$p/ matched:" >&2
    printf '%s\n' "$hits" | cut -c1-300 | head -5 >&2
    found=1
  fi
done
if [ "$found" = 0 ]; then
  echo "test result: ok. 1 passed; 0 failed; (secret scan of ${#files[@]} log file(s), $lines lines)"
else
  echo "test result: FAILED. 0 passed; 1 failed; (secret scan found secrets in the logs)"
  exit 1
fi
