-- The registry of running servers (issue 10 item 5): each `numauth serve` registers itself and renews its
-- heartbeat every few seconds; a server that keeps rate limits and nonces in memory is not ready while
-- another live one shares the database.

CREATE TABLE servers (
	id           TEXT    PRIMARY KEY, -- random, new at every start
	hostname     TEXT    NOT NULL,
	pid          INTEGER NOT NULL,
	started_at   BIGINT  NOT NULL,
	heartbeat_at BIGINT  NOT NULL,
	shared_state TEXT    NOT NULL CHECK (shared_state IN ('memory', 'redis')),
	version      TEXT    NOT NULL
);

CREATE INDEX servers_heartbeat ON servers (heartbeat_at);
