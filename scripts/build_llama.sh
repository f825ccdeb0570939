#!/usr/bin/env bash
# Builds llama.cpp from the source that npm `node-llama-cpp` ships (llama/gitRelease.bundle, a git
# bundle) into the cache, outside the clone: static libraries + headers for serval's llama runtime.
# The same build tree makes llama.cpp's own `llama-server` for the benchmarks. A second run is a no-op.
#   scripts/build_llama.sh CACHE_DIR NODE_LLAMA_CPP_DIR JOBS
set -euo pipefail
CACHE=$1 PKG=$2 JOBS=${3:-2}
DEST="$CACHE/llama.cpp"
STAMP="$DEST/.done-$(sha256sum "$PKG/llama/gitRelease.bundle" | cut -c1-16)"
[ -f "$STAMP" ] && exit 0
rm -rf "$DEST" && mkdir -p "$DEST"
git clone -q "$PKG/llama/gitRelease.bundle" "$DEST/src" 2>/dev/null
cmake -S "$DEST/src" -B "$DEST/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=ON -DGGML_OPENMP=ON \
  -DCMAKE_INSTALL_PREFIX="$DEST/install" >/dev/null
# llama-server (for bench/) is built on demand: cmake --build "$DEST/build" --target llama-server
cmake --build "$DEST/build" -j"$JOBS" --target llama >/dev/null
# Headers and static libraries, found by serval's CMakeLists (SERVAL_CACHE/llama.cpp/install).
mkdir -p "$DEST/install/include" "$DEST/install/lib" "$DEST/install/bin"
cp "$DEST"/src/include/*.h "$DEST/install/include/"
cp "$DEST"/src/ggml/include/*.h "$DEST/install/include/"
find "$DEST/build" -name '*.a' -exec cp {} "$DEST/install/lib/" \;
touch "$STAMP"
echo "setup: built llama.cpp ($(git -C "$DEST/src" log -1 --format=%h)) into $DEST/install"
