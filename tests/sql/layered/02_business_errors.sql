-- A failing business function answers the isError JSON (never raises) and leaves exactly
-- one audit row, with every diagnostic the error carried; its STARTED row and its data
-- changes are gone. Each failure below is crafted to fill different fields.
BEGIN;
\ir _setup.psql
SELECT plan(25);

-- a successful call first: STARTED, the row changes, FINISHED
SELECT pg_temp.audit_mark() AS mark \gset
SELECT pg_temp.jwt('alice');
SET ROLE app_user;
SELECT business_functions.create_order('book', 2, 'cart-1')::jsonb AS r \gset
RESET ROLE;
SELECT is(:'r'::jsonb - 'data', '{"isError": false}', 'create_order answers isError false');
SELECT is(:'r'::jsonb #>> '{data,item}', 'book', '... with the new order as data');
SELECT results_eq(
    format('SELECT l->>''module'', l->>''stage'' FROM pg_temp.audit_since(%s) AS l', :mark),
    $$VALUES ('business_functions.create_order', 'STARTED'), ('store.customers', 'INSERT'),
             ('store.orders', 'INSERT'), ('business_functions.create_order', 'FINISHED')$$,
    'a successful call logs STARTED, each row change, FINISHED');
SELECT is((SELECT l.payload FROM pgext_audit.log AS l WHERE l.id > :mark AND l.stage = 'STARTED'),
          '{"item": "book", "quantity": 2, "client_ref": "cart-1"}'::jsonb, 'STARTED carries the arguments');
SELECT is((SELECT l.payload FROM pgext_audit.log AS l WHERE l.id > :mark AND l.stage = 'FINISHED'),
          :'r'::jsonb, 'FINISHED carries the result');

-- unique violation: detail, constraint, table, schema
SELECT pg_temp.audit_mark() AS mark \gset
SET ROLE app_user;
SELECT business_functions.create_order('book', 2, 'cart-1')::jsonb AS r \gset
RESET ROLE;
SELECT is(:'r'::jsonb, '{"isError": true, "errorCode": "23505", "errorMsg": "duplicate key value violates unique constraint \"orders_client_ref_key\""}',
          'unique violation: isError JSON');
SELECT results_eq(format('SELECT l - ''detail'' FROM pg_temp.audit_since(%s) AS l', :mark),
    $$VALUES ('{"module": "business_functions.create_order", "stage": "ERROR", "is_error": true,
               "sqlstate": "23505", "message": "duplicate key value violates unique constraint \"orders_client_ref_key\"",
               "constraint": "orders_client_ref_key", "schema": "store", "table": "orders",
               "has_context": true}'::jsonb)$$,
    'unique violation: exactly one audit row, with constraint, schema and table');
SELECT is(l ->> 'detail',
          format('Key (customer_id, client_ref)=(%s, cart-1) already exists.',
                 (SELECT c.id FROM store.customers AS c WHERE c.sub = 'alice')),
          '... and the duplicate key as detail')
  FROM pg_temp.audit_since(:mark) AS l;
SELECT is((SELECT l.payload FROM pgext_audit.log AS l WHERE l.id > :mark),
          '{"item": "book", "quantity": 2, "client_ref": "cart-1"}'::jsonb, '... and the arguments as payload');
SELECT matches((SELECT l.context FROM pgext_audit.log AS l WHERE l.id > :mark),
               'business_functions\.create_order', '... and the context naming the function');

-- check violation: detail (failing row), constraint, table, schema
SELECT pg_temp.audit_mark() AS mark \gset
SET ROLE app_user;
SELECT business_functions.create_order('', 1)::jsonb AS r \gset
RESET ROLE;
SELECT is(:'r'::jsonb, '{"isError": true, "errorCode": "23514", "errorMsg": "new row for relation \"orders\" violates check constraint \"orders_item_check\""}',
          'check violation: isError JSON');
SELECT is(count(*), 1::bigint, 'check violation: exactly one audit row') FROM pg_temp.audit_since(:mark);
SELECT is(l - 'detail', '{"module": "business_functions.create_order", "stage": "ERROR", "is_error": true,
               "sqlstate": "23514", "message": "new row for relation \"orders\" violates check constraint \"orders_item_check\"",
               "constraint": "orders_item_check", "schema": "store", "table": "orders", "has_context": true}'::jsonb,
          'check violation: constraint, schema and table')
  FROM pg_temp.audit_since(:mark) AS l;
