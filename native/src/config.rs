//! The JSON configuration shared by the CLI, the engine and the PostgreSQL
//! extension (docs/DESIGN.md, "Configuration").
//!
//! ```json
//! {
//!   "version": 1,
//!   "default_key": "prod",
//!   "keys": [
//!     { "id": "prod", "public_key": "-----BEGIN PUBLIC KEY-----...", "root_key_id": 7 },
//!     { "id": "edge", "public_key_file": "keys/edge.pub" }
//!   ],
//!   "domain": null,
//!   "service_chains": { "order_service": [ { "component": "auth_service", "public_key": "ed25519/..." } ] },
//!   "leeway_seconds": 0,
//!   "limits": { "max_token_bytes": 65536, "max_facts": 1000, "max_iterations": 100, "max_time_ms": 1000 },
//!   "revoked_ids": ["3ee1c6…"],
//!   "revocation_file": "revoked.txt"
//! }
//! ```
//!
//! Revocation (see [`Revocations`]): `revoked_ids` lists revocation ids (the
//! hex of a block's signature, as `inspect` shows them) and
//! `revocation_file` names a file of more, one per line. The file is read
//! when the configuration is, with the same path and trust rules as a key
//! file; a missing or unreadable file is a configuration error (fail
//! closed: a revocation list that cannot be read must not let revoked tokens
//! through).
//!
//! Parsing is strict: unknown fields, a wrong type, an unreadable key, a
//! duplicate key id or an out-of-range limit are errors whose message names
//! the field (`keys[1].public_key: ...`). Every field but `version` is
//! optional; `null` means "absent". When `default_key` is absent the first
//! key is the default. A relative `public_key_file` is resolved against the
//! directory of the configuration file (the working directory for a
//! configuration given as a string).
//!
//! Whoever can write the configuration file or a key file it names decides
//! which tokens verify. [`FileTrust::OwnedBy`] (the PostgreSQL extension's
//! choice) applies one rule to both: a regular file, owned by one of the
//! given users, not writable by group or others. The CLI reads files the
//! user names on the command line and uses [`FileTrust::Any`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::crypto::PublicKey;
use crate::datalog::RunLimits;
use crate::json::Value;

/// Largest configuration file accepted.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Largest public key file accepted.
pub const MAX_KEY_FILE_BYTES: u64 = 64 << 10;
/// Hard ceiling of `limits.max_token_bytes` (the token decoder's own bound).
pub const MAX_TOKEN_BYTES_CEILING: u64 = 1 << 20;
/// Largest accepted `leeway_seconds` (one day).
pub const MAX_LEEWAY_SECONDS: i64 = 86_400;
/// Largest revocation file accepted (about 60 000 Ed25519 revocation ids).
pub const MAX_REVOCATION_FILE_BYTES: u64 = 8 << 20;
/// Longest revocation id, in bytes (a block signature: 64 for Ed25519, at
/// most 72 for a DER-encoded P-256 signature).
pub const MAX_REVOCATION_ID_BYTES: usize = 128;

/// What went wrong with a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// A file (configuration or key) could not be read.
    Io,
    /// The content is malformed, inconsistent or out of range.
    Invalid,
    /// A file is refused by the [`FileTrust`] policy (type, owner, mode).
    Untrusted,
}

/// A configuration error naming the offending field (empty for the document
/// itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub kind: ConfigErrorKind,
    pub field: String,
    pub message: String,
}

impl ConfigError {
    fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            kind: ConfigErrorKind::Invalid,
            field: field.into(),
            message: message.into(),
        }
    }
    fn io(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            kind: ConfigErrorKind::Io,
            field: field.into(),
            message: message.into(),
        }
    }
    fn untrusted(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            kind: ConfigErrorKind::Untrusted,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// One trusted root key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEntry {
    pub id: String,
    pub public_key: PublicKey,
    /// The token `rootKeyId` this key answers to.
    pub root_key_id: Option<u32>,
}

/// One node of a service chain: the component that attests and its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceNode {
    pub component: String,
    pub public_key: PublicKey,
}

/// Resource limits applied to verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_token_bytes: u64,
    pub max_facts: u64,
    pub max_iterations: u64,
    pub max_time_ms: u64,
}

/// Default wall-clock cap of one authorization. The deterministic limits
/// (facts, iterations) are what bound the work; this cap only stops a
/// pathological run, so it is generous: a 50 ms cap was observed to deny
/// trivial tokens on a loaded 2-core machine (a thread descheduled mid-run),
/// and the same token must give the same answer on a busy machine.
pub const DEFAULT_MAX_TIME_MS: u64 = 1000;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_token_bytes: 65536,
            max_facts: 1000,
            max_iterations: 100,
            max_time_ms: DEFAULT_MAX_TIME_MS,
        }
    }
}

impl Limits {
    pub fn run_limits(&self) -> RunLimits {
        RunLimits {
            max_facts: self.max_facts,
            max_iterations: self.max_iterations,
            max_time: Duration::from_millis(self.max_time_ms),
        }
    }
}

/// A parsed, validated configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The id of the default key (always names an entry of `keys` when set).
    pub default_key: Option<String>,
    pub keys: Vec<KeyEntry>,
    pub domain: Option<String>,
    /// Service chains by resource name, in file order.
    pub service_chains: Vec<(String, Vec<ServiceNode>)>,
    pub leeway_seconds: i64,
    pub limits: Limits,
    pub revocations: Revocations,
}

// ---- revocation -------------------------------------------------------------

