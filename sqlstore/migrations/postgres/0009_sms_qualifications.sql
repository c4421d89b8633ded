-- SMS qualifications (资质): the company behind an account's signatures, its legal representative and
-- administrator, and the files that prove them. Reviews go to the reviews table with kind 'qualification'.

CREATE TABLE sms_qualifications (
	id                 BIGINT  PRIMARY KEY,
	account_id         BIGINT  NOT NULL REFERENCES accounts (id),
	name               TEXT    NOT NULL,
	use_by_self        BOOLEAN NOT NULL,
	whether_share      BOOLEAN NOT NULL,
	company_name       TEXT    NOT NULL,
	company_type       TEXT    NOT NULL,
	organization_code  TEXT    NOT NULL,
	license_from       TEXT    NOT NULL, -- yyyy-MM-dd, China time
	license_to         TEXT    NOT NULL,
	legal_name         TEXT    NOT NULL,
	legal_id_type      TEXT    NOT NULL,
	legal_id_no        BYTEA   NOT NULL, -- sealed by the SecretSealer, never in clear
	legal_id_from      TEXT    NOT NULL,
	legal_id_to        TEXT    NOT NULL,
	legal_front_key    TEXT    NOT NULL, -- '' when not given
	legal_back_key     TEXT    NOT NULL,
	admin_name         TEXT    NOT NULL,
	admin_id_type      TEXT    NOT NULL,
	admin_id_no        BYTEA   NOT NULL, -- sealed
	admin_id_from      TEXT    NOT NULL,
	admin_id_to        TEXT    NOT NULL,
	admin_front_key    TEXT    NOT NULL,
	admin_back_key     TEXT    NOT NULL,
	admin_phone        BYTEA   NOT NULL, -- sealed, E.164
	remark             TEXT    NOT NULL,
	state              TEXT    NOT NULL CHECK (state IN ('pending', 'passed', 'rejected')),
	work_order_id      BIGINT  NOT NULL UNIQUE,
	audit_remark       TEXT    NOT NULL,
	audit_time         BIGINT  NOT NULL, -- 0 until reviewed
	created_at         BIGINT  NOT NULL,
	updated_at         BIGINT  NOT NULL,
	UNIQUE (account_id, name)
);

CREATE INDEX sms_qualifications_account_created ON sms_qualifications (account_id, created_at);
CREATE INDEX sms_qualifications_pending ON sms_qualifications (created_at) WHERE state = 'pending';

-- A qualification's files in the order given: kind 'license' (BusinessLicensePics, with their type) or
-- 'other' (OtherFiles, license_type '').
CREATE TABLE sms_qualification_files (
	qualification_id  BIGINT  NOT NULL REFERENCES sms_qualifications (id),
	kind              TEXT    NOT NULL CHECK (kind IN ('license', 'other')),
	position          INTEGER NOT NULL,
	file_key          TEXT    NOT NULL,
	license_type      TEXT    NOT NULL,
	PRIMARY KEY (qualification_id, kind, position)
);
