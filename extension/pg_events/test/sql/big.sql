--
-- big: a 100,000-row transaction streams with distinct sequence numbers.
--
CREATE TABLE bulk (id int PRIMARY KEY, payload text);
SELECT pg_events.track('bulk');
SELECT 'init' FROM pg_create_logical_replication_slot('big_slot', 'pg_events');

BEGIN;
INSERT INTO bulk SELECT g, 'row ' || g FROM generate_series(1, 50000) g;
SELECT pg_events.emit('bulk.half', '{"rows": 50000}') IS NOT NULL AS emitted;
COPY bulk FROM PROGRAM 'seq 50001 100000 | sed "s/$/\tcopied/"';
COMMIT;

CREATE TEMP TABLE big_docs AS
	SELECT ordinality AS n, data::jsonb AS d
	  FROM pg_logical_slot_get_changes('big_slot', NULL, NULL) WITH ORDINALITY;
SELECT d->>'op' AS op, count(*) AS docs,
	   count(DISTINCT (d->>'seq')::int) AS distinct_seq,
	   min((d->>'seq')::int) AS min_seq, max((d->>'seq')::int) AS max_seq,
	   count(DISTINCT d->>'lsn') AS distinct_lsn
  FROM big_docs GROUP BY 1 ORDER BY 1;
-- seq is 0..99999 in document order, with no gap
SELECT bool_and((d->>'seq')::int = n - 2) AS seq_follows_order,
	   max((d->>'seq')::int) AS last_seq
  FROM big_docs WHERE d ? 'seq';
SELECT (d->>'count')::int AS commit_count FROM big_docs WHERE d->>'op' = 'commit';
SELECT d->>'seq' AS message_seq, d->'payload' AS payload FROM big_docs WHERE d->>'op' = 'message';
-- every row arrived once
SELECT count(DISTINCT (d#>>'{new,id}')::int) AS distinct_ids FROM big_docs WHERE d->>'op' = 'insert';

SELECT pg_drop_replication_slot('big_slot');
DROP TABLE bulk;
