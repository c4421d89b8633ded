-- Channels and routes (issue 11 item 2): delivery is data. A channel is one way out for messages (an SMPP
-- bind, a Kannel gateway, an HTTP provider, a webhook, the outbox); a route chooses among channels by
-- destination, account and kind. Every change bumps the revision, which running servers poll.

CREATE TABLE channels (
	name       TEXT    PRIMARY KEY,
	type       TEXT    NOT NULL CHECK (type IN ('smpp', 'kannel', 'http', 'webhook', 'outbox')),
	config     BYTEA   NOT NULL, -- a JSON object sealed by the SecretSealer: it holds credentials
	mps        INTEGER NOT NULL CHECK (mps >= 0),
	disabled   BOOLEAN NOT NULL,
	created_at BIGINT  NOT NULL,
	updated_at BIGINT  NOT NULL
);

CREATE TABLE routes (
	name       TEXT    PRIMARY KEY,
	mode       TEXT    NOT NULL CHECK (mode IN ('failover', 'weighted')),
	country    TEXT    NOT NULL, -- calling code digits; '' for every country
	prefix     TEXT    NOT NULL, -- leading digits of the international number; '' for every number
	account_id BIGINT  REFERENCES accounts (id), -- NULL: shared by every account
	kind       TEXT    NOT NULL CHECK (kind IN ('', 'sms', 'voice')),
	priority   INTEGER NOT NULL,
	created_at BIGINT  NOT NULL,
	updated_at BIGINT  NOT NULL
);

-- A route's channels in failover order. The foreign key keeps a channel a route names from being deleted.
CREATE TABLE route_channels (
	route_name   TEXT    NOT NULL REFERENCES routes (name) ON DELETE CASCADE,
	position     INTEGER NOT NULL,
	channel_name TEXT    NOT NULL REFERENCES channels (name),
	weight       INTEGER NOT NULL CHECK (weight >= 0), -- 0 when the route gives none
	PRIMARY KEY (route_name, position)
);

CREATE INDEX route_channels_channel ON route_channels (channel_name);
