/* extension/pg_events/sql/pg_events--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_events" to load this file. \quit

--
-- The "pg_" prefix is reserved for system schemas, so CREATE EXTENSION cannot
-- create this schema from the control file; the script creates it with
-- allow_system_table_mods for that one statement (CREATE EXTENSION restores
-- every setting changed by the script).  The schema belongs to the
-- extension and is dropped with it.
--
SET allow_system_table_mods = on;
CREATE SCHEMA pg_events;
RESET allow_system_table_mods;

COMMENT ON SCHEMA pg_events IS 'pg_events: change events from logical decoding';

--
-- Tracked tables.  A user catalog table, so the output plugin may read it
-- under the historic snapshot while decoding.  Rows refer to tables by OID:
-- they are not dumped (re-run pg_events.track() after a restore).
--
CREATE TABLE pg_events.tracked_tables (
	relid oid PRIMARY KEY,
	full_identity boolean NOT NULL DEFAULT false,
	tracked_at timestamptz NOT NULL DEFAULT pg_catalog.now()
) WITH (user_catalog_table = true);

COMMENT ON TABLE pg_events.tracked_tables IS
	'Tables whose changes the pg_events output plugin emits; use pg_events.track() and pg_events.untrack()';

GRANT USAGE ON SCHEMA pg_events TO PUBLIC;
GRANT SELECT ON pg_events.tracked_tables TO PUBLIC;

--
-- track(rel, full_replica_identity): start emitting changes of a table.
--
CREATE FUNCTION pg_events.track(rel pg_catalog.regclass,
								full_replica_identity boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c record;
	part record;
BEGIN
	IF rel IS NULL THEN
		RAISE EXCEPTION 'relation must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF full_replica_identity IS NULL THEN
		RAISE EXCEPTION 'full_replica_identity must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;

	SELECT cl.relkind, cl.relpersistence, cl.relowner, n.nspname
	  INTO c
	  FROM pg_catalog.pg_class cl
	  JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
	 WHERE cl.oid = rel;

	IF c.relkind NOT IN ('r', 'p') THEN
		RAISE EXCEPTION 'cannot track relation "%"', rel
			USING ERRCODE = 'wrong_object_type',
				  DETAIL = format('"%s" is %s; only tables and partitioned tables can be tracked.',
								  rel,
								  CASE c.relkind
									  WHEN 'v' THEN 'a view'
									  WHEN 'm' THEN 'a materialized view'
									  WHEN 'f' THEN 'a foreign table'
									  WHEN 'S' THEN 'a sequence'
									  WHEN 'i' THEN 'an index'
									  WHEN 'I' THEN 'a partitioned index'
									  WHEN 'c' THEN 'a composite type'
									  WHEN 't' THEN 'a TOAST table'
									  ELSE 'not a table'
								  END);
	END IF;
	IF rel::oid < 16384 OR c.nspname IN ('pg_catalog', 'information_schema', 'pg_toast') THEN
		RAISE EXCEPTION 'cannot track relation "%"', rel
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'This operation is not supported for system tables.';
	END IF;
	IF c.nspname = 'pg_events' THEN
		RAISE EXCEPTION 'cannot track relation "%"', rel
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Tables of the pg_events extension cannot be tracked.';
	END IF;
	IF c.relpersistence = 't' THEN
		RAISE EXCEPTION 'cannot track relation "%"', rel
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'This operation is not supported for temporary tables.',
				  HINT = 'Changes of temporary tables are not written to the WAL.';
	END IF;
	IF c.relpersistence = 'u' THEN
		RAISE EXCEPTION 'cannot track relation "%"', rel
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'This operation is not supported for unlogged tables.',
				  HINT = 'Use ALTER TABLE ... SET LOGGED first.';
	END IF;
	IF NOT pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of table %', rel
			USING ERRCODE = 'insufficient_privilege';
	END IF;

	IF full_replica_identity THEN
		-- REPLICA IDENTITY does not recurse to partitions: set it everywhere
		FOR part IN
			SELECT pc.oid AS relid
			  FROM pg_catalog.pg_class pc
			 WHERE (pc.oid = rel
					OR pc.oid IN (SELECT t.relid FROM pg_catalog.pg_partition_tree(rel) t))
			   AND pc.relkind IN ('r', 'p')
			   AND pc.relreplident <> 'f'
			 ORDER BY pc.oid
		LOOP
			EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', part.relid::pg_catalog.regclass);
		END LOOP;
	END IF;

	-- ON CONFLICT is not available on user catalog tables: serialize instead
	LOCK TABLE pg_events.tracked_tables IN SHARE ROW EXCLUSIVE MODE;
	UPDATE pg_events.tracked_tables t
	   SET full_identity = full_replica_identity
	 WHERE t.relid = rel
	   AND t.full_identity IS DISTINCT FROM full_replica_identity;
	IF NOT EXISTS (SELECT FROM pg_events.tracked_tables t WHERE t.relid = rel) THEN
		INSERT INTO pg_events.tracked_tables (relid, full_identity)
		VALUES (rel, full_replica_identity);
	END IF;
END
$$;

COMMENT ON FUNCTION pg_events.track(pg_catalog.regclass, boolean) IS
	'Emit changes of a table (committed after this transaction); full_replica_identity sets REPLICA IDENTITY FULL';

--
-- untrack(rel): stop emitting changes of a table.
--
CREATE FUNCTION pg_events.untrack(rel pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	owner oid;
BEGIN
	IF rel IS NULL THEN
		RAISE EXCEPTION 'relation must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT relowner INTO owner FROM pg_catalog.pg_class WHERE oid = rel;
	IF NOT pg_catalog.pg_has_role(current_user, owner, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of table %', rel
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	DELETE FROM pg_events.tracked_tables WHERE relid = rel;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'table % is not tracked', rel
			USING ERRCODE = 'undefined_object',
				  HINT = 'pg_events.tracked() lists the tracked tables.';
	END IF;
END
$$;

COMMENT ON FUNCTION pg_events.untrack(pg_catalog.regclass) IS
	'Stop emitting changes of a table (from this transaction on); the replica identity is left as is';

--
-- tracked(): the tracked tables.
--
CREATE FUNCTION pg_events.tracked()
RETURNS TABLE (schema_name name, table_name name, full_identity boolean,
			   tracked_at timestamptz)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT n.nspname, c.relname, c.relreplident = 'f', t.tracked_at
	  FROM pg_events.tracked_tables t
	  JOIN pg_catalog.pg_class c ON c.oid = t.relid
	  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	 ORDER BY 1, 2
$$;

COMMENT ON FUNCTION pg_events.tracked() IS
	'Tracked tables; full_identity is the table''s current REPLICA IDENTITY FULL setting';

--
-- emit(channel, payload): transactional application message.
--
CREATE FUNCTION pg_events.emit(channel text, payload jsonb)
RETURNS pg_lsn
AS 'MODULE_PATHNAME', 'pg_events_emit'
LANGUAGE C
VOLATILE
PARALLEL UNSAFE;

COMMENT ON FUNCTION pg_events.emit(text, jsonb) IS
	'Send a JSON message on a channel at commit of the current transaction (discarded on rollback)';

--
-- Slot helpers for pg_events_ws.
--
CREATE FUNCTION pg_events.create_slot(slot_name text)
RETURNS pg_lsn
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	result pg_lsn;
BEGIN
	IF slot_name IS NULL OR slot_name !~ '^[a-z0-9_]{1,63}$' THEN
		RAISE EXCEPTION 'invalid replication slot name %', coalesce(quote_literal(slot_name), 'NULL')
			USING ERRCODE = 'invalid_name',
				  HINT = 'Slot names are 1 to 63 lower-case letters, digits and underscores.';
	END IF;
	SELECT s.lsn INTO result
	  FROM pg_catalog.pg_create_logical_replication_slot(slot_name, 'pg_events') s;
	RETURN result;
END
$$;

COMMENT ON FUNCTION pg_events.create_slot(text) IS
	'Create a logical replication slot using the pg_events output plugin; returns its consistent point';

CREATE FUNCTION pg_events.drop_slot(slot_name text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	slot_plugin name;
BEGIN
	IF slot_name IS NULL OR slot_name !~ '^[a-z0-9_]{1,63}$' THEN
		RAISE EXCEPTION 'invalid replication slot name %', coalesce(quote_literal(slot_name), 'NULL')
			USING ERRCODE = 'invalid_name',
				  HINT = 'Slot names are 1 to 63 lower-case letters, digits and underscores.';
	END IF;
	SELECT s.plugin INTO slot_plugin
	  FROM pg_catalog.pg_replication_slots s
	 WHERE s.slot_name = drop_slot.slot_name
	   AND s.database = pg_catalog.current_database();
	IF NOT FOUND THEN
		RAISE EXCEPTION 'replication slot "%" does not exist in this database', slot_name
			USING ERRCODE = 'undefined_object';
	END IF;
	IF slot_plugin IS DISTINCT FROM 'pg_events' THEN
		RAISE EXCEPTION 'replication slot "%" does not use the pg_events plugin', slot_name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The slot uses plugin %s.', coalesce(quote_ident(slot_plugin), 'NULL')),
				  HINT = 'Use pg_drop_replication_slot() for slots of other plugins.';
	END IF;
	PERFORM pg_catalog.pg_drop_replication_slot(slot_name);
END
$$;

COMMENT ON FUNCTION pg_events.drop_slot(text) IS
	'Drop a logical replication slot of this database that uses the pg_events plugin';

--
-- slot_status: health of the pg_events slots of this database.
--
CREATE VIEW pg_events.slot_status AS
	SELECT s.slot_name,
		   s.active,
		   s.restart_lsn,
		   s.confirmed_flush_lsn,
		   pg_catalog.pg_wal_lsn_diff(w.lsn, s.confirmed_flush_lsn)::bigint AS lag_bytes,
		   pg_catalog.pg_wal_lsn_diff(w.lsn, s.restart_lsn)::bigint AS retained_wal_bytes,
		   s.wal_status,
		   s.safe_wal_size
	  FROM pg_catalog.pg_replication_slots s,
		   LATERAL (SELECT CASE WHEN pg_catalog.pg_is_in_recovery()
								THEN pg_catalog.pg_last_wal_replay_lsn()
								ELSE pg_catalog.pg_current_wal_lsn()
						   END AS lsn) w
	 WHERE s.plugin = 'pg_events'
	   AND s.slot_type = 'logical'
	   AND s.database = pg_catalog.current_database();

COMMENT ON VIEW pg_events.slot_status IS
	'pg_events slots of this database: lag_bytes = current WAL - confirmed flush, retained_wal_bytes = current WAL - restart LSN';

GRANT SELECT ON pg_events.slot_status TO PUBLIC;

--
-- Forget dropped tables, so that a reused OID is never tracked by accident.
--
CREATE FUNCTION pg_events.on_sql_drop()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.to_regclass('pg_events.tracked_tables') IS NULL THEN
		RETURN;					-- the extension itself is being dropped
	END IF;
	DELETE FROM pg_events.tracked_tables t
	 USING pg_catalog.pg_event_trigger_dropped_objects() d
	 WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
	   AND d.objsubid = 0
	   AND d.objid = t.relid;
END
$$;

CREATE EVENT TRIGGER pg_events_sql_drop ON sql_drop
	EXECUTE FUNCTION pg_events.on_sql_drop();

--
-- Privileges: functions are executable by PUBLIC by default; these are not.
--
REVOKE ALL ON FUNCTION pg_events.track(pg_catalog.regclass, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_events.untrack(pg_catalog.regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_events.emit(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_events.create_slot(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_events.drop_slot(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_events.on_sql_drop() FROM PUBLIC;
