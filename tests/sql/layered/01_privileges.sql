-- The API roles can call business functions and nothing else: no table, no service,
-- sys or audit function, no temporary objects. Run as the superuser against a database
-- built from the layered template; see README.md.
BEGIN;
\ir _setup.psql
SELECT plan(37);

SELECT pg_temp.jwt('alice');
SET ROLE app_user;

-- store tables: no read, no write
SELECT throws_ok('SELECT * FROM store.orders', '42501', NULL, 'app_user cannot read store.orders');
SELECT throws_ok('SELECT * FROM store.customers', '42501', NULL, 'app_user cannot read store.customers');
SELECT throws_ok($$INSERT INTO store.customers (sub) VALUES ('x')$$, '42501', NULL, 'app_user cannot insert into store.customers');
SELECT throws_ok($$UPDATE store.orders SET status = 'cancelled'$$, '42501', NULL, 'app_user cannot update store.orders');
SELECT throws_ok('DELETE FROM store.orders', '42501', NULL, 'app_user cannot delete from store.orders');
SELECT throws_ok('TRUNCATE store.orders', '42501', NULL, 'app_user cannot truncate store.orders');

-- service, sys and audit functions
SELECT throws_ok($$SELECT service_functions.customers_get_or_insert('x')$$, '42501', NULL, 'app_user cannot execute service_functions.customers_get_or_insert');
SELECT throws_ok($$SELECT service_functions.customers_find_by_sub('x')$$, '42501', NULL, 'app_user cannot execute service_functions.customers_find_by_sub');
SELECT throws_ok($$SELECT service_functions.orders_insert(1, 'x', 1, NULL)$$, '42501', NULL, 'app_user cannot execute service_functions.orders_insert');
SELECT throws_ok($$SELECT service_functions.orders_update_status(1, 'cancelled')$$, '42501', NULL, 'app_user cannot execute service_functions.orders_update_status');
SELECT throws_ok('SELECT service_functions.orders_delete(1)', '42501', NULL, 'app_user cannot execute service_functions.orders_delete');
SELECT throws_ok('SELECT sys_functions.current_sub()', '42501', NULL, 'app_user cannot execute sys_functions.current_sub');
SELECT throws_ok('SELECT sys_functions.jwt_claims()', '42501', NULL, 'app_user cannot execute sys_functions.jwt_claims');
SELECT throws_ok($$SELECT pgext_audit.make_log('x', 'FINISHED', NULL)$$, '42501', NULL, 'app_user cannot forge audit rows with make_log');
SELECT throws_ok($$SELECT pgext_audit.log_error('x', NULL, '0', 'x')$$, '42501', NULL, 'app_user cannot forge audit rows with log_error');
SELECT throws_ok($$SELECT pgext_audit.purge('0')$$, '42501', NULL, 'app_user cannot purge the audit log');
SELECT throws_ok($$SELECT pgext_audit.disable('store.orders')$$, '42501', NULL, 'app_user cannot switch auditing off');
SELECT throws_ok('SELECT * FROM pgext_audit.log', '42501', NULL, 'app_user cannot read the audit log');
SELECT throws_ok($$INSERT INTO pgext_audit.log (module, stage) VALUES ('x', 'y')$$, '42501', NULL, 'app_user cannot write the audit log');

-- no objects of its own: no temporary objects (search_path hijacking), no API functions
SELECT throws_ok('CREATE TEMP TABLE t (a int)', '42501', NULL, 'app_user cannot create temporary tables');
SELECT throws_ok('CREATE FUNCTION business_functions.x() RETURNS int LANGUAGE sql AS $f$ SELECT 1 $f$', '42501', NULL, 'app_user cannot create functions in business_functions');
SELECT throws_ok('CREATE TABLE public.t (a int)', '42501', NULL, 'app_user cannot create tables in public');

-- the API itself
SELECT lives_ok($$SELECT business_functions.create_order('book', 1)$$, 'app_user can execute business_functions.create_order');
SELECT lives_ok('SELECT business_functions.list_my_orders()', 'app_user can execute business_functions.list_my_orders');
SELECT lives_ok('SELECT business_functions.cancel_order(0)', 'app_user can execute business_functions.cancel_order');
SELECT is(business_functions.list_my_orders()::jsonb #>> '{data,0,item}', 'book', 'and it works: the order is listed');
RESET ROLE;

-- without a token: PostgREST's anonymous role may not call the API
SET ROLE web_anon;
SELECT throws_ok($$SELECT business_functions.create_order('book', 1)$$, '42501', NULL, 'web_anon cannot execute business functions');
SELECT throws_ok('SELECT * FROM store.orders', '42501', NULL, 'web_anon cannot read store tables');
SELECT throws_ok('SELECT sys_functions.current_sub()', '42501', NULL, 'web_anon cannot execute sys functions');
RESET ROLE;

-- authenticator is NOINHERIT: by itself it can do nothing
SET ROLE authenticator;
SELECT throws_ok('SELECT business_functions.list_my_orders()', '42501', NULL, 'authenticator itself cannot execute business functions');
SELECT throws_ok('SELECT * FROM store.orders', '42501', NULL, 'authenticator cannot read store tables');
RESET ROLE;

-- the same, as the catalog says it
SELECT ok(NOT has_schema_privilege('app_user', 'store', 'USAGE'), 'app_user has no USAGE on store');
SELECT ok(NOT has_schema_privilege('app_user', 'service_functions', 'USAGE'), 'app_user has no USAGE on service_functions');
SELECT ok(NOT has_schema_privilege('app_user', 'sys_functions', 'USAGE'), 'app_user has no USAGE on sys_functions');
SELECT ok(NOT has_schema_privilege('app_user', 'pgext_audit', 'USAGE'), 'app_user has no USAGE on pgext_audit');
SELECT ok(has_schema_privilege('app_user', 'business_functions', 'USAGE')
          AND NOT has_schema_privilege('app_user', 'business_functions', 'CREATE'),
          'app_user has USAGE (only) on business_functions');
SELECT ok(NOT pg_has_role('app_user', 'app_owner', 'MEMBER') AND NOT pg_has_role('authenticator', 'app_owner', 'MEMBER'),
          'neither app_user nor authenticator is a member of app_owner');

SELECT * FROM finish();
ROLLBACK;
