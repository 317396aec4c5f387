#!/usr/bin/env bash
# Everything slimify and its tests need, from a fresh clone: host tools, node modules, the build,
# a Docker engine and the fixture images. Idempotent; quiet and quick when all is in place.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-host-tools.sh

# npm keeps node_modules/.package-lock.json in step with what it installed; while that is newer
# than the manifests there is nothing to install (and npm ci would wipe node_modules for nothing).
installed=node_modules/.package-lock.json
if [[ ! -f $installed || package.json -nt $installed || ( -f package-lock.json && package-lock.json -nt $installed ) ]]; then
  if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
  else
    npm install --no-audit --no-fund --loglevel=error >/dev/null
  fi
fi

npm run --silent build

bash scripts/ensure-engine.sh
bash scripts/build-fixtures.sh
