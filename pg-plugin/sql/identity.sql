-- Identity tokens (issue 12): hessra_verify_identity and hessra_current_identity,
-- and row-level security comparing an owner column with the identity the
-- session's token proves.
\i test/tmp/vars.psql
SET client_min_messages = warning;

SELECT oid::regprocedure::text AS function, provolatile AS volatile, proparallel AS parallel, procost AS cost
FROM pg_proc WHERE proname IN ('hessra_verify_identity', 'hessra_current_identity') ORDER BY 1;

-- A delegatable token for alice serves alice and the identities below her;
-- the colon boundary keeps alice2 out.
SELECT hessra_verify_identity(:'tok_id_alice', 'urn:hessra:alice') AS alice,
       hessra_verify_identity(:'tok_id_alice', 'urn:hessra:alice:laptop') AS below_alice,
       hessra_verify_identity(:'tok_id_alice', 'urn:hessra:alice2') AS prefix_attack,
       hessra_verify_identity(:'tok_id_alice', 'urn:hessra:bob') AS bob;
-- Delegated to alice:laptop: neither the delegator nor a sibling.
SELECT hessra_verify_identity(:'tok_id_laptop', 'urn:hessra:alice:laptop') AS laptop,
       hessra_verify_identity(:'tok_id_laptop', 'urn:hessra:alice:laptop:chrome') AS below_laptop,
       hessra_verify_identity(:'tok_id_laptop', 'urn:hessra:alice') AS delegator,
       hessra_verify_identity(:'tok_id_laptop', 'urn:hessra:alice:phone') AS sibling;
-- Refusals are false, never errors: expired, untrusted key, an authorization
-- token, garbage, NULL and empty arguments.
SELECT hessra_verify_identity(:'tok_id_expired', 'urn:hessra:alice') AS expired,
       hessra_verify_identity(:'tok_id_untrusted', 'urn:hessra:alice') AS untrusted,
       hessra_verify_identity(:'tok_alice', 'alice') AS authorization_token,
       hessra_verify_identity('not a token', 'urn:hessra:alice') AS garbage,
       hessra_verify_identity(NULL, 'urn:hessra:alice') AS null_token,
       hessra_verify_identity('', 'urn:hessra:alice') AS empty_token,
       hessra_verify_identity(:'tok_id_alice', NULL) AS null_identity;

-- hessra_current_identity(): the base subject, or the narrowest delegated identity.
SELECT hessra_current_identity() IS NULL AS unset;
SET hessra.token = :'tok_id_alice';
SELECT hessra_current_identity() AS base;
SET hessra.token = :'tok_id_laptop';
SELECT hessra_current_identity() AS delegated;
SET hessra.token = :'tok_id_expired';
SELECT hessra_current_identity() IS NULL AS expired;
SET hessra.token = :'tok_id_untrusted';
SELECT hessra_current_identity() IS NULL AS untrusted;
SET hessra.token = :'tok_alice';
SELECT hessra_current_identity() IS NULL AS authorization_token;
SET hessra.token = 'not a token';
SELECT hessra_current_identity() IS NULL AS garbage;
RESET hessra.token;

-- Rows owned by the caller, as `hessra pg policy generate --identity-column owner` writes it.
CREATE TABLE notes (id int PRIMARY KEY, owner text NOT NULL, body text NOT NULL);
INSERT INTO notes VALUES
  (1, 'urn:hessra:alice', 'alice''s'), (2, 'urn:hessra:alice:laptop', 'the laptop''s'),
  (3, 'urn:hessra:alice:phone', 'the phone''s'), (4, 'urn:hessra:alice2', 'alice2''s');
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY notes_owner ON notes FOR SELECT
  USING (owner = (SELECT hessra_current_identity()));
CREATE ROLE regress_hessra_identity;
GRANT SELECT ON notes TO regress_hessra_identity;
SET ROLE regress_hessra_identity;
SELECT count(*) AS no_token FROM notes;
SET hessra.token = :'tok_id_alice';
SELECT id, owner FROM notes ORDER BY id;
SET hessra.token = :'tok_id_laptop';
SELECT id, owner FROM notes ORDER BY id;
SET hessra.token = :'tok_id_expired';
SELECT count(*) AS expired FROM notes;
RESET hessra.token;
RESET ROLE;
DROP TABLE notes;
DROP ROLE regress_hessra_identity;
