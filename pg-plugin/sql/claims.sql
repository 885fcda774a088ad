-- hessra_current_claims() (issue 24): what hessra.token says once verified,
-- built by the engine; NULL whenever it does not verify now.
\i test/tmp/vars.psql
SET client_min_messages = warning;

SELECT * FROM regress_hessra_functions WHERE function LIKE 'hessra_current_claims%';

-- The varying parts (revocation ids, expiry) are checked, then left out.
CREATE FUNCTION pg_temp.shown(c jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT c - 'revocation_ids' - 'expires_at' $$;

-- An authorization token narrowed to r2: only the rights that verify now.
SET hessra.token = :'tok_two_narrowed';
SELECT pg_temp.shown(hessra_current_claims()) AS narrowed;
SELECT hessra_current_claims()->'revocation_ids' = hessra_inspect(:'tok_two_narrowed')->'revocation_ids' AS same_ids,
       jsonb_array_length(hessra_current_claims()->'revocation_ids') AS ids,
       (hessra_current_claims()->>'expires_at')::bigint = (hessra_inspect(:'tok_two_narrowed')->>'expires_at')::bigint AS same_expiry;
SET hessra.token = :'tok_two';
SELECT jsonb_array_length(hessra_current_claims()->'rights') AS rights, hessra_current_claims()->>'subject' AS subject;
-- Two subjects: no single subject, both rights.
SET hessra.token = :'tok_multi';
SELECT hessra_current_claims()->'subject' AS subject, jsonb_array_length(hessra_current_claims()->'rights') AS rights;
-- A root key id picks its key.
SET hessra.token = :'tok_edge';
SELECT hessra_current_claims()->>'key_id' AS key_id, hessra_current_claims()->>'root_key_id' AS root_key_id;

-- Identity tokens: the base subject and the identity proven.
SET hessra.token = :'tok_id_laptop';
SELECT pg_temp.shown(hessra_current_claims()) AS delegated;
-- Restricted to a domain: only with that domain (the configuration has none).
SET hessra.token = :'tok_id_domain';
SELECT hessra_current_claims() IS NULL AS without_domain,
       hessra_current_claims(domain => 'example.com')->>'identity' AS with_domain,
       hessra_current_claims(domain => 'example.com')->>'domain' AS token_domain;
-- Request fields, as for every verification.
SET hessra.token = :'tok_scoped';
SELECT hessra_current_claims() IS NULL AS without_fields,
       hessra_current_claims(prefix => 'tenants/acme') IS NULL AS prefix_only,
       jsonb_array_length(hessra_current_claims('example.com', 'tenants/acme')->'rights') AS with_both;

-- NULL, never an error, when it does not verify now.
SET hessra.token = :'tok_two_expired';
SELECT hessra_current_claims() IS NULL AS expired;
SET hessra.token = :'tok_untrusted';
SELECT hessra_current_claims() IS NULL AS untrusted;
SET hessra.token = :'tok_id_expired';
SELECT hessra_current_claims() IS NULL AS identity_expired;
SET hessra.token = 'not a token';
SELECT hessra_current_claims() IS NULL AS garbage;
SET hessra.token = '';
SELECT hessra_current_claims() IS NULL AS empty;
RESET hessra.token;
SELECT hessra_current_claims() IS NULL AS unset;
-- Revoked: the last block's id revokes the narrowed copy only.
SELECT hessra_inspect(:'tok_two_narrowed')->'revocation_ids'->>1 AS last_id \gset
COPY (SELECT jsonb_set(:'json_good'::jsonb, '{revoked_ids}', jsonb_build_array(:'last_id'))::text) TO :'cfg_rev';
SELECT hessra_init(:'cfg_rev');
SET hessra.token = :'tok_two_narrowed';
SELECT hessra_current_claims() IS NULL AS narrowed_revoked;
SET hessra.token = :'tok_two';
SELECT hessra_current_claims() IS NOT NULL AS parent_not_revoked;
COPY (SELECT :'json_good') TO :'cfg_rev';
RESET hessra.token;
RESET hessra.config_path;
