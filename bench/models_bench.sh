#!/usr/bin/env bash
# Model serving benchmarks, side by side in one run (docs/BENCHMARKS.md keeps the latest figures):
#
#  (a) served vs raw: the runtime driven directly in a loop at its best batch size (build/bin/serval_raw_bench,
#      one thread on core 1) vs `serval serve` under concurrent HTTP load (wrk), for `langid` (fastText
#      lid.176) and `ocr` recognition (PP-OCRv4 rec on pre-cropped line images, ?mode=recognize).
#      serval runs one executor per model (instances: 1), like the raw loop's one thread; its event loop and
#      wrk share the other core.
#  (b) serval vs FastAPI + uvicorn + Debian's python3-fasttext, same lid.176 file, same request and response
#      bodies, same pinning: the server on core 0, wrk on core 1 (one thread, keep-alive).
#
#   bench/models_bench.sh                     (or: make bench-models)
#   DURATION=20 CONNECTIONS=64 bench/models_bench.sh
#
# Environment: DURATION (seconds, 10), CONNECTIONS (64; the OCR runs use OCR_CONNECTIONS, 4: two batches in
#              flight, the load at which the p99 bound applies), BUILD (build), MODELS (models), NICE (-19 as root).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
cd "$ROOT"
BUILD=${BUILD:-build}
MODELS=${MODELS:-models}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
OCR_CONNECTIONS=${OCR_CONNECTIONS:-4}
PY=/usr/bin/python3
HOST=127.0.0.1
OUT=${OUT:-$BUILD/bench}
NICE=${NICE:--19}
PRIO=()
if [ "$NICE" != 0 ] && [ "$(id -u)" = 0 ]; then PRIO=(nice -n "$NICE"); fi
mkdir -p "$OUT"

die() { echo "models_bench: $*" >&2; exit 1; }
[ -x "$BUILD/bin/serval" ] && [ -x "$BUILD/bin/serval_raw_bench" ] || die "build first (make build)"
[ -f "$MODELS/langid/1/lid.176.ftz" ] || die "models not prepared (make setup)"
command -v wrk >/dev/null || die "wrk not installed"
"$PY" -c 'import fastapi, uvicorn, fasttext' 2>/dev/null || die "python3-fastapi, python3-uvicorn, python3-fasttext needed"

SERVER_PID=""
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap stop_server EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {  # url
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0
    sleep 0.1
  done
  die "server at $1 never became ready"
}
json_field() { "$PY" -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# wrk with a Lua script; prints the script's JSON summary line.
run_wrk() {  # cores url script args...
  local cores=$1 url=$2 script=$3; shift 3
  taskset -c "$cores" "${PRIO[@]}" wrk -t1 -c"$CONNECTIONS" -d2s --timeout 30s -s "$script" "$url" -- "$@" >/dev/null 2>&1 || true
  taskset -c "$cores" "${PRIO[@]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s --latency -s "$script" "$url" -- "$@" \
    2>"$OUT/wrk.err" >"$OUT/wrk.out"
  grep '^JSON ' "$OUT/wrk.err" | tail -1 | cut -c6-
}

start_serval() {  # cores args...
  local cores=$1; shift
  PORT=$(free_port)
  taskset -c "$cores" "${PRIO[@]}" "$BUILD/bin/serval" serve --host $HOST --port "$PORT" --models-dir "$MODELS" "$@" \
    2>"$OUT/serval.log" &
  SERVER_PID=$!
  wait_ready "http://$HOST:$PORT/ready"
}

# Line images for the recognition benchmark: rendered with PIL (DejaVu Sans), one text line each.
LINES="$OUT/lines"
rm -rf "$LINES" && mkdir -p "$LINES"
"$PY" - "$LINES" <<'PYEOF'
import sys
from PIL import Image, ImageDraw, ImageFont
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 32)
words = "serval reads every line of this page quickly and batches the work across requests".split()
for i in range(32):
    text = " ".join(words[(i + k) % len(words)] for k in range(4 + i % 5)) + " %d" % i
    w = int(font.getlength(text)) + 20
    img = Image.new("RGB", (w, 48), "white")
    ImageDraw.Draw(img).text((10, 6), text, fill="black", font=font)
    img.save("%s/line%02d.png" % (sys.argv[1], i))
PYEOF

