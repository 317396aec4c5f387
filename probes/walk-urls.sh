#!/bin/sh
# walk-urls.sh: a slimify probe script that GETs a list of URL paths on the traced app.
#
#   slimify build IMAGE --probe-script probes/walk-urls.sh
#
# The paths come from $SLIMIFY_URLS (paths separated by spaces or newlines) or, when that is
# empty, from the file $SLIMIFY_URLS_FILE (default: urls.txt next to this script); one path per
# line, blank lines and lines starting with # are skipped. Each path is requested on
# $SLIMIFY_TARGET_URL (the app's first exposed port, published on 127.0.0.1 by slimify).
# A status outside 200-399, or no answer within 10 s, makes the script exit 1, which fails the
# build; every line it prints is shown in slimify's error.
set -eu

: "${SLIMIFY_TARGET_URL:?not set: run this script through slimify build --probe-script}"
command -v curl >/dev/null 2>&1 || { echo "walk-urls.sh: curl is not installed on this host" >&2; exit 2; }

if [ -n "${SLIMIFY_URLS:-}" ]; then
  paths=$(printf '%s\n' $SLIMIFY_URLS)
else
  file=${SLIMIFY_URLS_FILE:-$(dirname "$0")/urls.txt}
  [ -r "$file" ] || { echo "walk-urls.sh: no SLIMIFY_URLS and cannot read $file" >&2; exit 2; }
  paths=$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$file")
fi

failed=0
for path in $paths; do
  status=$(curl --silent --output /dev/null --max-time 10 --write-out '%{http_code}' "$SLIMIFY_TARGET_URL$path") || status=000
  if [ "$status" -ge 200 ] && [ "$status" -lt 400 ]; then
    echo "ok   $status GET $path"
  else
    echo "FAIL $status GET $path"
    failed=1
  fi
done
exit $failed
