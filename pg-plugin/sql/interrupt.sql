-- Bounded work (issue 18): a token whose check compares an 8,000-element
-- set with itself once per element used to pin a backend for minutes, deaf
-- to statement_timeout. The engine's time limit, statement_timeout and a
-- cancel each stop it within a second or two now (pg_cancel_backend and
-- pg_terminate_backend from another session: test/run.sh).
\i test/tmp/vars.psql
SET client_min_messages = warning;

-- The 43 KB token lives in the setting, so that no statement echoes it.
\set ECHO none
SELECT set_config('hessra.token', :'tok_bomb', false) IS NOT NULL AS bomb_set;
\set ECHO all

-- regress_timed(q): q's value or the cancel's SQLSTATE, and whether it took
-- less than 3 seconds.
\i test/regress_timed.psql

-- The engine's own time limit (1 s by default) refuses the token.
SELECT * FROM regress_timed($$SELECT hessra_verify_token(current_setting('hessra.token'), 'alice', 'orders')$$);
SELECT * FROM regress_timed($$SELECT hessra_current_subject()$$);
SELECT * FROM regress_timed($$SELECT hessra_explain(current_setting('hessra.token'), 'alice', 'orders')$$);

-- With a 10-minute engine limit, statement_timeout is what stops it:
-- SQLSTATE 57014, as for any statement.
SELECT hessra_init(:'cfg_slow') AS slow_config;
SET statement_timeout = '1s';
SELECT * FROM regress_timed($$SELECT hessra_verify_token(current_setting('hessra.token'), 'alice', 'orders')$$);
SELECT * FROM regress_timed($$SELECT hessra_current_subject()$$);
SELECT * FROM regress_timed($$SELECT hessra_explain(current_setting('hessra.token'), 'alice', 'orders')$$);
RESET statement_timeout;

-- An interrupt that is handled leaves the session usable.
SELECT hessra_verify_token(:'tok_alice', 'alice', 'orders') AS alice_after_cancel;
DROP FUNCTION regress_timed(text);
