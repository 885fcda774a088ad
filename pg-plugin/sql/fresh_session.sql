-- hessra.config_path set with ALTER SYSTEM from a fresh session, the way
-- pg-plugin/README.md says: LOAD 'hessra' first. pg_regress runs every file
-- in a new session, and nothing here has called a hessra function, so the
-- library is not loaded: the parameter is unknown until LOAD (PostgreSQL 15
-- and 16 refuse ALTER SYSTEM for an unknown parameter; 17+ take it as a
-- placeholder, so that refusal is not part of the expected output).
SET client_min_messages = warning;
SELECT count(*) AS defined_before_load FROM pg_settings WHERE name = 'hessra.config_path';
LOAD 'hessra';
SELECT count(*) AS defined_after_load FROM pg_settings WHERE name = 'hessra.config_path';
ALTER SYSTEM SET hessra.config_path = '/etc/postgresql/hessra-regress.json';
SELECT setting, applied FROM pg_file_settings WHERE name = 'hessra.config_path';
ALTER SYSTEM RESET hessra.config_path;
SELECT count(*) AS left_in_auto_conf FROM pg_file_settings WHERE name = 'hessra.config_path';
