-- Request parity (issue 24): domain, prefix and the service-chain component
-- as named arguments, with every call of the seed's signatures resolving to
-- the function it resolved to before.
\i test/tmp/vars.psql
SET client_min_messages = warning;

SELECT * FROM regress_hessra_functions
WHERE function ~ '^hessra_(verify_token|verify_identity|row_security|explain)\(' ORDER BY 1;

-- Which function each call resolves to: a view over the call depends on it.
CREATE FUNCTION pg_temp.resolves(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE fn text;
BEGIN
  EXECUTE 'CREATE TEMP VIEW regress_call AS SELECT ' || call || ' AS r';
  SELECT string_agg(d.refobjid::regprocedure::text, ', ') INTO fn
  FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid
  WHERE w.ev_class = 'regress_call'::regclass AND d.refclassid = 'pg_proc'::regclass;
  EXECUTE 'DROP VIEW regress_call';
  RETURN fn;
EXCEPTION WHEN others THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

SELECT call, pg_temp.resolves(call) AS resolves_to FROM (VALUES
  -- the seed's forms, positional (unknown literals and typed values) and named
  ($$hessra_verify_token('t', 's', 'r')$$),
  ($$hessra_verify_token('t', NULL, 'r')$$),
  ($$hessra_verify_token('t'::text, 's'::text, 'r'::text)$$),
  ($$hessra_verify_token('t', 's', 'r', 'o')$$),
  ($$hessra_verify_token('t', 's', 'r', NULL)$$),
  ($$hessra_verify_token('t'::text, 's'::text, 'r'::text, 'o'::text)$$),
  ($$hessra_verify_token(token => 't', subject => 's', resource => 'r')$$),
  ($$hessra_verify_token(resource => 'r', subject => 's', token => 't')$$),
  ($$hessra_verify_token(token => 't', subject => 's', resource => 'r', operation => 'o')$$),
  ($$hessra_verify_token('t', 's', resource => 'r', operation => 'o')$$),
  -- the request fields, by name: each combination reaches one function
  ($$hessra_verify_token('t', 's', 'r', 'o', domain => 'd')$$),
  ($$hessra_verify_token('t', 's', 'r', 'o', prefix => 'p')$$),
  ($$hessra_verify_token('t', 's', 'r', 'o', component => 'c')$$),
  ($$hessra_verify_token('t', 's', 'r', 'o', domain => 'd', prefix => 'p')$$),
  ($$hessra_verify_token('t', 's', 'r', 'o', domain => 'd', component => 'c')$$),
  ($$hessra_verify_token('t', 's', 'r', 'o', prefix => 'p', component => 'c')$$),
  ($$hessra_verify_token('t', 's', 'r', 'o', component => 'c', prefix => 'p', domain => 'd')$$),
  ($$hessra_verify_token('t', 's', 'r', 'o', 'd', 'p', 'c')$$),
  -- five or six positional arguments: ambiguous, on purpose (name them)
  ($$hessra_verify_token('t', 's', 'r', 'o', 'x')$$),
  -- the other forms
  ($$hessra_row_security('t', 'r', 'o')$$),
  ($$hessra_row_security('r', 'o')$$),
  ($$hessra_explain('t', 's', 'r')$$),
  ($$hessra_explain('t', 's', 'r', 'o')$$),
  ($$hessra_verify_identity('t', 'i')$$),
  ($$hessra_verify_identity('t', 'i', 'd')$$),
  ($$hessra_verify_identity('t', 'i', domain => 'd')$$),
  ($$hessra_granted_resources('o')$$),
  ($$hessra_granted_resources(operation => 'o')$$),
  ($$hessra_granted_resources('t', 'o')$$),
  ($$hessra_granted_resources('t', 'o', prefix => 'p')$$),
  ($$hessra_current_claims()$$),
  ($$hessra_current_claims(component => 'c')$$)
) c(call);

-- What the fields do. A token restricted to a domain and a prefix:
SELECT hessra_verify_token(:'tok_scoped', 'alice', 'orders', 'read') AS neither,
       hessra_verify_token(:'tok_scoped', 'alice', 'orders', 'read', domain => 'example.com') AS domain_only,
       hessra_verify_token(:'tok_scoped', 'alice', 'orders', 'read', prefix => 'tenants/acme') AS prefix_only,
       hessra_verify_token(:'tok_scoped', 'alice', 'orders', 'read', domain => 'example.com', prefix => 'tenants/acme') AS both,
       hessra_verify_token(:'tok_scoped', 'alice', 'orders', 'read', domain => 'example.com', prefix => 'tenants/other') AS other_prefix,
       hessra_verify_token(:'tok_scoped', NULL, 'orders', NULL, domain => 'example.com', prefix => 'tenants/acme') AS capability_any_operation;
SELECT hessra_granted_resources(:'tok_scoped', 'read') AS granted_neither,
       hessra_granted_resources(:'tok_scoped', 'read', 'example.com', 'tenants/acme') AS granted_both,
       hessra_granted_resources(:'tok_scoped', 'read', prefix => 'tenants/acme', domain => 'example.com') AS granted_named;
-- A service chain for "orders" (configured): the edge node has not attested,
-- so only the edge component itself (no node before it) accepts the token;
-- a component outside the chain is a denial, never an error.
SELECT hessra_init(:'cfg_chain');
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders', 'read') AS whole_chain,
       hessra_verify_token(:'tok_alice', 'alice', 'orders', 'read', component => 'edge') AS as_edge,
       hessra_verify_token(:'tok_alice', 'alice', 'orders', 'read', component => 'nobody') AS unknown_component,
       hessra_verify_token(:'tok_alice', 'alice', 'orders') AS seed_form;
SELECT hessra_granted_resources(:'tok_alice', 'read') AS granted_whole_chain,
       hessra_granted_resources(:'tok_alice', 'read', component => 'edge') AS granted_as_edge;
RESET hessra.config_path;
-- Identity tokens: the domain.
SELECT hessra_verify_identity(:'tok_id_domain', 'urn:hessra:carol') AS identity_without_domain,
       hessra_verify_identity(:'tok_id_domain', 'urn:hessra:carol', 'example.com') AS identity_in_domain,
       hessra_verify_identity(:'tok_id_domain', 'urn:hessra:carol', domain => 'other.com') AS identity_other_domain,
       hessra_verify_identity(:'tok_id_alice', 'urn:hessra:alice', NULL) AS null_domain;
-- The memo keeps the fields apart: one statement, different answers.
SELECT f AS prefix, hessra_verify_token(:'tok_scoped', 'alice', 'orders', 'read', domain => 'example.com', prefix => f) AS ok
FROM unnest(ARRAY['tenants/acme', 'tenants/other', 'tenants/acme']) WITH ORDINALITY u(f, n) ORDER BY n;
