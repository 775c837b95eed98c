-- search_path hijacking does not change what a SECURITY DEFINER function does. The test
-- plays an attacker stronger than app_user (who may create neither schemas nor temporary
-- objects): objects in a schema ahead of pg_catalog and in pg_temp, shadowing an
-- operator, a function and tables the business functions use.
BEGIN;
\ir _setup.psql
SELECT plan(15);

-- alice has an order; bob is the attacker
SELECT pg_temp.jwt('alice');
SET ROLE app_user;
SELECT (business_functions.create_order('ring', 1)::jsonb #>> '{data,id}')::bigint AS alice_order \gset
RESET ROLE;

-- the attacker's objects: "=" on bigint that is always true, and a current_setting()
-- that claims to be alice
CREATE SCHEMA evil;
CREATE FUNCTION evil.always_true(bigint, bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.always_true);
CREATE FUNCTION evil.current_setting(text, boolean) RETURNS text LANGUAGE sql
    AS $$ SELECT '{"sub": "alice", "role": "app_user"}' $$;
CREATE FUNCTION evil.jsonb_build_object(text, text, text, integer, text, text) RETURNS jsonb
    LANGUAGE sql AS $$ SELECT '{"hijacked": true}'::jsonb $$;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA evil TO PUBLIC;

SELECT pg_temp.jwt('bob');
SET ROLE app_user;
SET search_path = evil, pg_catalog, tap;

-- the hijack is live for anything that resolves names through the caller's search_path
SELECT ok(1::bigint = 2::bigint, 'sanity: with this search_path 1 = 2 (evil.=)');
SELECT is(current_setting('request.jwt.claims', true), '{"sub": "alice", "role": "app_user"}',
          'sanity: with this search_path current_setting() claims to be alice');
SELECT is(jsonb_build_object('item', 'x'::text, 'quantity', 1, 'client_ref', NULL::text), '{"hijacked": true}',
          'sanity: with this search_path jsonb_build_object() is shadowed');

-- ... but not for the business functions
SELECT is(business_functions.cancel_order(:alice_order)::jsonb ->> 'errorCode', 'P0002',
          'bob cannot cancel alice''s order through a shadowing = operator');
SELECT is(business_functions.list_my_orders()::jsonb -> 'data', '[]'::jsonb,
          'bob does not see alice''s orders through a shadowing = operator');
SELECT is(business_functions.create_order('stone', 1)::jsonb #>> '{data,item}', 'stone',
          'bob''s order is created (jsonb_build_object not shadowed)');
RESET ROLE;
RESET search_path;
SELECT set_config('search_path', 'tap, pg_catalog', true) AS sp \gset
SELECT is((SELECT o.status FROM store.orders AS o WHERE o.id = :alice_order), 'open',
          'alice''s order is still open');
SELECT is((SELECT c.sub FROM store.orders AS o JOIN store.customers AS c ON c.id = o.customer_id
            WHERE o.item = 'stone'), 'bob',
          'bob''s order belongs to bob, not to the alice of the shadowing current_setting()');
SELECT is((SELECT count(*) FROM pgext_audit.log AS l
            WHERE l.payload ? 'hijacked'), 0::bigint,
          'no audit row was built by the shadowing jsonb_build_object()');

-- temporary objects: tables named like the store tables, an operator in pg_temp
CREATE TEMP TABLE orders (LIKE store.orders);
CREATE TEMP TABLE customers (LIKE store.customers);
INSERT INTO pg_temp.customers (id, sub, created_at) VALUES (1, 'bob', now());
CREATE FUNCTION pg_temp.always_true(bigint, bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR pg_temp.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = pg_temp.always_true);
GRANT ALL ON pg_temp.orders, pg_temp.customers TO PUBLIC;
SET ROLE app_user;
SET search_path = pg_temp, evil, pg_catalog, tap;
SELECT is(business_functions.create_order('sand', 1)::jsonb #>> '{data,item}', 'sand',
          'create_order works with store-like temporary tables first in search_path');
SELECT is(business_functions.cancel_order(:alice_order)::jsonb ->> 'errorCode', 'P0002',
          'bob cannot cancel alice''s order through pg_temp objects either');
RESET ROLE;
RESET search_path;
SELECT set_config('search_path', 'tap, pg_catalog', true) AS sp \gset
SELECT is((SELECT count(*) FROM pg_temp.orders), 0::bigint, 'nothing went into the temporary orders table');
SELECT is((SELECT count(*) FROM store.orders AS o WHERE o.item = 'sand'), 1::bigint, 'the order went into store.orders');
SELECT is((SELECT o.status FROM store.orders AS o WHERE o.id = :alice_order), 'open',
          'alice''s order is still open');

-- the audit extension's own functions are just as immune (make_log under a hijacked path)
SELECT pg_temp.audit_mark() AS mark \gset
SELECT pg_temp.jwt('bob');
SET ROLE app_user;
SET search_path = evil, pg_catalog, tap;
SELECT business_functions.list_my_orders() IS NOT NULL AS called \gset
RESET ROLE;
RESET search_path;
SELECT set_config('search_path', 'tap, pg_catalog', true) AS sp \gset
SELECT is((SELECT array_agg(DISTINCT l.jwt_sub) FROM pgext_audit.log AS l WHERE l.id > :mark), ARRAY['bob'],
          'audit rows name bob, not the alice of the shadowing current_setting()');

SELECT * FROM finish();
ROLLBACK;
