#!/usr/bin/env bash
# Re-creates every capture in testdata/pcaps from real TLS stacks (Go crypto/tls
# via internal/tlspeer, OpenSSL s_server/s_client, curl).
#
#   sudo bash testdata/pcaps/generate.sh            # all scenarios
#   sudo bash testdata/pcaps/generate.sh tls13-go   # only the named ones
#
# Needs root (network namespaces, tcpdump), Go, and the Debian packages
# tcpdump tshark openssl curl ethtool iproute2 jq gnutls-bin.
#
# Every scenario runs inside its own new network namespace (unshare -n; the VLAN
# one in two `ip netns` namespaces joined by a veth pair) whose loopback gets
# MTU 1500 and no TSO/GSO/GRO, so TCP segments are Ethernet-sized as on a real
# network. No traffic leaves those namespaces. The captures go to $OUT (by
# default testdata/pcaps).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT=${OUT:-$HERE}

# ---------------------------------------------------------------- helpers ---

# go_pair PORT "server flags" "client flags": capture one tlspeer server and
# client run on loopback; truth lines go to $T/server.jsonl and $T/client.jsonl.
go_pair() {
	local port=$1 sflags=$2 cflags=$3 addr=${4:-127.0.0.1}
	local host=$addr
	[[ $addr == *:* ]] && host="[$addr]"
	# shellcheck disable=SC2086
	timeout $TO "$PEER" -mode server -addr "$host:$port" -ready "$T/ready" -out "$T/server.jsonl" $sflags &
	local spid=$!
	wait_file "$T/ready"
	# shellcheck disable=SC2086
	timeout $TO "$PEER" -mode client -addr "$host:$port" -out "$T/client.jsonl" $cflags || true
	wait "$spid" || true
}

# go_scenario NAME PORT "server flags" "client flags" [ADDR]
go_scenario() {
	local name=$1 port=$2
	cap_start "$T/$name.pcap" lo tcp port "$port"
	go_pair "$port" "$3" "$4" "${5:-127.0.0.1}"
	cap_stop
}

# ossl_fields FILE: JSON object of the SSL-Session fields that OpenSSL prints
# (s_client's connection summary, or the status page of `s_server -www`).
ossl_fields() {
	local f=$1
	jq -cn --arg proto "$(sed -n 's/^ *Protocol *: *//p' "$f" | head -1)" \
		--arg cipher "$(sed -n 's/^ *Cipher *: *//p' "$f" | head -1)" \
		--arg line "$(grep -E '^(New|Reused), ' "$f" | head -1 || true)" \
		--arg sid "$(sed -n 's/^ *Session-ID: *//p' "$f" | head -1)" \
		--arg alpn "$(sed -n 's/^ALPN protocol: *//p' "$f" | head -1)" \
		--arg tmpkey "$(sed -n 's/^\(Server \)\{0,1\}Temp Key: *//p' "$f" | head -1)" \
		--arg groups "$(sed -n 's/^Shared groups: *//p' "$f" | head -1)" \
		--arg verify "$(sed -n 's/^ *Verify return code: *//p' "$f" | tail -1)" \
		--argjson certs "$(sed -n '/^Certificate chain/,/^---/p' "$f" | grep -cE '^ *[0-9]+ s:' || true)" \
		--arg alert "$(grep -oE 'alert [a-z ]+|SSL alert number [0-9]+|no shared cipher' "$f" | head -3 | paste -sd ';' || true)" '{
		version: $proto, cipher: $cipher, status_line: $line,
		did_resume: ($line | startswith("Reused")), session_id: $sid, alpn: $alpn,
		server_temp_key: $tmpkey, shared_groups: $groups, peer_cert_count: $certs,
		verify_return_code: $verify, error: $alert
	} | with_entries(select(.value != ""))'
}

# openssl_truth LOG CONN: client and server JSON lines from an `openssl
# s_client` transcript against `s_server -www`: the part before the HTTP
# response is the client's view, the status page after it the server's.
openssl_truth() {
	local f=$1 conn=$2
	awk '/^HTTP\/1\.0 200/ {exit} {print}' "$f" >"$f.client"
	awk 'p {print} /^HTTP\/1\.0 200/ {p=1}' "$f" >"$f.server"
	ossl_fields "$f.client" | jq -c --argjson conn "$conn" '{role: "client", stack: "openssl s_client", conn: $conn} + .' >>"$T/client.jsonl"
	if [[ -s $f.server ]]; then
		ossl_fields "$f.server" | jq -c --argjson conn "$conn" '{role: "server", stack: "openssl s_server -www (status page)", conn: $conn} + . | del(.peer_cert_count, .verify_return_code)' >>"$T/server.jsonl"
	fi
}


GO_STACK="Go $(go env GOVERSION 2>/dev/null || echo '?') crypto/tls (internal/tlspeer)"
OPENSSL_STACK="$(openssl version | cut -d' ' -f1-2)"

# --------------------------------------------------------------- scenarios ---
# Each sc_NAME runs inside a fresh network namespace with $T as its work dir
# and must leave $T/NAME.pcap and $T/NAME.truth.json.

srv_rsa() { echo "-cert $PKI/server-chain.pem -key $PKI/server.key"; }
srv_ec() { echo "-cert $PKI/server-ec-chain.pem -key $PKI/server-ec.key"; }
cli_ca() { echo "-ca $PKI/ca.pem -sni server.test"; }

# openssl_scenario NAME PORT NCONN "s_server flags" "s_client flags" [SESS]
# s_server -www answers each GET with a status page and closes.
openssl_scenario() {
	local name=$1 port=$2 n=$3 sflags=$4 cflags=$5 sess=${6:-}
	cap_start "$T/$name.pcap" lo tcp port "$port"
	# shellcheck disable=SC2086
	timeout $TO openssl s_server -accept "127.0.0.1:$port" -naccept "$n" -www \
		-cert "$PKI/server.pem" -key "$PKI/server.key" -cert_chain "$PKI/inter.pem" \
		$sflags >"$T/s_server.log" 2>&1 </dev/null &
	local spid=$! i
	wait_port "$port"
	for i in $(seq "$n"); do
		local sessflag=""
		if [[ -n $sess ]]; then
			if [[ $i == 1 ]]; then sessflag="-sess_out $T/sess.pem"; else sessflag="-sess_in $T/sess.pem"; fi
		fi
		# shellcheck disable=SC2086
		printf 'GET / HTTP/1.0\r\n\r\n' | timeout $TO openssl s_client -connect "127.0.0.1:$port" \
			-servername server.test -CAfile "$PKI/ca.pem" -ign_eof $cflags $sessflag \
			>"$T/s_client.$i.log" 2>&1 || true
		openssl_truth "$T/s_client.$i.log" "$i"
		sleep 0.1
	done
	wait "$spid" || true
	cap_stop
	jq -cn --rawfile log "$T/s_server.log" '{role: "server", stack: "openssl s_server", conn: 0, log: ($log | split("\n") | map(select(length > 0)))}' >>"$T/server.jsonl"
}

sc_tls10-openssl() {
	openssl_scenario tls10-openssl 44310 1 "-tls1 -cipher DEFAULT@SECLEVEL=0" "-tls1 -cipher DEFAULT@SECLEVEL=0"
	write_truth tls10-openssl "TLS 1.0, ECDHE-RSA, RSA certificate chain (leaf + intermediate), SNI server.test" "$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server -www"
}

sc_tls11-openssl() {
	openssl_scenario tls11-openssl 44311 1 "-tls1_1 -cipher DEFAULT@SECLEVEL=0" "-tls1_1 -cipher DEFAULT@SECLEVEL=0"
	write_truth tls11-openssl "TLS 1.1, ECDHE-RSA, RSA certificate chain, SNI server.test" "$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server -www"
}

