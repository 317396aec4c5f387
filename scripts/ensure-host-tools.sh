#!/usr/bin/env bash
# Install the host packages slimify needs at run time: strace (the sensor) and gcc + libc6-dev
# (to compile the sensor's static init). Silent when they are already there.
set -euo pipefail

missing=()
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
# libc.a is what `gcc -static` links against; it ships in libc6-dev.
if ! dpkg-query -W -f='${Status}' libc6-dev 2>/dev/null | grep -q 'install ok installed'; then
  missing+=(libc6-dev)
fi
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-host-tools: missing ${missing[*]}; install them with your package manager (as root on Debian/Ubuntu: apt-get install ${missing[*]})." >&2
  exit 1
fi

echo "ensure-host-tools: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
