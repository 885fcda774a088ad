-- hessra extension, upgrade 0.4.0 -> 0.5.0.
\echo Use "ALTER EXTENSION hessra UPDATE TO '0.5.0'" to load this file. \quit

-- ==== function comments (issue 26) ====
-- Every SQL function says what it does in \df+ and obj_description() (the
-- pg_regress test "comments" fails for a function without one: a new
-- function gets its COMMENT ON FUNCTION next to its CREATE FUNCTION).
COMMENT ON FUNCTION hessra_init(text) IS
    'Superuser only: sets hessra.config_path for this session and loads and checks that configuration now; true when it loads';
COMMENT ON FUNCTION hessra_reload_config() IS
    'Superuser only: loads the configuration (hessra.config_path) again now; true when it loads';
COMMENT ON FUNCTION hessra_verify_token(text, text, text) IS
    'Whether the token grants subject (NULL: whoever holds it, capability mode) some operation on resource, with valid signatures, expiry and checks; false on any denial, never an error';
COMMENT ON FUNCTION hessra_verify_token(text, text, text, text) IS
    'As hessra_verify_token(token, subject, resource) for one operation (NULL: any granted operation)';
COMMENT ON FUNCTION hessra_row_security(text, text, text) IS
    'For RLS policies: whether the token (usually current_setting(''hessra.token'', true)) grants operation on resource, in capability mode; planned as hessra_row_security(resource, operation) when given hessra.token';
COMMENT ON FUNCTION hessra_row_security(text, text) IS
    'For RLS policies: whether the session''s hessra.token grants operation on resource (capability mode); cheap per row, answers memoised per statement';
COMMENT ON FUNCTION hessra_row_security_support(internal) IS
    'Planner support of hessra_row_security(token, resource, operation): rewrites a hessra.token argument to the two-argument form';
COMMENT ON FUNCTION hessra_set_token(text) IS
    'SET LOCAL hessra.token = token for this transaction (NULL clears it)';
COMMENT ON FUNCTION hessra_current_token() IS
    'The session''s hessra.token, NULL when unset or empty';
COMMENT ON FUNCTION hessra_current_subject() IS
    'The subject hessra.token is verified for now (the one subject its rights name), NULL when none or ambiguous';
COMMENT ON FUNCTION hessra_inspect(text) IS
    'Decodes a token WITHOUT checking its signatures ("verified": false): blocks as Datalog, rights, expiry, revocation ids';
