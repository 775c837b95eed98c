--
-- logging: make_log() and log_error() and the request context they record.
--
CREATE ROLE regress_audit_caller NOLOGIN;
GRANT USAGE ON SCHEMA pgext_audit TO regress_audit_caller;
GRANT EXECUTE ON FUNCTION pgext_audit.make_log(text, text, jsonb, boolean),
	pgext_audit.log_error(text, jsonb, text, text, text, text, text, text, text, text, text, text)
	TO regress_audit_caller;

-- no request context
BEGIN;
SELECT pgext_audit.make_log('tests.plain', 'STARTED', '{"a": 1}') > 0 AS logged;
SELECT session_user_name = session_user AS session_ok, current_role_name = session_user AS role_ok,
       jwt_sub, jwt_role, request_id, module, stage, payload, is_error, sqlstate,
       txid = txid_current() AS same_txid, logged_at <= clock_timestamp() AS logged_at_ok
  FROM pgext_audit.log ORDER BY id DESC LIMIT 1;
COMMIT;

-- PostgREST's context: JWT claims, request headers, application name
SELECT set_config('request.jwt.claims', '{"sub": "alice", "role": "app_user", "exp": 9999999999}', false),
       set_config('request.headers', '{"x-request-id": "req-42", "user-agent": "curl"}', false),
       set_config('application_name', 'PostgREST 12', false);
SELECT pgext_audit.make_log('tests.context', 'FINISHED', '{"ok": true}', false) > 0 AS logged;
SELECT jwt_sub, jwt_role, request_id, application_name, module, stage, payload
  FROM pgext_audit.log ORDER BY id DESC LIMIT 1;

-- the caller's role, as SET ROLE (PostgREST) chose it, not the function's owner
SET ROLE regress_audit_caller;
SELECT pgext_audit.make_log('tests.role', 'STARTED', NULL) > 0 AS logged;
RESET ROLE;
SELECT current_role_name, session_user_name = session_user AS session_ok
  FROM pgext_audit.log ORDER BY id DESC LIMIT 1;

-- malformed or unexpected JSON in the settings never makes logging fail
SELECT set_config('request.jwt.claims', 'not json {', false),
       set_config('request.headers', '{"x-request-id": ', false);
SELECT pgext_audit.make_log('tests.malformed', 'STARTED', NULL) > 0 AS logged;
SELECT set_config('request.jwt.claims', '["sub", "alice"]', false),
       set_config('request.headers', '"x-request-id"', false);
SELECT pgext_audit.make_log('tests.malformed', 'FINISHED', NULL) > 0 AS logged;
SELECT set_config('request.jwt.claims', '', false),
       set_config('request.headers', '{}', false);
SELECT pgext_audit.make_log('tests.malformed', 'EMPTY', NULL) > 0 AS logged;
SELECT set_config('request.jwt.claims', '{"sub": 42, "role": null}', false);
SELECT pgext_audit.make_log('tests.malformed', 'NUMBER', NULL) > 0 AS logged;
SELECT stage, jwt_sub, jwt_role, request_id
  FROM pgext_audit.log WHERE module = 'tests.malformed' ORDER BY id;
SELECT set_config('request.jwt.claims', '', false), set_config('request.headers', '', false);

-- bad input
SELECT pgext_audit.make_log(NULL, 'STARTED', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.make_log('tests.bad', '', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.log_error('', NULL, '22000', 'x');
\echo :LAST_ERROR_SQLSTATE

-- log_error(): one ERROR row with every diagnostic; '' is stored as NULL
SELECT pgext_audit.log_error('tests.error', '{"arg": 1}', '23505', 'duplicate key value',
	'Key (id)=(1) already exists.', 'Try another id.', 'PL/pgSQL function f() line 3',
	'', 'things_pkey', '', 'public', 'things') > 0 AS logged;
SELECT module, stage, payload, is_error, sqlstate, message, detail, hint, context,
       column_name, constraint_name, datatype_name, schema_name, table_name
  FROM pgext_audit.log ORDER BY id DESC LIMIT 1;

-- the business function shape: the error row written in the handler survives
-- the rollback of the block's subtransaction, the STARTED row does not
CREATE TABLE public.things (id int PRIMARY KEY, qty int CHECK (qty > 0));
DO $$
DECLARE
	v_state text; v_msg text; v_detail text; v_hint text; v_context text;
	v_column text; v_constraint text; v_type text; v_schema text; v_table text;
BEGIN
	PERFORM pgext_audit.make_log('tests.shape', 'STARTED', '{"qty": 0}');
	INSERT INTO public.things VALUES (1, 0);
	PERFORM pgext_audit.make_log('tests.shape', 'FINISHED', '{}');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS
		v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL,
		v_hint = PG_EXCEPTION_HINT, v_context = PG_EXCEPTION_CONTEXT, v_column = COLUMN_NAME,
		v_constraint = CONSTRAINT_NAME, v_type = PG_DATATYPE_NAME, v_schema = SCHEMA_NAME,
		v_table = TABLE_NAME;
	PERFORM pgext_audit.log_error('tests.shape', '{"qty": 0}', v_state, v_msg, v_detail, v_hint,
								  v_context, v_column, v_constraint, v_type, v_schema, v_table);
END
$$;
SELECT stage, is_error, sqlstate, message, detail, hint, context IS NOT NULL AS has_context,
       column_name, constraint_name, datatype_name, schema_name, table_name
  FROM pgext_audit.log WHERE module = 'tests.shape' ORDER BY id;
DROP TABLE public.things;

-- ids come from an identity: never settable by hand
INSERT INTO pgext_audit.log (id, module, stage) VALUES (1, 'x', 'y');