echo "# models_bench $(date -u +%FT%TZ) on $(nproc) cores; duration ${DURATION}s, $CONNECTIONS connections"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- (a) served vs raw ---------------------------------------------------------------------------
best_raw() {  # model args... -> JSON of the best batch size
  local model=$1; shift
  local best="" best_tp=0
  for b in $RAW_BATCHES; do
    local r
    r=$(taskset -c 1 "${PRIO[@]}" "$BUILD/bin/serval_raw_bench" --models-dir "$MODELS" --model "$model" --batch "$b" \
          --seconds "$DURATION" "$@")
    echo "raw $model batch $b: $r" >&2
    local tp; tp=$(json_field "$r" throughput)
    if "$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$tp" "$best_tp"; then
      best=$r; best_tp=$tp
    fi
  done
  echo "$best"
}

RAW_BATCHES="1 8 32 64"
LANGID_RAW=$(best_raw langid --inputs bench/data/langid_sentences.txt)
start_serval 0,1 --models langid --threads 1
LANGID_SERVED=$(run_wrk 0 "http://$HOST:$PORT" bench/wrk/classify.lua bench/data/langid_sentences.txt langid)
stop_server
echo "served langid: $LANGID_SERVED" >&2

RAW_BATCHES="1 4 8 16"
OCR_RAW=$(best_raw ocr --images "$LINES" --param mode=recognize)
start_serval 0,1 --models ocr --threads 1
OCR_SERVED=$(CONNECTIONS=$OCR_CONNECTIONS run_wrk 0 "http://$HOST:$PORT" bench/wrk/ocr_lines.lua "$LINES")
stop_server
echo "served ocr rec: $OCR_SERVED" >&2

# ---- (b) serval vs FastAPI + python3-fasttext ------------------------------------------------------
start_serval 0 --models langid --threads 1
SERVAL_LID=$(run_wrk 1 "http://$HOST:$PORT" bench/wrk/classify.lua bench/data/langid_sentences.txt langid)
stop_server
PORT=$(free_port)
LID_MODEL="$MODELS/langid/1/lid.176.ftz" taskset -c 0 "${PRIO[@]}" "$PY" -m uvicorn fastapi_langid:app \
  --app-dir bench/peers --host $HOST --port "$PORT" --workers 1 --log-level warning --no-access-log 2>"$OUT/fastapi.log" &
SERVER_PID=$!
for _ in $(seq 300); do curl -s -o /dev/null "http://$HOST:$PORT/docs" && break; sleep 0.1; done
FASTAPI_LID=$(run_wrk 1 "http://$HOST:$PORT" bench/wrk/classify.lua bench/data/langid_sentences.txt langid)
stop_server

echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
export CONNECTIONS OCR_CONNECTIONS
"$PY" - "$LANGID_RAW" "$LANGID_SERVED" "$OCR_RAW" "$OCR_SERVED" "$SERVAL_LID" "$FASTAPI_LID" "$MODELS" <<'PYEOF'
import json, os, sys, re
lraw, lsrv, oraw, osrv, slid, flid = (json.loads(a) for a in sys.argv[1:7])
models = sys.argv[7]
def delay_ms(name):
    m = re.search(r"max_queue_delay_ms:\s*([0-9.]+)", open("%s/%s/model.yaml" % (models, name)).read())
    return float(m.group(1)) if m else 0.0
print()
print("## (a) served vs raw (best raw batch size, one thread on core 1; serval: 1 executor; serval's event loop")
print("##     and wrk share the cores; langid at %s connections, OCR at %s)" % (os.environ.get("CONNECTIONS", "64"), os.environ.get("OCR_CONNECTIONS", "4")))
print()
print("| model | raw req/s (batch) | served req/s | served/raw | served p99 ms | bound: delay + 2 x batch p50 ms |")
print("|---|---|---|---|---|---|")
for name, raw, srv in (("langid", lraw, lsrv), ("ocr recognition", oraw, osrv)):
    bound = delay_ms("langid" if name == "langid" else "ocr") + 2 * raw["batch_ms_p50"]
    print("| %s | %.0f (%d) | %.0f | %.1f%% | %.2f | %.2f |" % (name, raw["throughput"], raw["batch"], srv["rps"],
          100 * srv["rps"] / raw["throughput"], srv["p99_ms"], bound))
print()
print("## (b) lid.176 behind serval vs FastAPI + uvicorn + python3-fasttext (server on core 0, wrk on core 1)")
print()
print("| server | req/s | p50 ms | p99 ms | errors |")
print("|---|---|---|---|---|")
for name, r in (("serval", slid), ("FastAPI + uvicorn", flid)):
    print("| %s | %.0f | %.2f | %.2f | %d |" % (name, r["rps"], r["p50_ms"], r["p99_ms"], r["errors"] + r["non2xx"]))
print()
print("serval / FastAPI: %.1fx requests/s; p99 %.2f vs %.2f ms" % (slid["rps"] / flid["rps"], slid["p99_ms"], flid["p99_ms"]))
PYEOF
