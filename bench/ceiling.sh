#!/usr/bin/env bash
# bench/ceiling.sh — how much faster can two workers be on this machine?
#
# Splits a capture in two by connection (the client address's last bit,
# with tcpdump), then times, alternating, RUNS times each:
#   one      tlsinspect --workers 1 on the whole capture;
#   halves   two tlsinspect --workers 1 processes at once, one per half:
#            perfect sharding, with nothing shared and nothing handed over;
#   w2       tlsinspect --workers 2 on the whole capture.
# one/halves is the most any sharding can gain on this machine (the cores'
# shared memory bandwidth and caches set it); one/w2 is what --workers 2
# gains. Wall time in ms, median of RUNS; JSON to /dev/null.
#
#   bash bench/ceiling.sh FILE...
#
# The captures must have IPv4 clients in 10.0.0.0/8 (bench/capgen's do);
# a split that leaves either half with less than a quarter of the bytes
# stops the script. Needs tcpdump. Environment: RUNS (11), TLSINSPECT (a
# binary; default: build one), CACHE (bench/lib.sh).
set -euo pipefail

# Paths given from anywhere, before moving to the repository.
files=()
for f in "$@"; do
	files+=("$(realpath -- "$f")")
done
if [[ -n ${TLSINSPECT:-} ]]; then
	TLSINSPECT=$(realpath -- "$TLSINSPECT")
fi
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh # warm
RUNS=${RUNS:-11}
OUT=bench/out
mkdir -p "$OUT"
die() {
	echo "ceiling.sh: $*" >&2
	exit 1
}
(($# > 0)) || die "usage: bash bench/ceiling.sh FILE..."
command -v tcpdump >/dev/null || die "tcpdump is needed (apt-get install -y tcpdump)"
BIN=${TLSINSPECT:-}
if [[ -z $BIN ]]; then
	BIN=$OUT/tlsinspect-ceiling
	CGO_ENABLED=0 go build -o "$BIN" ./cmd/tlsinspect
fi

ms() { # command...: wall time in ms; a failed run stops the script
	local s e
	s=$(date +%s%N)
	"$@" || die "failed: $*"
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
run() { "$BIN" -r "$1" -T json -q --workers "$2" >/dev/null; }
halves() {
	local p
	run "$1" 1 &
	p=$!
	run "$2" 1
	wait "$p"
}

base=
trap '[[ -z $base ]] || rm -f -- "$base-0.pcap" "$base-1.pcap"' EXIT

# A connection's packets all go to one half: the client (10.x.y.z in
# capgen's captures) is the source or the destination.
even='(ip[12] == 10 and ip[15] & 1 == 0) or (ip[16] == 10 and ip[19] & 1 == 0)'
echo "| capture | one worker | two halves at once | one ÷ halves | --workers 2 | one ÷ workers 2 |"
echo "|---|---|---|---|---|---|"
for f in "${files[@]}"; do
	[[ -r $f ]] || die "cannot read $f"
	base=$OUT/ceiling-$(basename "$f" .pcap)
	tcpdump -r "$f" -w "$base-0.pcap" "$even" 2>/dev/null
	tcpdump -r "$f" -w "$base-1.pcap" "not ($even)" 2>/dev/null
	size=$(stat -c %s "$f")
	for h in 0 1; do
		(($(stat -c %s "$base-$h.pcap") * 4 >= size)) ||
			die "$f: half $h has under a quarter of the bytes (clients not in 10.0.0.0/8?)"
	done
	for g in "$f" "$base-0.pcap" "$base-1.pcap"; do
		warm "$g"
	done
	one=() two=() w2=()
	for ((i = 0; i < RUNS; i++)); do
		one+=("$(ms run "$f" 1)") || exit
		two+=("$(ms halves "$base-0.pcap" "$base-1.pcap")") || exit
		w2+=("$(ms run "$f" 2)") || exit
	done
	o=$(printf '%s\n' "${one[@]}" | median)
	t=$(printf '%s\n' "${two[@]}" | median)
	w=$(printf '%s\n' "${w2[@]}" | median)
	awk -v f="$(basename "$f")" -v o="$o" -v t="$t" -v w="$w" \
		'BEGIN { printf "| %s | %d ms | %d ms | %.2f× | %d ms | %.2f× |\n", f, o, t, o / t, w, o / w }'
	rm -f -- "$base-0.pcap" "$base-1.pcap"
done
