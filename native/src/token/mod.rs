//! Biscuit tokens: the container, the signature chain, block decoding,
//! minting, attenuation, sealing and third-party blocks.
//!
//! [`Token::from_bytes`] decodes only the container (bounded in size and
//! block count) and validates its structure. [`Token::verify`] checks every
//! signature over the raw block bytes first, then decodes the blocks into
//! the Datalog AST ([`VerifiedToken`]).

mod mint;
mod third_party;
pub mod verify;

#[cfg(test)]
mod tests;

use std::fmt;

use crate::crypto::PublicKey;
use crate::datalog::ast::{AuthorizerCode, Block};
use crate::datalog::{
    authorize, AuthError, Authorization, AuthorizeInput, ExternFunctions, RunLimits,
};
use crate::encoding::{base64url_decode, base64url_encode};
use crate::format::convert::key_from_proto;
use crate::format::schema::{Biscuit, Proof, SignedBlock};
use crate::format::{decode_block_within, decoded_text_limit, FormatError, KeyTable, SymbolTable};

pub use third_party::create_third_party_block;

/// Largest accepted serialized token.
pub const MAX_TOKEN_BYTES: usize = 1 << 20;
/// Largest accepted number of blocks, authority included.
pub const MAX_BLOCKS: usize = 1024;

/// Which signature of a block an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureKind {
    /// The chain signature (`SignedBlock.signature`).
    Block,
    /// A third party's signature (`SignedBlock.externalSignature`).
    External,
    /// The seal (`Proof.finalSignature`), reported on the last block.
    Seal,
}

impl fmt::Display for SignatureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureKind::Block => "block signature",
            SignatureKind::External => "external signature",
            SignatureKind::Seal => "seal signature",
        })
    }
}

/// Everything that can go wrong with a token. Carries which block and which
/// field, never the token bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// The text form is not valid base64.
    Encoding(String),
    /// The serialized token exceeds [`MAX_TOKEN_BYTES`].
    TooLarge { size: usize, max: usize },
    /// A malformed container (`block: None`) or block.
    Format {
        block: Option<usize>,
        error: FormatError,
    },
    /// `SignedBlock.version` other than 0 or 1.
    UnsupportedSignatureVersion { block: usize, version: u32 },
    /// A third-party block whose signature version is not 1.
    UnsupportedThirdPartySignatureVersion { block: usize },
    /// The authority block carries an external signature.
    ExternalSignatureOnAuthority,
    /// A signature that cannot be parsed for the verifying key's algorithm.
    SignatureFormat { block: usize, kind: SignatureKind },
    /// A signature that does not verify.
    InvalidSignature { block: usize, kind: SignatureKind },
    /// The proof holds neither a next secret nor a seal.
    MissingProof,
    /// The next secret is malformed or does not match the last next key.
    InvalidProof,
    /// Appending to a sealed token.
    AppendOnSealed,
    /// Sealing a token that is already sealed.
    AlreadySealed,
    /// A third-party request or block that cannot be used.
    ThirdParty(String),
    /// Key generation or signing failed.
    Crypto(String),
    /// Authorization failed (see [`VerifiedToken::authorize_result`]).
    Auth(AuthError),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Encoding(e) => write!(f, "invalid token encoding: {}", e),
            TokenError::TooLarge { size, max } => {
                write!(f, "token too large: {} bytes (at most {})", size, max)
            }
            TokenError::Format { block: None, error } => write!(f, "malformed token: {}", error),
            TokenError::Format {
                block: Some(b),
                error,
            } => write!(f, "malformed block {}: {}", b, error),
            TokenError::UnsupportedSignatureVersion { block, version } => {
                write!(
                    f,
                    "block {}: unsupported signature version {}",
                    block, version
                )
            }
            TokenError::UnsupportedThirdPartySignatureVersion { block } => {
                write!(
                    f,
                    "block {}: unsupported third party block signature version",
                    block
                )
            }
            TokenError::ExternalSignatureOnAuthority => {
                write!(f, "the authority block has an external signature")
            }
            TokenError::SignatureFormat { block, kind } => {
                write!(f, "block {}: malformed {}", block, kind)
            }
            TokenError::InvalidSignature { block, kind } => {
                write!(f, "block {}: invalid {}", block, kind)
            }
            TokenError::MissingProof => write!(f, "the token has no proof"),
            TokenError::InvalidProof => {
                write!(f, "the proof does not match the last block's next key")
            }
            TokenError::AppendOnSealed => write!(f, "cannot append a block to a sealed token"),
            TokenError::AlreadySealed => write!(f, "the token is already sealed"),
            TokenError::ThirdParty(m) => write!(f, "third-party block: {}", m),
            TokenError::Crypto(m) => write!(f, "cryptographic error: {}", m),
            TokenError::Auth(e) => write!(f, "authorization failed: {}", e),
        }
    }
}

