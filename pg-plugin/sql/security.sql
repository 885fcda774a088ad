-- Refusals: non-superusers, unsafe or broken configuration files, no config.
\i test/tmp/vars.psql
SET client_min_messages = warning;

-- Non-superusers may verify but not choose or reload the configuration.
SET ROLE regress_hessra_user;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS user_can_verify;
SELECT hessra_init('/tmp/evil.json');
SELECT hessra_reload_config();
SELECT regress_try('SELECT hessra_init(''/tmp/evil.json'')');
RESET ROLE;
-- Even when granted EXECUTE, the functions check for a superuser.
GRANT EXECUTE ON FUNCTION hessra_init(text), hessra_reload_config() TO regress_hessra_user;
SET ROLE regress_hessra_user;
SELECT hessra_init('/tmp/evil.json');
SELECT hessra_reload_config();
RESET ROLE;
REVOKE EXECUTE ON FUNCTION hessra_init(text), hessra_reload_config() FROM regress_hessra_user;

-- Configuration files that must be refused, each with SQLSTATE F0000
-- (config_file_error), a message, a detail and a hint.
SELECT regress_try(format('SELECT hessra_init(%L)', :'cfg_missing'), :'cfgdir');
SELECT regress_try(format('SELECT hessra_init(%L)', :'cfg_writable'), :'cfgdir');
SELECT regress_try(format('SELECT hessra_init(%L)', :'cfg_badowner'), :'cfgdir', false);
SELECT regress_try(format('SELECT hessra_init(%L)', :'cfg_dir'), :'cfgdir');
SELECT regress_try(format('SELECT hessra_init(%L)', :'cfg_bad'), :'cfgdir', false);
SELECT regress_try(format('SELECT hessra_init(%L)', :'cfg_nokeys'), :'cfgdir');
SELECT regress_try('SELECT hessra_init(''relative/hessra.json'')');
SELECT regress_try('SELECT hessra_init('''')');
SELECT regress_try('SELECT hessra_init(NULL)');
-- After a refused hessra_init() the previous configuration still applies.
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS still_configured;

-- Key files named by the configuration get the same checks as the file
-- itself: another user who can write a key file chooses the trusted key.
SELECT regress_try(format('SELECT hessra_init(%L)', :'cfg_keyfile_writable'), :'cfgdir');
SELECT regress_try(format('SELECT hessra_init(%L)', :'cfg_keyfile_badowner'), :'cfgdir', false);
SELECT hessra_init(:'cfg_keyfile');
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS key_file_trusted;
RESET hessra.config_path;

-- A configuration file that becomes unsafe is refused on the next statement.
COPY (SELECT :'json_good') TO :'cfg_mut';
SELECT hessra_init(:'cfg_mut');
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS before;
COPY (SELECT 'not json at all') TO :'cfg_mut';
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_alice', 'alice', 'orders'),
                   :'cfgdir', false) AS broken_file;
SELECT config_loaded AS dropped_not_kept FROM hessra_stats();
COPY (SELECT :'json_good') TO :'cfg_mut';
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS repaired;
RESET hessra.config_path;

-- No configuration at all: an ERROR for a token, false for no token.
SET hessra.config_path = '';
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_alice', 'alice', 'orders'));
SELECT regress_try(format('SELECT hessra_row_security(%L, %L, %L)', :'tok_alice', 'orders', 'read'),
                   NULL, false);
SELECT regress_try('SELECT hessra_reload_config()', NULL, false);
SELECT hessra_verify_token(NULL, 'alice', 'orders') AS null_token_no_config,
       hessra_row_security(NULL, 'orders', 'read') AS null_token_no_config;
SELECT hessra_inspect(:'tok_alice') -> 'rights' AS inspect_needs_no_config;
RESET hessra.config_path;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS configured_again;

-- Errors never carry the token.
SET hessra.config_path = '';
SELECT position(:'tok_alice' IN regress_try(format('SELECT hessra_verify_token(%L, %L, %L)',
       :'tok_alice', 'alice', 'orders'))) = 0 AS token_not_in_error;
RESET hessra.config_path;
