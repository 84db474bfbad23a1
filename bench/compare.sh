#!/usr/bin/env bash
# bench/compare.sh — tlsinspect side by side with other passive TLS tools
# on the same capture files.
#
# Builds tlsinspect, the capture generators and the decode floor
# (bench/cmd/floor), generates captures into bench/out/ (ignored by git;
# reused when a file with the same parameters is already there), then on
# each capture, with the page cache warm (dropped and read again: CACHE
# below), runs every tool once per round, RUNS rounds (the tools alternate
# run by run, so that a slow spell of the machine is shared out), under GNU
# time, and prints markdown tables of the
# median wall time, MB/s, handshakes/s, handshakes found, peak RSS and the
# speed ratio to tlsinspect; then tlsinspect's peak RSS on captures 4 times
# larger. The tables also go to bench/out/compare.md.
#
# Captures (nothing is sent on any network):
#   bulk   capgen -shape bulk -n BULK_CONNS -min 65536 -max 262144 -seed 1
#          (2,800 conns ≈ 450–520 MB)
#   hs     capgen -shape handshakes -n HS_CONNS -seed 2 (21,300 conns ≈ 122 MB)
#   real   hostilegen -kind repeat -size REAL_MB: the project's captures of
#          OpenSSL, GnuTLS, curl and Go handshakes (testdata/pcaps), repeated
#          with shifted client addresses, 100 copies interleaved at a time
#   mem    bulk and hs with 4× the connections (tlsinspect only, 1 run each)
#
# Tools (SKIP names in brackets; a tool that is not installed is skipped
# with a note):
#   [tlsinspect]    tlsinspect -r FILE -T json -q --workers 1 > /dev/null
#                   (plain `tlsinspect -r FILE -T json -q` if this build
#                   has no --workers flag)
#   [tlsinspect-1cpu] the --workers 1 run on one core (taskset -c 0,
#                   GOMAXPROCS=1): one worker also reads ahead and
#                   formats on a second core when one is idle; tshark,
#                   ssldump and ndpiReader use one core
#   [tlsinspect-w2] the same with --workers 2 (only if --workers exists)
#   [tshark]        tshark -r FILE -n -Y 'tls.handshake' -T fields -e …
#                   (one pass; the fields are listed at TSHARK_FIELDS)
#   [tshark-2pass]  the same with -2 -R instead of -Y
#   [ssldump]       ssldump -n -r FILE (handshake fields decoded, no -d)
#   [ndpi]          ndpiReader -i FILE -q -C FLOWS.csv
#   [floor]         bench/cmd/floor FILE: pcapgo + DecodingLayerParser down
#                   to TCP, no TLS work at all
# tlsinspect's handshakes are counted in one extra untimed run per capture
# (the timed runs write to /dev/null); the other tools' output goes to a
# scratch file in bench/out/ and is counted after each run.
#
# Environment:
#   RUNS=3          timed rounds per capture (median of the wall times)
#   ONLY="bulk hs real mem"   the captures (and the memory-flatness check) to run
#   SKIP=""         tools to leave out, e.g. SKIP="tshark-2pass ssldump"
#   BULK_CONNS=2800 HS_CONNS=21300 REAL_MB=120   capture sizes; MEM_FACTOR=4
#   ARGS=""         extra tlsinspect flags (every tlsinspect run)
#   TLSINSPECT=PATH time this tlsinspect binary instead of building one
#   KEEP=1          keep the captures for the next run (default); KEEP=0
#                   deletes, at the end, the captures this run generated
#   TIMEOUT=1800    seconds before a single tool run is killed
#   INSTALL=1       first apt-get install -y tshark ssldump libndpi-bin time
#   CACHE=reread    before timing a capture, drop it from the page cache and
#                   read it once (the state a first read from disk leaves);
#                   CACHE=asis only reads it, leaving it as it was cached
#                   (bench/lib.sh: warm)
#
# Needs GNU time as /usr/bin/time (apt-get install -y time) and, with the
# default sizes, about 3.2 GB of disk in bench/out/ (2.3 GB of it the ×4
# captures). Full size takes several minutes on 2 cores, most of it tshark.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
RUNS=${RUNS:-3}
ONLY=${ONLY:-"bulk hs real mem"}
SKIP=${SKIP:-}
BULK_CONNS=${BULK_CONNS:-2800}
HS_CONNS=${HS_CONNS:-21300}
REAL_MB=${REAL_MB:-120}
MEM_FACTOR=${MEM_FACTOR:-4}
KEEP=${KEEP:-1}
TIMEOUT=${TIMEOUT:-1800}
read -r -a TI_ARGS <<<"${ARGS:-}"

