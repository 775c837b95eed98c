--
-- api: the SQL API, its argument checks and privileges.
--
CREATE TABLE api_t (id int PRIMARY KEY, v text);
CREATE VIEW api_v AS SELECT * FROM api_t;
CREATE MATERIALIZED VIEW api_mv AS SELECT * FROM api_t;
CREATE SEQUENCE api_seq;
CREATE UNLOGGED TABLE api_unlogged (id int);
CREATE TEMP TABLE api_temp (id int);
CREATE FOREIGN DATA WRAPPER api_fdw;
CREATE SERVER api_srv FOREIGN DATA WRAPPER api_fdw;
CREATE FOREIGN TABLE api_ft (id int) SERVER api_srv;

-- track() refuses what it cannot track, with an SQLSTATE per reason
SELECT pge_try($$SELECT pg_events.track(NULL)$$);
SELECT pge_try($$SELECT pg_events.track('api_t', NULL)$$);
SELECT pge_try($$SELECT pg_events.track('api_v')$$);
SELECT pge_try($$SELECT pg_events.track('api_mv')$$);
SELECT pge_try($$SELECT pg_events.track('api_seq')$$);
SELECT pge_try($$SELECT pg_events.track('api_ft')$$);
SELECT pge_try($$SELECT pg_events.track('pg_class')$$);
SELECT pge_try($$SELECT pg_events.track('information_schema.sql_features')$$);
SELECT pge_try($$SELECT pg_events.track('pg_events.tracked_tables')$$);
SELECT pge_try($$SELECT pg_events.track('api_unlogged')$$);
SELECT pge_try($$SELECT pg_events.track('api_temp')$$);
SELECT pge_try($$SELECT pg_events.track('no_such_table')$$);
-- an OID that names no relation (1.0 tracked it)
SELECT pge_try($$SELECT pg_events.track(99999::regclass)$$);
SELECT count(*) FROM pg_events.tracked_tables WHERE relid = 99999;

-- track, list, track again with full identity, untrack
SELECT pg_events.track('api_t');
SELECT schema_name, table_name, full_identity, tracked_at <= now() AS tracked_at_ok
  FROM pg_events.tracked();
SELECT relreplident FROM pg_class WHERE oid = 'api_t'::regclass;
SELECT pg_events.track('api_t', true);
SELECT schema_name, table_name, full_identity FROM pg_events.tracked();
SELECT relreplident FROM pg_class WHERE oid = 'api_t'::regclass;
SELECT relid::regclass, full_identity FROM pg_events.tracked_tables;
SELECT pg_events.untrack('api_t');
SELECT count(*) FROM pg_events.tracked();
-- untrack() leaves the replica identity alone
SELECT relreplident FROM pg_class WHERE oid = 'api_t'::regclass;
SELECT pge_try($$SELECT pg_events.untrack('api_t')$$);
SELECT pge_try($$SELECT pg_events.untrack(NULL)$$);

-- dropping a tracked table forgets it (event trigger)
CREATE TABLE api_dropme (id int PRIMARY KEY);
SELECT pg_events.track('api_dropme');
SELECT count(*) FROM pg_events.tracked_tables;
DROP TABLE api_dropme;
SELECT count(*) FROM pg_events.tracked_tables;

-- emit(): channel names are validated
SELECT pge_try($$SELECT pg_events.emit(NULL, '{}')$$);
SELECT pge_try($$SELECT pg_events.emit('', '{}')$$);
SELECT pge_try($$SELECT pg_events.emit('Orders', '{}')$$);
SELECT pge_try($$SELECT pg_events.emit('1orders', '{}')$$);
SELECT pge_try($$SELECT pg_events.emit('orders new', '{}')$$);
SELECT pge_try($$SELECT pg_events.emit(E'orders\n', '{}')$$);
SELECT pge_try($$SELECT pg_events.emit('ordérs', '{}')$$);
SELECT pge_try($$SELECT pg_events.emit(repeat('a', 64), '{}')$$);
SELECT pge_try($$SELECT pg_events.emit(repeat('a', 63), '{}')$$);
SELECT pge_try($$SELECT pg_events.emit('_orders.v1:created-2', '{"a": 1}')$$);
SELECT pge_try($$SELECT pg_events.emit('orders', NULL)$$);
SELECT pg_typeof(pg_events.emit('orders', '[]'));
BEGIN READ ONLY;
SELECT pge_try($$SELECT pg_events.emit('orders', '{}')$$);
ROLLBACK;

