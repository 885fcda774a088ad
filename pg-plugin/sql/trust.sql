-- Trust in the database (issue 22): the extension's tables of trusted keys
-- (hessra_trusted_keys) and revoked ids (hessra_revocations). Who may change
-- them, how they combine with the configuration file, that every role's
-- verification sees them whatever its privileges or search_path, that a
-- change counts at the next statement (memos included), and that a table
-- that cannot be used fails closed with a clear ERROR. Across sessions,
-- standbys and PgBouncer: test/faults/trust.sh.
\i test/tmp/vars.psql
SET client_min_messages = warning;
SELECT hessra_inspect(:'tok_alice')->'revocation_ids'->>0 AS alice_id \gset

-- ---- the tables ----------------------------------------------------------
-- Members of the extension, dumped with their rows by pg_dump.
SELECT c.relname, c.relkind
FROM pg_class c JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'hessra'
ORDER BY 1;
SELECT array(SELECT unnest(extconfig)::regclass::text ORDER BY 1) AS dumped FROM pg_extension WHERE extname = 'hessra';
SELECT tgrelid::regclass AS "table", tgname, tgenabled AS enabled
FROM pg_trigger WHERE tgrelid IN ('hessra_trusted_keys'::regclass, 'hessra_revocations'::regclass)
  AND NOT tgisinternal ORDER BY 1, 2;

-- ---- privileges: only superusers change them -------------------------------
CREATE ROLE regress_trust_user LOGIN;
CREATE ROLE regress_trust_dbowner LOGIN;
SELECT relname, has_table_privilege('regress_trust_user', oid, 'SELECT') AS user_select,
       has_table_privilege('regress_trust_user', oid, 'INSERT') AS user_insert
