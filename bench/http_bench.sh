#!/usr/bin/env bash
# HTTP + JSON validation benchmark: serval's classifier_api vs the same API on FastAPI + uvicorn, in one run.
#
#   bench/http_bench.sh                      (or: make bench)
#   DURATION=30s CONNECTIONS=128 bench/http_bench.sh
#
# Each server runs alone on core 0 (serval with one event loop, uvicorn with one worker) while wrk runs on
# core 1 (one thread, keep-alive). For each endpoint: a warm-up run (discarded), then the measured run.
# Prints a Markdown table; raw wrk output is kept in $OUT. Builds nothing: expects build/bin/classifier_api.
#
# Environment: DURATION (10s), CONNECTIONS (64), WARMUP (2s), BUILD (build), OUT ($BUILD/bench),
#              SERVER_CORE (0), CLIENT_CORE (1), NICE (-19; 0 = run at normal priority).
# As root, both servers and wrk run at nice -19 (the same for both) so that other work on the machine, such
# as a build, disturbs the measurement less; the script still warns when the machine was busy.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BIN=${SERVAL_BIN:-$BUILD/bin/classifier_api}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
WARMUP=${WARMUP:-2s}
OUT=${OUT:-$BUILD/bench}
SERVER_CORE=${SERVER_CORE:-0}
CLIENT_CORE=${CLIENT_CORE:-1}
PY=/usr/bin/python3  # Debian's, with python3-fastapi / python3-uvicorn
HOST=127.0.0.1
NICE=${NICE:--19}
PRIO=()
if [ "$NICE" != 0 ] && [ "$(id -u)" = 0 ]; then PRIO=(nice -n "$NICE"); fi

die() { echo "http_bench: $*" >&2; exit 1; }

[ -x "$BIN" ] || die "$BIN not found: build first (make build)"
command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"
command -v taskset >/dev/null || die "taskset not installed (apt-get install util-linux)"
command -v curl >/dev/null || die "curl not installed"
"$PY" -c 'import fastapi, uvicorn' 2>/dev/null || die "python3-fastapi / python3-uvicorn missing"
[ "$(nproc)" -ge 2 ] || die "needs 2 cores (server on $SERVER_CORE, wrk on $CLIENT_CORE)"
mkdir -p "$OUT"

seconds() {  # 10s / 10 / 1m -> seconds
  case "$1" in
    *m) echo $(( ${1%m} * 60 )) ;;
    *s) echo "${1%s}" ;;
    *) echo "$1" ;;
  esac
}
WRK_LIMIT=$(( $(seconds "$DURATION") + $(seconds "$WARMUP") + 30 ))

SERVER_PID=""
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_health() {  # port
  for _ in $(seq 150); do
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$HOST:$1/health")" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

PREDICT_BODY=$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$HERE/predict.lua")
check_predict() {  # port name: the benchmarked request must succeed with the spam model's answer
  local got
  got=$(curl -s --max-time 5 -H 'Content-Type: application/json' -d "$PREDICT_BODY" "http://$HOST:$1/predict")
  "$PY" - "$got" "$PREDICT_BODY" "$ROOT/models/spam/1" <<'EOF' || die "$2: /predict answered '$got'"
import json, os, sys
import fasttext
fasttext.FastText.eprint = lambda *a, **k: None
got, body, folder = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
model = fasttext.load_model(os.path.join(folder, next(f for f in sorted(os.listdir(folder)) if f.endswith((".ftz", ".bin")))))
labels, scores = model.predict(body["text"][:2000].lower().replace("\n", " "), k=1)
sys.exit(0 if got["label"] == labels[0].replace("__label__", "") and abs(got["score"] - min(1.0, float(scores[0]))) < 1e-5 else 1)
EOF
}

start_serval() {  # [extra flags...]
  local log="$OUT/serval.stderr"
  : >"$log"
  taskset -c "$SERVER_CORE" "${PRIO[@]}" "$BIN" --host "$HOST" --port 0 --threads 1 "$@" 2>"$log" &
  SERVER_PID=$!
  local port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/.*serval: listening on http:\/\/[^:]*:\([0-9]*\) .*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log" >&2; die "serval did not start (no listening line in 10 s)"; }
  wait_health "$port" || { cat "$log" >&2; die "serval /health not answering"; }
  PORT=$port
}

start_fastapi() {
  local port log="$OUT/uvicorn.stderr"
  port=$(free_port)
  taskset -c "$SERVER_CORE" "${PRIO[@]}" "$PY" -m uvicorn --app-dir "$HERE" fastapi_app:app --host "$HOST" --port "$port" \
    --workers 1 --no-access-log --log-level warning 2>"$log" &
  SERVER_PID=$!
  wait_health "$port" || { cat "$log" >&2; die "uvicorn did not start within 15 s"; }
  PORT=$port
}

run_wrk() {  # name url [lua]
  local name=$1 url=$2 script=()
  [ $# -ge 3 ] && script=(-s "$3")
  timeout "$WRK_LIMIT" taskset -c "$CLIENT_CORE" "${PRIO[@]}" wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "${script[@]}" "$url" \
    >"$OUT/$name.warmup.txt" 2>&1 || die "wrk warm-up failed for $name"
  timeout "$WRK_LIMIT" taskset -c "$CLIENT_CORE" "${PRIO[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "${script[@]}" \
    "$url" >"$OUT/$name.txt" 2>&1 || die "wrk failed for $name"
}

# wrk output -> "req_per_s p50_ms p99_ms errors"
parse_wrk() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { err += $NF }
    /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
    END { printf "%s %.3f %.3f %d\n", rps, p50, p99, err + 0 }' "$1"
}

# CPU already in use by other processes (percent of all cores over 1 s): other load skews every number.
busy_percent() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  [ "$total" -gt 0 ] && echo $(( 100 * (total - idle) / total )) || echo 0
}
BUSY_BEFORE=$(busy_percent)