/// The revoked block ids of a configuration: `revoked_ids` and the lines of
/// `revocation_file`, together. A token is revoked when the revocation id of
/// any of its blocks is listed: listing a token's authority block id revokes
/// it and every token attenuated from it; listing a later block's id revokes
/// only the tokens that contain that block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Revocations {
    ids: std::collections::HashSet<Vec<u8>>,
    /// The file the ids were partly read from (resolved), for `describe`.
    pub file: Option<PathBuf>,
}

impl Revocations {
    /// The index of the first block whose revocation id is listed.
    pub fn revoked_block(&self, revocation_ids: &[Vec<u8>]) -> Option<usize> {
        if self.ids.is_empty() {
            return None;
        }
        revocation_ids.iter().position(|id| self.ids.contains(id))
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn insert(&mut self, id: Vec<u8>) {
        self.ids.insert(id);
    }
}

/// Parses one revocation id: hex (either case), at most
/// [`MAX_REVOCATION_ID_BYTES`] bytes. The message never quotes the input.
pub fn parse_revocation_id(text: &str) -> Result<Vec<u8>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty revocation id".to_string());
    }
    if t.len() > MAX_REVOCATION_ID_BYTES * 2 {
        return Err(format!(
            "a revocation id is at most {} hex characters",
            MAX_REVOCATION_ID_BYTES * 2
        ));
    }
    if !t.len().is_multiple_of(2) || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(
            "not a revocation id: expected an even number of hex digits (as `hessra inspect` shows them)"
                .to_string(),
        );
    }
    crate::encoding::hex_decode(&t.to_ascii_lowercase()).map_err(|e| e.to_string())
}

fn parse_revoked_ids(value: &Value, into: &mut Revocations) -> Result<(), ConfigError> {
    let items = value.as_array().ok_or_else(|| {
        ConfigError::invalid(
            "revoked_ids",
            format!(
                "expected an array of hex strings, found {}",
                value.type_name()
            ),
        )
    })?;
    for (i, item) in items.iter().enumerate() {
        let field = format!("revoked_ids[{}]", i);
        let text = expect_string(item, &field)?;
        into.insert(parse_revocation_id(text).map_err(|m| ConfigError::invalid(field, m))?);
    }
    Ok(())
}

/// Reads a revocation file: one hex id per line; blank lines and lines
/// starting with `#` are ignored. Errors name the line.
fn read_revocation_file(
    path: &Path,
    trust: &FileTrust,
    into: &mut Revocations,
) -> Result<(), ConfigError> {
    const FIELD: &str = "revocation_file";
    let text = read_trusted_text_file(path, MAX_REVOCATION_FILE_BYTES, FIELD, trust)?;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let id = parse_revocation_id(line).map_err(|m| {
            ConfigError::invalid(FIELD, format!("{} line {}: {}", path.display(), i + 1, m))
        })?;
        into.insert(id);
    }
    into.file = Some(path.to_path_buf());
    Ok(())
}

/// Which files may be read as configuration or public key files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FileTrust {
    /// Any file the process can read (the CLI: the user names the file).
    #[default]
    Any,
    /// A regular file owned by one of these uids and not writable by group
    /// or others: nobody else can change which keys are trusted.
    OwnedBy(Vec<u32>),
}

impl FileTrust {
    /// Refuses a file that breaks the policy; the message names the file,
    /// what is wrong and how to fix it.
    fn check(&self, meta: &std::fs::Metadata, path: &Path, field: &str) -> Result<(), ConfigError> {
        use std::os::unix::fs::MetadataExt;
        let FileTrust::OwnedBy(owners) = self else {
            return Ok(());
        };
        if !meta.file_type().is_file() {
            return Err(ConfigError::untrusted(
                field,
                format!("{} is not a regular file", path.display()),
            ));
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(ConfigError::untrusted(
                field,
                format!(
                    "{} is writable by group or others (mode {:04o}): whoever can write it \
                     decides which keys are trusted; run: chmod go-w {}",
                    path.display(),
                    mode,
                    path.display()
                ),
            ));
        }
        if !owners.contains(&meta.uid()) {
            let allowed: Vec<String> = owners.iter().map(u32::to_string).collect();
            return Err(ConfigError::untrusted(
                field,
                format!(
                    "{} is owned by uid {}; only uid {} may own it",
                    path.display(),
                    meta.uid(),
                    allowed.join(" or ")
                ),
            ));
        }
        Ok(())
    }
}

/// Reads a file of at most `max` bytes as UTF-8 text.
pub fn read_text_file(path: &Path, max: u64, field: &str) -> Result<String, ConfigError> {
    read_trusted_text_file(path, max, field, &FileTrust::Any)
}

/// `O_NONBLOCK` (Linux's generic value): opening a FIFO for reading returns
/// at once instead of waiting for a writer. 0 elsewhere (the check before
/// the open still refuses a FIFO there).
const O_NONBLOCK: i32 = if cfg!(all(
    target_os = "linux",
    any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "arm",
        target_arch = "aarch64",
        target_arch = "riscv64",
        target_arch = "powerpc64",
        target_arch = "s390x",
        target_arch = "loongarch64"
    )
)) {
    0o4000
} else {
    0
};

