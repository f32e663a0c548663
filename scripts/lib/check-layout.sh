#!/usr/bin/env bash
# The dependency rules of the tree that the compiler does not enforce (docs/architecture.md):
#   - app/src/db/ is the seam: it imports no domain (only itself, the test helpers, the error type);
#   - app/src/audit/ knows no other domain: every domain records through it, never the reverse.
# Prints one line per violation and exits 1 if there is any; `-q` only sets the exit status.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# folder | modules of this crate it may name as `crate::<module>`
RULES=(
  "app/src/db|db testing error"
  "app/src/audit|audit db request error"
)

violations=0
for rule in "${RULES[@]}"; do
  dir=${rule%%|*}
  allowed=" ${rule#*|} "
  [ -d "$dir" ] || { echo "check-layout: $dir does not exist" >&2; exit 1; }
  # Every `crate::name` (and `crate::{` groups, which hide the names) in the folder's Rust files.
  while IFS=: read -r file line text; do
    for module in $(grep -oE 'crate::(\{|[a-z_][a-z0-9_]*)' <<<"$text" | sed 's/^crate:://'); do
      if [ "$module" = "{" ] || [[ $allowed != *" $module "* ]]; then
        echo "$file:$line: $dir may not import crate::$module (allowed: ${rule#*|})"
        violations=$((violations + 1))
      fi
    done
  done < <(grep -rnE 'crate::' --include='*.rs' "$dir" || true)
  # `super::super` climbs out of the folder just as well.
  if grep -rnE 'super::super' --include='*.rs' "$dir"; then
    echo "$dir: super::super reaches outside the folder"
    violations=$((violations + 1))
  fi
done

if [ "$violations" -gt 0 ]; then
  echo "layout check: $violations import(s) break the folder rules (docs/architecture.md)"
  exit 1
fi
echo "layout check: app/src/db imports no domain; app/src/audit imports no other domain"
