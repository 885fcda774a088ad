-- hessra_row_security(resource, operation): the token read from hessra.token by
-- the function itself, per-row resources, and the same answers as the
-- three-argument form.
\i test/tmp/vars.psql
SET client_min_messages = warning;

SELECT oid::regprocedure AS function, provolatile AS volatile, proparallel AS parallel, procost AS cost
FROM pg_proc WHERE proname = 'hessra_row_security' ORDER BY 1::text;

-- Every test token, as a table (the token column drives the generic path).
CREATE TEMP TABLE rs_tokens(name text, tok text);
INSERT INTO rs_tokens VALUES
  ('alice', :'tok_alice'), ('bob', :'tok_bob'), ('alice_write', :'tok_alice_write'),
  ('alice_docs', :'tok_alice_docs'), ('expired', :'tok_expired'), ('recent', :'tok_recent'),
  ('noexp', :'tok_noexp'), ('untrusted', :'tok_untrusted'), ('edge', :'tok_edge'),
  ('edge_nokid', :'tok_edge_nokid'), ('multi', :'tok_multi'), ('empty', ''), ('blank', '   '),
  ('garbage', 'not a token'), ('null', NULL);
CREATE TEMP TABLE rs_args(resource text, operation text);
INSERT INTO rs_args
SELECT r, o FROM unnest(ARRAY['orders', 'documents', 'other', '', NULL]) r,
                 unnest(ARRAY['read', 'write', NULL]) o;

-- For each token: the two-argument form (hessra.token set per token by the
-- function, between the statements it runs), the three-argument form with
-- current_setting(), with the token column and with the engine's
-- un-memoised answer (hessra_verify_token in capability mode).
CREATE FUNCTION rs_compare(cache_size_note text) RETURNS TABLE(token text, resource text, operation text,
  two_arg boolean, with_setting boolean, with_column boolean, engine boolean)
LANGUAGE plpgsql AS $$
DECLARE t record;
BEGIN
  FOR t IN SELECT * FROM rs_tokens LOOP
    PERFORM set_config('hessra.token', coalesce(t.tok, ''), false);
    RETURN QUERY
      SELECT t.name, a.resource, a.operation,
             hessra_row_security(a.resource, a.operation),
             hessra_row_security(current_setting('hessra.token', true), a.resource, a.operation),
             hessra_row_security(t.tok, a.resource, a.operation),
             coalesce(hessra_verify_token(t.tok, NULL, a.resource, a.operation), false)
      FROM rs_args a;
  END LOOP;
  PERFORM set_config('hessra.token', '', false);
END $$;

-- Any disagreement between the forms is listed here (none expected).
SELECT * FROM rs_compare('default')
WHERE two_arg IS DISTINCT FROM engine OR with_setting IS DISTINCT FROM engine
   OR with_column IS DISTINCT FROM engine;
-- What was compared: which tokens grant what.
SELECT token, string_agg(coalesce(resource, '<null>') || '/' || coalesce(operation, '<any>'), ', '
                         ORDER BY resource, operation) AS allowed
FROM rs_compare('default') WHERE two_arg GROUP BY token ORDER BY token;
SELECT count(*) AS compared, count(*) FILTER (WHERE two_arg) AS allowed FROM rs_compare('default');

-- The same with the memo disabled (every call goes to the engine).
SET hessra.cache_size = 0;
SELECT * FROM rs_compare('cache off')
WHERE two_arg IS DISTINCT FROM engine OR with_setting IS DISTINCT FROM engine
   OR with_column IS DISTINCT FROM engine;
SELECT count(*) FILTER (WHERE two_arg) AS allowed_cache_off FROM rs_compare('cache off');
RESET hessra.cache_size;

-- A constant token argument.
SELECT hessra_row_security(:'tok_alice', r, 'read') AS const_token, r
FROM unnest(ARRAY['orders', 'documents', 'orders']) r;

-- Unset, empty and blank hessra.token: false, without needing a configuration.
SET hessra.config_path = '';
RESET hessra.token;
SELECT hessra_row_security('orders', 'read') AS unset_token;
SET hessra.token = '';
SELECT hessra_row_security('orders', 'read') AS empty_token;
SET hessra.token = '   ';
SELECT hessra_row_security('orders', 'read') AS blank_token;
-- NULL resource: false as well.
SET hessra.token = :'tok_alice';
SELECT hessra_row_security(NULL, 'read') AS null_resource;
-- A token and no configuration: the same ERROR as the three-argument form.
SELECT regress_try('SELECT hessra_row_security(''orders'', ''read'')', NULL, false) AS two_arg_unconfigured;
SELECT regress_try('SELECT hessra_row_security(current_setting(''hessra.token'', true), ''orders'', ''read'')',
                   NULL, false) AS three_arg_unconfigured;