/// Reads a file of at most `max` bytes as UTF-8 text after checking it
/// against `trust`. The file is checked before it is opened (so that a FIFO
/// or a device is never opened), opened without blocking (a file swapped
/// for a FIFO in between cannot hang the open) and checked again once open:
/// what is read is what passed, a regular file, read with a size bound.
pub fn read_trusted_text_file(
    path: &Path,
    max: u64,
    field: &str,
    trust: &FileTrust,
) -> Result<String, ConfigError> {
    use std::io::Read;
    let open_error = |e: std::io::Error| {
        ConfigError::io(
            field,
            format!("cannot open {}: {}", path.display(), io_reason(&e)),
        )
    };
    let file = if *trust == FileTrust::Any {
        std::fs::File::open(path).map_err(open_error)?
    } else {
        use std::os::unix::fs::OpenOptionsExt;
        trust.check(&std::fs::metadata(path).map_err(open_error)?, path, field)?;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(O_NONBLOCK)
            .open(path)
            .map_err(open_error)?
    };
    if *trust != FileTrust::Any {
        trust.check(&file.metadata().map_err(open_error)?, path, field)?;
    }
    let mut buf = Vec::new();
    file.take(max + 1).read_to_end(&mut buf).map_err(|e| {
        ConfigError::io(
            field,
            format!("cannot read {}: {}", path.display(), io_reason(&e)),
        )
    })?;
    if buf.len() as u64 > max {
        return Err(ConfigError::invalid(
            field,
            format!("{} is larger than {} bytes", path.display(), max),
        ));
    }
    String::from_utf8(buf)
        .map_err(|_| ConfigError::invalid(field, format!("{} is not UTF-8 text", path.display())))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Parses a public key in any accepted text form (PEM, `ed25519/<hex>`,
/// `secp256r1/<hex>`, bare hex); the error message never echoes the input.
pub fn parse_public_key(text: &str) -> Result<PublicKey, String> {
    PublicKey::parse_any(text.trim()).map_err(|e| e.to_string())
}

/// Reads a public key file (at most 64 KiB) holding any accepted text form,
/// refused unless `trust` allows it.
pub fn read_public_key_file(
    path: &Path,
    field: &str,
    trust: &FileTrust,
) -> Result<PublicKey, ConfigError> {
    let text = read_trusted_text_file(path, MAX_KEY_FILE_BYTES, field, trust)?;
    parse_public_key(&text)
        .map_err(|m| ConfigError::invalid(field, format!("{}: {}", path.display(), m)))
}

fn expect_object<'a>(v: &'a Value, field: &str) -> Result<&'a [(String, Value)], ConfigError> {
    v.as_object().ok_or_else(|| {
        ConfigError::invalid(
            field,
            format!("expected an object, found {}", v.type_name()),
        )
    })
}

fn expect_string<'a>(v: &'a Value, field: &str) -> Result<&'a str, ConfigError> {
    v.as_str().ok_or_else(|| {
        ConfigError::invalid(field, format!("expected a string, found {}", v.type_name()))
    })
}

fn expect_nonempty_string<'a>(v: &'a Value, field: &str) -> Result<&'a str, ConfigError> {
    let s = expect_string(v, field)?;
    if s.is_empty() {
        return Err(ConfigError::invalid(field, "must not be empty"));
    }
    Ok(s)
}

fn expect_int(v: &Value, field: &str, min: i64, max: i64) -> Result<i64, ConfigError> {
    let n = v.as_i64().ok_or_else(|| {
        ConfigError::invalid(field, format!("expected an integer, found {}", describe(v)))
    })?;
    if n < min || n > max {
        return Err(ConfigError::invalid(
            field,
            format!("{} is out of range {}..={}", n, min, max),
        ));
    }
    Ok(n)
}

fn describe(v: &Value) -> String {
    match v {
        Value::Number(n) => format!("number {}", n),
        other => other.type_name().to_string(),
    }
}

fn unknown_field(path: &str, name: &str, allowed: &[&str]) -> ConfigError {
    let field = if path.is_empty() {
        name.to_string()
    } else {
        format!("{}.{}", path, name)
    };
    ConfigError::invalid(
        field,
        format!("unknown field (expected one of: {})", allowed.join(", ")),
    )
}

fn resolve(base: Option<&Path>, p: &str) -> PathBuf {
    let path = Path::new(p);
    match base {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    }
}

