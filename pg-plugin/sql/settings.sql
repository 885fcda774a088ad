-- Settings: who may set what, defaults, ranges.
\i test/tmp/vars.psql
SET client_min_messages = warning;

-- Loading the library defines the settings.
SELECT hessra_current_token() IS NULL AS no_token_yet;

SELECT name, context, vartype, unit, boot_val, min_val, max_val
FROM pg_settings WHERE name LIKE 'hessra.%' ORDER BY name;
-- hessra.token is hidden from SHOW ALL / pg_settings but readable.
SELECT current_setting('hessra.token') = '' AS token_empty;
SHOW hessra.leeway_seconds;
SHOW hessra.cache_size;
SELECT current_setting('hessra.config_path') = :'cfg_good' AS config_path_from_database;

-- A superuser may change every setting.
SET hessra.leeway_seconds = 30;
SHOW hessra.leeway_seconds;
SET hessra.leeway_seconds = '2min';
SHOW hessra.leeway_seconds;
RESET hessra.leeway_seconds;
SET hessra.cache_size = 0;
SHOW hessra.cache_size;
RESET hessra.cache_size;
SELECT split_part(regress_try('SET hessra.leeway_seconds = -2'), ':', 1) AS sqlstate;
SELECT split_part(regress_try('SET hessra.cache_size = -1'), ':', 1) AS sqlstate;
SELECT split_part(regress_try('SET hessra.cache_size = 1000001'), ':', 1) AS sqlstate;

-- Any role may set its own token; only superusers the trust settings.
SET ROLE regress_hessra_user;
SET hessra.token = 'anything';
SELECT current_setting('hessra.token', true) AS token;
SELECT hessra_current_token() AS token;
RESET hessra.token;
SELECT hessra_current_token() IS NULL AS token_reset;
SET hessra.config_path = '/tmp/evil.json';
SET hessra.leeway_seconds = 86400;
SET hessra.cache_size = 1;
SELECT set_config('hessra.config_path', '/tmp/evil.json', false);
SELECT current_setting('hessra.config_path') = :'cfg_good' AS config_path_unchanged;
SHOW hessra.leeway_seconds;
RESET ROLE;
ALTER ROLE regress_hessra_user SET hessra.token = 'per-role default token';
SET ROLE regress_hessra_user;
ALTER ROLE regress_hessra_user SET hessra.config_path = '/tmp/evil.json';
RESET ROLE;
ALTER ROLE regress_hessra_user RESET ALL;

-- hessra_set_token() is transaction-local, like SET LOCAL.
BEGIN;
SELECT hessra_set_token('transaction token');
SELECT hessra_current_token() AS inside;
SELECT current_setting('hessra.token') AS setting_inside;
COMMIT;
SELECT hessra_current_token() IS NULL AS gone_after_commit;

SET hessra.token = 'session token';
BEGIN;
SELECT hessra_set_token('transaction token');
SELECT hessra_current_token() AS inside;
ROLLBACK;
SELECT hessra_current_token() AS restored;
BEGIN;
SELECT hessra_set_token(NULL);
SELECT hessra_current_token() IS NULL AS cleared_inside;
COMMIT;
SELECT hessra_current_token() AS restored;
RESET hessra.token;
-- Blank is the same as unset.
SET hessra.token = '   ';
SELECT hessra_current_token() IS NULL AS blank_is_null;
RESET hessra.token;