-- slot helpers
SELECT pge_try($$SELECT pg_events.create_slot(NULL)$$);
SELECT pge_try($$SELECT pg_events.create_slot('Bad-Name')$$);
SELECT pge_try($$SELECT pg_events.create_slot('')$$);
SELECT pge_try($$SELECT pg_events.create_slot(repeat('s', 64))$$);
SELECT pg_typeof(pg_events.create_slot('api_slot'));
SELECT slot_name, plugin, slot_type FROM pg_replication_slots WHERE slot_name = 'api_slot';
SELECT pge_try($$SELECT pg_events.create_slot('api_slot')$$);
SELECT slot_name, active, restart_lsn IS NOT NULL AS has_restart_lsn,
	   confirmed_flush_lsn IS NOT NULL AS has_confirmed_flush_lsn,
	   lag_bytes >= 0 AS lag_ok, retained_wal_bytes >= lag_bytes AS retained_ok,
	   wal_status, safe_wal_size
  FROM pg_events.slot_status ORDER BY slot_name;
SELECT 'init' FROM pg_create_logical_replication_slot('api_other', 'test_decoding');
SELECT pge_try($$SELECT pg_events.drop_slot('api_other')$$);
SELECT pg_drop_replication_slot('api_other');
SELECT pge_try($$SELECT pg_events.drop_slot('api_missing')$$);
SELECT pge_try($$SELECT pg_events.drop_slot('Bad-Name')$$);
SELECT pg_events.drop_slot('api_slot');
SELECT count(*) FROM pg_events.slot_status;

-- privileges: nothing that writes is executable by PUBLIC
SELECT p.proname, p.prosecdef, p.proconfig,
	   has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'pg_events'::regnamespace
 ORDER BY 1;

CREATE ROLE regress_pge_app;
CREATE TABLE api_owned (id int PRIMARY KEY);
ALTER TABLE api_owned OWNER TO regress_pge_app;
SET ROLE regress_pge_app;
SELECT pge_try($$SELECT pg_events.track('api_owned')$$);
SELECT pge_try($$SELECT pg_events.emit('orders', '{}')$$);
SELECT pge_try($$SELECT pg_events.create_slot('api_slot2')$$);
SELECT count(*) FROM pg_events.tracked();
SELECT count(*) FROM pg_events.slot_status;
RESET ROLE;

-- what an application role needs
GRANT EXECUTE ON FUNCTION pg_events.emit(text, jsonb) TO regress_pge_app;
GRANT EXECUTE ON FUNCTION pg_events.track(regclass, boolean),
	pg_events.untrack(regclass) TO regress_pge_app;
GRANT INSERT, UPDATE, DELETE ON pg_events.tracked_tables TO regress_pge_app;
SET ROLE regress_pge_app;
SELECT pge_try($$SELECT pg_events.emit('orders', '{}')$$);
SELECT pge_try($$SELECT pg_events.track('api_owned')$$);
SELECT pge_try($$SELECT pg_events.track('api_t')$$);
SELECT pge_try($$SELECT pg_events.untrack('api_owned')$$);
RESET ROLE;

-- a SECURITY DEFINER business function can emit for callers without grants
CREATE FUNCTION api_complete_task(id int) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT pg_events.emit('tasks.completed', jsonb_build_object('id', id))
$$;
REVOKE EXECUTE ON FUNCTION pg_events.emit(text, jsonb) FROM regress_pge_app;
SET ROLE regress_pge_app;
SELECT pge_try($$SELECT pg_events.emit('orders', '{}')$$);
SELECT pge_try($$SELECT api_complete_task(7)$$);
RESET ROLE;

REVOKE ALL ON pg_events.tracked_tables FROM regress_pge_app;
REVOKE ALL ON FUNCTION pg_events.track(regclass, boolean),
	pg_events.untrack(regclass) FROM regress_pge_app;
DROP FUNCTION api_complete_task(int);
DROP TABLE api_owned;
DROP ROLE regress_pge_app;
DROP VIEW api_v;
DROP MATERIALIZED VIEW api_mv;
DROP FOREIGN TABLE api_ft;
DROP SERVER api_srv;
DROP FOREIGN DATA WRAPPER api_fdw;
DROP TABLE api_t, api_unlogged, api_temp;
DROP SEQUENCE api_seq;