impl Config {
    /// Parses configuration JSON; relative key files resolve against the
    /// working directory.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        Config::from_json_with_base(text, None)
    }

    /// Reads and parses a configuration file (at most 1 MiB); relative key
    /// files resolve against its directory.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        Config::from_trusted_file(path, &FileTrust::Any)
    }

    /// As [`Config::from_file`], refusing a configuration file or a
    /// `public_key_file` that `trust` does not allow.
    pub fn from_trusted_file(path: &Path, trust: &FileTrust) -> Result<Config, ConfigError> {
        let text = read_trusted_text_file(path, MAX_CONFIG_BYTES, "", trust)?;
        let base = path.parent().map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        });
        Config::parse(&text, base, trust)
    }

    /// Parses configuration JSON, resolving relative `public_key_file`s
    /// against `base` when given.
    pub fn from_json_with_base(text: &str, base: Option<&Path>) -> Result<Config, ConfigError> {
        Config::parse(text, base, &FileTrust::Any)
    }

    /// Parses configuration JSON whose `public_key_file` and
    /// `revocation_file` must pass `trust` (the CLI: files owned by the
    /// user or root, issue 23); relative ones resolve against the working
    /// directory.
    pub fn from_json_trusted(text: &str, trust: &FileTrust) -> Result<Config, ConfigError> {
        Config::parse(text, None, trust)
    }

    fn parse(text: &str, base: Option<&Path>, trust: &FileTrust) -> Result<Config, ConfigError> {
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(ConfigError::invalid(
                "",
                format!("configuration is larger than {} bytes", MAX_CONFIG_BYTES),
            ));
        }
        let doc = Value::parse(text)
            .map_err(|e| ConfigError::invalid("", format!("invalid JSON: {}", e)))?;
        let top = expect_object(&doc, "").map_err(|_| {
            ConfigError::invalid(
                "",
                format!("expected a JSON object, found {}", doc.type_name()),
            )
        })?;

        const TOP: &[&str] = &[
            "version",
            "default_key",
            "keys",
            "domain",
            "service_chains",
            "leeway_seconds",
            "limits",
            "revoked_ids",
            "revocation_file",
        ];
        let mut cfg = Config::default();
        let mut version_seen = false;
        let mut default_key: Option<String> = None;
        for (name, value) in top {
            match name.as_str() {
                "version" => {
                    version_seen = true;
                    match value.as_i64() {
                        Some(1) => {}
                        _ => {
                            return Err(ConfigError::invalid(
                                "version",
                                format!("unsupported version {} (expected 1)", describe(value)),
                            ))
                        }
                    }
                }
                "default_key" => {
                    if !value.is_null() {
                        default_key =
                            Some(expect_nonempty_string(value, "default_key")?.to_string());
                    }
                }
                "keys" => {
                    if !value.is_null() {
                        cfg.keys = parse_keys(value, base, trust)?;
                    }
                }
                "domain" => {
                    if !value.is_null() {
                        cfg.domain = Some(expect_nonempty_string(value, "domain")?.to_string());
                    }
                }
                "service_chains" => {
                    if !value.is_null() {
                        cfg.service_chains = parse_service_chains(value)?;
                    }
                }
                "leeway_seconds" => {
                    if !value.is_null() {
                        cfg.leeway_seconds =
                            expect_int(value, "leeway_seconds", 0, MAX_LEEWAY_SECONDS)?;
                    }
                }
                "limits" => {
                    if !value.is_null() {
                        cfg.limits = parse_limits(value)?;
                    }
                }
                "revoked_ids" => {
                    if !value.is_null() {
                        parse_revoked_ids(value, &mut cfg.revocations)?;
                    }
                }
                "revocation_file" => {
                    if !value.is_null() {
                        let file = expect_nonempty_string(value, "revocation_file")?;
                        read_revocation_file(&resolve(base, file), trust, &mut cfg.revocations)?;
                    }
                }
                other => return Err(unknown_field("", other, TOP)),
            }
        }
        if !version_seen {
            return Err(ConfigError::invalid("version", "missing (expected 1)"));
        }
        match default_key {
            Some(id) => {
                if !cfg.keys.iter().any(|k| k.id == id) {
                    return Err(ConfigError::invalid(
                        "default_key",
                        format!("no key has id {:?}", id),
                    ));
                }
                cfg.default_key = Some(id);
            }
            None => cfg.default_key = cfg.keys.first().map(|k| k.id.clone()),
        }
        Ok(cfg)
    }

    /// The key for a token: the key mapped to its root key id when there is
    /// one, else the default key.
    pub fn select_key(&self, root_key_id: Option<u32>) -> Option<&KeyEntry> {
        if let Some(id) = root_key_id {
            if let Some(k) = self.keys.iter().find(|k| k.root_key_id == Some(id)) {
                return Some(k);
            }
        }
        self.default_entry()
    }

    pub fn default_entry(&self) -> Option<&KeyEntry> {
        let id = self.default_key.as_deref()?;
        self.key(id)
    }

    pub fn key(&self, id: &str) -> Option<&KeyEntry> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// Adds or replaces the key stored under `id` (keeping its root key id).
    /// The first key becomes the default when there is none.
    pub fn set_key(&mut self, id: &str, public_key: PublicKey) {
        match self.keys.iter_mut().find(|k| k.id == id) {
            Some(k) => k.public_key = public_key,
            None => self.keys.push(KeyEntry {
                id: id.to_string(),
                public_key,
                root_key_id: None,
            }),
        }
        if self.default_key.is_none() {
            self.default_key = Some(id.to_string());
        }
    }

    /// The service chain configured for a resource.
    pub fn service_chain(&self, resource: &str) -> Option<&[ServiceNode]> {
        self.service_chains
            .iter()
            .find(|(r, _)| r == resource)
            .map(|(_, n)| n.as_slice())
    }

    /// A summary (public data only) for `config show` / `hessra_config_describe`.
    pub fn describe(&self, cache_size: usize) -> Value {
        let keys = self.keys.iter().map(|k| {
            Value::object([
                ("id", Value::from(k.id.as_str())),
                ("public_key", Value::from(k.public_key.to_text())),
                ("root_key_id", Value::from(k.root_key_id)),
            ])
        });
        let chains = self.service_chains.iter().map(|(name, nodes)| {
            (
                name.clone(),
                Value::Array(nodes.iter().map(node_json).collect()),
            )
        });
        Value::object([
            ("default_key", Value::from(self.default_key.clone())),
            ("keys", Value::Array(keys.collect())),
            ("domain", Value::from(self.domain.clone())),
            ("leeway_seconds", Value::from(self.leeway_seconds)),
            (
                "limits",
                Value::object([
                    ("max_token_bytes", Value::from(self.limits.max_token_bytes)),
                    ("max_facts", Value::from(self.limits.max_facts)),
                    ("max_iterations", Value::from(self.limits.max_iterations)),
                    ("max_time_ms", Value::from(self.limits.max_time_ms)),
                ]),
            ),
            ("service_chains", Value::Object(chains.collect())),
            ("cache_size", Value::from(cache_size)),
            ("revoked_id_count", Value::from(self.revocations.len())),
            (
                "revocation_file",
                Value::from(
                    self.revocations
                        .file
                        .as_ref()
                        .map(|p| p.display().to_string()),
                ),
            ),
        ])
    }
}

