-- hessra_current_subject, hessra_inspect, hessra_explain, hessra_stats,
-- hessra_init, hessra_reload_config and reloading on file changes.
\i test/tmp/vars.psql
SET client_min_messages = warning;

-- hessra_current_subject(): subject of the verified rights of hessra.token.
SELECT hessra_current_subject() IS NULL AS no_token;
SET hessra.token = :'tok_alice';
SELECT hessra_current_subject() AS subject;
SELECT hessra_current_token() = :'tok_alice' AS current_token_is_alice;
SET hessra.token = :'tok_bob';
SELECT hessra_current_subject() AS subject;
SET hessra.token = :'tok_edge';
SELECT hessra_current_subject() AS subject;
SET hessra.token = :'tok_expired';
SELECT hessra_current_subject() IS NULL AS expired;
SET hessra.token = :'tok_untrusted';
SELECT hessra_current_subject() IS NULL AS untrusted;
SET hessra.token = 'not-a-token';
SELECT hessra_current_subject() IS NULL AS garbage;
SET hessra.token = :'tok_multi';
SELECT hessra_current_subject() IS NULL AS ambiguous_two_subjects;
RESET hessra.token;
BEGIN;
SELECT hessra_set_token(:'tok_bob');
SELECT hessra_current_subject() AS subject_in_transaction;
COMMIT;
SELECT hessra_current_subject() IS NULL AS after_commit;
-- A request per transaction: statements of the same second asking for the
-- same token's subject are answered from the memo (the engine's "now" is in
-- whole seconds), so five statements verify once, twice if a second boundary
-- falls between them.
SET hessra.token = :'tok_alice';
SELECT verifications AS v0 FROM hessra_stats() \gset
SELECT hessra_current_subject() AS s1 \gset
SELECT hessra_current_subject() AS s2 \gset
SELECT hessra_current_subject() AS s3 \gset
SELECT hessra_current_subject() AS s4 \gset
SELECT hessra_current_subject() AS s5 \gset
SELECT verifications - :v0 BETWEEN 1 AND 2 AS verified_once_or_twice, :'s5' AS subject
FROM hessra_stats();
RESET hessra.token;

-- hessra_inspect(): decoded, signatures NOT checked.
SELECT hessra_inspect(:'tok_alice') -> 'rights' AS rights,
       hessra_inspect(:'tok_alice') -> 'verified' AS verified,
       jsonb_typeof(hessra_inspect(:'tok_alice') -> 'blocks') AS blocks,
       jsonb_array_length(hessra_inspect(:'tok_alice') -> 'blocks') AS block_count,
       jsonb_typeof(hessra_inspect(:'tok_alice') -> 'expires_at') AS expires_at,
       hessra_inspect(:'tok_alice') -> 'root_key_id' AS root_key_id;
SELECT (hessra_inspect(:'tok_alice') ->> 'expires_at')::bigint
         BETWEEN extract(epoch FROM now())::bigint + 3000
             AND extract(epoch FROM now())::bigint + 3700 AS expires_in_an_hour;
SELECT hessra_inspect(:'tok_edge') -> 'root_key_id' AS edge_root_key_id,
       hessra_inspect(:'tok_noexp') -> 'expires_at' AS noexp_expires_at,
       hessra_inspect(:'tok_untrusted') -> 'rights' AS untrusted_rights_still_decoded;
SELECT hessra_inspect(:'tok_multi') -> 'rights' AS multi_rights;
SELECT hessra_inspect('not-a-token') IS NULL AS garbage,
       hessra_inspect(NULL) IS NULL AS null_token;
SELECT position(:'tok_alice' IN hessra_inspect(:'tok_alice')::text) = 0 AS token_not_in_inspect;
-- A signed token whose strings hold a NUL, which jsonb cannot: no ERROR (the
-- failing statement, token included, would be logged); NUL shows as U+FFFD.
SELECT hessra_inspect(:'tok_nul') -> 'rights' AS nul_shown_as_fffd,
       hessra_inspect(:'tok_nul') -> 'rights' -> 0 ->> 'subject' = E'ali\uFFFDce' AS replaced,
       jsonb_array_length(hessra_inspect(:'tok_nul') -> 'blocks') AS block_count;

-- hessra_explain(): why, never the token.
SELECT hessra_explain(:'tok_alice', 'alice', 'orders', 'read') AS alice;
SELECT hessra_explain(:'tok_alice', 'alice', 'orders') AS default_operation;
SELECT hessra_explain(NULL, 'alice', 'orders', 'read') AS null_token;
SELECT hessra_explain(:'tok_alice', 'alice', NULL, 'read') AS null_resource;
SELECT t, split_part(hessra_explain(tok, 'alice', 'orders', 'read'), ':', 1) AS reason,
       length(hessra_explain(tok, 'alice', 'orders', 'read')) > 30 AS says_why,
       position(tok IN hessra_explain(tok, 'alice', 'orders', 'read')) = 0 AS token_not_echoed
