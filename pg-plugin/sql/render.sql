-- Rendering cost (issue 23, item 1). A symbol is stored once and referenced
-- by an index, so a 43 KB token whose check repeats a 24 KB string 600 times
-- renders to 14 MB (the issue's 2,600 times, 62 MB, is refused when decoded:
-- corpus case render-bomb-issue23). Rendering was quadratic and outside the
-- work meter: statement_timeout = 500ms fired only after the whole
-- rendering, and through RLS a non-superuser pinned a backend. Now the
-- failed check is kept to 4 KiB with its size, inspection to 1 MiB, and every
-- function answers at once.
\i test/tmp/vars.psql
SET client_min_messages = warning;

-- regress_timed(q): q's value or the cancel's SQLSTATE, and whether it took
-- less than 3 seconds.
\i test/regress_timed.psql

\set ECHO none
SELECT set_config('hessra.token', :'tok_render_bomb', false) IS NOT NULL AS bomb_set;
\set ECHO all
SET statement_timeout = '500ms';

SELECT * FROM regress_timed($$SELECT hessra_verify_token(current_setting('hessra.token'), 'alice', 'orders', 'read')$$);
SELECT * FROM regress_timed($$SELECT hessra_current_subject() IS NULL$$);
-- the explanation: the check cut to 4 KiB, with its size
SELECT * FROM regress_timed($$SELECT length(e) < 4400 AND e LIKE 'denied (verification_failed): denied: block 0 check 0 failed: check if nosuch($x), "AAAA%'
                                     AND e LIKE '% ... [14427024 bytes, truncated]'
                                FROM hessra_explain(current_setting('hessra.token'), 'alice', 'orders', 'read') e$$);
-- inspection: the block's code cut to 1 MiB, with its size
SELECT * FROM regress_timed($$SELECT concat_ws(' ', b->>'truncated', b->>'code_bytes', octet_length(b->>'code') <= 1048576 + 40)
                                FROM hessra_inspect(current_setting('hessra.token')) i, jsonb_array_elements(i->'blocks') b$$);

-- Through RLS, as a role that is not a superuser: no row, at once.
CREATE TABLE render_orders (id int PRIMARY KEY, owner text NOT NULL);
INSERT INTO render_orders SELECT g, 'alice' FROM generate_series(1, 1000) g;
ALTER TABLE render_orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY render_read ON render_orders FOR SELECT
  USING ((SELECT hessra_row_security(current_setting('hessra.token', true), 'orders', 'read'))
         AND owner = (SELECT hessra_current_subject()));
CREATE ROLE regress_hessra_render;
GRANT SELECT ON render_orders TO regress_hessra_render;
SET ROLE regress_hessra_render;
SELECT * FROM regress_timed($$SELECT count(*) FROM render_orders$$);
-- a row-by-row policy (no InitPlan): every call answers within the bound too
RESET ROLE;
CREATE POLICY render_read_per_row ON render_orders FOR SELECT
  USING (hessra_row_security(current_setting('hessra.token', true) || '', 'orders', 'read'));
SET ROLE regress_hessra_render;
SELECT * FROM regress_timed($$SELECT count(*) FROM render_orders$$);
RESET ROLE;

RESET statement_timeout;
RESET hessra.token;
-- the session is fine
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders', 'read') AS alice_after_bomb;
DROP TABLE render_orders;
DROP ROLE regress_hessra_render;
DROP FUNCTION regress_timed(text);
