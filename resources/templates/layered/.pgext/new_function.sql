-- Business function {{name}}, written by `pgext new function {{name}}` (layered template).
-- Repeatable: re-applied by `pgext migrate` whenever this file changes.
--
-- The shape every business function keeps (docs/BUSINESS_FUNCTIONS.md explains each line):
-- RETURNS json and never raises; SECURITY DEFINER owned by app_owner with a fixed
-- search_path; STARTED / FINISHED audit rows, and one ERROR row with every diagnostic.
-- Add parameters, put them in v_args, do the work through sys_functions and
-- service_functions, and fix the signature in the ALTER / COMMENT / REVOKE / GRANT below.

-- POST /rpc/{{name}} {}
CREATE OR REPLACE FUNCTION business_functions.{{name}}()
RETURNS json
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_module     CONSTANT text := 'business_functions.{{name}}';
    v_args       jsonb;
    v_result     json;
    e_sqlstate   text;
    e_message    text;
    e_detail     text;
    e_hint       text;
    e_context    text;
    e_column     text;
    e_constraint text;
    e_datatype   text;
    e_schema     text;
    e_table      text;
BEGIN
    v_args := jsonb_build_object();     -- the arguments, e.g. jsonb_build_object('id', id)
    PERFORM pgext_audit.make_log(c_module, 'STARTED', v_args);

    -- TODO: the work. Read the caller with sys_functions.current_sub(); change tables
    -- only through service_functions; RAISE EXCEPTION ... USING ERRCODE = '...', HINT = '...'
    -- for business errors.
    v_result := json_build_object('isError', false,
                                  'data', json_build_object('sub', sys_functions.current_sub()));

    PERFORM pgext_audit.make_log(c_module, 'FINISHED', v_result::jsonb);
    RETURN v_result;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS
        e_sqlstate   = RETURNED_SQLSTATE,
        e_message    = MESSAGE_TEXT,
        e_detail     = PG_EXCEPTION_DETAIL,
        e_hint       = PG_EXCEPTION_HINT,
        e_context    = PG_EXCEPTION_CONTEXT,
        e_column     = COLUMN_NAME,
        e_constraint = CONSTRAINT_NAME,
        e_datatype   = PG_DATATYPE_NAME,
        e_schema     = SCHEMA_NAME,
        e_table      = TABLE_NAME;
    PERFORM pgext_audit.log_error(c_module, v_args, e_sqlstate, e_message, e_detail, e_hint,
                                  e_context, e_column, e_constraint, e_datatype, e_schema, e_table);
    RAISE WARNING '%: % (SQLSTATE %)', c_module, e_message, e_sqlstate;
    RETURN json_build_object('isError', true, 'errorCode', e_sqlstate, 'errorMsg', e_message);
END;
$$;

ALTER FUNCTION business_functions.{{name}}() OWNER TO app_owner;
COMMENT ON FUNCTION business_functions.{{name}}() IS 'TODO: what {{name}} does, and its arguments.';
REVOKE ALL ON FUNCTION business_functions.{{name}}() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION business_functions.{{name}}() TO app_user;
