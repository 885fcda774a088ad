-- Leave the cluster as we found it (roles are cluster-wide).
SET client_min_messages = warning;
DROP TABLE orders, par;
DROP FUNCTION regress_plan_is_parallel(text);
DROP OWNED BY regress_hessra_user, regress_hessra_app;
DROP ROLE regress_hessra_user;
DROP ROLE regress_hessra_app;
SELECT regress_exec(format('ALTER DATABASE %I RESET hessra.config_path', current_database()));
