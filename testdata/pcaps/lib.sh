# Shell helpers shared by generate.sh, generate-dtls.sh and generate-quic.sh,
# which source it first thing. It sets HERE (this directory), SELF (the
# generator), REPO (the repository), TO (seconds a server or client process
# may take) and log(); the generator sets $T, the scenario's work directory,
# and ALL, its scenarios. OUT (from the environment) is where the captures
# go: by default the generator's own directory under testdata/pcaps.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$HERE/$(basename "${BASH_SOURCE[1]}")"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck disable=SC2034 # used by the generators
TO=20 # seconds: upper bound for each server/client process

log() { printf '[%s] %s\n' "$(basename "$SELF" .sh)" "$*" >&2; }

setup_lo() {
	ip link set lo up mtu 1500
	ethtool -K lo tso off gso off gro off >/dev/null
}

# cap_start FILE IFACE FILTER... : start tcpdump and wait until it is capturing.
cap_start() {
	local file=$1 iface=$2
	shift 2
	CAP_FILE=$file
	rm -f "$file"
	# --immediate-mode: without it, TPACKET_V3 hands packets over in blocks and
	# the last partial block can be lost when tcpdump is stopped.
	tcpdump -i "$iface" --immediate-mode -B 8192 -U -s 0 -w "$file" "$@" 2>"$file.log" &
	CAP_PID=$!
	local i
	for i in $(seq 100); do
		grep -q "listening on" "$file.log" 2>/dev/null && { sleep 0.2; return 0; }
		sleep 0.05
	done
	log "tcpdump did not start: $(cat "$file.log")"
	return 1
}

# cap_stop: let the last packets arrive, then stop tcpdump cleanly (SIGINT).
cap_stop() {
	sleep 0.3
	kill -INT "$CAP_PID"
	wait "$CAP_PID" || true
	rm -f "$CAP_FILE.log"
}

wait_file() {
	local i
	for i in $(seq 200); do
		[[ -s $1 ]] && return 0
		sleep 0.05
	done
	log "timeout waiting for $1"
	return 1
}

# wait_port PORT: until something listens on TCP PORT (for openssl s_server).
wait_port() {
	local i
	for i in $(seq 200); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	log "timeout waiting for port $1"
	return 1
}

# write_truth NAME DESCRIPTION CLIENT_STACK SERVER_STACK [EXTRA_JSON]
# Combines $T/client.jsonl and $T/server.jsonl into NAME.truth.json.
write_truth() {
	local name=$1 desc=$2 cstack=$3 sstack=$4 extra=${5:-null}
	touch "$T/client.jsonl" "$T/server.jsonl"
	jq -n --arg file "$name.pcap" --arg desc "$desc" --arg cs "$cstack" --arg ss "$sstack" \
		--argjson extra "$extra" \
		--slurpfile c "$T/client.jsonl" --slurpfile s "$T/server.jsonl" '{
		file: $file, description: $desc, client_stack: $cs, server_stack: $ss,
		client: $c, server: $s
	} + (if $extra == null then {} else {extra: $extra} end)' >"$T/$name.truth.json"
}

make_pki() {
	local d=$1
	mkdir -p "$d"
	cd "$d"
	local days=36500
	cat >ext.cnf <<-'EOF'
		[ca]
		basicConstraints = critical, CA:TRUE
		keyUsage = critical, keyCertSign, cRLSign
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
		[server]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature, keyEncipherment
		extendedKeyUsage = serverAuth
		subjectAltName = DNS:server.test, DNS:localhost, IP:127.0.0.1, IP:::1, IP:192.0.2.2
		authorityKeyIdentifier = keyid
		[client]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature
		extendedKeyUsage = clientAuth
		subjectAltName = DNS:client.test
		authorityKeyIdentifier = keyid
	EOF
	local q="-quiet"
	# Root and intermediate CA (RSA 2048).
	openssl genpkey $q -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ca.key
	openssl req -x509 -new -key ca.key -sha256 -days $days -subj "/O=tlsinspect test/CN=tlsinspect Test Root CA" \
		-extensions ca -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n'; cat ext.cnf) -out ca.pem
	openssl genpkey $q -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out inter.key
	openssl req -new -key inter.key -subj "/O=tlsinspect test/CN=tlsinspect Test Intermediate CA" -out inter.csr
	openssl x509 -req -in inter.csr -CA ca.pem -CAkey ca.key -set_serial 2 -sha256 -days $days \
		-extfile ext.cnf -extensions ca -out inter.pem 2>/dev/null
	# Server leaf: RSA 2048 and ECDSA P-256.
	openssl genpkey $q -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server.key
	openssl req -new -key server.key -subj "/O=tlsinspect test/CN=server.test" -out server.csr
	openssl x509 -req -in server.csr -CA inter.pem -CAkey inter.key -set_serial 10 -sha256 -days $days \
		-extfile ext.cnf -extensions server -out server.pem 2>/dev/null
	cat server.pem inter.pem >server-chain.pem
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server-ec.key
	openssl req -new -key server-ec.key -subj "/O=tlsinspect test/CN=server.test" -out server-ec.csr
	openssl x509 -req -in server-ec.csr -CA inter.pem -CAkey inter.key -set_serial 11 -sha256 -days $days \
		-extfile ext.cnf -extensions server -out server-ec.pem 2>/dev/null
	cat server-ec.pem inter.pem >server-ec-chain.pem
	# Client certificate (ECDSA P-256) for mutual TLS.
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client.key
	openssl req -new -key client.key -subj "/O=tlsinspect test/CN=client.test" -out client.csr
	openssl x509 -req -in client.csr -CA inter.pem -CAkey inter.key -set_serial 20 -sha256 -days $days \
		-extfile ext.cnf -extensions client -out client.pem 2>/dev/null
	cat client.pem inter.pem >client-chain.pem

	# Long chain: root -> 16 intermediates -> leaf, all RSA 4096; the leaf has
	# 420 SANs. The Certificate message is ~35 KB: three TLS records (max 16 KB).
	local n=16 i prev=long-root
	openssl genpkey $q -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out long-root.key
	openssl req -x509 -new -key long-root.key -sha256 -days $days -subj "/O=tlsinspect test/CN=tlsinspect Long Chain Root" \
		-extensions ca -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n'; cat ext.cnf) -out long-root.pem
	: >long-inters.pem
	for i in $(seq $n); do
		openssl genpkey $q -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out long-i$i.key
		openssl req -new -key long-i$i.key -subj "/O=tlsinspect test/CN=tlsinspect Long Chain Intermediate $i" -out long-i$i.csr
		openssl x509 -req -in long-i$i.csr -CA $prev.pem -CAkey $prev.key -set_serial $((100 + i)) -sha256 -days $days \
			-extfile ext.cnf -extensions ca -out long-i$i.pem 2>/dev/null
		cat long-i$i.pem long-inters.pem >long-inters.tmp && mv long-inters.tmp long-inters.pem
		prev=long-i$i
	done
	{
		printf '[leaf]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n'
		printf 'extendedKeyUsage = serverAuth\nsubjectAltName = DNS:long.server.test'
		for i in $(seq 420); do printf ', DNS:host%03d.long.server.test' "$i"; done
		printf '\n'
	} >long-leaf.cnf
	openssl genpkey $q -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out long-leaf.key
	openssl req -new -key long-leaf.key -subj "/O=tlsinspect test/CN=long.server.test" -out long-leaf.csr
	openssl x509 -req -in long-leaf.csr -CA $prev.pem -CAkey $prev.key -set_serial 200 -sha256 -days $days \
		-extfile long-leaf.cnf -extensions leaf -out long-leaf.pem 2>/dev/null
	cat long-leaf.pem long-inters.pem >long-chain.pem
	cd - >/dev/null
}

