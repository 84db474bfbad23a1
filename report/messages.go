package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tlsinspect/tlsinspect/msgview"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// messageWidth is the width the per-message view wraps lists at, the
// table's width.
const messageWidth = 120

// writeMessages lists a handshake's messages under its table row, one
// heading line per message and its decoded fields indented below, the way
// Wireshark's detail pane shows them but as plain text.
func writeMessages(w io.Writer, msgs []tlsconn.Message, color bool) {
	for _, m := range msgs {
		unit := "bytes"
		if m.Length == 1 {
			unit = "byte"
		}
		typ := m.Type
		if m.Decrypted {
			typ += " [decrypted]"
		}
		head := fmt.Sprintf("  %-13s %-6s  %s  (%d %s)", fmt.Sprintf("+%.3f ms", m.OffsetMS), m.From, typ, m.Length, unit)
		if m.Type == "alert" && len(m.Fields) > 0 && m.Fields[0].Value == "fatal" {
			head = paint(color, bad, head)
		}
		fmt.Fprintln(w, head)
		writeFields(w, m.Fields, 8)
	}
}

// writeFields writes fs one per line at indent, nested groups further in.
// Every string is escaped: most of them come from the wire.
func writeFields(w io.Writer, fs msgview.Fields, indent int) {
	pad := strings.Repeat(" ", indent)
	for _, f := range fs {
		name := pad + Escape(f.Name) + ":"
		switch v := f.Value.(type) {
		case msgview.Fields:
			if len(v) == 0 {
				fmt.Fprintln(w, name+" (none)")
				continue
			}
			fmt.Fprintln(w, name)
			writeFields(w, v, indent+2)
		case []msgview.Fields:
			fmt.Fprintf(w, "%s %d\n", name, len(v))
			for i, sub := range v {
				fmt.Fprintf(w, "%s  [%d]\n", pad, i)
				writeFields(w, sub, indent+4)
			}
		case []string:
			writeList(w, name, v, indent)
		default:
			fmt.Fprintln(w, name+" "+Escape(scalar(v)))
		}
	}
}

// writeList writes a list comma-separated, wrapped at messageWidth with
// continuation lines indented under the first value.
func writeList(w io.Writer, name string, vs []string, indent int) {
	if len(vs) == 0 {
		fmt.Fprintln(w, name+" (none)")
		return
	}
	line := name
	cont := strings.Repeat(" ", indent+4)
	for i, v := range vs {
		item := " " + Escape(v)
		if i < len(vs)-1 {
			item += ","
		}
		if len(line)+len(item) > messageWidth && len(line) > len(cont) {
			fmt.Fprintln(w, line)
			line = cont
		}
		line += item
	}
	fmt.Fprintln(w, line)
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return "(empty)"
		}
		return v
	case time.Time:
		if v.IsZero() {
			return "(unknown)"
		}
		return v.UTC().Format(time.RFC3339)
	case nil:
		return "(none)"
	}
	return fmt.Sprint(v)
}
