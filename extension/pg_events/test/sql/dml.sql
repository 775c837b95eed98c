--
-- dml: insert, update, delete, truncate, replica identities, sequence
-- numbers, rollbacks and transactional messages.
--
CREATE TABLE tasks (id int PRIMARY KEY, title text NOT NULL, done boolean DEFAULT false);
CREATE TABLE nopk (a int, b text);
CREATE TABLE fullid (id int PRIMARY KEY, a text, b int);
CREATE TABLE untracked (x int PRIMARY KEY);
CREATE TABLE refd (id int PRIMARY KEY);
CREATE TABLE refing (id int PRIMARY KEY, r int REFERENCES refd);
SELECT pg_events.track('tasks');
SELECT pg_events.track('nopk');
SELECT pg_events.track('fullid', true);
SELECT pg_events.track('refd');
SELECT pg_events.track('refing');
SELECT 'init' FROM pg_create_logical_replication_slot('dml_slot', 'pg_events');

-- single row, then a multi-row INSERT: one document per row, seq 0, 1, 2
INSERT INTO tasks VALUES (1, 'write tests');
INSERT INTO tasks (id, title) VALUES (2, 'two'), (3, 'three'), (4, 'four');
SELECT * FROM pge_changes('dml_slot');

-- UPDATE without key change: no old tuple; with key change: old key
UPDATE tasks SET done = true WHERE id = 1;
UPDATE tasks SET id = 10 WHERE id = 2;
DELETE FROM tasks WHERE id = 3;
SELECT * FROM pge_changes('dml_slot');

-- REPLICA IDENTITY FULL: the whole old row, NULLs included
INSERT INTO fullid VALUES (1, 'a', NULL);
UPDATE fullid SET a = 'b' WHERE id = 1;
DELETE FROM fullid WHERE id = 1;
SELECT * FROM pge_changes('dml_slot');

-- no primary key, default identity: no old tuple at all, empty pk
INSERT INTO nopk VALUES (1, 'x');
UPDATE nopk SET b = 'y';
DELETE FROM nopk;
SELECT * FROM pge_changes('dml_slot');

-- COPY and a multi-row INSERT in one transaction: seq keeps counting
BEGIN;
INSERT INTO tasks VALUES (20, 'before copy');
COPY tasks (id, title) FROM STDIN;
21	copied "one"
22	copied\ttab
23	copied \\N backslash
\.
INSERT INTO tasks VALUES (24, 'after a'), (25, 'after b');
COMMIT;
SELECT * FROM pge_changes('dml_slot');

-- rollback: nothing
BEGIN;
INSERT INTO tasks VALUES (30, 'rolled back');
SELECT pg_events.emit('orders', '{"rolled": "back"}') IS NOT NULL AS emitted;
ROLLBACK;
SELECT * FROM pge_changes('dml_slot');

-- savepoints: changes and messages of rolled-back subtransactions vanish
BEGIN;
INSERT INTO tasks VALUES (31, 'kept 1');
SAVEPOINT s1;
INSERT INTO tasks VALUES (32, 'rolled back');
SELECT pg_events.emit('orders', '{"in": "rolled back savepoint"}') IS NOT NULL AS emitted;
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
INSERT INTO tasks VALUES (33, 'kept 2');
RELEASE SAVEPOINT s2;
UPDATE tasks SET title = 'kept 1, updated' WHERE id = 31;
COMMIT;
SELECT * FROM pge_changes('dml_slot');

-- messages are delivered in order with the data and counted by seq
BEGIN;
INSERT INTO tasks VALUES (40, 'with message');
SELECT pg_events.emit('tasks.created', '{"id": 40, "tags": ["a", "b"], "note": "x  y"}') IS NOT NULL AS emitted;
INSERT INTO untracked VALUES (1);
UPDATE tasks SET done = true WHERE id = 40;
SELECT pg_events.emit('audit', 'null') IS NOT NULL AS emitted;
SELECT pg_events.emit('audit', NULL) IS NOT NULL AS emitted;
COMMIT;
-- a transaction with only a message
SELECT pg_events.emit('ping', '"pong"') IS NOT NULL AS emitted;
SELECT * FROM pge_changes('dml_slot');

-- other messages are ignored: other prefixes, non-transactional ones
SELECT pg_logical_emit_message(true, 'other', E'orders\n{}') IS NOT NULL AS emitted;
SELECT pg_logical_emit_message(false, 'pg_events', E'orders\n{}') IS NOT NULL AS emitted;
-- a malformed pg_events message (not written by emit()) is skipped with a
-- warning; the transaction's other changes are still delivered
BEGIN;
SELECT pg_logical_emit_message(true, 'pg_events', E'orders\n{not json') IS NOT NULL AS emitted;
SELECT pg_logical_emit_message(true, 'pg_events', E'Bad Channel\n{}') IS NOT NULL AS emitted;
SELECT pg_logical_emit_message(true, 'pg_events', 'no newline') IS NOT NULL AS emitted;
INSERT INTO tasks VALUES (41, 'after malformed messages');
COMMIT;
\set VERBOSITY terse
SELECT * FROM pge_changes('dml_slot');
\set VERBOSITY default

-- untracked tables are absent; an untracked-only transaction is skipped
INSERT INTO untracked VALUES (2);
BEGIN;
INSERT INTO untracked VALUES (3);
INSERT INTO tasks VALUES (50, 'between untracked');
INSERT INTO untracked VALUES (4);
INSERT INTO tasks VALUES (51, 'between untracked');
COMMIT;
SELECT * FROM pge_changes('dml_slot');

-- TRUNCATE: one document per tracked relation, with the options
TRUNCATE tasks;
INSERT INTO refd VALUES (1);
INSERT INTO refing VALUES (1, 1);
TRUNCATE refd, untracked RESTART IDENTITY CASCADE;
SELECT * FROM pge_changes('dml_slot');

SELECT pg_drop_replication_slot('dml_slot');