ENDPOINTS=(health predict)
declare -A URLPATH=([health]=/health [predict]=/predict)
declare -A LUA=([health]="" [predict]="$HERE/predict.lua")
# serval_mw: the same binary with RequestId + Cors middleware on, and every request carrying an Origin.
declare -A MW_LUA=([health]="$HERE/health_origin.lua" [predict]="$HERE/predict_origin.lua")
MW_ORIGIN=http://bench.example

for server in serval serval_mw fastapi; do
  echo "http_bench: $server alone on core $SERVER_CORE, wrk on core $CLIENT_CORE ($CONNECTIONS connections, $DURATION)" >&2
  case $server in
    serval) start_serval ;;
    serval_mw) start_serval --request-id --cors-origin "$MW_ORIGIN" ;;
    fastapi) start_fastapi ;;
  esac
  check_predict "$PORT" "$server"
  for ep in "${ENDPOINTS[@]}"; do
    lua=${LUA[$ep]}
    [ "$server" = serval_mw ] && lua=${MW_LUA[$ep]}
    if [ -n "$lua" ]; then
      run_wrk "$server-$ep" "http://$HOST:$PORT${URLPATH[$ep]}" "$lua"
    else
      run_wrk "$server-$ep" "http://$HOST:$PORT${URLPATH[$ep]}"
    fi
  done
  stop_server
done

status=0
echo
echo "| endpoint | serval req/s | FastAPI req/s | ratio | serval p50/p99 | FastAPI p50/p99 |"
echo "|---|---:|---:|---:|---:|---:|"
notes=()
for ep in "${ENDPOINTS[@]}"; do
  read -r s_rps s_p50 s_p99 s_err < <(parse_wrk "$OUT/serval-$ep.txt")
  read -r f_rps f_p50 f_p99 f_err < <(parse_wrk "$OUT/fastapi-$ep.txt")
  ratio=$(awk -v a="$s_rps" -v b="$f_rps" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }')
  printf "| %s %s | %.0f | %.0f | %s | %.2f / %.2f ms | %.2f / %.2f ms |\n" \
    "$([ "$ep" = health ] && echo GET || echo POST)" "${URLPATH[$ep]}" "$s_rps" "$f_rps" "$ratio" \
    "$s_p50" "$s_p99" "$f_p50" "$f_p99"
  [ "$s_err" -eq 0 ] || { notes+=("serval ${URLPATH[$ep]}: $s_err errors/non-2xx (see $OUT/serval-$ep.txt)"); status=2; }
  [ "$f_err" -eq 0 ] || { notes+=("FastAPI ${URLPATH[$ep]}: $f_err errors/non-2xx (see $OUT/fastapi-$ep.txt)"); status=2; }
done
echo
echo "With RequestId + Cors middleware (every request sends Origin: $MW_ORIGIN):"
echo
echo "| endpoint | serval req/s | serval + middleware req/s | middleware cost | serval + middleware p50/p99 |"
echo "|---|---:|---:|---:|---:|"
for ep in "${ENDPOINTS[@]}"; do
  read -r s_rps s_p50 s_p99 s_err < <(parse_wrk "$OUT/serval-$ep.txt")
  read -r m_rps m_p50 m_p99 m_err < <(parse_wrk "$OUT/serval_mw-$ep.txt")
  cost=$(awk -v a="$s_rps" -v b="$m_rps" 'BEGIN { if (a > 0) printf "%.1f%%", 100 * (a - b) / a; else print "n/a" }')
  printf "| %s %s | %.0f | %.0f | %s | %.2f / %.2f ms |\n" "$([ "$ep" = health ] && echo GET || echo POST)" \
    "${URLPATH[$ep]}" "$s_rps" "$m_rps" "$cost" "$m_p50" "$m_p99"
  [ "$m_err" -eq 0 ] || { notes+=("serval+middleware ${URLPATH[$ep]}: $m_err errors/non-2xx"); status=2; }
done
echo
echo "wrk -t1 -c$CONNECTIONS -d$DURATION --latency (keep-alive), warm-up $WARMUP; server pinned to core $SERVER_CORE, wrk to core $CLIENT_CORE${PRIO:+, both at nice $NICE}; raw output in $OUT"
BUSY_AFTER=$(busy_percent)
if [ "$BUSY_BEFORE" -gt 10 ] || [ "$BUSY_AFTER" -gt 10 ]; then
  notes+=("the machine was busy before/after the run (${BUSY_BEFORE}% / ${BUSY_AFTER}% CPU in use by other processes): numbers are skewed, re-run on a quiet machine")
fi
for n in "${notes[@]}"; do echo "WARNING: $n"; done
exit $status
