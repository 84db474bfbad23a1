package report

// Exported for the tests of package report_test, which run the whole
// pipeline to get real summaries.
var (
	AppendSummaryJSON = appendSummaryJSON
	AppendStringJSON  = appendStringJSON
	AppendFloatJSON   = appendFloatJSON
)
