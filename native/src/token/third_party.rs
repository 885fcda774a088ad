//! Third-party blocks: the holder's request, the third party's signed
//! block, and appending it to the token.

use super::mint::crypto_err;
use super::verify::{external_payload_v1, signature_well_formed, verify_signatures};
use super::{format_err, SignatureKind, Token, TokenError};
use crate::crypto::{Algorithm, PrivateKey, PublicKey};
use crate::datalog::ast::BlockCode;
use crate::format::convert::{key_from_proto, key_to_proto};
use crate::format::schema::{ExternalSignature, ThirdPartyBlockContents, ThirdPartyBlockRequest};
use crate::format::{decode_block, encode_block_full, KeyTable, SymbolTable};

/// Creates a third-party block answering `request` (a serialized
/// `ThirdPartyBlockRequest`): `code` is serialized with fresh default
/// tables (version at least 5) and signed with `key` over the external
/// version 1 payload. Returns a serialized `ThirdPartyBlockContents`.
pub fn create_third_party_block(
    request: &[u8],
    key: &PrivateKey,
    code: &BlockCode,
) -> Result<Vec<u8>, TokenError> {
    let request = ThirdPartyBlockRequest::decode(request).map_err(format_err(None))?;
    if request.legacy_previous_key.is_some() || !request.legacy_public_keys.is_empty() {
        return Err(TokenError::ThirdParty(
            "the request uses the legacy (insecure) format".into(),
        ));
    }
    let mut symbols = SymbolTable::new();
    let mut keys = KeyTable::new();
    let encoded = encode_block_full(code, &mut symbols, &mut keys, true, None);
    let public = key.public();
    decode_block(
        &encoded.bytes,
        &SymbolTable::new(),
        &KeyTable::new(),
        Some(public.clone()),
    )
    .map_err(format_err(None))?;
    let payload = external_payload_v1(&encoded.bytes, &request.previous_signature);
    let signature = key.sign(&payload).map_err(crypto_err)?;
    let contents = ThirdPartyBlockContents {
        payload: encoded.bytes,
        external_signature: ExternalSignature {
            signature,
            public_key: key_to_proto(&public),
        },
    };
    Ok(contents.encode())
}

impl Token {
    /// The request to send to a third party: the last block's signature.
    pub fn third_party_request(&self) -> Result<Vec<u8>, TokenError> {
        if self.is_sealed() {
            return Err(TokenError::AppendOnSealed);
        }
        let request = ThirdPartyBlockRequest {
            legacy_previous_key: None,
            legacy_public_keys: Vec::new(),
            previous_signature: self.last_signed_block().signature.clone(),
        };
        Ok(request.encode())
    }

    /// Appends a third party's block (serialized `ThirdPartyBlockContents`)
    /// after verifying the token against `root` and the external signature
    /// against the token's last signature.
    pub fn append_third_party(
        &self,
        root: &PublicKey,
        contents: &[u8],
    ) -> Result<Token, TokenError> {
        self.append_third_party_with_algorithm(root, contents, Algorithm::Ed25519)
    }

    /// [`Token::append_third_party`] with the algorithm of the next key.
    pub fn append_third_party_with_algorithm(
        &self,
        root: &PublicKey,
        contents: &[u8],
        next_algorithm: Algorithm,
    ) -> Result<Token, TokenError> {
        if self.is_sealed() {
            return Err(TokenError::AppendOnSealed);
        }
        verify_signatures(self, root)?;
        let index = self.block_count();
        let contents =
            ThirdPartyBlockContents::decode(contents).map_err(format_err(Some(index)))?;
        let external_key = key_from_proto(
            &contents.external_signature.public_key,
            "ExternalSignature.publicKey",
        )
        .map_err(format_err(Some(index)))?;
        let esig = &contents.external_signature.signature;
        if !signature_well_formed(&external_key, esig) {
            return Err(TokenError::SignatureFormat {
                block: index,
                kind: SignatureKind::External,
            });
        }
        let payload = external_payload_v1(&contents.payload, &self.last_signed_block().signature);
        external_key
            .verify(&payload, esig)
            .map_err(|_| TokenError::InvalidSignature {
                block: index,
                kind: SignatureKind::External,
            })?;
        let block = decode_block(
            &contents.payload,
            &SymbolTable::new(),
            &KeyTable::new(),
            Some(external_key),
        )
        .map_err(format_err(Some(index)))?;
        self.push_block(
            contents.payload,
            block.version,
            Some(contents.external_signature),
            next_algorithm,
        )
    }
}