/// `{"component":..,"public_key":..}`
pub fn node_json(n: &ServiceNode) -> Value {
    Value::object([
        ("component", Value::from(n.component.as_str())),
        ("public_key", Value::from(n.public_key.to_text())),
    ])
}

fn parse_keys(
    value: &Value,
    base: Option<&Path>,
    trust: &FileTrust,
) -> Result<Vec<KeyEntry>, ConfigError> {
    const KEY_FIELDS: &[&str] = &["id", "public_key", "public_key_file", "root_key_id"];
    let items = value.as_array().ok_or_else(|| {
        ConfigError::invalid(
            "keys",
            format!("expected an array, found {}", value.type_name()),
        )
    })?;
    let mut keys: Vec<KeyEntry> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("keys[{}]", i);
        let obj = expect_object(item, &path)?;
        let mut id = None;
        let mut inline = None;
        let mut file = None;
        let mut root_key_id = None;
        for (name, v) in obj {
            let field = format!("{}.{}", path, name);
            match name.as_str() {
                "id" => id = Some(expect_nonempty_string(v, &field)?.to_string()),
                "public_key" => {
                    if !v.is_null() {
                        inline = Some(expect_nonempty_string(v, &field)?);
                    }
                }
                "public_key_file" => {
                    if !v.is_null() {
                        file = Some(expect_nonempty_string(v, &field)?);
                    }
                }
                "root_key_id" => {
                    if !v.is_null() {
                        root_key_id = Some(expect_int(v, &field, 0, u32::MAX as i64)? as u32);
                    }
                }
                other => return Err(unknown_field(&path, other, KEY_FIELDS)),
            }
        }
        let id = id.ok_or_else(|| ConfigError::invalid(format!("{}.id", path), "missing"))?;
        if keys.iter().any(|k| k.id == id) {
            return Err(ConfigError::invalid(
                format!("{}.id", path),
                format!("duplicate key id {:?}", id),
            ));
        }
        let public_key = match (inline, file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::invalid(
                    format!("{}.public_key_file", path),
                    "give either public_key or public_key_file, not both",
                ))
            }
            (None, None) => {
                return Err(ConfigError::invalid(
                    format!("{}.public_key", path),
                    "missing (give public_key or public_key_file)",
                ))
            }
            (Some(text), None) => parse_public_key(text)
                .map_err(|m| ConfigError::invalid(format!("{}.public_key", path), m))?,
            (None, Some(f)) => read_public_key_file(
                &resolve(base, f),
                &format!("{}.public_key_file", path),
                trust,
            )?,
        };
        if let Some(r) = root_key_id {
            if let Some(other) = keys.iter().find(|k| k.root_key_id == Some(r)) {
                return Err(ConfigError::invalid(
                    format!("{}.root_key_id", path),
                    format!("root key id {} is already used by key {:?}", r, other.id),
                ));
            }
        }
        keys.push(KeyEntry {
            id,
            public_key,
            root_key_id,
        });
    }
    Ok(keys)
}

/// Parses a service chain: `[{"component":..,"public_key":..}]`. `path` is
/// the field name used in error messages.
pub fn parse_service_chain(value: &Value, path: &str) -> Result<Vec<ServiceNode>, ConfigError> {
    const NODE_FIELDS: &[&str] = &["component", "public_key"];
    let items = value.as_array().ok_or_else(|| {
        ConfigError::invalid(
            path,
            format!("expected an array, found {}", value.type_name()),
        )
    })?;
    let mut nodes: Vec<ServiceNode> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let npath = format!("{}[{}]", path, i);
        let obj = expect_object(item, &npath)?;
        let mut component = None;
        let mut key = None;
        for (name, v) in obj {
            let field = format!("{}.{}", npath, name);
            match name.as_str() {
                "component" => component = Some(expect_nonempty_string(v, &field)?.to_string()),
                "public_key" => {
                    let text = expect_nonempty_string(v, &field)?;
                    key = Some(
                        parse_public_key(text)
                            .map_err(|m| ConfigError::invalid(field.clone(), m))?,
                    );
                }
                other => return Err(unknown_field(&npath, other, NODE_FIELDS)),
            }
        }
        let component = component
            .ok_or_else(|| ConfigError::invalid(format!("{}.component", npath), "missing"))?;
        let public_key =
            key.ok_or_else(|| ConfigError::invalid(format!("{}.public_key", npath), "missing"))?;
        if nodes.iter().any(|n| n.component == component) {
            return Err(ConfigError::invalid(
                format!("{}.component", npath),
                format!("duplicate component {:?}", component),
            ));
        }
        nodes.push(ServiceNode {
            component,
            public_key,
        });
    }
    Ok(nodes)
}

/// Parses a service chain given as JSON text (the C ABI's
/// `service_chain_json`).
pub fn parse_service_chain_json(text: &str) -> Result<Vec<ServiceNode>, ConfigError> {
    let v = Value::parse(text)
        .map_err(|e| ConfigError::invalid("service_chain", format!("invalid JSON: {}", e)))?;
    parse_service_chain(&v, "service_chain")
}

fn parse_service_chains(value: &Value) -> Result<Vec<(String, Vec<ServiceNode>)>, ConfigError> {
    let obj = expect_object(value, "service_chains")?;
    let mut out = Vec::with_capacity(obj.len());
    for (name, v) in obj {
        let path = format!("service_chains.{}", name);
        if name.is_empty() {
            return Err(ConfigError::invalid(
                "service_chains",
                "resource names must not be empty",
            ));
        }
        out.push((name.clone(), parse_service_chain(v, &path)?));
    }
    Ok(out)
}

