-- Revocation: a token whose block's revocation id is listed in the
-- configuration (revoked_ids, or the lines of revocation_file) is not valid:
-- false / NULL, never an error. The list is read with the configuration: a
-- changed configuration file or revocation file is picked up by the next
-- statement (config_sources.sql), and by hessra_reload_config() or SIGHUP
-- (sighup.sql). A revocation file that cannot be read fails closed. The
-- database's own list (hessra_revocations): trust.sql.
\i test/tmp/vars.psql
SET client_min_messages = warning;

SELECT hessra_inspect(:'tok_alice')->'revocation_ids'->>0 AS alice_id \gset
SELECT jsonb_set(:'json_good'::jsonb, '{revoked_ids}',
                 jsonb_build_array(upper(:'alice_id')))::text AS json_revoked \gset

-- Not revoked yet.
COPY (SELECT :'json_good') TO :'cfg_rev';
SELECT hessra_init(:'cfg_rev');
SET hessra.token = :'tok_alice';
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice,
       hessra_current_subject() AS subject;

-- revoked_ids: alice's token is refused everywhere, bob's is not.
COPY (SELECT :'json_revoked') TO :'cfg_rev';
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_revoked,
       hessra_verify_token(:'tok_bob', 'bob', 'orders') AS bob,
       hessra_current_subject() IS NULL AS no_subject,
       hessra_row_security('orders', 'read') AS row_security;
SELECT hessra_explain(:'tok_alice', 'alice', 'orders', 'read') LIKE 'denied (revoked): revoked: the revocation id of block 0 (' || :'alice_id' || ')%' AS explained;

-- revocation_file, relative to the configuration file's directory.
COPY (SELECT '# revoked' UNION ALL SELECT :'alice_id') TO :'rev_file';
COPY (SELECT jsonb_set(:'json_good'::jsonb, '{revocation_file}', '"revoked.txt"')::text) TO :'cfg_rev';
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_revoked_by_file,
       hessra_verify_token(:'tok_bob', 'bob', 'orders') AS bob;
-- An emptied revocation file counts after hessra_reload_config().
COPY (SELECT '# nothing revoked') TO :'rev_file';
SELECT hessra_reload_config();
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_after_reload,
       hessra_current_subject() AS subject;
-- And a listed id again after hessra_reload_config().
COPY (SELECT :'alice_id') TO :'rev_file';
SELECT hessra_reload_config();
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_revoked_again;

-- A revocation file that cannot be read: the configuration is unusable.
COPY (SELECT jsonb_set(:'json_good'::jsonb, '{revocation_file}', '"no-such-list.txt"')::text) TO :'cfg_rev';
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_alice', 'alice', 'orders'),
                   :'cfgdir') AS missing_revocation_file;
COPY (SELECT :'json_good') TO :'cfg_rev';
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_unlisted;
RESET hessra.token;
RESET hessra.config_path;
