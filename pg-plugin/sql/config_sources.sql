-- hessra.config_path set by ALTER DATABASE or ALTER ROLE (issue 23, "also
-- reported"): a session that is already open refuses a token at its next
-- statement once its id is added to the revocation file, with or without a
-- configuration reload. A reload does not reassign a setting that comes from
-- the database or the role (a higher-priority source than the file), so the
-- extension watches every file the configuration was read from itself.
\i test/tmp/vars.psql
SET client_min_messages = warning;
SELECT hessra_inspect(:'tok_alice')->'revocation_ids'->>0 AS alice_id \gset
COPY (SELECT jsonb_set(:'json_good'::jsonb, '{revocation_file}', '"revoked.txt"')::text) TO :'cfg_rev';
COPY (SELECT '# nothing revoked') TO :'rev_file';

-- From ALTER DATABASE: a new session takes it.
SELECT regress_exec(format('ALTER DATABASE %I SET hessra.config_path = %L', current_database(), :'cfg_rev'));
\connect
\i test/tmp/vars.psql
SET client_min_messages = warning;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_before;
SELECT source FROM pg_settings WHERE name = 'hessra.config_path';
COPY (SELECT :'alice_id') TO :'rev_file';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_revoked_same_session,
       hessra_verify_token(:'tok_bob', 'bob', 'orders') AS bob;
-- Emptied again, without any reload: the next statement sees it.
COPY (SELECT '# nothing revoked') TO :'rev_file';
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_unrevoked_without_reload;
-- The configuration file itself, rewritten in place.
COPY (SELECT jsonb_set(:'json_good'::jsonb, '{revoked_ids}', jsonb_build_array(:'alice_id'))::text) TO :'cfg_rev';
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_revoked_by_config_file;
SELECT regress_exec(format('ALTER DATABASE %I SET hessra.config_path = %L', current_database(), :'cfg_good'));

-- From ALTER ROLE ... IN DATABASE (the role's setting wins over the database's).
COPY (SELECT jsonb_set(:'json_good'::jsonb, '{revocation_file}', '"revoked.txt"')::text) TO :'cfg_rev';
COPY (SELECT '# nothing revoked') TO :'rev_file';
SELECT regress_exec(format('ALTER ROLE %I IN DATABASE %I SET hessra.config_path = %L',
                           current_user, current_database(), :'cfg_rev'));
\connect
\i test/tmp/vars.psql
SET client_min_messages = warning;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_before;
SELECT source FROM pg_settings WHERE name = 'hessra.config_path';
COPY (SELECT :'alice_id') TO :'rev_file';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_revoked_same_session;
SELECT regress_exec(format('ALTER ROLE %I IN DATABASE %I RESET hessra.config_path',
                           current_user, current_database()));
