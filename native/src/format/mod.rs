//! The Biscuit wire format: a hand-written protobuf reader/writer
//! ([`proto`]), the schema messages ([`schema`]), and the conversion between
//! serialized blocks and the Datalog AST with symbol and public-key tables
//! ([`convert`]).

pub mod convert;
pub mod proto;
pub mod schema;

use std::fmt;

pub use convert::{
    decode_block, decode_block_within, decoded_text_limit, detect_version, encode_block,
    encode_block_full, EncodedBlock, KeyTable, SymbolTable, DEFAULT_SYMBOLS, MAX_SCHEMA_VERSION,
    MIN_SCHEMA_VERSION, SYMBOL_OFFSET,
};
pub use proto::ProtoErrorKind;
pub use schema::{
    Biscuit, BlockProto, ExternalSignature, Proof, PublicKeyProto, SignedBlock,
    ThirdPartyBlockContents, ThirdPartyBlockRequest,
};

/// A malformed or unsupported serialized message or block. Carries the
/// message and field names involved, never the input bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// Invalid protobuf encoding inside `message` (at `field` when known).
    Protobuf {
        message: &'static str,
        field: Option<&'static str>,
        kind: ProtoErrorKind,
    },
    /// A required field is missing (or a oneof holds no member).
    MissingField {
        message: &'static str,
        field: &'static str,
    },
    /// A field holds a value the schema does not allow.
    InvalidValue {
        message: &'static str,
        field: &'static str,
        reason: String,
    },
    /// The container holds more blocks than allowed.
    TooManyBlocks { max: usize },
    /// `Block.version` outside the supported range.
    Version {
        minimum: u32,
        maximum: u32,
        actual: u32,
    },
    /// A Datalog feature used in a block whose version predates it.
    UnsupportedFeature { version: u32, feature: &'static str },
    /// A block's `symbols` repeat a default symbol or one already in the table.
    SymbolTableOverlap,
    /// A block's `publicKeys` repeat a key of the table.
    PublicKeyTableOverlap,
    /// A symbol index that resolves to nothing.
    UnknownSymbol(u64),
    /// A public-key index that resolves to nothing.
    UnknownPublicKey(i64),
    /// A public key with an unknown algorithm or invalid bytes.
    InvalidKey { field: &'static str, reason: String },
    /// The blocks reference their symbols so often that decoding would
    /// materialise more text than [`convert::decoded_text_limit`] allows.
    TextTooLarge,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Protobuf {
                message,
                field: Some(field),
                kind,
            } => {
                write!(f, "invalid protobuf in {}.{}: {}", message, field, kind)
            }
            FormatError::Protobuf {
                message,
                field: None,
                kind,
            } => write!(f, "invalid protobuf in {}: {}", message, kind),
            FormatError::MissingField { message, field } => {
                write!(f, "missing required field {}.{}", message, field)
            }
            FormatError::InvalidValue {
                message,
                field,
                reason,
            } => {
                write!(f, "invalid value in {}.{}: {}", message, field, reason)
            }
            FormatError::TooManyBlocks { max } => write!(f, "too many blocks (at most {})", max),
            FormatError::Version {
                minimum,
                maximum,
                actual,
            } => write!(
                f,
                "unsupported block version {} (supported: {} to {})",
                actual, minimum, maximum
            ),
            FormatError::UnsupportedFeature { version, feature } => {
                write!(
                    f,
                    "{} is not supported in a version {} block",
                    feature, version
                )
            }
            FormatError::SymbolTableOverlap => write!(f, "block symbols overlap the symbol table"),
            FormatError::PublicKeyTableOverlap => {
                write!(f, "block public keys overlap the public key table")
            }
            FormatError::UnknownSymbol(i) => write!(f, "unknown symbol index {}", i),
            FormatError::UnknownPublicKey(i) => write!(f, "unknown public key index {}", i),
            FormatError::InvalidKey { field, reason } => {
                write!(f, "invalid public key in {}: {}", field, reason)
            }
            FormatError::TextTooLarge => write!(
                f,
                "the blocks reference their symbols so often that they decode to more than \
                 32 times the token's size (and 16 MiB) of text"
            ),
        }
    }
}

impl std::error::Error for FormatError {}
