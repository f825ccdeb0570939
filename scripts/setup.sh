#!/usr/bin/env bash
# Installs everything serval needs on a fresh Debian 12 machine: Debian packages with apt-get and
# the npm tarballs Debian lacks, unpacked into a cache outside the clone so a second run is quick.
# Nothing is downloaded from anywhere else, and nothing is fetched at run time.
set -euo pipefail

CACHE="${SERVAL_CACHE:-$HOME/.cache/serval}"
mkdir -p "$CACHE"

APT_PACKAGES=(
  g++ clang cmake make pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev libssl-dev zlib1g-dev libbrotli-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-fastapi python3-uvicorn wrk util-linux
  chromium
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node + npm come with the base image (nodesource); Debian's own npm conflicts with it.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm tarballs: unpack only what is needed. Pinned versions keep builds reproducible.
npm_unpack() {  # name version dest
  local name=$1 version=$2 dest=$3
  [ -f "$dest/.done-$version" ] && return 0
  rm -rf "$dest" && mkdir -p "$dest"
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$dest" --strip-components=1
  rm -rf "$tmp"
  touch "$dest/.done-$version"
  echo "setup: unpacked $name@$version into $dest"
}
npm_unpack swagger-ui-dist 5.35.0 "$CACHE/swagger-ui-dist"

# Node tools the tests use (an independent OpenAPI validator, an independent WebSocket client).
# Installed into the cache, not the clone; bump the .done-N marker when this list changes.
if [ ! -f "$CACHE/node/.done-2" ]; then
  mkdir -p "$CACHE/node"
  (cd "$CACHE/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund \
      @apidevtools/swagger-parser@12.1.0 ws@8.23.0 >/dev/null)
  touch "$CACHE/node/.done-2"
  echo "setup: installed node test tools into $CACHE/node"
fi
echo "setup: ok (cache $CACHE)"
