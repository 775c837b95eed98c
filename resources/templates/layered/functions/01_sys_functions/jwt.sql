-- Repeatable: `pgext migrate` (or `pgext deploy-functions`) re-runs this file whenever it
-- changes. Keep it idempotent (CREATE OR REPLACE).
--
-- sys_functions: helpers for business functions. SECURITY INVOKER (they run with the
-- rights of the business function that calls them, i.e. app_owner), owned by app_owner,
-- and not executable by any API role.

-- The claims of the request's JWT as jsonb; NULL without a token or when the setting is
-- not a JSON object. PostgREST puts the verified claims in request.jwt.claims.
CREATE OR REPLACE FUNCTION sys_functions.jwt_claims()
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_text   text := pg_catalog.current_setting('request.jwt.claims', true);
    v_claims jsonb;
BEGIN
    IF v_text IS NULL OR v_text = '' THEN
        RETURN NULL;
    END IF;
    BEGIN
        v_claims := v_text::jsonb;
    EXCEPTION WHEN data_exception THEN
        RETURN NULL;
    END;
    IF pg_catalog.jsonb_typeof(v_claims) IS DISTINCT FROM 'object' THEN
        RETURN NULL;
    END IF;
    RETURN v_claims;
END;
$$;

-- The caller's identity: the "sub" claim. Raises 28000 (invalid_authorization_specification)
-- when there is none, which a business function turns into an isError answer.
CREATE OR REPLACE FUNCTION sys_functions.current_sub()
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_sub text := sys_functions.jwt_claims() ->> 'sub';
BEGIN
    IF v_sub IS NULL OR v_sub = '' THEN
        RAISE EXCEPTION 'not authenticated'
            USING ERRCODE = 'invalid_authorization_specification',
                  HINT = 'Send a JWT with a "sub" claim in the Authorization header.';
    END IF;
    RETURN v_sub;
END;
$$;

ALTER FUNCTION sys_functions.jwt_claims() OWNER TO app_owner;
ALTER FUNCTION sys_functions.current_sub() OWNER TO app_owner;
COMMENT ON FUNCTION sys_functions.jwt_claims() IS 'Claims of the request''s JWT (request.jwt.claims) as jsonb, or NULL.';
COMMENT ON FUNCTION sys_functions.current_sub() IS 'The JWT "sub" claim; raises 28000 when the request carries none.';
REVOKE ALL ON FUNCTION sys_functions.jwt_claims(), sys_functions.current_sub() FROM PUBLIC;