sc_tls12-rsa-kx-openssl() {
	openssl_scenario tls12-rsa-kx-openssl 44314 1 "-tls1_2 -cipher AES128-GCM-SHA256" "-tls1_2 -cipher AES128-GCM-SHA256"
	write_truth tls12-rsa-kx-openssl "TLS 1.2 with static RSA key exchange (TLS_RSA_WITH_AES_128_GCM_SHA256): no ServerKeyExchange" "$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server -www"
}

sc_tls12-dhe-openssl() {
	openssl_scenario tls12-dhe-openssl 44315 1 "-tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256" "-tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256"
	write_truth tls12-dhe-openssl "TLS 1.2 finite-field DHE (TLS_DHE_RSA_WITH_AES_128_GCM_SHA256), DH params in ServerKeyExchange" "$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server -www"
}

sc_tls12-sessionid-openssl() {
	openssl_scenario tls12-sessionid-openssl 44323 2 "-tls1_2 -no_ticket" "-tls1_2 -no_ticket" sess
	write_truth tls12-sessionid-openssl "Two TLS 1.2 connections; the second resumes by session ID (server -no_ticket, client -sess_out/-sess_in): abbreviated handshake, no Certificate" "$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server -www -no_ticket"
}

sc_alert-handshake-failure-openssl() {
	openssl_scenario alert-handshake-failure-openssl 44322 1 "-tls1_2 -cipher AES256-SHA256" "-tls1_2 -cipher AES128-SHA256"
	write_truth alert-handshake-failure-openssl "TLS 1.2 cipher mismatch (client offers only AES128-SHA256, server allows only AES256-SHA256): server answers the ClientHello with a fatal handshake_failure alert" "$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server"
}

sc_tls13-curl-openssl() {
	local port=44316
	cap_start "$T/tls13-curl-openssl.pcap" lo tcp port "$port"
	timeout $TO openssl s_server -accept "127.0.0.1:$port" -naccept 1 -www -tls1_3 \
		-cert "$PKI/server.pem" -key "$PKI/server.key" -cert_chain "$PKI/inter.pem" \
		>"$T/s_server.log" 2>&1 </dev/null &
	local spid=$!
	wait_port "$port"
	timeout $TO curl -4 -sS -v --cacert "$PKI/ca.pem" -o "$T/body.txt" \
		-w '%{http_code} %{ssl_verify_result}\n' "https://localhost:$port/" >"$T/curl.out" 2>"$T/curl.err" || true
	wait "$spid" || true
	cap_stop
	local conn alpn
	conn=$(sed -n 's/^\* SSL connection using //p' "$T/curl.err" | head -1)
	alpn=$(grep -iE '^\* ALPN' "$T/curl.err" | paste -sd ';' || true)
	jq -cn --arg conn "$conn" --arg alpn "$alpn" --arg out "$(cat "$T/curl.out")" \
		--arg cv "$(curl --version | head -1 | cut -d' ' -f1-2)" '{
		role: "client", stack: $cv, conn: 1, sni: "localhost",
		ssl_connection: $conn, version: ($conn | split(" / ")[0]), cipher: ($conn | split(" / ")[1]),
		alpn_log: $alpn, http_code_and_verify: $out
	}' >"$T/client.jsonl"
	ossl_fields "$T/body.txt" | jq -c '{role: "server", stack: "openssl s_server -www (status page)", conn: 1} + . | del(.peer_cert_count, .verify_return_code)' >"$T/server.jsonl"
	write_truth tls13-curl-openssl "TLS 1.3, curl client (offers ALPN h2/http1.1, SNI localhost) against openssl s_server (no ALPN)" "curl (OpenSSL)" "$OPENSSL_STACK s_server -www"
}

sc_tls12-ecdhe-go() {
	go_scenario tls12-ecdhe-go 44312 "$(srv_rsa)" "$(cli_ca) -max 1.2 -curves X25519"
	write_truth tls12-ecdhe-go "TLS 1.2 ECDHE-RSA (X25519), AES-GCM, SNI server.test, server issues a session ticket" "$GO_STACK" "$GO_STACK"
}

sc_tls13-go() {
	go_scenario tls13-go 44313 "$(srv_ec)" "$(cli_ca)"
	write_truth tls13-go "TLS 1.3 with Go defaults (X25519MLKEM768 key share, ECDSA P-256 certificate); ClientHello is larger than one 1448-byte segment" "$GO_STACK" "$GO_STACK"
}

sc_tls13-hrr-go() {
	go_scenario tls13-hrr-go 44317 "$(srv_ec) -curves P256" "$(cli_ca) -curves X25519,P256"
	write_truth tls13-hrr-go "TLS 1.3 HelloRetryRequest: client key share X25519 only, server supports only P-256, so it asks for a P-256 share; second ClientHello" "$GO_STACK" "$GO_STACK"
}

sc_tls12-mtls-go() {
	go_scenario tls12-mtls-go 44318 "$(srv_rsa) -client-auth require-verify -ca $PKI/ca.pem" \
		"$(cli_ca) -max 1.2 -cert $PKI/client-chain.pem -key $PKI/client.key"
	write_truth tls12-mtls-go "TLS 1.2 mutual TLS: CertificateRequest (RequireAndVerifyClientCert), client sends Certificate (client + intermediate) and CertificateVerify" "$GO_STACK" "$GO_STACK"
}

sc_tls12-certreq-empty-go() {
	go_scenario tls12-certreq-empty-go 44319 "$(srv_rsa) -client-auth request" "$(cli_ca) -max 1.2"
	write_truth tls12-certreq-empty-go "TLS 1.2 CertificateRequest (RequestClientCert) answered by an empty client Certificate message; handshake succeeds" "$GO_STACK" "$GO_STACK"
}

sc_tls13-mtls-go() {
	go_scenario tls13-mtls-go 44320 "$(srv_ec) -client-auth require-verify -ca $PKI/ca.pem" \
		"$(cli_ca) -cert $PKI/client-chain.pem -key $PKI/client.key"
	write_truth tls13-mtls-go "TLS 1.3 mutual TLS; CertificateRequest and client Certificate are encrypted (only visible in the truth file)" "$GO_STACK" "$GO_STACK"
}

sc_alert-protocol-version-go() {
	go_scenario alert-protocol-version-go 44321 "$(srv_rsa) -min 1.2" "$(cli_ca) -min 1.0 -max 1.1"
	write_truth alert-protocol-version-go "Client offers only TLS 1.0-1.1, server requires TLS 1.2+: server sends a fatal protocol_version alert instead of ServerHello" "$GO_STACK" "$GO_STACK"
}

sc_tls12-ticket-go() {
	go_scenario tls12-ticket-go 44324 "$(srv_rsa) -conns 2" "$(cli_ca) -max 1.2 -conns 2"
	write_truth tls12-ticket-go "Two TLS 1.2 connections; the first gets a NewSessionTicket, the second offers it in session_ticket and is resumed (abbreviated handshake)" "$GO_STACK" "$GO_STACK"
}

sc_tls13-psk-go() {
	go_scenario tls13-psk-go 44325 "$(srv_ec) -conns 2" "$(cli_ca) -conns 2"
	write_truth tls13-psk-go "Two TLS 1.3 connections; the second offers a pre_shared_key from the first's NewSessionTicket and is resumed (psk_dhe_ke)" "$GO_STACK" "$GO_STACK"
}

sc_alpn-h2-go() {
	go_scenario alpn-h2-go 44326 "$(srv_ec) -alpn h2,http/1.1" "$(cli_ca) -alpn h2,http/1.1"
	write_truth alpn-h2-go "TLS 1.3, client offers ALPN h2 and http/1.1, server selects h2 (EncryptedExtensions, so only the offer is visible)" "$GO_STACK" "$GO_STACK"
}

