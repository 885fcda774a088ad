//! Minting, first-party attenuation and sealing.

use super::verify::{block_payload_v0, block_payload_v1, seal_payload, verify_signatures};
use super::{format_err, Token, TokenError, MAX_BLOCKS, MAX_TOKEN_BYTES};
use crate::crypto::{Algorithm, PrivateKey};
use crate::datalog::ast::BlockCode;
use crate::format::convert::key_to_proto;
use crate::format::schema::{Biscuit, ExternalSignature, Proof, SecretBytes, SignedBlock};
use crate::format::{decode_block, encode_block_full, FormatError, KeyTable, SymbolTable};

/// Signature version for a new block (first match wins): an external
/// signature, a Datalog 3.3 block, or a non-Ed25519 signing or next key
/// require 1; otherwise the highest version already in the token.
pub(super) fn signature_version(
    external: bool,
    block_version: u32,
    signing: Algorithm,
    next: Algorithm,
    previous: impl Iterator<Item = u32>,
) -> u32 {
    if external || block_version >= 6 || signing != Algorithm::Ed25519 || next != Algorithm::Ed25519
    {
        1
    } else {
        previous.max().unwrap_or(0)
    }
}

pub(super) fn crypto_err<E: std::fmt::Display>(e: E) -> TokenError {
    TokenError::Crypto(e.to_string())
}

pub(super) fn secret_of(key: &PrivateKey) -> SecretBytes {
    SecretBytes::new(key.secret_bytes().to_vec())
}

impl Token {
    /// Mints a token whose authority block holds `code`, signed by `root`,
    /// with an Ed25519 next key.
    pub fn mint(
        root: &PrivateKey,
        code: &BlockCode,
        root_key_id: Option<u32>,
    ) -> Result<Token, TokenError> {
        Token::mint_with_algorithm(root, code, root_key_id, Algorithm::Ed25519)
    }

    /// [`Token::mint`] with the algorithm of the next key chosen.
    pub fn mint_with_algorithm(
        root: &PrivateKey,
        code: &BlockCode,
        root_key_id: Option<u32>,
        next_algorithm: Algorithm,
    ) -> Result<Token, TokenError> {
        let mut symbols = SymbolTable::new();
        let mut keys = KeyTable::new();
        let encoded = encode_block_full(code, &mut symbols, &mut keys, false, None);
        // Never issue a block this engine could not load.
        decode_block(&encoded.bytes, &SymbolTable::new(), &KeyTable::new(), None)
            .map_err(format_err(Some(0)))?;

        let next = PrivateKey::generate(next_algorithm).map_err(crypto_err)?;
        let next_public = next.public();
        let sv = signature_version(
            false,
            encoded.version,
            root.public().algorithm(),
            next_algorithm,
            std::iter::empty(),
        );
        let payload = if sv == 0 {
            block_payload_v0(&encoded.bytes, &next_public, None)
        } else {
            block_payload_v1(&encoded.bytes, &next_public, None, None)
        };
        let signature = root.sign(&payload).map_err(crypto_err)?;
        let container = Biscuit {
            root_key_id,
            authority: SignedBlock {
                block: encoded.bytes,
                next_key: key_to_proto(&next_public),
                signature,
                external_signature: None,
                version: if sv > 0 { Some(sv) } else { None },
            },
            blocks: Vec::new(),
            proof: Proof::NextSecret(secret_of(&next)),
        };
        Token::checked(container)
    }

    /// Appends a first-party block (attenuation), after verifying the token
    /// against `root`. The new block's next key is Ed25519.
    pub fn append(
        &self,
        root: &crate::crypto::PublicKey,
        code: &BlockCode,
    ) -> Result<Token, TokenError> {
        self.append_with_algorithm(root, code, Algorithm::Ed25519)
    }

