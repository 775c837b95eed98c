-- The generator templates (resources/templates/layered/.pgext/new_table.sql and
-- new_function.sql) produce objects that keep the rules. run.sh applies them as
-- `pgext new table store.invoices` and `pgext new function ping` would; on a database
-- without them this file skips.
BEGIN;
\ir _setup.psql
SELECT to_regclass('store.invoices') IS NOT NULL
       AND to_regprocedure('business_functions.ping()') IS NOT NULL AS have_generated \gset
\if :have_generated
SELECT plan(16);

-- new_table.sql: store.invoices
SELECT is((SELECT c.relowner::regrole::text FROM pg_catalog.pg_class AS c WHERE c.oid = 'store.invoices'::regclass),
          'app_owner', 'the new table belongs to app_owner');
SELECT is((SELECT a.attidentity::text FROM pg_catalog.pg_attribute AS a
            WHERE a.attrelid = 'store.invoices'::regclass AND a.attname = 'id'), 'a',
          'its id is an identity column');
SELECT isnt(obj_description('store.invoices'::regclass, 'pg_class'), NULL, 'it has a comment');
SELECT is((SELECT count(*) FROM pg_catalog.pg_trigger AS t
            WHERE t.tgrelid = 'store.invoices'::regclass AND t.tgname LIKE 'pgext_audit_%'), 2::bigint,
          'it is audited (row and TRUNCATE triggers)');
SELECT is((SELECT count(*) FROM pg_catalog.pg_proc AS p
            WHERE p.pronamespace = 'service_functions'::regnamespace AND p.proname LIKE 'invoices\_%'
              AND p.proowner = 'app_owner'::regrole
              AND p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp']), 3::bigint,
          'three service functions (insert, update, delete), owned by app_owner, fixed search_path');

SELECT pg_temp.jwt('alice');
SET ROLE app_user;
SELECT throws_ok('SELECT * FROM store.invoices', '42501', NULL, 'app_user cannot read the new table');
SELECT throws_ok($$SELECT service_functions.invoices_insert('x')$$, '42501', NULL, 'app_user cannot execute its service functions');
RESET ROLE;

SELECT pg_temp.audit_mark() AS mark \gset
SET ROLE app_owner;
SELECT (service_functions.invoices_insert('first')).id AS invoice_id \gset
SELECT (service_functions.invoices_update(:invoice_id, 'second')).name AS new_name \gset
SELECT service_functions.invoices_delete(:invoice_id) AS deleted \gset
SELECT throws_ok($$SELECT service_functions.invoices_insert('')$$, '23514', NULL, 'the name check holds');
RESET ROLE;
SELECT is(:'new_name'::text, 'second', 'invoices_update updates');
SELECT is(:'deleted'::boolean, true, 'invoices_delete deletes');
SELECT results_eq(format($q$SELECT l.stage, l.payload -> 'name' FROM pgext_audit.log AS l
                            WHERE l.id > %s AND l.module = 'store.invoices' ORDER BY l.id$q$, :mark),
    $$VALUES ('INSERT', '"first"'::jsonb), ('UPDATE', '{"old": "first", "new": "second"}'::jsonb),
             ('DELETE', '"second"'::jsonb)$$,
    'insert, update (old -> new) and delete of the new table are audited');

-- new_function.sql: business_functions.ping
SELECT pg_temp.audit_mark() AS mark \gset
SET ROLE app_user;
SELECT is(business_functions.ping()::jsonb, '{"isError": false, "data": {"sub": "alice"}}',
          'the generated business function answers for app_user');
RESET ROLE;
SELECT results_eq(format('SELECT l.module, l.stage FROM pgext_audit.log AS l WHERE l.id > %s ORDER BY l.id', :mark),
    $$VALUES ('business_functions.ping', 'STARTED'), ('business_functions.ping', 'FINISHED')$$,
    'it logs STARTED and FINISHED');
SELECT set_config('request.jwt.claims', '', true) AS cleared \gset
SELECT pg_temp.audit_mark() AS mark \gset
SET ROLE app_user;
SELECT is(business_functions.ping()::jsonb, '{"isError": true, "errorCode": "28000", "errorMsg": "not authenticated"}',
          'without a JWT it answers the isError JSON');
RESET ROLE;
SELECT results_eq(format('SELECT l.module, l.stage, l.sqlstate FROM pgext_audit.log AS l WHERE l.id > %s', :mark),
    $$VALUES ('business_functions.ping', 'ERROR', '28000')$$,
    'and leaves exactly one ERROR row');
SET ROLE web_anon;
SELECT throws_ok('SELECT business_functions.ping()', '42501', NULL, 'web_anon cannot execute it');
RESET ROLE;
\else
SELECT plan(1);
SELECT skip('the generator templates were not applied to this database (tests/sql/layered/run.sh does)', 1);
\endif

SELECT * FROM finish();
ROLLBACK;