COMMENT ON FUNCTION hessra_explain(text, text, text, text) IS
    '''allowed'', or ''denied (<reason>): <why>'' for a token, subject, resource and operation; never contains the token';
COMMENT ON FUNCTION hessra_stats() IS
    'This backend''s counters: calls, statement cache hits, verifications, engine cache hits, misses and size, configuration generation (pg_monitor)';
COMMENT ON FUNCTION hessra_verify_identity(text, text) IS
    'Whether an identity token proves identity now (a delegated token proves only its delegated identity); false on any denial, never an error';
COMMENT ON FUNCTION hessra_current_identity() IS
    'The identity hessra.token proves now (the base subject, or the narrowest delegated identity), NULL when none';
-- ==== end function comments ====

-- ==== index-usable RLS, claims, request parity (issue 24) ====
-- What the session's token grants, as data the planner can use: a policy
--   USING (col = ANY ((SELECT hessra_granted_resources('read'))))
-- runs the call once per statement (an InitPlan) and compares the column with
-- its result in an Index Cond. The engine verifies every candidate right of the
-- token's authority block in full; a token that grants nothing (none, expired,
-- revoked, forged, malformed) gives '{}', never an error.
CREATE FUNCTION hessra_granted_resources(operation text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'pg_hessra_granted_resources_session'
LANGUAGE C STABLE PARALLEL SAFE COST 200;
COMMENT ON FUNCTION hessra_granted_resources(text) IS
  'The resources hessra.token verifies for the operation now (NULL: any operation), sorted; ''{}'' when none. Call it wrapped, col = ANY ((SELECT hessra_granted_resources(''read''))), so an index serves the comparison.';

-- The same for a given token, with the request fields of `hessra verify`
-- (domain, prefix, component). No other overload has two or more arguments,
-- so its defaults make no call ambiguous.
CREATE FUNCTION hessra_granted_resources(token text, operation text, domain text DEFAULT NULL,
                                         prefix text DEFAULT NULL, component text DEFAULT NULL)
RETURNS text[]
AS 'MODULE_PATHNAME', 'pg_hessra_granted_resources'
LANGUAGE C STABLE PARALLEL SAFE COST 200;
COMMENT ON FUNCTION hessra_granted_resources(text, text, text, text, text) IS
  'The resources the token verifies for the operation now, with the request''s domain, prefix and service-chain component (NULL: not given); ''{}'' when none.';

-- The verified token in SQL (NULL unless hessra.token verifies now).
CREATE FUNCTION hessra_current_claims(domain text DEFAULT NULL, prefix text DEFAULT NULL,
                                      component text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_hessra_current_claims'
LANGUAGE C STABLE PARALLEL SAFE COST 300;
COMMENT ON FUNCTION hessra_current_claims(text, text, text) IS
  'What hessra.token says once verified now: kind, subject or identity, the rights that verify, expires_at, root_key_id, key_id, domain, revocation_ids, blocks. NULL when it is unset or does not verify.';

-- Request parity for hessra_verify_token as named arguments, the seed's
-- (token, subject, resource) and (token, subject, resource, operation) left as
-- they are: each overload starts with one required field and defaults the
-- ones after it, so no call of the seed's forms can match two functions, and
-- any combination of named fields matches exactly one, e.g.
--   hessra_verify_token(tok, 'alice', 'orders', 'read', prefix => 'tenants/acme')
-- (a positional call with five or six arguments is ambiguous: name them).
CREATE FUNCTION hessra_verify_token(token text, subject text, resource text, operation text,
                                    domain text, prefix text DEFAULT NULL, component text DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_hessra_verify_token_domain'
LANGUAGE C STABLE PARALLEL SAFE COST 100;
COMMENT ON FUNCTION hessra_verify_token(text, text, text, text, text, text, text) IS
  'hessra_verify_token with domain => (and prefix =>, component =>): the request fields of hessra verify. NULL operation: any; NULL field: not given.';
CREATE FUNCTION hessra_verify_token(token text, subject text, resource text, operation text,
                                    prefix text, component text DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_hessra_verify_token_prefix'
LANGUAGE C STABLE PARALLEL SAFE COST 100;
COMMENT ON FUNCTION hessra_verify_token(text, text, text, text, text, text) IS
  'hessra_verify_token with prefix => (and component =>), no domain.';
CREATE FUNCTION hessra_verify_token(token text, subject text, resource text, operation text,
                                    component text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_hessra_verify_token_component'
LANGUAGE C STABLE PARALLEL SAFE COST 100;
COMMENT ON FUNCTION hessra_verify_token(text, text, text, text, text) IS
  'hessra_verify_token with component => only: the service-chain component verifying.';

-- Identity tokens: the domain, as `hessra verify --identity ID --domain D`.
CREATE FUNCTION hessra_verify_identity(token text, identity text, domain text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_hessra_verify_identity'
LANGUAGE C STABLE PARALLEL SAFE COST 200;
COMMENT ON FUNCTION hessra_verify_identity(text, text, text) IS
  'hessra_verify_identity with the domain the identity token is checked for (NULL: the configuration''s).';
-- ==== end index-usable RLS, claims, request parity ====

-- ==== trust in the database (issue 22) ====
-- The keys a database trusts and the tokens it refuses live in these tables,
-- beside the configuration file (keys = file + table, an id in both is an
-- error, the table's default key wins; revoked = file + table). Only
-- superusers change them (no privilege for PUBLIC, and a guard trigger
-- refusing anyone else whatever was granted); every role's verification sees
-- them, read by the extension with its own access. A committed change counts
-- at the next statement of every session, on hot standbys after replay: the
-- AFTER trigger queues a relcache invalidation that PostgreSQL sends at
-- commit and logs in the commit record (docs/DESIGN.md, "Trust in the
-- database"). The triggers fire ALWAYS, so also for a logical replication
-- subscriber applying changes (session_replication_role = replica).
CREATE TABLE hessra_trusted_keys (
    key_id text PRIMARY KEY CHECK (key_id <> '' AND octet_length(key_id) <= 256),
    public_key text NOT NULL CHECK (octet_length(public_key) <= 65536),
    root_key_id bigint UNIQUE CHECK (root_key_id BETWEEN 0 AND 4294967295),
    is_default boolean NOT NULL DEFAULT false,
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX hessra_trusted_keys_one_default ON hessra_trusted_keys (is_default) WHERE is_default;
COMMENT ON TABLE hessra_trusted_keys IS
  'Public keys whose tokens hessra accepts, beside the configuration file''s (an id in both is an error; the default here wins). Superusers only; effective at commit.';

CREATE TABLE hessra_revocations (
    revocation_id bytea PRIMARY KEY CHECK (octet_length(revocation_id) BETWEEN 1 AND 128),
    revoked_at timestamptz NOT NULL DEFAULT now(),
    reason text CHECK (octet_length(reason) <= 1024)
);
COMMENT ON TABLE hessra_revocations IS
  'Revoked block ids (the bytes whose hex hessra inspect shows): a token with any listed block is refused, as with the configuration file''s revoked_ids. Superusers only; effective at commit.';

REVOKE ALL ON hessra_trusted_keys, hessra_revocations FROM PUBLIC;

CREATE FUNCTION hessra_trust_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pg_hessra_trust_guard'
LANGUAGE C;
COMMENT ON FUNCTION hessra_trust_guard() IS
  'Trigger: refuses any change to the hessra trust tables by a role that is not a superuser.';

CREATE FUNCTION hessra_trust_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pg_hessra_trust_changed'
LANGUAGE C;
COMMENT ON FUNCTION hessra_trust_changed() IS
  'Trigger: announces a change of a hessra trust table to every session and standby at commit (relcache invalidation).';

CREATE FUNCTION hessra_trusted_key_check()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pg_hessra_trusted_key_check'
LANGUAGE C;
COMMENT ON FUNCTION hessra_trusted_key_check() IS
  'Trigger: refuses a trusted key row whose public_key hessra cannot read.';

CREATE TRIGGER hessra_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON hessra_trusted_keys
    FOR EACH STATEMENT EXECUTE FUNCTION hessra_trust_guard();
CREATE TRIGGER hessra_key_check BEFORE INSERT OR UPDATE ON hessra_trusted_keys
    FOR EACH ROW EXECUTE FUNCTION hessra_trusted_key_check();
CREATE TRIGGER hessra_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON hessra_trusted_keys
    FOR EACH STATEMENT EXECUTE FUNCTION hessra_trust_changed();
CREATE TRIGGER hessra_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON hessra_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION hessra_trust_guard();
CREATE TRIGGER hessra_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON hessra_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION hessra_trust_changed();
ALTER TABLE hessra_trusted_keys ENABLE ALWAYS TRIGGER hessra_guard;
ALTER TABLE hessra_trusted_keys ENABLE ALWAYS TRIGGER hessra_key_check;
ALTER TABLE hessra_trusted_keys ENABLE ALWAYS TRIGGER hessra_changed;
ALTER TABLE hessra_revocations ENABLE ALWAYS TRIGGER hessra_guard;
ALTER TABLE hessra_revocations ENABLE ALWAYS TRIGGER hessra_changed;

-- pg_dump keeps their rows (the extension's own objects are recreated by
-- CREATE EXTENSION on restore).
SELECT pg_catalog.pg_extension_config_dump('hessra_trusted_keys', '');
SELECT pg_catalog.pg_extension_config_dump('hessra_revocations', '');

CREATE FUNCTION hessra_trust_summary()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_hessra_trust_summary'
LANGUAGE C VOLATILE;
REVOKE EXECUTE ON FUNCTION hessra_trust_summary() FROM PUBLIC;
COMMENT ON FUNCTION hessra_trust_summary() IS
  'The trust in effect for this session: default key, every trusted key with its source (file or database), the configuration file''s revocation list. Superusers only by default.';
-- ==== end trust in the database ====
