#!/usr/bin/env bash
# Make sure a Docker engine answers. Silent when one already does; on a root Debian/Ubuntu
# machine without one, installs docker.io and starts dockerd in the background.
set -euo pipefail

LOG=/var/log/slimify-dockerd.log
DEADLINE_S=${SLIMIFY_ENGINE_DEADLINE:-60}

engine_answers() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

engine_answers && exit 0

if [[ -n "${DOCKER_HOST:-}" ]]; then
  echo "ensure-engine: DOCKER_HOST=$DOCKER_HOST is set but no engine answers there." >&2
  echo "ensure-engine: start that engine, or unset DOCKER_HOST to use a local one." >&2
  exit 1
fi

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-engine: no Docker engine answers and I can only set one up as root on Debian/Ubuntu." >&2
  echo "ensure-engine: install Docker (https://docs.docker.com/engine/install/) and start it, or set DOCKER_HOST." >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq docker.io >/dev/null
fi

# A dockerd that is still starting (or one we started earlier) must not be doubled.
# /proc rather than pgrep: procps is not on every minimal machine.
dockerd_running() {
  local comm
  for comm in /proc/[0-9]*/comm; do
    [[ $(cat "$comm" 2>/dev/null) == dockerd ]] && return 0
  done
  return 1
}

if ! dockerd_running; then
  setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
  echo "ensure-engine: started dockerd in the background, log: $LOG" >&2
fi

for ((i = 0; i < DEADLINE_S * 2; i++)); do
  engine_answers && exit 0
  sleep 0.5
done

echo "ensure-engine: dockerd did not answer within ${DEADLINE_S}s; last lines of $LOG:" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
