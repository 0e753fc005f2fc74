-- A holder token's holder ID number gets its own column. Until now it was
-- kept in agency_id as "holder:<ID number>"; those values move here.
ALTER TABLE api_tokens ADD COLUMN holder_id text NOT NULL DEFAULT '';
UPDATE api_tokens SET holder_id = substr(agency_id, 8), agency_id = ''
    WHERE role = 'holder' AND substr(agency_id, 1, 7) = 'holder:';
