--
-- upgrade: 1.0 installs and updates to 1.1 (the released 1.0 script is never
-- edited; 1.0--1.1 brings visible_rows, can_listen and the track() fix).
--
SET client_min_messages = warning;
DROP EXTENSION pg_events CASCADE;
CREATE EXTENSION pg_events VERSION '1.0';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'pg_events';
SELECT to_regprocedure('pg_events.visible_rows(regclass, jsonb)') IS NULL AS no_visible_rows;
ALTER EXTENSION pg_events UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_events';
SELECT to_regprocedure('pg_events.visible_rows(regclass, jsonb)') IS NOT NULL AS has_visible_rows,
	   to_regprocedure('pg_events.can_listen(text)') IS NOT NULL AS has_can_listen;
SELECT pge_try($$SELECT pg_events.track(99999::regclass)$$);
-- the same objects as a fresh 1.1 install
SELECT pg_describe_object(classid, objid, objsubid) AS object
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_events')
   AND deptype = 'e'
 ORDER BY 1;
