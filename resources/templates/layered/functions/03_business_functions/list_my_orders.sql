-- Repeatable: re-applied by `pgext migrate` whenever this file changes.
-- Same shape as create_order.sql (see there and docs/BUSINESS_FUNCTIONS.md).

-- POST /rpc/list_my_orders {}
CREATE OR REPLACE FUNCTION business_functions.list_my_orders()
RETURNS json
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_module     CONSTANT text := 'business_functions.list_my_orders';
    v_args       jsonb;
    v_result     json;
    v_customer   store.customers;
    v_orders     json;
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
    v_args := '{}'::jsonb;
    PERFORM pgext_audit.make_log(c_module, 'STARTED', v_args);

    v_customer := service_functions.customers_find_by_sub(sys_functions.current_sub());
    SELECT coalesce(json_agg(to_json(o) ORDER BY o.id), '[]'::json)
      INTO v_orders
      FROM store.orders AS o
     WHERE o.customer_id = v_customer.id;

    v_result := json_build_object('isError', false, 'data', v_orders);
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

ALTER FUNCTION business_functions.list_my_orders() OWNER TO app_owner;
COMMENT ON FUNCTION business_functions.list_my_orders() IS 'The caller''s orders, oldest first.';
REVOKE ALL ON FUNCTION business_functions.list_my_orders() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION business_functions.list_my_orders() TO app_user;
