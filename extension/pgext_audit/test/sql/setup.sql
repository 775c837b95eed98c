--
-- setup: install the extension and check its shape.
--
CREATE EXTENSION pgext_audit;

SELECT e.extname, e.extversion, n.nspname, e.extrelocatable
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pgext_audit';

-- the log table
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid) AS default_value
  FROM pg_attribute a
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = 'pgext_audit.log'::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum;

SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'pgext_audit' ORDER BY indexname;

-- dumped by pg_dump: the log and its identity sequence
SELECT c.relname
  FROM pg_extension e, unnest(e.extconfig) AS cfg(oid)
  JOIN pg_class c ON c.oid = cfg.oid
 WHERE e.extname = 'pgext_audit'
 ORDER BY c.relname;

-- every function: SECURITY DEFINER or not, and its fixed search_path
SELECT p.oid::regprocedure AS function, p.prosecdef AS security_definer, p.proconfig,
       p.provolatile
  FROM pg_proc p
 WHERE p.pronamespace = 'pgext_audit'::regnamespace
 ORDER BY p.proname;

-- PUBLIC (grantee 0) holds no right on the schema, the table or any function
SELECT 'schema' AS object, count(*) AS public_grants
  FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
 WHERE n.nspname = 'pgext_audit' AND a.grantee = 0
UNION ALL
SELECT 'tables', count(*)
  FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
 WHERE c.relnamespace = 'pgext_audit'::regnamespace AND a.grantee = 0
UNION ALL
SELECT 'functions', count(*)
  FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
 WHERE p.pronamespace = 'pgext_audit'::regnamespace AND a.grantee = 0;