impl std::error::Error for TokenError {}

fn format_err(block: Option<usize>) -> impl Fn(FormatError) -> TokenError {
    move |error| TokenError::Format { block, error }
}

/// Per-block keys parsed from the container.
#[derive(Clone, Debug, PartialEq, Eq)]
struct BlockKeys {
    next_key: PublicKey,
    external_key: Option<PublicKey>,
    /// Signature version (0 or 1).
    sig_version: u32,
}

/// A decoded token container whose structure is valid; signatures are not
/// checked until [`Token::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    container: Biscuit,
    keys: Vec<BlockKeys>,
}

impl Token {
    /// Decodes a serialized token (container only; bounded in size and
    /// block count, next keys and external keys parsed, signature versions
    /// checked). No signature is verified here.
    pub fn from_bytes(bytes: &[u8]) -> Result<Token, TokenError> {
        if bytes.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge {
                size: bytes.len(),
                max: MAX_TOKEN_BYTES,
            });
        }
        let container = Biscuit::decode_bounded(bytes, MAX_BLOCKS - 1).map_err(format_err(None))?;
        Token::from_container(container)
    }

    /// Decodes a base64url token (padding optional, standard alphabet and an
    /// optional `biscuit:` prefix accepted, surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Token, TokenError> {
        let text = text.trim();
        let text = text.strip_prefix("biscuit:").unwrap_or(text);
        // base64 of the largest token, with padding.
        if text.len() > MAX_TOKEN_BYTES / 3 * 4 + 4 {
            return Err(TokenError::TooLarge {
                size: text.len() / 4 * 3,
                max: MAX_TOKEN_BYTES,
            });
        }
        let bytes = base64url_decode(text).map_err(|e| TokenError::Encoding(e.to_string()))?;
        Token::from_bytes(&bytes)
    }

    fn from_container(container: Biscuit) -> Result<Token, TokenError> {
        let mut keys = Vec::with_capacity(container.blocks.len() + 1);
        for (i, b) in std::iter::once(&container.authority)
            .chain(container.blocks.iter())
            .enumerate()
        {
            let next_key =
                key_from_proto(&b.next_key, "SignedBlock.nextKey").map_err(format_err(Some(i)))?;
            let sig_version = b.version.unwrap_or(0);
            if sig_version > 1 {
                return Err(TokenError::UnsupportedSignatureVersion {
                    block: i,
                    version: sig_version,
                });
            }
            let external_key = match &b.external_signature {
                None => None,
                Some(_) if i == 0 => return Err(TokenError::ExternalSignatureOnAuthority),
                Some(_) if sig_version != 1 => {
                    return Err(TokenError::UnsupportedThirdPartySignatureVersion { block: i })
                }
                Some(e) => Some(
                    key_from_proto(&e.public_key, "ExternalSignature.publicKey")
                        .map_err(format_err(Some(i)))?,
                ),
            };
            keys.push(BlockKeys {
                next_key,
                external_key,
                sig_version,
            });
        }
        if container.proof == Proof::Empty {
            return Err(TokenError::MissingProof);
        }
        Ok(Token { container, keys })
    }

    /// The serialized token.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.container.encode()
    }

    /// The serialized token as padded base64url.
    pub fn to_base64(&self) -> String {
        base64url_encode(&self.to_bytes())
    }

    /// The root key id hint, if any.
    pub fn root_key_id(&self) -> Option<u32> {
        self.container.root_key_id
    }

    /// Number of blocks, authority included.
    pub fn block_count(&self) -> usize {
        self.container.blocks.len() + 1
    }

    /// Whether the proof is a seal (no more blocks can be appended).
    pub fn is_sealed(&self) -> bool {
        matches!(self.container.proof, Proof::FinalSignature(_))
    }

    /// Revocation ids: each block's signature bytes, authority first.
    pub fn revocation_ids(&self) -> Vec<Vec<u8>> {
        self.signed_blocks().map(|b| b.signature.clone()).collect()
    }

    /// The third party's key of each block (`None` for first-party blocks).
    pub fn external_keys(&self) -> Vec<Option<PublicKey>> {
        self.keys.iter().map(|k| k.external_key.clone()).collect()
    }

    fn signed_blocks(&self) -> impl Iterator<Item = &SignedBlock> {
        std::iter::once(&self.container.authority).chain(self.container.blocks.iter())
    }

    fn last_signed_block(&self) -> &SignedBlock {
        self.container
            .blocks
            .last()
            .unwrap_or(&self.container.authority)
    }

    /// Checks every signature (chain, external, proof or seal) over the raw
    /// block bytes, then decodes the blocks.
    pub fn verify(&self, root: &PublicKey) -> Result<VerifiedToken, TokenError> {
        verify::verify_signatures(self, root)?;
        let (blocks, _, _) = self.decode_with_tables()?;
        Ok(VerifiedToken {
            blocks,
            root_key_id: self.root_key_id(),
            revocation_ids: self.revocation_ids(),
            sealed: self.is_sealed(),
        })
    }

    /// Decodes the blocks without checking any signature (inspection only:
    /// nothing in the result can be trusted).
    pub fn decode_unverified(&self) -> Result<Vec<Block>, TokenError> {
        self.decode_with_tables().map(|(blocks, _, _)| blocks)
    }

    /// Decodes every block, building the token symbol and key tables from
    /// the first-party blocks; third-party blocks use default tables plus
    /// their own symbols and keys.
    fn decode_with_tables(&self) -> Result<(Vec<Block>, SymbolTable, KeyTable), TokenError> {
        let mut symbols = SymbolTable::new();
        let mut keys = KeyTable::new();
        let mut blocks = Vec::with_capacity(self.block_count());
        // one limit for the text of all the blocks together
        let mut text_left = decoded_text_limit(self.signed_blocks().map(|b| b.block.len()).sum());
        for (i, (signed, bk)) in self.signed_blocks().zip(self.keys.iter()).enumerate() {
            let err = format_err(Some(i));
            let block = match &bk.external_key {
                Some(ext) => decode_block_within(
                    &signed.block,
                    &SymbolTable::new(),
                    &KeyTable::new(),
                    Some(ext.clone()),
                    &mut text_left,
                )
                .map_err(err)?,
                None => {
                    let block =
                        decode_block_within(&signed.block, &symbols, &keys, None, &mut text_left)
                            .map_err(&err)?;
                    symbols.extend(&block.symbols).map_err(&err)?;
                    keys.extend(&block.public_keys).map_err(&err)?;
                    block
                }
            };
            blocks.push(block);
        }
        Ok((blocks, symbols, keys))
    }
}