# The real stacks repeated for the "real" capture: 12 connections per copy.
REAL_INPUTS=(
	testdata/pcaps/tls12-dhe-openssl.pcap testdata/pcaps/tls12-sessionid-openssl.pcap
	testdata/pcaps/tls13-clientauth-openssl-cert.pcap
	testdata/pcaps/tls13-clientauth-gnutls-cert.pcap testdata/pcaps/tls12-gcm-keylog-gnutls.pcap
	testdata/pcaps/tls13-curl-openssl.pcap testdata/pcaps/tls13-aes256-mtls-curl.pcap
	testdata/pcaps/tls12-ecdhe-go.pcap testdata/pcaps/tls13-go.pcap testdata/pcaps/tls12-mtls-go.pcap
	testdata/pcaps/tls13-mtls-go.pcap testdata/pcaps/longchain-go.pcap
)

die() {
	echo "compare.sh: $*" >&2
	exit 2
}
has() { [[ " $1 " == *" $2 "* ]]; }

for c in $ONLY; do
	has "bulk hs real mem" "$c" || die "unknown capture in ONLY: $c (bulk hs real mem)"
done
for t in $SKIP; do
	has "tlsinspect tlsinspect-1cpu tlsinspect-w2 tshark tshark-2pass ssldump ndpi floor" "$t" ||
		die "unknown tool in SKIP: $t (tlsinspect tlsinspect-1cpu tlsinspect-w2 tshark tshark-2pass ssldump ndpi floor)"
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"

if [[ ${INSTALL:-} == 1 ]]; then
	echo "== apt-get install -y tshark ssldump libndpi-bin time" >&2
	sudo=()
	((EUID == 0)) || sudo=(sudo)
	"${sudo[@]}" apt-get update >&2
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y tshark ssldump libndpi-bin time >&2
fi
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is missing: apt-get install -y time (or INSTALL=1)"

SCR=$(mktemp -d "$OUT/cmp-scratch.XXXXXX")
MADE=() # captures generated by this run, for KEEP=0
cleanup() {
	rm -rf "$SCR"
	if [[ $KEEP == 0 ]]; then
		for f in "${MADE[@]}"; do rm -f "$f" "${f%.pcap}.manifest"; done
	fi
}
trap cleanup EXIT

echo "== build" >&2
TI=$OUT/tlsinspect
if [[ -n ${TLSINSPECT:-} ]]; then
	TI=$TLSINSPECT
	[[ -x $TI ]] || die "TLSINSPECT=$TI is not an executable"
else
	CGO_ENABLED=0 go build -o "$TI" ./cmd/tlsinspect
fi
go build -o "$OUT/capgen" ./bench/cmd/capgen
go build -o "$OUT/hostilegen" ./bench/cmd/hostilegen
CGO_ENABLED=0 go build -o "$OUT/floor" ./bench/cmd/floor

# --workers is new: use it if this build has it.
ti_help=$("$TI" --help 2>&1 || true)
NOTES=()
if [[ $ti_help == *--workers* ]]; then
	WORKERS=1
	TI_LABEL="tlsinspect --workers 1"
