-- Repeatable: sign-up and sign-in for the to-do app. Both return {"token": "<JWT>"}: an
-- HS256 token that PostgREST and pg_events_ws accept (role todo_user, sub = user id,
-- valid for 1 hour).
--
-- The signing key is JWT_SECRET from .env. `pgext dev` and `pgext deploy` store it in
-- pgext.settings, a table only the role that applies migrations can read; the functions
-- below are SECURITY DEFINER (owned by that role) so they can read it, while API roles
-- cannot. (A database setting such as app.jwt_secret would be readable by every role.)

CREATE SCHEMA IF NOT EXISTS auth;
REVOKE ALL ON SCHEMA auth FROM PUBLIC;
COMMENT ON SCHEMA auth IS 'Token helpers for login/signup. Not exposed through PostgREST, not callable by API roles.';

CREATE OR REPLACE FUNCTION auth.base64url(data bytea)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT translate(encode(data, 'base64'), E'+/=\n', '-_');
$$;

CREATE OR REPLACE FUNCTION auth.sign(claims json)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    secret text;
    signing_input text;
BEGIN
    SELECT value INTO secret FROM pgext.settings WHERE name = 'jwt_secret';
    IF secret IS NULL OR length(secret) < 32 THEN
        RAISE EXCEPTION 'the JWT signing secret is not configured'
            USING ERRCODE = 'P0001',
                  HINT = 'Run `pgext dev` or `pgext deploy`: they store JWT_SECRET from .env in pgext.settings.';
    END IF;
    signing_input := auth.base64url(convert_to('{"alg":"HS256","typ":"JWT"}', 'UTF8'))
                     || '.' || auth.base64url(convert_to(claims::text, 'UTF8'));
    RETURN signing_input || '.'
           || auth.base64url(public.hmac(convert_to(signing_input, 'UTF8'), convert_to(secret, 'UTF8'), 'sha256'));
END;
$$;

CREATE OR REPLACE FUNCTION auth.token_for(user_id uuid)
RETURNS json
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_build_object('token', auth.sign(json_build_object(
        'role', 'todo_user',
        'sub', user_id::text,
        'iat', extract(epoch FROM now())::bigint,
        'exp', extract(epoch FROM now() + interval '1 hour')::bigint)));
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth FROM PUBLIC;

-- POST /rpc/signup {"email": "...", "password": "..."}: creates the account, signs in.
CREATE OR REPLACE FUNCTION public.signup(email text, password text)
RETURNS json
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id uuid;
BEGIN
    IF length(coalesce(password, '')) < 8 THEN
        RAISE EXCEPTION 'password too short' USING ERRCODE = '22023', HINT = 'Use at least 8 characters.';
    END IF;
    INSERT INTO public.users (email, password_hash)
    VALUES (lower(trim(signup.email)), public.crypt(signup.password, public.gen_salt('bf', 8)))
    RETURNING id INTO new_id;
    RETURN auth.token_for(new_id);
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'an account with this email already exists' USING ERRCODE = '23505';
END;
$$;

-- POST /rpc/login {"email": "...", "password": "..."} → {"token": "..."}; a wrong email
-- or password is the same 403 (SQLSTATE 28P01), after the same amount of work.
CREATE OR REPLACE FUNCTION public.login(email text, password text)
RETURNS json
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    account public.users;
BEGIN
    SELECT * INTO account FROM public.users u WHERE u.email = lower(trim(login.email));
    -- Hash even when there is no such user, so timing does not tell which emails exist.
    IF public.crypt(coalesce(login.password, ''),
                    coalesce(account.password_hash, '$2a$08$0000000000000000000000000000000000000000000000000000'))
       IS DISTINCT FROM account.password_hash OR account.id IS NULL THEN
        RAISE EXCEPTION 'invalid email or password' USING ERRCODE = '28P01';
    END IF;
    RETURN auth.token_for(account.id);
END;
$$;

COMMENT ON FUNCTION public.signup(text, text) IS 'Creates an account and returns {"token": ...}; POST /rpc/signup';
COMMENT ON FUNCTION public.login(text, text) IS 'Returns {"token": ...} for a valid email and password; POST /rpc/login';
REVOKE EXECUTE ON FUNCTION public.signup(text, text), public.login(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.signup(text, text), public.login(text, text) TO web_anon;
