--
-- purge(): delete old rows.
--
DELETE FROM pgext_audit.log;
SELECT pgext_audit.make_log('tests.purge', 'OLD', NULL) FROM generate_series(1, 3) \g /dev/null
SELECT pgext_audit.make_log('tests.purge', 'NEW', NULL) FROM generate_series(1, 2) \g /dev/null
UPDATE pgext_audit.log SET logged_at = logged_at - interval '40 days' WHERE stage = 'OLD';
SELECT pgext_audit.purge('30 days') AS purged;
SELECT pgext_audit.purge('30 days') AS purged_again;
SELECT stage, count(*) FROM pgext_audit.log GROUP BY stage ORDER BY stage;
SELECT pgext_audit.purge(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.purge('-1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.purge('0') AS purged_all;
SELECT count(*) AS left_over FROM pgext_audit.log;
