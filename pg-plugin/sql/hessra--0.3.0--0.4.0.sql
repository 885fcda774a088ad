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

-- ==== identity tokens (issue 12) ==== --
-- Hessra identity tokens: "is this token valid for this identity?" and "which
-- identity does the session's hessra.token prove?" (the base subject, or the
-- narrowest delegated identity), for row-level security on owner columns:
--   USING (owner = (SELECT hessra_current_identity()))
-- Denials are false / NULL, never errors. Priced like hessra_verify_token.
CREATE FUNCTION hessra_verify_identity(token text, identity text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_hessra_verify_identity'
LANGUAGE C STABLE PARALLEL SAFE COST 200;

CREATE FUNCTION hessra_current_identity()
RETURNS text
AS 'MODULE_PATHNAME', 'pg_hessra_current_identity'
LANGUAGE C STABLE PARALLEL SAFE COST 200;
-- ==== end identity tokens ==== --
