-- Parallel query: workers load the same configuration and token, and see the
-- same "now" (the statement start) as the leader.
\i test/tmp/vars.psql
SET client_min_messages = warning;

CREATE TABLE par AS
SELECT g AS id, CASE WHEN g % 2 = 0 THEN 'alice' ELSE 'bob' END AS owner
FROM generate_series(1, 100000) AS g;
ANALYZE par;

CREATE FUNCTION regress_plan_is_parallel(q text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    IF line ~ 'Parallel (Seq|Index|Bitmap)' THEN RETURN true; END IF;
  END LOOP;
  RETURN false;
END $$;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- debug_parallel_query (PostgreSQL 16+) was force_parallel_mode before.
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
                  'on', false) IS NOT NULL AS parallel_forced;

SELECT regress_plan_is_parallel(format(
  'SELECT count(*) FROM par WHERE hessra_row_security(%L, %L, %L)', :'tok_alice', 'orders', 'read'))
  AS row_security_runs_in_workers;
SELECT count(*) AS alice FROM par WHERE hessra_row_security(:'tok_alice', 'orders', 'read');
SELECT count(*) AS expired FROM par WHERE hessra_row_security(:'tok_expired', 'orders', 'read');
SELECT count(*) AS alice_identity
FROM par WHERE hessra_verify_token(:'tok_alice', owner, 'orders', 'read');
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS single_call;

-- The session token reaches the workers.
SET hessra.token = :'tok_bob';
SELECT regress_plan_is_parallel(
  'SELECT count(*) FROM par WHERE owner = hessra_current_subject()') AS subject_runs_in_workers;
SELECT count(*) AS bob_rows FROM par WHERE owner = hessra_current_subject();
SELECT count(*) AS bob_token
FROM par WHERE hessra_row_security(current_setting('hessra.token', true), 'orders', 'read');
RESET hessra.token;

-- So does a session configuration chosen with hessra_init().
SELECT hessra_init(:'cfg_alt');
SELECT count(*) AS alice_with_alt FROM par WHERE hessra_row_security(:'tok_alice', 'orders', 'read');
SELECT count(*) AS other_key_with_alt FROM par WHERE hessra_row_security(:'tok_untrusted', 'orders', 'read');
RESET hessra.config_path;
SELECT count(*) AS alice_again FROM par WHERE hessra_row_security(:'tok_alice', 'orders', 'read');

-- Under RLS with a parallel plan.
SET ROLE regress_hessra_app;
SET hessra.token = :'tok_alice';
SELECT regress_plan_is_parallel('SELECT count(*) FROM orders') AS rls_runs_in_workers;
SELECT owner, count(*) FROM orders GROUP BY owner ORDER BY owner;
RESET hessra.token;
SELECT count(*) AS no_token FROM orders;
RESET ROLE;

-- Administration functions never run in workers.
SELECT hessra_reload_config();
SELECT config_loaded FROM hessra_stats();
