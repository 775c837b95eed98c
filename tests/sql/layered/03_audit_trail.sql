-- Table changes leave audit rows (UPDATE as old -> new of the changed columns), with the
-- caller's identity; the audit row of a handled error survives while the failed call's
-- data changes and STARTED row are undone.
BEGIN;
\ir _setup.psql
SELECT plan(16);

SELECT pg_temp.audit_mark() AS mark \gset
SELECT pg_temp.jwt('bob');
SELECT set_config('request.headers', '{"x-request-id": "req-7", "user-agent": "curl/8"}', true) AS set \gset
SET ROLE app_user;
SELECT (business_functions.create_order('pen', 3)::jsonb #>> '{data,id}')::bigint AS order_id \gset
SELECT business_functions.cancel_order(:order_id)::jsonb AS r \gset
RESET ROLE;

-- INSERT: the new row, keyed by its primary key
SELECT is((SELECT l.payload - 'created_at' - 'id' - 'customer_id' FROM pgext_audit.log AS l
            WHERE l.id > :mark AND l.module = 'store.orders' AND l.stage = 'INSERT'),
          '{"item": "pen", "quantity": 3, "client_ref": null, "status": "open", "cancelled_at": null}'::jsonb,
          'INSERT into store.orders logs the new row');
SELECT is((SELECT l.row_key FROM pgext_audit.log AS l
            WHERE l.id > :mark AND l.module = 'store.orders' AND l.stage = 'INSERT'),
          jsonb_build_object('id', :order_id), '... with its primary key as row_key');

-- UPDATE: only the changed columns, old -> new
SELECT is((SELECT l.payload #- '{cancelled_at,new}' FROM pgext_audit.log AS l
            WHERE l.id > :mark AND l.module = 'store.orders' AND l.stage = 'UPDATE'),
          '{"status": {"old": "open", "new": "cancelled"}, "cancelled_at": {"old": null}}'::jsonb,
          'UPDATE logs only the changed columns as old -> new');
SELECT isnt((SELECT l.payload #>> '{cancelled_at,new}' FROM pgext_audit.log AS l
              WHERE l.id > :mark AND l.module = 'store.orders' AND l.stage = 'UPDATE'),
            NULL, '... including the new cancelled_at');

-- every row of the two calls carries who and which request
SELECT results_eq(format('SELECT l.module, l.stage FROM pgext_audit.log AS l WHERE l.id > %s ORDER BY l.id', :mark),
    $$VALUES ('business_functions.create_order', 'STARTED'), ('store.customers', 'INSERT'),
             ('store.orders', 'INSERT'), ('business_functions.create_order', 'FINISHED'),
             ('business_functions.cancel_order', 'STARTED'), ('store.orders', 'UPDATE'),
             ('business_functions.cancel_order', 'FINISHED')$$,
    'two calls: STARTED, row changes, FINISHED each');
SELECT is((SELECT count(*) FROM pgext_audit.log AS l
            WHERE l.id > :mark
              AND l.jwt_sub = 'bob' AND l.jwt_role = 'app_user' AND l.current_role_name = 'app_user'
              AND l.request_id = 'req-7' AND l.session_user_name = session_user),
          7::bigint, 'every row names the JWT sub and role, the role, the request id');
SELECT is((SELECT count(DISTINCT l.txid) FROM pgext_audit.log AS l WHERE l.id > :mark), 1::bigint,
          'rows of one transaction share its txid');

-- an update that changes nothing logs nothing
SELECT pg_temp.audit_mark() AS mark \gset
SET ROLE app_owner;
SELECT service_functions.orders_update_status(:order_id, 'cancelled') IS NOT NULL AS updated \gset
UPDATE store.orders SET item = item WHERE id = :order_id;
RESET ROLE;
SELECT is((SELECT count(*) FROM pgext_audit.log AS l WHERE l.id > :mark), 0::bigint,
          'an UPDATE that changes no column logs nothing');

-- DELETE: the old row
SELECT pg_temp.audit_mark() AS mark \gset
SET ROLE app_owner;
SELECT service_functions.orders_delete(:order_id) AS deleted \gset
RESET ROLE;
SELECT is((SELECT l.payload ->> 'item' FROM pgext_audit.log AS l
            WHERE l.id > :mark AND l.module = 'store.orders' AND l.stage = 'DELETE'),
          'pen', 'DELETE logs the old row');

-- a failing call of a new customer: the customer row it inserted before failing is undone
-- with its audit row and the STARTED row; the ERROR row, written in the handler, stays
SELECT pg_temp.audit_mark() AS mark \gset
SELECT pg_temp.jwt('carol');
SET ROLE app_user;
SELECT business_functions.create_order('pen', 5000)::jsonb ->> 'errorCode' AS code \gset
RESET ROLE;
SELECT is(:'code'::text, '23514', 'carol''s order fails (quantity out of range)');
SELECT is((SELECT count(*) FROM store.customers AS c WHERE c.sub = 'carol'), 0::bigint,
          'the customer row inserted before the failure is rolled back');
SELECT is((SELECT count(*) FROM pgext_audit.log AS l WHERE l.id > :mark AND NOT l.is_error), 0::bigint,
          'its STARTED row and row-change rows are gone');
SELECT results_eq(format('SELECT l.module, l.stage, l.is_error, l.jwt_sub FROM pgext_audit.log AS l WHERE l.id > %s', :mark),
    $$VALUES ('business_functions.create_order', 'ERROR', true, 'carol')$$,
    'the ERROR row survives');
SELECT is((SELECT l.payload FROM pgext_audit.log AS l WHERE l.id > :mark),
          '{"item": "pen", "quantity": 5000, "client_ref": null}'::jsonb, '... with the arguments');

-- and it survives the rest of the transaction: later work and a savepoint rollback
SAVEPOINT later;
SET ROLE app_user;
SELECT business_functions.create_order('pen', 1)::jsonb ->> 'isError' AS is_error \gset
RESET ROLE;
ROLLBACK TO SAVEPOINT later;
SELECT is((SELECT count(*) FROM pgext_audit.log AS l WHERE l.id > :mark), 1::bigint,
          'after a later savepoint rollback the ERROR row is still there');
SELECT is(:'is_error'::text, 'false', 'carol can order once the quantity is right');

SELECT * FROM finish();
ROLLBACK;
