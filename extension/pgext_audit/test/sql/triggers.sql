--
-- triggers: row_change(), enable(), disable().
--
CREATE SCHEMA shop;
CREATE TABLE shop.items (
	id		int PRIMARY KEY,
	name	text NOT NULL,
	qty		int NOT NULL DEFAULT 1,
	tags	text[]
);
SELECT pgext_audit.enable('shop.items');
SELECT pgext_audit.enable('shop.items');		-- idempotent
SELECT tgname, tgtype, pg_get_triggerdef(oid) AS definition
  FROM pg_trigger WHERE tgrelid = 'shop.items'::regclass ORDER BY tgname;

-- a role that may change the table but has no right on the log still leaves rows
CREATE ROLE regress_audit_writer NOLOGIN;
GRANT USAGE ON SCHEMA shop TO regress_audit_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.items TO regress_audit_writer;
SET ROLE regress_audit_writer;
INSERT INTO shop.items (id, name, tags) VALUES (1, 'apple', '{red}'), (2, 'pear', NULL);
UPDATE shop.items SET qty = 5 WHERE id = 1;					-- one column
UPDATE shop.items SET qty = 5 WHERE id = 1;					-- no change: nothing logged
UPDATE shop.items SET name = 'Pear', tags = '{green}' WHERE id = 2;	-- two columns, NULL -> value
UPDATE shop.items SET tags = NULL WHERE id = 2;				-- value -> NULL
UPDATE shop.items SET id = 3 WHERE id = 2;					-- the key itself
DELETE FROM shop.items WHERE id = 3;
SELECT * FROM pgext_audit.log;								-- no right on the log
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

SELECT module, stage, row_key, payload, current_role_name
  FROM pgext_audit.log WHERE module = 'shop.items' ORDER BY id;

TRUNCATE shop.items;
SELECT module, stage, row_key, payload FROM pgext_audit.log WHERE module = 'shop.items' ORDER BY id DESC LIMIT 1;

-- rows of a rolled back transaction vanish with it
BEGIN;
INSERT INTO shop.items (id, name) VALUES (10, 'ghost');
ROLLBACK;
SELECT count(*) AS ghost_rows FROM pgext_audit.log WHERE payload ->> 'name' = 'ghost';

-- composite keys in key order, quoted names, no primary key
CREATE TABLE shop."Order Lines" ("Order" int, line int, note text, PRIMARY KEY (line, "Order"));
SELECT pgext_audit.enable('shop."Order Lines"');
INSERT INTO shop."Order Lines" VALUES (7, 1, 'x');
UPDATE shop."Order Lines" SET note = 'y';
CREATE TABLE shop.nokey (a int, b text);
SELECT pgext_audit.enable('shop.nokey');
INSERT INTO shop.nokey VALUES (1, 'one');
DELETE FROM shop.nokey;
SELECT module, stage, row_key, payload
  FROM pgext_audit.log WHERE module IN ('shop.Order Lines', 'shop.nokey') ORDER BY id;

-- partitioned tables: the trigger is cloned to every partition, rows are
-- logged under the partitioned table's name
CREATE TABLE shop.events (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE shop.events_2024 PARTITION OF shop.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
SELECT pgext_audit.enable('shop.events');
INSERT INTO shop.events VALUES (1, '2024-05-01');
SELECT module, stage, row_key FROM pgext_audit.log WHERE module LIKE 'shop.events%' ORDER BY id;

-- bad input
CREATE VIEW shop.items_view AS SELECT * FROM shop.items;
CREATE SEQUENCE shop.seq;
SELECT pgext_audit.enable('shop.items_view');
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.enable('shop.seq');
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.enable(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.enable('pgext_audit.log');
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.enable('pg_catalog.pg_class');
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.enable(12345678::oid::regclass);
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.disable('shop.items_view');
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.enable('shop.missing');
\echo :LAST_ERROR_SQLSTATE

-- only a role that may create triggers on the table can turn auditing on or off
GRANT USAGE ON SCHEMA pgext_audit TO regress_audit_writer;
GRANT EXECUTE ON FUNCTION pgext_audit.enable(regclass), pgext_audit.disable(regclass)
	TO regress_audit_writer;
CREATE TABLE shop.others (id int PRIMARY KEY);
SET ROLE regress_audit_writer;
SELECT pgext_audit.disable('shop.items');
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.enable('shop.others');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) AS triggers_kept FROM pg_trigger WHERE tgrelid = 'shop.items'::regclass;
REVOKE ALL ON SCHEMA pgext_audit FROM regress_audit_writer;
REVOKE ALL ON FUNCTION pgext_audit.enable(regclass), pgext_audit.disable(regclass)
	FROM regress_audit_writer;

-- disable: idempotent, and nothing is logged afterwards
SELECT pgext_audit.disable('shop.items');
SELECT pgext_audit.disable('shop.items');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'shop.items'::regclass;
INSERT INTO shop.items (id, name) VALUES (20, 'silent');
SELECT count(*) AS silent_rows FROM pgext_audit.log WHERE payload ->> 'name' = 'silent';

DROP SCHEMA shop CASCADE;
DROP OWNED BY regress_audit_writer;
DROP ROLE regress_audit_writer;
