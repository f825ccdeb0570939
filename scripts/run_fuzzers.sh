#!/usr/bin/env bash
# Usage: scripts/run_fuzzers.sh BUILD_DIR SECONDS
#
# Runs every libFuzzer target BUILD_DIR/bin/*_fuzz for SECONDS on a scratch copy of its seed corpus
# fuzz/corpus/<name without _fuzz>/, so the corpus in the repository is never modified. Crash,
# timeout and OOM inputs go to a temporary artifact directory, which is kept and printed when a
# target fails. Exit status: 0 when every target ran clean, 1 when any found something, 2 on misuse.
set -euo pipefail

if [ $# -ne 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$1
fuzz_seconds=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

shopt -s nullglob
targets=()
for exe in "$build_dir"/bin/*_fuzz; do
  [ -f "$exe" ] && [ -x "$exe" ] && targets+=("$exe")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "run_fuzzers: no executable $build_dir/bin/*_fuzz (configure with -DSERVAL_FUZZ=ON)" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/serval-fuzz.XXXXXX")
failed=()
for exe in "${targets[@]}"; do
  name=$(basename "$exe")
  short=${name%_fuzz}
  corpus="$work/$short/corpus"
  artifacts="$work/$short/artifacts"
  log="$work/$short/log.txt"
  mkdir -p "$corpus" "$artifacts"
  if [ -d "$root/fuzz/corpus/$short" ]; then
    cp -R "$root/fuzz/corpus/$short/." "$corpus/"
  else
    echo "run_fuzzers: warning: no seed corpus fuzz/corpus/$short/, starting empty" >&2
  fi

  echo "== $name: ${fuzz_seconds}s, $(find "$corpus" -type f | wc -l) seed inputs"
  status=0
  "$exe" "$corpus" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | sed 's/^/   /' || true

  found=("$artifacts"/*)
  if [ $status -ne 0 ] || [ ${#found[@]} -gt 0 ]; then
    failed+=("$name")
    echo "!! $name failed (exit $status); log: $log" >&2
    tail -n 40 "$log" | sed 's/^/   /' >&2
    for f in "${found[@]}"; do echo "   artifact: $f" >&2; done
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "run_fuzzers: FAILED: ${failed[*]} (artifacts and logs kept in $work)" >&2
  exit 1
fi
rm -rf "$work"
echo "run_fuzzers: all ${#targets[@]} target(s) clean"
