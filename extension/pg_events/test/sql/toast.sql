--
-- toast: unchanged TOASTed values are flagged, never sent as garbage.
--
CREATE TABLE docs (id int PRIMARY KEY, title text, body text, meta jsonb);
CREATE TABLE docs_full (id int PRIMARY KEY, title text, body text);
SELECT pg_events.track('docs');
SELECT pg_events.track('docs_full', true);
SELECT 'init' FROM pg_create_logical_replication_slot('toast_slot', 'pg_events');

-- md5 hex strings compress poorly: 6.4 kB stored out of line
CREATE TEMP TABLE big_values AS
	SELECT string_agg(md5(i::text), '') AS body,
		   (SELECT jsonb_object_agg('k' || i, md5(i::text)) FROM generate_series(1, 200) i) AS meta
	  FROM generate_series(1, 200) i;
INSERT INTO docs SELECT 1, 'first', body, meta FROM big_values;
INSERT INTO docs_full SELECT 1, 'first', body FROM big_values;
SELECT length(body) AS body_len, length(meta::text) AS meta_len FROM docs;

CREATE TEMP TABLE toast_docs AS
	SELECT ordinality AS n, data::jsonb AS d, length(data) AS len
	  FROM pg_logical_slot_get_changes('toast_slot', NULL, NULL, 'include-begin-commit', 'false')
	  WITH ORDINALITY;
-- inserts carry the whole value
SELECT n, d->>'table' AS tbl, d->>'op' AS op,
	   md5(d#>>'{new,body}') = md5((SELECT body FROM big_values)) AS body_ok,
	   (d#>'{new,meta}') = (SELECT meta FROM big_values) AS meta_ok,
	   d ? 'unchanged_toast' AS has_unchanged
  FROM toast_docs ORDER BY n;
DROP TABLE toast_docs;

-- an update of another column: body and meta are not in the WAL
UPDATE docs SET title = 'second' WHERE id = 1;
UPDATE docs_full SET title = 'second' WHERE id = 1;
CREATE TEMP TABLE toast_docs AS
	SELECT ordinality AS n, data AS raw, data::jsonb AS d
	  FROM pg_logical_slot_get_changes('toast_slot', NULL, NULL, 'include-begin-commit', 'false')
	  WITH ORDINALITY;
SELECT n, d->>'table' AS tbl, d->'new' AS new, d->'unchanged_toast' AS unchanged_toast,
	   d->'old'->>'title' AS old_title,
	   md5(d#>>'{old,body}') = md5((SELECT body FROM big_values)) AS old_body_ok
  FROM toast_docs ORDER BY n;
-- the raw document of the default-identity update, in full
SELECT pge_mask(raw) FROM toast_docs WHERE n = 1;
DROP TABLE toast_docs;

-- an update that changes the TOASTed column sends the new value
UPDATE docs SET body = body || 'tail', title = 'third' WHERE id = 1;
SELECT d->>'op' AS op, d->'unchanged_toast' AS unchanged_toast,
	   right(d#>>'{new,body}', 8) AS body_tail, length(d#>>'{new,body}') AS body_len
  FROM (SELECT data::jsonb AS d
		  FROM pg_logical_slot_get_changes('toast_slot', NULL, NULL, 'include-begin-commit', 'false')) s;

-- deletes: key only (default identity) or the whole old row (full)
DELETE FROM docs;
DELETE FROM docs_full;
SELECT d->>'table' AS tbl, d->'old'->>'id' AS old_id, d->'old'->>'title' AS old_title,
	   length(d#>>'{old,body}') AS old_body_len
  FROM (SELECT data::jsonb AS d
		  FROM pg_logical_slot_get_changes('toast_slot', NULL, NULL, 'include-begin-commit', 'false')) s;

SELECT pg_drop_replication_slot('toast_slot');
DROP TABLE docs, docs_full;
