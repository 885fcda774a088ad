-- hessra_granted_resources (issue 24): the resources a token verifies for an
-- operation, and row-level security that compares a column with them
-- through an index (what `hessra pg policy generate --resource-column`
-- writes), next to the per-row form it replaces.
\i test/tmp/vars.psql
SET client_min_messages = warning;

SELECT * FROM regress_hessra_functions
WHERE function LIKE 'hessra_granted_resources%' ORDER BY 1;

-- Candidates are the authority block's rights, each verified in full: an
-- attenuated copy narrowed to r2 grants r2 only, and no write at all.
SELECT hessra_granted_resources(:'tok_two', 'read') AS two_read,
       hessra_granted_resources(:'tok_two', 'write') AS two_write,
       hessra_granted_resources(:'tok_two', NULL) AS two_any_operation,
       hessra_granted_resources(:'tok_two', 'delete') AS two_delete,
       hessra_granted_resources(:'tok_two_narrowed', 'read') AS narrowed_read,
       hessra_granted_resources(:'tok_two_narrowed', 'write') AS narrowed_write,
       hessra_granted_resources(:'tok_one', 'read') AS one_read;
-- Tokens that do not verify grant nothing; never an error.
SELECT hessra_granted_resources(:'tok_two_expired', 'read') AS expired,
       hessra_granted_resources(:'tok_untrusted', 'read') AS untrusted,
       hessra_granted_resources(:'tok_edge_nokid', 'read') AS wrong_key,
       hessra_granted_resources('not a token', 'read') AS garbage,
       hessra_granted_resources(NULL, 'read') AS null_token,
       hessra_granted_resources('   ', 'read') AS blank_token,
       hessra_granted_resources(:'tok_id_alice', 'read') AS identity_token;
-- The answers agree with the per-row check for every resource they name.
SELECT t.name, r AS resource, hessra_row_security(t.tok, r, 'read') AS row_security
FROM (VALUES ('two', :'tok_two'), ('narrowed', :'tok_two_narrowed')) t(name, tok),
     unnest(ARRAY['r1', 'r2', 'r3']) r
ORDER BY 1, 2;

-- The session form reads hessra.token; unset or blank: '{}' without needing
-- a configuration.
SET hessra.config_path = '';
RESET hessra.token;
SELECT hessra_granted_resources('read') AS unset;
SET hessra.token = '  ';
SELECT hessra_granted_resources('read') AS blank;
RESET hessra.config_path;
SET hessra.token = :'tok_two';
SELECT hessra_granted_resources('read') AS session_read, hessra_granted_resources('write') AS session_write;
-- A broken configuration is an ERROR, as for every verification.
SET hessra.config_path = :'cfg_nokeys';
SELECT regress_try('SELECT hessra_granted_resources(''read'')', :'cfgdir', false) AS no_keys;
RESET hessra.config_path;

-- Leeway and revocation apply as for every verification.
SELECT hessra_init(:'cfg_leeway');
SELECT hessra_granted_resources(:'tok_recent', 'read') AS recent_with_leeway;
SET hessra.leeway_seconds = 0;
SELECT hessra_granted_resources(:'tok_recent', 'read') AS recent_without_leeway;
RESET hessra.leeway_seconds;
SELECT hessra_inspect(:'tok_two')->'revocation_ids'->>0 AS two_id \gset
COPY (SELECT jsonb_set(:'json_good'::jsonb, '{revoked_ids}', jsonb_build_array(:'two_id'))::text) TO :'cfg_rev';
SELECT hessra_init(:'cfg_rev');
SELECT hessra_granted_resources(:'tok_two', 'read') AS revoked,
       hessra_granted_resources(:'tok_two_narrowed', 'read') AS revoked_parent,
       hessra_granted_resources(:'tok_one', 'read') AS other_token;
COPY (SELECT :'json_good') TO :'cfg_rev';
RESET hessra.config_path;

-- ---- a table of 400 resources with an index on the resource column ----
CREATE TABLE granted_rows (id int PRIMARY KEY, resource text NOT NULL, v int NOT NULL);
INSERT INTO granted_rows SELECT g, 'r' || (g % 400 + 1), g % 7 FROM generate_series(1, 20000) g;
CREATE INDEX granted_rows_resource_idx ON granted_rows (resource);
CREATE TABLE per_row_rows AS TABLE granted_rows;
CREATE INDEX per_row_rows_resource_idx ON per_row_rows (resource);
VACUUM ANALYZE granted_rows;
VACUUM ANALYZE per_row_rows;
ALTER TABLE granted_rows ENABLE ROW LEVEL SECURITY;
ALTER TABLE granted_rows FORCE ROW LEVEL SECURITY;
CREATE POLICY hessra_select ON granted_rows FOR SELECT
  USING (resource::pg_catalog.text = ANY ((SELECT public.hessra_granted_resources('read'::pg_catalog.text))::pg_catalog.text[]));
CREATE POLICY hessra_insert ON granted_rows FOR INSERT
  WITH CHECK (resource::pg_catalog.text = ANY ((SELECT public.hessra_granted_resources('write'::pg_catalog.text))::pg_catalog.text[]));
CREATE POLICY hessra_update ON granted_rows FOR UPDATE
  USING (resource::pg_catalog.text = ANY ((SELECT public.hessra_granted_resources('write'::pg_catalog.text))::pg_catalog.text[]))
  WITH CHECK (resource::pg_catalog.text = ANY ((SELECT public.hessra_granted_resources('write'::pg_catalog.text))::pg_catalog.text[]));