else
	WORKERS=0
	TI_LABEL="tlsinspect"
	NOTES+=("this tlsinspect has no --workers flag: plain \`tlsinspect -r FILE -T json -q\` timed, the --workers 2 row skipped")
fi

# Tools to time, in the order of each round.
TOOLS=()
want() { ! has "$SKIP" "$1"; }
need() { # tool command package
	if command -v "$2" >/dev/null; then
		TOOLS+=("$1")
	else
		NOTES+=("$1 skipped: $2 is not installed (apt-get install -y $3, or INSTALL=1)")
		echo "compare.sh: ${NOTES[-1]}" >&2
	fi
}
want tlsinspect && TOOLS+=(tlsinspect)
if want tlsinspect-1cpu && ((WORKERS)); then
	need tlsinspect-1cpu taskset util-linux
fi
if want tlsinspect-w2; then
	((WORKERS)) && TOOLS+=(tlsinspect-w2)
fi
want tshark && need tshark tshark tshark
want tshark-2pass && need tshark-2pass tshark tshark
want ssldump && need ssldump ssldump ssldump
want ndpi && need ndpi ndpiReader libndpi-bin
want floor && TOOLS+=(floor)

label() {
	case $1 in
	tlsinspect) echo "$TI_LABEL" ;;
	tlsinspect-1cpu) echo "tlsinspect --workers 1, one core" ;;
	tlsinspect-w2) echo "tlsinspect --workers 2" ;;
	tshark) echo "tshark -Y (1 pass)" ;;
	tshark-2pass) echo "tshark -2 -R (2 passes)" ;;
	ssldump) echo "ssldump" ;;
	ndpi) echo "ndpiReader" ;;
	floor) echo "decode floor (gopacket)" ;;
	esac
}

# ---------------------------------------------------------------- captures

# Files are named by their parameters; NAME.manifest holds the generator's
# report. A file is made again only if it or its manifest is missing.
bulk_name() { echo "$OUT/cmp-bulk-n$1-min65536-max262144-seed1.pcap"; }
hs_name() { echo "$OUT/cmp-hs-n$1-seed2.pcap"; }
REAL_FILE=$OUT/cmp-real-${REAL_MB}MB-c100.pcap

gen() { # file generator args... (-o goes first: hostilegen's inputs end its flags)
	local file=$1 prog=$2
	shift 2
	if [[ -f $file && -f ${file%.pcap}.manifest ]]; then
		echo "   $file: already there" >&2
		return
	fi
	echo "   $file" >&2
	"$prog" -o "$file.tmp" "$@" >"$SCR/gen.out" 2>&1 || {
		cat "$SCR/gen.out" >&2
		rm -f "$file.tmp"
		die "generating $file failed"
	}
	mv "$file.tmp" "$file"
	cp "$SCR/gen.out" "${file%.pcap}.manifest"
	MADE+=("$file")
}

# Estimated sizes in MB, for the disk check: 160 KB per bulk connection,
# 5.8 KB per short one.
need_mb=0
plan() { # file mb
	[[ -f $1 ]] || need_mb=$((need_mb + $2))
}
has "$ONLY" bulk || has "$ONLY" mem && plan "$(bulk_name "$BULK_CONNS")" $((BULK_CONNS * 160 / 1000))
has "$ONLY" hs || has "$ONLY" mem && plan "$(hs_name "$HS_CONNS")" $((HS_CONNS * 58 / 10000))
has "$ONLY" real && plan "$REAL_FILE" "$REAL_MB"
if has "$ONLY" mem; then
	plan "$(bulk_name $((BULK_CONNS * MEM_FACTOR)))" $((BULK_CONNS * MEM_FACTOR * 160 / 1000))
	plan "$(hs_name $((HS_CONNS * MEM_FACTOR)))" $((HS_CONNS * MEM_FACTOR * 58 / 10000))
