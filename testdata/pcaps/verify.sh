#!/usr/bin/env bash
# Checks with tshark that each capture in testdata/pcaps shows what its name
# claims (independently of tlsinspect). Needs tshark, capinfos, jq.
#   bash testdata/pcaps/verify.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

pass=0
fail=0
ok() { echo "PASS  $1: $2"; pass=$((pass + 1)); }
bad() { echo "FAIL  $1: $2"; fail=$((fail + 1)); }
# check FILE DESCRIPTION ACTUAL EXPECTED
check() { if [[ $3 == "$4" ]]; then ok "$1" "$2 = $3"; else bad "$1" "$2: got '$3', want '$4'"; fi; }

# server port = destination port of the first SYN
port() { tshark -r "$1" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.dstport 2>/dev/null | head -1; }
# tf FILE FILTER FIELD... : tshark fields, TLS decoded on the server port,
# records and TCP segments reassembled (also out of order).
tf() {
	local f=$1 filter=$2
	shift 2
	local args=() fl
	for fl in "$@"; do args+=(-e "$fl"); done
	tshark -r "$f" -o tls.desegment_ssl_records:TRUE -o tcp.reassemble_out_of_order:TRUE \
		-d "tcp.port==$(port "$f"),tls" -Y "$filter" -T fields -E occurrence=a -E aggregator=, "${args[@]}" 2>/dev/null
}
hs() { tf "$1" tls.handshake.type tls.handshake.type | paste -sd' '; } # handshake types per TLS frame
truth() { jq -r "$2" "${1%.pcap*}.truth.json"; }

f=tls10-openssl.pcap
check $f "ServerHello version, cipher" "$(tf $f tls.handshake.type==2 tls.handshake.version tls.handshake.ciphersuite)" $'0x0301\t0xc014'
f=tls11-openssl.pcap
check $f "ServerHello version, cipher" "$(tf $f tls.handshake.type==2 tls.handshake.version tls.handshake.ciphersuite)" $'0x0302\t0xc014'
for f in tls12-ecdhe-go.pcap tls12-ecdhe-go.pcap.gz; do
	check $f "handshake types" "$(hs $f)" "1 2 11,12,14 16 4"
	check $f "cipher" "$(tf $f tls.handshake.type==2 tls.handshake.ciphersuite)" 0xc02f
	check $f "ServerKeyExchange named curve" "$(tf $f tls.handshake.type==12 tls.handshake.server_named_curve)" 0x001d
done
for f in tls13-go.pcap tls13-go.pcapng; do
	check $f "SH supported_version, key share" "$(tf $f tls.handshake.type==2 tls.handshake.extensions.supported_version tls.handshake.extensions_key_share_group)" $'0x0304\t4588'
	check $f "ClientHello TCP segments" "$(tf $f tls.handshake.type==1 tcp.segment.count)" 2
