#!/usr/bin/env bash
# bench/run.sh — end-to-end figures for the tlsinspect binary.
#
# Builds tlsinspect and capgen, generates captures into bench/out/ (ignored
# by git), then:
#   1. speed: runs `tlsinspect -r FILE -T json -q > /dev/null` 3 times on a
#      bulk capture (≈470 MB) and a handshake capture (20,000 connections)
#      and prints the median wall time, MB/s, handshakes/s and peak RSS;
#   2. memory flatness: peak RSS on handshake captures of 5k, 20k and 80k
#      connections (it should stay nearly flat);
#   3. if tshark is installed, times it on the bulk capture for comparison.
#
# Needs GNU time as /usr/bin/time (Debian/Ubuntu: apt-get install -y time).
# Nothing is sent on any network: the captures are synthesized from TLS
# sessions run in memory. Takes a few minutes on 2 cores; about 1 GB of disk.
#
# Environment: ARGS (extra tlsinspect flags), BULK_CONNS (2500, ≈470 MB), HS_CONNS (20000), MEM_CONNS ("5000 20000 80000"),
# RUNS (3), NO_TSHARK=1 to skip tshark.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
BULK_CONNS=${BULK_CONNS:-2500}
HS_CONNS=${HS_CONNS:-20000}
MEM_CONNS=${MEM_CONNS:-"5000 20000 80000"}
RUNS=${RUNS:-3}

if [[ ! -x /usr/bin/time ]]; then
	echo "run.sh: /usr/bin/time (GNU time) is missing: apt-get install -y time" >&2
	exit 2
fi

echo "== build"
CGO_ENABLED=0 go build -o "$OUT/tlsinspect" ./cmd/tlsinspect
go build -o "$OUT/capgen" ./bench/cmd/capgen

gen() { # name args...
	local name=$1
	shift
	"$OUT/capgen" "$@" -o "$OUT/$name.pcap"
}

echo "== generate captures"
gen bulk -shape bulk -n "$BULK_CONNS" -min 65536 -max 262144 -seed 1
gen "hs-$HS_CONNS" -shape handshakes -n "$HS_CONNS" -seed 2
for n in $MEM_CONNS; do
	[[ -f $OUT/hs-$n.pcap && $n == "$HS_CONNS" ]] || gen "hs-$n" -shape handshakes -n "$n" -seed 2
done

# Let the captures reach the disk, so that writeback does not stall the
# timed reads; each capture is read once (page cache) before it is timed.
sync

# timed FILE: runs tlsinspect once, prints "wall_s cpu_s maxrss_kb".
timed() {
	local f
	f=$(mktemp)
	local args
	read -r -a args <<<"${ARGS:-}" # flags, split at spaces
	/usr/bin/time -f '%e %U %S %M' -o "$f" "$OUT/tlsinspect" -r "$1" -T json -q "${args[@]}" >/dev/null
	awk '{ printf "%.2f %.2f %d\n", $1, $2 + $3, $4 }' "$f"
	rm -f "$f"
}

# measure NAME FILE CONNS: RUNS runs; the median wall time, the CPU time
# (user+sys) of that run, and the largest RSS of all runs.
measure() {
	local name=$1 file=$2 conns=$3 size results med rss
	size=$(stat -c %s "$file")
	cat "$file" >/dev/null
	results=$(for _ in $(seq "$RUNS"); do timed "$file"; done | sort -n)
	med=$(echo "$results" | sed -n "$(((RUNS + 1) / 2))p")
	rss=$(echo "$results" | awk '$3 > m { m = $3 } END { print m }')
	echo "$med" | awk -v n="$name" -v s="$size" -v c="$conns" -v r="$rss" -v all="$(echo "$results" | awk '{ printf "%s ", $1 }')" '{
		t = $1 > 0 ? $1 : 0.01
		printf "%-9s %6.1f MB %6d conns | wall %6.2f s (%s) cpu %6.2f s | %7.1f MB/s %7.0f handshakes/s | max RSS %6.1f MB\n",
			n, s / 1e6, c, $1, all, $2, s / 1e6 / t, c / t, r / 1024
	}'
}

echo "== speed (tlsinspect -T json -q > /dev/null, median of $RUNS)"
measure bulk "$OUT/bulk.pcap" "$BULK_CONNS"
measure "hs-$HS_CONNS" "$OUT/hs-$HS_CONNS.pcap" "$HS_CONNS"

echo "== memory flatness (handshake captures, peak RSS)"
for n in $MEM_CONNS; do
	RUNS=1 measure "hs-$n" "$OUT/hs-$n.pcap" "$n"
done
# Closed connections keep a tombstone until --idle-timeout (2m) of packet
# time passes; the captures hold ≈1,600 connections per second of packet time.
echo "-- the same with --idle-timeout 10s"
for n in $MEM_CONNS; do
	ARGS="--idle-timeout 10s" RUNS=1 measure "hs-$n" "$OUT/hs-$n.pcap" "$n"
done

echo "== tshark on the bulk capture"
if [[ -n ${NO_TSHARK:-} ]]; then
	echo "skipped (NO_TSHARK set)"
elif command -v tshark >/dev/null; then
	f=$(mktemp)
	cat "$OUT/bulk.pcap" >/dev/null
	/usr/bin/time -f '%e %M' -o "$f" tshark -r "$OUT/bulk.pcap" -Y 'tls.handshake.type==1' \
		-T fields -e tls.handshake.extensions_server_name >"$OUT/tshark-sni.txt" 2>/dev/null
	read -r t rss <"$f"
	rm -f "$f"
	size=$(stat -c %s "$OUT/bulk.pcap")
	awk -v s="$size" -v t="$t" -v r="$rss" -v n="$(wc -l <"$OUT/tshark-sni.txt")" 'BEGIN {
		printf "tshark     %8.1f MB %7d SNIs   %6.2f s  %7.1f MB/s  max RSS %6.1f MB\n", s / 1e6, n, t, s / 1e6 / t, r / 1024
	}'
else
	echo "tshark not installed: skipped (apt-get install tshark)"
fi
