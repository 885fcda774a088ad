-- The example's table and the role the application connects as (run as a superuser, once).
-- Policies come from `hessra pg policy apply --table documents --owner-column owner --role documents_app`.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hessra;
DROP TABLE IF EXISTS documents;
CREATE TABLE documents (id int PRIMARY KEY, owner text NOT NULL, title text NOT NULL);
INSERT INTO documents VALUES
  (1, 'alice', 'alice: quarterly report'),
  (2, 'alice', 'alice: travel plans'),
  (3, 'bob',   'bob: design notes'),
  (4, 'bob',   'bob: budget');
-- An ordinary role: superusers and BYPASSRLS roles are never subject to row-level security.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'documents_app') THEN CREATE ROLE documents_app LOGIN; END IF;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON documents TO documents_app;
