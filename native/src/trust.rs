//! What a host adds to the trust a configuration file holds: the PostgreSQL
//! extension keeps a database's trusted keys and revoked ids in tables
//! (docs/DESIGN.md, "Trust in the database").
//!
//! - **Keys**, few, are added to the configuration when it is loaded
//!   ([`Config::add_database_key`]). The one rule combining them with the
//!   file's: keys = file ∪ database; a key id or root key id in both is an
//!   error (a configuration that says two things is not used); the default
//!   key is the database's default when one is marked, else the file's
//!   `default_key` (absent: the file's first key), else the first database
//!   key added.
//! - **Revocations**, possibly many, are not copied: the verifier asks a
//!   [`RevocationLookup`] about each block's id after the token's
//!   signatures verified, after the configuration's own list. A lookup that
//!   cannot answer fails the verification ([`crate::verifier::VerifierError::RevocationLookup`]):
//!   never "not revoked", and nothing is cached.
//! - **Files**: a configuration remembers every file it was read from
//!   ([`Config::files_changed`]), so a host can tell that a key file or the
//!   revocation file changed without being told to reload.

use crate::config::{parse_public_key, Config, ConfigError, KeyEntry, KeySource};

/// The host's list of revoked block ids (the PostgreSQL extension's table).
pub trait RevocationLookup: Sync {
    /// Whether `revocation_id` (a block's signature bytes) is revoked.
    /// `Err` when the host cannot tell: the verification fails.
    fn is_revoked(&self, revocation_id: &[u8]) -> Result<bool, String>;
}

impl Config {
    /// Adds a key from a database's table of trusted keys, by the rule in
    /// the module documentation. The message of an error names the key id.
    pub fn add_database_key(
        &mut self,
        id: &str,
        public_key: &str,
        root_key_id: Option<u32>,
        is_default: bool,
    ) -> Result<(), ConfigError> {
        let field = format!("database key {:?}", id);
        let invalid = |message: String| ConfigError::invalid(field.clone(), message);
        if id.is_empty() {
            return Err(invalid("a key id must not be empty".to_string()));
        }
        if let Some(k) = self.key(id) {
            return Err(invalid(format!(
                "the id is also a key of the {} (each key id has one source: remove one of them)",
                describe_source(k)
            )));
        }
        if let Some(r) = root_key_id {
            if let Some(k) = self.keys.iter().find(|k| k.root_key_id == Some(r)) {
                return Err(invalid(format!(
                    "root key id {} is already used by key {:?} of the {}",
                    r,
                    k.id,
                    describe_source(k)
                )));
            }
        }
        let public_key = parse_public_key(public_key).map_err(invalid)?;
        if is_default && self.database_default {
            return Err(invalid(format!(
                "a second default key (the default is already {:?})",
                self.default_key.as_deref().unwrap_or("")
            )));
        }
        self.keys.push(KeyEntry {
            id: id.to_string(),
            public_key,
            root_key_id,
            source: KeySource::Database,
        });
        if is_default {
            self.default_key = Some(id.to_string());
            self.database_default = true;
        } else if self.default_key.is_none() {
            self.default_key = Some(id.to_string());
        }
        Ok(())
    }

    /// Whether any file the configuration was read from changed since (or
    /// can no longer be looked at): the configuration should be read again.
    pub fn files_changed(&self) -> bool {
        self.files.iter().any(|f| f.changed())
    }
}

fn describe_source(k: &KeyEntry) -> &'static str {
    match k.source {
        KeySource::File => "configuration file",
        KeySource::Database => "database",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "ed25519/acdd6d5b53bfee478bf689f8f23b2b7de27a8aa58fd3ab4ec00f1ff1f2f11bd1";
    const K2: &str = "ed25519/1055c750b1a1505937af1537c626ba3263995c33a64758aaafb1275b0312e284";
    const K3: &str = "ed25519/3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";

    fn file_config() -> Config {
        Config::from_json(&format!(
            r#"{{"version":1,"default_key":"prod","keys":[{{"id":"prod","public_key":"{K1}","root_key_id":1}}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn keys_are_the_union_and_the_database_default_wins() {
        let mut c = file_config();
        c.add_database_key("next", K2, Some(2), false).unwrap();
        assert_eq!(
            c.default_key.as_deref(),
            Some("prod"),
            "the file's default stays"
        );
        assert_eq!(c.select_key(Some(2)).unwrap().id, "next");
        assert_eq!(c.key("next").unwrap().source, KeySource::Database);
        c.add_database_key("rotated", K3, None, true).unwrap();
        assert_eq!(
            c.default_key.as_deref(),
            Some("rotated"),
            "a database default wins"
        );
        assert_eq!(c.keys.len(), 3);
        let d = c.describe(0).to_string();
        assert!(
            d.contains(r#""id":"rotated","public_key":"#) && d.contains(r#""source":"database""#),
            "{d}"
        );
    }

    #[test]
    fn without_a_file_the_first_database_key_is_the_default() {
        let mut c = Config::default();
        c.add_database_key("a", K1, None, false).unwrap();
        c.add_database_key("b", K2, None, false).unwrap();
        assert_eq!(c.default_key.as_deref(), Some("a"));
        c.add_database_key("c", K3, None, true).unwrap();
        assert_eq!(c.default_key.as_deref(), Some("c"));
    }

    #[test]
    fn conflicts_are_errors_naming_the_key() {
        let mut c = file_config();
        let e = c.add_database_key("prod", K2, None, false).unwrap_err();
        assert_eq!(e.field, r#"database key "prod""#);
        assert!(
            e.message.contains("also a key of the configuration file"),
            "{}",
            e.message
        );
        let e = c.add_database_key("other", K2, Some(1), false).unwrap_err();
        assert!(
            e.message
                .contains(r#"root key id 1 is already used by key "prod""#),
            "{}",
            e.message
        );
        let e = c
            .add_database_key("bad", "not a key", None, false)
            .unwrap_err();
        assert!(
            !e.message.contains("not a key"),
            "the key text is not echoed: {}",
            e.message
        );
        assert!(c.add_database_key("", K2, None, false).is_err());
        c.add_database_key("d1", K2, None, true).unwrap();
        let e = c.add_database_key("d2", K3, None, true).unwrap_err();
        assert!(e.message.contains("a second default key"), "{}", e.message);
        assert_eq!(c.keys.len(), 2, "nothing refused was added");
    }

    #[test]
    fn files_changed_sees_every_file_read() {
        let dir = std::env::temp_dir().join(format!("hessra-trust-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (main, key, list) = (
            dir.join("c.json"),
            dir.join("k.pub"),
            dir.join("revoked.txt"),
        );
        std::fs::write(&key, K1).unwrap();
        std::fs::write(&list, "# none\n").unwrap();
        std::fs::write(
            &main,
            r#"{"version":1,"keys":[{"id":"k","public_key_file":"k.pub"}],"revocation_file":"revoked.txt"}"#,
        )
        .unwrap();
        let c = Config::from_file(&main).unwrap();
        assert_eq!(c.files.len(), 3);
        assert!(!c.files_changed());
        // a revocation file written in place (same size: the times tell)
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&list, "# nah!\n").unwrap();
        assert!(c.files_changed(), "an edited revocation file");
        let c = Config::from_file(&main).unwrap();
        std::fs::remove_file(&key).unwrap();
        assert!(c.files_changed(), "a key file that is gone");
        assert!(!Config::from_json(r#"{"version":1}"#)
            .unwrap()
            .files_changed());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
