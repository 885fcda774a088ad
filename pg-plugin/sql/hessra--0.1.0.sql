-- hessra extension, version 0.1.0: the seed API, settings-driven session token.
\echo Use "CREATE EXTENSION hessra" to load this file. \quit

-- Load the configuration file for this session (sets hessra.config_path like
-- SET would, then loads and checks the file now). Superuser only.
CREATE FUNCTION hessra_init(config_path text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_hessra_init'
LANGUAGE C VOLATILE PARALLEL UNSAFE COST 1000;

-- Load the configuration file again now. Superuser only.
CREATE FUNCTION hessra_reload_config()
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_hessra_reload_config'
LANGUAGE C VOLATILE PARALLEL UNSAFE COST 1000;

-- Identity mode (capability mode when subject is NULL), any granted operation.
CREATE FUNCTION hessra_verify_token(token text, subject text, resource text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_hessra_verify_token'
LANGUAGE C STABLE PARALLEL SAFE COST 100;

-- As above with an explicit operation (NULL: any granted operation).
CREATE FUNCTION hessra_verify_token(token text, subject text, resource text, operation text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_hessra_verify_token_operation'
LANGUAGE C STABLE PARALLEL SAFE COST 100;

-- Capability mode for row-level security: resource = table name.
CREATE FUNCTION hessra_row_security(token text, table_name text, operation text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_hessra_row_security'
LANGUAGE C STABLE PARALLEL SAFE COST 100;

-- SET LOCAL hessra.token = token (NULL clears it).
CREATE FUNCTION hessra_set_token(token text)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_hessra_set_token'
LANGUAGE C VOLATILE PARALLEL UNSAFE COST 10;

-- hessra.token, NULL when unset or empty.
CREATE FUNCTION hessra_current_token()
RETURNS text
AS 'MODULE_PATHNAME', 'pg_hessra_current_token'
LANGUAGE C STABLE PARALLEL SAFE COST 10;

-- Subject of the verified rights of hessra.token (NULL when none/ambiguous).
CREATE FUNCTION hessra_current_subject()
RETURNS text
AS 'MODULE_PATHNAME', 'pg_hessra_current_subject'
LANGUAGE C STABLE PARALLEL SAFE COST 200;

REVOKE ALL ON FUNCTION hessra_init(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION hessra_reload_config() FROM PUBLIC;
