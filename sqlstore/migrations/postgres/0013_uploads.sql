-- Reserved for issue 10 item 3 (upload quotas and blob objects). Filled before release.
SELECT 1;
