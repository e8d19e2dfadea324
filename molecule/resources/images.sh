#!/usr/bin/env bash
# Test harness: makes the images the Molecule scenarios need, on the machine that runs Molecule.
# There is no image registry here, so every image starts from a debootstrapped Debian rootfs.
#   vixtract-test/server:bookworm   Debian 12 + systemd + python3: the "server" each scenario boots
#   /var/cache/vixtract/images/debian-trixie-slim.tar   a `docker save` of debian:trixie-slim, handed to the
#                                   product through vixtract_base_image_source=archive
#   /var/cache/vixtract/images/debian-bookworm-slim.tar   the same of Debian 12: the multi scenario's db server
#                                   starts on it with PostgreSQL 15
#   vixtract-test/bare:bookworm     Debian 12 with python3 and git only: the fresh machine of the quickstart scenario
#   vixtract-test/client:trixie     debian:trixie-slim + chromium, chromedriver, a JRE with the PostgreSQL JDBC
#                                   driver and psql: the user-journey tests' browser and BI client
# Each image is made only when it is missing, so a second run costs a few `docker image inspect`s.
set -euo pipefail

# The Debian mirror this machine's apt uses (a company mirror or proxy where there is one), unless given
host_mirror() {
  # $(REPO_URI) and the like are apt's placeholders, not the shell's
  # shellcheck disable=SC2016
  apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 2>/dev/null \
    | awk '$3 == "main" && $2 !~ /-/ && !m { m = $1; sub("/$", "", m) } END { print m }'
}
MIRROR=${VIXTRACT_TEST_MIRROR:-$(host_mirror)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
CACHE=${VIXTRACT_TEST_CACHE:-/var/cache/vixtract}
SERVER_IMAGE=${VIXTRACT_TEST_SERVER_IMAGE:-vixtract-test/server:bookworm}
BASE_IMAGE=${VIXTRACT_TEST_BASE_IMAGE:-debian:trixie-slim}
BASE_ARCHIVE=${VIXTRACT_TEST_BASE_ARCHIVE:-$CACHE/images/debian-trixie-slim.tar}
CLIENT_IMAGE=${VIXTRACT_TEST_CLIENT_IMAGE:-vixtract-test/client:trixie}
here=$(cd "$(dirname "$0")" && pwd)

log() { printf '[images] %s\n' "$*" >&2; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# rootfs_image SUITE TAG: debootstrap a minimal Debian and import it as TAG.
rootfs_image() {
  local suite=$1 tag=$2 dir
  have_image "$tag" && return 0
  command -v debootstrap >/dev/null || { log "debootstrap is missing: apt-get install -y debootstrap"; exit 1; }
  dir=$(mktemp -d /var/tmp/vixtract-rootfs.XXXXXX)
  log "debootstrap $suite -> $tag"
  debootstrap --variant=minbase "$suite" "$dir" "$MIRROR" >"$dir.log" 2>&1 \
    || { tail -n 20 "$dir.log" >&2; rm -rf "$dir" "$dir.log"; exit 1; }
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import - "$tag" >/dev/null
  rm -rf "$dir" "$dir.log"
}

# made_from IMAGE FILE: whether IMAGE was built from this version of FILE (its sha256 is the image's label)
made_from() {
  [ "$(docker image inspect -f '{{ index .Config.Labels "vixtract.test.source" }}' "$1" 2>/dev/null)" = \
    "$(sha256sum <"$2" | cut -c1-16)" ]
}

rootfs_image bookworm vixtract-test/debian:bookworm
if ! made_from "$SERVER_IMAGE" "$here/server.Dockerfile"; then
  log "building $SERVER_IMAGE"
  docker build -q -t "$SERVER_IMAGE" --label "vixtract.test.source=$(sha256sum <"$here/server.Dockerfile" | cut -c1-16)" \
    -f "$here/server.Dockerfile" "$here" >/dev/null
fi

# The bare machine of the quickstart scenario (no systemd, no Docker), trusting what this machine trusts
BARE_IMAGE=${VIXTRACT_TEST_BARE_IMAGE:-vixtract-test/bare:bookworm}
if ! made_from "$BARE_IMAGE" "$here/bare.Dockerfile"; then
  log "building $BARE_IMAGE"
  ctx=$(mktemp -d)
  cp "$here/bare.Dockerfile" "$ctx/Dockerfile" && cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca-bundle.crt"
  docker build -q -t "$BARE_IMAGE" --label "vixtract.test.source=$(sha256sum <"$here/bare.Dockerfile" | cut -c1-16)" \
    "$ctx" >/dev/null
  rm -rf "$ctx"
fi

# The key Ansible logs in with as `deploy` where a scenario connects over SSH (multi): made here once, never
# committed; servers mount the public half as /etc/ssh/authorized/deploy.
SSH_DIR=${VIXTRACT_TEST_SSH_DIR:-$CACHE/ssh}
if [ ! -s "$SSH_DIR/id_ed25519" ]; then
  mkdir -p "$SSH_DIR/authorized" && chmod 0700 "$SSH_DIR"
  ssh-keygen -q -t ed25519 -N '' -C vixtract-test-deploy -f "$SSH_DIR/id_ed25519"
fi
cp "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized/deploy" && chmod 0755 "$SSH_DIR/authorized" && chmod 0644 "$SSH_DIR/authorized/deploy"

if [ ! -s "$BASE_ARCHIVE" ]; then
  rootfs_image trixie "$BASE_IMAGE"
  mkdir -p "$(dirname "$BASE_ARCHIVE")"
  log "saving $BASE_IMAGE to $BASE_ARCHIVE"
  docker save "$BASE_IMAGE" -o "$BASE_ARCHIVE.tmp" && mv "$BASE_ARCHIVE.tmp" "$BASE_ARCHIVE"
fi

# Debian 12 as a base image archive: the multi scenario's db server starts on it, with PostgreSQL 15 (bookworm's),
# and its last test upgrades it to 17 (trixie's). Saved from the server image's own debootstrapped rootfs.
OLD_BASE_IMAGE=${VIXTRACT_TEST_OLD_BASE_IMAGE:-debian:bookworm-slim}
OLD_BASE_ARCHIVE=${VIXTRACT_TEST_OLD_BASE_ARCHIVE:-$CACHE/images/debian-bookworm-slim.tar}
if [ ! -s "$OLD_BASE_ARCHIVE" ]; then
  have_image "$OLD_BASE_IMAGE" || docker tag vixtract-test/debian:bookworm "$OLD_BASE_IMAGE"
  mkdir -p "$(dirname "$OLD_BASE_ARCHIVE")"
  log "saving $OLD_BASE_IMAGE to $OLD_BASE_ARCHIVE"
  docker save "$OLD_BASE_IMAGE" -o "$OLD_BASE_ARCHIVE.tmp" && mv "$OLD_BASE_ARCHIVE.tmp" "$OLD_BASE_ARCHIVE"
fi

if ! have_image "$CLIENT_IMAGE"; then
  rootfs_image trixie "$BASE_IMAGE"
  log "building $CLIENT_IMAGE"
  # apt reaches the mirror over http: no CA bundle is needed inside this build
  docker build -q -t "$CLIENT_IMAGE" --build-arg BASE="$BASE_IMAGE" -f "$here/client.Dockerfile" "$here/client" \
    >/dev/null
fi
log "ready: $SERVER_IMAGE, $BASE_ARCHIVE, $CLIENT_IMAGE"

# The Cronicle release archives every scenario deploys (fails when none can be had)
"$here/release_archives.sh"
