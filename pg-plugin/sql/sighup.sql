-- hessra.config_path from the server configuration file, applied after a
-- reload (SIGHUP) by sessions that are already running.
\i test/tmp/vars.psql
SET client_min_messages = warning;
SELECT hessra_verify_token(NULL, 'alice', 'orders') AS null_token_needs_no_config;
SELECT current_setting('hessra.config_path') = '' AS not_configured;

ALTER SYSTEM SET hessra.config_path = :'cfg_good';
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT current_setting('hessra.config_path') = :'cfg_good' AS from_server_config;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice,
       hessra_verify_token(:'tok_untrusted', 'alice', 'orders') AS other_key;
SELECT config_generation AS g0 FROM hessra_stats() \gset

-- A revocation file edited in place counts after a reload (SIGHUP): the
-- configuration, revocation list included, is read again.
COPY (SELECT jsonb_set(:'json_good'::jsonb, '{revocation_file}', '"revoked.txt"')::text) TO :'cfg_rev';
COPY (SELECT '# nothing revoked') TO :'rev_file';
ALTER SYSTEM SET hessra.config_path = :'cfg_rev';
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_not_revoked;
COPY (SELECT hessra_inspect(:'tok_alice')->'revocation_ids'->>0) TO :'rev_file';
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_revoked_after_sighup,
       hessra_verify_token(:'tok_bob', 'bob', 'orders') AS bob;

ALTER SYSTEM SET hessra.config_path = :'cfg_alt';
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice,
       hessra_verify_token(:'tok_untrusted', 'alice', 'orders') AS other_key;
SELECT config_generation > :g0 AS reloaded FROM hessra_stats();

ALTER SYSTEM RESET hessra.config_path;
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_alice', 'alice', 'orders'),
                   NULL, false) AS unconfigured_again;
SELECT config_loaded FROM hessra_stats();

DROP FUNCTION regress_exec(text);
DROP FUNCTION regress_try(text, text, boolean);
DROP VIEW regress_hessra_functions;
DROP EXTENSION hessra;
