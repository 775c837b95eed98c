--
-- partition: tracking a partitioned table reports its partitions' changes
-- under the parent's name, with the parent's column order.
--
CREATE TABLE meas (id int, city text, at date, v numeric, PRIMARY KEY (id, at))
	PARTITION BY RANGE (at);
CREATE TABLE meas_2025 PARTITION OF meas FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
-- a partition with another column order and a dropped column
CREATE TABLE meas_2026 (dropme int, v numeric, at date NOT NULL, city text, id int NOT NULL);
ALTER TABLE meas_2026 DROP COLUMN dropme;
ALTER TABLE meas ATTACH PARTITION meas_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
-- a sub-partitioned partition
CREATE TABLE meas_2027 PARTITION OF meas FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')
	PARTITION BY RANGE (at);
CREATE TABLE meas_2027_h1 PARTITION OF meas_2027 FOR VALUES FROM ('2027-01-01') TO ('2027-06-01');
CREATE TABLE meas_2027_h2 PARTITION OF meas_2027 DEFAULT;

SELECT pg_events.track('meas');
SELECT 'init' FROM pg_create_logical_replication_slot('part_slot', 'pg_events');

INSERT INTO meas VALUES (1, 'a', '2025-05-01', 1.5), (2, 'b', '2026-05-01', 2.5),
	(3, 'x', '2027-05-01', 3.5), (4, 'y', '2027-06-01', 4.5);
UPDATE meas SET v = 9 WHERE id = 2;
-- moving a row to another partition is a delete plus an insert
UPDATE meas SET at = '2026-02-02' WHERE id = 1;
DELETE FROM meas WHERE id = 3;
SELECT * FROM pge_changes('part_slot');

-- TRUNCATE of the parent: one document for the parent
TRUNCATE meas;
SELECT * FROM pge_changes('part_slot');

-- tracking also a partition changes nothing: the topmost tracked
-- ancestor names the events
SELECT pg_events.track('meas_2026');
INSERT INTO meas VALUES (5, 'c', '2026-03-03', 5);
SELECT * FROM pge_changes('part_slot');

-- a partition tracked alone reports under its own name
SELECT pg_events.untrack('meas');
INSERT INTO meas VALUES (6, 'd', '2026-04-04', 6), (7, 'e', '2025-04-04', 7);
TRUNCATE meas;
SELECT * FROM pge_changes('part_slot');
SELECT pg_events.untrack('meas_2026');

-- full identity on a partitioned table is set on every partition
SELECT pg_events.track('meas', true);
SELECT c.relname, c.relreplident
  FROM pg_partition_tree('meas') t JOIN pg_class c ON c.oid = t.relid
 ORDER BY 1;
INSERT INTO meas VALUES (8, 'x', '2027-01-02', 8);
UPDATE meas SET v = 80 WHERE id = 8;
DELETE FROM meas WHERE id = 8;
SELECT * FROM pge_changes('part_slot');

-- a partition detached from the tracked parent is no longer reported
ALTER TABLE meas DETACH PARTITION meas_2025;
INSERT INTO meas_2025 VALUES (9, 'z', '2025-09-09', 9);
INSERT INTO meas VALUES (10, 'z', '2026-09-09', 10);
SELECT * FROM pge_changes('part_slot');

SELECT pg_drop_replication_slot('part_slot');
SELECT pg_events.untrack('meas');
DROP TABLE meas, meas_2025;