sc_alpn-h2-tls12-go() {
	go_scenario alpn-h2-tls12-go 44334 "$(srv_rsa) -alpn h2,http/1.1" "$(cli_ca) -max 1.2 -alpn h2,http/1.1"
	write_truth alpn-h2-tls12-go "TLS 1.2, client offers ALPN h2 and http/1.1, server selects h2 in the (cleartext) ServerHello" "$GO_STACK" "$GO_STACK"
}

sc_nosni-go() {
	go_scenario nosni-go 44327 "$(srv_rsa)" "-no-sni -max 1.2"
	write_truth nosni-go "TLS 1.2, client connects by IP address with no server_name extension (certificate not verified)" "$GO_STACK" "$GO_STACK"
}

sc_ipv6-go() {
	go_scenario ipv6-go 44328 "$(srv_ec)" "$(cli_ca)" ::1
	write_truth ipv6-go "TLS 1.3 over IPv6 loopback ([::1])" "$GO_STACK" "$GO_STACK"
}

sc_longchain-go() {
	go_scenario longchain-go 44329 "-cert $PKI/long-chain.pem -key $PKI/long-leaf.key" \
		"-ca $PKI/long-root.pem -sni long.server.test -max 1.2"
	write_truth longchain-go "TLS 1.2 with a long certificate chain (RSA-4096 leaf with many SANs + 16 RSA-4096 intermediates): the Certificate message spans several TLS records and many TCP segments" "$GO_STACK" "$GO_STACK"
}

sc_split-clienthello-go() {
	go_scenario split-clienthello-go 44330 "$(srv_ec)" "$(cli_ca) -mss 536"
	write_truth split-clienthello-go "TLS 1.3, client socket TCP_MAXSEG 536 (announced MSS 536): the ~1.5 KB ClientHello (X25519MLKEM768 share) spans 3 TCP segments" "$GO_STACK" "$GO_STACK"
}

sc_sll2-go() {
	local port=44331
	cap_start "$T/sll2-go.pcap" any tcp port "$port"
	go_pair "$port" "$(srv_ec)" "$(cli_ca)"
	cap_stop
	write_truth sll2-go "TLS 1.3 captured with tcpdump -i any: link type LINUX_SLL2 (276)" "$GO_STACK" "$GO_STACK"
}

sc_reorder-retrans-go() {
	local port=44333
	cap_start "$T/reorder-base.pcap" lo tcp port "$port"
	go_pair "$port" "$(srv_rsa)" "$(cli_ca) -max 1.2 -mss 536"
	cap_stop
	"$MANGLE" -mode reorder -in "$T/reorder-base.pcap" -out "$T/reorder-retrans-go.pcap" -port "$port" >"$T/mangle.json"
	write_truth reorder-retrans-go "Real TLS 1.2 handshake (client announced MSS 536, so the server flight has several segments); afterwards (internal/pcapmangle) the first two data segments of the server flight were swapped in the file and one segment was repeated as a retransmission" \
		"$GO_STACK" "$GO_STACK" "$(cat "$T/mangle.json")"
}

# vlan-go runs in the root namespace and builds two namespaces of its own,
# joined by a veth pair. With kernel 802.1Q support, the addresses sit on VLAN
# 100 sub-interfaces and the capture on the parent veth0 has tagged frames.
# Kernels built without CONFIG_VLAN_8021Q (such as the sandbox VM these files
# were made on) cannot create VLAN interfaces: then the handshake runs
# untagged over the veth pair and internal/pcapmangle -mode vlan inserts the
# 802.1Q tag into every captured frame; the truth file says which was done.
vlan_cleanup() {
	ip netns del tlsi-vlan-a 2>/dev/null || true
	ip netns del tlsi-vlan-b 2>/dev/null || true
}
sc_vlan-go() {
	local port=44332 a=tlsi-vlan-a b=tlsi-vlan-b ns addr dev=veth0.100 method=kernel
	vlan_cleanup
	trap vlan_cleanup EXIT
	ip netns add $a
	ip netns add $b
	ip -n $a link add veth0 type veth peer name veth0 netns $b
	if ! ip -n $a link add link veth0 name veth0.100 type vlan id 100 2>/dev/null; then
		method=pcapmangle
		dev=veth0
	fi
	for ns in $a $b; do
		if [[ $ns == "$a" ]]; then addr=192.0.2.1/24; else addr=192.0.2.2/24; fi
		ip -n $ns link set lo up
		ip -n $ns link set veth0 mtu 1500 up
		ip netns exec $ns ethtool -K veth0 tso off gso off gro off >/dev/null
		if [[ $method == kernel ]]; then
			[[ $ns == "$a" ]] || ip -n $ns link add link veth0 name veth0.100 type vlan id 100
			ip -n $ns link set veth0.100 up
			ip netns exec $ns ethtool -K veth0.100 tso off gso off gro off >/dev/null 2>&1 || true
		fi
		ip -n $ns addr add $addr dev $dev
	done
	# Capture on veth0 in namespace a (tagged frames when method=kernel).
	local raw="$T/vlan-go.pcap"
	[[ $method == kernel ]] || raw="$T/vlan-untagged.pcap"
	ip netns exec $a bash -c "$(declare -f cap_start log); cap_start '$raw' veth0 tcp port $port; echo \$CAP_PID >'$T/cap.pid'; wait \$CAP_PID" &
	local wrapper=$!
	wait_file "$T/cap.pid"
	# shellcheck disable=SC2046
	ip netns exec $b timeout $TO "$PEER" -mode server -addr "192.0.2.2:$port" -ready "$T/ready" \
		-out "$T/server.jsonl" $(srv_rsa) &
	local spid=$!
	wait_file "$T/ready"
	# shellcheck disable=SC2046
	ip netns exec $a timeout $TO "$PEER" -mode client -addr "192.0.2.2:$port" -out "$T/client.jsonl" \
		$(cli_ca) -max 1.2 || true
	wait "$spid" || true
	sleep 0.3
	kill -INT "$(cat "$T/cap.pid")"
	wait "$wrapper" || true
	rm -f "$raw.log"
	vlan_cleanup
	trap - EXIT
	local extra
	if [[ $method == kernel ]]; then
		extra='{"vlan_method":"kernel 802.1Q sub-interfaces, captured on the parent veth"}'
	else
		extra=$("$MANGLE" -mode vlan -vlan 100 -in "$raw" -out "$T/vlan-go.pcap" |
			jq -c '{vlan_method: "kernel has no 802.1Q support: handshake captured untagged on the veth pair, tag inserted by internal/pcapmangle -mode vlan"} + .')
	fi
	write_truth vlan-go "TLS 1.2 between two network namespaces over a veth pair (192.0.2.1 -> 192.0.2.2, documentation range, real MAC addresses); every Ethernet frame carries an 802.1Q tag for VLAN 100" "$GO_STACK" "$GO_STACK" "$extra"
}

# ------------------------------------------------ TLS 1.3 client-auth matrix ---
# tls13-clientauth-{go,openssl,gnutls}-{none,cert,empty}: the client stack in the
# name, against a server that does not ask for a client certificate (none), asks
# for one without requiring it and gets one (cert), or asks and gets an empty
# Certificate message (empty). The servers only request (Go RequestClientCert,
# s_server -verify 1, gnutls-serv's default request mode), so the handshake
# succeeds either way. Every truth line says what that endpoint saw:
# client_cert_requested / client_cert_sent, from tlspeer, from the decrypted
# handshake messages OpenSSL prints with -msg, or from gnutls-cli/gnutls-serv's
# log ("Server has requested a certificate.", "Successfully sent N
# certificate(s)", "Got a certificate list of N certificates").

GNUTLS_STACK="GnuTLS $(gnutls-cli --version 2>/dev/null | head -1 | awk '{print $NF}')"

