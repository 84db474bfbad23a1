package report

import "github.com/tlsinspect/tlsinspect/tlsconn"

// Exported for the tests of package report_test, which run the whole
// pipeline to get real summaries.
var (
	AppendSummaryJSON = func(b []byte, s *tlsconn.Summary) ([]byte, error) { return appendSummaryJSON(b, s, nil) }
	AppendStringJSON  = appendStringJSON
	AppendFloatJSON   = appendFloatJSON
)
