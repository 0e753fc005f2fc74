-- Zhengxin schema, PostgreSQL dialect. Same tables and constraints as the
-- SQLite one; times are timestamptz, binary values bytea. detail is text,
-- not jsonb: the audit hash covers its exact bytes.

CREATE TABLE agencies (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    credit_code text NOT NULL UNIQUE CHECK (length(credit_code) = 18),
    region_code text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);

-- Next status-list index per agency; SELECT ... FOR UPDATE on the row
-- serializes issuance within an agency.
CREATE TABLE status_counters (
    agency_id text PRIMARY KEY REFERENCES agencies (id),
    next      bigint NOT NULL DEFAULT 0
);

CREATE TABLE certificates (
    serial            text PRIMARY KEY,
    agency_id         text NOT NULL DEFAULT '',
    role              text NOT NULL CHECK (role IN ('root', 'agency', 'license-signer', 'seal', 'seal-maker')),
    subject           text NOT NULL,
    not_before        timestamptz NOT NULL,
    not_after         timestamptz NOT NULL,
    der               bytea NOT NULL,
    kid               bytea NOT NULL CHECK (length(kid) = 8),
    revoked_at        timestamptz,
    revocation_reason text NOT NULL DEFAULT ''
);
CREATE INDEX certificates_kid ON certificates (kid);
CREATE INDEX certificates_agency_role ON certificates (agency_id, role);

-- agency_id has no foreign key: every insert first locks the agency's
-- status_counters row (which has one), in the same transaction, and
-- agencies are never deleted; a per-row check would only slow bulk imports.
CREATE TABLE licenses (
    id                text PRIMARY KEY,
    agency_id         text NOT NULL,
    type_code         text NOT NULL,
    number            text NOT NULL,
    holder_name       text NOT NULL,
    holder_id_type    text NOT NULL,
    holder_id_number  text NOT NULL,
    status            text NOT NULL CHECK (status IN ('valid', 'suspended', 'revoked', 'cancelled')),
    valid_from        timestamptz,
    valid_to          timestamptz,
    issued_at         timestamptz NOT NULL,
    version           integer NOT NULL DEFAULT 1,
    replaces          text NOT NULL DEFAULT '',
    status_list_id    text NOT NULL,
    status_index      bigint NOT NULL CHECK (status_index >= 0),
    payload           bytea NOT NULL,
    fields            text NOT NULL DEFAULT '{}',
    idem_key          text NOT NULL DEFAULT '',
    holder_device_key bytea
);
CREATE UNIQUE INDEX licenses_status_index ON licenses (agency_id, status_index);
CREATE UNIQUE INDEX licenses_idem_key ON licenses (agency_id, idem_key) WHERE idem_key <> '';
CREATE INDEX licenses_holder ON licenses (holder_id_number);

CREATE TABLE license_status_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    license_id  text NOT NULL REFERENCES licenses (id),
    from_status text NOT NULL,
    to_status   text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    operator    text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL
);
CREATE INDEX license_status_history_license ON license_status_history (license_id);

CREATE TABLE seals (
    id         text PRIMARY KEY,
    agency_id  text NOT NULL REFERENCES agencies (id),
    name       text NOT NULL,
    type       text NOT NULL DEFAULT '',
    der        bytea NOT NULL,
    valid_from timestamptz,
    valid_to   timestamptz,
    created_at timestamptz NOT NULL
);

-- Append-only, hash-chained with SM3 (see the package documentation).
CREATE TABLE audit_log (
    seq       bigint PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL CHECK (length(action) > 0),
    object    text NOT NULL,
    detail    text NOT NULL,
    prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash      bytea NOT NULL CHECK (length(hash) = 32)
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE usage_records (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               timestamptz NOT NULL,
    license_id       text NOT NULL,
    holder_id_number text NOT NULL DEFAULT '',
    counter_id       text NOT NULL DEFAULT '',
    service_item     text NOT NULL DEFAULT '',
    operator         text NOT NULL DEFAULT '',
    verdict          text NOT NULL DEFAULT '',
    reason           text NOT NULL DEFAULT '',
    disclosed        text NOT NULL DEFAULT '[]'
);
CREATE INDEX usage_records_license ON usage_records (license_id);
CREATE INDEX usage_records_holder ON usage_records (holder_id_number);
CREATE INDEX usage_records_counter ON usage_records (counter_id);

CREATE TABLE api_tokens (
    id         text PRIMARY KEY,
    name       text NOT NULL DEFAULT '',
    role       text NOT NULL CHECK (role IN ('admin', 'issuer', 'counter', 'holder')),
    agency_id  text NOT NULL DEFAULT '',
    hash       bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked    boolean NOT NULL DEFAULT false
);

CREATE TABLE users (
    username      text PRIMARY KEY,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'issuer', 'counter', 'holder')),
    agency_id     text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL
);

CREATE TABLE claim_codes (
    code_hash  bytea PRIMARY KEY,
    license_id text NOT NULL REFERENCES licenses (id),
    expires    timestamptz NOT NULL,
    used_at    timestamptz
);

CREATE TABLE nonces (
    nonce   bytea PRIMARY KEY,
    expires timestamptz NOT NULL
);
CREATE INDEX nonces_expires ON nonces (expires);
