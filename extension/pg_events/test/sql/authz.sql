--
-- authz: visible_rows() judges row images under row-level security as the
-- current role would see them; can_listen() asks the project's channel rule.
--
CREATE ROLE pge_alice NOLOGIN;
CREATE ROLE pge_bob NOLOGIN;
CREATE ROLE pge_members NOLOGIN;
CREATE ROLE pge_nobody NOLOGIN;
CREATE ROLE pge_owner NOLOGIN;
GRANT pge_members TO pge_alice;
GRANT USAGE ON SCHEMA public TO PUBLIC;

CREATE TABLE notes (id int PRIMARY KEY, owner text NOT NULL, team int, body text, hidden boolean NOT NULL DEFAULT false);
CREATE TABLE teams (team int, member text);
INSERT INTO teams VALUES (1, 'pge_bob');
GRANT SELECT ON notes, teams TO pge_alice, pge_bob, pge_members;
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
-- own rows by the JWT's sub, or rows of a team one belongs to (a subquery that
-- refers to the table by name), never hidden ones (restrictive)
CREATE POLICY own ON notes FOR SELECT TO pge_alice, pge_bob
	USING (owner = current_setting('request.jwt.claims', true)::json ->> 'sub');
CREATE POLICY team ON notes FOR ALL TO pge_bob
	USING (EXISTS (SELECT 1 FROM teams t WHERE t.team = notes.team AND t.member = current_user));
CREATE POLICY not_hidden ON notes AS RESTRICTIVE FOR SELECT TO PUBLIC USING (NOT hidden);
-- through a group role
CREATE POLICY members ON notes FOR SELECT TO pge_members USING (body = 'for members');
-- insert-only policies do not make rows visible
CREATE POLICY ins ON notes FOR INSERT TO pge_bob WITH CHECK (true);

