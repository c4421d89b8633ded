-- Message status and receipts (issue 11 item 6). Messages record the route and channel that took them, the
-- provider's id of each part, and what the receipt said. SQLite cannot change a CHECK constraint in place,
-- so messages is copied into a table with the wider status set and the new columns, inside this migration's
-- transaction. Its child delivery_attempts is copied too, referencing the new table: dropping the old
-- messages while rows still referenced it would count foreign key violations that no later statement
-- clears, and renaming the new table to messages rewrites the reference (SQLite 3.26 and later). Every
-- column and row is kept: the change adds.

CREATE TABLE messages_0016 (
	id                  TEXT    PRIMARY KEY, -- 32 lower-case hex, time-ordered
	account_id          INTEGER NOT NULL REFERENCES accounts (id),
	phone               TEXT    NOT NULL,    -- E.164
	kind                TEXT    NOT NULL CHECK (kind IN ('sms', 'voice')),
	locale              TEXT    NOT NULL,
	body                BLOB    NOT NULL,    -- sealed by the SecretSealer: it carries a code in clear
	channel             TEXT    NOT NULL,    -- the channel asked for; once accepted, the channel that took it
	status              TEXT    NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered',
		'expired', 'rejected', 'failed')),
	encoding            TEXT    NOT NULL,
	segments            INTEGER NOT NULL,
	test                INTEGER NOT NULL CHECK (test IN (0, 1)),
	out_id              TEXT    NOT NULL,
	attempts            INTEGER NOT NULL,
	next_attempt_at     INTEGER NOT NULL,
	expires_at          INTEGER NOT NULL,
	lease_owner         TEXT    NOT NULL,    -- the worker a sending message is leased to, '' otherwise
	last_error          TEXT    NOT NULL,
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL,
	route               TEXT    NOT NULL DEFAULT '', -- the route that chose the accepting channel; '' for none
	provider_message_id TEXT    NOT NULL DEFAULT '', -- the provider's ids of the parts, comma-separated
	error_code          TEXT    NOT NULL DEFAULT '', -- the receipt's error code (SMPP err:)
	delivered_at        INTEGER NOT NULL DEFAULT 0   -- when the receipt says the message ended; 0 for none
) STRICT;

INSERT INTO messages_0016 (id, account_id, phone, kind, locale, body, channel, status, encoding, segments, test,
		out_id, attempts, next_attempt_at, expires_at, lease_owner, last_error, created_at, updated_at)
	SELECT id, account_id, phone, kind, locale, body, channel, status, encoding, segments, test,
		out_id, attempts, next_attempt_at, expires_at, lease_owner, last_error, created_at, updated_at
	FROM messages;

CREATE TABLE delivery_attempts_0016 (
	message_id TEXT    NOT NULL REFERENCES messages_0016 (id),
	number     INTEGER NOT NULL, -- 1 for the first attempt
	at         INTEGER NOT NULL,
	outcome    TEXT    NOT NULL CHECK (outcome IN ('sent', 'delivered', 'retry', 'failed')),
	detail     TEXT    NOT NULL,
	PRIMARY KEY (message_id, number)
) STRICT, WITHOUT ROWID;

INSERT INTO delivery_attempts_0016 (message_id, number, at, outcome, detail)
	SELECT message_id, number, at, outcome, detail FROM delivery_attempts;

DROP TABLE delivery_attempts;
DROP TABLE messages;
ALTER TABLE messages_0016 RENAME TO messages;
ALTER TABLE delivery_attempts_0016 RENAME TO delivery_attempts;

CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status IN ('queued', 'sending');
CREATE INDEX messages_account ON messages (account_id, created_at);
CREATE INDEX messages_phone ON messages (phone, created_at);
CREATE INDEX messages_expiry ON messages (expires_at) WHERE status IN ('queued', 'sending');
-- Accepted messages that wait for a receipt, for the sweep that expires them.
CREATE INDEX messages_awaiting_receipt ON messages (updated_at) WHERE status = 'sent' AND provider_message_id <> '';

-- The provider's id of each part of a message, by channel: a receipt names one part.
CREATE TABLE message_parts (
	channel     TEXT    NOT NULL,
	provider_id TEXT    NOT NULL, -- as the channel matches receipts (SMPP: smpp.NormalizeMessageID)
	message_id  TEXT    NOT NULL REFERENCES messages (id),
	part        INTEGER NOT NULL, -- 1 for the first
	state       TEXT    NOT NULL CHECK (state IN ('', 'delivered', 'undelivered', 'expired', 'rejected')), -- '' until its receipt
	error_code  TEXT    NOT NULL,
	PRIMARY KEY (channel, provider_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX message_parts_message ON message_parts (message_id);
