-- Table {{schema}}.{{table}}, written by `pgext new table {{schema}}.{{table}}` (layered
-- template). This migration runs once; edit it before the first `pgext migrate`.
-- Rename or add columns, keep the rest of the shape:
--   * the table belongs to app_owner and no API role gets any right on it;
--   * every change is audited (pgext_audit.enable);
--   * one service function per insert/update/delete, SECURITY INVOKER, owned by
--     app_owner, not executable by any API role. Business functions call them.
-- To edit the service functions later, move them into functions/ (re-applied on change).

CREATE SCHEMA IF NOT EXISTS {{schema}} AUTHORIZATION app_owner;

CREATE TABLE {{schema}}.{{table}} (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CONSTRAINT {{table}}_name_check CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {{schema}}.{{table}} IS 'TODO: what one row of {{table}} is.';
COMMENT ON COLUMN {{schema}}.{{table}}.name IS 'TODO: describe, or replace with the real columns.';

ALTER TABLE {{schema}}.{{table}} OWNER TO app_owner;
REVOKE ALL ON TABLE {{schema}}.{{table}} FROM PUBLIC;

-- Every INSERT, UPDATE (changed columns, old -> new), DELETE and TRUNCATE leaves a row
-- in pgext_audit.log. To stream the table live, also add "{{schema}}.{{table}}" to
-- [realtime] tables in pgext.toml.
SELECT pgext_audit.enable('{{schema}}.{{table}}');

CREATE OR REPLACE FUNCTION service_functions.{{table}}_insert(p_name text)
RETURNS {{schema}}.{{table}}
LANGUAGE sql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO {{schema}}.{{table}} (name) VALUES (p_name) RETURNING *;
$$;

-- Returns the updated row, or NULL when there is no such row.
CREATE OR REPLACE FUNCTION service_functions.{{table}}_update(p_id bigint, p_name text)
RETURNS {{schema}}.{{table}}
LANGUAGE sql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE {{schema}}.{{table}} AS t
       SET name = p_name,
           updated_at = pg_catalog.now()
     WHERE t.id = p_id
    RETURNING t.*;
$$;

-- Returns whether the row existed.
CREATE OR REPLACE FUNCTION service_functions.{{table}}_delete(p_id bigint)
RETURNS boolean
LANGUAGE sql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH deleted AS (DELETE FROM {{schema}}.{{table}} AS t WHERE t.id = p_id RETURNING 1)
    SELECT EXISTS (SELECT FROM deleted);
$$;

ALTER FUNCTION service_functions.{{table}}_insert(text) OWNER TO app_owner;
ALTER FUNCTION service_functions.{{table}}_update(bigint, text) OWNER TO app_owner;
ALTER FUNCTION service_functions.{{table}}_delete(bigint) OWNER TO app_owner;
COMMENT ON FUNCTION service_functions.{{table}}_insert(text) IS 'Inserts one {{table}} row; returns it.';
COMMENT ON FUNCTION service_functions.{{table}}_update(bigint, text) IS 'Updates one {{table}} row; returns it, or NULL.';
COMMENT ON FUNCTION service_functions.{{table}}_delete(bigint) IS 'Deletes one {{table}} row; returns whether it existed.';
REVOKE ALL ON FUNCTION service_functions.{{table}}_insert(text),
                       service_functions.{{table}}_update(bigint, text),
                       service_functions.{{table}}_delete(bigint) FROM PUBLIC;
