-- Verification codes and the durable outbox. Times are INTEGER microseconds since the Unix epoch.

-- An account's rules for sending codes; an account without a row uses numauth.DefaultCodeSettings.
-- Lists are comma-separated ('' for none).
CREATE TABLE code_settings (
	account_id         INTEGER PRIMARY KEY REFERENCES accounts (id),
	interval_us        INTEGER NOT NULL CHECK (interval_us >= 0),
	per_hour           INTEGER NOT NULL CHECK (per_hour >= 0),
	per_day            INTEGER NOT NULL CHECK (per_day >= 0),
	number_per_day     INTEGER NOT NULL CHECK (number_per_day >= 0),
	account_per_minute INTEGER NOT NULL CHECK (account_per_minute >= 0),
	prefix_per_minute  INTEGER NOT NULL CHECK (prefix_per_minute >= 0),
	allow_regions      TEXT    NOT NULL,
	deny_regions       TEXT    NOT NULL,
	allow_prefixes     TEXT    NOT NULL,
	deny_prefixes      TEXT    NOT NULL,
	updated_at         INTEGER NOT NULL
) STRICT;

-- Numbers that always get the same code and whose messages never leave the outbox.
CREATE TABLE code_test_numbers (
	account_id INTEGER NOT NULL REFERENCES accounts (id),
	phone      TEXT    NOT NULL, -- E.164
	code       TEXT    NOT NULL, -- configuration, not a secret
	created_at INTEGER NOT NULL,
	PRIMARY KEY (account_id, phone)
) STRICT, WITHOUT ROWID;

-- The current code of each account, scope and number: a new code replaces the row (or, with
-- DuplicatePolicy keep, leaves a valid one in place). The code itself is never stored in clear.
-- A rowid table with a unique key rather than WITHOUT ROWID: new rows are appended and only the thin
-- index is written at a random place; clustered by number, every new code put a 250-byte row on a random
-- page, and sends measured 10-20% slower.
CREATE TABLE codes (
	account_id  INTEGER NOT NULL REFERENCES accounts (id),
	scope       TEXT    NOT NULL,
	phone       TEXT    NOT NULL, -- E.164
	id          TEXT    NOT NULL, -- new with every code; the hashes are bound to it
	code_hash   BLOB    NOT NULL, -- HMAC-SHA256 of (id, code)
	folded_hash BLOB    NOT NULL, -- the same of the code in upper case, for case-insensitive checks
	sealed_code BLOB    NOT NULL, -- sealed by the SecretSealer, to send the same code again
	state       TEXT    NOT NULL CHECK (state IN ('active', 'used', 'cancelled')),
	attempts    INTEGER NOT NULL, -- wrong checks
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	UNIQUE (account_id, scope, phone)
) STRICT;

-- Every code sent to a number that is not a test number, for the send limits; kept for a day.
-- message_id is time-ordered, so old rows are one range of the primary key.
CREATE TABLE code_sends (
	message_id TEXT    PRIMARY KEY,
	account_id INTEGER NOT NULL,
	phone      TEXT    NOT NULL,
	prefix     TEXT    NOT NULL, -- numauth.VelocityPrefix(phone)
	sent_at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX code_sends_phone ON code_sends (phone, sent_at, account_id);
CREATE INDEX code_sends_prefix ON code_sends (account_id, prefix, sent_at);

-- Each account's codes per second over the last minute, for account velocity: a ring of 60 slots
-- (the second of the minute), each remembering which second it counts, so it never needs purging.
CREATE TABLE code_velocity (
	account_id INTEGER NOT NULL,
	slot       INTEGER NOT NULL CHECK (slot BETWEEN 0 AND 59),
	second     INTEGER NOT NULL, -- Unix seconds
	n          INTEGER NOT NULL,
	PRIMARY KEY (account_id, slot)
) STRICT, WITHOUT ROWID;

-- The outbox. While a message is sending, next_attempt_at is when its lease runs out.
CREATE TABLE messages (
	id              TEXT    PRIMARY KEY, -- 32 lower-case hex, time-ordered
	account_id      INTEGER NOT NULL REFERENCES accounts (id),
	phone           TEXT    NOT NULL,    -- E.164
	kind            TEXT    NOT NULL CHECK (kind IN ('sms', 'voice')),
	locale          TEXT    NOT NULL,
	body            BLOB    NOT NULL,    -- sealed by the SecretSealer: it carries a code in clear
	channel         TEXT    NOT NULL,
	status          TEXT    NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'expired')),
	encoding        TEXT    NOT NULL,
	segments        INTEGER NOT NULL,
	test            INTEGER NOT NULL CHECK (test IN (0, 1)),
	out_id          TEXT    NOT NULL,
	attempts        INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	lease_owner     TEXT    NOT NULL,    -- the worker a sending message is leased to, '' otherwise
	last_error      TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
) STRICT;

-- Only queued and sending messages can be due: the index stays as small as the backlog.
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status IN ('queued', 'sending');
CREATE INDEX messages_account ON messages (account_id, created_at);
CREATE INDEX messages_phone ON messages (phone, created_at);

CREATE TABLE delivery_attempts (
	message_id TEXT    NOT NULL REFERENCES messages (id),
	number     INTEGER NOT NULL, -- 1 for the first attempt
	at         INTEGER NOT NULL,
	outcome    TEXT    NOT NULL CHECK (outcome IN ('sent', 'delivered', 'retry', 'failed')),
	detail     TEXT    NOT NULL,
	PRIMARY KEY (message_id, number)
) STRICT, WITHOUT ROWID;
