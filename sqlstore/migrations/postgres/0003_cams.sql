-- CAMS: customer spaces of ISV accounts and the business numbers registered in them. Times are BIGINT
-- microseconds since the Unix epoch.

CREATE TABLE cust_spaces (
	id         TEXT   PRIMARY KEY, -- "cams-" and eight lower-case letters and digits
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	name       TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	UNIQUE (account_id, id) -- lets chatapp_numbers require its space to be in the same account
);

CREATE TABLE chatapp_numbers (
	account_id    BIGINT NOT NULL,
	cust_space_id TEXT   NOT NULL,
	phone         TEXT   NOT NULL, -- E.164
	verified_name TEXT   NOT NULL, -- the display name
	status        TEXT   NOT NULL CHECK (status IN ('UNVERIFIED', 'CONNECTED', 'DELETED')),
	code_status   TEXT   NOT NULL CHECK (code_status IN ('NOT_VERIFIED', 'VERIFIED')),
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL,
	PRIMARY KEY (cust_space_id, phone),
	FOREIGN KEY (account_id, cust_space_id) REFERENCES cust_spaces (account_id, id)
);
