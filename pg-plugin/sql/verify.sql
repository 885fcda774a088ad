-- Verification semantics: true only for a valid token granting the request.
\i test/tmp/vars.psql
SET client_min_messages = warning;

-- Identity mode, any granted operation.
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_orders,
       hessra_verify_token(:'tok_alice', 'bob', 'orders') AS bob_with_alice_token,
       hessra_verify_token(:'tok_alice', 'alice', 'documents') AS other_resource,
       hessra_verify_token(:'tok_alice_docs', 'alice', 'documents') AS docs_token;
-- With an operation.
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders', 'read') AS read,
       hessra_verify_token(:'tok_alice', 'alice', 'orders', 'write') AS write,
       hessra_verify_token(:'tok_alice_write', 'alice', 'orders', 'write') AS write_token,
       hessra_verify_token(:'tok_alice_write', 'alice', 'orders', 'read') AS write_token_read,
       hessra_verify_token(:'tok_alice', 'alice', 'orders', NULL) AS any_operation;
-- Capability mode (subject NULL).
SELECT hessra_verify_token(:'tok_alice', NULL, 'orders') AS capability,
       hessra_verify_token(:'tok_alice', NULL, 'orders', 'read') AS capability_read,
       hessra_verify_token(:'tok_alice', NULL, 'orders', 'write') AS capability_write;

-- Bad, expired, untrusted, NULL: false, never an error.
SELECT hessra_verify_token(NULL, 'alice', 'orders') AS null_token,
       hessra_verify_token('', 'alice', 'orders') AS empty_token,
       hessra_verify_token('not-a-token', 'alice', 'orders') AS garbage,
       hessra_verify_token('En0KEwoEMTIzNBgDIgkKBwgKEgMYgAgSJAgAEiD', 'alice', 'orders') AS truncated,
       hessra_verify_token(:'tok_alice', 'alice', NULL) AS null_resource,
       hessra_verify_token(:'tok_expired', 'alice', 'orders') AS expired,
       hessra_verify_token(:'tok_untrusted', 'alice', 'orders') AS untrusted_key;
SELECT hessra_verify_token(repeat('A', 2000000), 'alice', 'orders') AS huge;
SELECT hessra_verify_token(:'tok_noexp', 'alice', 'orders') AS no_expiry;

-- Key selection by the token's root key id (7 -> "edge"), else the default key.
SELECT hessra_verify_token(:'tok_edge', 'alice', 'orders') AS edge_with_key_id,
       hessra_verify_token(:'tok_edge_nokid', 'alice', 'orders') AS edge_without_key_id;

-- Surrounding whitespace and a Bearer prefix are accepted.
SELECT hessra_verify_token(E'  ' || :'tok_alice' || E'\n', 'alice', 'orders') AS whitespace,
       hessra_verify_token('Bearer ' || :'tok_alice', 'alice', 'orders') AS bearer;

-- hessra_row_security: capability mode, resource = table name.
SELECT hessra_row_security(:'tok_alice', 'orders', 'read') AS orders_read,
       hessra_row_security(:'tok_alice', 'orders', 'write') AS orders_write,
       hessra_row_security(:'tok_alice', 'invoices', 'read') AS invoices_read,
       hessra_row_security(:'tok_bob', 'orders', 'read') AS bob_read,
       hessra_row_security(:'tok_expired', 'orders', 'read') AS expired,
       hessra_row_security(NULL, 'orders', 'read') AS null_token,
       hessra_row_security(:'tok_alice', 'orders', NULL) AS any_operation;

-- Leeway: a token expired two minutes ago.
SELECT hessra_verify_token(:'tok_recent', 'alice', 'orders') AS recent_no_leeway;
SET hessra.leeway_seconds = 3600;
SELECT hessra_verify_token(:'tok_recent', 'alice', 'orders') AS recent_with_leeway,
       hessra_verify_token(:'tok_expired', 'alice', 'orders') AS hour_old_with_leeway;
SET hessra.leeway_seconds = 0;
SELECT hessra_verify_token(:'tok_recent', 'alice', 'orders') AS recent_leeway_zero;
RESET hessra.leeway_seconds;

-- Per row: arguments vary, "now" does not.
SELECT s, hessra_verify_token(:'tok_alice', s, 'orders') AS ok
FROM unnest(ARRAY['alice', 'bob', 'carol']) AS s ORDER BY s;
-- (CASE keeps the call per row instead of a one-time filter.)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE hessra_row_security(:'tok_alice', 'orders', CASE WHEN g > 0 THEN 'read' END)) AS allowed,
       count(DISTINCT hessra_verify_token(:'tok_alice', 'alice', 'orders', CASE WHEN g > 0 THEN 'read' END)) AS answers
FROM generate_series(1, 10000) AS g;

-- Without the per-backend cache the answers are the same.
SET hessra.cache_size = 0;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS no_cache_alice,
       hessra_verify_token(:'tok_expired', 'alice', 'orders') AS no_cache_expired,
       hessra_verify_token(:'tok_untrusted', 'alice', 'orders') AS no_cache_untrusted;
SELECT cache_capacity FROM hessra_stats();
RESET hessra.cache_size;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS cache_back;
SELECT cache_capacity FROM hessra_stats();
