#!/usr/bin/env bash
# The `helm` binary for the chart's checks, built once from the Go module proxy (no registry
# serves it) and cached by version under ~/.cache/heimdall/peers/bin.
#   helm.sh path    build it if missing (about 5 minutes cold), print its path
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v3.22.0}
BIN=${HEIMDALL_CACHE:-$HOME/.cache/heimdall}/peers/bin
HELM=$BIN/helm-$HELM_VERSION

if [ ! -x "$HELM" ]; then
  command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
  command -v go >/dev/null || { echo "helm.sh: Go is needed once to build helm" >&2; exit 1; }
  echo "helm.sh: building helm $HELM_VERSION from the Go module proxy (once)" >&2
  mkdir -p "$BIN"
  tmp=$(mktemp -d)
  GOBIN=$tmp CGO_ENABLED=0 go install -trimpath \
    -ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv "$tmp/helm" "$HELM"
  rmdir "$tmp"
fi
echo "$HELM"
