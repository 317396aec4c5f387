#!/usr/bin/env bash
# Set everything up, then run the whole test suite. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec npx vitest run "$@"
