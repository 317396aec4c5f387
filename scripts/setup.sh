#!/usr/bin/env bash
# Everything slimify and its tests need, from a fresh clone: host tools, node modules, the build,
# a Docker engine and the fixture images. Idempotent; quiet and quick when all is in place.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-host-tools.sh

# npm ci wipes node_modules, so only run it when the lock file changed since the last install.
lock_file=package-lock.json
[[ -f $lock_file ]] || lock_file=package.json
stamp=node_modules/.slimify-installed
want=$(sha256sum package.json "$lock_file" | sha256sum | cut -c1-64)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
  else
    npm install --no-audit --no-fund --loglevel=error >/dev/null
  fi
  echo "$want" >"$stamp"
fi

npm run --silent build

bash scripts/ensure-engine.sh
bash scripts/build-fixtures.sh
