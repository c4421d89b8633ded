-- Reserved for issue 10 item 5 (server registry and heartbeats). Filled before release.
SELECT 1;
