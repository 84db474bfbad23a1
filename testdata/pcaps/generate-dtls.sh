#!/usr/bin/env bash
# Re-creates the DTLS captures in testdata/pcaps/dtls (dtls*.pcap and their
# .truth.json) from real DTLS stacks: OpenSSL s_server/s_client and GnuTLS
# gnutls-serv/gnutls-cli, over UDP on loopback.
#
#   sudo bash testdata/pcaps/generate-dtls.sh                 # all scenarios
#   sudo bash testdata/pcaps/generate-dtls.sh dtls12-openssl  # only the named ones
#
# Needs root (network namespaces, tcpdump), Go, and the Debian packages
# tcpdump openssl gnutls-bin iproute2 jq.
#
# Every scenario runs inside its own new network namespace (unshare -n) whose
# loopback has MTU 1500; no traffic leaves it. Both stacks are told a small
# path MTU (-mtu / --mtu) so that the certificate flights are fragmented into
# several DTLS handshake fragments over several datagrams. The lossy scenario
# puts internal/dtlsrelay between client and server (it drops, duplicates and
# reorders chosen datagrams, so both stacks really retransmit) and captures
# the client's side of the relay.
#
# The captures go to $OUT (by default testdata/pcaps/dtls).
#
# Truth files: what each endpoint itself reported. OpenSSL: the session
# summary of s_client, "CIPHER is" of s_server, and every record each side
# sent according to its own -trace output (record epoch and sequence number,
# handshake messages with message_seq and length, before fragmentation);
# GnuTLS: gnutls-cli's session description and certificate lines and
# gnutls-serv's log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT=${OUT:-$HERE/dtls}
MTU=400

# ---------------------------------------------------------------- helpers ---

# ossl_trace FILE: JSON lines, one per record the endpoint sent, from an
# OpenSSL -trace transcript: {epoch, seq, content_type, length, messages:
# [{type, length, message_seq}]} (messages as OpenSSL wrote them, before
# fragmentation; Finished is shown decrypted).
ossl_trace() {
	awk '
	function flush() {
		if (inrec) {
			printf "{\"epoch\":%d,\"seq\":%d,\"content_type\":%d,\"length\":%d,\"messages\":[%s]}\n", epoch, seq, ctype, rlen, msgs
		}
		inrec = 0; msgs = ""; pendingType = ""
	}
	/^Sent Record/ { flush(); inrec = 1; next }
	/^Received Record/ { flush(); next }
	inrec && /epoch=/ {
		match($0, /epoch=[0-9]+/); epoch = substr($0, RSTART + 6, RLENGTH - 6) + 0
		match($0, /sequence_number=[0-9A-Fa-f]+/); s = substr($0, RSTART + 16, RLENGTH - 16)
		seq = 0; for (i = 1; i <= length(s); i++) seq = seq * 16 + index("0123456789ABCDEF", toupper(substr(s, i, 1))) - 1
	}
	inrec && /Content Type = / { match($0, /\([0-9]+\)/); ctype = substr($0, RSTART + 1, RLENGTH - 2) + 0 }
	inrec && /^  Length = / { rlen = $3 + 0 }
	inrec && /^    [A-Za-z]+, Length=[0-9]+$/ { split($1, a, ","); pendingType = a[1]; split($0, b, "Length="); pendingLen = b[2] + 0 }
	inrec && pendingType != "" && /message_seq=/ {
		match($0, /message_seq=[0-9]+/); ms = substr($0, RSTART + 12, RLENGTH - 12) + 0
		m = sprintf("{\"type\":\"%s\",\"length\":%d,\"message_seq\":%d}", pendingType, pendingLen, ms)
		msgs = (msgs == "" ? m : msgs "," m); pendingType = ""
	}
	/^[^ ]/ && !/^(Sent|Received) Record/ && !/^Header:/ { flush() }
	END { flush() }
	' "$1"
}