# ca_srv_go PORT AUTH: tlspeer server (AUTH none|request) in the background.
ca_srv_go() {
	local port=$1 auth=$2
	# shellcheck disable=SC2046
	timeout $TO "$PEER" -mode server -addr "127.0.0.1:$port" -ready "$T/ready" -out "$T/server.raw.jsonl" \
		$(srv_ec) -client-auth "$auth" &
	SRV_PID=$!
	SRV_KIND=go SRV_AUTH=$auth
	wait_file "$T/ready"
}

# ca_srv_openssl PORT AUTH: s_server -www -msg (-verify 1 when AUTH=request).
ca_srv_openssl() {
	local port=$1 auth=$2 vflags=""
	[[ $auth == request ]] && vflags="-verify 1 -CAfile $PKI/ca.pem"
	# shellcheck disable=SC2086
	timeout $TO openssl s_server -accept "127.0.0.1:$port" -naccept 1 -www -msg \
		-cert "$PKI/server.pem" -key "$PKI/server.key" -cert_chain "$PKI/inter.pem" $vflags \
		>"$T/s_server.log" 2>&1 </dev/null &
	SRV_PID=$!
	SRV_KIND=openssl SRV_AUTH=$auth
	wait_port "$port"
}

# ca_srv_gnutls PORT AUTH: gnutls-serv --http (it requests a client
# certificate unless -a; it serves until killed).
ca_srv_gnutls() {
	local port=$1 auth=$2 aflag=""
	[[ $auth == none ]] && aflag="-a"
	# shellcheck disable=SC2086
	timeout $TO gnutls-serv --http -p "$port" $aflag \
		--x509certfile "$PKI/server-ec-chain.pem" --x509keyfile "$PKI/server-ec.key" \
		>"$T/gnutls-serv.log" 2>&1 </dev/null &
	SRV_PID=$!
	SRV_KIND=gnutls SRV_AUTH=$auth
	wait_port "$port"
}

# ossl_msg_cert LOG DIR: from an OpenSSL -msg transcript, the JSON fields
# client_cert_requested/client_cert_sent; DIR is the arrow of messages from
# the client (">>>" in s_client's log, "<<<" in s_server's).
ossl_msg_cert() {
	local f=$1 out=$2 in req len
	in='<<<'
	[[ $out == '<<<' ]] && in='>>>'
	req=false
	grep -qE "^$in TLS 1\.3, Handshake \[length [0-9a-f]+\], CertificateRequest" "$f" && req=true
	len=$(sed -nE "s/^$out TLS 1\.3, Handshake \[length ([0-9a-f]+)\], Certificate$/\1/p" "$f" | head -1)
	# The length printed is the whole message: 0008 is an empty Certificate.
	[[ -n $len ]] && len=$((16#$len))
	jq -cn --argjson req "$req" --argjson len "${len:-null}" '{client_cert_requested: $req,
		client_cert_sent: ($len != null and $len > 8), client_certificate_message_length: $len}'
}

# ca_srv_stop: wait for (or stop) the server and write its truth line.
ca_srv_stop() {
	case $SRV_KIND in
	go)
		wait "$SRV_PID" || true
		jq -c --argjson req "$([[ $SRV_AUTH == request ]] && echo true || echo false)" \
			'. + {client_cert_requested: $req, client_cert_requested_from: "server configuration (-client-auth)"}' \
			"$T/server.raw.jsonl" >>"$T/server.jsonl"
		;;
	openssl)
		wait "$SRV_PID" || true
		ossl_msg_cert "$T/s_server.log" '<<<' | jq -c --arg stack "$OPENSSL_STACK s_server -www -msg$([[ $SRV_AUTH == request ]] && echo ' -verify 1')" \
			'{role: "server", stack: $stack, conn: 1} + .' >>"$T/server.jsonl"
		;;
	gnutls)
		sleep 0.3
		kill "$SRV_PID" 2>/dev/null || true
		wait "$SRV_PID" || true
		local n
		n=$(sed -n 's/^- Got a certificate list of \([0-9]*\) certificate.*/\1/p' "$T/gnutls-serv.log" | head -1)
		jq -cn --arg stack "$GNUTLS_STACK gnutls-serv --http$([[ $SRV_AUTH == none ]] && echo ' -a')" \
			--argjson req "$([[ $SRV_AUTH == request ]] && echo true || echo false)" --argjson n "${n:-0}" \
			--arg desc "$(sed -n 's/^- Description: //p' "$T/gnutls-serv.log" | head -1)" '{
			role: "server", stack: $stack, conn: 1, description: $desc,
			client_cert_requested: $req, client_cert_requested_from: "server configuration (gnutls-serv requests unless -a)",
			client_cert_sent: ($n > 0), peer_cert_count: $n}' >>"$T/server.jsonl"
		;;
	esac
}

# ca_cli_go PORT CERT: tlspeer client, with the client certificate when CERT=cert.
ca_cli_go() {
	local port=$1 cflags
	cflags="$(cli_ca)"
	[[ $2 == cert ]] && cflags="$cflags -cert $PKI/client-chain.pem -key $PKI/client.key"
	# shellcheck disable=SC2086
	timeout $TO "$PEER" -mode client -addr "127.0.0.1:$port" -out "$T/client.jsonl" -keylog "$KEYS" $cflags || true
}

# ca_cli_openssl PORT CERT: s_client -msg (with -cert/-key when CERT=cert).
ca_cli_openssl() {
	local port=$1 cflags=""
	[[ $2 == cert ]] && cflags="-cert $PKI/client.pem -key $PKI/client.key -cert_chain $PKI/inter.pem"
	# shellcheck disable=SC2086
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout $TO openssl s_client -connect "127.0.0.1:$port" \
		-servername server.test -CAfile "$PKI/ca.pem" -ign_eof -msg -keylogfile "$KEYS" $cflags >"$T/s_client.log" 2>&1 || true
	awk '/^HTTP\/1\.0 200/ {exit} {print}' "$T/s_client.log" >"$T/s_client.log.client"
	jq -cn --argjson a "$(ossl_fields "$T/s_client.log.client")" --argjson b "$(ossl_msg_cert "$T/s_client.log.client" '>>>')" \
		'{role: "client", stack: "openssl s_client -msg", conn: 1} + $a + $b' >>"$T/client.jsonl"
}

# ca_cli_gnutls PORT CERT [FLAGS]: gnutls-cli (with --x509certfile/--x509keyfile
# when CERT=cert, and any further FLAGS such as --priority). gnutls-cli prints
# "Server has requested a certificate." when it verifies the server's
# certificate: in TLS 1.3 the CertificateRequest came before, in TLS 1.2 it
# comes after, so the line is missing there. "Successfully sent N
# certificate(s)" (also N=0) comes from its certificate callback, which GnuTLS
# calls only for a CertificateRequest: either line means requested.
ca_cli_gnutls() {
	local port=$1 cflags=${3:-}
	[[ $2 == cert ]] && cflags="$cflags --x509certfile $PKI/client-chain.pem --x509keyfile $PKI/client.key"
	# shellcheck disable=SC2086
	printf 'GET / HTTP/1.0\r\n\r\n' | SSLKEYLOGFILE="$KEYS" timeout $TO gnutls-cli 127.0.0.1 -p "$port" --sni-hostname server.test \
		--verify-hostname server.test --x509cafile "$PKI/ca.pem" $cflags >"$T/gnutls-cli.log" 2>&1 || true
	local n desc
	n=$(sed -n 's/^- Successfully sent \([0-9]*\) certificate.*/\1/p' "$T/gnutls-cli.log" | head -1)
	desc=$(sed -n 's/^- Description: //p' "$T/gnutls-cli.log" | head -1)
	jq -cn --arg stack "$GNUTLS_STACK gnutls-cli" --arg desc "$desc" --argjson n "${n:-0}" \
		--argjson req "$(grep -qE '^- (Server has requested a certificate\.|Successfully sent [0-9]+ certificate)' "$T/gnutls-cli.log" && echo true || echo false)" \
		--arg err "$(grep -E '^\*\*\* ' "$T/gnutls-cli.log" | grep -v 'Fatal error: The TLS connection was non-properly terminated' | head -2 | paste -sd ';' || true)" '{
		role: "client", stack: $stack, conn: 1, description: $desc,
		version: ($desc | capture("^\\((?<v>TLS1\\.[0-9])") | .v | sub("TLS"; "TLS ")),
		client_cert_requested: $req, client_cert_sent: ($n > 0), client_certs_sent: $n, error: $err
	} | with_entries(select(.value != ""))' >>"$T/client.jsonl"
}

