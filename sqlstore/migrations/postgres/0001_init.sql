-- Times are BIGINT microseconds since the Unix epoch (see sqlstore.go).
-- Every query is served by a primary key or a UNIQUE constraint, so no other index is needed yet.

CREATE TABLE accounts (
	id         BIGINT PRIMARY KEY,
	name       TEXT   NOT NULL,
	state      TEXT   NOT NULL CHECK (state IN ('active', 'suspended')),
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

-- One row per account and product.
CREATE TABLE subscriptions (
	account_id BIGINT  NOT NULL REFERENCES accounts (id),
	product    TEXT    NOT NULL,
	enabled    BOOLEAN NOT NULL,
	PRIMARY KEY (account_id, product)
);

CREATE TABLE ram_users (
	id         BIGINT PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	name       TEXT   NOT NULL,
	policy     TEXT   NOT NULL, -- the policy document, JSON
	created_at BIGINT NOT NULL,
	UNIQUE (account_id, name),
	UNIQUE (account_id, id) -- lets access_keys require its user to be in the same account
);

CREATE TABLE access_keys (
	id         TEXT    PRIMARY KEY, -- the AccessKeyId
	account_id BIGINT  NOT NULL REFERENCES accounts (id),
	user_id    BIGINT,              -- NULL for a root key
	secret     BYTEA   NOT NULL,    -- sealed by the SecretSealer, never in clear
	enabled    BOOLEAN NOT NULL,
	created_at BIGINT  NOT NULL,
	FOREIGN KEY (account_id, user_id) REFERENCES ram_users (account_id, id)
);

-- Per-action QPS overrides; an action without a row uses its documented default.
CREATE TABLE quotas (
	account_id BIGINT  NOT NULL REFERENCES accounts (id),
	action     TEXT    NOT NULL, -- "Product.Action", e.g. "Dypnsapi.GetAuthorizationUrl"
	qps        INTEGER NOT NULL CHECK (qps > 0),
	PRIMARY KEY (account_id, action)
);

CREATE TABLE schemes (
	id         BIGINT PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	name       TEXT   NOT NULL,
	company    TEXT   NOT NULL,
	purpose    TEXT   NOT NULL,
	type       TEXT   NOT NULL CHECK (type IN ('normal', 'contract')),
	state      TEXT   NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	UNIQUE (account_id, id) -- lets authorization_requests require its scheme to be in the same account
);

CREATE TABLE authorization_requests (
	id           TEXT   PRIMARY KEY, -- 32 lower-case hex
	account_id   BIGINT NOT NULL,
	scheme_id    BIGINT NOT NULL,
	phone_number TEXT   NOT NULL,    -- E.164
	end_date     TEXT   NOT NULL,    -- yyyy-MM-dd, '' when open-ended
	status       TEXT   NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	FOREIGN KEY (account_id, scheme_id) REFERENCES schemes (account_id, id)
);

-- One row; every transaction that changes what FindCredential returns increments it, and caches poll it.
CREATE TABLE revision (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	value BIGINT  NOT NULL
);

INSERT INTO revision (id, value) VALUES (1, 0);
