// Package report writes delivery reports from state records. Reports are
// artifacts, not views: each format carries a version and its layout is a
// contract with whoever reads the file later (a spreadsheet, a CI test
// reporter, a person with a browser, a script).
//
// Four formats exist (see [Format]):
//
//   - JSON (format_version 1.0): one document holding a summary object and
//     one object per message. Keys have a fixed order, arrays are [] and
//     never null, and the same records always give the same bytes.
//   - CSV: a header and one row per message with a fixed column list
//     ([CSVHeader]). New columns would only ever be appended. Cells that a
//     spreadsheet would run as a formula get a leading single quote (see
//     [CSVHeader]); JSON is the lossless format.
//   - JUnit XML: one testsuite per batch and one testcase per message, so
//     CI systems show failed and bounced messages as failing tests.
//   - HTML: one self-contained page (inline CSS and SVG, no scripts, no
//     external assets) with counts by outcome, bounce and failure reasons,
//     a delivery-latency chart and a capped table of problem messages.
//
// Records arrive through a [Source], a function that streams records in
// address order; state.Each bound to a store and a filter is the usual
// one. JSON, CSV and JUnit hold one record at a time (JSON and JUnit read
// the source twice: once to count, once to write), so a report of a
// million messages needs no more memory than one of ten. HTML keeps
// counters, a latency histogram and at most [MaxProblemRows] rows.
//
// Every message has exactly one outcome word ([OutcomeOf]); the outcome
// vocabulary, and the words Options.Statuses accepts, are documented on
// [Outcome] and [ParseStatusFilter]. [Summarize] counts records by
// outcome, status, delivery and batch.
//
// Nothing here reads the clock: the caller passes Options.Generated, so a
// report is byte-for-byte reproducible from the same state. [WriteFile]
// replaces its target atomically (temp file in the same directory, sync,
// rename), so readers never see half a report.
package report
