-- Uploaded objects (issue 10): one record per object key, each account's storage quota and the bytes it
-- uses, so that an upload reserves its bytes before writing them and orphans can be found.

-- A quota row is made on an account's first upload or quota change. quota_bytes NULL means the default
-- (numauth.DefaultStorageQuota), so a later default reaches every account without a quota of its own.
-- used_bytes is the sum of the sizes of the account's uploads rows, kept in the same transactions.
CREATE TABLE storage_quotas (
	account_id   BIGINT PRIMARY KEY,
	quota_bytes  BIGINT,
	used_bytes   BIGINT NOT NULL CHECK (used_bytes >= 0)
);

-- state: 'pending' while the bytes are written, 'stored' once they are, 'deleting' once the sweeper has
-- claimed an orphan. Keys begin with their account's id, so they are unique across accounts.
CREATE TABLE uploads (
	object_key  TEXT    PRIMARY KEY,
	account_id  BIGINT  NOT NULL,
	size        BIGINT  NOT NULL CHECK (size >= 0),
	state       TEXT    NOT NULL CHECK (state IN ('pending', 'stored', 'deleting')),
	created_at  BIGINT  NOT NULL
);

CREATE INDEX uploads_created ON uploads (created_at);
CREATE INDEX uploads_deleting ON uploads (object_key) WHERE state = 'deleting';
