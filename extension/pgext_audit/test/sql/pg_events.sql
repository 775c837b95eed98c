--
-- pg_events: when pg_events is installed before pgext_audit, the log is
-- tracked (streamed to realtime clients).  Two expected outputs: pg_events.out
-- (pg_events available) and pg_events_1.out (not installed).
--
SELECT count(*) > 0 AS have_pg_events FROM pg_available_extensions WHERE name = 'pg_events' \gset
\if :have_pg_events
DROP EXTENSION pgext_audit;
CREATE EXTENSION pg_events;
CREATE EXTENSION pgext_audit;
SELECT schema_name, table_name FROM pg_events.tracked() ORDER BY 1, 2;
-- without pg_events the extension installs just the same
DROP EXTENSION pgext_audit;
DROP EXTENSION pg_events;
CREATE EXTENSION pgext_audit;
SELECT to_regclass('pgext_audit.log') IS NOT NULL AS log_exists;
\else
\echo pg_events is not installed: nothing to track
\endif
DROP EXTENSION pgext_audit;