# clientauth_scenario NAME PORT CLIENT CERT SERVER AUTH DESCRIPTION
clientauth_scenario() {
	local name=$1 port=$2 cli=$3 cert=$4 srv=$5 auth=$6 desc=$7 cstack sstack
	# The client's session secrets, for decryption with --keylog.
	KEYS="$T/$name.keys"
	rm -f "$KEYS"
	cap_start "$T/$name.pcap" lo tcp port "$port"
	"ca_srv_$srv" "$port" "$auth"
	"ca_cli_$cli" "$port" "$cert"
	ca_srv_stop
	cap_stop
	case $cli in go) cstack=$GO_STACK ;; openssl) cstack="$OPENSSL_STACK s_client" ;; gnutls) cstack="$GNUTLS_STACK gnutls-cli" ;; esac
	case $srv in go) sstack=$GO_STACK ;; openssl) sstack="$OPENSSL_STACK s_server -www" ;; gnutls) sstack="$GNUTLS_STACK gnutls-serv --http" ;; esac
	write_truth "$name" "$desc" "$cstack" "$sstack"
}

sc_tls13-clientauth-go-none() {
	clientauth_scenario tls13-clientauth-go-none 44335 go none go none \
		"TLS 1.3, Go client, Go server that does not request a client certificate: client flight is Finished only"
}
sc_tls13-clientauth-go-cert() {
	clientauth_scenario tls13-clientauth-go-cert 44336 go cert go request \
		"TLS 1.3, Go server requests a client certificate (RequestClientCert), Go client sends one (ECDSA leaf + intermediate): Certificate + CertificateVerify + Finished"
}
sc_tls13-clientauth-go-empty() {
	clientauth_scenario tls13-clientauth-go-empty 44337 go none go request \
		"TLS 1.3, Go server requests a client certificate (RequestClientCert), Go client has none: empty Certificate + Finished; handshake succeeds"
}
sc_tls13-clientauth-openssl-none() {
	clientauth_scenario tls13-clientauth-openssl-none 44338 openssl none gnutls none \
		"TLS 1.3, openssl s_client against gnutls-serv -a (no CertificateRequest): client flight is Finished only"
}
sc_tls13-clientauth-openssl-cert() {
	clientauth_scenario tls13-clientauth-openssl-cert 44339 openssl cert openssl request \
		"TLS 1.3, openssl s_server -verify 1 requests a client certificate, s_client sends one (-cert/-key/-cert_chain): Certificate + CertificateVerify + Finished"
}
sc_tls13-clientauth-openssl-empty() {
	clientauth_scenario tls13-clientauth-openssl-empty 44340 openssl none go request \
		"TLS 1.3, Go server requests a client certificate (RequestClientCert), openssl s_client has none: empty Certificate + Finished; handshake succeeds"
}
sc_tls13-clientauth-gnutls-none() {
	clientauth_scenario tls13-clientauth-gnutls-none 44341 gnutls none openssl none \
		"TLS 1.3, gnutls-cli against openssl s_server without -verify (no CertificateRequest): client flight is Finished only"
}
sc_tls13-clientauth-gnutls-cert() {
	clientauth_scenario tls13-clientauth-gnutls-cert 44342 gnutls cert go request \
		"TLS 1.3, Go server requests a client certificate (RequestClientCert), gnutls-cli sends one (--x509certfile/--x509keyfile): Certificate + CertificateVerify + Finished"
}
sc_tls13-clientauth-gnutls-empty() {
	clientauth_scenario tls13-clientauth-gnutls-empty 44343 gnutls none gnutls request \
		"TLS 1.3, gnutls-serv requests a client certificate (its default), gnutls-cli has none: empty Certificate + Finished; handshake succeeds"
}

# ----------------------------------------------- key-log decryption captures ---
# Captures for key-log decryption tests, beyond the client-auth matrix above:
# TLS 1.2 and 1.0 (CLIENT_RANDOM master secrets; AEAD, CBC with
# encrypt_then_mac, CBC with implicit IV), the TLS 1.3 suites
# ChaCha20-Poly1305, AES-256-GCM, AES-128-CCM and AES-128-CCM-8, a
# HelloRetryRequest with client authentication, PSK resumption, an alert sent
# under the application traffic keys, and a TLS 1.2 renegotiation that asks
# for a client certificate inside the encrypted connection.
# Each writes NAME.keys: the CLIENT's key log (NSS format), written by the
# client stack itself (tlspeer -keylog, s_client -keylogfile, curl and
# gnutls-cli with SSLKEYLOGFILE), with the secrets of every connection in the
# capture. All of them append to the file (OpenSSL writes its "# SSL/TLS
# secrets log file" header line only into an empty file), so the two-connection
# scenarios have one file. Truth lines as everywhere: what each endpoint
# reported (tlspeer; s_client's summary and its -msg/-tlsextdebug transcript;
# s_server's -www status page and log; curl -v; gnutls-cli/gnutls-serv logs).

# kl_keys NAME: the client's key log of scenario NAME is $KEYS (emptied).
kl_keys() {
	KEYS="$T/$1.keys"
	rm -f "$KEYS"
}