# wait_udp PORT: until something is bound to UDP PORT.
wait_udp() {
	local i
	for i in $(seq 200); do
		ss -Hlun "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	log "timeout waiting for udp port $1"
	return 1
}

# require_root_and SCRIPT HINT TOOL...: stop unless run as root with every
# TOOL installed; HINT says how to install them.
require_root_and() {
	local script=$1 hint=$2 tool
	shift 2
	if [[ $(id -u) != 0 ]]; then
		echo "$script: must run as root (network namespaces, tcpdump)" >&2
		exit 1
	fi
	# sudo's secure_path usually lacks Go; look in the usual places.
	command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin:/usr/lib/go/bin
	for tool in "$@"; do
		command -v "$tool" >/dev/null || {
			echo "$script: missing $tool ($hint)" >&2
			exit 1
		}
	done
}

# gen_setup NAME TOOL...: the generator's work directory $WORK
# (/tmp/tlsinspect-NAME.*, removed at exit unless KEEP_WORK is set) with the
# PKI of make_pki in $PKI and each TOOL, a command of internal/, built in
# $WORK/bin.
gen_setup() {
	local name=$1 tool
	shift
	WORK=$(mktemp -d "/tmp/tlsinspect-$name.XXXXXX")
	[[ -n ${KEEP_WORK:-} ]] || trap 'rm -rf "$WORK"' EXIT
	export WORK PKI="$WORK/pki"
	log "building $*"
	for tool in "$@"; do
		(cd "$REPO" && CGO_ENABLED=0 go build -o "$WORK/bin/$tool" "./internal/$tool")
	done
	log "creating certificates"
	make_pki "$PKI"
}

# in_netns NAME: run scenario NAME in a new network namespace (the generator
# run again with --inner NAME).
in_netns() {
	unshare -n bash "$SELF" --inner "$1"
}

# run_scenarios RUN KEEP NAME...: each scenario NAME (all of ALL if none is
# named) in a fresh work directory $T=$WORK/NAME: `RUN NAME` makes it, and
# unless that fails or leaves a capture of fewer than 6 packets or no
# NAME.truth.json, `KEEP NAME PACKETS` keeps it in $OUT (failing if something
# is missing). Exits 1 after them all if any failed.
run_scenarios() {
	local run=$1 keep=$2 name rc npk
	shift 2
	local scen=("$@") failed=()
	((${#scen[@]})) || scen=("${ALL[@]}")
	mkdir -p "$OUT"
	for name in "${scen[@]}"; do
		log "scenario $name"
		export T="$WORK/$name"
		rm -rf "$T"
		mkdir -p "$T"
		rc=0
		"$run" "$name" || rc=$?
		npk=$(tcpdump -r "$T/$name.pcap" 2>/dev/null | wc -l || true)
		if [[ $rc != 0 || $npk -lt 6 || ! -s $T/$name.truth.json ]] || ! "$keep" "$name" "$npk"; then
			log "scenario $name FAILED (rc=$rc, $npk packets)"
			failed+=("$name")
		fi
	done
	if ((${#failed[@]})); then
		log "FAILED: ${failed[*]}"
		exit 1
	fi
}

# keep FILE...: copy the scenario's files to $OUT, readable by all.
keep() {
	local f
	cp "$@" "$OUT/" || return 1
	for f in "$@"; do
		chmod a+r "$OUT/$(basename "$f")"
	done
}