# ossl_client_fields LOG: the s_client session summary as a JSON object.
ossl_client_fields() {
	local f=$1
	jq -cn --arg proto "$(sed -n 's/^ *Protocol *: *//p' "$f" | head -1)" \
		--arg cipher "$(sed -n 's/^ *Cipher *: *//p' "$f" | head -1)" \
		--arg line "$(grep -E '^(New|Reused), ' "$f" | head -1 || true)" \
		--arg sid "$(sed -n 's/^ *Session-ID: *//p' "$f" | head -1)" \
		--arg tmpkey "$(sed -n 's/^\(Server \)\{0,1\}Temp Key: *//p' "$f" | head -1)" \
		--arg verify "$(sed -n 's/^ *Verify return code: *//p' "$f" | tail -1)" \
		--arg cas "$(grep -c '^Acceptable client certificate CA names' "$f" || true)" \
		--argjson certs "$(sed -n '/^Certificate chain/,/^---/p' "$f" | grep -cE '^ *[0-9]+ s:' || true)" '{
		version: $proto, cipher: $cipher, status_line: $line,
		did_resume: ($line | startswith("Reused")), session_id: $sid,
		server_temp_key: $tmpkey, peer_cert_count: $certs, verify_return_code: $verify
	} | with_entries(select(.value != ""))'
}


OPENSSL_STACK="$(openssl version | cut -d' ' -f1-2)"
GNUTLS_STACK="GnuTLS $(gnutls-cli --version 2>/dev/null | sed -n 's/^gnutls-cli \([0-9.]*\).*/\1/p' | head -1)"

# ossl_dtls NAME PORT "s_server flags" "s_client flags" [RELAY_RULES]
# One OpenSSL DTLS connection: the client sends a line and closes (close_notify).
# With RELAY_RULES the client talks to internal/dtlsrelay on PORT, which
# forwards to the server on PORT+1.
ossl_dtls() {
	local name=$1 port=$2 sflags=$3 cflags=$4 rules=${5:-}
	local sport=$port
	[[ -n $rules ]] && sport=$((port + 1))
	cap_start "$T/$name.pcap" lo udp port "$port"
	# s_server quits at end of input: keep its standard input open.
	# shellcheck disable=SC2086
	sleep 8 | timeout $TO openssl s_server -accept "127.0.0.1:$sport" -naccept 1 \
		-cert "$PKI/server.pem" -key "$PKI/server.key" -cert_chain "$PKI/inter.pem" -mtu $MTU \
		-trace -msgfile "$T/s_server.trace" $sflags >"$T/s_server.log" 2>&1 &
	local spid=$! rpid=""
	wait_udp "$sport"
	if [[ -n $rules ]]; then
		timeout $TO "$RELAY" -listen "127.0.0.1:$port" -to "127.0.0.1:$sport" -rules "$rules" \
			-ready "$T/relay.ready" -idle 4s >"$T/relay.json" 2>"$T/relay.log" &
		rpid=$!
		wait_file "$T/relay.ready"
	fi
	# shellcheck disable=SC2086
	(printf 'hello over DTLS\n'; sleep 1.5) | timeout $TO openssl s_client -connect "127.0.0.1:$port" \
		-servername server.test -CAfile "$PKI/ca.pem" -mtu $MTU -trace -msgfile "$T/s_client.trace" $cflags \
		>"$T/s_client.log" 2>&1 || true
	wait "$spid" || true
	[[ -n $rpid ]] && { wait "$rpid" || true; }
	cap_stop
	ossl_client_fields "$T/s_client.log" |
		jq -c --slurpfile recs <(ossl_trace "$T/s_client.trace") \
			--argjson req "$(grep -c 'CertificateRequest' "$T/s_client.trace" || true)" '{role: "client", stack: "openssl s_client", conn: 1} + . + {
			client_cert_requested: ($req > 0),
			client_cert_sent: ([$recs[].messages[] | select(.type == "Certificate")] | length > 0),
			sent_records: $recs
		}' >>"$T/client.jsonl"
	jq -cn --arg cipher "$(sed -n 's/^CIPHER is //p' "$T/s_server.log" | head -1)" \
		--arg ccert "$(grep -c '^Client certificate' "$T/s_server.log" || true)" \
		--arg subject "$(sed -n 's/^subject=//p' "$T/s_server.log" | head -1)" \
		--slurpfile recs <(ossl_trace "$T/s_server.trace") '{
		role: "server", stack: "openssl s_server", conn: 1, cipher: $cipher,
		client_certificate_received: ($ccert != "0"), client_subject: $subject,
		sent_records: $recs
	} | with_entries(select(.value != ""))' >>"$T/server.jsonl"
}

