-- Accounts' own texts for verification messages, per locale and kind. Times are BIGINT microseconds.

CREATE TABLE message_templates (
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	locale     TEXT   NOT NULL,
	kind       TEXT   NOT NULL CHECK (kind IN ('sms', 'voice')),
	text       TEXT   NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (account_id, locale, kind)
);
