#!/usr/bin/env bash
# Set everything up, then slim the nginx fixture: the intended first look at slimify.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
if [[ ! -f dist/cli/main.js ]]; then
  echo "demo: dist/cli/main.js does not exist yet (the build command is not written); nothing to demo." >&2
  exit 1
fi
exec node dist/cli/main.js build slimify-fixtures/nginx:latest --force "$@"
