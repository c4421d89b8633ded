-- Message status and receipts (issue 11 item 6). Messages record the route and channel that took them, the
-- provider's id of each part, and what the receipt said; the status set grows by undelivered and rejected.
-- The change adds: no column or row is lost.

ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check CHECK (status IN ('queued', 'sending', 'sent', 'delivered',
	'undelivered', 'expired', 'rejected', 'failed'));

ALTER TABLE messages ADD COLUMN route               TEXT   NOT NULL DEFAULT ''; -- the route that chose the accepting channel
ALTER TABLE messages ADD COLUMN provider_message_id TEXT   NOT NULL DEFAULT ''; -- the provider's ids of the parts, comma-separated
ALTER TABLE messages ADD COLUMN error_code          TEXT   NOT NULL DEFAULT ''; -- the receipt's error code (SMPP err:)
ALTER TABLE messages ADD COLUMN delivered_at        BIGINT NOT NULL DEFAULT 0;  -- when the receipt says it ended; 0 for none

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
);

CREATE INDEX message_parts_message ON message_parts (message_id);
