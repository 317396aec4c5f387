#!/usr/bin/env bash
# Build the fixture images that slimify's end-to-end tests slim down. No registry is needed:
# bases come from debootstrap (cached as tarballs, imported with `docker import`), the apps are
# `docker build` + COPY on top of them. Every image carries a recipe hash label and is rebuilt
# only when its recipe changes, so a run with nothing to do takes seconds.
#
# Usage: build-fixtures.sh [NAME...]   NAME is an app (nginx, python-web, ...) or a base
#                                      (base, base-nginx, ...); default: every app.
set -euo pipefail

# Bump when this script changes what it produces; every recipe hash covers it.
RECIPE_VERSION=1
SUITE=bookworm
LABEL=slimify.fixture.recipe
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIXTURES=$REPO_ROOT/fixtures
CACHE=${SLIMIFY_CACHE:-$HOME/.cache/slimify}/fixtures

log() { echo "build-fixtures: $*" >&2; }
die() { log "$*"; exit 1; }
sha() { sha256sum | cut -c1-64; }

image_recipe() {
  docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true
}
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# Drop the image a tag pointed at before a rebuild, unless something else still uses it.
drop_if_untagged() {
  local old=$1
  [[ -n $old ]] || return 0
  if [[ $(docker image inspect -f '{{len .RepoTags}}' "$old" 2>/dev/null || echo 1) == 0 ]]; then
    docker image rm "$old" >/dev/null 2>&1 || true
  fi
}

debian_mirror() {
  if [[ -n ${SLIMIFY_DEBIAN_MIRROR:-} ]]; then echo "$SLIMIFY_DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(
    {
      cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }'
      cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
    } | grep -E '/debian/?$' | head -n1 || true
  )
  echo "${uri:-http://deb.debian.org/debian}"
}

need_root_tools() {
  [[ $(id -u) -eq 0 ]] || die "building base images needs root (debootstrap, chroot); run as root or use prebuilt images."
  local missing=()
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  # debootstrap checks the Release signature; Ubuntu hosts lack Debian's keys.
  [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] || missing+=(debian-archive-keyring)
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]}; install and run again."
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- scratch space, cleaned up whatever happens -------------------------------------------
WORK=
MOUNTED=()
cleanup() {
  local m
  for m in "${MOUNTED[@]}"; do umount -l "$m" 2>/dev/null || true; done
  MOUNTED=()
  [[ -n $WORK && -d $WORK ]] && rm -rf --one-file-system "$WORK"
  WORK=
}
trap cleanup EXIT
trap 'exit 130' INT TERM
new_work() { cleanup; WORK=$(mktemp -d "$CACHE/work.XXXXXX"); }

# A run killed outright (SIGKILL, power loss) leaves its scratch dir, maybe with /proc mounted.
# Only called under the lock, so no other run is using these.
remove_stale_work() {
  local d
  for d in "$CACHE"/work.*; do
    [[ -d $d ]] || continue
    umount -l "$d/rootfs/proc" 2>/dev/null || true
    rm -rf --one-file-system "$d"
  done
}

pack_rootfs() { # DIR TARBALL
  tar --numeric-owner --xattrs --xattrs-include='*' -C "$1" -cf "$2.partial" .
  mv "$2.partial" "$2"
}

