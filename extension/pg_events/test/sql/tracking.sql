--
-- tracking: a transaction's changes are emitted iff the table is tracked as
-- of the transaction's commit.
--
CREATE TABLE tr (id int PRIMARY KEY);
CREATE TABLE tr2 (id int PRIMARY KEY);
SELECT 'init' FROM pg_create_logical_replication_slot('tr_slot', 'pg_events');

-- track() and untrack() mid-stream
INSERT INTO tr VALUES (1);					-- not yet tracked: absent
SELECT pg_events.track('tr');
INSERT INTO tr VALUES (2);					-- present
SELECT pg_events.untrack('tr');
INSERT INTO tr VALUES (3);					-- absent
SELECT pg_events.track('tr');
INSERT INTO tr VALUES (4);					-- present
SELECT * FROM pge_changes('tr_slot');

-- tracking inside the transaction covers the whole transaction ...
BEGIN;
INSERT INTO tr2 VALUES (1);
SELECT pg_events.track('tr2');
INSERT INTO tr2 VALUES (2);
COMMIT;
-- ... and so does untracking
BEGIN;
INSERT INTO tr2 VALUES (3);
SELECT pg_events.untrack('tr2');
INSERT INTO tr2 VALUES (4);
COMMIT;
-- a rolled-back track() changes nothing
BEGIN;
SELECT pg_events.track('tr2');
ROLLBACK;
INSERT INTO tr2 VALUES (5);
SELECT * FROM pge_changes('tr_slot');

-- concurrent sessions (through dblink): what counts is the commit order
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SELECT dblink_connect('other', format('host=%s port=%s dbname=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1),
	current_setting('port'), current_database()));

-- this transaction starts before tr2 is tracked and commits after: all of
-- its changes are emitted, including the one made before track()
BEGIN;
INSERT INTO tr2 VALUES (10);
SELECT r FROM dblink('other', $$SELECT pg_events.track('tr2')::text$$) AS t(r text);
INSERT INTO tr2 VALUES (11);
COMMIT;
-- this one commits before the concurrent untrack() commits: emitted
SELECT dblink_exec('other', 'BEGIN');
SELECT r FROM dblink('other', $$SELECT pg_events.untrack('tr2')::text$$) AS t(r text);
INSERT INTO tr2 VALUES (12);
SELECT dblink_exec('other', 'COMMIT');
INSERT INTO tr2 VALUES (13);				-- after untrack: absent
SELECT * FROM pge_changes('tr_slot');

-- the answer depends only on the WAL, not on where a decoding session
-- starts: decode up to the track() commit, then the rest in a new session
SELECT dblink_exec('other', 'BEGIN');
SELECT r FROM dblink('other', $$SELECT pg_events.track('tr2')::text$$) AS t(r text);
BEGIN;
INSERT INTO tr2 VALUES (20);
SELECT dblink_exec('other', 'COMMIT');
SELECT pg_current_wal_lsn() AS after_track \gset
INSERT INTO tr2 VALUES (21);
COMMIT;
SELECT pge_mask(data) FROM pg_logical_slot_get_changes('tr_slot', :'after_track', NULL);
SELECT * FROM pge_changes('tr_slot');

SELECT dblink_disconnect('other');

-- schema and table renames are picked up
ALTER TABLE tr RENAME TO tr_renamed;
INSERT INTO tr_renamed VALUES (30);
CREATE SCHEMA tr_schema;
ALTER TABLE tr_renamed SET SCHEMA tr_schema;
INSERT INTO tr_schema.tr_renamed VALUES (31);
ALTER SCHEMA tr_schema RENAME TO tr_schema2;
INSERT INTO tr_schema2.tr_renamed VALUES (32);
-- and so are column changes
ALTER TABLE tr_schema2.tr_renamed ADD COLUMN note text DEFAULT 'dflt';
INSERT INTO tr_schema2.tr_renamed VALUES (33);
UPDATE tr_schema2.tr_renamed SET note = 'set' WHERE id = 30;
ALTER TABLE tr_schema2.tr_renamed DROP COLUMN note;
INSERT INTO tr_schema2.tr_renamed VALUES (34);
SELECT * FROM pge_changes('tr_slot');

SELECT pg_drop_replication_slot('tr_slot');
SELECT pg_events.untrack('tr_schema2.tr_renamed');
SELECT pg_events.untrack('tr2');
DROP SCHEMA tr_schema2 CASCADE;
DROP TABLE tr2;
