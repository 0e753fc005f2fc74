-- The agency an audit entry belongs to (its unified social credit code;
-- '' for deployment-wide entries), so that an agency's auditors can read
-- their own trail. Existing entries are filled in by this migration's Go
-- step (backfillAuditAgency in store/migrate.go), in the same transaction:
-- it must derive exactly what the chain check re-derives for entries whose
-- hash does not cover the agency (store.AuditAgency).
ALTER TABLE audit_log ADD COLUMN agency text NOT NULL DEFAULT '';
CREATE INDEX audit_log_agency ON audit_log (agency, seq);
