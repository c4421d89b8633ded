-- Reserved for issue 10 item 4 (retention). Filled before release.
SELECT 1;
