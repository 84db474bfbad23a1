#!/usr/bin/env bash
# Re-creates the QUIC captures in testdata/pcaps/quic (quic-*.pcap, their
# .keys key logs and .truth.json) from real QUIC traffic: internal/quicpeer,
# a client and server on github.com/quic-go/quic-go (and so Go's crypto/tls).
#
#   sudo bash testdata/pcaps/generate-quic.sh               # all scenarios
#   sudo bash testdata/pcaps/generate-quic.sh quic-v2-go    # only the named ones
#
# Needs root (network namespaces, tcpdump), Go, and the Debian packages
# tcpdump openssl iproute2 jq.
#
# Every scenario runs inside its own new network namespace (unshare -n) whose
# loopback has MTU 1500; no traffic leaves it. tcpdump captures UDP on the
# scenario's port only. quic-go's UDP GSO is turned off (QUIC_GO_DISABLE_GSO)
# so that every QUIC datagram is captured as its own packet, as on a real
# network. Each client connection comes from its own UDP socket (its own
# 4-tuple) and is a full handshake (no resumption, no 0-RTT); on it the client
# sends "ping N\n" on one stream, the server echoes it, and the client closes
# the connection (CONNECTION_CLOSE, application error 0).
#
# Key logs: NAME.keys holds the client's secrets (tls.Config.KeyLogWriter),
# enough to decrypt the Handshake packets of both directions.
#
# The captures go to $OUT (by default testdata/pcaps/quic).
#
# Truth files: what each endpoint itself reported (one JSON object per
# connection from quicpeer: tls.ConnectionState and quic.ConnectionState,
# addresses, the client's Initial DCID and SCID; the server's view of the
# ClientHello), combined by lib.sh's write_truth.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT=${OUT:-$HERE/quic}

# ---------------------------------------------------------------- helpers ---

# quic_pair NAME PORT "server flags" "client flags": capture one quicpeer
# server and client on loopback; truth lines go to $T/server.jsonl and
# $T/client.jsonl, the client's key log to $T/NAME.keys.
quic_pair() {
	local name=$1 port=$2 sflags=$3 cflags=$4
	cap_start "$T/$name.pcap" lo udp port "$port"
	# shellcheck disable=SC2086
	timeout $TO "$PEER" -mode server -addr "127.0.0.1:$port" -cert "$PKI/server-chain.pem" -key "$PKI/server.key" \
		-ready "$T/ready" -out "$T/server.jsonl" $sflags 2>"$T/server.log" &
	local spid=$!
	wait_file "$T/ready"
	# The client exits 2 when a connection failed (the refused scenario).
	# shellcheck disable=SC2086
	timeout $TO "$PEER" -mode client -addr "127.0.0.1:$port" -ca "$PKI/ca.pem" -sni server.test \
		-keylog "$T/$name.keys" -out "$T/client.jsonl" $cflags 2>"$T/client.log" || true
	wait "$spid" || true
	cap_stop
}

QUIC_STACK="quic-go $(cd "$REPO" && go list -m -f '{{.Version}}' github.com/quic-go/quic-go) ($(go env GOVERSION))"

# --------------------------------------------------------------- scenarios ---

sc_quic-v1-go() {
	quic_pair quic-v1-go 44500 "-version v1 -n 2 -alpn hq-interop,h3" "-version v1 -n 2 -alpn h3,hq-interop"
	write_truth quic-v1-go "QUIC v1 (RFC 9000), two connections (two client ports), each a full TLS 1.3 handshake: X25519MLKEM768 key share (the ClientHello, ~1.5 KB, takes two Initial packets), RSA chain (leaf + intermediate), SNI server.test; the client offers ALPN h3,hq-interop and the server chooses hq-interop (its own preference); no client certificate" \
		"$QUIC_STACK internal/quicpeer client" "$QUIC_STACK internal/quicpeer server"
}

sc_quic-v2-go() {
	quic_pair quic-v2-go 44501 "-version v2 -n 2 -alpn h3" "-version v2 -n 2 -alpn h3"
	write_truth quic-v2-go "QUIC v2 (RFC 9369, version 0x6b3343cf, its own Initial salt and keys) from the first packet (both ends support only v2), two connections, ALPN h3, SNI server.test; no client certificate" \
		"$QUIC_STACK internal/quicpeer client -version v2" "$QUIC_STACK internal/quicpeer server -version v2"
}

sc_quic-bighello-go() {
	quic_pair quic-bighello-go 44502 "-version v1 -n 2 -alpn h3" "-version v1 -n 2 -alpn h3 -big-hello"
	write_truth quic-bighello-go "QUIC v1, two connections whose ClientHello is ~4 KB: 12 ALPN values of 200 bytes (tlsinspect-big-hello-01-xxx… to -12-) before h3, plus the X25519MLKEM768 key share; its CRYPTO frames span at least three client Initial packets (four with quic-go v0.65.0), sent out of order (quic-go scrambles the ClientHello). The server chooses h3" \
		"$QUIC_STACK internal/quicpeer client -big-hello" "$QUIC_STACK internal/quicpeer server"
}

sc_quic-mtls-go() {
	quic_pair quic-mtls-go 44503 "-version v1 -n 2 -alpn h3 -mtls -ca $PKI/ca.pem" \
		"-version v1 -n 2 -alpn h3 -mtls -cert $PKI/client-chain.pem -key $PKI/client.key"
	write_truth quic-mtls-go "QUIC v1 mutual authentication, two connections: the server requires and verifies a client certificate (CertificateRequest in the Handshake packets), the client sends its chain (ECDSA P-256 leaf client.test + RSA intermediate) and CertificateVerify" \
		"$QUIC_STACK internal/quicpeer client -mtls" "$QUIC_STACK internal/quicpeer server -mtls"
}

sc_quic-mtls-refused-go() {
	quic_pair quic-mtls-refused-go 44504 "-version v1 -n 1 -alpn h3 -mtls -ca $PKI/ca.pem -timeout 3s" \
		"-version v1 -n 1 -alpn h3 -timeout 3s"
	write_truth quic-mtls-refused-go "QUIC v1, one connection: the server requires a client certificate, the client has none and sends an empty Certificate; the server fails the handshake with the TLS alert certificate_required (116), sent as a CONNECTION_CLOSE with CRYPTO_ERROR 0x174. The client had already sent its Finished and 1-RTT stream data" \
		"$QUIC_STACK internal/quicpeer client (no certificate)" "$QUIC_STACK internal/quicpeer server -mtls"
}

ALL=(quic-v1-go quic-v2-go quic-bighello-go quic-mtls-go quic-mtls-refused-go)

# Inside the namespace: run one scenario.
if [[ ${1:-} == --inner ]]; then
	ip link set lo up mtu 1500
	export QUIC_GO_DISABLE_GSO=true QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING=true
	cd "$T"
	"sc_$2"
	exit 0
fi

# -------------------------------------------------------------------- main ---

require_root_and generate-quic.sh "apt-get install tcpdump openssl iproute2 jq" \
	go tcpdump openssl ip ss jq unshare timeout

gen_setup quic quicpeer
export PEER="$WORK/bin/quicpeer"

# keep_scenario NAME PACKETS: the capture, its key log and truth file.
keep_scenario() {
	[[ -s $T/$1.keys ]] || return 1
	keep "$T/$1.pcap" "$T/$1.keys" "$T/$1.truth.json" || return 1
	log "$1: $2 packets"
}

run_scenarios in_netns keep_scenario "$@"
log "done"