    /// [`Token::append`] with the algorithm of the next key chosen.
    pub fn append_with_algorithm(
        &self,
        root: &crate::crypto::PublicKey,
        code: &BlockCode,
        next_algorithm: Algorithm,
    ) -> Result<Token, TokenError> {
        if self.is_sealed() {
            return Err(TokenError::AppendOnSealed);
        }
        verify_signatures(self, root)?;
        let (_, symbols, keys) = self.decode_with_tables()?;
        let (mut new_symbols, mut new_keys) = (symbols.clone(), keys.clone());
        let encoded = encode_block_full(code, &mut new_symbols, &mut new_keys, false, None);
        decode_block(&encoded.bytes, &symbols, &keys, None)
            .map_err(format_err(Some(self.block_count())))?;
        self.push_block(encoded.bytes, encoded.version, None, next_algorithm)
    }

    /// The private key matching the last block's next key.
    pub(super) fn current_secret(&self) -> Result<PrivateKey, TokenError> {
        match &self.container.proof {
            Proof::NextSecret(secret) => {
                let last = &self.keys[self.keys.len() - 1].next_key;
                let key = PrivateKey::from_bytes(last.algorithm(), secret.as_bytes())
                    .map_err(|_| TokenError::InvalidProof)?;
                if key.public() != *last {
                    return Err(TokenError::InvalidProof);
                }
                Ok(key)
            }
            Proof::FinalSignature(_) => Err(TokenError::AppendOnSealed),
            Proof::Empty => Err(TokenError::MissingProof),
        }
    }

    /// Signs and appends serialized block bytes with the current secret.
    pub(super) fn push_block(
        &self,
        data: Vec<u8>,
        block_version: u32,
        external: Option<ExternalSignature>,
        next_algorithm: Algorithm,
    ) -> Result<Token, TokenError> {
        if self.block_count() >= MAX_BLOCKS {
            return Err(TokenError::Format {
                block: None,
                error: FormatError::TooManyBlocks { max: MAX_BLOCKS },
            });
        }
        let signing = self.current_secret()?;
        let next = PrivateKey::generate(next_algorithm).map_err(crypto_err)?;
        let next_public = next.public();
        let sv = signature_version(
            external.is_some(),
            block_version,
            signing.public().algorithm(),
            next_algorithm,
            self.keys.iter().map(|k| k.sig_version),
        );
        let previous_sig = self.last_signed_block().signature.clone();
        let external_sig = external.as_ref().map(|e| e.signature.as_slice());
        let payload = if sv == 0 {
            block_payload_v0(&data, &next_public, external_sig)
        } else {
            block_payload_v1(&data, &next_public, external_sig, Some(&previous_sig))
        };
        let signature = signing.sign(&payload).map_err(crypto_err)?;

        let mut container = self.container.clone();
        container.blocks.push(SignedBlock {
            block: data,
            next_key: key_to_proto(&next_public),
            signature,
            external_signature: external,
            version: if sv > 0 { Some(sv) } else { None },
        });
        container.proof = Proof::NextSecret(secret_of(&next));
        Token::checked(container)
    }

    /// Seals the token (after verifying it against `root`): no block can be
    /// appended afterwards.
    pub fn seal(&self, root: &crate::crypto::PublicKey) -> Result<Token, TokenError> {
        if self.is_sealed() {
            return Err(TokenError::AlreadySealed);
        }
        verify_signatures(self, root)?;
        let signing = self.current_secret()?;
        let last = self.last_signed_block();
        let last_key = &self.keys[self.keys.len() - 1].next_key;
        let payload = seal_payload(&last.block, last_key, &last.signature);
        let signature = signing.sign(&payload).map_err(crypto_err)?;
        let mut container = self.container.clone();
        container.proof = Proof::FinalSignature(signature);
        Token::checked(container)
    }

    /// Builds a token from a container this module produced, enforcing the
    /// same bounds as [`Token::from_bytes`].
    fn checked(container: Biscuit) -> Result<Token, TokenError> {
        let size = container.encode().len();
        if size > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge {
                size,
                max: MAX_TOKEN_BYTES,
            });
        }
        Token::from_container(container)
    }
}