# gnutls_dtls NAME PORT "gnutls-serv flags" "gnutls-cli flags"
gnutls_dtls() {
	local name=$1 port=$2 sflags=$3 cflags=$4
	# -V prints the server's CA list (a CertificateRequest was received); it
	# keeps --resume from reconnecting, so resumption runs without it.
	local verbose=-V
	[[ $cflags == *--resume* ]] && verbose=""
	cap_start "$T/$name.pcap" lo udp port "$port"
	# shellcheck disable=SC2086
	timeout $TO gnutls-serv --udp --echo -p "$port" --mtu $MTU \
		--x509certfile "$PKI/server-chain.pem" --x509keyfile "$PKI/server.key" \
		--x509cafile "$PKI/ca.pem" $sflags >"$T/gnutls-serv.log" 2>&1 &
	local spid=$!
	wait_udp "$port"
	# shellcheck disable=SC2086
	(printf 'hello over DTLS\n'; sleep 1.5) | timeout $TO gnutls-cli $verbose --udp -p "$port" 127.0.0.1 --mtu $MTU \
		--sni-hostname server.test --verify-hostname server.test --x509cafile "$PKI/ca.pem" $cflags \
		>"$T/gnutls-cli.log" 2>&1 || true
	sleep 0.5
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	cap_stop
	# One JSON line per connection gnutls-cli made ("Connecting to" starts each).
	awk -v dir="$T" '/^Connecting to / {n++} n {print > (dir "/gnutls-cli.conn" n)}' "$T/gnutls-cli.log"
	local f conn=0
	for f in "$T"/gnutls-cli.conn*; do
		conn=$((conn + 1))
		jq -cn --argjson conn "$conn" \
			--arg d "$(sed -n 's/^- Description: //p' "$f" | head -1)" \
			--arg sid "$(sed -n 's/^- Session ID: //p' "$f" | head -1)" \
			--arg cas "$(grep -c "^- Server's trusted authorities" "$f" || true)" \
			--arg sent "$(sed -n 's/.*Successfully sent \([0-9]*\) certificate.*/\1/p' "$f" | head -1)" \
			--arg resumed "$(grep -c '^- Resume Handshake was completed' "$f" || true)" \
			--arg done "$(grep -c 'Handshake was completed' "$f" || true)" '{
			role: "client", stack: "gnutls-cli", conn: $conn, description: $d,
			version: ($d | capture("^\\((?<v>[^-)]*)").v), session_id: $sid,
			handshake_completed: ($done != "0"), did_resume: ($resumed != "0"),
			client_cert_requested: ($cas != "0" or $sent != ""),
			client_certs_sent: (if $sent == "" then 0 else ($sent | tonumber) end)
		}' >>"$T/client.jsonl"
	done
	jq -cn --rawfile log "$T/gnutls-serv.log" '{role: "server", stack: "gnutls-serv --udp --echo",
		log: ($log | split("\n") | map(select(length > 0 and (startswith("|<") | not))))}' >>"$T/server.jsonl"
}

# --------------------------------------------------------------- scenarios ---

sc_dtls12-openssl() {
	ossl_dtls dtls12-openssl 44400 "-dtls1_2 -listen" "-dtls1_2"
	write_truth dtls12-openssl "DTLS 1.2 with the HelloVerifyRequest cookie exchange (s_server -listen), ECDHE-RSA, RSA chain (leaf + intermediate) fragmented at MTU $MTU, SNI server.test, NewSessionTicket; no client certificate" \
		"$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server"
}

sc_dtls12-mtls-openssl() {
	ossl_dtls dtls12-mtls-openssl 44401 "-dtls1_2 -verify 1 -CAfile $PKI/ca.pem" \
		"-dtls1_2 -cert $PKI/client.pem -key $PKI/client.key -cert_chain $PKI/inter.pem"
	write_truth dtls12-mtls-openssl "DTLS 1.2 mutual authentication: cookie exchange (s_server's default, sent by SSL_accept so it is in -trace), CertificateRequest, client Certificate (ECDSA leaf + RSA intermediate, fragmented) + CertificateVerify; the NewSessionTicket (886 bytes, it holds the client certificate) fragmented too" \
		"$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server -verify 1"
}

