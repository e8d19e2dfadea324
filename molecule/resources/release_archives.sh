#!/usr/bin/env bash
# Test harness: finds the Cronicle release archives the scenarios deploy and links them into
# .cache/cronicle/cronicle-VERSION.tar.gz, where .config/molecule/config.yml points cronicle_archive_src.
# Where each comes from, first found wins:
#   1. ../shared/cronicle/ beside the project (every developer machine and CI), checked against its SHA256SUMS
#   2. $VIXTRACT_TEST_CRONICLE_CACHE (default /var/cache/vixtract/cronicle), an archive you made yourself
#      (docs/testing.md says how)
#   3. the download from the role's own cronicle_archive_url into that cache, checked against the role's known
#      checksum (both read from the role, so they are written once)
# When none works, the step fails (and with it the scenario): Cronicle is never quietly left out.
set -euo pipefail
project=$(cd "$(dirname "$0")/../.." && pwd)
shared=${VIXTRACT_TEST_CRONICLE_SHARED:-$(realpath -m "$project/../shared/cronicle")}
cache=${VIXTRACT_TEST_CRONICLE_CACHE:-/var/cache/vixtract/cronicle}
links=$project/.cache/cronicle
versions=${*:-0.9.106 0.9.105}
log() { printf '[cronicle] %s\n' "$*" >&2; }

mkdir -p "$links"
failed=0
for version in $versions; do
  name=cronicle-$version.tar.gz
  rm -f "$links/$name"
  found=
  if [ -f "$shared/$name" ]; then
    if (cd "$shared" && grep " $name\$" SHA256SUMS | sha256sum -c --status); then
      found=$shared/$name
    else
      log "$shared/$name does not match $shared/SHA256SUMS: not used"
    fi
  fi
  if [ -z "$found" ] && [ -f "$cache/$name" ]; then
    found=$cache/$name
  fi
  if [ -z "$found" ]; then
    url=$(sed -n 's/^cronicle_archive_url: "\(.*\)"$/\1/p' "$project/roles/cronicle/defaults/main.yml" \
          | sed "s/{{ *cronicle_version *}}/$version/")
    sum=$(grep -A0 "\"$version\":" "$project/roles/cronicle/vars/main.yml" | sed -n 's/.*sha256:\([0-9a-f]*\).*/\1/p')
    if [ -n "$sum" ] && mkdir -p "$cache" && curl -fsSL --max-time 60 -o "$cache/$name.part" "$url" 2>/dev/null \
       && echo "$sum  $cache/$name.part" | sha256sum -c --status; then
      mv "$cache/$name.part" "$cache/$name"
      found=$cache/$name
    else
      rm -f "$cache/$name.part"
    fi
  fi
  if [ -n "$found" ]; then
    ln -s "$found" "$links/$name"
    log "Cronicle $version: $found"
  else
    log "Cronicle $version: NO ARCHIVE - not in $shared, not in $cache, and the download of $url failed" \
        "or has no known checksum. The Cronicle checks cannot run."
    failed=1
  fi
done
exit $failed
