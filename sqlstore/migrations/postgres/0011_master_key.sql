-- Facts about the installation itself, one row per name. 'master_key_fingerprint' binds the database to its
-- master key: a value derived from the key (never the key), which every command compares with its own key
-- before it touches anything (see masterkey.go).
CREATE TABLE settings (
	name       TEXT    PRIMARY KEY,
	value      TEXT    NOT NULL,
	created_at BIGINT  NOT NULL
);
