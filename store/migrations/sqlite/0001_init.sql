-- Zhengxin schema, SQLite dialect. Times are INTEGER microseconds since
-- 1970-01-01 UTC (NULL where a time is absent); binary values are BLOBs.

CREATE TABLE agencies (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE CHECK (length(credit_code) = 18),
    region_code TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

-- Next status-list index per agency; the row is also the lock that
-- serializes issuance within an agency.
CREATE TABLE status_counters (
    agency_id TEXT PRIMARY KEY REFERENCES agencies (id),
    next      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE certificates (
    serial            TEXT PRIMARY KEY,
    agency_id         TEXT NOT NULL DEFAULT '',
    role              TEXT NOT NULL CHECK (role IN ('root', 'agency', 'license-signer', 'seal', 'seal-maker')),
    subject           TEXT NOT NULL,
    not_before        INTEGER NOT NULL,
    not_after         INTEGER NOT NULL,
    der               BLOB NOT NULL,
    kid               BLOB NOT NULL CHECK (length(kid) = 8),
    revoked_at        INTEGER,
    revocation_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX certificates_kid ON certificates (kid);
CREATE INDEX certificates_agency_role ON certificates (agency_id, role);

-- agency_id has no foreign key: every insert first locks the agency's
-- status_counters row (which has one), in the same transaction, and
-- agencies are never deleted; a per-row check would only slow bulk imports.
CREATE TABLE licenses (
    id                TEXT PRIMARY KEY,
    agency_id         TEXT NOT NULL,
    type_code         TEXT NOT NULL,
    number            TEXT NOT NULL,
    holder_name       TEXT NOT NULL,
    holder_id_type    TEXT NOT NULL,
    holder_id_number  TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('valid', 'suspended', 'revoked', 'cancelled')),
    valid_from        INTEGER,
    valid_to          INTEGER,
    issued_at         INTEGER NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1,
    replaces          TEXT NOT NULL DEFAULT '',
    status_list_id    TEXT NOT NULL,
    status_index      INTEGER NOT NULL CHECK (status_index >= 0),
    payload           BLOB NOT NULL,
    fields            TEXT NOT NULL DEFAULT '{}',
    idem_key          TEXT NOT NULL DEFAULT '',
    holder_device_key BLOB
);
CREATE UNIQUE INDEX licenses_status_index ON licenses (agency_id, status_index);
CREATE UNIQUE INDEX licenses_idem_key ON licenses (agency_id, idem_key) WHERE idem_key <> '';
CREATE INDEX licenses_holder ON licenses (holder_id_number);

CREATE TABLE license_status_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    license_id  TEXT NOT NULL REFERENCES licenses (id),
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    operator    TEXT NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
);
CREATE INDEX license_status_history_license ON license_status_history (license_id);

CREATE TABLE seals (
    id         TEXT PRIMARY KEY,
    agency_id  TEXT NOT NULL REFERENCES agencies (id),
    name       TEXT NOT NULL,
    type       TEXT NOT NULL DEFAULT '',
    der        BLOB NOT NULL,
    valid_from INTEGER,
    valid_to   INTEGER,
    created_at INTEGER NOT NULL
);

-- Append-only, hash-chained with SM3 (see the package documentation).
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL CHECK (length(action) > 0),
    object    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash      BLOB NOT NULL CHECK (length(hash) = 32)
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE usage_records (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    at               INTEGER NOT NULL,
    license_id       TEXT NOT NULL,
    holder_id_number TEXT NOT NULL DEFAULT '',
    counter_id       TEXT NOT NULL DEFAULT '',
    service_item     TEXT NOT NULL DEFAULT '',
    operator         TEXT NOT NULL DEFAULT '',
    verdict          TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT '',
    disclosed        TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX usage_records_license ON usage_records (license_id);
CREATE INDEX usage_records_holder ON usage_records (holder_id_number);
CREATE INDEX usage_records_counter ON usage_records (counter_id);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    role       TEXT NOT NULL CHECK (role IN ('admin', 'issuer', 'counter', 'holder')),
    agency_id  TEXT NOT NULL DEFAULT '',
    hash       BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'issuer', 'counter', 'holder')),
    agency_id     TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);

CREATE TABLE claim_codes (
    code_hash  BLOB PRIMARY KEY,
    license_id TEXT NOT NULL REFERENCES licenses (id),
    expires    INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE nonces (
    nonce   BLOB PRIMARY KEY,
    expires INTEGER NOT NULL
);
CREATE INDEX nonces_expires ON nonces (expires);
