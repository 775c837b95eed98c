-- Baseline schema of {{project_name}}. `pgext migrate` applies it once; after that it is
-- immutable: put later changes in migrations/ (`pgext new migration <name>`).

CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- Functions are executable by PUBLIC by default: take that away, here and for every
-- function created later, and grant EXECUTE one function at a time.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The roles PostgREST switches between. Roles belong to the cluster, not the database,
-- so a db:reset must not trip over them.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'web_anon') THEN
        CREATE ROLE web_anon NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'todo_user') THEN
        CREATE ROLE todo_user NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
        CREATE ROLE authenticator LOGIN NOINHERIT;
    END IF;
END
$$;
GRANT web_anon, todo_user TO authenticator;

CREATE TABLE public.users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL UNIQUE CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE public.users IS 'Accounts. Not exposed to API roles; password hashes never leave the database.';

CREATE TABLE public.tasks (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      uuid NOT NULL
                 DEFAULT (nullif(current_setting('request.jwt.claims', true)::json ->> 'sub', '')::uuid)
                 REFERENCES public.users (id) ON DELETE CASCADE,
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    done         boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
CREATE INDEX tasks_user_id_idx ON public.tasks (user_id, id);
COMMENT ON TABLE public.tasks IS 'To-do items; each user sees only their own (row-level security).';

ALTER TABLE public.tasks ENABLE ROW LEVEL SECURITY;

-- The JWT's "sub" claim is text and user_id is a uuid: compare them as uuids (comparing
-- uuid with text is an error, and casting the column to text would defeat the index).
-- The sub is read once per statement through the scalar subquery.
CREATE POLICY tasks_owner ON public.tasks
    FOR ALL TO todo_user
    USING (user_id = (SELECT nullif(current_setting('request.jwt.claims', true)::json ->> 'sub', '')::uuid))
    WITH CHECK (user_id = (SELECT nullif(current_setting('request.jwt.claims', true)::json ->> 'sub', '')::uuid));

GRANT USAGE ON SCHEMA public TO web_anon, todo_user;
GRANT SELECT, INSERT, DELETE ON public.tasks TO todo_user;
GRANT UPDATE (title, done, completed_at) ON public.tasks TO todo_user;
REVOKE ALL ON public.users FROM PUBLIC, web_anon, todo_user;