done
check tls13-go.pcapng "file format" "$(capinfos -t -M tls13-go.pcapng | sed -n 's/^File type: *//p')" pcapng
check tls12-ecdhe-go.pcap.gz "compressed" "$(capinfos -M tls12-ecdhe-go.pcap.gz | sed -n 's/^File type: *//p')" "pcap (gzip compressed)"
f=tls12-rsa-kx-openssl.pcap
check $f "handshake types (no ServerKeyExchange)" "$(hs $f)" "1 2 11,14 16 4"
check $f "cipher" "$(tf $f tls.handshake.type==2 tls.handshake.ciphersuite)" 0x009c
f=tls12-dhe-openssl.pcap
check $f "handshake types" "$(hs $f)" "1 2 11,12,14 16 4"
check $f "cipher" "$(tf $f tls.handshake.type==2 tls.handshake.ciphersuite)" 0x009e
check $f "ServerKeyExchange DH p length" "$(tf $f tls.handshake.type==12 tls.handshake.p_len)" 256
f=tls13-curl-openssl.pcap
check $f "SNI, ALPN offered" "$(tf $f tls.handshake.type==1 tls.handshake.extensions_server_name tls.handshake.extensions_alpn_str)" $'localhost\th2,http/1.1'
check $f "SH supported_version" "$(tf $f tls.handshake.type==2 tls.handshake.extensions.supported_version)" 0x0304
f=tls13-hrr-go.pcap
check $f "CH key shares (1st, 2nd)" "$(tf $f tls.handshake.type==1 tls.handshake.extensions_key_share_group | paste -sd' ')" "29 23"
check $f "HRR random + selected group" "$(tf $f tls.handshake.type==2 tls.handshake.random tls.handshake.extensions_key_share_selected_group | head -1)" $'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c\t23'
check $f "truth: HelloRetryRequest (client, server)" "$(truth $f '[.client[0].hello_retry_request, .server[0].hello_retry_request] | @tsv')" $'true\ttrue'
f=tls12-mtls-go.pcap
check $f "handshake types (CertificateRequest, client Certificate+CertificateVerify)" "$(hs $f)" "1 2 11,12,13,14 11,16,15 4"
check $f "client Certificate: number of certs" "$(tf $f "tls.handshake.type==11 && tcp.dstport==$(port $f)" tls.handshake.certificate_length | tr , "\n" | wc -l)" 2
f=tls12-certreq-empty-go.pcap
check $f "handshake types" "$(hs $f)" "1 2 11,12,13,14 11,16 4"
check $f "client Certificate: certificates_length" "$(tf $f "tls.handshake.type==11 && tcp.dstport==$(port $f)" tls.handshake.certificates_length)" 0
f=tls13-mtls-go.pcap
check $f "SH supported_version" "$(tf $f tls.handshake.type==2 tls.handshake.extensions.supported_version)" 0x0304
check $f "truth: client cert requested/sent, server saw certs" "$(truth $f '[.client[0].client_cert_requested, .client[0].client_cert_sent, .server[0].peer_cert_count] | @tsv')" $'true\ttrue\t2'
f=alert-protocol-version-go.pcap
check $f "CH supported_versions" "$(tf $f tls.handshake.type==1 tls.handshake.extensions.supported_version)" "0x0302,0x0301"
check $f "alert level, description" "$(tf $f tls.alert_message tls.alert_message.level tls.alert_message.desc)" $'2\t70'
f=alert-handshake-failure-openssl.pcap
check $f "alert level, description" "$(tf $f tls.alert_message tls.alert_message.level tls.alert_message.desc)" $'2\t40'
f=tls12-sessionid-openssl.pcap
sid=$(tf $f "tls.handshake.type==2 && tcp.stream==0" tls.handshake.session_id)
check $f "2nd CH and SH carry 1st session id; no Certificate in 2nd" "$(tf $f 'tcp.stream==1 && tls.handshake.type' tls.handshake.type tls.handshake.session_id | paste -sd' ')" "1	$sid 2	$sid"
check $f "no NewSessionTicket" "$(tf $f tls.handshake.type==4 frame.number)" ""
f=tls12-ticket-go.pcap
check $f "handshake types conn 1" "$(tf $f 'tcp.stream==0 && tls.handshake.type' tls.handshake.type | paste -sd' ')" "1 2 11,12,14 16 4"
check $f "handshake types conn 2 (abbreviated: SH+NST, no Certificate)" "$(tf $f 'tcp.stream==1 && tls.handshake.type' tls.handshake.type | paste -sd' ')" "1 2,4"
check $f "truth: did_resume" "$(truth $f '[.client[].did_resume] | @tsv')" $'false\ttrue'
f=tls13-psk-go.pcap
check $f "pre_shared_key (41) in CH/SH of conn 2 only" "$(tf $f 'tls.handshake.type<=2 && tls.handshake.extension.type==41' tcp.stream tls.handshake.type | paste -sd' ')" $'1\t1 1\t2'
check $f "truth: did_resume" "$(truth $f '[.client[].did_resume] | @tsv')" $'false\ttrue'
f=alpn-h2-go.pcap
check $f "ALPN offered" "$(tf $f tls.handshake.type==1 tls.handshake.extensions_alpn_str)" "h2,http/1.1"
check $f "truth: ALPN selected" "$(truth $f '.client[0].alpn')" h2
f=alpn-h2-tls12-go.pcap
check $f "ALPN offered, selected" "$(tf $f 'tls.handshake.type<=2' tls.handshake.extensions_alpn_str | paste -sd' ')" "h2,http/1.1 h2"
f=nosni-go.pcap
check $f "CH without server_name" "$(tf $f 'tls.handshake.type==1 && !tls.handshake.extensions_server_name' frame.number | wc -l)" 1
f=ipv6-go.pcap
check $f "IPv6 addresses" "$(tf $f tls.handshake.type==1 ipv6.src ipv6.dst)" $'::1\t::1'
f=longchain-go.pcap
n=$(tf $f tls.handshake.type==11 tls.handshake.certificate_length | tr , '\n' | wc -l)
len=$(tf $f tls.handshake.type==11 tls.handshake.length | cut -d, -f1)
check $f "certificates in chain" "$n" 17
check $f "Certificate message > 32 KB (3 records)" "$((len > 32768))" 1
check $f "TLS records carrying the Certificate message" "$(tshark -r $f -o tls.desegment_ssl_records:TRUE -d tcp.port==$(port $f),tls -Y tls.handshake.type==11 -V 2>/dev/null | sed -n 's/^ *\[\([0-9]*\) Reassembled Handshake Fragments.*/\1/p')" 3
last=$(tf $f tls.handshake.type==11 frame.number)
check $f "server data segments up to the end of the Certificate (> 20)" "$(($(tf $f "tcp.srcport==$(port $f) && tcp.len>0 && frame.number<=$last" frame.number | wc -l) > 20))" 1
f=split-clienthello-go.pcap
check $f "ClientHello TCP segments (MSS 536)" "$(tf $f tls.handshake.type==1 tcp.segment.count)" 3
f=sll2-go.pcap
check $f "link type" "$(capinfos -E $f | sed -n 's/^File encapsulation: *//p')" "Linux cooked-mode capture v2"
f=vlan-go.pcap
check $f "frames with 802.1Q VLAN 100 = all frames" "$(tshark -r $f -Y 'vlan.id==100' 2>/dev/null | wc -l)" "$(capinfos -c -M $f | sed -n 's/^Number of packets: *//p')"
check $f "handshake types" "$(hs $f)" "1 2 11,12,14 16 4"
f=reorder-retrans-go.pcap
check $f "tshark sees out-of-order/retransmitted segments" "$(tshark -r $f -Y 'tcp.analysis.out_of_order or tcp.analysis.retransmission or tcp.analysis.lost_segment' 2>/dev/null | wc -l)" 3
check $f "handshake types (with out-of-order reassembly)" "$(hs $f)" "1 2 11 12,14 16 4"

# Every truth file: handshake succeeded on both sides except the alert captures.
for t in *.truth.json; do
	case $t in alert-*) continue ;; esac
	e=$(jq -r '[.client[], .server[] | .error // empty | select(test("alert|failure"))] | length' "$t")
	check "${t%.truth.json}" "truth: endpoint errors" "$e" 0
done

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