RESET hessra.config_path;
RESET hessra.token;

-- Per-row resources under RLS, 100 000 rows, as a non-superuser.
CREATE TABLE rs_docs (id int PRIMARY KEY, resource text NOT NULL);
INSERT INTO rs_docs
SELECT g, CASE g % 4 WHEN 0 THEN 'orders' WHEN 1 THEN 'documents' WHEN 2 THEN 'orders' ELSE 'archive' END
FROM generate_series(1, 100000) g;
ANALYZE rs_docs;
ALTER TABLE rs_docs ENABLE ROW LEVEL SECURITY;
ALTER TABLE rs_docs FORCE ROW LEVEL SECURITY;
CREATE POLICY rs_read ON rs_docs FOR SELECT USING (hessra_row_security(resource, 'read'));
CREATE POLICY rs_insert ON rs_docs FOR INSERT WITH CHECK (hessra_row_security(resource, 'write'));
CREATE ROLE regress_hessra_rowsec;
GRANT SELECT, INSERT ON rs_docs TO regress_hessra_rowsec;
GRANT pg_monitor TO regress_hessra_rowsec;  -- hessra_stats() is for monitoring roles
CREATE FUNCTION rs_visible() RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(resource || '=' || n, ' ' ORDER BY resource), '(none)')
  FROM (SELECT resource, count(*) AS n FROM rs_docs GROUP BY resource) s $$;

SET ROLE regress_hessra_rowsec;
SET max_parallel_workers_per_gather = 0;
SELECT rs_visible() AS no_token;
SET hessra.token = :'tok_alice';
SELECT calls AS c0, statement_cache_hits AS s0, verifications AS v0 FROM hessra_stats() \gset
SELECT rs_visible() AS alice;
-- 100 000 calls: at most one engine verification per distinct resource (3;
-- fewer when an earlier statement of the same second asked), the rest memo hits.
SELECT calls - :c0 AS calls, verifications - :v0 BETWEEN 1 AND 3 AS engine_verifications_1_to_3,
       (statement_cache_hits - :s0) + (verifications - :v0) = calls - :c0 AS others_from_memo
FROM hessra_stats();
SET hessra.token = :'tok_alice_docs';
SELECT rs_visible() AS alice_docs;
SET hessra.token = :'tok_expired';
SELECT rs_visible() AS expired;
SET hessra.token = :'tok_untrusted';
SELECT rs_visible() AS untrusted;
SET hessra.token = 'not a token';
SELECT rs_visible() AS garbage;
SET hessra.token = '';
SELECT rs_visible() AS empty;

-- Changing hessra.token in a transaction: SET LOCAL, savepoints, rollback.
SET hessra.token = :'tok_alice';
BEGIN;
SELECT rs_visible() AS session_alice;
SET LOCAL hessra.token = :'tok_alice_docs';
SELECT rs_visible() AS local_docs;
SAVEPOINT s1;
SET LOCAL hessra.token = :'tok_expired';
SELECT rs_visible() AS local_expired;
ROLLBACK TO SAVEPOINT s1;
SELECT rs_visible() AS docs_after_rollback_to_savepoint;
SELECT hessra_set_token(NULL);
SELECT rs_visible() AS cleared_by_set_token;
COMMIT;
SELECT rs_visible() AS session_alice_after_commit;
BEGIN;
SET hessra.token = :'tok_alice_docs';
SELECT rs_visible() AS set_in_transaction;
ROLLBACK;
SELECT rs_visible() AS alice_after_rollback;
BEGIN;
SELECT hessra_set_token(:'tok_alice_docs');
SELECT rs_visible() AS set_token_in_transaction;
COMMIT;
SELECT rs_visible() AS alice_after_set_token_transaction;
RESET hessra.token;
SELECT rs_visible() AS after_reset;

-- Changing hessra.token in the middle of a statement, between rows: refused
-- once the statement has used it (a statement sees one token, issue 23;
-- pg-plugin/sql/statement_token.sql).
-- (The tokens come from settings: an ERROR logs the statement, which must
-- not hold a token.)
\set ECHO none
SET regress.tok_alice = :'tok_alice';
SET regress.tok_expired = :'tok_expired';
\set ECHO all
SELECT i, set_config('hessra.token', current_setting(CASE WHEN i % 2 = 1 THEN 'regress.tok_alice' ELSE 'regress.tok_expired' END), false) <> ''
          AND hessra_row_security('orders', 'read') AS allowed
FROM generate_series(1, 4) i;
RESET regress.tok_alice;
RESET regress.tok_expired;
RESET hessra.token;