FROM pg_class WHERE relname IN ('hessra_trusted_keys', 'hessra_revocations') ORDER BY 1;
SELECT has_function_privilege('regress_trust_user', 'hessra_trust_summary()', 'EXECUTE') AS user_summary;
SELECT format('ALTER DATABASE %I OWNER TO %I', current_database(), r) AS set_owner,
       (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS old_owner
FROM (VALUES ('regress_trust_dbowner')) v(r) \gset
SELECT regress_exec(:'set_owner');
CREATE FUNCTION regress_writes(who text) RETURNS TABLE (statement text, result text)
LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  FOREACH s IN ARRAY ARRAY[
    $q$INSERT INTO hessra_revocations (revocation_id) VALUES ('\x00')$q$,
    $q$UPDATE hessra_revocations SET reason = 'x'$q$,
    $q$DELETE FROM hessra_revocations$q$,
    $q$TRUNCATE hessra_revocations$q$,
    $q$INSERT INTO hessra_trusted_keys (key_id, public_key) VALUES ('mine', 'ed25519/00')$q$,
    $q$DELETE FROM hessra_trusted_keys$q$,
    $q$TRUNCATE hessra_trusted_keys$q$] LOOP
    statement := split_part(s, ' ', 1);
    EXECUTE format('SET LOCAL ROLE %I', who);
    result := regress_try(s);
    RESET ROLE;
    RETURN NEXT;
  END LOOP;
END $$;
-- a plain role and the database owner: no privilege at all
SELECT * FROM regress_writes('regress_trust_user');
SELECT * FROM regress_writes('regress_trust_dbowner');
-- privileges granted anyway: the guard refuses every role but a superuser
GRANT ALL ON hessra_trusted_keys, hessra_revocations TO regress_trust_user;
SELECT * FROM regress_writes('regress_trust_user');
REVOKE ALL ON hessra_trusted_keys, hessra_revocations FROM regress_trust_user;
SELECT regress_exec(format('ALTER DATABASE %I OWNER TO %I', current_database(), :'old_owner'));
-- a table owned by a role that is not a superuser: that role could change it,
-- so verification refuses to use it (and the guard still refuses its writes)
ALTER TABLE hessra_revocations OWNER TO regress_trust_user;
SELECT * FROM regress_writes('regress_trust_user') LIMIT 1;
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_alice', 'alice', 'orders')) AS owned_by_a_user;
ALTER TABLE hessra_revocations OWNER TO CURRENT_USER;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS superuser_owner_again;

-- ---- keys: file + table, by one rule ---------------------------------------
SELECT hessra_verify_token(:'tok_other_kid9', 'alice', 'orders') AS other_key_not_trusted;
INSERT INTO hessra_trusted_keys (key_id, public_key, root_key_id) VALUES ('other', :'pub_other', 9);
SELECT hessra_verify_token(:'tok_other_kid9', 'alice', 'orders') AS other_key_from_table,
       hessra_verify_token(:'tok_alice', 'alice', 'orders') AS file_default_still;
SELECT k->>'id' AS id, k->>'source' AS source, k->>'root_key_id' AS root_key_id, s->>'default_key' = k->>'id' AS is_default
FROM hessra_trust_summary() s, jsonb_array_elements(s->'keys') k ORDER BY 1;
-- the table's default key wins over the file's
UPDATE hessra_trusted_keys SET is_default = true WHERE key_id = 'other';
SELECT hessra_verify_token(:'tok_untrusted', 'alice', 'orders') AS other_key_is_default,
       hessra_verify_token(:'tok_alice', 'alice', 'orders') AS file_key_no_longer_default,
       hessra_verify_token(:'tok_edge', 'alice', 'orders') AS root_key_id_still_selects;
SELECT regress_try(format('INSERT INTO hessra_trusted_keys (key_id, public_key, is_default) VALUES (%L, %L, true)', 'second', :'pub_edge')) AS two_defaults;
UPDATE hessra_trusted_keys SET is_default = false;
-- an id or root key id in both the file and the table: the configuration is
-- refused (an ERROR for every verification), until one of them goes
INSERT INTO hessra_trusted_keys (key_id, public_key) VALUES ('test', :'pub_other');
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_alice', 'alice', 'orders')) AS id_in_both;
DELETE FROM hessra_trusted_keys WHERE key_id = 'test';
INSERT INTO hessra_trusted_keys (key_id, public_key, root_key_id) VALUES ('clash', :'pub_other', 7);
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_alice', 'alice', 'orders')) AS root_key_id_in_both;
DELETE FROM hessra_trusted_keys WHERE key_id = 'clash';
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS recovered;
-- a key hessra cannot read is refused when it is written
SELECT regress_try($$INSERT INTO hessra_trusted_keys (key_id, public_key) VALUES ('bad', 'not a key')$$) AS unreadable_key;
SELECT regress_try(format('INSERT INTO hessra_trusted_keys (key_id, public_key, root_key_id) VALUES (%L, %L, 4294967296)', 'big', :'pub_edge'), NULL, false) AS root_key_id_range;
DELETE FROM hessra_trusted_keys;
SELECT hessra_verify_token(:'tok_other_kid9', 'alice', 'orders') AS removed_key;

-- ---- revocations -----------------------------------------------------------
SET hessra.token = :'tok_alice';
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice,
       hessra_current_subject() AS subject,
       hessra_row_security('orders', 'read') AS row_security,
       hessra_granted_resources('read') AS granted,
       hessra_current_claims()->>'subject' AS claims_subject;
INSERT INTO hessra_revocations (revocation_id, reason) VALUES (decode(:'alice_id', 'hex'), 'lost laptop');
-- the next statement refuses it, every memo included (same second)
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_revoked,
       hessra_verify_token(:'tok_bob', 'bob', 'orders') AS bob,
       hessra_current_subject() IS NULL AS no_subject,
       hessra_row_security('orders', 'read') AS row_security,
       hessra_row_security(:'tok_alice', 'orders', 'read') AS row_security_seed_form,
       hessra_granted_resources('read') AS granted,
       hessra_current_claims() IS NULL AS no_claims;
SELECT hessra_explain(:'tok_alice', 'alice', 'orders', 'read') LIKE 'denied (revoked): revoked: the revocation id of block 0 (' || :'alice_id' || ')%' AS explained;
-- every role sees it, without any privilege on the table, whatever its search_path
CREATE SCHEMA regress_trust_decoy;
CREATE TABLE regress_trust_decoy.hessra_revocations (revocation_id bytea PRIMARY KEY);
GRANT USAGE ON SCHEMA regress_trust_decoy TO regress_trust_user;
SET ROLE regress_trust_user;
SET search_path = regress_trust_decoy, public;
SELECT regress_try('SELECT count(*) FROM public.hessra_revocations') AS user_reads_table;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS revoked_for_a_user,
       hessra_verify_token(:'tok_bob', 'bob', 'orders') AS bob_for_a_user;
RESET search_path;
RESET ROLE;
DROP SCHEMA regress_trust_decoy CASCADE;
-- unrevoked: valid again at once
DELETE FROM hessra_revocations;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_unrevoked,
       hessra_current_subject() AS subject;

-- inside one transaction: the statement after the INSERT refuses it; a
-- rollback undoes it
BEGIN;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS in_transaction_before;
INSERT INTO hessra_revocations (revocation_id) VALUES (decode(:'alice_id', 'hex'));
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS in_transaction_after;
ROLLBACK;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS after_rollback;

-- many: 100,000 other ids and alice's, one transaction; TRUNCATE undoes it
INSERT INTO hessra_revocations (revocation_id)
SELECT sha512(int4send(g)) FROM generate_series(1, 100000) g
UNION ALL SELECT decode(:'alice_id', 'hex');
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS revoked_among_many,
       hessra_verify_token(:'tok_bob', 'bob', 'orders') AS bob_among_many;
TRUNCATE hessra_revocations;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS after_truncate;
-- the file's list and the table's together
COPY (SELECT jsonb_set(:'json_good'::jsonb, '{revoked_ids}',
                       jsonb_build_array(hessra_inspect(:'tok_bob')->'revocation_ids'->>0))::text) TO :'cfg_rev';
SELECT hessra_init(:'cfg_rev');
INSERT INTO hessra_revocations (revocation_id) VALUES (decode(:'alice_id', 'hex'));
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_by_table,
       hessra_verify_token(:'tok_bob', 'bob', 'orders') AS bob_by_file;
TRUNCATE hessra_revocations;
RESET hessra.config_path;

-- ---- the tables alone: no configuration file -------------------------------
SET hessra.config_path = '';
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_alice', 'alice', 'orders'), NULL, false) AS nothing_configured;
INSERT INTO hessra_trusted_keys (key_id, public_key) VALUES ('other', :'pub_other');
SELECT hessra_verify_token(:'tok_untrusted', 'alice', 'orders') AS table_key_alone,
       hessra_verify_token(:'tok_alice', 'alice', 'orders') AS not_the_file_key;
DELETE FROM hessra_trusted_keys;
RESET hessra.config_path;

-- ---- fail closed: a table that cannot be used is an ERROR, never "not revoked"
INSERT INTO hessra_revocations (revocation_id) VALUES (decode(:'alice_id', 'hex'));
ALTER TABLE hessra_revocations RENAME TO hessra_revocations_moved;
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_alice', 'alice', 'orders')) AS renamed;
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_bob', 'bob', 'orders'), NULL, false) AS renamed_for_anyone;
ALTER TABLE hessra_revocations_moved RENAME TO hessra_revocations;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS renamed_back_still_revoked;
ALTER TABLE hessra_revocations DROP CONSTRAINT hessra_revocations_pkey;
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_alice', 'alice', 'orders')) AS no_primary_key;
ALTER TABLE hessra_revocations ADD PRIMARY KEY (revocation_id);
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS primary_key_again;
ALTER TABLE hessra_revocations ALTER COLUMN revocation_id TYPE text USING encode(revocation_id, 'hex');
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_alice', 'alice', 'orders'), NULL, false) AS wrong_column_type;
ALTER TABLE hessra_revocations ALTER COLUMN revocation_id TYPE bytea USING decode(revocation_id, 'hex');
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS column_type_again;
TRUNCATE hessra_revocations;
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS clean;

RESET hessra.token;
DROP FUNCTION regress_writes(text);
DROP ROLE regress_trust_user;
DROP ROLE regress_trust_dbowner;
