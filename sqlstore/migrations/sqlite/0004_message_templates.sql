-- Accounts' own texts for verification messages, per locale and kind. Times are INTEGER microseconds.

CREATE TABLE message_templates (
	account_id INTEGER NOT NULL REFERENCES accounts (id),
	locale     TEXT    NOT NULL,
	kind       TEXT    NOT NULL CHECK (kind IN ('sms', 'voice')),
	text       TEXT    NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (account_id, locale, kind)
) STRICT, WITHOUT ROWID;
