-- Row-level security driven by hessra tokens, on 100 000 rows.
\i test/tmp/vars.psql
SET client_min_messages = warning;

CREATE TABLE orders (id int PRIMARY KEY, owner text NOT NULL, amount int NOT NULL);
INSERT INTO orders
SELECT g, CASE WHEN g % 2 = 0 THEN 'alice' ELSE 'bob' END, g % 100
FROM generate_series(1, 100000) AS g;
ANALYZE orders;
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE orders FORCE ROW LEVEL SECURITY;
CREATE POLICY orders_read ON orders FOR SELECT
  USING (hessra_row_security(current_setting('hessra.token', true), 'orders', 'read'));
CREATE POLICY orders_insert ON orders FOR INSERT
  WITH CHECK (hessra_row_security(current_setting('hessra.token', true), 'orders', 'write'));
CREATE ROLE regress_hessra_app;
GRANT SELECT, INSERT ON orders TO regress_hessra_app;
-- hessra_stats() is for monitoring roles (0.3.0 revokes it from PUBLIC).
GRANT pg_monitor TO regress_hessra_app;

SET ROLE regress_hessra_app;
-- One process, no parallel workers: the counters below are this backend's.
SET max_parallel_workers_per_gather = 0;

-- No token, or a token that does not grant orders/read: no rows.
SELECT count(*) AS no_token FROM orders;
SET hessra.token = :'tok_expired';
SELECT count(*) AS expired FROM orders;
SET hessra.token = :'tok_untrusted';
SELECT count(*) AS untrusted FROM orders;
SET hessra.token = :'tok_alice_write';
SELECT count(*) AS write_only FROM orders;
SET hessra.token = :'tok_alice_docs';
SELECT count(*) AS other_resource FROM orders;

-- A valid token: every row, the signature verified once for 100 000 calls.
SET hessra.token = :'tok_alice';
SELECT calls AS c0, verifications AS v0, cache_hits AS h0, cache_misses AS m0
FROM hessra_stats() \gset
SELECT count(*) AS alice_rows FROM orders;
SELECT calls - :c0 AS policy_calls,
       cache_misses - :m0 AS signature_checks,
       verifications - :v0 AS engine_verifications,
       statement_cache_hits >= 99999 AS answered_from_statement_cache
FROM hessra_stats();
-- A statement in a later second (the engine's clock resolution; answers of
-- the same second are reused): time checks evaluated again, the signature
-- check skipped.
SELECT pg_sleep(1.1) IS NOT NULL AS next_second;
SELECT count(*) AS alice_rows_again FROM orders;
SELECT calls - :c0 AS policy_calls,
       cache_misses - :m0 AS signature_checks,
       cache_hits - :h0 AS signature_checks_skipped
FROM hessra_stats();

-- The token is transaction-local with hessra_set_token().
BEGIN;
SELECT hessra_set_token(:'tok_bob');
SELECT count(*) AS bob_rows FROM orders;
COMMIT;
RESET hessra.token;
SELECT count(*) AS no_token_again FROM orders;

-- WITH CHECK: only a token granting orders/write may insert.
SET hessra.token = :'tok_alice';
INSERT INTO orders VALUES (100001, 'alice', 1);
SET hessra.token = :'tok_alice_write';
INSERT INTO orders VALUES (100001, 'alice', 1);
RESET ROLE;

-- Owner column compared with the token's subject, evaluated once per statement.
CREATE POLICY orders_owner ON orders AS RESTRICTIVE FOR SELECT
  USING (owner = (SELECT hessra_current_subject()));
SET ROLE regress_hessra_app;
SET max_parallel_workers_per_gather = 0;
SET hessra.token = :'tok_alice';
SELECT owner, count(*) FROM orders GROUP BY owner ORDER BY owner;
SET hessra.token = :'tok_bob';
SELECT owner, count(*) FROM orders GROUP BY owner ORDER BY owner;
SET hessra.token = :'tok_multi';
SELECT count(*) AS ambiguous_subject FROM orders;
RESET hessra.token;
RESET ROLE;

-- Superusers bypass RLS (BYPASSRLS), token or not.
SET hessra.token = :'tok_bob';
SELECT count(*) AS superuser_with_bob FROM orders;
RESET hessra.token;
