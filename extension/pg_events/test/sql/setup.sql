--
-- setup: install pg_events and the helpers the other tests use.
--
SET client_min_messages = warning;
CREATE EXTENSION pg_events;
RESET client_min_messages;

-- the server runs with a logical decoding configuration
SELECT name, setting FROM pg_settings
 WHERE name IN ('wal_level', 'output_plugin_libraries')
 ORDER BY name;

-- what the extension installs
SELECT pg_describe_object(classid, objid, objsubid) AS object
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_events')
   AND deptype = 'e'
 ORDER BY 1;

-- the schema is reserved-looking but normal
SELECT nspname FROM pg_namespace WHERE nspname = 'pg_events';

--
-- pge_mask(doc): replace the parts of a document that differ between runs
-- (LSNs, relation OIDs, xid, commit time) with fixed tokens; everything else, including
-- key order and escaping, is shown byte for byte.
--
CREATE FUNCTION pge_mask(doc text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(doc,
		'"(lsn|end_lsn)":"[0-9A-F]+/[0-9A-F]+"', '"\1":"L"', 'g'),
		'"relid":[0-9]+', '"relid":R', 'g'),
		'"xid":[0-9]+', '"xid":X', 'g'),
		'"commit_time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"',
		'"commit_time":"T"', 'g')
$$;

--
-- pge_changes(slot, options...): consume a slot; every document must be
-- valid JSON (json_in is a strict parser), then it is masked.
--
CREATE FUNCTION pge_changes(slot name, VARIADIC opts text[] DEFAULT '{}')
RETURNS SETOF text
LANGUAGE sql AS $$
	SELECT CASE WHEN data::json IS NULL THEN 'NOT JSON: ' || data
				ELSE pge_mask(data) END
	  FROM pg_logical_slot_get_changes(slot, NULL, NULL, VARIADIC opts)
$$;

--
-- pge_try(sql): run a statement, report its SQLSTATE, message, detail and
-- hint instead of failing.
--
CREATE FUNCTION pge_try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	state text;
	msg text;
	detail text;
	hint text;
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN 'ERROR ' || state || ': ' || msg
		|| CASE WHEN detail <> '' THEN E'\nDETAIL: ' || detail ELSE '' END
		|| CASE WHEN hint <> '' THEN E'\nHINT: ' || hint ELSE '' END;
END
$$;
