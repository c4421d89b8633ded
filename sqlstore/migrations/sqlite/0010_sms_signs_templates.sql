-- SMS signatures (签名) and templates (模板): filed by an account, reviewed by an operator (the reviews table,
-- kinds 'sign' and 'template'), and only passed ones send.

-- A signature is filed under a qualification of its account: the foreign key keeps a qualification with
-- signatures from being deleted (BindSignDeleteFailed), also when the two race. letter_id is the
-- authorization letter of a third party's signature, 0 for the account's own; letters are never deleted.
CREATE TABLE sms_signs (
	id                INTEGER PRIMARY KEY,
	account_id        INTEGER NOT NULL REFERENCES accounts (id),
	name              TEXT    NOT NULL,
	source            INTEGER NOT NULL,
	sign_type         INTEGER NOT NULL,
	qualification_id  INTEGER NOT NULL REFERENCES sms_qualifications (id),
	third_party       INTEGER NOT NULL CHECK (third_party IN (0, 1)),
	letter_id         INTEGER NOT NULL,
	remark            TEXT    NOT NULL,
	apply_scene       TEXT    NOT NULL,
	more_data         TEXT    NOT NULL, -- JSON array of object keys
	state             TEXT    NOT NULL CHECK (state IN ('pending', 'passed', 'rejected')),
	order_id          INTEGER NOT NULL UNIQUE,
	audit_remark      TEXT    NOT NULL,
	audit_time        INTEGER NOT NULL, -- 0 until reviewed
	submitted_at      INTEGER NOT NULL, -- the latest submission, create or update
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	UNIQUE (account_id, name)
) STRICT;

CREATE INDEX sms_signs_account_created ON sms_signs (account_id, created_at);
CREATE INDEX sms_signs_qualification ON sms_signs (qualification_id);
CREATE INDEX sms_signs_pending ON sms_signs (submitted_at) WHERE state = 'pending';

-- A template's TemplateCode is 'SMS_' and its id.
CREATE TABLE sms_templates (
	id                 INTEGER PRIMARY KEY,
	account_id         INTEGER NOT NULL REFERENCES accounts (id),
	name               TEXT    NOT NULL,
	template_type      INTEGER NOT NULL,
	intl_type          INTEGER NOT NULL,
	content            TEXT    NOT NULL,
	remark             TEXT    NOT NULL,
	related_sign_name  TEXT    NOT NULL,
	rule               TEXT    NOT NULL, -- TemplateRule, JSON text or ''
	apply_scene        TEXT    NOT NULL,
	more_data          TEXT    NOT NULL, -- JSON array of object keys
	state              TEXT    NOT NULL CHECK (state IN ('pending', 'passed', 'rejected')),
	order_id           INTEGER NOT NULL UNIQUE,
	audit_remark       TEXT    NOT NULL,
	audit_time         INTEGER NOT NULL,
	submitted_at       INTEGER NOT NULL,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX sms_templates_account_created ON sms_templates (account_id, created_at);
CREATE INDEX sms_templates_pending ON sms_templates (submitted_at) WHERE state = 'pending';