fi
free_mb=$(df -Pm "$OUT" | awk 'NR == 2 { print $4 }')
((free_mb > need_mb + 500)) || die "$free_mb MB free in $OUT, the captures need about $need_mb MB: set the sizes lower"

echo "== generate captures (about $need_mb MB to write)" >&2
if has "$ONLY" bulk || has "$ONLY" mem; then
	gen "$(bulk_name "$BULK_CONNS")" "$OUT/capgen" -shape bulk -n "$BULK_CONNS" -min 65536 -max 262144 -seed 1
fi
if has "$ONLY" hs || has "$ONLY" mem; then
	gen "$(hs_name "$HS_CONNS")" "$OUT/capgen" -shape handshakes -n "$HS_CONNS" -seed 2
fi
if has "$ONLY" real; then
	gen "$REAL_FILE" "$OUT/hostilegen" -kind repeat -size "$REAL_MB" -concurrency 100 "${REAL_INPUTS[@]}"
fi
if has "$ONLY" mem; then
	n=$((BULK_CONNS * MEM_FACTOR))
	gen "$(bulk_name "$n")" "$OUT/capgen" -shape bulk -n "$n" -min 65536 -max 262144 -seed 1
	n=$((HS_CONNS * MEM_FACTOR))
	gen "$(hs_name "$n")" "$OUT/capgen" -shape handshakes -n "$n" -seed 2
fi
# Let the captures reach the disk, so that writeback does not stall the
# timed reads.
sync

# expected FILE: the handshakes in a capture, from its generator's report.
# capgen: "capgen: bulk: N connections, …", one handshake each.
# hostilegen: "C copies of 12 captures": C × the connections (SYNs) of the
# inputs, one handshake each.
# expected FILE: prints the number; called in $(…), so it checks its own
# result (set -e does not reach into command substitution).
expected() {
	local m=${1%.pcap}.manifest n per_copy
	if [[ $1 == "$REAL_FILE" ]]; then
		per_copy=$("$OUT/floor" "${REAL_INPUTS[@]}" | awk '{ print $6 }') || die "floor failed on the real-stack inputs"
		n=$(awk -v k="$per_copy" '/copies of/ { print $1 * k }' "$m")
	else
		n=$(awk '/connections/ { print $3 }' "$m")
	fi
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "no handshake count in $m"
	echo "$n"
}

# ------------------------------------------------------------------- runs

# What a user extracts to see what each connection negotiated (the issue's
# `-Y tls.handshake` with those fields): the handshake frames with their
# addresses, SNI, versions, suites, ALPN, JA3/JA3S and certificate names;
# tlsinspect reports all of it and more. Field 6 (the message types) is
# what count() reads.
TSHARK_FIELDS=(-T fields -e frame.number -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport
	-e tls.handshake.type -e tls.handshake.extensions_server_name
	-e tls.handshake.extensions.supported_version -e tls.handshake.ciphersuite
	-e tls.handshake.extensions_alpn_str -e tls.handshake.ja3 -e tls.handshake.ja3s
	-e x509sat.printableString -e x509ce.dNSName)
TSHARK_FILTER='tls.handshake'

# cmd TOOL FILE: sets CMD (the command) and DEST (where its stdout goes).
cmd() {
	local f=$2
	DEST=$SCR/$1.out
	case $1 in
	tlsinspect)
		CMD=("$TI" -r "$f" -T json -q)
		((WORKERS)) && CMD+=(--workers 1)
		CMD+=("${TI_ARGS[@]}")
		DEST=/dev/null
		;;
	tlsinspect-1cpu)
		CMD=(taskset -c 0 env GOMAXPROCS=1 "$TI" -r "$f" -T json -q --workers 1 "${TI_ARGS[@]}")
		DEST=/dev/null
		;;
	tlsinspect-w2)
		CMD=("$TI" -r "$f" -T json -q --workers 2 "${TI_ARGS[@]}")
		DEST=/dev/null
		;;
	tshark) CMD=(tshark -r "$f" -n -Y "$TSHARK_FILTER" "${TSHARK_FIELDS[@]}") ;;
	tshark-2pass) CMD=(tshark -r "$f" -n -2 -R "$TSHARK_FILTER" "${TSHARK_FIELDS[@]}") ;;
	ssldump) CMD=(ssldump -n -r "$f") ;;
	ndpi)
		CMD=(ndpiReader -i "$f" -q -C "$SCR/ndpi.csv")
		rm -f "$SCR/ndpi.csv"
		;;
	floor) CMD=("$OUT/floor" "$f") ;;
	esac
}

