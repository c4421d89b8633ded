-- Reserved for issue 10 item 2 (master key fingerprint). Filled before release.
SELECT 1;
