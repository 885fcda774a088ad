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
