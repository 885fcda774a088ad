-- hessra extension, upgrade 0.2.0 -> 0.3.0.
\echo Use "ALTER EXTENSION hessra UPDATE TO '0.3.0'" to load this file. \quit

-- ---- sec-ext (issue 18): hessra_stats() for monitoring roles only -----------
-- The counters describe the backend, not the caller: behind a connection pooler
-- one client could watch the cache counters move with other clients' tokens and
-- configuration reloads. Monitoring roles keep them through pg_monitor.
REVOKE EXECUTE ON FUNCTION hessra_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hessra_stats() TO pg_monitor;
-- ---- end sec-ext -------------------------------------------------------------
