-- SMS compliance paperwork: authorization letters, their scopes, and the operators' review decisions.

CREATE TABLE sms_letters (
	id                  BIGINT  PRIMARY KEY,
	account_id          BIGINT  NOT NULL REFERENCES accounts (id),
	name                TEXT    NOT NULL,
	authorizer          TEXT    NOT NULL,
	proxy_authorizer    TEXT    NOT NULL,
	organization_code   TEXT    NOT NULL,
	date_from           TEXT    NOT NULL, -- yyyy-MM-dd, China time
	date_to             TEXT    NOT NULL,
	file_key            TEXT    NOT NULL,
	state               TEXT    NOT NULL CHECK (state IN ('INT', 'PASSED', 'NOT_PASS')),
	created_at          BIGINT  NOT NULL,
	updated_at          BIGINT  NOT NULL,
	UNIQUE (account_id, name)
);

-- A letter's scope, one row per signature name, in the order given.
CREATE TABLE sms_letter_signs (
	letter_id  BIGINT  NOT NULL REFERENCES sms_letters (id),
	position   INTEGER NOT NULL,
	sign_name  TEXT    NOT NULL,
	PRIMARY KEY (letter_id, position)
);

CREATE INDEX sms_letter_signs_name ON sms_letter_signs (sign_name);

CREATE TABLE reviews (
	kind       TEXT    NOT NULL,
	object_id  BIGINT  NOT NULL,
	account_id BIGINT  NOT NULL REFERENCES accounts (id),
	approve    BOOLEAN NOT NULL,
	reason     TEXT    NOT NULL,
	reviewer   TEXT    NOT NULL,
	at         BIGINT  NOT NULL
);

CREATE INDEX reviews_object ON reviews (kind, object_id, at);
