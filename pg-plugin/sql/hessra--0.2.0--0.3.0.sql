-- hessra extension, upgrade 0.2.0 -> 0.3.0.
\echo Use "ALTER EXTENSION hessra UPDATE TO '0.3.0'" to load this file. \quit

-- ---- sec-ext (issue 18): hessra_stats() for monitoring roles only -----------
-- The counters describe the backend, not the caller: behind a connection pooler
-- one client could watch the cache counters move with other clients' tokens and
-- configuration reloads. Monitoring roles keep them through pg_monitor.
REVOKE EXECUTE ON FUNCTION hessra_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hessra_stats() TO pg_monitor;
-- ---- end sec-ext -------------------------------------------------------------

-- ==== rowsec: per-row hessra_row_security without a token argument ====
-- The token is hessra.token, read by the function itself: no text datum is
-- built per row, and a repeated resource is answered from a per-call-site
-- memo (see pg-plugin/README.md, "Which form"). Same answers as
-- hessra_row_security(current_setting('hessra.token', true), resource, operation).
-- Cheap per row once a resource has been verified in the statement: priced
-- like a few operators, not like a verification.
CREATE FUNCTION hessra_row_security(resource text, operation text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_hessra_row_security_session'
LANGUAGE C STABLE PARALLEL SAFE COST 10;
-- ==== end rowsec ====