ALTER TABLE per_row_rows ENABLE ROW LEVEL SECURITY;
ALTER TABLE per_row_rows FORCE ROW LEVEL SECURITY;
CREATE POLICY hessra_select ON per_row_rows FOR SELECT
  USING (public.hessra_row_security(resource, 'read'::pg_catalog.text));
CREATE ROLE regress_hessra_granted;
GRANT SELECT, INSERT, UPDATE ON granted_rows TO regress_hessra_granted;
GRANT SELECT ON per_row_rows TO regress_hessra_granted;

-- Whether the plan of q compares `column` with the granted resources in an
-- Index Cond, the call in an InitPlan (once per statement). Version
-- independent: PostgreSQL 16 and later print the InitPlan's result as
-- (InitPlan 1).col1, 15 as $0.
CREATE FUNCTION regress_index_cond(q text, col text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE line text; plan text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP plan := plan || line || E'\n'; END LOOP;
  IF plan ~ ('Index Cond: \(' || col || ' = (ANY \()?(\$\d+|\(InitPlan \d+\)\.col1)') AND plan ~ 'InitPlan 1' THEN
    RETURN 'Index Cond on ' || col || ', InitPlan';
  END IF;
  RETURN plan;
END $$;

SET ROLE regress_hessra_granted;
SET max_parallel_workers_per_gather = 0;
-- Exactly the granted rows, for each token of the issue's list, in both
-- forms: one resource, two, a copy narrowed to one of them, expired, none.
PREPARE visible(text) AS
  SELECT $1 AS token, 'index' AS form, count(*) AS rows, count(DISTINCT resource) AS resources,
         min(resource) AS first, max(resource) AS last FROM granted_rows
  UNION ALL
  SELECT $1, 'per row', count(*), count(DISTINCT resource), min(resource), max(resource) FROM per_row_rows;
SET hessra.token = :'tok_one';
EXECUTE visible('one');
SET hessra.token = :'tok_two';
EXECUTE visible('two');
SET hessra.token = :'tok_two_narrowed';
EXECUTE visible('narrowed');
SET hessra.token = :'tok_two_expired';
EXECUTE visible('expired');
RESET hessra.token;
EXECUTE visible('no token');
DEALLOCATE visible;

SET hessra.token = :'tok_two';
SELECT regress_index_cond('SELECT count(*) FROM granted_rows', 'resource') AS select_plan;
SELECT regress_index_cond('SELECT id FROM granted_rows WHERE v = 3', 'resource') AS with_a_filter;
-- The per-row form cannot use its index: the check filters every row.
SELECT plan NOT LIKE 'Index Cond on%' AND plan LIKE '%Filter: %hessra_row_security(resource%' AS per_row_is_a_filter
FROM regress_index_cond('SELECT count(*) FROM per_row_rows', 'resource') plan;

-- Writes: WITH CHECK holds new rows to the write grant (r1 only).
SELECT regress_try('INSERT INTO granted_rows VALUES (100001, ''r1'', 0)') AS insert_granted,
       regress_try('INSERT INTO granted_rows VALUES (100002, ''r2'', 0)') AS insert_not_granted;
SELECT regress_try('UPDATE granted_rows SET resource = ''r2'' WHERE id = 100001') AS update_away,
       regress_try('UPDATE granted_rows SET v = 6 WHERE id = 100001') AS update_in_place;
RESET ROLE;
SELECT count(*) AS written FROM granted_rows WHERE id > 100000;

-- ---- owner and identity columns: the InitPlan's value in an Index Cond ----
CREATE TABLE owned_rows (id int PRIMARY KEY, owner text NOT NULL);
INSERT INTO owned_rows SELECT g, CASE WHEN g % 1000 = 1 THEN 'alice' ELSE 'user_' || (g % 1000) END
FROM generate_series(1, 20000) g;
CREATE INDEX owned_rows_owner_idx ON owned_rows (owner);
CREATE TABLE identity_rows AS
  SELECT id, CASE WHEN owner = 'alice' THEN 'urn:hessra:alice:laptop' ELSE owner END AS owner FROM owned_rows;
CREATE INDEX identity_rows_owner_idx ON identity_rows (owner);
VACUUM ANALYZE owned_rows;
VACUUM ANALYZE identity_rows;
ALTER TABLE owned_rows ENABLE ROW LEVEL SECURITY;
ALTER TABLE owned_rows FORCE ROW LEVEL SECURITY;
CREATE POLICY hessra_select ON owned_rows FOR SELECT
  USING ((SELECT public.hessra_row_security(pg_catalog.current_setting('hessra.token', true), 'orders'::pg_catalog.text, 'read'::pg_catalog.text))
         AND owner::pg_catalog.text = (SELECT public.hessra_current_subject()));
ALTER TABLE identity_rows ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity_rows FORCE ROW LEVEL SECURITY;
CREATE POLICY hessra_select ON identity_rows FOR SELECT
  USING (owner::pg_catalog.text = (SELECT public.hessra_current_identity()));
GRANT SELECT ON owned_rows, identity_rows TO regress_hessra_granted;
SET ROLE regress_hessra_granted;
SET hessra.token = :'tok_alice';
SELECT count(*) AS alices_rows FROM owned_rows;
SELECT regress_index_cond('SELECT count(*) FROM owned_rows', 'owner') AS owner_plan;
SET hessra.token = :'tok_id_laptop';
SELECT count(*) AS laptops_rows FROM identity_rows;
SELECT regress_index_cond('SELECT count(*) FROM identity_rows', 'owner') AS identity_plan;
RESET hessra.token;
RESET max_parallel_workers_per_gather;
RESET ROLE;

DROP TABLE granted_rows, per_row_rows, owned_rows, identity_rows;
DROP FUNCTION regress_index_cond(text, text);
DROP ROLE regress_hessra_granted;