SELECT matches(l ->> 'detail', '^Failing row contains \(', 'check violation: the failing row as detail')
  FROM pg_temp.audit_since(:mark) AS l;

-- not-null violation: column, table, schema
SELECT pg_temp.audit_mark() AS mark \gset
SET ROLE app_user;
SELECT business_functions.create_order(NULL, 1)::jsonb AS r \gset
RESET ROLE;
SELECT is(:'r'::jsonb ->> 'errorCode', '23502', 'not-null violation: errorCode 23502');
SELECT is(l - 'detail', '{"module": "business_functions.create_order", "stage": "ERROR", "is_error": true,
               "sqlstate": "23502", "message": "null value in column \"item\" of relation \"orders\" violates not-null constraint",
               "column": "item", "schema": "store", "table": "orders", "has_context": true}'::jsonb,
          'not-null violation: column, schema and table')
  FROM pg_temp.audit_since(:mark) AS l;

-- domain check: datatype, constraint, schema
SELECT pg_temp.audit_mark() AS mark \gset
SET ROLE app_user;
SELECT business_functions.create_order('book', 0)::jsonb AS r \gset
RESET ROLE;
SELECT is(:'r'::jsonb, '{"isError": true, "errorCode": "23514", "errorMsg": "value for domain store.quantity violates check constraint \"quantity_range\""}',
          'domain violation: isError JSON');
SELECT results_eq(format('SELECT * FROM pg_temp.audit_since(%s)', :mark),
    $$VALUES ('{"module": "business_functions.create_order", "stage": "ERROR", "is_error": true,
               "sqlstate": "23514", "message": "value for domain store.quantity violates check constraint \"quantity_range\"",
               "datatype": "quantity", "constraint": "quantity_range", "schema": "store", "has_context": true}'::jsonb)$$,
    'domain violation: exactly one audit row, with datatype, constraint and schema');

-- a business error raised by the function itself: hint
SELECT pg_temp.audit_mark() AS mark \gset
SET ROLE app_user;
SELECT business_functions.cancel_order(424242)::jsonb AS r \gset
RESET ROLE;
SELECT is(:'r'::jsonb, '{"isError": true, "errorCode": "P0002", "errorMsg": "order 424242 not found"}',
          'unknown order: isError JSON');
SELECT results_eq(format('SELECT * FROM pg_temp.audit_since(%s)', :mark),
    $$VALUES ('{"module": "business_functions.cancel_order", "stage": "ERROR", "is_error": true,
               "sqlstate": "P0002", "message": "order 424242 not found",
               "hint": "list_my_orders returns the orders you can cancel.", "has_context": true}'::jsonb)$$,
    'unknown order: exactly one audit row, with the hint');

-- cancelling twice
SET ROLE app_user;
SELECT (business_functions.list_my_orders()::jsonb #>> '{data,0,id}')::bigint AS order_id \gset
SELECT is(business_functions.cancel_order(:order_id)::jsonb #>> '{data,status}', 'cancelled', 'cancel_order cancels');
SELECT is(business_functions.cancel_order(:order_id)::jsonb ->> 'errorCode', '55000', 'cancelling again: errorCode 55000');
RESET ROLE;

-- no token: 28000 with a hint, still as JSON
SELECT set_config('request.jwt.claims', '', true) AS cleared \gset
SELECT pg_temp.audit_mark() AS mark \gset
SET ROLE app_user;
SELECT business_functions.list_my_orders()::jsonb AS r \gset
RESET ROLE;
SELECT is(:'r'::jsonb, '{"isError": true, "errorCode": "28000", "errorMsg": "not authenticated"}', 'no JWT sub: isError JSON');
SELECT is(l ->> 'hint', 'Send a JWT with a "sub" claim in the Authorization header.', 'no JWT sub: one audit row with the hint')
  FROM pg_temp.audit_since(:mark) AS l;

-- malformed claims are no JWT at all, not an exception
SELECT set_config('request.jwt.claims', '{not json', true) AS set \gset
SET ROLE app_user;
SELECT is(business_functions.create_order('book', 1)::jsonb ->> 'errorCode', '28000', 'malformed claims: isError JSON, no exception');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
