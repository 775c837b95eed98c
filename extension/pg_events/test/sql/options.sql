--
-- options: plugin options, begin/commit framing, LSN and time fields.
--
CREATE TABLE opt_t (id int PRIMARY KEY, v text);
CREATE TABLE opt_untracked (id int);
SELECT pg_events.track('opt_t');
SELECT 'init' FROM pg_create_logical_replication_slot('opt_slot', 'pg_events');

-- unknown options and bad values are errors with SQLSTATE 22023
SELECT pge_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'include-xids', '1')$$);
SELECT pge_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'skip-empty-xacts', 'maybe')$$);
SELECT pge_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'skip-empty-xacts', 't')$$);
SELECT pge_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'skip-empty-xacts', '')$$);
-- (a NULL value cannot be passed through SQL; over the replication protocol
-- an option without a value is rejected like a bad value)
SELECT pge_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'skip-empty-xacts', NULL)$$);
SELECT pge_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'include-begin-commit', 'yes')$$);
SELECT pge_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'format-version', '2')$$);
SELECT pge_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'format-version', 'v1')$$);
-- accepted spellings
SELECT pge_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'format-version', '1', 'skip-empty-xacts', 'TRUE', 'include-begin-commit', 'on')$$);
SELECT pge_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'skip-empty-xacts', '0', 'include-begin-commit', 'Off')$$);
-- the binary variant returns the same UTF-8 text as bytea
SELECT pge_try($$SELECT count(*) FROM pg_logical_slot_peek_binary_changes('opt_slot', NULL, NULL)$$);

-- an empty transaction (only untracked changes) is skipped by default ...
INSERT INTO opt_untracked VALUES (1);
INSERT INTO opt_t VALUES (1, 'a');
SELECT * FROM pge_changes('opt_slot');
-- ... and shown with skip-empty-xacts=false
INSERT INTO opt_untracked VALUES (2);
INSERT INTO opt_t VALUES (2, 'b');
SELECT * FROM pge_changes('opt_slot', 'skip-empty-xacts', 'false');
-- include-begin-commit=false: change documents only
BEGIN;
INSERT INTO opt_t VALUES (3, 'c');
INSERT INTO opt_t VALUES (4, 'd');
COMMIT;
SELECT * FROM pge_changes('opt_slot', 'include-begin-commit', 'false');

-- LSN, xid and commit time: unmasked checks
BEGIN;
INSERT INTO opt_t VALUES (5, 'e'), (6, 'f');
SELECT pg_current_xact_id()::text::bigint AS xid \gset
COMMIT;
SELECT pg_current_wal_lsn() AS after_commit \gset
CREATE TEMP TABLE opt_docs AS
	SELECT ordinality AS n, data AS raw, data::jsonb AS d
	  FROM pg_logical_slot_get_changes('opt_slot', NULL, NULL) WITH ORDINALITY;
SELECT n, d->>'op' AS op, d->>'seq' AS seq FROM opt_docs ORDER BY n;
-- every lsn/end_lsn parses as pg_lsn; begin, changes and commit share the
-- commit LSN; end_lsn follows it and precedes the current WAL position
SELECT count(DISTINCT (d->>'lsn')::pg_lsn) AS distinct_lsn,
	   bool_and((d->>'lsn')::pg_lsn < :'after_commit'::pg_lsn) AS lsn_before_now,
	   bool_and((d->>'end_lsn')::pg_lsn > (d->>'lsn')::pg_lsn)
		   FILTER (WHERE d->>'op' IN ('begin', 'commit')) AS end_after_lsn,
	   bool_and((d->>'end_lsn')::pg_lsn <= :'after_commit'::pg_lsn)
		   FILTER (WHERE d->>'op' IN ('begin', 'commit')) AS end_before_now
  FROM opt_docs;
-- the xid is the transaction's; commit_time is RFC 3339 UTC with
-- microseconds and close to now
SELECT bool_and((d->>'xid')::bigint = :xid) AS xid_ok,
	   count(DISTINCT d->>'commit_time') AS distinct_times,
	   bool_and(d->>'commit_time' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$') AS rfc3339,
	   bool_and(abs(extract(epoch FROM (d->>'commit_time')::timestamptz - now())) < 300) AS recent
  FROM opt_docs;
-- key order is fixed
SELECT n, array_agg(k ORDER BY o) AS keys
  FROM opt_docs, LATERAL json_object_keys(raw::json) WITH ORDINALITY AS e(k, o)
 GROUP BY n ORDER BY n;
SELECT n, pge_mask(raw) FROM opt_docs ORDER BY n;

SELECT pg_drop_replication_slot('opt_slot');
SELECT pg_events.untrack('opt_t');
DROP TABLE opt_t, opt_untracked;