# count TOOL: what the tool found in its last run's output.
count() {
	case $1 in
	tshark | tshark-2pass) # lines of frames holding a ClientHello (type 1)
		awk -F'\t' '{ n = split($6, t, ","); for (i = 1; i <= n; i++) if (t[i] == "1") { c++; break } } END { print c + 0 }' "$SCR/$1.out" ;;
	ssldump) grep -cw ClientHello "$SCR/ssldump.out" || true ;;
	ndpi) # flows whose ndpi_proto names TLS
		awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "ndpi_proto") col = i; next }
			col && $col ~ /TLS/ { c++ } END { print c + 0 }' "$SCR/ndpi.csv" 2>/dev/null || echo 0 ;;
	floor) awk '{ print $4 }' "$SCR/floor.out" ;; # TCP segments
	*) echo - ;;
	esac
}

# tlsinspect_count TOOL FILE: an untimed run, counting the JSON lines (one
# object per handshake). It also reads the capture into the page cache.
tlsinspect_count() {
	local out=$SCR/count.out rc=0
	cmd "$1" "$2"
	"${CMD[@]}" >"$out" || rc=$?
	((rc == 0)) || die "$1 failed on $2 (exit status $rc)"
	grep -c '^{' "$out" || true
	rm -f "$out"
}

# timed TOOL FILE: one run under GNU time; prints
# "wall user sys maxrss_kb exit_status count". The wall time is taken
# around the run in nanoseconds (GNU time's %e has 10 ms steps, 7% of a
# 0.15 s run); it includes starting time and timeout, about 2 ms.
timed() {
	local tf=$SCR/time rc=0 t0 t1
	cmd "$1" "$2"
	t0=$(date +%s%N)
	/usr/bin/time -f '%U %S %M' -o "$tf" timeout "$TIMEOUT" "${CMD[@]}" >"$DEST" 2>"$SCR/$1.err" || rc=$?
	t1=$(date +%s%N)
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }') $(tail -n 1 "$tf") $rc $(count "$1")"
}

RESULTS=$SCR/results # capture tool round wall user sys rss rc count
: >"$RESULTS"
declare -A FILE_OF EXPECT SIZE TICOUNT
CAPS=()
for c in bulk hs real; do
	has "$ONLY" "$c" || continue
	CAPS+=("$c")
	case $c in
	bulk) FILE_OF[$c]=$(bulk_name "$BULK_CONNS") ;;
	hs) FILE_OF[$c]=$(hs_name "$HS_CONNS") ;;
	real) FILE_OF[$c]=$REAL_FILE ;;
	esac
	EXPECT[$c]=$(expected "${FILE_OF[$c]}") || exit 2
	SIZE[$c]=$(stat -c %s "${FILE_OF[$c]}")
done

# shellcheck source=bench/lib.sh
source bench/lib.sh # warm