-- WITH CHECK per row.
SET hessra.token = :'tok_alice_write';
INSERT INTO rs_docs VALUES (100001, 'orders');
SELECT regress_try('INSERT INTO rs_docs VALUES (100002, ''documents'')', NULL, false) AS other_resource_insert;
SET hessra.token = :'tok_alice';
SELECT regress_try('INSERT INTO rs_docs VALUES (100003, ''orders'')', NULL, false) AS read_token_insert;
RESET hessra.token;
RESET ROLE;

-- Configuration and leeway changes: a later statement never reuses answers.
SET ROLE regress_hessra_rowsec;
SET max_parallel_workers_per_gather = 0;
SET hessra.token = :'tok_recent';
SELECT rs_visible() AS recent_expired;
RESET ROLE;
SET hessra.leeway_seconds = 3600;
SET ROLE regress_hessra_rowsec;
SELECT rs_visible() AS recent_with_leeway;
RESET ROLE;
RESET hessra.leeway_seconds;
SET ROLE regress_hessra_rowsec;
SELECT rs_visible() AS recent_without_leeway;
SET hessra.token = :'tok_alice';
RESET ROLE;
SELECT hessra_init(:'cfg_alt');
SET ROLE regress_hessra_rowsec;
SELECT rs_visible() AS alice_under_other_key;
SET hessra.token = :'tok_untrusted';
SELECT rs_visible() AS other_key_token;
RESET ROLE;
RESET hessra.config_path;
SET ROLE regress_hessra_rowsec;
SELECT rs_visible() AS other_key_token_after_reset;
RESET hessra.token;
RESET ROLE;

-- A configuration reload (SIGHUP) that changes the leeway under a running session.
SET hessra.token = :'tok_recent';
SET ROLE regress_hessra_rowsec;
SELECT rs_visible() AS before_reload;
RESET ROLE;
ALTER SYSTEM SET hessra.leeway_seconds = 3600;
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SET ROLE regress_hessra_rowsec;
SELECT rs_visible() AS after_reload;
RESET ROLE;
ALTER SYSTEM RESET hessra.leeway_seconds;
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SET ROLE regress_hessra_rowsec;
SELECT rs_visible() AS after_second_reload;
RESET ROLE;
RESET hessra.token;

-- Parallel workers get hessra.token restored at start: same answers.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
                  'on', false) IS NOT NULL AS parallel_forced;
SET ROLE regress_hessra_rowsec;
SET hessra.token = :'tok_alice_docs';
SELECT regress_plan_is_parallel('SELECT count(*) FROM rs_docs') AS runs_in_workers;
SELECT rs_visible() AS parallel_docs;
SET hessra.token = :'tok_alice';
SELECT rs_visible() AS parallel_alice;
RESET hessra.token;
SELECT rs_visible() AS parallel_no_token;
RESET ROLE;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- The three-argument form with current_setting('hessra.token'[, missing_ok])
-- is planned as the two-argument form (hessra_row_security_support); a token
-- from any other expression is left as written.
CREATE FUNCTION rs_plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
    IF line ~ 'hessra_row_security' THEN RETURN NEXT btrim(line); END IF;
  END LOOP;
END $$;
SELECT rs_plan($q$SELECT id FROM rs_docs WHERE hessra_row_security(current_setting('hessra.token', true), resource, 'read')$q$);
SELECT rs_plan($q$SELECT id FROM rs_docs WHERE hessra_row_security(current_setting('HESSRA.TOKEN'), resource, 'read')$q$);
SELECT rs_plan($q$SELECT id FROM rs_docs WHERE hessra_row_security(current_setting('app.token', true), resource, 'read')$q$);
SELECT rs_plan($q$SELECT id FROM rs_docs WHERE hessra_row_security('x' || current_setting('hessra.token', true), resource, 'read')$q$);
-- Rewritten or not, the answers of the engine (superuser: every row is seen).
SET hessra.token = :'tok_alice';
SELECT count(*) FILTER (WHERE hessra_row_security(current_setting('hessra.token', true), resource, 'read')) AS rewritten,
       count(*) FILTER (WHERE hessra_row_security(:'tok_alice', resource, 'read')) AS constant_token,
       count(*) FILTER (WHERE hessra_verify_token(:'tok_alice', NULL, resource, 'read')) AS engine
FROM (SELECT resource FROM rs_docs ORDER BY id LIMIT 40) s;
RESET hessra.token;
DROP FUNCTION rs_plan(text);

DROP TABLE rs_docs;
DROP FUNCTION rs_visible();
DROP FUNCTION rs_compare(text);
DROP ROLE regress_hessra_rowsec;
