-- hessra.audit (issue 24): one server log line per distinct decision and
-- statement, never the token. The lines are read back from the server log.
\i test/tmp/vars.psql
SET client_min_messages = warning;
LOAD 'hessra';

SELECT name, setting, context, vartype, enumvals FROM pg_settings WHERE name = 'hessra.audit';

CREATE TABLE audited (id int PRIMARY KEY, resource text NOT NULL);
INSERT INTO audited SELECT g, 'r' || (g % 5 + 1) FROM generate_series(1, 1000) g;
INSERT INTO audited VALUES (0, E'line\nbreak "quoted"');
ALTER TABLE audited ENABLE ROW LEVEL SECURITY;
ALTER TABLE audited FORCE ROW LEVEL SECURITY;
CREATE POLICY per_row ON audited FOR SELECT USING (hessra_row_security(resource, 'read'));
CREATE ROLE regress_hessra_audited;
GRANT SELECT ON audited TO regress_hessra_audited;
-- Only a superuser may change it.
SET ROLE regress_hessra_audited;
SELECT regress_try('SET hessra.audit = off') AS as_user;
RESET ROLE;

-- This session's log lines from here on; PostgreSQL would attach the
-- statement (which holds the token) to every message from LOG up.
SELECT pg_backend_pid() AS pid, (pg_stat_file(:'server_log')).size AS log_start \gset
SET log_min_error_statement = log;
SET max_parallel_workers_per_gather = 0;
SET hessra.audit = 'all';
SET ROLE regress_hessra_audited;

-- 1001 rows, 6 distinct resources: six lines, not a thousand.
SET hessra.token = :'tok_two';
SELECT count(*) AS visible FROM audited;
-- Again: a new statement logs its decisions again.
SELECT count(*) AS visible_again FROM audited;
-- The index form: one line with the granted resources.
SELECT hessra_granted_resources('read') AS granted;
-- No token: one line per call site, whatever the resource.
RESET hessra.token;
SELECT count(*) AS visible_without_token FROM audited;
-- Denials only: the granted rows are not logged.
RESET ROLE;
SET hessra.audit = 'denials';
SET ROLE regress_hessra_audited;
SET hessra.token = :'tok_two_expired';
SELECT hessra_verify_token(:'tok_two_expired', 'alice', 'r1', 'read') AS expired,
       hessra_verify_token(:'tok_two', 'alice', 'r1', 'read') AS allowed_not_logged,
       hessra_verify_token(:'tok_untrusted', NULL, 'orders', 'read', domain => 'example.com') AS forged;
-- A token inside a statement run from PL/pgSQL: no CONTEXT, no STATEMENT.
DO $$ BEGIN PERFORM hessra_verify_token(current_setting('hessra.token'), 'alice', 'r9'); END $$;
SELECT regress_try(format('SELECT hessra_verify_token(%L, %L, %L)', :'tok_two', 'bob', 'r1')) AS in_dynamic_sql;
RESET ROLE;
SET hessra.audit = 'all';
SET hessra.token = :'tok_id_laptop';
SELECT hessra_current_identity() AS identity;
SET hessra.token = :'tok_alice';
SELECT hessra_current_subject() AS subject;
RESET hessra.audit;
RESET hessra.token;
RESET log_min_error_statement;
RESET max_parallel_workers_per_gather;

-- What this session logged: the audit lines (revocation ids vary between
-- runs), and nothing else — no STATEMENT, no CONTEXT, no token anywhere.
CREATE TEMP TABLE logged AS
SELECT n, l FROM regexp_split_to_table(pg_read_file(:'server_log', :log_start, 100000000), E'\n') WITH ORDINALITY s(l, n)
WHERE l LIKE '%[' || :pid || '] %';
SELECT regexp_replace(regexp_replace(l, '^.*\[\d+\] LOG:  ', ''), 'revocation_id=[0-9a-f]+', 'revocation_id=<id>') AS line
FROM logged ORDER BY n;
SELECT count(*) FILTER (WHERE l !~ '\] LOG:  hessra audit: ') AS other_lines,
       count(*) FILTER (WHERE l ~ 'revocation_id=[0-9a-f]{128}') AS lines_with_a_revocation_id,
       count(*) FILTER (WHERE strpos(l, :'tok_two') > 0 OR strpos(l, :'tok_two_expired') > 0
                           OR strpos(l, :'tok_untrusted') > 0 OR strpos(l, :'tok_id_laptop') > 0
                           OR strpos(l, :'tok_alice') > 0) AS lines_with_a_token
FROM logged;
-- The revocation id logged is the token's last block's.
SELECT count(*) AS lines_naming_the_expired_tokens_id FROM logged
WHERE strpos(l, 'revocation_id=' || (hessra_inspect(:'tok_two_expired')->'revocation_ids'->>-1)) > 0;

DROP TABLE audited;
DROP ROLE regress_hessra_audited;
