-- The consent flow: decisions on authorization requests, their history, and the callback events that tell
-- the business.

ALTER TABLE schemes ADD COLUMN callback_url TEXT NOT NULL DEFAULT '';

-- Time of the last state change; 0 until the first (the request's created_at then stands for it). A
-- default rather than a value written on insert keeps GetAuthorizationUrl's hot insert as it was.
ALTER TABLE authorization_requests ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

CREATE INDEX authorization_requests_phone ON authorization_requests (phone_number, created_at);
CREATE INDEX authorization_requests_scheme ON authorization_requests (account_id, scheme_id, phone_number, created_at);
CREATE INDEX authorization_requests_account ON authorization_requests (account_id, created_at);
-- What the expiry sweep looks for: pending links that run out, grants whose end date passes.
CREATE INDEX authorization_requests_pending ON authorization_requests (expires_at) WHERE status = 'pending';
CREATE INDEX authorization_requests_ending ON authorization_requests (end_date) WHERE status = 'granted' AND end_date <> '';

CREATE TABLE authorization_changes (
	request_id TEXT    NOT NULL REFERENCES authorization_requests (id),
	number     INTEGER NOT NULL, -- 1 for the first change
	status     TEXT    NOT NULL CHECK (status IN ('granted', 'declined', 'expired', 'revoked')),
	at         BIGINT  NOT NULL,
	client_ip  TEXT    NOT NULL,
	user_agent TEXT    NOT NULL,
	PRIMARY KEY (request_id, number)
);

-- The callback outbox. While an event is sending, next_attempt_at is when its lease runs out.
CREATE TABLE callback_events (
	id              TEXT    PRIMARY KEY, -- 32 lower-case hex, time-ordered
	account_id      BIGINT  NOT NULL REFERENCES accounts (id),
	scheme_id       BIGINT  NOT NULL,
	request_id      TEXT    NOT NULL REFERENCES authorization_requests (id),
	type            TEXT    NOT NULL,
	url             TEXT    NOT NULL,
	payload         BYTEA   NOT NULL,
	status          TEXT    NOT NULL CHECK (status IN ('queued', 'sending', 'acknowledged', 'failed')),
	attempts        INTEGER NOT NULL,
	next_attempt_at BIGINT  NOT NULL,
	expires_at      BIGINT  NOT NULL,
	lease_owner     TEXT    NOT NULL,
	last_error      TEXT    NOT NULL,
	created_at      BIGINT  NOT NULL,
	updated_at      BIGINT  NOT NULL
);

CREATE INDEX callback_events_due ON callback_events (next_attempt_at) WHERE status IN ('queued', 'sending');
CREATE INDEX callback_events_account ON callback_events (account_id, id);
CREATE INDEX callback_events_request ON callback_events (request_id);

CREATE TABLE callback_attempts (
	event_id     TEXT    NOT NULL REFERENCES callback_events (id),
	number       INTEGER NOT NULL,
	at           BIGINT  NOT NULL,
	acknowledged BOOLEAN NOT NULL,
	status_code  INTEGER NOT NULL,
	detail       TEXT    NOT NULL,
	PRIMARY KEY (event_id, number)
);

-- numauth's own account (numauth.SystemAccountID): codes sent outside any business's request, such as the
-- withdrawal page's, are limited and recorded under it. It has no keys, so it cannot call the API.
INSERT INTO accounts (id, name, state, created_at, updated_at) VALUES (0, 'numauth', 'active', 0, 0)
	ON CONFLICT DO NOTHING;