# kl_ossl_client N: adds to the N client lines of an openssl_scenario what
# s_client's transcripts $T/s_client.I.log show: client_cert_requested/sent
# (TLS 1.3 -msg lines, see ossl_msg_cert) and, with -tlsextdebug, whether the
# server's hello had encrypt_then_mac. In TLS 1.3, s_client prints its
# SSL-Session block (Protocol, Cipher) only with each NewSessionTicket ("Post-
# Handshake New Session Ticket arrived"), and in its output that can come
# after the HTTP response, where openssl_truth does not look: then version
# and cipher are taken from its "New, TLSv1.3, Cipher is ..." line.
kl_ossl_client() {
	local i f more
	: >"$T/client.more.jsonl"
	for i in $(seq "$1"); do
		f=$T/s_client.$i.log.client
		more='{}'
		grep -qE '^>>> TLS' "$f" && more=$(ossl_msg_cert "$f" '>>>')
		if grep -q '^TLS server extension' "$f"; then
			more=$(jq -c --argjson etm "$(grep -q '^TLS server extension "encrypt-then-mac"' "$f" && echo true || echo false)" \
				'. + {encrypt_then_mac: $etm}' <<<"$more")
		fi
		jq -c --argjson conn "$i" '{conn: $conn, more: .}' <<<"$more" >>"$T/client.more.jsonl"
	done
	jq -c --slurpfile m "$T/client.more.jsonl" '. as $l | . + (($m | map(select(.conn == $l.conn)) | first | .more) // {})
		| if .version == null and ((.status_line // "") | test("^(New|Reused), ")) then
			. + {version: (.status_line | split(", ")[1]), cipher: (.status_line | sub("^.*Cipher is "; ""))} else . end' \
		"$T/client.jsonl" >"$T/client.tmp" && mv "$T/client.tmp" "$T/client.jsonl"
}

# ossl_msg_handshakes LOG: the handshake messages of an OpenSSL -msg transcript
# as JSON, one {sent: [...], received: [...]} per handshake in order; a
# HelloRequest starts a new handshake (it asks for a renegotiation), and so
# does a ClientHello that does not answer one.
ossl_msg_handshakes() {
	sed -nE 's/^(<<<|>>>) TLS [0-9.]+, Handshake \[length [0-9a-f]+\], ([A-Za-z]+)$/\1 \2/p' "$1" |
		jq -Rnc 'reduce (inputs | split(" ")) as [$dir, $msg] ({hs: [], last: null};
			(if $msg == "HelloRequest" or ($msg == "ClientHello" and .last != "HelloRequest") then .hs += [{sent: [], received: []}] else . end)
			| .hs[(.hs | length) - 1][if $dir == ">>>" then "sent" else "received" end] += [$msg] | .last = $msg) | .hs'
}

# wait_grep PATTERN FILE [N]: until FILE has N (default 1) lines matching PATTERN.
wait_grep() {
	local i n
	for i in $(seq 200); do
		n=$(grep -cE "$1" "$2" 2>/dev/null) || n=0
		((n >= ${3:-1})) && return 0
		sleep 0.05
	done
	log "timeout waiting for '$1' in $2"
	return 1
}

sc_tls13-refused-mtls-go() {
	kl_keys tls13-refused-mtls-go
	go_scenario tls13-refused-mtls-go 44350 "$(srv_ec) -client-auth require" "$(cli_ca) -keylog $KEYS"
	write_truth tls13-refused-mtls-go "TLS 1.3, Go server requires a client certificate (RequireAnyClientCert), Go client has none: empty Certificate + Finished, and the server aborts with a fatal certificate_required alert (116), encrypted under the server application traffic secret. A TLS 1.3 client has completed the handshake once it has sent its Finished, so the Go client also sends its first application data record (\"ping 1\"), before or after the alert arrives (timing), and reports the alert as a read error; the server closes its socket, and its kernel answers client records that arrive after that or are left unread (ping, close_notify) with RST. Both errors are in the truth lines" "$GO_STACK" "$GO_STACK"
}

sc_tls13-hrr-keylog-go() {
	kl_keys tls13-hrr-keylog-go
	go_scenario tls13-hrr-keylog-go 44351 "$(srv_ec) -curves P256 -client-auth request" \
		"$(cli_ca) -curves X25519,P256 -cert $PKI/client-chain.pem -key $PKI/client.key -keylog $KEYS"
	write_truth tls13-hrr-keylog-go "TLS 1.3 HelloRetryRequest (client key share X25519 only, server supports only P-256: second ClientHello with a P-256 share) and client authentication: the server requests a certificate (RequestClientCert), the client sends one (ECDSA leaf + intermediate): Certificate + CertificateVerify + Finished" "$GO_STACK" "$GO_STACK"
}

sc_tls12-keylog-go() {
	local cs=TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	kl_keys tls12-keylog-go
	go_scenario tls12-keylog-go 44357 "$(srv_ec) -max 1.2 -ciphers $cs -client-auth require" \
		"$(cli_ca) -max 1.2 -ciphers $cs -cert $PKI/client-chain.pem -key $PKI/client.key -keylog $KEYS"
	write_truth tls12-keylog-go "TLS 1.2 ECDHE-ECDSA with ChaCha20-Poly1305 (0xcca9, ECDSA P-256 server certificate), server requires a client certificate (RequireAnyClientCert), client sends one: Certificate + CertificateVerify; NewSessionTicket, encrypted Finished messages" "$GO_STACK" "$GO_STACK"
}

sc_tls13-psk-keylog-openssl() {
	kl_keys tls13-psk-keylog-openssl
	openssl_scenario tls13-psk-keylog-openssl 44352 2 "-tls1_3 -verify 1 -CAfile $PKI/ca.pem" \
		"-cert $PKI/client.pem -key $PKI/client.key -cert_chain $PKI/inter.pem -keylogfile $KEYS -msg" sess
	kl_ossl_client 2
	write_truth tls13-psk-keylog-openssl "Two TLS 1.3 connections, openssl s_client against s_server -www -verify 1: the first is a full handshake in which the server requests a client certificate and the client sends one (-cert/-key/-cert_chain); s_client saves the session (-sess_out) and the second connection resumes it (-sess_in): pre_shared_key accepted, no Certificate or CertificateRequest. Both connections' secrets are in the one key log (s_client -keylogfile appends)" \
		"$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server -www -verify 1"
}

sc_tls13-chacha-keylog-openssl() {
	local cs="-ciphersuites TLS_CHACHA20_POLY1305_SHA256"
	kl_keys tls13-chacha-keylog-openssl
	openssl_scenario tls13-chacha-keylog-openssl 44353 1 "-tls1_3 $cs -verify 1 -CAfile $PKI/ca.pem" \
		"-tls1_3 $cs -cert $PKI/client.pem -key $PKI/client.key -cert_chain $PKI/inter.pem -keylogfile $KEYS -msg"
	kl_ossl_client 1
	write_truth tls13-chacha-keylog-openssl "TLS 1.3 with TLS_CHACHA20_POLY1305_SHA256 (both ends allow only it), s_server -verify 1 requests a client certificate, s_client sends one: Certificate + CertificateVerify + Finished" \
		"$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server -www -verify 1"
}

sc_tls13-ccm-keylog-openssl() {
	local name=tls13-ccm-keylog-openssl port=44355 i cs
	local suites=(TLS_AES_128_CCM_SHA256 TLS_AES_128_CCM_8_SHA256)
	kl_keys $name
	cap_start "$T/$name.pcap" lo tcp port "$port"
	# The server allows both CCM suites (OpenSSL 3.0 needs no @SECLEVEL for
	# CCM_8), each client connection offers one of them.
	timeout $TO openssl s_server -accept "127.0.0.1:$port" -naccept 2 -www -tls1_3 \
		-ciphersuites "$(IFS=:; echo "${suites[*]}")" \
		-cert "$PKI/server.pem" -key "$PKI/server.key" -cert_chain "$PKI/inter.pem" \
		>"$T/s_server.log" 2>&1 </dev/null &
	local spid=$!
	wait_port "$port"
	for i in 1 2; do
		cs=${suites[$((i - 1))]}
		printf 'GET / HTTP/1.0\r\n\r\n' | timeout $TO openssl s_client -connect "127.0.0.1:$port" \
			-servername server.test -CAfile "$PKI/ca.pem" -ign_eof -ciphersuites "$cs" -keylogfile "$KEYS" \
			>"$T/s_client.$i.log" 2>&1 || true
		openssl_truth "$T/s_client.$i.log" "$i"
		sleep 0.1
	done
	wait "$spid" || true
	cap_stop
	kl_ossl_client 2
	jq -cn --rawfile log "$T/s_server.log" '{role: "server", stack: "openssl s_server", conn: 0, log: ($log | split("\n") | map(select(length > 0)))}' >>"$T/server.jsonl"
	write_truth $name "Two TLS 1.3 connections to one s_server that allows TLS_AES_128_CCM_SHA256 and TLS_AES_128_CCM_8_SHA256 (8-byte tag): the first client offers only CCM, the second only CCM_8. No resumption (no -sess_in); both connections' secrets in one key log" \
		"$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server -www"
}

sc_tls10-keylog-openssl() {
	local c="-tls1 -cipher ECDHE-RSA-AES128-SHA@SECLEVEL=0"
	kl_keys tls10-keylog-openssl
	openssl_scenario tls10-keylog-openssl 44358 1 "$c" "$c -keylogfile $KEYS -tlsextdebug"
	kl_ossl_client 1
	write_truth tls10-keylog-openssl "TLS 1.0, ECDHE-RSA-AES128-SHA (0xc013): CBC with the implicit IV of TLS 1.0 (the last ciphertext block of the previous record) and encrypt_then_mac (negotiated by OpenSSL by default; encrypt_then_mac in the client truth line is from s_client -tlsextdebug). SECLEVEL=0 for TLS 1.0" \
		"$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server -www"
}

sc_tls13-aes256-mtls-curl() {
	local name=tls13-aes256-mtls-curl port=44354
	kl_keys $name
	cap_start "$T/$name.pcap" lo tcp port "$port"
	timeout $TO openssl s_server -accept "127.0.0.1:$port" -naccept 1 -www -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 \
		-verify 1 -CAfile "$PKI/ca.pem" -cert "$PKI/server.pem" -key "$PKI/server.key" -cert_chain "$PKI/inter.pem" \
		>"$T/s_server.log" 2>&1 </dev/null &
	local spid=$!
	wait_port "$port"
	SSLKEYLOGFILE="$KEYS" timeout $TO curl -sS -v --tlsv1.3 --cacert "$PKI/ca.pem" \
		--cert "$PKI/client-chain.pem" --key "$PKI/client.key" --resolve "server.test:$port:127.0.0.1" \
		-o "$T/body.txt" -w '%{http_code} %{ssl_verify_result}\n' "https://server.test:$port/" >"$T/curl.out" 2>"$T/curl.err" || true
	wait "$spid" || true
	cap_stop
	local conn
	conn=$(sed -n 's/^\* SSL connection using //p' "$T/curl.err" | head -1)
	jq -cn --arg conn "$conn" --arg out "$(cat "$T/curl.out")" --arg cv "$(curl --version | head -1 | cut -d' ' -f1-2)" \
		--arg hs "$(grep -E '^\* TLSv1\.[0-9] \((IN|OUT)\), TLS handshake, ' "$T/curl.err" || true)" '{
		role: "client", stack: $cv, conn: 1, sni: "server.test",
		ssl_connection: $conn, version: ($conn | split(" / ")[0]), cipher: ($conn | split(" / ")[1]),
		handshake_log: ($hs | split("\n") | map(select(length > 0) | ltrimstr("* "))),
		client_cert_requested: ($hs | test("\\(IN\\), TLS handshake, Request CERT \\(13\\)")),
		client_cert_sent: ($hs | test("\\(OUT\\), TLS handshake, CERT verify \\(15\\)")),
		http_code_and_verify: $out
	}' >"$T/client.jsonl"
	ossl_fields "$T/body.txt" | jq -c '{role: "server", stack: "openssl s_server -www -verify 1 (status page)", conn: 1} + . | del(.peer_cert_count, .verify_return_code)' >"$T/server.jsonl"
	jq -cn --rawfile log "$T/s_server.log" '{role: "server", stack: "openssl s_server", conn: 0, log: ($log | split("\n") | map(select(length > 0)))}' >>"$T/server.jsonl"
	write_truth $name "TLS 1.3, curl (--tlsv1.3, SSLKEYLOGFILE, --resolve server.test to 127.0.0.1, ALPN h2,http/1.1 offered) against openssl s_server -www -verify 1 that allows only TLS_AES_256_GCM_SHA384 and requests a client certificate; curl sends one (--cert: ECDSA leaf + intermediate, --key)" \
		"curl (OpenSSL)" "$OPENSSL_STACK s_server -www -verify 1"
}

