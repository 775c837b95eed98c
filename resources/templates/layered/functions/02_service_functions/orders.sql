-- Repeatable: re-applied by `pgext migrate` whenever this file changes.
--
-- service_functions for store.orders: insert, status update, delete. SECURITY INVOKER,
-- owned by app_owner, not executable by any API role.

CREATE OR REPLACE FUNCTION service_functions.orders_insert(p_customer_id bigint, p_item text,
                                                           p_quantity integer, p_client_ref text)
RETURNS store.orders
LANGUAGE sql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO store.orders (customer_id, item, quantity, client_ref)
    VALUES (p_customer_id, p_item, p_quantity, p_client_ref)
    RETURNING *;
$$;

-- Sets the status of one order; returns the updated row, or NULL when there is no such order.
CREATE OR REPLACE FUNCTION service_functions.orders_update_status(p_id bigint, p_status text)
RETURNS store.orders
LANGUAGE sql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE store.orders AS o
       SET status = p_status,
           cancelled_at = CASE WHEN p_status = 'cancelled' THEN pg_catalog.now() END
     WHERE o.id = p_id
    RETURNING o.*;
$$;

-- Deletes one order; returns whether it existed.
CREATE OR REPLACE FUNCTION service_functions.orders_delete(p_id bigint)
RETURNS boolean
LANGUAGE sql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH deleted AS (DELETE FROM store.orders AS o WHERE o.id = p_id RETURNING 1)
    SELECT EXISTS (SELECT FROM deleted);
$$;

ALTER FUNCTION service_functions.orders_insert(bigint, text, integer, text) OWNER TO app_owner;
ALTER FUNCTION service_functions.orders_update_status(bigint, text) OWNER TO app_owner;
ALTER FUNCTION service_functions.orders_delete(bigint) OWNER TO app_owner;
COMMENT ON FUNCTION service_functions.orders_insert(bigint, text, integer, text) IS 'Inserts one order; returns it.';
COMMENT ON FUNCTION service_functions.orders_update_status(bigint, text) IS 'Sets an order''s status (and cancelled_at); returns it, or NULL.';
COMMENT ON FUNCTION service_functions.orders_delete(bigint) IS 'Deletes one order; returns whether it existed.';
REVOKE ALL ON FUNCTION service_functions.orders_insert(bigint, text, integer, text),
                       service_functions.orders_update_status(bigint, text),
                       service_functions.orders_delete(bigint) FROM PUBLIC;
