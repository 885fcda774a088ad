-- Installation, versions, catalog labels and privileges.
\i test/tmp/vars.psql
SET client_min_messages = warning;

-- Helpers shared by all tests of this suite.
CREATE FUNCTION regress_exec(q text) RETURNS void
LANGUAGE plpgsql AS $$ BEGIN EXECUTE q; END $$;

-- Runs q; returns 'ok' or "SQLSTATE: message / DETAIL / HINT" with `hide`
-- replaced by <dir> (paths differ between runs).
CREATE FUNCTION regress_try(q text, hide text DEFAULT NULL, show_detail boolean DEFAULT true)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; hnt text;
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
  IF hide IS NOT NULL THEN
    msg := replace(msg, hide, '<dir>');
    det := replace(det, hide, '<dir>');
    hnt := replace(hnt, hide, '<dir>');
  END IF;
  IF show_detail THEN
    RETURN st || ': ' || msg
        || coalesce(E'\nDETAIL: ' || nullif(det, ''), '')
        || coalesce(E'\nHINT: ' || nullif(hnt, ''), '');
  END IF;
  RETURN st || ': ' || msg || ' [detail: ' || (coalesce(det, '') <> '')::text
      || ', hint: ' || (coalesce(hnt, '') <> '')::text || ']';
END $$;

CREATE VIEW regress_hessra_functions AS
SELECT p.oid::regprocedure::text AS function,
       p.provolatile AS volatile,
       p.proparallel AS parallel,
       p.procost AS cost,
       p.proisstrict AS strict,
       p.prosecdef AS secdef,
       p.prosupport::text AS support  -- by name: OIDs change on reinstall
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'hessra';

-- The first version, then the update path.
CREATE EXTENSION hessra VERSION '0.1.0';
SELECT extname, extversion, extrelocatable FROM pg_extension WHERE extname = 'hessra';
SELECT * FROM regress_hessra_functions ORDER BY 1;
SELECT to_regprocedure('hessra_stats()') IS NULL AS no_stats_in_0_1_0;

ALTER EXTENSION hessra UPDATE;
SELECT extname, extversion FROM pg_extension WHERE extname = 'hessra';
SELECT * FROM regress_hessra_functions ORDER BY 1;

-- Installing the default version directly gives the same catalog.
CREATE TEMP TABLE regress_updated AS SELECT * FROM regress_hessra_functions;
DROP EXTENSION hessra;
CREATE EXTENSION hessra;
SELECT extversion FROM pg_extension WHERE extname = 'hessra';
SELECT count(*) AS same_functions FROM (
  SELECT * FROM regress_hessra_functions INTERSECT SELECT * FROM regress_updated) s;
SELECT (SELECT count(*) FROM regress_hessra_functions) AS functions;

-- ==== rowsec: ALTER EXTENSION UPDATE from 0.2.0 to 0.3.0 ====
DROP EXTENSION hessra;
CREATE EXTENSION hessra VERSION '0.2.0';
SELECT to_regprocedure('hessra_row_security(text,text)') IS NULL AS no_two_argument_form_in_0_2_0;
ALTER EXTENSION hessra UPDATE TO '0.3.0';
SELECT extversion, to_regprocedure('hessra_row_security(text,text)') IS NOT NULL AS two_argument_form
FROM pg_extension WHERE extname = 'hessra';
-- ==== end rowsec ====
-- ==== 0.3.0 to 0.4.0: rowsec's planner support, identity tokens ====
SELECT to_regprocedure('hessra_current_identity()') IS NULL AS no_identity_functions_in_0_3_0;
ALTER EXTENSION hessra UPDATE TO '0.4.0';
SELECT extversion,
       to_regprocedure('hessra_verify_identity(text,text)') IS NOT NULL AS verify_identity,
       to_regprocedure('hessra_current_identity()') IS NOT NULL AS current_identity
FROM pg_extension WHERE extname = 'hessra';
SELECT prosupport AS three_argument_form_support
FROM pg_proc WHERE oid = 'hessra_row_security(text,text,text)'::regprocedure;
SELECT count(*) AS same_functions_as_fresh_install FROM (
  SELECT * FROM regress_hessra_functions INTERSECT SELECT * FROM regress_updated) s;
-- ==== end 0.3.0 to 0.4.0 ====
-- ==== 0.4.0 to 0.5.0: granted resources, claims, request parity (issue 24) ====
SELECT to_regprocedure('hessra_granted_resources(text)') IS NULL AS no_granted_resources_in_0_4_0;
ALTER EXTENSION hessra UPDATE TO '0.5.0';
SELECT extversion,
       to_regprocedure('hessra_granted_resources(text)') IS NOT NULL AS granted_resources,
       to_regprocedure('hessra_granted_resources(text,text,text,text,text)') IS NOT NULL AS granted_resources_for_a_token,
       to_regprocedure('hessra_current_claims(text,text,text)') IS NOT NULL AS current_claims
FROM pg_extension WHERE extname = 'hessra';
SELECT count(*) = (SELECT count(*) FROM regress_updated) AS updated_equals_fresh_install FROM (
  SELECT * FROM regress_hessra_functions INTERSECT SELECT * FROM regress_updated) s;
-- ==== end 0.4.0 to 0.5.0 (issue 24) ====
SELECT * FROM pg_available_extension_versions WHERE name = 'hessra' ORDER BY version;

-- Never IMMUTABLE; every verification function STABLE PARALLEL SAFE.
SELECT count(*) AS immutable_functions FROM regress_hessra_functions WHERE volatile = 'i';
SELECT function FROM regress_hessra_functions
WHERE function ~ '^hessra_(verify_token|row_security|current_subject|current_token|inspect|explain|verify_identity|current_identity|granted_resources|current_claims)\('
  AND NOT (volatile = 's' AND parallel = 's') ORDER BY 1;
SELECT count(*) AS security_definer FROM regress_hessra_functions WHERE secdef;

-- Privileges: superuser-only administration, statistics for pg_monitor,
-- everything else for PUBLIC.
CREATE ROLE regress_hessra_user LOGIN;
SELECT function,
       has_function_privilege('regress_hessra_user', function, 'EXECUTE') AS user_may_execute
FROM regress_hessra_functions ORDER BY 1;
-- hessra_stats() describes the backend, shared by a pooler's clients: for
-- monitoring roles only (0.3.0).
SELECT has_function_privilege('pg_monitor', 'hessra_stats()', 'EXECUTE') AS monitor_may_read_stats;

-- Only a superuser can configure the extension; here at database level, so
-- that every following test session finds the configuration lazily.
SELECT regress_exec(format('ALTER DATABASE %I SET hessra.config_path = %L',
                           current_database(), :'cfg_good'));
