#!/usr/bin/env bash
# bench/ceiling.sh — how much faster can two workers be on this machine?
#
# Splits a capture in two by connection (the client address's last bit,
# with tcpdump), then times, alternating, RUNS times each:
#   one      tlsinspect --workers 1 on the whole capture (it reads ahead
#            and formats on the second core when that one is idle);
#   one/1c   the same on one core (taskset -c 0, GOMAXPROCS=1);
#   halves   two tlsinspect --workers 1 processes at once, one per half:
#            perfect sharding, with nothing shared and nothing handed over;
#   halves/1c  the same, each process on a core of its own (taskset -c 0
#            and -c 1, GOMAXPROCS=1), so neither takes the other's;
#   w2       tlsinspect --workers 2 on the whole capture.
# one ÷ halves/1c is the most any sharding over two cores can gain over one
# worker as it runs (the cores' shared memory bandwidth and caches set
# it); one/1c ÷ halves/1c the most over one worker kept to one core; one ÷
# w2 and one/1c ÷ w2 are what --workers 2 gains. Wall time in ms, median
# of RUNS; JSON to /dev/null.
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
command -v taskset >/dev/null || die "taskset is needed (apt-get install -y util-linux)"
(($(nproc) >= 2)) || die "two CPUs are needed"
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
on() { # cpu file: one worker on that CPU alone
	taskset -c "$1" env GOMAXPROCS=1 "$BIN" -r "$2" -T json -q --workers 1 >/dev/null
}
halves() {
	local p
	run "$1" 1 &
	p=$!
	run "$2" 1
	wait "$p"
}
halves1c() {
	local p
	on 0 "$1" &
	p=$!
	on 1 "$2"
	wait "$p"
}

base=
trap '[[ -z $base ]] || rm -f -- "$base-0.pcap" "$base-1.pcap"' EXIT

# A connection's packets all go to one half: the client (10.x.y.z in
# capgen's captures) is the source or the destination.
even='(ip[12] == 10 and ip[15] & 1 == 0) or (ip[16] == 10 and ip[19] & 1 == 0)'
echo "| capture | one worker | one worker, one core | two halves at once | two halves, a core each | --workers 2 | one ÷ halves, a core each | one core ÷ halves, a core each | one ÷ workers 2 | one core ÷ workers 2 |"
echo "|---|---|---|---|---|---|---|---|---|---|"
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
	one=() one1=() two=() two1=() w2=()
	for ((i = 0; i < RUNS; i++)); do
		one+=("$(ms run "$f" 1)") || exit
		one1+=("$(ms on 0 "$f")") || exit
		two+=("$(ms halves "$base-0.pcap" "$base-1.pcap")") || exit
		two1+=("$(ms halves1c "$base-0.pcap" "$base-1.pcap")") || exit
		w2+=("$(ms run "$f" 2)") || exit
	done
	o=$(printf '%s\n' "${one[@]}" | median)
	o1=$(printf '%s\n' "${one1[@]}" | median)
	t=$(printf '%s\n' "${two[@]}" | median)
	t1=$(printf '%s\n' "${two1[@]}" | median)
	w=$(printf '%s\n' "${w2[@]}" | median)
	awk -v f="$(basename "$f")" -v o="$o" -v o1="$o1" -v t="$t" -v t1="$t1" -v w="$w" \
		'BEGIN { printf "| %s | %d ms | %d ms | %d ms | %d ms | %d ms | %.2f× | %.2f× | %.2f× | %.2f× |\n", f, o, o1, t, t1, w, o / t1, o1 / t1, o / w, o1 / w }'
	rm -f -- "$base-0.pcap" "$base-1.pcap"
done