CREATE FUNCTION pge_visible(role name, sub text, images jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	result text;
BEGIN
	PERFORM set_config('role', role, true);
	PERFORM set_config('request.jwt.claims', json_build_object('role', role, 'sub', sub)::text, true);
	SELECT coalesce(string_agg(v::text, ',' ORDER BY v), '-') INTO result
	  FROM pg_events.visible_rows('notes', images) v;
	PERFORM set_config('role', 'none', true);
	RETURN result;
END
$$;

-- The images are judged, not the table: the table is empty.
SELECT pge_visible('pge_alice', 'pge_alice', '[
	{"id":1,"owner":"pge_alice","team":null,"body":"mine","hidden":false},
	{"id":2,"owner":"pge_bob","team":null,"body":"his","hidden":false},
	{"id":3,"owner":"pge_alice","team":null,"body":"mine but hidden","hidden":true},
	{"id":4,"owner":"pge_carol","team":1,"body":"for members","hidden":false}
]');
SELECT pge_visible('pge_bob', 'pge_bob', '[
	{"id":1,"owner":"pge_alice","team":null,"body":"mine","hidden":false},
	{"id":2,"owner":"pge_bob","team":null,"body":"his","hidden":false},
	{"id":4,"owner":"pge_carol","team":1,"body":"for members","hidden":false},
	{"id":5,"owner":"pge_carol","team":2,"body":"other team","hidden":false}
]');
-- claims decide: the same role with another sub
SELECT pge_visible('pge_alice', 'pge_bob', '[{"id":2,"owner":"pge_bob","body":"his","hidden":false}]');
-- a row that changed hands: the version is judged, whatever the table holds now
INSERT INTO notes VALUES (9, 'pge_bob', NULL, 'now bob''s');
SELECT pge_visible('pge_alice', 'pge_alice', '[{"id":9,"owner":"pge_alice","body":"was alice''s","hidden":false}]');
SELECT pge_visible('pge_alice', 'pge_alice', '[{"id":9,"owner":"pge_bob","body":"now bob''s","hidden":false}]');
-- a column missing from an image is NULL (the server fills unchanged TOAST
-- values before asking, or withholds the row)
SELECT pge_visible('pge_alice', 'pge_alice', '[{"id":1,"owner":"pge_alice"}]');
-- values are typed by the table's row type
SELECT pge_visible('pge_alice', 'pge_alice', '[{"id":"10","owner":"pge_alice","team":"7","hidden":"false"}]');
SELECT pge_try($$SELECT pge_visible('pge_alice', 'pge_alice', '[{"id":"ten","owner":"pge_alice","hidden":false}]')$$);
SELECT pge_try($$SELECT pge_visible('pge_alice', 'pge_alice', '{"id":1}')$$);
SELECT pge_visible('pge_alice', 'pge_alice', '[]');

-- no applicable SELECT policy: nothing; no SELECT privilege: an error
SELECT pge_try($$SELECT pge_visible('pge_nobody', 'x', '[{"id":1,"owner":"x","hidden":false}]')$$);
GRANT SELECT ON notes TO pge_nobody;
SELECT pge_visible('pge_nobody', 'x', '[{"id":1,"owner":"x","hidden":false}]');

-- RLS off for the role: everything (owner without FORCE, BYPASSRLS, RLS disabled)
ALTER TABLE notes OWNER TO pge_owner;
SELECT pge_visible('pge_owner', 'x', '[{"id":1,"owner":"x","hidden":true},{"id":2,"owner":"y","hidden":false}]');
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
SELECT pge_visible('pge_owner', 'x', '[{"id":1,"owner":"x","hidden":true},{"id":2,"owner":"y","hidden":false}]');
ALTER TABLE notes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE notes DISABLE ROW LEVEL SECURITY;
SELECT pge_visible('pge_alice', 'nobody', '[{"id":1,"owner":"x","hidden":true}]');
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;

-- a policy that fails for some claims fails the call, like a query would
CREATE POLICY numeric_sub ON notes FOR SELECT TO pge_bob
	USING (team = (current_setting('request.jwt.claims', true)::json ->> 'sub')::int);
SELECT pge_try($$SELECT pge_visible('pge_bob', 'not-a-number', '[{"id":1,"owner":"x","team":1,"hidden":false}]')$$);
SELECT pge_visible('pge_bob', '1', '[{"id":1,"owner":"x","team":1,"hidden":false}]');
DROP POLICY numeric_sub ON notes;

-- mixed-case and quoted names
CREATE TABLE "Mixed Case" ("Id" int PRIMARY KEY, "Owner" text);
ALTER TABLE "Mixed Case" ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON "Mixed Case" FOR SELECT TO PUBLIC USING ("Owner" = current_user);
GRANT SELECT ON "Mixed Case" TO pge_alice;
SET ROLE pge_alice;
SELECT * FROM pg_events.visible_rows('"Mixed Case"', '[{"Id":1,"Owner":"pge_alice"},{"Id":2,"Owner":"pge_bob"}]');
RESET ROLE;

-- can_listen(): NULL without a rule, the rule's answer (as the caller) with one
SELECT pg_events.can_listen('news') IS NULL AS no_rule;
CREATE FUNCTION pg_events.authorize_channel(channel text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT channel <> 'admin' OR current_user = 'pge_bob'
$$;
SET ROLE pge_alice;
SELECT pg_events.can_listen('news') AS news, pg_events.can_listen('admin') AS admin;
RESET ROLE;
SET ROLE pge_bob;
SELECT pg_events.can_listen('admin') AS admin;
RESET ROLE;
-- a rule that fails is an error, never "no rule"
CREATE OR REPLACE FUNCTION pg_events.authorize_channel(channel text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT split_part(channel, ':', 2)::int > 0
$$;
SELECT pge_try($$SELECT pg_events.can_listen('room:abc')$$);
SELECT pg_events.can_listen('room:5') AS room5;
DROP FUNCTION pg_events.authorize_channel(text);

DROP TABLE notes, teams, "Mixed Case";
DROP FUNCTION pge_visible(name, text, jsonb);
DROP OWNED BY pge_alice, pge_bob, pge_members, pge_nobody, pge_owner;
DROP ROLE pge_alice, pge_bob, pge_members, pge_nobody, pge_owner;
