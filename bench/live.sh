#!/usr/bin/env bash
# Live capture under load: tlsinspect -i lo watches a load generator
# (bench/cmd/tlsload: crypto/tls client and server on 127.0.0.1, every
# connection a full handshake) and we compare what it reported with what
# the generator made, and read its kernel drops and CPU time.
#
#   sudo bash bench/live.sh [SECONDS] [WORKERS] [RATE]
#
# RATE 0 (default) runs the generator flat out; the machine's cores are
# then shared between the generator's crypto and tlsinspect.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
WORKERS=${2:-4}
RATE=${3:-0}
PORT=44999
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
go build -o "$OUT/tlsinspect" ./cmd/tlsinspect
go build -o "$OUT/tlsload" ./bench/cmd/tlsload

/usr/bin/time -f '%e %U %S %M' -o "$OUT/time" "$OUT/tlsinspect" -i lo -T json "tcp port $PORT" >"$OUT/out.jsonl" 2>"$OUT/err" &
pid=$!
until grep -q "listening on" "$OUT/err" 2>/dev/null; do sleep 0.05; done
"$OUT/tlsload" -port $PORT -duration "${SECS}s" -workers "$WORKERS" -rate "$RATE" | tee "$OUT/load"
sleep 0.5
kill -INT "$(pgrep -P $pid tlsinspect || echo $pid)" 2>/dev/null || true
wait $pid || true
read -r wall user sys rss <"$OUT/time"
made=$(awk '{print $1}' "$OUT/load")
reported=$(wc -l <"$OUT/out.jsonl")
established=$(grep -c '"established":true' "$OUT/out.jsonl" || true)
grep "packets captured" "$OUT/err" | sed 's/^tlsinspect: //'
echo "generator: $made handshakes; tlsinspect reported $reported ($established established)"
awk -v u="$user" -v s="$sys" -v w="$wall" -v r="$rss" -v n="$reported" 'BEGIN {
	printf "tlsinspect CPU: %.2f s user + %.2f s sys over %.1f s = %.0f%% of one core; %.0f µs CPU per handshake; max RSS %.1f MB\n",
		u, s, w, 100*(u+s)/w, 1e6*(u+s)/(n>0?n:1), r/1024 }'
