--
-- security: closed to PUBLIC, and SECURITY DEFINER functions are immune to
-- search_path hijacking.
--
CREATE ROLE regress_audit_nobody NOLOGIN;
SET ROLE regress_audit_nobody;
SELECT pgext_audit.make_log('tests.nobody', 'STARTED', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM pgext_audit.log;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

GRANT USAGE ON SCHEMA pgext_audit TO regress_audit_nobody;
SET ROLE regress_audit_nobody;
SELECT pgext_audit.make_log('tests.nobody', 'STARTED', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.log_error('tests.nobody', NULL, '22000', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.purge('0');
\echo :LAST_ERROR_SQLSTATE
SELECT pgext_audit.write_log('m', 's', NULL, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM pgext_audit.log;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO pgext_audit.log (module, stage) VALUES ('forged', 'FINISHED');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- a caller who may log tries to change what the definer runs: a function
-- shadowing current_setting() in a schema ahead of pg_catalog, and a
-- temporary table named like the log
GRANT EXECUTE ON FUNCTION pgext_audit.make_log(text, text, jsonb, boolean) TO regress_audit_nobody;
CREATE SCHEMA evil AUTHORIZATION regress_audit_nobody;
SET ROLE regress_audit_nobody;
CREATE FUNCTION evil.current_setting(text, boolean) RETURNS text
	LANGUAGE sql AS $$ SELECT '{"sub": "mallory", "role": "admin"}' $$;
CREATE FUNCTION evil.jsonb_typeof(jsonb) RETURNS text
	LANGUAGE sql AS $$ SELECT 'object' $$;
CREATE TEMP TABLE log (id bigint, module text, stage text, payload jsonb);
SET search_path = evil, pg_temp, pg_catalog, pgext_audit;
SELECT current_setting('request.jwt.claims', true) AS shadowed_in_caller;
SELECT set_config('request.jwt.claims', '{"sub": "nobody"}', false) IS NOT NULL AS set;
SELECT make_log('tests.hijack', 'STARTED', NULL) > 0 AS logged;
SELECT count(*) AS rows_in_temp_log FROM pg_temp.log;
RESET search_path;
RESET ROLE;
SELECT module, jwt_sub, jwt_role, current_role_name
  FROM pgext_audit.log WHERE module = 'tests.hijack';

SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS reset;
DROP SCHEMA evil CASCADE;
DROP OWNED BY regress_audit_nobody;
DROP ROLE regress_audit_nobody;
