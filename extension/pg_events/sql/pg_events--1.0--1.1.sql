/* extension/pg_events/sql/pg_events--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_events UPDATE TO '1.1'" to load this file. \quit

--
-- 1.1: what pg_events_ws needs to decide visibility on the event's row image
-- (visible_rows), to ask a project's channel rule without failing open
-- (can_listen), and track() refusing OIDs that name no relation.  The change
-- documents also carry "relid" (written by the shared library, so every
-- version of the SQL API gets it).
--

--
-- track(rel, full_replica_identity): 1.0 tracked any OID, even one that names
-- no relation (pg_events.track(99999)): the lookup found no row and every
-- check compared with NULL.
--
CREATE OR REPLACE FUNCTION pg_events.track(rel pg_catalog.regclass,
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
	IF NOT FOUND THEN
		RAISE EXCEPTION 'relation with OID % does not exist', rel::oid
			USING ERRCODE = 'undefined_table',
				  HINT = 'Pass the table by name, e.g. pg_events.track(''public.tasks'').';
	END IF;

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

--
-- visible_rows(rel, rows): which of the row images in rows (a JSON array of
-- objects, as pg_events writes rows) the current role may SELECT under the
-- table's row-level security, with the current settings (request.jwt.claims).
-- Returns the 0-based positions of the visible ones.
--
-- The policies are evaluated over the images themselves, not over the table:
-- a change is judged on the version it carries, never on whatever the row
-- holds now.  Each image becomes a record of the table's row type
-- (jsonb_populate_record), named like the table, and the SELECT policies that
-- apply to the current role are combined as PostgreSQL combines them
-- (permissive ones OR-ed, restrictive ones AND-ed, none: nothing visible).
-- Subqueries in policies read other tables as they are now.  Owners,
-- BYPASSRLS roles and tables without RLS see every image.
--
-- Errors: insufficient_privilege without SELECT on the table.  Runs with the
-- caller's rights and search_path: the policy text is deparsed and parsed
-- again under the same search_path, so names resolve to the same objects.
--
CREATE FUNCTION pg_events.visible_rows(rel pg_catalog.regclass, rows jsonb)
RETURNS SETOF integer
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
	relname name;
	permissive text;
	restrictive text;
BEGIN
	IF rel IS NULL OR rows IS NULL THEN
		RETURN;
	END IF;
	IF pg_catalog.jsonb_typeof(rows) <> 'array' THEN
		RAISE EXCEPTION 'rows must be a JSON array of row objects'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT pg_catalog.has_table_privilege(rel, 'SELECT') THEN
		RAISE EXCEPTION 'permission denied for table %', rel
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF NOT pg_catalog.row_security_active(rel) THEN
		RETURN QUERY SELECT (e.o - 1)::integer
					   FROM pg_catalog.jsonb_array_elements(rows) WITH ORDINALITY AS e(r, o);
		RETURN;
	END IF;

	SELECT c.relname INTO relname FROM pg_catalog.pg_class c WHERE c.oid = rel;
	-- A policy applies to a role that has the privileges of one of its roles
	-- (0 is PUBLIC); a missing USING clause grants nothing (permissive) and
	-- restricts nothing (restrictive), as in PostgreSQL's rowsecurity.c.
	SELECT pg_catalog.string_agg('(' || coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), 'false') || ')', ' OR '
								 ORDER BY p.polname) FILTER (WHERE p.polpermissive),
		   pg_catalog.string_agg('(' || coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), 'true') || ')', ' AND '
								 ORDER BY p.polname) FILTER (WHERE NOT p.polpermissive)
	  INTO permissive, restrictive
	  FROM pg_catalog.pg_policy p
	 WHERE p.polrelid = rel
	   AND p.polcmd IN ('r', '*')
	   AND EXISTS (SELECT FROM pg_catalog.unnest(p.polroles) AS r(oid)
				    WHERE r.oid = 0 OR pg_catalog.pg_has_role(current_user, r.oid, 'USAGE'));
	IF permissive IS NULL THEN
		RETURN;					-- default deny
	END IF;

	RETURN QUERY EXECUTE pg_catalog.format(
		'SELECT (e.o - 1)::integer FROM pg_catalog.jsonb_array_elements($1) WITH ORDINALITY AS e(r, o), '
		'LATERAL pg_catalog.jsonb_populate_record(NULL::%s, e.r) AS %I WHERE (%s) AND (%s)',
		rel, relname, permissive, coalesce(restrictive, 'true'))
		USING rows;
END
$$;

COMMENT ON FUNCTION pg_events.visible_rows(pg_catalog.regclass, jsonb) IS
	'0-based positions of the row images (JSON array) the current role may SELECT under the table''s row-level security';

--
-- can_listen(channel): pg_events.authorize_channel(channel) when the project
-- defines it (called with the caller's rights), NULL when it does not.  One
-- statement, so a caller never mistakes a failed lookup for "no rule": an
-- error in the rule is an error here.
--
CREATE FUNCTION pg_events.can_listen(channel text)
RETURNS boolean
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
	allowed boolean;
BEGIN
	IF pg_catalog.to_regprocedure('pg_events.authorize_channel(text)') IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE 'SELECT pg_events.authorize_channel($1)' INTO allowed USING channel;
	RETURN coalesce(allowed, false);
END
$$;

COMMENT ON FUNCTION pg_events.can_listen(text) IS
	'pg_events.authorize_channel(channel) under the caller''s rights, or NULL when no such function exists';

-- Both run with the caller's rights and reveal nothing the caller cannot read.
GRANT EXECUTE ON FUNCTION pg_events.visible_rows(pg_catalog.regclass, jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION pg_events.can_listen(text) TO PUBLIC;
