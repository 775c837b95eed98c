-- Baseline schema of {{project_name}} (layered template). `pgext migrate` applies it once;
-- after that it is immutable: put later changes in migrations/ (`pgext new migration
-- <name>`, `pgext new table <schema.table>`). Functions live in functions/ and are
-- re-applied whenever they change. Design and rules: docs/BUSINESS_FUNCTIONS.md.
--
-- Layers                  who may use them
--   store                 tables; nobody but app_owner
--   sys_functions         helpers (JWT claims, ...); app_owner only
--   service_functions     DML helpers on store tables; app_owner only
--   business_functions    the API (POST /rpc/<fn>); app_user may EXECUTE
--   pgext_audit           audit log; written through SECURITY DEFINER functions only

-- Roles belong to the cluster, not the database: create them only when missing, so a
-- db:reset (or a second database on the same server) does not trip over them.
DO $$
BEGIN
    -- Owns every schema, table and function below. NOLOGIN: nobody works as it; the
    -- business functions run with its rights (SECURITY DEFINER).
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'app_owner') THEN
        CREATE ROLE app_owner NOLOGIN;
    END IF;
    -- PostgREST's request roles: without a token, and with a JWT whose "role" is app_user.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'web_anon') THEN
        CREATE ROLE web_anon NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'app_user') THEN
        CREATE ROLE app_user NOLOGIN;
    END IF;
    -- PostgREST logs in as authenticator and switches to one of the two roles above.
    -- NOINHERIT: by itself it can do nothing.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'authenticator') THEN
        CREATE ROLE authenticator LOGIN NOINHERIT;
    END IF;
END
$$;
GRANT web_anon, app_user TO authenticator;

-- Hardening of the database itself: PUBLIC may neither use the public schema nor create
-- temporary objects (a temporary table or function is the classic way to hijack the
-- search_path of a SECURITY DEFINER function). Only authenticator may connect (the
-- superuser always can).
REVOKE ALL ON SCHEMA public FROM PUBLIC;
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO authenticator', current_database());
END
$$;

-- Functions are executable by PUBLIC by default: take that away for every function
-- created later, by the role applying these files and by app_owner. (This must be the
-- global default: ALTER DEFAULT PRIVILEGES ... IN SCHEMA can only add privileges.)
-- Every function file still revokes and grants explicitly.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE app_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The audit log: pgext_audit.log, make_log(), log_error(), the row-change trigger.
-- Create pg_events first when it is available, so that the log is streamed live.
CREATE EXTENSION IF NOT EXISTS pgext_audit;
GRANT USAGE ON SCHEMA pgext_audit TO app_owner;
GRANT EXECUTE ON FUNCTION pgext_audit.make_log(text, text, jsonb, boolean) TO app_owner;
GRANT EXECUTE ON FUNCTION pgext_audit.log_error(text, jsonb, text, text, text, text, text, text, text, text, text, text) TO app_owner;

-- The schemas. PUBLIC gets nothing on any of them; app_user only USAGE on the API.
CREATE SCHEMA store AUTHORIZATION app_owner;
CREATE SCHEMA sys_functions AUTHORIZATION app_owner;
CREATE SCHEMA service_functions AUTHORIZATION app_owner;
CREATE SCHEMA business_functions AUTHORIZATION app_owner;
REVOKE ALL ON SCHEMA store, sys_functions, service_functions, business_functions FROM PUBLIC;
GRANT USAGE ON SCHEMA business_functions TO app_user;

COMMENT ON SCHEMA store IS 'Tables. No API role has any right here: reach them through business_functions.';
COMMENT ON SCHEMA sys_functions IS 'Helpers used by business functions (JWT claims, ...). Not callable by API roles.';
COMMENT ON SCHEMA service_functions IS 'DML helpers on store tables, one per insert/update/delete. Not callable by API roles.';
COMMENT ON SCHEMA business_functions IS 'The API: the only schema PostgREST exposes (POST /rpc/<function>).';

-- Example domain: customers (one per JWT "sub") and their orders.
CREATE DOMAIN store.quantity AS integer
    CONSTRAINT quantity_range CHECK (VALUE BETWEEN 1 AND 1000);
COMMENT ON DOMAIN store.quantity IS 'How many of an item: 1 to 1000.';

CREATE TABLE store.customers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sub          text NOT NULL UNIQUE CHECK (length(sub) BETWEEN 1 AND 200),
    created_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE store.customers IS 'One row per authenticated user, created on their first order.';
COMMENT ON COLUMN store.customers.sub IS 'The JWT "sub" claim that identifies the user.';

CREATE TABLE store.orders (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES store.customers (id),
    item         text NOT NULL CONSTRAINT orders_item_check CHECK (length(item) BETWEEN 1 AND 200),
    quantity     store.quantity NOT NULL,
    client_ref   text CONSTRAINT orders_client_ref_check CHECK (length(client_ref) BETWEEN 1 AND 100),
    status       text NOT NULL DEFAULT 'open' CONSTRAINT orders_status_check CHECK (status IN ('open', 'cancelled')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz,
    CONSTRAINT orders_client_ref_key UNIQUE (customer_id, client_ref)
);
CREATE INDEX orders_customer_id_idx ON store.orders (customer_id, id);
COMMENT ON TABLE store.orders IS 'Orders of customers; created and cancelled through business_functions.';
COMMENT ON COLUMN store.orders.client_ref IS 'Optional reference chosen by the client; unique per customer, so a retried create_order cannot order twice.';
COMMENT ON COLUMN store.orders.status IS 'open or cancelled.';

ALTER DOMAIN store.quantity OWNER TO app_owner;
ALTER TABLE store.customers OWNER TO app_owner;
ALTER TABLE store.orders OWNER TO app_owner;
REVOKE ALL ON ALL TABLES IN SCHEMA store FROM PUBLIC;

-- Every change of a store table leaves an audit row (old -> new for updates).
SELECT pgext_audit.enable('store.customers');
SELECT pgext_audit.enable('store.orders');
