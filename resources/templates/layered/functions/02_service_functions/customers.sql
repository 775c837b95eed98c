-- Repeatable: re-applied by `pgext migrate` whenever this file changes.
--
-- service_functions: one small DML helper per insert/update/delete on a store table.
-- SECURITY INVOKER: they run with the rights of the business function that calls them
-- (app_owner); no API role may execute them.

-- The customer whose JWT "sub" this is, created on first use.
CREATE OR REPLACE FUNCTION service_functions.customers_get_or_insert(p_sub text)
RETURNS store.customers
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_customer store.customers;
BEGIN
    SELECT c.* INTO v_customer FROM store.customers AS c WHERE c.sub = p_sub;
    IF NOT FOUND THEN
        INSERT INTO store.customers (sub) VALUES (p_sub)
        ON CONFLICT (sub) DO NOTHING
        RETURNING * INTO v_customer;
        IF v_customer.id IS NULL THEN   -- inserted concurrently by another request
            SELECT c.* INTO v_customer FROM store.customers AS c WHERE c.sub = p_sub;
        END IF;
    END IF;
    RETURN v_customer;
END;
$$;

-- The customer of a JWT "sub", or NULL.
CREATE OR REPLACE FUNCTION service_functions.customers_find_by_sub(p_sub text)
RETURNS store.customers
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.* FROM store.customers AS c WHERE c.sub = p_sub;
$$;

ALTER FUNCTION service_functions.customers_get_or_insert(text) OWNER TO app_owner;
ALTER FUNCTION service_functions.customers_find_by_sub(text) OWNER TO app_owner;
COMMENT ON FUNCTION service_functions.customers_get_or_insert(text) IS 'The customer of a JWT sub, inserted when missing.';
COMMENT ON FUNCTION service_functions.customers_find_by_sub(text) IS 'The customer of a JWT sub, or NULL.';
REVOKE ALL ON FUNCTION service_functions.customers_get_or_insert(text),
                       service_functions.customers_find_by_sub(text) FROM PUBLIC;