for c in "${CAPS[@]}"; do
	f=${FILE_OF[$c]}
	echo "== $c: $f, $((SIZE[$c] / 1000000)) MB, ${EXPECT[$c]} handshakes; $RUNS rounds of: ${TOOLS[*]}" >&2
	warm "$f"
	for t in tlsinspect tlsinspect-1cpu tlsinspect-w2; do
		if has "${TOOLS[*]}" "$t"; then
			TICOUNT[$c.$t]=$(tlsinspect_count "$t" "$f") || exit 2
		fi
	done
	for r in $(seq "$RUNS"); do
		for t in "${TOOLS[@]}"; do
			line=$(timed "$t" "$f")
			echo "   round $r $t: $line" >&2
			echo "$c $t $r $line" >>"$RESULTS"
			read -r _ _ _ _ rc _ <<<"$line"
			if ((rc != 0)); then
				msg=$(grep -v '^Running as user' "$SCR/$t.err" | head -n 1 || true)
				NOTES+=("$t on $c, round $r: exit status $rc${msg:+ ($msg)}")
			fi
		done
	done
	# ssldump's complaints about data it could not parse (last round)
	if has "${TOOLS[*]}" ssldump && [[ -s $SCR/ssldump.err ]]; then
		NOTES+=("ssldump on $c wrote $(wc -l <"$SCR/ssldump.err") lines to stderr, e.g. \"$(head -n 1 "$SCR/ssldump.err")\"")
	fi
done

# ------------------------------------------------------------------ report

# COMMAS: an awk function that writes 1234567 as 1,234,567 (mawk has no
# regexp intervals nor gensub).
COMMAS='function commas(n,  s, r) { s = sprintf("%d", n); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } return s r }'
fmt() { awk -v n="$1" "$COMMAS"' BEGIN { print commas(n) }'; }

version_of() { # package: the Debian version, if installed that way
	dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"
}

