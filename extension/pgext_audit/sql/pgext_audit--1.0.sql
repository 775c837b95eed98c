/* extension/pgext_audit/sql/pgext_audit--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pgext_audit" to load this file. \quit

--
-- Everything here is closed to PUBLIC.  Callers get USAGE on the schema and
-- EXECUTE on make_log()/log_error() one role at a time (the layered template
-- grants them to the role that owns the business functions).  The functions
-- that write the log are SECURITY DEFINER with a fixed search_path, so callers
-- never need, nor get, any right on the log table itself.
--
REVOKE ALL ON SCHEMA pgext_audit FROM PUBLIC;
COMMENT ON SCHEMA pgext_audit IS 'pgext_audit: audit log of business function calls, errors and table changes';

--
-- The log.
--
CREATE TABLE pgext_audit.log (
	id					bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	logged_at			timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	txid				bigint NOT NULL DEFAULT pg_catalog.txid_current(),
	session_user_name	text NOT NULL DEFAULT SESSION_USER,
	current_role_name	text,
	jwt_sub				text,
	jwt_role			text,
	client_addr			inet,
	application_name	text,
	request_id			text,
	module				text NOT NULL,
	stage				text NOT NULL,
	payload				jsonb,
	row_key				jsonb,
	is_error			boolean NOT NULL DEFAULT false,
	sqlstate			text,
	message				text,
	detail				text,
	hint				text,
	context				text,
	column_name			text,
	constraint_name		text,
	datatype_name		text,
	schema_name			text,
	table_name			text
);

CREATE INDEX log_logged_at_idx ON pgext_audit.log (logged_at DESC);
CREATE INDEX log_module_logged_at_idx ON pgext_audit.log (module, logged_at DESC);
CREATE INDEX log_errors_idx ON pgext_audit.log (logged_at DESC) WHERE is_error;

REVOKE ALL ON TABLE pgext_audit.log FROM PUBLIC;

-- The log is data, not extension code: pg_dump must dump its rows and the
-- position of its identity sequence.
SELECT pg_catalog.pg_extension_config_dump('pgext_audit.log', '');
SELECT pg_catalog.pg_extension_config_dump(
	pg_catalog.pg_get_serial_sequence('pgext_audit.log', 'id')::pg_catalog.regclass, '');

COMMENT ON TABLE pgext_audit.log IS
	'One row per business function stage (STARTED, FINISHED, ERROR) and per audited row change; write it only through pgext_audit.make_log() / log_error() / row_change()';
COMMENT ON COLUMN pgext_audit.log.txid IS 'Top-level transaction id: groups the rows of one request';
COMMENT ON COLUMN pgext_audit.log.session_user_name IS 'Login role (for PostgREST: the authenticator)';
COMMENT ON COLUMN pgext_audit.log.current_role_name IS 'Role set by SET ROLE (PostgREST switches to the JWT role), else the login role; never the SECURITY DEFINER owner';
COMMENT ON COLUMN pgext_audit.log.jwt_sub IS '"sub" claim of request.jwt.claims, NULL when absent or malformed';
COMMENT ON COLUMN pgext_audit.log.jwt_role IS '"role" claim of request.jwt.claims, NULL when absent or malformed';
COMMENT ON COLUMN pgext_audit.log.request_id IS 'x-request-id header from PostgREST''s request.headers, when present';
COMMENT ON COLUMN pgext_audit.log.module IS 'Business function (schema.function) or audited table (schema.table)';
COMMENT ON COLUMN pgext_audit.log.stage IS 'STARTED, FINISHED, ERROR, or INSERT / UPDATE / DELETE / TRUNCATE for row changes';
COMMENT ON COLUMN pgext_audit.log.payload IS 'Arguments, result, new row (INSERT), changed columns {"col":{"old":..,"new":..}} (UPDATE) or old row (DELETE)';
COMMENT ON COLUMN pgext_audit.log.row_key IS 'Primary key of the changed row, for row changes';
COMMENT ON COLUMN pgext_audit.log.is_error IS 'True for rows written by log_error()';

--
-- json_or_null(text): parse a GUC's JSON text; NULL when empty or malformed.
-- Internal helper: a malformed request.jwt.claims must not make logging fail.
--
CREATE FUNCTION pgext_audit.json_or_null(value text)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF value = '' THEN
		RETURN NULL;
	END IF;
	RETURN value::jsonb;
EXCEPTION
	WHEN data_exception OR program_limit_exceeded THEN
		RETURN NULL;
END
$$;

COMMENT ON FUNCTION pgext_audit.json_or_null(text) IS
	'Internal: the text as jsonb, or NULL when it is empty or not valid JSON';

--
-- write_log(...): the one INSERT into the log, with the request context.
-- Internal: called by the SECURITY DEFINER functions below, as their owner.
--
CREATE FUNCTION pgext_audit.write_log(p_module text, p_stage text, p_payload jsonb,
									  p_is_error boolean, p_row_key jsonb,
									  p_sqlstate text, p_message text, p_detail text,
									  p_hint text, p_context text, p_column_name text,
									  p_constraint_name text, p_datatype_name text,
									  p_schema_name text, p_table_name text)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_claims	jsonb := pgext_audit.json_or_null(current_setting('request.jwt.claims', true));
	v_headers	jsonb := pgext_audit.json_or_null(current_setting('request.headers', true));
	v_role		text := current_setting('role', true);
	v_id		bigint;
BEGIN
	IF jsonb_typeof(v_claims) IS DISTINCT FROM 'object' THEN
		v_claims := NULL;
	END IF;
	IF jsonb_typeof(v_headers) IS DISTINCT FROM 'object' THEN
		v_headers := NULL;
	END IF;
	-- Inside a SECURITY DEFINER function current_user is the definer; the
	-- "role" setting still holds what SET ROLE (or PostgREST) chose.
	IF v_role IS NULL OR v_role = 'none' THEN
		v_role := session_user;
	END IF;

	INSERT INTO pgext_audit.log (
		session_user_name, current_role_name, jwt_sub, jwt_role,
		client_addr, application_name, request_id,
		module, stage, payload, row_key, is_error,
		sqlstate, message, detail, hint, context, column_name,
		constraint_name, datatype_name, schema_name, table_name)
	VALUES (
		session_user, v_role, v_claims ->> 'sub', v_claims ->> 'role',
		inet_client_addr(), nullif(current_setting('application_name', true), ''),
		v_headers ->> 'x-request-id',
		p_module, p_stage, p_payload, p_row_key, coalesce(p_is_error, false),
		p_sqlstate, p_message, p_detail, p_hint, p_context, p_column_name,
		p_constraint_name, p_datatype_name, p_schema_name, p_table_name)
	RETURNING id INTO v_id;
	RETURN v_id;
END
$$;

COMMENT ON FUNCTION pgext_audit.write_log(text, text, jsonb, boolean, jsonb, text, text, text, text, text, text, text, text, text, text) IS
	'Internal: inserts one log row with the request context (JWT claims, request id, roles, client)';

--
-- make_log(module, stage, payload, is_error): one log row; returns its id.
--
CREATE FUNCTION pgext_audit.make_log(module text, stage text, payload jsonb,
									 is_error boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF module IS NULL OR module = '' THEN
		RAISE EXCEPTION 'audit module must not be empty'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF stage IS NULL OR stage = '' THEN
		RAISE EXCEPTION 'audit stage must not be empty'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	RETURN pgext_audit.write_log(module, stage, payload, is_error, NULL,
								 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
END
$$;

COMMENT ON FUNCTION pgext_audit.make_log(text, text, jsonb, boolean) IS
	'Writes one audit row (module, stage, payload) with the request context; returns its id';

--
-- log_error(module, payload, diagnostics...): one ERROR row carrying every
-- field of GET STACKED DIAGNOSTICS; returns its id.
--
CREATE FUNCTION pgext_audit.log_error(module text, payload jsonb,
									  sqlstate text, message text,
									  detail text DEFAULT NULL, hint text DEFAULT NULL,
									  context text DEFAULT NULL, column_name text DEFAULT NULL,
									  constraint_name text DEFAULT NULL,
									  datatype_name text DEFAULT NULL,
									  schema_name text DEFAULT NULL,
									  table_name text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF module IS NULL OR module = '' THEN
		RAISE EXCEPTION 'audit module must not be empty'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- GET STACKED DIAGNOSTICS yields '' for fields the error did not set:
	-- store NULL, so "which fields are set" is a plain IS NOT NULL.
	RETURN pgext_audit.write_log(module, 'ERROR', payload, true, NULL,
								 nullif(sqlstate, ''), nullif(message, ''),
								 nullif(detail, ''), nullif(hint, ''),
								 nullif(context, ''), nullif(column_name, ''),
								 nullif(constraint_name, ''), nullif(datatype_name, ''),
								 nullif(schema_name, ''), nullif(table_name, ''));
END
$$;

COMMENT ON FUNCTION pgext_audit.log_error(text, jsonb, text, text, text, text, text, text, text, text, text, text) IS
	'Writes one ERROR audit row (is_error = true) with the diagnostics of a caught exception; returns its id';

--
-- row_change(): generic AFTER trigger.  INSERT logs the new row, UPDATE only
-- the changed columns as {"col": {"old": .., "new": ..}} (nothing when no
-- column changed), DELETE the old row, TRUNCATE a row without payload.
-- Trigger arguments: the primary key columns (set by enable()).
--
CREATE FUNCTION pgext_audit.row_change()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_module	text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
	v_root		oid;
	v_old		jsonb;
	v_new		jsonb;
	v_row		jsonb;
	v_payload	jsonb;
	v_key		jsonb;
BEGIN
	-- A partition's trigger is a clone of its root's: log under the root's name.
	v_root := pg_partition_root(TG_RELID);
	IF v_root IS NOT NULL AND v_root <> TG_RELID THEN
		SELECT n.nspname || '.' || cl.relname
		  INTO v_module
		  FROM pg_catalog.pg_class cl
		  JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
		 WHERE cl.oid = v_root;
	END IF;

	IF TG_LEVEL = 'STATEMENT' THEN
		PERFORM pgext_audit.write_log(v_module, TG_OP, NULL, false, NULL,
									  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
		RETURN NULL;
	END IF;

	IF TG_OP = 'INSERT' THEN
		v_row := to_jsonb(NEW);
		v_payload := v_row;
	ELSIF TG_OP = 'DELETE' THEN
		v_row := to_jsonb(OLD);
		v_payload := v_row;
	ELSE
		v_old := to_jsonb(OLD);
		v_new := to_jsonb(NEW);
		v_row := v_new;
		SELECT jsonb_object_agg(n.key, jsonb_build_object('old', v_old -> n.key, 'new', n.value))
		  INTO v_payload
		  FROM jsonb_each(v_new) AS n
		 WHERE n.value IS DISTINCT FROM v_old -> n.key;
		IF v_payload IS NULL THEN
			RETURN NULL;			-- no column changed: nothing to log
		END IF;
	END IF;

	IF TG_NARGS > 0 THEN
		SELECT jsonb_object_agg(k.col, v_row -> k.col)
		  INTO v_key
		  FROM unnest(TG_ARGV) AS k(col);
	END IF;

	PERFORM pgext_audit.write_log(v_module, TG_OP, v_payload, false, v_key,
								  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION pgext_audit.row_change() IS
	'Trigger: logs INSERT (new row), UPDATE (changed columns only), DELETE (old row) and TRUNCATE; attach with pgext_audit.enable()';

--
-- enable(rel) / disable(rel): attach or detach the row_change() triggers.
-- SECURITY INVOKER on purpose: CREATE TRIGGER and DROP TRIGGER check the
-- caller's rights, so only a role that may change the table (its owner) can
-- switch its auditing.  For the same reason they call no internal helper (the
-- caller would need EXECUTE on it): the checks are repeated in both.  Both are
-- idempotent; enable() also refreshes the primary key columns the trigger
-- records.
--
CREATE FUNCTION pgext_audit.enable(rel pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c		record;
	v_args	text;
BEGIN
	IF rel IS NULL THEN
		RAISE EXCEPTION 'relation must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT cl.relkind, n.nspname
	  INTO c
	  FROM pg_catalog.pg_class cl
	  JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
	 WHERE cl.oid = rel;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'relation with OID % does not exist', rel::oid
			USING ERRCODE = 'undefined_table';
	END IF;
	IF c.relkind NOT IN ('r', 'p') THEN
		RAISE EXCEPTION 'cannot audit relation "%"', rel
			USING ERRCODE = 'wrong_object_type',
				  DETAIL = 'Only tables and partitioned tables can be audited.';
	END IF;
	IF c.nspname IN ('pg_catalog', 'information_schema', 'pg_toast', 'pgext_audit') THEN
		RAISE EXCEPTION 'cannot audit relation "%"', rel
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'System tables and the audit log itself cannot be audited.';
	END IF;

	SELECT string_agg(quote_literal(a.attname), ', '
					  ORDER BY array_position(i.indkey::int2[], a.attnum))
	  INTO v_args
	  FROM pg_catalog.pg_index i
	  JOIN pg_catalog.pg_attribute a
		ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
	 WHERE i.indrelid = rel
	   AND i.indisprimary;

	EXECUTE format('CREATE OR REPLACE TRIGGER pgext_audit_row_change'
				   ' AFTER INSERT OR UPDATE OR DELETE ON %s'
				   ' FOR EACH ROW EXECUTE FUNCTION pgext_audit.row_change(%s)',
				   rel, coalesce(v_args, ''));
	EXECUTE format('CREATE OR REPLACE TRIGGER pgext_audit_truncate'
				   ' AFTER TRUNCATE ON %s'
				   ' FOR EACH STATEMENT EXECUTE FUNCTION pgext_audit.row_change()',
				   rel);
END
$$;

COMMENT ON FUNCTION pgext_audit.enable(pg_catalog.regclass) IS
	'Audits INSERT, UPDATE, DELETE and TRUNCATE of a table into pgext_audit.log (idempotent)';

CREATE FUNCTION pgext_audit.disable(rel pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c		record;
BEGIN
	IF rel IS NULL THEN
		RAISE EXCEPTION 'relation must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT cl.relkind, n.nspname
	  INTO c
	  FROM pg_catalog.pg_class cl
	  JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
	 WHERE cl.oid = rel;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'relation with OID % does not exist', rel::oid
			USING ERRCODE = 'undefined_table';
	END IF;
	IF c.relkind NOT IN ('r', 'p') THEN
		RAISE EXCEPTION 'cannot audit relation "%"', rel
			USING ERRCODE = 'wrong_object_type',
				  DETAIL = 'Only tables and partitioned tables can be audited.';
	END IF;
	IF c.nspname IN ('pg_catalog', 'information_schema', 'pg_toast', 'pgext_audit') THEN
		RAISE EXCEPTION 'cannot audit relation "%"', rel
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'System tables and the audit log itself cannot be audited.';
	END IF;

	IF EXISTS (SELECT FROM pg_catalog.pg_trigger t
				WHERE t.tgrelid = rel AND t.tgname = 'pgext_audit_row_change') THEN
		EXECUTE format('DROP TRIGGER pgext_audit_row_change ON %s', rel);
	END IF;
	IF EXISTS (SELECT FROM pg_catalog.pg_trigger t
				WHERE t.tgrelid = rel AND t.tgname = 'pgext_audit_truncate') THEN
		EXECUTE format('DROP TRIGGER pgext_audit_truncate ON %s', rel);
	END IF;
END
$$;

COMMENT ON FUNCTION pgext_audit.disable(pg_catalog.regclass) IS
	'Stops auditing a table (idempotent)';

--
-- purge(older_than): delete log rows older than the interval; returns the count.
--
CREATE FUNCTION pgext_audit.purge(older_than interval)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_count bigint;
BEGIN
	IF older_than IS NULL THEN
		RAISE EXCEPTION 'older_than must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF older_than < interval '0' THEN
		RAISE EXCEPTION 'older_than must not be negative'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'purge(''90 days'') deletes the rows logged more than 90 days ago.';
	END IF;
	DELETE FROM pgext_audit.log WHERE logged_at < clock_timestamp() - older_than;
	GET DIAGNOSTICS v_count = ROW_COUNT;
	RETURN v_count;
END
$$;

COMMENT ON FUNCTION pgext_audit.purge(interval) IS
	'Deletes the audit rows older than the interval; returns how many';

-- Functions are executable by PUBLIC by default: none of these is.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pgext_audit FROM PUBLIC;

--
-- Live watching: when pg_events is installed, stream the log's inserts to
-- realtime clients.  pg_events is optional; if it is created later, run
-- SELECT pg_events.track('pgext_audit.log') yourself.
--
DO $$
BEGIN
	IF pg_catalog.to_regproc('pg_events.track') IS NOT NULL THEN
		EXECUTE 'SELECT pg_events.track(''pgext_audit.log''::pg_catalog.regclass)';
	END IF;
END
$$;