# tls12-reneg-mtls-openssl: s_server in its interactive mode (no -www) reads
# commands from a fifo; without -verify the first handshake has no
# CertificateRequest. "R" then makes s_server call SSL_set_verify(SSL_VERIFY_PEER
# | SSL_VERIFY_CLIENT_ONCE) and SSL_renegotiate: it sends an (encrypted)
# HelloRequest, the client answers with a new ClientHello, and the second,
# full handshake (-no_resumption_on_reneg: the client offers its ticket, the
# server does not take it) has a CertificateRequest that names the -CAfile
# root. s_client reads its stdin from another fifo, so it stays connected; it
# sends one line after the renegotiation and quits at EOF (close_notify).
sc_tls12-reneg-mtls-openssl() {
	local name=tls12-reneg-mtls-openssl port=44356 data="hello after renegotiation"
	kl_keys $name
	mkfifo "$T/s_server.in" "$T/s_client.in"
	cap_start "$T/$name.pcap" lo tcp port "$port"
	# Opened read-write here (after tcpdump started: it must not inherit them)
	# so that neither open blocks; the children get only the read side
	# (3>&- 4>&-), so closing ours gives them EOF.
	exec 3<>"$T/s_server.in" 4<>"$T/s_client.in"
	timeout $TO openssl s_server -accept "127.0.0.1:$port" -naccept 1 -tls1_2 -cipher ECDHE-RSA-AES256-SHA384 \
		-cert "$PKI/server.pem" -key "$PKI/server.key" -cert_chain "$PKI/inter.pem" -CAfile "$PKI/ca.pem" \
		-no_resumption_on_reneg -msg <"$T/s_server.in" 3>&- 4>&- >"$T/s_server.log" 2>&1 &
	local spid=$!
	wait_port "$port"
	timeout $TO openssl s_client -connect "127.0.0.1:$port" -servername server.test -CAfile "$PKI/ca.pem" -tls1_2 \
		-cert "$PKI/client.pem" -key "$PKI/client.key" -cert_chain "$PKI/inter.pem" -keylogfile "$KEYS" -msg -tlsextdebug \
		<"$T/s_client.in" 3>&- 4>&- >"$T/s_client.log" 2>&1 &
	local cpid=$!
	wait_grep '^ *Verify return code' "$T/s_client.log"
	sleep 0.2
	echo R >&3
	wait_grep '^<<< TLS 1\.2, Handshake \[length [0-9a-f]+\], Finished$' "$T/s_client.log" 2
	sleep 0.2
	echo "$data" >&4
	wait_grep "^$data\$" "$T/s_server.log"
	exec 4>&-
	wait "$cpid" || true
	exec 3>&-
	wait "$spid" || true
	cap_stop
	local etm
	etm=$(grep -q '^TLS server extension "encrypt-then-mac"' "$T/s_client.log" && echo true || echo false)
	jq -cn --argjson a "$(ossl_fields "$T/s_client.log")" --argjson hs "$(ossl_msg_handshakes "$T/s_client.log")" \
		--argjson etm "$etm" --arg data "$data" '{role: "client", stack: "openssl s_client -tls1_2 -msg -tlsextdebug", conn: 1}
		+ $a + {encrypt_then_mac: $etm, handshakes: $hs, renegotiated: ($hs | length == 2),
		client_cert_requested: ($hs | map(.received | index("CertificateRequest") != null)),
		client_cert_sent: ($hs | map(.sent | index("CertificateVerify") != null)), data_sent_after_renegotiation: $data}' >"$T/client.jsonl"
	jq -cn --argjson hs "$(ossl_msg_handshakes "$T/s_server.log")" \
		--arg rc "$(grep -E '^SSL_do_handshake -> ' "$T/s_server.log" | head -1 || true)" \
		--arg verify "$(grep -E '^depth=' "$T/s_server.log" || true)" \
		--arg data "$(grep -Fx "$data" "$T/s_server.log" || true)" '{
		role: "server", stack: "openssl s_server -tls1_2 -msg (interactive; R on stdin)", conn: 1,
		handshakes: $hs, renegotiation_command: "R", renegotiate_result: $rc,
		client_cert_requested: ($hs | map(.sent | index("CertificateRequest") != null)),
		client_cert_sent: ($hs | map(.received | index("CertificateVerify") != null)),
		client_chain_verify: ($verify | split("\n") | map(select(length > 0))), data_received: $data}' >"$T/server.jsonl"
	write_truth $name "TLS 1.2 ECDHE-RSA-AES256-SHA384 (CBC, encrypt_then_mac) with client authentication by renegotiation: the first handshake has no CertificateRequest; then s_server renegotiates asking for a client certificate (\"R\"): encrypted HelloRequest, ClientHello, ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone, client Certificate (leaf + intermediate), ClientKeyExchange, CertificateVerify, encrypted under the first handshake's keys; ChangeCipherSpec and Finished both ways switch to the second's, and one line of application data follows under them. The key log has both handshakes' CLIENT_RANDOM lines. client_cert_requested/client_cert_sent are per handshake" \
		"$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server"
}

