-- A session whose first hessra call runs inside a parallel operation (a
-- PARALLEL SAFE function running dynamic SQL in a parallel plan). PostgreSQL
-- cannot apply the session's hessra.* settings there; they must not be lost
-- for the rest of the session. Nothing before the parallel query below may
-- load the library in this session.
\i test/tmp/vars.psql
SET client_min_messages = warning;

CREATE TABLE par_load AS SELECT g AS id FROM generate_series(1, 3) AS g;
ANALYZE par_load;
CREATE FUNCTION regress_verify_dynamic() RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE ok boolean;
BEGIN
  EXECUTE 'SELECT hessra_verify_token(current_setting(''hessra.token''), ''alice'', ''orders'')' INTO ok;
  RETURN ok;
END $$;
CREATE FUNCTION regress_plan_has_gather(q text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    IF line ~ 'Gather' THEN RETURN true; END IF;
  END LOOP;
  RETURN false;
END $$;
CREATE FUNCTION regress_force_parallel(on_off text) RETURNS boolean
LANGUAGE sql AS $$
  -- debug_parallel_query (PostgreSQL 16+) was force_parallel_mode before.
  SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                         THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
                    on_off, false) IS NOT NULL
$$;

-- Set before the library is loaded: a placeholder, like the database's
-- hessra.config_path.
SET hessra.token = :'tok_alice';
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- No worker can start: the leader itself runs the plan, in parallel mode.
SET max_parallel_workers = 0;
SELECT regress_force_parallel('on') AS parallel_forced;
SELECT regress_plan_has_gather('SELECT count(*) FROM par_load WHERE regress_verify_dynamic()')
  AS plan_is_parallel;

-- The library loads inside the parallel operation: its settings cannot be
-- applied there, so this statement fails (retry-able)...
SELECT count(*) AS verified FROM par_load WHERE regress_verify_dynamic();
-- ...and the next call outside it finds every setting.
SELECT regress_force_parallel('off') AS parallel_off;
SELECT current_setting('hessra.config_path') <> '' AS config_path_kept,
       hessra_current_token() IS NOT NULL AS token_kept,
       hessra_verify_token(current_setting('hessra.token'), 'alice', 'orders') AS configured;
SELECT regress_force_parallel('on') AS parallel_forced;
SELECT count(*) AS verified FROM par_load WHERE regress_verify_dynamic();
SELECT regress_force_parallel('off') AS parallel_off;
RESET hessra.token;

DROP TABLE par_load;
DROP FUNCTION regress_verify_dynamic(), regress_plan_has_gather(text), regress_force_parallel(text);