fn parse_limits(value: &Value) -> Result<Limits, ConfigError> {
    const LIMIT_FIELDS: &[&str] = &[
        "max_token_bytes",
        "max_facts",
        "max_iterations",
        "max_time_ms",
    ];
    let obj = expect_object(value, "limits")?;
    let mut limits = Limits::default();
    for (name, v) in obj {
        let field = format!("limits.{}", name);
        if v.is_null() {
            if LIMIT_FIELDS.contains(&name.as_str()) {
                continue;
            }
            return Err(unknown_field("limits", name, LIMIT_FIELDS));
        }
        match name.as_str() {
            "max_token_bytes" => {
                limits.max_token_bytes =
                    expect_int(v, &field, 64, MAX_TOKEN_BYTES_CEILING as i64)? as u64
            }
            "max_facts" => limits.max_facts = expect_int(v, &field, 1, 10_000_000)? as u64,
            "max_iterations" => limits.max_iterations = expect_int(v, &field, 1, 1_000_000)? as u64,
            "max_time_ms" => limits.max_time_ms = expect_int(v, &field, 1, 600_000)? as u64,
            other => return Err(unknown_field("limits", other, LIMIT_FIELDS)),
        }
    }
    Ok(limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "ed25519/acdd6d5b53bfee478bf689f8f23b2b7de27a8aa58fd3ab4ec00f1ff1f2f11bd1";
    const K2: &str = "ed25519/1055c750b1a1505937af1537c626ba3263995c33a64758aaafb1275b0312e284";

    fn err(text: &str) -> ConfigError {
        Config::from_json(text).unwrap_err()
    }

    #[test]
    fn full_config() {
        let text = format!(
            r#"{{"version":1,"default_key":"edge",
               "keys":[{{"id":"prod","public_key":"{K1}","root_key_id":7}},
                       {{"id":"edge","public_key":"{K2}","public_key_file":null}}],
               "domain":"example.com",
               "service_chains":{{"order_service":[{{"component":"auth_service","public_key":"{K2}"}}]}},
               "leeway_seconds":5,
               "limits":{{"max_token_bytes":4096,"max_facts":10,"max_iterations":5,"max_time_ms":20}}}}"#
        );
        let c = Config::from_json(&text).unwrap();
        assert_eq!(c.keys.len(), 2);
        assert_eq!(c.default_key.as_deref(), Some("edge"));
        assert_eq!(c.select_key(Some(7)).unwrap().id, "prod");
        assert_eq!(c.select_key(Some(8)).unwrap().id, "edge");
        assert_eq!(c.select_key(None).unwrap().id, "edge");
        assert_eq!(c.domain.as_deref(), Some("example.com"));
        assert_eq!(
            c.service_chain("order_service").unwrap()[0].component,
            "auth_service"
        );
        assert!(c.service_chain("other").is_none());
        assert_eq!(c.leeway_seconds, 5);
        assert_eq!(
            c.limits,
            Limits {
                max_token_bytes: 4096,
                max_facts: 10,
                max_iterations: 5,
                max_time_ms: 20
            }
        );
        let d = c.describe(3).to_string();
        assert!(d.contains("\"cache_size\":3"), "{}", d);
        assert!(d.contains(K1), "{}", d);
    }

    #[test]
    fn minimal_and_defaults() {
        let c = Config::from_json(r#"{"version":1}"#).unwrap();
        assert!(c.keys.is_empty());
        assert!(c.select_key(None).is_none());
        assert_eq!(c.limits, Limits::default());
        let c = Config::from_json(&format!(
            r#"{{"version":1,"keys":[{{"id":"a","public_key":"{K1}"}}]}}"#
        ))
        .unwrap();
        assert_eq!(c.default_key.as_deref(), Some("a"));
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(err(r#"{}"#).field, "version");
        assert_eq!(err(r#"{"version":2}"#).field, "version");
        assert_eq!(err(r#"{"version":"1"}"#).field, "version");
        assert_eq!(err(r#"{"version":1,"extra":true}"#).field, "extra");
        assert_eq!(err(r#"[1]"#).field, "");
        assert_eq!(err(r#"{"version":1,"#).field, "");
        let e = err(&format!(
            r#"{{"version":1,"keys":[{{"id":"a","public_key":"{K1}"}},{{"id":"b","public_key":"ed25519/zz"}}]}}"#
        ));
        assert_eq!(e.field, "keys[1].public_key");
        assert!(e.to_string().starts_with("keys[1].public_key: "), "{}", e);
        let e = err(&format!(
            r#"{{"version":1,"keys":[{{"id":"a","public_key":"{K1}"}},{{"id":"a","public_key":"{K2}"}}]}}"#
        ));
        assert_eq!(e.field, "keys[1].id");
        let e = err(&format!(
            r#"{{"version":1,"keys":[{{"id":"a","public_key":"{K1}","colour":1}}]}}"#
        ));
        assert_eq!(e.field, "keys[0].colour");
        let e = err(r#"{"version":1,"keys":[{"id":"a"}]}"#);
        assert_eq!(e.field, "keys[0].public_key");
        let e = err(&format!(
            r#"{{"version":1,"keys":[{{"id":"a","public_key":"{K1}","public_key_file":"x"}}]}}"#
        ));
        assert_eq!(e.field, "keys[0].public_key_file");
        let e = err(&format!(
            r#"{{"version":1,"keys":[{{"id":"a","public_key":"{K1}","root_key_id":-1}}]}}"#
        ));
        assert_eq!(e.field, "keys[0].root_key_id");
        let e = err(&format!(
            r#"{{"version":1,"keys":[{{"id":"a","public_key":"{K1}","root_key_id":1}},{{"id":"b","public_key":"{K2}","root_key_id":1}}]}}"#
        ));
        assert_eq!(e.field, "keys[1].root_key_id");
        let e = err(&format!(
            r#"{{"version":1,"default_key":"zz","keys":[{{"id":"a","public_key":"{K1}"}}]}}"#
        ));
        assert_eq!(e.field, "default_key");
        assert_eq!(
            err(r#"{"version":1,"leeway_seconds":-1}"#).field,
            "leeway_seconds"
        );
        assert_eq!(
            err(r#"{"version":1,"leeway_seconds":1.5}"#).field,
            "leeway_seconds"
        );
        assert_eq!(
            err(r#"{"version":1,"limits":{"max_facts":0}}"#).field,
            "limits.max_facts"
        );
        assert_eq!(
            err(r#"{"version":1,"limits":{"max_token_bytes":99999999}}"#).field,
            "limits.max_token_bytes"
        );
        assert_eq!(
            err(r#"{"version":1,"limits":{"speed":1}}"#).field,
            "limits.speed"
        );
        assert_eq!(
            err(r#"{"version":1,"service_chains":{"s":[{"component":"a"}]}}"#).field,
            "service_chains.s[0].public_key"
        );
        assert_eq!(
            err(r#"{"version":1,"service_chains":{"s":[{"component":"a","public_key":"nope"}]}}"#)
                .field,
            "service_chains.s[0].public_key"
        );
        assert_eq!(err(r#"{"version":1,"domain":5}"#).field, "domain");
    }

    #[test]
    fn key_files_and_size_limit() {
        let dir = std::env::temp_dir().join(format!("hessra-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("k.pub"), format!("{}\n", K1)).unwrap();
        let cfg_path = dir.join("config.json");
        std::fs::write(
            &cfg_path,
            r#"{"version":1,"keys":[{"id":"f","public_key_file":"k.pub"}]}"#,
        )
        .unwrap();
        let c = Config::from_file(&cfg_path).unwrap();
        assert_eq!(c.keys[0].public_key.to_text(), K1);

        std::fs::write(
            &cfg_path,
            r#"{"version":1,"keys":[{"id":"f","public_key_file":"missing.pub"}]}"#,
        )
        .unwrap();
        let e = Config::from_file(&cfg_path).unwrap_err();
        assert_eq!(
            (e.kind.clone(), e.field.as_str()),
            (ConfigErrorKind::Io, "keys[0].public_key_file")
        );

        let big = format!(r#"{{"version":1,"domain":"{}"}}"#, "x".repeat(1 << 20));
        std::fs::write(&cfg_path, &big).unwrap();
        assert_eq!(
            Config::from_file(&cfg_path).unwrap_err().kind,
            ConfigErrorKind::Invalid
        );
        assert!(Config::from_json(&big).is_err());

        let e = Config::from_file(&dir.join("nope.json")).unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::Io);
        std::fs::remove_dir_all(&dir).ok();
    }

    /// The configuration file and every key file it names get the same
    /// checks under [`FileTrust::OwnedBy`]; [`FileTrust::Any`] reads both.
    #[test]
    fn trusted_files_for_config_and_key_files() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = std::env::temp_dir().join(format!("hessra-trust-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let me = std::fs::metadata(&dir).unwrap().uid();
        let mine = FileTrust::OwnedBy(vec![me]);
        let chmod = |p: &Path, mode: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
        };
        let key = dir.join("k.pub");
        std::fs::write(&key, format!("{}\n", K1)).unwrap();
        let cfg_path = dir.join("config.json");
        std::fs::write(
            &cfg_path,
            r#"{"version":1,"keys":[{"id":"f","public_key_file":"k.pub"}]}"#,
        )
        .unwrap();
        chmod(&key, 0o644);
        chmod(&cfg_path, 0o644);
        let c = Config::from_trusted_file(&cfg_path, &mine).unwrap();
        assert_eq!(c.keys[0].public_key.to_text(), K1);

        // A key file writable by others: refused, naming the field and mode.
        chmod(&key, 0o666);
        let e = Config::from_trusted_file(&cfg_path, &mine).unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::Untrusted);
        assert_eq!(e.field, "keys[0].public_key_file");
        assert!(e.message.contains("mode 0666"), "{}", e);
        assert!(Config::from_file(&cfg_path).is_ok());
        chmod(&key, 0o620);
        let e = Config::from_trusted_file(&cfg_path, &mine).unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::Untrusted);
        chmod(&key, 0o644);

        // A key file owned by someone else.
        let other = FileTrust::OwnedBy(vec![me.wrapping_add(1)]);
        chmod(&cfg_path, 0o644);
        let e = read_public_key_file(&key, "k", &other).unwrap_err();
        assert_eq!(
            (e.kind.clone(), e.field.as_str()),
            (ConfigErrorKind::Untrusted, "k")
        );
        assert!(e.message.contains(&format!("owned by uid {}", me)), "{}", e);

        // The configuration file itself.
        chmod(&cfg_path, 0o646);
        let e = Config::from_trusted_file(&cfg_path, &mine).unwrap_err();
        assert_eq!(
            (e.kind.clone(), e.field.as_str()),
            (ConfigErrorKind::Untrusted, "")
        );
        chmod(&cfg_path, 0o644);

        // Not a regular file: a directory, and a FIFO (refused before it is
        // opened: opening a FIFO would wait for a writer).
        let e = Config::from_trusted_file(&dir, &mine).unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::Untrusted);
        let fifo = dir.join("fifo.pub");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        if status.map(|s| s.success()).unwrap_or(false) {
            chmod(&fifo, 0o644);
            let e = read_public_key_file(&fifo, "k", &mine).unwrap_err();
            assert!(e.message.contains("not a regular file"), "{}", e);
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    /// What the CLI reads with its trust rule (issue 23): a revocation file
    /// or key file named by a configuration given as JSON must be a regular
    /// file (a FIFO hung `hessra verify`), owned by an allowed user and not
    /// writable by group or others.
    #[test]
    fn files_named_by_a_configuration_string() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = std::env::temp_dir().join(format!("hessra-named-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let me = std::fs::metadata(&dir).unwrap().uid();
        let mine = FileTrust::OwnedBy(vec![me, 0]);
        let revoked = dir.join("revoked.txt");
        std::fs::write(&revoked, format!("{}\n", "ab".repeat(64))).unwrap();
        let json =
            |file: &Path| format!(r#"{{"version":1,"revocation_file":"{}"}}"#, file.display());
        std::fs::set_permissions(&revoked, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            Config::from_json_trusted(&json(&revoked), &mine)
                .unwrap()
                .revocations
                .len(),
            1
        );
        std::fs::set_permissions(&revoked, std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = Config::from_json_trusted(&json(&revoked), &mine).unwrap_err();
        assert_eq!(
            (e.kind.clone(), e.field.as_str()),
            (ConfigErrorKind::Untrusted, "revocation_file")
        );
        assert!(
            Config::from_json(&json(&revoked)).is_ok(),
            "FileTrust::Any reads it"
        );
        let other = FileTrust::OwnedBy(vec![me.wrapping_add(1)]);
        std::fs::set_permissions(&revoked, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Config::from_json_trusted(&json(&revoked), &other).unwrap_err();
        assert!(e.message.contains("owned by uid"), "{}", e);
        let fifo = dir.join("fifo.txt");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.map(|s| s.success()).unwrap_or(false), "mkfifo");
        let e = Config::from_json_trusted(&json(&fifo), &mine).unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::Untrusted);
        assert!(e.message.contains("not a regular file"), "{}", e);
        std::fs::remove_dir_all(&dir).ok();
    }

    /// `revoked_ids` and `revocation_file` together; ids in either case;
    /// the file resolves against the configuration's directory, errors name
    /// the field and line, and a missing file is an error (fail closed).
    #[test]
    fn revocations() {
        let a = "aa".repeat(64);
        let b = "0B".repeat(64);
        let c =
            Config::from_json(&format!(r#"{{"version":1,"revoked_ids":["{a}","{b}"]}}"#)).unwrap();
        assert_eq!(c.revocations.len(), 2);
        let ids = vec![vec![1u8; 64], vec![0x0b; 64]];
        assert_eq!(c.revocations.revoked_block(&ids), Some(1));
        assert_eq!(c.revocations.revoked_block(&ids[..1]), None);
        assert_eq!(
            err(r#"{"version":1,"revoked_ids":["abc"]}"#).field,
            "revoked_ids[0]"
        );
        assert_eq!(
            err(r#"{"version":1,"revoked_ids":["aa","zz"]}"#).field,
            "revoked_ids[1]"
        );
        assert_eq!(
            err(r#"{"version":1,"revoked_ids":"aa"}"#).field,
            "revoked_ids"
        );
        let long = "ab".repeat(MAX_REVOCATION_ID_BYTES + 1);
        assert_eq!(
            err(&format!(r#"{{"version":1,"revoked_ids":["{long}"]}}"#)).field,
            "revoked_ids[0]"
        );

        let dir =
            std::env::temp_dir().join(format!("hessra-revocation-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("revoked.txt"),
            format!("# revoked\n\n{}\n  {}  \n", a, "cc".repeat(64)),
        )
        .unwrap();
        let cfg_path = dir.join("config.json");
        std::fs::write(
            &cfg_path,
            format!(r#"{{"version":1,"revoked_ids":["{b}"],"revocation_file":"revoked.txt"}}"#),
        )
        .unwrap();
        let c = Config::from_file(&cfg_path).unwrap();
        assert_eq!(c.revocations.len(), 3);
        assert_eq!(c.revocations.revoked_block(&[vec![0xcc; 64]]), Some(0));
        let d = c.describe(0).to_string();
        assert!(d.contains(r#""revoked_id_count":3"#), "{d}");
        assert!(d.contains("revoked.txt"), "{d}");

        std::fs::write(dir.join("revoked.txt"), format!("{}\nnot-hex\n", a)).unwrap();
        let e = Config::from_file(&cfg_path).unwrap_err();
        assert_eq!(e.field, "revocation_file");
        assert!(e.message.contains("line 2"), "{e}");
        assert!(!e.message.contains("not-hex"), "never quotes the line: {e}");

        std::fs::remove_file(dir.join("revoked.txt")).unwrap();
        let e = Config::from_file(&cfg_path).unwrap_err();
        assert_eq!(
            (e.kind.clone(), e.field.as_str()),
            (ConfigErrorKind::Io, "revocation_file")
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn set_key_sets_default() {
        let mut c = Config::default();
        c.set_key("a", PublicKey::parse_any(K1).unwrap());
        c.set_key("b", PublicKey::parse_any(K2).unwrap());
        assert_eq!(c.default_key.as_deref(), Some("a"));
        c.set_key("a", PublicKey::parse_any(K2).unwrap());
        assert_eq!(c.keys.len(), 2);
        assert_eq!(c.key("a").unwrap().public_key.to_text(), K2);
    }
}