sc_tls12-gcm-keylog-gnutls() {
	local name=tls12-gcm-keylog-gnutls port=44359
	kl_keys $name
	cap_start "$T/$name.pcap" lo tcp port "$port"
	ca_srv_gnutls "$port" request
	ca_cli_gnutls "$port" cert "--priority NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM"
	ca_srv_stop
	cap_stop
	write_truth $name "TLS 1.2 (gnutls-cli --priority NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM) against gnutls-serv --http (ECDSA P-256 server certificate), which requests a client certificate; gnutls-cli sends one (--x509certfile/--x509keyfile). ECDHE-ECDSA-AES128-GCM-SHA256; key log from SSLKEYLOGFILE" \
		"$GNUTLS_STACK gnutls-cli" "$GNUTLS_STACK gnutls-serv --http"
}

# tls13-0rtt-keylog-openssl: TLS 1.3 0-RTT. s_server -early_data (interactive:
# -www cannot take early data) and two s_client connections: the first saves
# the session (-sess_out), the second resumes it and sends a line as early
# data (-sess_in -early_data): the client's early record travels before the
# ServerHello under CLIENT_EARLY_TRAFFIC_SECRET, EncryptedExtensions accepts
# it, and EndOfEarlyData ends it. The server reads its stdin from sleep, so
# it stays up for both connections.
sc_tls13-0rtt-keylog-openssl() {
	local name=tls13-0rtt-keylog-openssl port=44360 i
	kl_keys $name
	cap_start "$T/$name.pcap" lo tcp port "$port"
	sleep 6 | timeout $TO openssl s_server -accept "127.0.0.1:$port" -naccept 2 -tls1_3 -early_data \
		-cert "$PKI/server.pem" -key "$PKI/server.key" -cert_chain "$PKI/inter.pem" >"$T/s_server.log" 2>&1 &
	local spid=$!
	wait_port "$port"
	printf 'early hello\n' >"$T/early.txt"
	for i in 1 2; do
		local more="-sess_out $T/sess.pem"
		[[ $i == 2 ]] && more="-sess_in $T/sess.pem -early_data $T/early.txt"
		# shellcheck disable=SC2086
		(printf 'hello %s\n' "$i"; sleep 1) | timeout $TO openssl s_client -connect "127.0.0.1:$port" -tls1_3 \
			-servername server.test -CAfile "$PKI/ca.pem" -keylogfile "$KEYS" $more >"$T/s_client.$i.log" 2>&1 || true
		jq -cn --argjson conn "$i" --arg line "$(grep -E '^(New|Reused), ' "$T/s_client.$i.log" | head -1)" \
			--arg early "$(grep -E '^Early data (was|was not)' "$T/s_client.$i.log" | head -1)" '{
			role: "client", stack: "openssl s_client", conn: $conn, status_line: $line,
			version: ($line | split(", ")[1]), cipher: ($line | sub("^.*Cipher is "; "")),
			did_resume: ($line | startswith("Reused")), early_data: $early}' >>"$T/client.jsonl"
	done
	wait "$spid" || true
	cap_stop
	jq -cn --rawfile log "$T/s_server.log" '{role: "server", stack: "openssl s_server -early_data", conn: 0,
		early_data_received: ($log | test("Early data received")), log: ($log | split("\n") | map(select(length > 0)))}' >>"$T/server.jsonl"
	write_truth $name "Two TLS 1.3 connections to openssl s_server -early_data: a full handshake that saves the session, then a PSK resumption that sends 0-RTT early data (\"early hello\"), which the server accepts (EncryptedExtensions early_data, then the client's EndOfEarlyData). The key log has CLIENT_EARLY_TRAFFIC_SECRET for the second" \
		"$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server -early_data"
}

ALL=(
	tls10-openssl tls11-openssl tls12-ecdhe-go tls13-go tls12-rsa-kx-openssl tls12-dhe-openssl
	tls13-curl-openssl tls13-hrr-go tls12-mtls-go tls12-certreq-empty-go tls13-mtls-go
	alert-protocol-version-go alert-handshake-failure-openssl
	tls12-sessionid-openssl tls12-ticket-go tls13-psk-go alpn-h2-go alpn-h2-tls12-go nosni-go ipv6-go
	longchain-go split-clienthello-go sll2-go vlan-go reorder-retrans-go
	tls13-clientauth-go-none tls13-clientauth-go-cert tls13-clientauth-go-empty
	tls13-clientauth-openssl-none tls13-clientauth-openssl-cert tls13-clientauth-openssl-empty
	tls13-clientauth-gnutls-none tls13-clientauth-gnutls-cert tls13-clientauth-gnutls-empty
	tls13-refused-mtls-go tls13-hrr-keylog-go tls13-psk-keylog-openssl tls13-chacha-keylog-openssl
	tls13-aes256-mtls-curl tls13-ccm-keylog-openssl tls12-reneg-mtls-openssl tls12-keylog-go
	tls10-keylog-openssl tls12-gcm-keylog-gnutls tls13-0rtt-keylog-openssl
)

# ------------------------------------------------------------------- inner ---
# `generate.sh --inner NAME`: run one scenario inside the current (new) netns.
if [[ ${1:-} == --inner ]]; then
	setup_lo
	"sc_$2"
	exit 0
fi

# -------------------------------------------------------------------- main ---

require_root_and generate.sh "apt-get install tcpdump tshark openssl curl gnutls-bin ethtool iproute2 jq" \
	go tcpdump tshark editcap capinfos openssl curl gnutls-cli gnutls-serv ethtool ip ss jq unshare timeout

gen_setup pcaps tlspeer pcapmangle
export PEER="$WORK/bin/tlspeer" MANGLE="$WORK/bin/pcapmangle"

# run_scenario NAME: the kernel can drop packets on the capture socket (seen
# with -i any): a capture that misses a segment is made again, up to three
# times.
run_scenario() {
	local name=$1 try rc lost
	for try in 1 2 3; do
		rc=0
		if [[ $name == vlan-go ]]; then
			("sc_$name") || rc=$?
		else
			in_netns "$name" || rc=$?
		fi
		[[ $name == reorder-retrans-go ]] && break
		lost=$(tshark -r "$T/$name.pcap" -o tcp.check_checksum:FALSE \
			-Y 'tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment' 2>/dev/null | wc -l || true)
		[[ $lost == 0 ]] && break
		log "scenario $name: capture missed a segment (try $try), again"
	done
	return "$rc"
}

# keep_scenario NAME PACKETS: the capture and its truth file, the key log
# (NSS format) of the scenarios that record one (throwaway keys of throwaway
# sessions, kept so that tests can decrypt), and the other forms of two.
keep_scenario() {
	local name=$1
	keep "$T/$name.pcap" "$T/$name.truth.json" || return 1
	if [[ -s $T/$name.keys ]]; then keep "$T/$name.keys" || return 1; fi
	case $name in
	tls13-go) editcap -F pcapng "$OUT/tls13-go.pcap" "$OUT/tls13-go.pcapng" ;;
	tls12-ecdhe-go) gzip -9 -n -c "$OUT/tls12-ecdhe-go.pcap" >"$OUT/tls12-ecdhe-go.pcap.gz" ;;
	esac
	chmod a+r "$OUT"/"$name".pcap*
}

run_scenarios run_scenario keep_scenario "$@"
log "done: $(ls "$OUT"/*.pcap* | wc -l) capture files in $OUT"
