-- Number verification: the carrier simulator's tokens, SUBMAIL apps, Dypnsapi verification schemes,
-- balances, the ledger, prices and the verification log.

CREATE TABLE carrier_tokens (
	token      TEXT    PRIMARY KEY,
	carrier    INTEGER NOT NULL CHECK (carrier BETWEEN 1 AND 3),
	phone      TEXT    NOT NULL, -- E.164
	failure    TEXT    NOT NULL CHECK (failure IN ('', 'timeout', 'error')),
	expires_at BIGINT  NOT NULL,
	used_at    BIGINT  NOT NULL, -- 0 until redeemed
	created_at BIGINT  NOT NULL
);

CREATE INDEX carrier_tokens_expiry ON carrier_tokens (expires_at);

CREATE TABLE submail_apps (
	app_id     TEXT    PRIMARY KEY,
	account_id BIGINT  NOT NULL REFERENCES accounts (id),
	app_key    BYTEA   NOT NULL, -- sealed by the SecretSealer
	enabled    BOOLEAN NOT NULL,
	ip_allow   TEXT    NOT NULL, -- comma-separated addresses and CIDRs; '' allows all
	carriers   TEXT    NOT NULL, -- comma-separated carrier numbers; '' enables all
	price      BIGINT  NOT NULL CHECK (price >= 0),
	created_at BIGINT  NOT NULL,
	updated_at BIGINT  NOT NULL
);

CREATE INDEX submail_apps_account ON submail_apps (account_id);

CREATE TABLE verify_schemes (
	code             TEXT    PRIMARY KEY,
	account_id       BIGINT  NOT NULL REFERENCES accounts (id),
	name             TEXT    NOT NULL,
	app_name         TEXT    NOT NULL,
	os_type          TEXT    NOT NULL,
	pack_name        TEXT    NOT NULL,
	pack_sign        TEXT    NOT NULL,
	bundle_id        TEXT    NOT NULL,
	origin           TEXT    NOT NULL,
	url              TEXT    NOT NULL,
	ip_white_list    TEXT    NOT NULL,
	auth_type        TEXT    NOT NULL,
	sms_sign_name    TEXT    NOT NULL,
	scene_type       TEXT    NOT NULL,
	email            TEXT    NOT NULL,
	app_encrypt_info TEXT    NOT NULL,
	created_at       BIGINT  NOT NULL
);

CREATE INDEX verify_schemes_account ON verify_schemes (account_id, created_at);

-- The CHECK is the last line of defence: a charge that would take a balance below zero fails.
CREATE TABLE balances (
	account_id BIGINT  PRIMARY KEY REFERENCES accounts (id),
	amount     BIGINT  NOT NULL CHECK (amount >= 0),
	updated_at BIGINT  NOT NULL
);

CREATE TABLE ledger (
	id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id BIGINT  NOT NULL REFERENCES accounts (id),
	amount     BIGINT  NOT NULL,
	balance    BIGINT  NOT NULL,
	kind       TEXT    NOT NULL CHECK (kind IN ('top_up', 'charge')),
	item       TEXT    NOT NULL,
	reference  TEXT    NOT NULL, -- a charge's verification id
	source     TEXT    NOT NULL,
	created_at BIGINT  NOT NULL
);

CREATE INDEX ledger_account ON ledger (account_id, created_at);
-- One charge per verification, whatever happens.
CREATE UNIQUE INDEX ledger_charge_reference ON ledger (reference) WHERE kind = 'charge';

CREATE TABLE prices (
	account_id BIGINT  NOT NULL REFERENCES accounts (id),
	item       TEXT    NOT NULL,
	amount     BIGINT  NOT NULL CHECK (amount >= 0),
	PRIMARY KEY (account_id, item)
);

CREATE TABLE verifications (
	id         TEXT    PRIMARY KEY, -- 32 lower-case hex, time-ordered
	account_id BIGINT  NOT NULL REFERENCES accounts (id),
	product    TEXT    NOT NULL,
	source     TEXT    NOT NULL,
	kind       TEXT    NOT NULL CHECK (kind IN ('verify', 'get_mobile')),
	carrier    INTEGER NOT NULL,
	phone      TEXT    NOT NULL,
	mobile     TEXT    NOT NULL,
	outcome    TEXT    NOT NULL CHECK (outcome IN ('pass', 'reject', 'unknown')),
	detail     TEXT    NOT NULL,
	charged    BIGINT  NOT NULL CHECK (charged >= 0),
	created_at BIGINT  NOT NULL
);

CREATE INDEX verifications_account ON verifications (account_id, created_at);
