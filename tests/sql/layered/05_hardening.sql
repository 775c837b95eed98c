-- Catalog checks that fail as soon as a function, table, schema or role of the layered
-- template (or one added later) breaks the rules. Each lists the offenders.
BEGIN;
\ir _setup.psql
SELECT plan(20);

-- the functions of the template's schemas
CREATE TEMP VIEW fns AS
SELECT p.oid, p.oid::regprocedure::text AS fn, n.nspname, p.prosecdef, p.proconfig, p.proowner, p.proacl,
       p.prorettype, p.provolatile, p.prosrc
  FROM pg_catalog.pg_proc AS p
  JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('business_functions', 'service_functions', 'sys_functions', 'pgext_audit');

SELECT isnt_empty('SELECT * FROM fns WHERE nspname = ''business_functions''', 'sanity: there are business functions to check');

SELECT is_empty($$
    SELECT fn FROM fns
     WHERE prosecdef
       AND NOT coalesce(proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)$$,
    'every SECURITY DEFINER function has SET search_path = pg_catalog, pg_temp');

SELECT is_empty($$
    SELECT fn FROM fns
     WHERE NOT coalesce(proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)$$,
    'every function of the template''s schemas has a fixed search_path (invokers too)');

-- grantee 0 is PUBLIC; a NULL proacl means the default, which includes PUBLIC EXECUTE
SELECT is_empty($$
    SELECT fn FROM fns, aclexplode(coalesce(proacl, acldefault('f', proowner))) AS a
     WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'$$,
    'no function of the template''s schemas is executable by PUBLIC');

SELECT is_empty($$
    SELECT fn FROM fns, aclexplode(coalesce(proacl, acldefault('f', proowner))) AS a
     WHERE nspname <> 'business_functions' AND a.grantee <> proowner
       AND a.grantee <> 'app_owner'::regrole$$,
    'service, sys and audit functions are executable by their owner (and app_owner) only');

SELECT is_empty($$
    SELECT fn, a.grantee::regrole FROM fns, aclexplode(coalesce(proacl, acldefault('f', proowner))) AS a
     WHERE nspname = 'business_functions' AND a.grantee NOT IN ('app_owner'::regrole, 'app_user'::regrole)$$,
    'business functions are executable by app_owner and app_user only');

SELECT is_empty($$
    SELECT fn FROM fns
     WHERE nspname IN ('business_functions', 'service_functions', 'sys_functions')
       AND proowner <> 'app_owner'::regrole$$,
    'every business, service and sys function belongs to app_owner (not to a superuser)');

