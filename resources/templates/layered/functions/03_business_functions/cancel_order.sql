-- Repeatable: re-applied by `pgext migrate` whenever this file changes.
-- Same shape as create_order.sql (see there and docs/BUSINESS_FUNCTIONS.md).

-- POST /rpc/cancel_order {"order_id": 1}
CREATE OR REPLACE FUNCTION business_functions.cancel_order(order_id bigint)
RETURNS json
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_module     CONSTANT text := 'business_functions.cancel_order';
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
    v_args := jsonb_build_object('order_id', order_id);
    PERFORM pgext_audit.make_log(c_module, 'STARTED', v_args);

    v_customer := service_functions.customers_find_by_sub(sys_functions.current_sub());
    -- Only the caller's own orders: someone else's order is "not found" too.
    SELECT o.* INTO v_order
      FROM store.orders AS o
     WHERE o.id = cancel_order.order_id
       AND o.customer_id = v_customer.id
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'order % not found', cancel_order.order_id
            USING ERRCODE = 'no_data_found',
                  HINT = 'list_my_orders returns the orders you can cancel.';
    END IF;
    IF v_order.status = 'cancelled' THEN
        RAISE EXCEPTION 'order % is already cancelled', v_order.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    v_order := service_functions.orders_update_status(v_order.id, 'cancelled');

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

ALTER FUNCTION business_functions.cancel_order(bigint) OWNER TO app_owner;
COMMENT ON FUNCTION business_functions.cancel_order(bigint) IS 'Cancels one of the caller''s open orders.';
REVOKE ALL ON FUNCTION business_functions.cancel_order(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION business_functions.cancel_order(bigint) TO app_user;
