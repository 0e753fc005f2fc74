// Package store keeps Zhengxin's records: issuing agencies, certificates,
// e-licenses with their status history, seals, the audit log, usage
// records (用证记录), API tokens and users, holder claim codes and
// presentation nonces.
//
// There is one interface, [Store], and two implementations behind
// [Open]:
//
//   - SQLite (the default): one file, zhengxin.db, in the data directory.
//     Pure Go (modernc.org/sqlite), no cgo. WAL mode, a 10 s busy timeout,
//     foreign keys on, one writer connection with BEGIN IMMEDIATE and a few
//     read-only connections. Enough for one node serving a district.
//   - PostgreSQL: selected by a postgres:// or postgresql:// URL (the
//     --db flag or ZHENGXIN_DB of the CLI). A pgxpool pool; several
//     stateless replicas may share one database.
//
// For most uses:
//
//	s, err := store.Open(ctx, os.Getenv("ZHENGXIN_DB"), dataDir)
//	if err != nil {
//		return err // e.g. "store: cannot reach PostgreSQL at db:5432: ...; is it running?"
//	}
//	defer s.Close()
//	rec, existed, err := s.IssueLicense(ctx, rec, store.AuditEntry{Actor: "issuer-1", Action: "license.issue"})
//
// Errors are prefixed "store: " and wrap [ErrNotFound], [ErrExists],
// [ErrInvalid], [ErrInvalidTransition], [ErrConflict], [ErrRevoked],
// [ErrClaimUsed] or [ErrClaimExpired] where one applies; test with
// errors.Is. No error contains a password, a token or a claim code.
//
// # Schema and migrations
//
// The schema is created and upgraded by versioned SQL files embedded in
// the binary (migrations/sqlite, migrations/postgres), applied by [Open]
// in order, each in its own transaction together with its row in
// schema_migrations. Opening is idempotent; replicas opening together
// serialize on a lock and only the first migrates. A database whose
// schema is newer than the binary is refused. docs/storage.md describes
// the tables.
//
// # Issuance
//
// [Store.IssueLicense] writes the license, reserves its status-list index
// and appends the audit entry in one transaction: either all three happen
// or none. The index is a per-agency sequence from 0, unique and never
// reused; it is what a status list (one bit or one entry per index) is
// built from with [Store.StatusSnapshot], which streams in index order.
// A license carrying an idempotency key (for example "csv:<file>:<row>")
// that the agency already used is not written again: the stored license
// comes back with existed = true, so an interrupted import can simply be
// run again. [Store.IssueLicenses] does the same for a batch in one
// transaction with the fastest insert path of each database (a prepared
// statement on SQLite, COPY on PostgreSQL), reserving the batch's indexes
// with one counter update; batches of a few thousand rows are best.
//
// # Audit log
//
// The audit log is append-only (database triggers refuse UPDATE and
// DELETE) and hash-chained with SM3 (GB/T 32905-2016). Entry n has
//
//	hash_n = SM3(hash_{n-1} || "zhengxin-audit-v1" || seq || at || actor || action || object || detail)
//
// with hash_0 = 32 zero bytes, seq as 8 bytes big-endian, at as
// microseconds since 1970-01-01 UTC in 8 bytes big-endian, and each text
// field as a 4-byte big-endian length followed by its UTF-8 bytes; detail
// is a JSON value stored byte for byte. An entry that belongs to an agency
// (AuditEntry.Agency, so the agency's auditors can read their own trail
// with AuditFilter.Agency) appends "zhengxin-audit-agency" and the
// length-prefixed agency; an entry without one hashes as every entry did
// before agencies were recorded. [AuditHash] computes it. Entries written
// before then do not hash their agency: it must be the one [AuditAgency]
// finds in their own fields, which is also what an entry written without
// an agency is given, so no entry's agency can change unnoticed.
// Appends are serialized (a table lock on PostgreSQL, the single writer on
// SQLite), so concurrent appends keep the chain intact.
// [Store.VerifyAuditChain] recomputes the chain and reports the first
// entry that does not verify. The chain proves that no entry was changed,
// inserted or removed before the last one; to detect the removal of the
// newest entries, record the head hash elsewhere from time to time (a
// signed daily note, a log line shipped off the machine) and compare.
//
// # Times
//
// Times are stored with microsecond precision in UTC and read back in UTC.
// A zero time.Time means "none" (NULL): a license without an end date, a
// certificate not revoked, a claim code not used. The store takes times
// as arguments where they matter (status changes, claim codes, nonces), so
// that callers own the clock.
//
// # Secrets
//
// API tokens and claim codes are stored as hashes only (SM3 or SHA-256,
// computed by the caller); user password hashes are opaque strings made by
// the caller. The SQLite file is created with mode 0600.
package store
