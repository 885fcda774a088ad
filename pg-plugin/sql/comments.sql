-- Every SQL function of the extension has a COMMENT ON FUNCTION (issue 26),
-- so that \df+ and obj_description() explain it. A function added without
-- one is listed here, and this test fails. (install leaves the extension at
-- an older version on purpose: the tests from here on use the default one.)
SET client_min_messages = warning; -- (no NOTICE when it is there already)
ALTER EXTENSION hessra UPDATE;
RESET client_min_messages;
SELECT extversion = default_version AS at_default_version
  FROM pg_catalog.pg_extension JOIN pg_catalog.pg_available_extensions ON name = extname
 WHERE extname = 'hessra';
SELECT p.oid::regprocedure AS function_without_comment
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'hessra'
 WHERE pg_catalog.obj_description(p.oid, 'pg_proc') IS NULL
 ORDER BY 1::text;
-- ... and the extension has functions to look at (the join above is not empty).
SELECT count(*) > 0 AS has_functions
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'hessra'
 WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e';
