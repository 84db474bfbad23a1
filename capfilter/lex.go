package capfilter

import "strings"

type tokKind uint8

const (
	tEOF    tokKind = iota
	tWord           // keyword, address, number or name
	tLParen         // (
	tRParen         // )
	tAnd            // and, &&
	tOr             // or, ||
	tNot            // not, !
	tSlash          // / of a CIDR prefix
	tSymbol         // any other operator: outside the subset
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// isWordByte covers keywords, IPv4 and IPv6 literals and port ranges
// ("440-450"), as libpcap's scanner does for its ID tokens.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == ':' || c == '-' || c == '_'
}

// twoByteSymbols are pcap-filter comparison and shift operators; lexing
// them whole lets the error name "!=" rather than "!".
var twoByteSymbols = []string{"!=", "==", "<=", ">=", "<<", ">>"}

func lex(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			w := s[i:j]
			kind := tWord
			switch w {
			case "and":
				kind = tAnd
			case "or":
				kind = tOr
			case "not":
				kind = tNot
			}
			toks = append(toks, token{kind, w, i})
			i = j
			continue
		}
		if strings.HasPrefix(s[i:], "&&") {
			toks = append(toks, token{tAnd, "&&", i})
			i += 2
			continue
		}
		if strings.HasPrefix(s[i:], "||") {
			toks = append(toks, token{tOr, "||", i})
			i += 2
			continue
		}
		sym := ""
		for _, t := range twoByteSymbols {
			if strings.HasPrefix(s[i:], t) {
				sym = t
				break
			}
		}
		if sym != "" {
			toks = append(toks, token{tSymbol, sym, i})
			i += len(sym)
			continue
		}
		switch c {
		case '(':
			toks = append(toks, token{tLParen, "(", i})
		case ')':
			toks = append(toks, token{tRParen, ")", i})
		case '!':
			toks = append(toks, token{tNot, "!", i})
		case '/':
			toks = append(toks, token{tSlash, "/", i})
		default:
			// One byte, or a whole UTF-8 sequence so the error quotes a
			// readable character.
			j := i + 1
			for j < len(s) && s[j]&0xc0 == 0x80 {
				j++
			}
			toks = append(toks, token{tSymbol, s[i:j], i})
			i = j
			continue
		}
		i++
	}
	return append(toks, token{tEOF, "", len(s)})
}

// keyword classes, for telling a value from a primitive and for naming
// what is outside the subset.
var (
	protoWords = map[string]protoQual{"ip": protoIP, "ip6": protoIP6, "tcp": protoTCP, "udp": protoUDP}
	dirWords   = map[string]dirQual{"src": dirSrc, "dst": dirDst}
	addrWords  = map[string]addrQual{"host": addrHost, "net": addrNet, "port": addrPort, "portrange": addrPortRange}

	// pcapKeywords are libpcap scanner keywords (1.10) outside the subset.
	pcapKeywords = toSet(`proto protochain arp rarp sctp icmp igmp igrp pim vrrp carp radio
		icmp6 ah esp atalk aarp decnet lat sca moprc mopdl iso esis es-is isis is-is l1 l2 iih
		lsp snp csnp psnp clnp stp ipx netbeui gateway less greater byte broadcast multicast len
		inbound outbound ifindex mpls pppoed pppoes geneve lane llc metac bcc oam oamf4 oamf4ec
		oamf4sc sc ilmic vpi vci connectmsg metaconnect on ifname rnr rulenum reason rset srnr
		subrulenum action fisu lssu msu hfisu hlssu hmsu sio opc dpc sls hsio hopc hdpc hsls type
		subtype direction dir ra ta addr1 addr2 addr3 addr4 ether fddi tr wlan link ppp slip hdlc
		vxlan`)
)

func toSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// isKeyword reports whether w is a pcap-filter keyword, supported or not;
// any other word is a value (address, number or name).
func isKeyword(w string) bool {
	if _, ok := protoWords[w]; ok {
		return true
	}
	if _, ok := dirWords[w]; ok {
		return true
	}
	if _, ok := addrWords[w]; ok {
		return true
	}
	return w == "vlan" || w == "mask" || pcapKeywords[w]
}