sc_dtls10-openssl() {
	ossl_dtls dtls10-openssl 44402 "-dtls1 -listen -cipher DEFAULT@SECLEVEL=0" "-dtls1 -cipher DEFAULT@SECLEVEL=0"
	write_truth dtls10-openssl "DTLS 1.0 (0xfeff) with the HelloVerifyRequest cookie exchange, ECDHE-RSA with a CBC suite, RSA chain fragmented" \
		"$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server"
}

sc_dtls12-lossy-openssl() {
	# Server->client datagram 3 (a fragment of the certificate flight) is
	# dropped: the client times out and resends its ClientHello, the server
	# resends its whole flight. Server datagrams 5 and 6 swap places and
	# datagram 8 is delivered twice. (Only rules on s2c show in the capture,
	# which is taken between the client and the relay.)
	ossl_dtls dtls12-lossy-openssl 44410 "-dtls1_2 -listen" "-dtls1_2" "s2c:drop:3,s2c:swap:5,s2c:dup:8"
	write_truth dtls12-lossy-openssl "DTLS 1.2 through internal/dtlsrelay (captured on the client side): a dropped fragment of the server's certificate flight, so both ends retransmit; two datagrams reordered, one duplicated" \
		"$OPENSSL_STACK s_client" "$OPENSSL_STACK s_server" "$(cat "$T/relay.json")"
}

sc_dtls12-gnutls() {
	gnutls_dtls dtls12-gnutls 44403 "" "--x509certfile $PKI/client-chain.pem --x509keyfile $PKI/client.key"
	write_truth dtls12-gnutls "DTLS 1.2 between GnuTLS peers: cookie exchange (HelloVerifyRequest), CertificateRequest (gnutls-serv asks by default) answered with a client certificate chain; flights fragmented at MTU $MTU" \
		"$GNUTLS_STACK gnutls-cli --udp" "$GNUTLS_STACK gnutls-serv --udp"
}

sc_dtls12-resume-gnutls() {
	gnutls_dtls dtls12-resume-gnutls 44404 "-a" "--resume"
	write_truth dtls12-resume-gnutls "DTLS 1.2, two connections (two client ports): a full handshake, then an abbreviated one resuming it (gnutls-cli --resume); no client certificate requested (-a). The ClientHello takes two fragments in two datagrams and gnutls-serv answers each with a HelloVerifyRequest: the second is an exact copy" \
		"$GNUTLS_STACK gnutls-cli --udp --resume" "$GNUTLS_STACK gnutls-serv --udp -a"
}

sc_dtls10-nocookie-gnutls() {
	gnutls_dtls dtls10-nocookie-gnutls 44405 "-a --nocookie" "--priority NORMAL:-VERS-ALL:+VERS-DTLS1.0"
	write_truth dtls10-nocookie-gnutls "DTLS 1.0 between GnuTLS peers without a cookie exchange (gnutls-serv --nocookie): the ServerHello has message_seq 0; no client certificate requested (-a)" \
		"$GNUTLS_STACK gnutls-cli --udp (DTLS 1.0 only)" "$GNUTLS_STACK gnutls-serv --udp --nocookie -a"
}

ALL=(dtls12-openssl dtls12-mtls-openssl dtls10-openssl dtls12-lossy-openssl dtls12-gnutls dtls12-resume-gnutls dtls10-nocookie-gnutls)

# Inside the namespace: run one scenario.
if [[ ${1:-} == --inner ]]; then
	ip link set lo up mtu 1500
	cd "$T"
	"sc_$2"
	exit 0
fi

# -------------------------------------------------------------------- main ---

require_root_and generate-dtls.sh "apt-get install tcpdump openssl gnutls-bin iproute2 jq" \
	go tcpdump openssl gnutls-cli gnutls-serv ip ss jq unshare timeout

gen_setup dtls dtlsrelay
export RELAY="$WORK/bin/dtlsrelay"

# keep_scenario NAME PACKETS: the capture and its truth file.
keep_scenario() {
	keep "$T/$1.pcap" "$T/$1.truth.json"
}

run_scenarios in_netns keep_scenario "$@"
log "done"
