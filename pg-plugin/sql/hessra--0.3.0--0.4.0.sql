-- hessra extension, upgrade 0.3.0 -> 0.4.0.
\echo Use "ALTER EXTENSION hessra UPDATE TO '0.4.0'" to load this file. \quit

-- ==== rowsec: planner support for the three-argument form ====
-- hessra_row_security(current_setting('hessra.token'[, missing_ok]), r, op) is
-- planned as hessra_row_security(r, op): the same answers, without PostgreSQL
-- building the token's text for every row (see pg-plugin/README.md,
-- "Which form"). Any other token argument is left as written.
CREATE FUNCTION hessra_row_security_support(internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'pg_hessra_row_security_support'
LANGUAGE C STRICT;
ALTER FUNCTION hessra_row_security(text, text, text) SUPPORT hessra_row_security_support;
-- ==== end rowsec ====