clean_apt() { # ROOTFS
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb \
    "$1"/var/log/apt/* "$1"/var/log/dpkg.log "$1"/var/log/alternatives.log
}

# --- bases ---------------------------------------------------------------------------------
# base            debootstrap --variant=minbase, nothing added
# base-<set>      base + the packages listed in fixtures/bases/<set>.packages
base_packages() { grep -v '^\s*#' "$FIXTURES/bases/$1.packages" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }

base_recipe() { # NAME
  local root
  root=$(printf 'recipe-version %s\nsuite %s\nvariant minbase\n' "$RECIPE_VERSION" "$SUITE" | sha)
  if [[ $1 == base ]]; then echo "$root"; return; fi
  printf 'root %s\npackages %s\n' "$root" "$(base_packages "${1#base-}")" | sha
}

base_tag() { echo "slimify-fixtures/$1:$SUITE"; }
base_tarball() { echo "$CACHE/$1-$SUITE-$(base_recipe "$1" | cut -c1-16).tar"; }

build_root_tarball() { # TARBALL
  need_root_tools
  local mirror start=$SECONDS
  mirror=$(debian_mirror)
  log "debootstrap $SUITE (minbase) from $mirror"
  new_work
  if ! debootstrap --variant=minbase "$SUITE" "$WORK/rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 30 "$WORK/debootstrap.log" >&2
    die "debootstrap failed (full log above)"
  fi
  clean_apt "$WORK/rootfs"
  # Docker provides these at run time; the host's copies do not belong in an image.
  : >"$WORK/rootfs/etc/resolv.conf"
  rm -f "$WORK/rootfs/etc/hostname"
  pack_rootfs "$WORK/rootfs" "$1"
  cleanup
  log "base rootfs ready in $((SECONDS - start))s"
}

build_derived_tarball() { # NAME TARBALL
  local name=$1 out=$2 root_tar pkgs start=$SECONDS
  need_root_tools
  ensure_base_tarball base
  root_tar=$(base_tarball base)
  pkgs=$(base_packages "${name#base-}")
  log "$name: installing $pkgs"
  new_work
  mkdir "$WORK/rootfs"
  local r=$WORK/rootfs
  tar --numeric-owner --xattrs --xattrs-include='*' -C "$r" -xpf "$root_tar"
  # Let apt in the chroot reach the mirror, keep services from starting, then undo both.
  cp -L /etc/resolv.conf "$r/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod 755 "$r/usr/sbin/policy-rc.d"
  mount -t proc proc "$r/proc"
  MOUNTED+=("$r/proc")
  local in_chroot=(chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8)
  # shellcheck disable=SC2086 # the package list is meant to split
  if ! { "${in_chroot[@]}" apt-get update -qq &&
    "${in_chroot[@]}" apt-get install -y -qq --no-install-recommends $pkgs; } >"$WORK/apt.log" 2>&1; then
    tail -n 30 "$WORK/apt.log" >&2
    die "$name: apt-get in the chroot failed (log above)"
  fi
  "${in_chroot[@]}" apt-get clean
  umount "$r/proc"
  MOUNTED=()
  rm -f "$r/usr/sbin/policy-rc.d"
  : >"$r/etc/resolv.conf"
  clean_apt "$r"
  pack_rootfs "$r" "$out"
  cleanup
  log "$name: rootfs ready in $((SECONDS - start))s"
}

# Called directly, never in $(...): a subshell would not run the cleanup trap.
ensure_base_tarball() { # NAME
  local name=$1 tarball
  tarball=$(base_tarball "$name")
  if [[ ! -f $tarball ]]; then
    if [[ $name == base ]]; then build_root_tarball "$tarball"; else build_derived_tarball "$name" "$tarball"; fi
    # Tarballs of older recipes of the same base are dead weight now.
    find "$CACHE" -maxdepth 1 -name "$name-$SUITE-*.tar" ! -path "$tarball" -delete
  fi
}

ensure_base_image() { # NAME
  local name=$1 tag recipe tarball old
  tag=$(base_tag "$name")
  recipe=$(base_recipe "$name")
  [[ $(image_recipe "$tag") == "$recipe" ]] && return 0
  ensure_base_tarball "$name"
  tarball=$(base_tarball "$name")
  old=$(image_id "$tag")
  log "importing $tag"
  docker import \
    -c "LABEL $LABEL=$recipe" \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["/bin/bash"]' \
    "$tarball" "$tag" >/dev/null
  drop_if_untagged "$old"
}

# --- apps ----------------------------------------------------------------------------------
# fixtures/<name>/Dockerfile FROM one of the bases. An optional fixtures/<name>/prepare.sh runs
# on the host before the build (npm install, gcc -static); what it produces lives in
# node_modules/ or .build/, which the recipe leaves out because the sources determine it.
app_base() { # NAME -> base name from the Dockerfile's FROM
  local from
  from=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$FIXTURES/$1/Dockerfile")
  [[ $from =~ ^slimify-fixtures/(base(-[a-z0-9]+)?):$SUITE$ ]] ||
    die "$1: Dockerfile must start FROM slimify-fixtures/base[-SET]:$SUITE, not '$from'"
  echo "${BASH_REMATCH[1]}"
}

app_recipe() { # NAME
  local dir=$FIXTURES/$1
  {
    echo "recipe-version $RECIPE_VERSION"
    echo "base $(base_recipe "$(app_base "$1")")"
    (cd "$dir" && find . \( -name node_modules -o -name .build \) -prune -o -type f -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha
}

ensure_app() { # NAME
  local name=$1 tag=slimify-fixtures/$1:latest base recipe old start=$SECONDS
  base=$(app_base "$name")
  recipe=$(app_recipe "$name")
  [[ $(image_recipe "$tag") == "$recipe" ]] && return 0
  ensure_base_image "$base"
  if [[ -f $FIXTURES/$name/prepare.sh ]]; then
    (cd "$FIXTURES/$name" && bash ./prepare.sh) || die "$name: prepare.sh failed"
  fi
  old=$(image_id "$tag")
  log "building $tag"
  local out
  if ! out=$(docker build -q --network none --label "$LABEL=$recipe" -t "$tag" "$FIXTURES/$name" 2>&1); then
    echo "$out" >&2
    die "$name: docker build failed"
  fi
  drop_if_untagged "$old"
  log "$tag ready in $((SECONDS - start))s"
}

all_apps() {
  local d
  for d in "$FIXTURES"/*/Dockerfile; do basename "$(dirname "$d")"; done
}

main() {
  mkdir -p "$CACHE"
  # Several engineers and CI jobs may run this at once; one builder at a time.
  exec 9>"$CACHE/.lock"
  flock 9
  remove_stale_work
  docker info >/dev/null 2>&1 || die "no Docker engine answers; run scripts/ensure-engine.sh first."
  local names=("$@") n
  ((${#names[@]})) || mapfile -t names < <(all_apps)
  for n in "${names[@]}"; do
    if [[ $n == base || ( $n == base-* && -f $FIXTURES/bases/${n#base-}.packages ) ]]; then
      ensure_base_image "$n"
    elif [[ -f $FIXTURES/$n/Dockerfile ]]; then
      ensure_app "$n"
    else
      die "unknown fixture '$n'; known: base $(cd "$FIXTURES/bases" && ls *.packages | sed 's/\.packages$//; s/^/base-/' | tr '\n' ' ')$(all_apps | tr '\n' ' ')"
    fi
  done
}

main "$@"
