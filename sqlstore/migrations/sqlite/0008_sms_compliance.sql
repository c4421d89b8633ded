-- SMS compliance paperwork: authorization letters, their scopes, and the operators' review decisions.

CREATE TABLE sms_letters (
	id                  INTEGER PRIMARY KEY,
	account_id          INTEGER NOT NULL REFERENCES accounts (id),
	name                TEXT    NOT NULL,
	authorizer          TEXT    NOT NULL,
	proxy_authorizer    TEXT    NOT NULL,
	organization_code   TEXT    NOT NULL,
	date_from           TEXT    NOT NULL, -- yyyy-MM-dd, China time
	date_to             TEXT    NOT NULL,
	file_key            TEXT    NOT NULL,
	state               TEXT    NOT NULL CHECK (state IN ('INT', 'PASSED', 'NOT_PASS')),
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL,
	UNIQUE (account_id, name)
) STRICT;

-- A letter's scope, one row per signature name, in the order given.
CREATE TABLE sms_letter_signs (
	letter_id  INTEGER NOT NULL REFERENCES sms_letters (id),
	position   INTEGER NOT NULL,
	sign_name  TEXT    NOT NULL,
	PRIMARY KEY (letter_id, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX sms_letter_signs_name ON sms_letter_signs (sign_name);

CREATE TABLE reviews (
	kind       TEXT    NOT NULL,
	object_id  INTEGER NOT NULL,
	account_id INTEGER NOT NULL REFERENCES accounts (id),
	approve    INTEGER NOT NULL CHECK (approve IN (0, 1)),
	reason     TEXT    NOT NULL,
	reviewer   TEXT    NOT NULL,
	at         INTEGER NOT NULL
) STRICT;

CREATE INDEX reviews_object ON reviews (kind, object_id, at);