report() {
	echo "## tlsinspect compared with other tools (bench/compare.sh)"
	echo
	echo "- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
		"$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) memory," \
		"Linux $(uname -r), $(go version | awk '{ print $3, $4 }')"
	local built="CGO_ENABLED=0"
	[[ -n ${TLSINSPECT:-} ]] && built=$TI
	echo "- tools: $("$TI" --version 2>&1 | head -n 1) ($built)$( ((WORKERS)) || echo ", no --workers flag")" \
		"$(command -v tshark >/dev/null && echo "· tshark $(tshark --version 2>/dev/null | awk 'NR == 1 { print $3 }')")" \
		"$(command -v ssldump >/dev/null && echo "· ssldump $(version_of ssldump)")" \
		"$(command -v ndpiReader >/dev/null && echo "· ndpiReader (libndpi-bin $(version_of libndpi-bin))")" \
		"· GNU time $(version_of time)"
	echo "- $(date -u '+%Y-%m-%d %H:%M UTC'); wall time is the median of $RUNS runs, the tools alternating run by run, page cache warm (CACHE=${CACHE:-reread});" \
		"peak RSS is the largest of the runs; ratio = this tool's wall time ÷ ${TI_LABEL}'s (how many times faster tlsinspect is)"
	echo
	local c t base
	if ((${#CAPS[@]})); then
		echo "| tool | capture | wall (median) | CPU (user+sys) | MB/s | handshakes/s | handshakes found / in capture | peak RSS MiB | ratio |"
		echo "|---|---|---|---|---|---|---|---|---|"
		for c in "${CAPS[@]}"; do
			base=$(awk -v c="$c" '$1 == c && $2 == "tlsinspect" { print $4 }' "$RESULTS" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
			for t in "${TOOLS[@]}"; do
				awk -v c="$c" -v t="$t" '$1 == c && $2 == t' "$RESULTS" | sort -k4,4n |
					awk -v runs="$RUNS" -v size="${SIZE[$c]}" -v want="${EXPECT[$c]}" -v base="${base:-}" \
						-v label="$(label "$t")" -v cap="$c" -v t="$t" -v ticount="${TICOUNT[$c.$t]:-}" '
					'"$COMMAS"'
					{ wall[NR] = $4; cpu[NR] = $5 + $6; if ($7 > rss) rss = $7
					  if ($8 != 0) failed = $8
					  if (NR == 1 || $9 < lo) lo = $9; if (NR == 1 || $9 > hi) hi = $9 }
					END {
						if (failed != "") { # no figure from a run that did not finish
							printf "| %s | %s | failed (exit status %s; see the notes) | | | | | | |\n", label, cap, failed
							exit
						}
						m = int((NR + 1) / 2)
						w = wall[m]; tt = w > 0 ? w : 0.01
						if (t ~ /^tlsinspect/) lo = hi = ticount
						found = commas(lo); if (hi != lo) found = found "–" commas(hi) " (runs differ)"
						hs = t == "floor" ? "–" : commas(lo / tt) # what it found, not what it should have
						if (t == "floor") f = "– (" found " TCP segments)"
						else if (t == "ndpi") f = found " TLS flows / " commas(want)
						else f = found " / " commas(want)
						mbs = size / 1e6 / tt < 100 ? sprintf("%.1f", size / 1e6 / tt) : commas(size / 1e6 / tt)
						r = base != "" ? sprintf("%.2f×", tt / (base > 0 ? base : 0.01)) : "–"
						printf "| %s | %s | %.3f s | %.2f s | %s | %s | %s | %.1f | %s |\n",
							label, cap " (" sprintf("%.0f", size / 1e6) " MB)", w, cpu[m], mbs, hs, f, rss / 1024, r
					}'
			done
		done
	fi
	if has "$ONLY" mem; then
		echo
		echo "Memory flatness: $TI_LABEL peak RSS, 1 run each, on captures with $MEM_FACTOR× the connections"
		echo
		echo "| capture | connections | size | handshakes reported | wall | peak RSS MiB |"
		echo "|---|---|---|---|---|---|"
		cat "$SCR/mem"
	fi
	if ((${#NOTES[@]})); then
		echo
		echo "Notes:"
		echo
		local n
		for n in "${NOTES[@]}"; do echo "- $n"; done
	fi
	echo
	echo "Commands (FILE the capture; tlsinspect flags from ARGS: ${ARGS:-none}):"
	echo
	for t in "${TOOLS[@]}"; do
		cmd "$t" FILE
		local a shown=()
		for a in "${CMD[@]}"; do
			a=${a/#$SCR\/ndpi.csv/FLOWS.csv}
			a=${a/#$OUT\//}
			[[ $a == *[\ \|\*]* ]] && a="'$a'"
			shown+=("$a")
		done
		# shellcheck disable=SC2016 # the backquotes are markdown
		printf -- '- %s: `%s%s`\n' "$(label "$t")" "${shown[*]}" "$([[ $DEST == /dev/null ]] && echo " > /dev/null")"
	done
}

if has "$ONLY" mem; then
	: >"$SCR/mem"
	echo "== memory flatness ($TI_LABEL, 1 run each)" >&2
	for spec in "bulk $BULK_CONNS" "bulk $((BULK_CONNS * MEM_FACTOR))" "hs $HS_CONNS" "hs $((HS_CONNS * MEM_FACTOR))"; do
		read -r shape n <<<"$spec"
		if [[ $shape == bulk ]]; then f=$(bulk_name "$n"); else f=$(hs_name "$n"); fi
		warm "$f"
		got=$(tlsinspect_count tlsinspect "$f")
		read -r wall _ _ rss rc _ <<<"$(timed tlsinspect "$f")"
		((rc == 0)) || NOTES+=("tlsinspect on $f: exit status $rc")
		echo "   $f: $wall s, $rss KB" >&2
		printf '| %s | %s | %s MB | %s | %s s | %s |\n' "$shape" "$(fmt "$n")" "$(fmt $((($(stat -c %s "$f") + 500000) / 1000000)))" \
			"$(fmt "$got")" "$wall" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" >>"$SCR/mem"
	done
fi

echo >&2
report | tee "$OUT/compare.md"
