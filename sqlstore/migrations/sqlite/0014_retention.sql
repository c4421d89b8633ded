-- Retention (issue 10 item 4): what the pruner's searches need that no earlier index gives. Messages,
-- callback events, verifications and the send log are searched by their time-ordered primary keys, and
-- carrier tokens by carrier_tokens_expiry, so they need nothing new.

-- Codes by expiry: a code is replaced in place, so nothing else orders codes by age.
CREATE INDEX codes_expiry ON codes (expires_at);

-- Authorization requests that have ended, by when: declined, expired (unused or a grant that ran out) and
-- revoked. Pending and granted requests, GetAuthorizationUrl's hot inserts, stay out of it.
CREATE INDEX authorization_requests_ended ON authorization_requests (updated_at)
	WHERE status IN ('declined', 'expired', 'revoked');