/// A token whose signatures were all checked, with its decoded blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The blocks, authority first, every index resolved.
    pub blocks: Vec<Block>,
    pub root_key_id: Option<u32>,
    /// Each block's signature bytes, authority first.
    pub revocation_ids: Vec<Vec<u8>>,
    pub sealed: bool,
}

impl VerifiedToken {
    /// Drops spare capacity in every block (for tokens kept in a cache).
    pub fn shrink_to_fit(&mut self) {
        self.blocks.iter_mut().for_each(Block::shrink_to_fit);
        self.blocks.shrink_to_fit();
        self.revocation_ids.iter_mut().for_each(Vec::shrink_to_fit);
        self.revocation_ids.shrink_to_fit();
    }

    /// The token as kept in a verification cache: spare capacity dropped,
    /// and without the blocks' `symbols` (only inspection shows them;
    /// verification and authorization never read them).
    pub fn for_cache(mut self) -> VerifiedToken {
        for b in &mut self.blocks {
            b.symbols = Vec::new();
        }
        self.shrink_to_fit();
        self
    }

    /// Estimated heap bytes held by this token (allocations and their
    /// allocator overhead), not counting the `VerifiedToken` itself.
    pub fn heap_size(&self) -> usize {
        use crate::datalog::ast::heap_chunk;
        let vec = |cap: usize, size: usize| heap_chunk(cap * size);
        vec(self.blocks.capacity(), std::mem::size_of::<Block>())
            + self.blocks.iter().map(Block::heap_size).sum::<usize>()
            + vec(
                self.revocation_ids.capacity(),
                std::mem::size_of::<Vec<u8>>(),
            )
            + self
                .revocation_ids
                .iter()
                .map(|r| vec(r.capacity(), 1))
                .sum::<usize>()
    }

    /// Each block's signature bytes, authority first.
    pub fn revocation_ids(&self) -> &[Vec<u8>] {
        &self.revocation_ids
    }

    /// Runs the authorizer against the token's blocks.
    pub fn authorize(
        &self,
        authorizer: &AuthorizerCode,
        limits: &RunLimits,
        externs: Option<&dyn ExternFunctions>,
    ) -> Authorization {
        authorize(&AuthorizeInput {
            blocks: &self.blocks,
            authorizer,
            limits,
            externs,
        })
    }

    /// [`VerifiedToken::authorize`], keeping only the outcome: the index of
    /// the matching allow policy, or [`TokenError::Auth`].
    pub fn authorize_result(
        &self,
        authorizer: &AuthorizerCode,
        limits: &RunLimits,
        externs: Option<&dyn ExternFunctions>,
    ) -> Result<usize, TokenError> {
        self.authorize(authorizer, limits, externs)
            .result
            .map_err(TokenError::Auth)
    }
}
