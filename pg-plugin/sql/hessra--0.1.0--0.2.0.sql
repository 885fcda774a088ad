-- hessra extension, upgrade 0.1.0 -> 0.2.0: diagnostics.
\echo Use "ALTER EXTENSION hessra UPDATE TO '0.2.0'" to load this file. \quit

-- Decode a token WITHOUT checking its signatures ("verified": false).
CREATE FUNCTION hessra_inspect(token text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_hessra_inspect'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 200;

-- 'allowed' or 'denied (<reason>): <why>'; never contains the token.
CREATE FUNCTION hessra_explain(token text, subject text, resource text, operation text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'pg_hessra_explain'
LANGUAGE C STABLE PARALLEL SAFE COST 200;

-- Counters of this backend.
CREATE FUNCTION hessra_stats(
    OUT calls bigint,
    OUT statement_cache_hits bigint,
    OUT verifications bigint,
    OUT cache_hits bigint,
    OUT cache_misses bigint,
    OUT cache_entries bigint,
    OUT cache_capacity bigint,
    OUT config_generation bigint,
    OUT config_loaded boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'pg_hessra_stats'
LANGUAGE C VOLATILE PARALLEL RESTRICTED COST 10;

-- 0.1.0 priced the subject lookup like a verification; it inspects and
-- verifies each right.
ALTER FUNCTION hessra_current_subject() COST 300;
