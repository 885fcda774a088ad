-- One token per statement (issue 23, item 4). A per-row set_config() of
-- hessra.token in a LATERAL join used to make the policy's two InitPlans
-- answer for different tokens: hessra_current_subject() for a token naming
-- bob (rights on another resource), hessra_row_security() for mallory's
-- token: mallory read bob's rows. Now a statement that has read the token
-- cannot change it; changes between statements keep working.
\i test/tmp/vars.psql
SET client_min_messages = warning;

CREATE TABLE notes (id serial PRIMARY KEY, owner text NOT NULL, body text NOT NULL);
INSERT INTO notes (owner, body)
SELECT CASE WHEN g % 2 = 0 THEN 'mallory' ELSE 'bob' END, 'note ' || g
FROM generate_series(1, 2000) AS g;
CREATE INDEX ON notes (owner);
ANALYZE notes;
-- The policies of `hessra pg policy generate --table notes --owner-column owner --resource notes`
-- (SELECT only; the generator's other commands have the same shape).
ALTER TABLE "public"."notes" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "public"."notes" FORCE ROW LEVEL SECURITY;
CREATE POLICY "hessra_select" ON "public"."notes"
  AS PERMISSIVE FOR SELECT TO PUBLIC
  USING ((SELECT "public".hessra_row_security(pg_catalog.current_setting('hessra.token', true), 'notes'::pg_catalog.text, 'read'::pg_catalog.text)) AND "owner"::pg_catalog.text = (SELECT "public".hessra_current_subject()));
CREATE FUNCTION regress_reset_token() RETURNS text LANGUAGE plpgsql AS
$$ BEGIN RESET hessra.token; RETURN 'reset'; END $$;
CREATE ROLE regress_hessra_mallory;
GRANT SELECT ON notes TO regress_hessra_mallory;
SET ROLE regress_hessra_mallory;
SET enable_seqscan = off;
SET max_parallel_workers_per_gather = 0;

-- (token, target) pairs: first a token naming bob, then mallory's.
CREATE TEMP TABLE pairs (ord int, tok text, target text);
\set ECHO none
INSERT INTO pairs VALUES (1, :'tok_bob_calendar', 'nobody'), (2, :'tok_mallory_notes', 'bob');
\set ECHO all

-- The attack: refused (55P02), no row of bob's returned.
BEGIN;
SELECT p.ord, p.target, n.cnt
  FROM pairs p
  CROSS JOIN LATERAL (SELECT pg_catalog.set_config('hessra.token', p.tok, true) AS t OFFSET 0) s
  CROSS JOIN LATERAL (SELECT count(*) AS cnt FROM notes WHERE owner = p.target AND s.t IS NOT NULL) n
 ORDER BY 1;
ROLLBACK;
-- The plan that made it possible: the subject's InitPlan in a one-time
-- filter evaluated for the first pair, the rights' InitPlan for the second.
EXPLAIN (COSTS OFF)
SELECT p.ord, p.target, n.cnt
  FROM pairs p
  CROSS JOIN LATERAL (SELECT pg_catalog.set_config('hessra.token', p.tok, true) AS t OFFSET 0) s
  CROSS JOIN LATERAL (SELECT count(*) AS cnt FROM notes WHERE owner = p.target AND s.t IS NOT NULL) n
 ORDER BY 1;

-- The SQLSTATE, from a statement that reads the token, RESETs it (in a
-- function) and uses it again.
DO $$
DECLARE got text;
BEGIN
  PERFORM pg_catalog.set_config('hessra.token', (SELECT tok FROM pairs WHERE ord = 2), true);
  SELECT hessra_current_subject() || ' ' || regress_reset_token() || ' ' || coalesce(hessra_current_subject(), '-') INTO got;
  RAISE WARNING 'not refused: %', got;
EXCEPTION WHEN cant_change_runtime_param THEN
  RAISE WARNING 'refused: SQLSTATE %', SQLSTATE;
END $$;
-- Setting the same value again inside the statement is a change too
-- (otherwise a statement could read another token in between).
BEGIN;
SELECT hessra_set_token(tok) FROM pairs WHERE ord = 2;
SELECT hessra_current_subject() AS subject, pg_catalog.set_config('hessra.token', tok, true) IS NOT NULL AS set_again,
       hessra_current_subject() AS subject_again
  FROM pairs WHERE ord = 2;
ROLLBACK;

-- What keeps working.
-- set_config in its own statement, then queries (node-postgres, Prisma):
BEGIN;
SELECT pg_catalog.set_config('hessra.token', tok, true) IS NOT NULL AS token_set FROM pairs WHERE ord = 2;
SELECT owner, count(*) FROM notes GROUP BY owner;
-- hessra_set_token() to another token in the same transaction:
SELECT hessra_set_token(tok) FROM pairs WHERE ord = 1;
SELECT count(*) AS bob_token_rows FROM notes;
COMMIT;
-- SET LOCAL, and a prepared statement (extended protocol):
BEGIN;
PREPARE set_token(text) AS SELECT pg_catalog.set_config('hessra.token', $1, true) IS NOT NULL;
\set ECHO none
EXECUTE set_token(:'tok_mallory_notes');
\set ECHO all
SELECT owner, count(*) FROM notes GROUP BY owner;
DEALLOCATE set_token;
SET LOCAL hessra.token = '';
SELECT count(*) AS no_token_rows FROM notes;
COMMIT;
-- the statements of a DO block each see their own token:
DO $$
DECLARE a bigint; b bigint;
BEGIN
  PERFORM hessra_set_token((SELECT tok FROM pairs WHERE ord = 2));
  SELECT count(*) INTO a FROM notes;
  PERFORM hessra_set_token((SELECT tok FROM pairs WHERE ord = 1));
  SELECT count(*) INTO b FROM notes;
  RAISE WARNING 'mallory token: % rows, bob token: % rows', a, b;
END $$;
-- a token per row as an argument (not the setting), in one statement:
SELECT ord, hessra_verify_token(tok, 'mallory', 'notes', 'read') AS mallory_notes,
       hessra_row_security(tok, 'notes', 'read') AS row_security
  FROM pairs ORDER BY ord;

RESET enable_seqscan;
RESET max_parallel_workers_per_gather;
DROP TABLE pairs;
RESET ROLE;
DROP FUNCTION regress_reset_token();
DROP TABLE notes;
DROP ROLE regress_hessra_mallory;
