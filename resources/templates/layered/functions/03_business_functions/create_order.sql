-- Repeatable: re-applied by `pgext migrate` whenever this file changes.
--
-- business_functions: the API. Every business function has the same shape (explained
-- line by line in docs/BUSINESS_FUNCTIONS.md; `pgext new function <name>` writes it):
--   * RETURNS json, never raises: errors come back as
--     {"isError": true, "errorCode": "<SQLSTATE>", "errorMsg": "<message>"};
--   * SECURITY DEFINER owned by app_owner, with a fixed search_path;
--   * logs STARTED (arguments) and FINISHED (result) with pgext_audit.make_log(), and on
--     error ONE row with every diagnostic with pgext_audit.log_error(). The EXCEPTION
--     block undoes the function's work and its STARTED row; the error row, written in
--     the handler, stays.

-- POST /rpc/create_order {"item": "book", "quantity": 2, "client_ref": "cart-17"}
CREATE OR REPLACE FUNCTION business_functions.create_order(item text, quantity integer,
                                                           client_ref text DEFAULT NULL)
RETURNS json
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_module     CONSTANT text := 'business_functions.create_order';
    v_args       jsonb;
    v_result     json;
    v_customer   store.customers;
    v_order      store.orders;
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
    v_args := jsonb_build_object('item', item, 'quantity', quantity, 'client_ref', client_ref);
    PERFORM pgext_audit.make_log(c_module, 'STARTED', v_args);

    v_customer := service_functions.customers_get_or_insert(sys_functions.current_sub());
    v_order := service_functions.orders_insert(v_customer.id, item, quantity, client_ref);

    v_result := json_build_object('isError', false, 'data', to_json(v_order));
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

ALTER FUNCTION business_functions.create_order(text, integer, text) OWNER TO app_owner;
COMMENT ON FUNCTION business_functions.create_order(text, integer, text) IS
    'Orders quantity x item for the caller (JWT sub). client_ref, when given, makes a retry safe: the same ref cannot order twice.';
REVOKE ALL ON FUNCTION business_functions.create_order(text, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION business_functions.create_order(text, integer, text) TO app_user;