FROM (VALUES ('bob',       :'tok_bob'),
             ('expired',   :'tok_expired'),
             ('untrusted', :'tok_untrusted'),
             ('write',     :'tok_alice_write'),
             ('garbage',   'not-a-token-at-all')) AS v(t, tok)
ORDER BY t;
SELECT hessra_explain(:'tok_expired', 'alice', 'orders', 'read') ~ 'expired' AS mentions_expiry;
SELECT hessra_explain(:'tok_alice', NULL, 'orders', 'read') AS capability_mode;

-- hessra_stats(): counters of this backend.
SELECT config_loaded, config_generation >= 1 AS generation, calls > 0 AS calls,
       verifications > 0 AS verifications, cache_misses > 0 AS misses,
       cache_capacity
FROM hessra_stats();
SELECT config_generation AS g0 FROM hessra_stats() \gset

-- Explicit reload and hessra_init() each load a new generation.
SELECT hessra_reload_config();
SELECT config_generation - :g0 AS new_generations FROM hessra_stats();
SELECT hessra_init(:'cfg_good');
SELECT config_generation - :g0 AS new_generations FROM hessra_stats();
SELECT current_setting('hessra.config_path') = :'cfg_good' AS init_sets_config_path;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS after_init;

-- hessra_init() switches the trusted keys for this session.
SELECT hessra_init(:'cfg_alt');
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_with_alt,
       hessra_verify_token(:'tok_untrusted', 'alice', 'orders') AS other_key_with_alt;
-- hessra_init() inside a rolled back transaction is undone.
BEGIN;
SELECT hessra_init(:'cfg_good');
ROLLBACK;
SELECT hessra_verify_token(:'tok_untrusted', 'alice', 'orders') AS still_alt;
RESET hessra.config_path;
SELECT current_setting('hessra.config_path') = :'cfg_good' AS back_to_database_setting;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_again;

-- The file's leeway_seconds (3600 here) applies unless hessra.leeway_seconds
-- overrides it, 0 included. tok_recent expired two minutes ago.
SELECT hessra_init(:'cfg_leeway');
SELECT hessra_verify_token(:'tok_recent', 'alice', 'orders') AS file_leeway,
       hessra_verify_token(:'tok_expired', 'alice', 'orders') AS hour_old;
SET hessra.leeway_seconds = 0;
SELECT hessra_verify_token(:'tok_recent', 'alice', 'orders') AS explicit_zero,
       hessra_verify_token(:'tok_alice', 'alice', 'orders') AS valid_token_zero;
SET hessra.leeway_seconds = 60;
SELECT hessra_verify_token(:'tok_recent', 'alice', 'orders') AS one_minute;
SET hessra.leeway_seconds = 600;
SELECT hessra_verify_token(:'tok_recent', 'alice', 'orders') AS ten_minutes;
RESET hessra.leeway_seconds;
SELECT hessra_verify_token(:'tok_recent', 'alice', 'orders') AS file_leeway_again;
RESET hessra.config_path;

-- A changed file is picked up by the next statement, without a reload.
COPY (SELECT :'json_good') TO :'cfg_mut';
SELECT hessra_init(:'cfg_mut');
SELECT config_generation AS g1 FROM hessra_stats() \gset
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_mutable;
COPY (SELECT :'json_alt') TO :'cfg_mut';
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_after_change,
       hessra_verify_token(:'tok_untrusted', 'alice', 'orders') AS other_after_change;
SELECT config_generation - :g1 AS reloads FROM hessra_stats();
-- Unchanged file: no reload.
SELECT hessra_verify_token(:'tok_untrusted', 'alice', 'orders') AS unchanged;
SELECT config_generation - :g1 AS reloads FROM hessra_stats();
COPY (SELECT :'json_good') TO :'cfg_mut';
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_restored;
RESET hessra.config_path;

-- Rights of any operation, bounded by hessra.cache_size.
SET hessra.cache_size = 2;
SELECT count(*) FILTER (WHERE hessra_verify_token(tok, 'alice', 'orders')) AS valid
FROM unnest(ARRAY[:'tok_alice', :'tok_alice_write', :'tok_noexp', :'tok_edge', :'tok_expired']) AS tok;
SELECT cache_entries <= 2 AS bounded, cache_capacity FROM hessra_stats();
RESET hessra.cache_size;
