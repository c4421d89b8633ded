-- Claims mark expired messages first; without this index that search read every due message, the whole
-- backlog under load, on every claim.
CREATE INDEX messages_expiry ON messages (expires_at) WHERE status IN ('queued', 'sending');
