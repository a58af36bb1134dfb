package sqlitestate

import "strings"

// migrations build the schema step by step. Migration i (0-based) moves the
// database from user_version i to i+1. Append new steps; never edit or
// reorder a step that has shipped, because existing databases have already
// run it.
var migrations = [][]string{
	// 1: meta, records, suppressions.
	{
		`CREATE TABLE meta (
			id         INTEGER PRIMARY KEY CHECK (id = 1),
			lineage    TEXT    NOT NULL,
			serial     INTEGER NOT NULL,
			target     TEXT    NOT NULL,
			created_at INTEGER NOT NULL
		)`,
		`CREATE TABLE records (
			address          TEXT    NOT NULL PRIMARY KEY,
			batch            TEXT    NOT NULL,
			msg_key          TEXT    NOT NULL,
			recipients       TEXT    NOT NULL,
			stream           TEXT    NOT NULL,
			tag              TEXT    NOT NULL,
			digest           TEXT    NOT NULL,
			pf_id            TEXT    NOT NULL,
			status           TEXT    NOT NULL,
			message_id       TEXT    NOT NULL,
			submitted_at     INTEGER NOT NULL,
			first_attempt_at INTEGER NOT NULL,
			last_attempt_at  INTEGER NOT NULL,
			attempts         INTEGER NOT NULL,
			error_code       INTEGER NOT NULL,
			error_message    TEXT    NOT NULL,
			delivery         TEXT    NOT NULL,
			bounce_type      TEXT    NOT NULL,
			bounce_id        INTEGER NOT NULL,
			inactive         INTEGER NOT NULL,
			delivered_at     INTEGER NOT NULL,
			last_event_at    INTEGER NOT NULL,
			checked_at       INTEGER NOT NULL,
			duplicates       INTEGER NOT NULL
		) WITHOUT ROWID`,
		// Secondary indexes of a WITHOUT ROWID table end with the primary
		// key, so each of these also yields rows in address order for one
		// value, which is what keyset paging with a filter needs.
		// Both indexes are partial: they hold only the records someone
		// looks for (unsettled sends for apply, open deliveries for
		// refresh), so the common writes of an apply (a "sending" row, then
		// its "sent" result) touch at most one of them, and each stays
		// small. Queries must repeat the WHERE term verbatim for SQLite to
		// use them (see unsettledTerm and openTerm).
		`CREATE INDEX records_unsettled ON records (status, address) WHERE ` + unsettledTerm,
		`CREATE INDEX records_open ON records (delivery, address) WHERE ` + openTerm,
		`CREATE TABLE suppressions (
			email      TEXT    NOT NULL,
			stream     TEXT    NOT NULL,
			reason     TEXT    NOT NULL,
			message_id TEXT    NOT NULL,
			at         INTEGER NOT NULL,
			PRIMARY KEY (email, stream)
		) WITHOUT ROWID`,
	},
	// 2: intents. Messages about to be sent are recorded as one row per
	// request (a JSON array of their records) instead of one row each: the
	// "sending" write is durable before the request leaves, at the cost of
	// a single insert. The response's results replace them with records.
	{
		`CREATE TABLE intents (
			id      INTEGER PRIMARY KEY,
			records BLOB NOT NULL
		)`,
	},
}

// unsettledTerm and openTerm are the partial indexes' conditions.
const (
	unsettledTerm = `status IN ('sending', 'uncertain', 'unsent')`
	openTerm      = `delivery IN ('pending', 'transient')`
)

// recordColumns lists the records columns in the order recordArgs writes
// them and scanRecord reads them.
const recordColumns = `address, batch, msg_key, recipients, stream, tag, digest, pf_id,
	status, message_id, submitted_at, first_attempt_at, last_attempt_at, attempts,
	error_code, error_message, delivery, bounce_type, bounce_id, inactive,
	delivered_at, last_event_at, checked_at, duplicates`

// recordValues is the VALUES tuple for one row of recordColumns.
const recordValues = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const putRecordSQL = `INSERT OR REPLACE INTO records (` + recordColumns + `) VALUES ` + recordValues

// rowsPerInsert is the number of rows putRecordsSQL inserts at once
// (24 columns × 20 rows = 480 bound parameters).
const rowsPerInsert = 20

var putRecordsSQL = `INSERT OR REPLACE INTO records (` + recordColumns + `) VALUES ` +
	strings.Repeat(recordValues+", ", rowsPerInsert-1) + recordValues

const putSuppressionSQL = `INSERT OR REPLACE INTO suppressions (email, stream, reason, message_id, at)
	VALUES (?, ?, ?, ?, ?)`

const bumpSerialSQL = `UPDATE meta SET serial = serial + 1 WHERE id = 1`
