#!/usr/bin/env bash
# bench/hostile.sh — peak memory of tlsinspect, with its default limits, on
# the two large hostile captures of the README's "Limits" section:
#   1. a flood of 1,000,000 SYN-only connections, each from its own address;
#   2. a multi-GB capture: the project's own captures of real TLS stacks
#      repeated with shifted client addresses (every copy a connection of
#      its own), 100 copies interleaved at a time.
# Each is generated into bench/out/ (internal/hostile, via
# bench/cmd/hostilegen), read once with `tlsinspect -r FILE -T json` under
# GNU time -v, and the big one is deleted afterwards (KEEP=1 keeps it).
#
# Needs GNU time as /usr/bin/time (apt-get install -y time) and SIZE MB of
# free disk plus about 80 MB. Nothing is sent on any network.
#
# Environment: FLOOD (1000000 connections), SIZE (3000 MB), ARGS (extra
# tlsinspect flags, e.g. --max-flows 262144), KEEP=1.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
FLOOD=${FLOOD:-1000000}
SIZE=${SIZE:-3000}

if [[ ! -x /usr/bin/time ]]; then
	echo "hostile.sh: /usr/bin/time (GNU time) is missing: apt-get install -y time" >&2
	exit 2
fi
free_mb=$(df -Pm "$OUT" | awk 'NR == 2 { print $4 }')
if ((free_mb < SIZE + 200)); then
	echo "hostile.sh: $free_mb MB free in $OUT, the big capture needs $SIZE MB: set SIZE lower" >&2
	exit 2
fi

echo "== build"
CGO_ENABLED=0 go build -o "$OUT/tlsinspect" ./cmd/tlsinspect
go build -o "$OUT/hostilegen" ./bench/cmd/hostilegen

# measure NAME FILE: runs tlsinspect once and prints its summary line, the
# wall time and the peak RSS.
measure() {
	local name=$1 file=$2 tv
	tv=$(mktemp)
	local args
	read -r -a args <<<"${ARGS:-}" # flags, split at spaces
	/usr/bin/time -v -o "$tv" "$OUT/tlsinspect" -r "$file" -T json "${args[@]}" >/dev/null 2>"$OUT/$name.stderr" || true
	local rss wall size
	rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$tv")
	wall=$(awk '/Elapsed \(wall clock\)/ { print $NF }' "$tv")
	size=$(du -m "$file" | cut -f1)
	echo "-- $name: $size MB, wall $wall, peak RSS $((rss / 1024)) MiB ($rss KB)"
	sed 's/^/   /' "$OUT/$name.stderr"
	rm -f "$tv"
}

echo "== SYN flood: $FLOOD connections"
"$OUT/hostilegen" -kind synflood -n "$FLOOD" -o "$OUT/synflood.pcap"
measure synflood "$OUT/synflood.pcap"

echo "== repeated real captures: $SIZE MB"
inputs=(testdata/pcaps/tls12-ecdhe-go.pcap testdata/pcaps/tls13-go.pcap testdata/pcaps/tls12-mtls-go.pcap
	testdata/pcaps/tls13-mtls-go.pcap testdata/pcaps/longchain-go.pcap testdata/pcaps/tls12-sessionid-openssl.pcap)
"$OUT/hostilegen" -kind repeat -size "$SIZE" -o "$OUT/repeat.pcap" "${inputs[@]}"
sync
cat "$OUT/repeat.pcap" >/dev/null # read once: the timed run reads from the page cache
measure repeat "$OUT/repeat.pcap"
if [[ -z ${KEEP:-} ]]; then
	rm -f "$OUT/repeat.pcap"
fi
