//! What a verification is asked: the key choice ([`KeyChoice`]), the request
//! before the configuration's defaults ([`Request`], [`IdentityRequest`]) and
//! what makes one unusable ([`VerifierError`]).

use crate::config::ServiceNode;
use crate::crypto::PublicKey;

/// Which key verifies the signatures.
#[derive(Clone, Copy, Debug)]
pub enum KeyChoice<'a> {
    /// This key (the caller's `--key`).
    Given(&'a PublicKey),
    /// The configured key with this id.
    Id(&'a str),
    /// The configured key for the token's root key id, else the default key.
    Configured,
}

/// Where the key that was used came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    Given,
    KeyId,
    RootKeyId,
    DefaultKey,
}

impl KeyOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyOrigin::Given => "given",
            KeyOrigin::KeyId => "key_id",
            KeyOrigin::RootKeyId => "root_key_id",
            KeyOrigin::DefaultKey => "default_key",
        }
    }
}

/// The key that was used: its configuration id (`None` for a given key) and
/// how it was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUsed {
    pub id: Option<String>,
    pub origin: KeyOrigin,
}

/// What to verify a token for, before the configuration's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// `None`: capability mode.
    pub subject: Option<String>,
    pub resource: String,
    /// `None`: any operation the token grants on the resource.
    pub operation: Option<String>,
    /// `None`: the configuration's domain.
    pub domain: Option<String>,
    pub prefix: Option<String>,
    /// Unix seconds.
    pub now: i64,
    /// `None`: the configuration's leeway (0 without one). `Some(0)` is an
    /// explicit "no leeway" and wins over the configuration.
    pub leeway_seconds: Option<i64>,
    /// `None`: the configuration's chain for the resource (none without one).
    pub service_chain: Option<Vec<ServiceNode>>,
    pub component: Option<String>,
}

/// Who an identity token must prove to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentityActor {
    /// This identity (`actor(IDENTITY)`).
    Given(String),
    /// Bearer mode: whoever the token's subject is (`actor($a) <- subject($a)`,
    /// Hessra's rule: a delegated token does not verify this way).
    Bearer,
    /// The identity the token is delegated to: its narrowest delegated
    /// identity, else its subject ("who does this token prove I am?").
    Delegated,
}

/// What to verify an identity token for, before the configuration's
/// defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityRequest {
    pub actor: IdentityActor,
    /// `None`: the configuration's domain.
    pub domain: Option<String>,
    /// The token's subject must belong to the domain.
    pub subject_in_domain: bool,
    /// Unix seconds.
    pub now: i64,
    /// As [`Request::leeway_seconds`].
    pub leeway_seconds: Option<i64>,
}

/// Problems that are not about the token: the caller's configuration or
/// request cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifierError {
    /// No key to verify with (no configuration, no key, no default).
    NoKey { has_keys: bool },
    /// `KeyChoice::Id` names no configured key.
    UnknownKeyId { id: String, known: Vec<String> },
    /// The request is unusable (e.g. an unknown component).
    InvalidRequest(String),
    /// The host's revocation list could not be consulted
    /// ([`RevocationLookup`]): whether the token is revoked is unknown.
    RevocationLookup(String),
}