-- the shape of every business function
SELECT is_empty($$
    SELECT fn FROM fns
     WHERE nspname = 'business_functions'
       AND NOT (prosecdef
                AND prorettype = 'json'::regtype
                AND provolatile = 'v'
                AND has_function_privilege('app_user', oid, 'EXECUTE')
                AND prosrc ~ 'pgext_audit\.make_log\(c_module, ''STARTED'''
                AND prosrc ~ 'pgext_audit\.make_log\(c_module, ''FINISHED'''
                AND prosrc ~ 'EXCEPTION\s+WHEN\s+OTHERS\s+THEN'
                AND prosrc ~ 'GET\s+STACKED\s+DIAGNOSTICS'
                AND prosrc ~ 'pgext_audit\.log_error\('
                AND prosrc ~ '''isError'', true, ''errorCode'', e_sqlstate, ''errorMsg'', e_message')$$,
    'every business function has the template shape (json, SECURITY DEFINER, VOLATILE, STARTED/FINISHED/ERROR logging, isError answer)');

SELECT is_empty($$
    SELECT c.oid::regclass FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'business_functions'::regnamespace$$,
    'business_functions holds functions only (no table or view PostgREST would expose)');

-- tables: owned by app_owner, nobody else holds a right, every one audited
SELECT is_empty($$
    SELECT c.oid::regclass FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'store'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND c.relowner <> 'app_owner'::regrole$$,
    'every relation in store belongs to app_owner');
SELECT is_empty($$
    SELECT c.oid::regclass, a.grantee FROM pg_catalog.pg_class AS c,
           aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS a
     WHERE c.relnamespace IN ('store'::regnamespace, 'pgext_audit'::regnamespace)
       AND a.grantee <> c.relowner$$,
    'no role but the owner holds a right on a store or audit table');
SELECT is_empty($$
    SELECT c.oid::regclass FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'store'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger AS t
                        WHERE t.tgrelid = c.oid AND t.tgname = 'pgext_audit_row_change'
                          AND t.tgfoid = 'pgext_audit.row_change()'::regprocedure)$$,
    'every store table is audited (pgext_audit.enable)');

-- schemas and database: PUBLIC holds nothing
SELECT is_empty($$
    SELECT n.nspname, a.privilege_type FROM pg_catalog.pg_namespace AS n,
           aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS a
     WHERE n.nspname IN ('public', 'store', 'sys_functions', 'service_functions', 'business_functions', 'pgext_audit')
       AND a.grantee = 0$$,
    'PUBLIC holds no right on the public schema nor on any template schema');
SELECT is_empty($$
    SELECT a.privilege_type FROM pg_catalog.pg_database AS d,
           aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) AS a
     WHERE d.datname = current_database() AND a.grantee = 0$$,
    'PUBLIC may neither connect to the database nor create temporary objects in it');
SELECT ok(has_database_privilege('authenticator', current_database(), 'CONNECT')
          AND NOT has_database_privilege('app_user', current_database(), 'TEMPORARY')
          AND NOT has_database_privilege('app_user', current_database(), 'CREATE'),
          'authenticator may connect; app_user may create neither temporary objects nor schemas');

-- default privileges: functions created later are not executable by PUBLIC either
SELECT ok(EXISTS (SELECT FROM pg_catalog.pg_default_acl AS d
                   WHERE d.defaclrole = 'app_owner'::regrole AND d.defaclnamespace = 0
                     AND d.defaclobjtype = 'f'
                     AND NOT EXISTS (SELECT FROM aclexplode(d.defaclacl) AS a WHERE a.grantee = 0)),
          'ALTER DEFAULT PRIVILEGES FOR ROLE app_owner revokes EXECUTE on functions from PUBLIC');
SELECT ok(EXISTS (SELECT FROM pg_catalog.pg_default_acl AS d
                   JOIN pg_catalog.pg_roles AS r ON r.oid = d.defaclrole AND r.rolsuper
                   WHERE d.defaclnamespace = 0 AND d.defaclobjtype = 'f'
                     AND NOT EXISTS (SELECT FROM aclexplode(d.defaclacl) AS a WHERE a.grantee = 0)),
          'ALTER DEFAULT PRIVILEGES for the migrating superuser revokes EXECUTE on functions from PUBLIC');

-- roles
SELECT is_empty($$
    SELECT rolname FROM pg_catalog.pg_roles
     WHERE rolname IN ('app_owner', 'app_user', 'web_anon', 'authenticator')
       AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication)$$,
    'the template''s roles have no superuser, createrole, createdb, bypassrls or replication attribute');
SELECT results_eq($$
    SELECT rolname::text COLLATE "default", rolcanlogin, rolinherit FROM pg_catalog.pg_roles
     WHERE rolname IN ('app_owner', 'app_user', 'web_anon', 'authenticator') ORDER BY rolname$$,
    $$VALUES ('app_owner', false, true), ('app_user', false, true),
             ('authenticator', true, false), ('web_anon', false, true)$$,
    'only authenticator may log in, and it is NOINHERIT');
SELECT results_eq($$
    SELECT m.roleid::regrole::text FROM pg_catalog.pg_auth_members AS m
     WHERE m.member = 'authenticator'::regrole ORDER BY 1$$,
    $$VALUES ('app_user'), ('web_anon')$$,
    'authenticator may switch to app_user and web_anon, and to nothing else');

SELECT * FROM finish();
ROLLBACK;
