//! How the verifier's own failures read: the `Display` of [`Failure`] (an
//! outcome's `reason`), [`TokenInputError`] and [`VerifierError`]. Messages
//! never quote the token. (Failed checks, authorization errors and the
//! Hessra rules' failures render in their own modules.)

use std::fmt;

use super::{Failure, TokenInputError, VerifierError};

impl fmt::Display for TokenInputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenInputError::TooLarge { what, max } => {
                write!(f, "{} is larger than {} bytes", what, max)
            }
            TokenInputError::Empty => write!(f, "empty token"),
            TokenInputError::Base64(m) => write!(f, "token is not valid base64url: {}", m),
            TokenInputError::Token(e) => write!(f, "{}", e),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Malformed(e) => write!(f, "not a token: {}", e),
            Failure::TooLarge { max } => {
                write!(f, "token is larger than limits.max_token_bytes ({})", max)
            }
            Failure::Signature(e) => write!(
                f,
                "signature verification failed ({}): the token was not signed by this key, or was altered",
                e
            ),
            Failure::Rules(r) => write!(f, "{}", r),
            Failure::Revoked {
                block,
                revocation_id,
            } => write!(
                f,
                "revoked: the revocation id of block {} ({}) is listed in the configuration's revocation list",
                block, revocation_id
            ),
            Failure::NotIdentity { kind } => write!(
                f,
                "denied: not an identity token (its authority block has no subject fact with an actor check; kind: {})",
                kind.as_str()
            ),
            Failure::NotAuthorization { kind } => write!(
                f,
                "denied: not an authorization token (its authority block grants no right; kind: {}): verify it as an {} token",
                kind.as_str(),
                kind.as_str()
            ),
        }
    }
}

impl fmt::Display for VerifierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifierError::NoKey { has_keys: false } => {
                write!(
                    f,
                    "no public key to verify with: the configuration has no key"
                )
            }
            VerifierError::NoKey { has_keys: true } => write!(
                f,
                "the configuration has no default key and no key for the token's root key id"
            ),
            VerifierError::UnknownKeyId { id, known } if known.is_empty() => {
                write!(f, "no key {:?} in the configuration (it has no keys)", id)
            }
            VerifierError::UnknownKeyId { id, known } => write!(
                f,
                "no key {:?} in the configuration (keys: {})",
                id,
                known.join(", ")
            ),
            VerifierError::InvalidRequest(m) => write!(f, "invalid request: {}", m),
            VerifierError::RevocationLookup(m) => {
                write!(f, "the revocation list could not be consulted: {}", m)
            }
        }
    }
}

impl std::error::Error for VerifierError {}
