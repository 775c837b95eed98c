--
-- types: how every common type is encoded, NULLs included.
--
SET timezone = 'Asia/Tokyo';
CREATE TYPE ty_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE ty_pair AS (a int, b text);
CREATE DOMAIN ty_posint AS int CHECK (VALUE > 0);
CREATE DOMAIN ty_doc AS jsonb;
CREATE TABLE ty (
	id int PRIMARY KEY,
	i2 int2, i4 int4, i8 int8, o oid,
	f4 float4, f8 float8, n numeric,
	b boolean,
	t text, vc varchar(10), c char(4), nm name, ch "char",
	j json, jb jsonb,
	d date, ts timestamp, tstz timestamptz, tm time, tmtz timetz, iv interval,
	u uuid, by bytea,
	ia int[], ta text[], ja jsonb[],
	e ty_mood, cp ty_pair, dom ty_posint, dj ty_doc,
	ip inet, bits bit varying(8), xm xml, pt point, r int4range
);
SELECT pg_events.track('ty');
SELECT 'init' FROM pg_create_logical_replication_slot('ty_slot', 'pg_events');

-- 1: every column NULL
INSERT INTO ty (id) VALUES (1);

-- 2: ordinary values
INSERT INTO ty VALUES (2,
	12, 1234, 123456789012, 4000000000,
	1.5, 0.1, 123.4500,
	true,
	'plain', 'vc', 'ab', 'a_name', 'x',
	'{"a": 1}', '{"b": [1, "two", null, true, 1.5e3]}',
	'2026-11-21', '2026-11-21 05:00:00.5', '2026-11-21 14:00:00.123456+09', '13:14:15.5', '13:14:15+02', '1 day 02:03:04.5',
	'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x0102feff',
	'{1,2,3}', '{a,b}', ARRAY['{"x": 1}'::jsonb],
	'happy', ROW(1, 'one'), 5, '{"k": "v"}',
	'192.168.0.1/24', B'1011', '<a>x</a>', '(1,2)', '[1,10)');

-- 3: edge values
INSERT INTO ty (id, i2, i4, i8, o, f4, f8, n, b, t, j, jb, d, ts, tstz, iv, by, ia, ta) VALUES (3,
	-32768, -2147483648, -9223372036854775808, 0,
	'NaN', 'Infinity', 'NaN',
	false,
	E'quote " backslash \\ slash / tab \t nl \n cr \r bs \b ff \f ctl \x01 \x1f del \x7f',
	E'{\n  "spaced" : [ 1 , 2 ],\n\t"s": "keep  inner  spaces\\n", "u": "\\u00e9\\u0000"\n}',
	E'{"esc": "a\\"b\\\\c\\nd\\u0001", "nested": {"deep": [[], {}]}}',
	'infinity', '-infinity', 'infinity',
	'-1 year -2 mons +3 days -04:05:06.7',
	'\x',
	'{{1,2},{3,NULL}}', '{"a b","c\"d",NULL,"NULL",""}');

-- 4: more edge values
INSERT INTO ty (id, i2, i4, i8, f4, f8, n, t, d, ts, tstz, iv, u) VALUES (4,
	32767, 2147483647, 9223372036854775807,
	'-Infinity', '-0', 'Infinity',
	'unicode: héllo wörld ✓ 😀 中文',
	'0044-03-15 BC', '0044-03-15 12:00:00 BC', '2026-06-01 12:00:00 America/New_York', '0',
	'00000000-0000-0000-0000-000000000000');
INSERT INTO ty (id, f4, f8, n) VALUES (5, 3.4028235e38, 1e-300, '-Infinity');
INSERT INTO ty (id, f4, f8, n) VALUES (6, 1e-45, 1.7976931348623157e308, '12345678901234567890.123456789012345678901');
INSERT INTO ty (id, f8, ts, tstz) VALUES (7, 123456789012345678, '2026-11-21 00:00:00', '2026-11-21 00:00:00 UTC');

-- the session decoding the slot has settings that would change output
-- functions' results; the documents must not depend on them
SET timezone = 'America/Los_Angeles';
SET datestyle = 'SQL, DMY';
SET intervalstyle = 'sql_standard';
SET extra_float_digits = 0;
SET bytea_output = 'escape';
SELECT * FROM pge_changes('ty_slot');
RESET timezone;
RESET datestyle;
RESET intervalstyle;
RESET extra_float_digits;
RESET bytea_output;

-- float values survive a round trip exactly
INSERT INTO ty (id, f4, f8) VALUES (8, 0.3, 0.30000000000000004);
SELECT (data::jsonb #>> '{new,f4}')::float4 = 0.3::float4 AS f4_exact,
	   (data::jsonb #>> '{new,f8}')::float8 = 0.30000000000000004::float8 AS f8_exact
  FROM pg_logical_slot_get_changes('ty_slot', NULL, NULL, 'include-begin-commit', 'false');

-- update and delete: default replica identity sends the key only
UPDATE ty SET t = 'changed' WHERE id = 2;
UPDATE ty SET id = 20 WHERE id = 1;
DELETE FROM ty WHERE id = 3;
SELECT * FROM pge_changes('ty_slot');

SELECT pg_drop_replication_slot('ty_slot');
