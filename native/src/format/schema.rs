//! The Biscuit protobuf messages (`schema.proto`, proto2) as plain structs,
//! with a decoder and a prost-compatible encoder.
//!
//! Encoding follows prost's rules so that re-encoding a decoded message is
//! byte-identical: fields in field-number order, required fields always
//! written, optional fields only when set, oneof members always written when
//! set, empty repeated fields omitted, repeated scalars unpacked.
//! Decoding accepts fields in any order, skips unknown fields, takes the last
//! value of a repeated singular field, accepts packed and unpacked repeated
//! scalars, and treats a missing required field as an error.

use super::proto::{ProtoErrorKind, Reader, WireType, Writer};
use super::FormatError;

// ---------------------------------------------------------------------------
// Decoding helpers

fn perr(
    message: &'static str,
    field: Option<&'static str>,
) -> impl Fn(ProtoErrorKind) -> FormatError {
    move |kind| FormatError::Protobuf {
        message,
        field,
        kind,
    }
}

fn get_varint(
    r: &mut Reader<'_>,
    wire: WireType,
    m: &'static str,
    f: &'static str,
) -> Result<u64, FormatError> {
    Reader::expect(wire, WireType::Varint).map_err(perr(m, Some(f)))?;
    r.read_varint().map_err(perr(m, Some(f)))
}

/// `uint32` / `int32` enum: prost truncates the 64-bit varint.
fn get_u32(
    r: &mut Reader<'_>,
    wire: WireType,
    m: &'static str,
    f: &'static str,
) -> Result<u32, FormatError> {
    Ok(get_varint(r, wire, m, f)? as u32)
}

fn get_i32(
    r: &mut Reader<'_>,
    wire: WireType,
    m: &'static str,
    f: &'static str,
) -> Result<i32, FormatError> {
    Ok(get_varint(r, wire, m, f)? as i32)
}

fn get_bytes(
    r: &mut Reader<'_>,
    wire: WireType,
    m: &'static str,
    f: &'static str,
) -> Result<Vec<u8>, FormatError> {
    Reader::expect(wire, WireType::LengthDelimited).map_err(perr(m, Some(f)))?;
    r.read_bytes().map(<[u8]>::to_vec).map_err(perr(m, Some(f)))
}

fn get_string(
    r: &mut Reader<'_>,
    wire: WireType,
    m: &'static str,
    f: &'static str,
) -> Result<String, FormatError> {
    Reader::expect(wire, WireType::LengthDelimited).map_err(perr(m, Some(f)))?;
    r.read_string().map_err(perr(m, Some(f)))
}

fn get_message<'a>(
    r: &mut Reader<'a>,
    wire: WireType,
    m: &'static str,
    f: &'static str,
) -> Result<Reader<'a>, FormatError> {
    Reader::expect(wire, WireType::LengthDelimited).map_err(perr(m, Some(f)))?;
    r.read_message().map_err(perr(m, Some(f)))
}

fn next_key(r: &mut Reader<'_>, m: &'static str) -> Result<(u32, WireType), FormatError> {
    r.read_key().map_err(perr(m, None))
}

fn skip(r: &mut Reader<'_>, wire: WireType, m: &'static str) -> Result<(), FormatError> {
    r.skip(wire).map_err(perr(m, None))
}

fn required<T>(
    value: Option<T>,
    message: &'static str,
    field: &'static str,
) -> Result<T, FormatError> {
    value.ok_or(FormatError::MissingField { message, field })
}

fn top_level<T>(
    buf: &[u8],
    read: impl FnOnce(&mut Reader<'_>) -> Result<T, FormatError>,
) -> Result<T, FormatError> {
    read(&mut Reader::new(buf))
}

// ---------------------------------------------------------------------------
// Secret bytes

/// Bytes of a private key: zeroed when dropped, never printed.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes(bytes)
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        crate::crypto::zeroize(&mut self.0);
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

// ---------------------------------------------------------------------------
// Container messages

/// `Biscuit`: the token container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Biscuit {
    pub root_key_id: Option<u32>,
    pub authority: SignedBlock,
    pub blocks: Vec<SignedBlock>,
    pub proof: Proof,
}

impl Biscuit {
    /// Decodes a container, refusing more than `max_blocks` blocks (not
    /// counting the authority block).
    pub fn decode_bounded(buf: &[u8], max_blocks: usize) -> Result<Biscuit, FormatError> {
        const M: &str = "Biscuit";
        let mut r = Reader::new(buf);
        let (mut root_key_id, mut authority, mut blocks, mut proof) =
            (None, None, Vec::new(), None);
        while !r.is_empty() {
            let (field, wire) = next_key(&mut r, M)?;
            match field {
                1 => root_key_id = Some(get_u32(&mut r, wire, M, "rootKeyId")?),
                2 => {
                    authority = Some(SignedBlock::read(&mut get_message(
                        &mut r,
                        wire,
                        M,
                        "authority",
                    )?)?)
                }
                3 => {
                    if blocks.len() >= max_blocks {
                        return Err(FormatError::TooManyBlocks { max: max_blocks });
                    }
                    blocks.push(SignedBlock::read(&mut get_message(
                        &mut r, wire, M, "blocks",
                    )?)?)
                }
                4 => proof = Some(Proof::read(&mut get_message(&mut r, wire, M, "proof")?)?),
                _ => skip(&mut r, wire, M)?,
            }
        }
        Ok(Biscuit {
            root_key_id,
            authority: required(authority, M, "authority")?,
            blocks,
            proof: required(proof, M, "proof")?,
        })
    }

    pub fn decode(buf: &[u8]) -> Result<Biscuit, FormatError> {
        Biscuit::decode_bounded(buf, usize::MAX)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        if let Some(id) = self.root_key_id {
            w.uint(1, u64::from(id));
        }
        w.message(2, |w| self.authority.write(w));
        for b in &self.blocks {
            w.message(3, |w| b.write(w));
        }
        w.message(4, |w| self.proof.write(w));
        w.into_bytes()
    }
}

/// `SignedBlock`: serialized block bytes with the chain signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedBlock {
    pub block: Vec<u8>,
    pub next_key: PublicKeyProto,
    pub signature: Vec<u8>,
    pub external_signature: Option<ExternalSignature>,
    /// Signature version; absent means 0.
    pub version: Option<u32>,
}

impl SignedBlock {
    fn read(r: &mut Reader<'_>) -> Result<SignedBlock, FormatError> {
        const M: &str = "SignedBlock";
        let (mut block, mut nk, mut signature, mut external_signature, mut version) =
            (None, None, None, None, None);
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            match field {
                1 => block = Some(get_bytes(r, wire, M, "block")?),
                2 => {
                    nk = Some(PublicKeyProto::read(&mut get_message(
                        r, wire, M, "nextKey",
                    )?)?)
                }
                3 => signature = Some(get_bytes(r, wire, M, "signature")?),
                4 => {
                    external_signature = Some(ExternalSignature::read(&mut get_message(
                        r,
                        wire,
                        M,
                        "externalSignature",
                    )?)?)
                }
                5 => version = Some(get_u32(r, wire, M, "version")?),
                _ => skip(r, wire, M)?,
            }
        }
        Ok(SignedBlock {
            block: required(block, M, "block")?,
            next_key: required(nk, M, "nextKey")?,
            signature: required(signature, M, "signature")?,
            external_signature,
            version,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.bytes(1, &self.block);
        w.message(2, |w| self.next_key.write(w));
        w.bytes(3, &self.signature);
        if let Some(e) = &self.external_signature {
            w.message(4, |w| e.write(w));
        }
        if let Some(v) = self.version {
            w.uint(5, u64::from(v));
        }
    }
}

/// `ExternalSignature`: a third party's signature over a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalSignature {
    pub signature: Vec<u8>,
    pub public_key: PublicKeyProto,
}

impl ExternalSignature {
    fn read(r: &mut Reader<'_>) -> Result<ExternalSignature, FormatError> {
        const M: &str = "ExternalSignature";
        let (mut signature, mut public_key) = (None, None);
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            match field {
                1 => signature = Some(get_bytes(r, wire, M, "signature")?),
                2 => {
                    public_key = Some(PublicKeyProto::read(&mut get_message(
                        r,
                        wire,
                        M,
                        "publicKey",
                    )?)?)
                }
                _ => skip(r, wire, M)?,
            }
        }
        Ok(ExternalSignature {
            signature: required(signature, M, "signature")?,
            public_key: required(public_key, M, "publicKey")?,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.bytes(1, &self.signature);
        w.message(2, |w| self.public_key.write(w));
    }
}

/// `PublicKey` as stored on the wire: algorithm enum and key bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyProto {
    pub algorithm: i32,
    pub key: Vec<u8>,
}

impl PublicKeyProto {
    fn read(r: &mut Reader<'_>) -> Result<PublicKeyProto, FormatError> {
        const M: &str = "PublicKey";
        let (mut algorithm, mut key) = (None, None);
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            match field {
                1 => algorithm = Some(get_i32(r, wire, M, "algorithm")?),
                2 => key = Some(get_bytes(r, wire, M, "key")?),
                _ => skip(r, wire, M)?,
            }
        }
        Ok(PublicKeyProto {
            algorithm: required(algorithm, M, "algorithm")?,
            key: required(key, M, "key")?,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.int(1, i64::from(self.algorithm));
        w.bytes(2, &self.key);
    }
}

/// `Proof`: the secret for the next block, or the seal signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proof {
    NextSecret(SecretBytes),
    FinalSignature(Vec<u8>),
    /// Neither member set (an error when verifying).
    Empty,
}

impl Proof {
    fn read(r: &mut Reader<'_>) -> Result<Proof, FormatError> {
        const M: &str = "Proof";
        let mut proof = Proof::Empty;
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            match field {
                1 => {
                    proof =
                        Proof::NextSecret(SecretBytes::new(get_bytes(r, wire, M, "nextSecret")?))
                }
                2 => proof = Proof::FinalSignature(get_bytes(r, wire, M, "finalSignature")?),
                _ => skip(r, wire, M)?,
            }
        }
        Ok(proof)
    }

    fn write(&self, w: &mut Writer) {
        match self {
            Proof::NextSecret(s) => w.bytes(1, s.as_bytes()),
            Proof::FinalSignature(s) => w.bytes(2, s),
            Proof::Empty => {}
        }
    }
}

/// `ThirdPartyBlockRequest` (RS 6 form: only `previousSignature` is used).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThirdPartyBlockRequest {
    pub legacy_previous_key: Option<PublicKeyProto>,
    pub legacy_public_keys: Vec<PublicKeyProto>,
    pub previous_signature: Vec<u8>,
}

impl ThirdPartyBlockRequest {
    pub fn decode(buf: &[u8]) -> Result<ThirdPartyBlockRequest, FormatError> {
        top_level(buf, |r| {
            const M: &str = "ThirdPartyBlockRequest";
            let (mut legacy_previous_key, mut legacy_public_keys, mut previous_signature) =
                (None, Vec::new(), None);
            while !r.is_empty() {
                let (field, wire) = next_key(r, M)?;
                match field {
                    1 => {
                        legacy_previous_key = Some(PublicKeyProto::read(&mut get_message(
                            r,
                            wire,
                            M,
                            "legacyPreviousKey",
                        )?)?)
                    }
                    2 => legacy_public_keys.push(PublicKeyProto::read(&mut get_message(
                        r,
                        wire,
                        M,
                        "legacyPublicKeys",
                    )?)?),
                    3 => previous_signature = Some(get_bytes(r, wire, M, "previousSignature")?),
                    _ => skip(r, wire, M)?,
                }
            }
            Ok(ThirdPartyBlockRequest {
                legacy_previous_key,
                legacy_public_keys,
                previous_signature: required(previous_signature, M, "previousSignature")?,
            })
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        if let Some(k) = &self.legacy_previous_key {
            w.message(1, |w| k.write(w));
        }
        for k in &self.legacy_public_keys {
            w.message(2, |w| k.write(w));
        }
        w.bytes(3, &self.previous_signature);
        w.into_bytes()
    }
}

/// `ThirdPartyBlockContents`: a serialized block and its external signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThirdPartyBlockContents {
    pub payload: Vec<u8>,
    pub external_signature: ExternalSignature,
}

impl ThirdPartyBlockContents {
    pub fn decode(buf: &[u8]) -> Result<ThirdPartyBlockContents, FormatError> {
        top_level(buf, |r| {
            const M: &str = "ThirdPartyBlockContents";
            let (mut payload, mut external_signature) = (None, None);
            while !r.is_empty() {
                let (field, wire) = next_key(r, M)?;
                match field {
                    1 => payload = Some(get_bytes(r, wire, M, "payload")?),
                    2 => {
                        external_signature = Some(ExternalSignature::read(&mut get_message(
                            r,
                            wire,
                            M,
                            "externalSignature",
                        )?)?)
                    }
                    _ => skip(r, wire, M)?,
                }
            }
            Ok(ThirdPartyBlockContents {
                payload: required(payload, M, "payload")?,
                external_signature: required(external_signature, M, "externalSignature")?,
            })
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(1, &self.payload);
        w.message(2, |w| self.external_signature.write(w));
        w.into_bytes()
    }
}

// ---------------------------------------------------------------------------
// Block and Datalog messages

/// `Block`: one block's Datalog with symbol and public-key indices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockProto {
    pub symbols: Vec<String>,
    pub context: Option<String>,
    pub version: Option<u32>,
    pub facts: Vec<FactV2>,
    pub rules: Vec<RuleV2>,
    pub checks: Vec<CheckV2>,
    pub scopes: Vec<ScopeV2>,
    pub public_keys: Vec<PublicKeyProto>,
}

impl BlockProto {
    pub fn decode(buf: &[u8]) -> Result<BlockProto, FormatError> {
        top_level(buf, |r| {
            const M: &str = "Block";
            let mut b = BlockProto::default();
            while !r.is_empty() {
                let (field, wire) = next_key(r, M)?;
                match field {
                    1 => b.symbols.push(get_string(r, wire, M, "symbols")?),
                    2 => b.context = Some(get_string(r, wire, M, "context")?),
                    3 => b.version = Some(get_u32(r, wire, M, "version")?),
                    4 => b
                        .facts
                        .push(FactV2::read(&mut get_message(r, wire, M, "facts_v2")?)?),
                    5 => b
                        .rules
                        .push(RuleV2::read(&mut get_message(r, wire, M, "rules_v2")?)?),
                    6 => b
                        .checks
                        .push(CheckV2::read(&mut get_message(r, wire, M, "checks_v2")?)?),
                    7 => b
                        .scopes
                        .push(ScopeV2::read(&mut get_message(r, wire, M, "scope")?)?),
                    8 => b.public_keys.push(PublicKeyProto::read(&mut get_message(
                        r,
                        wire,
                        M,
                        "publicKeys",
                    )?)?),
                    _ => skip(r, wire, M)?,
                }
            }
            Ok(b)
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        for s in &self.symbols {
            w.bytes(1, s.as_bytes());
        }
        if let Some(c) = &self.context {
            w.bytes(2, c.as_bytes());
        }
        if let Some(v) = self.version {
            w.uint(3, u64::from(v));
        }
        for f in &self.facts {
            w.message(4, |w| f.write(w));
        }
        for r in &self.rules {
            w.message(5, |w| r.write(w));
        }
        for c in &self.checks {
            w.message(6, |w| c.write(w));
        }
        for s in &self.scopes {
            w.message(7, |w| s.write(w));
        }
        for k in &self.public_keys {
            w.message(8, |w| k.write(w));
        }
        w.into_bytes()
    }
}

/// `Scope`: a scope type (0 authority, 1 previous) or a public-key index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeV2 {
    ScopeType(i32),
    PublicKey(i64),
}

impl ScopeV2 {
    fn read(r: &mut Reader<'_>) -> Result<ScopeV2, FormatError> {
        const M: &str = "Scope";
        let mut content = None;
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            match field {
                1 => content = Some(ScopeV2::ScopeType(get_i32(r, wire, M, "scopeType")?)),
                2 => {
                    content = Some(ScopeV2::PublicKey(
                        get_varint(r, wire, M, "publicKey")? as i64
                    ))
                }
                _ => skip(r, wire, M)?,
            }
        }
        required(content, M, "content")
    }

    fn write(&self, w: &mut Writer) {
        match self {
            ScopeV2::ScopeType(t) => w.int(1, i64::from(*t)),
            ScopeV2::PublicKey(k) => w.int(2, *k),
        }
    }
}

/// `FactV2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactV2 {
    pub predicate: PredicateV2,
}

impl FactV2 {
    fn read(r: &mut Reader<'_>) -> Result<FactV2, FormatError> {
        const M: &str = "FactV2";
        let mut predicate = None;
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            match field {
                1 => {
                    predicate = Some(PredicateV2::read(&mut get_message(
                        r,
                        wire,
                        M,
                        "predicate",
                    )?)?)
                }
                _ => skip(r, wire, M)?,
            }
        }
        Ok(FactV2 {
            predicate: required(predicate, M, "predicate")?,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.message(1, |w| self.predicate.write(w));
    }
}

/// `RuleV2` (also the queries of checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleV2 {
    pub head: PredicateV2,
    pub body: Vec<PredicateV2>,
    pub expressions: Vec<ExpressionV2>,
    pub scopes: Vec<ScopeV2>,
}

impl RuleV2 {
    fn read(r: &mut Reader<'_>) -> Result<RuleV2, FormatError> {
        const M: &str = "RuleV2";
        let (mut head, mut body, mut expressions, mut scopes) =
            (None, Vec::new(), Vec::new(), Vec::new());
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            match field {
                1 => head = Some(PredicateV2::read(&mut get_message(r, wire, M, "head")?)?),
                2 => body.push(PredicateV2::read(&mut get_message(r, wire, M, "body")?)?),
                3 => expressions.push(ExpressionV2::read(&mut get_message(
                    r,
                    wire,
                    M,
                    "expressions",
                )?)?),
                4 => scopes.push(ScopeV2::read(&mut get_message(r, wire, M, "scope")?)?),
                _ => skip(r, wire, M)?,
            }
        }
        Ok(RuleV2 {
            head: required(head, M, "head")?,
            body,
            expressions,
            scopes,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.message(1, |w| self.head.write(w));
        for p in &self.body {
            w.message(2, |w| p.write(w));
        }
        for e in &self.expressions {
            w.message(3, |w| e.write(w));
        }
        for s in &self.scopes {
            w.message(4, |w| s.write(w));
        }
    }
}

/// `CheckV2`; `kind` is absent for `check if` when written by RS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckV2 {
    pub queries: Vec<RuleV2>,
    pub kind: Option<i32>,
}

impl CheckV2 {
    fn read(r: &mut Reader<'_>) -> Result<CheckV2, FormatError> {
        const M: &str = "CheckV2";
        let (mut queries, mut kind) = (Vec::new(), None);
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            match field {
                1 => queries.push(RuleV2::read(&mut get_message(r, wire, M, "queries")?)?),
                2 => kind = Some(get_i32(r, wire, M, "kind")?),
                _ => skip(r, wire, M)?,
            }
        }
        Ok(CheckV2 { queries, kind })
    }

    fn write(&self, w: &mut Writer) {
        for q in &self.queries {
            w.message(1, |w| q.write(w));
        }
        if let Some(k) = self.kind {
            w.int(2, i64::from(k));
        }
    }
}

/// `PredicateV2`: name symbol index and terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PredicateV2 {
    pub name: u64,
    pub terms: Vec<TermV2>,
}

impl PredicateV2 {
    fn read(r: &mut Reader<'_>) -> Result<PredicateV2, FormatError> {
        const M: &str = "PredicateV2";
        let (mut name, mut terms) = (None, Vec::new());
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            match field {
                1 => name = Some(get_varint(r, wire, M, "name")?),
                2 => terms.push(TermV2::read(&mut get_message(r, wire, M, "terms")?)?),
                _ => skip(r, wire, M)?,
            }
        }
        Ok(PredicateV2 {
            name: required(name, M, "name")?,
            terms,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.uint(1, self.name);
        for t in &self.terms {
            w.message(2, |w| t.write(w));
        }
    }
}

/// `TermV2` (its oneof). The variant order matches the reference term
/// ordering (variables, integers, strings by symbol index, dates, bytes,
/// bools, sets, null, arrays, maps), so the derived `Ord` sorts set elements
/// and map entries the way the reference serializes them. Set elements and
/// map entries are kept in wire order when decoded.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TermV2 {
    Variable(u32),
    Integer(i64),
    Str(u64),
    Date(u64),
    Bytes(Vec<u8>),
    Bool(bool),
    Set(Vec<TermV2>),
    Null,
    Array(Vec<TermV2>),
    Map(Vec<MapEntry>),
}

impl TermV2 {
    fn read(r: &mut Reader<'_>) -> Result<TermV2, FormatError> {
        const M: &str = "TermV2";
        let mut content = None;
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            content = Some(match field {
                1 => TermV2::Variable(get_u32(r, wire, M, "variable")?),
                2 => TermV2::Integer(get_varint(r, wire, M, "integer")? as i64),
                3 => TermV2::Str(get_varint(r, wire, M, "string")?),
                4 => TermV2::Date(get_varint(r, wire, M, "date")?),
                5 => TermV2::Bytes(get_bytes(r, wire, M, "bytes")?),
                6 => TermV2::Bool(get_varint(r, wire, M, "bool")? != 0),
                7 => TermV2::Set(read_term_list(
                    &mut get_message(r, wire, M, "set")?,
                    "TermSet",
                    "set",
                )?),
                8 => {
                    let mut empty = get_message(r, wire, M, "null")?;
                    while !empty.is_empty() {
                        let (_, wire) = next_key(&mut empty, "Empty")?;
                        skip(&mut empty, wire, "Empty")?;
                    }
                    TermV2::Null
                }
                9 => TermV2::Array(read_term_list(
                    &mut get_message(r, wire, M, "array")?,
                    "Array",
                    "array",
                )?),
                10 => {
                    let mut m = get_message(r, wire, M, "map")?;
                    let mut entries = Vec::new();
                    while !m.is_empty() {
                        let (field, wire) = next_key(&mut m, "Map")?;
                        match field {
                            1 => entries.push(MapEntry::read(&mut get_message(
                                &mut m, wire, "Map", "entries",
                            )?)?),
                            _ => skip(&mut m, wire, "Map")?,
                        }
                    }
                    TermV2::Map(entries)
                }
                _ => {
                    skip(r, wire, M)?;
                    continue;
                }
            });
        }
        required(content, M, "content")
    }

    fn write(&self, w: &mut Writer) {
        match self {
            TermV2::Variable(v) => w.uint(1, u64::from(*v)),
            TermV2::Integer(i) => w.int(2, *i),
            TermV2::Str(s) => w.uint(3, *s),
            TermV2::Date(d) => w.uint(4, *d),
            TermV2::Bytes(b) => w.bytes(5, b),
            TermV2::Bool(b) => w.uint(6, u64::from(*b)),
            TermV2::Set(items) => w.message(7, |w| {
                for t in items {
                    w.message(1, |w| t.write(w));
                }
            }),
            TermV2::Null => w.message(8, |_| {}),
            TermV2::Array(items) => w.message(9, |w| {
                for t in items {
                    w.message(1, |w| t.write(w));
                }
            }),
            TermV2::Map(entries) => w.message(10, |w| {
                for e in entries {
                    w.message(1, |w| e.write(w));
                }
            }),
        }
    }
}

fn read_term_list(
    r: &mut Reader<'_>,
    m: &'static str,
    f: &'static str,
) -> Result<Vec<TermV2>, FormatError> {
    let mut out = Vec::new();
    while !r.is_empty() {
        let (field, wire) = next_key(r, m)?;
        match field {
            1 => out.push(TermV2::read(&mut get_message(r, wire, m, f)?)?),
            _ => skip(r, wire, m)?,
        }
    }
    Ok(out)
}

/// `MapKey` (its oneof).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MapKeyV2 {
    Integer(i64),
    Str(u64),
}

/// `MapEntry`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MapEntry {
    pub key: MapKeyV2,
    pub value: TermV2,
}

impl MapEntry {
    fn read(r: &mut Reader<'_>) -> Result<MapEntry, FormatError> {
        const M: &str = "MapEntry";
        let (mut key, mut value) = (None, None);
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            match field {
                1 => {
                    let mut k = get_message(r, wire, M, "key")?;
                    let mut content = None;
                    while !k.is_empty() {
                        let (field, wire) = next_key(&mut k, "MapKey")?;
                        match field {
                            1 => {
                                content = Some(MapKeyV2::Integer(get_varint(
                                    &mut k, wire, "MapKey", "integer",
                                )?
                                    as i64))
                            }
                            2 => {
                                content = Some(MapKeyV2::Str(get_varint(
                                    &mut k, wire, "MapKey", "string",
                                )?))
                            }
                            _ => skip(&mut k, wire, "MapKey")?,
                        }
                    }
                    key = Some(required(content, "MapKey", "content")?);
                }
                2 => value = Some(TermV2::read(&mut get_message(r, wire, M, "value")?)?),
                _ => skip(r, wire, M)?,
            }
        }
        Ok(MapEntry {
            key: required(key, M, "key")?,
            value: required(value, M, "value")?,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.message(1, |w| match &self.key {
            MapKeyV2::Integer(i) => w.int(1, *i),
            MapKeyV2::Str(s) => w.uint(2, *s),
        });
        w.message(2, |w| self.value.write(w));
    }
}

/// `ExpressionV2`: a postfix program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpressionV2 {
    pub ops: Vec<OpV2>,
}

impl ExpressionV2 {
    fn read(r: &mut Reader<'_>) -> Result<ExpressionV2, FormatError> {
        const M: &str = "ExpressionV2";
        let mut ops = Vec::new();
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            match field {
                1 => ops.push(OpV2::read(&mut get_message(r, wire, M, "ops")?)?),
                _ => skip(r, wire, M)?,
            }
        }
        Ok(ExpressionV2 { ops })
    }

    fn write(&self, w: &mut Writer) {
        for op in &self.ops {
            w.message(1, |w| op.write(w));
        }
    }
}

/// `OpUnary` / `OpBinary`: the kind and, for `Ffi`, the function name index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpKind {
    pub kind: i32,
    pub ffi_name: Option<u64>,
}

impl OpKind {
    fn read(r: &mut Reader<'_>, m: &'static str) -> Result<OpKind, FormatError> {
        let (mut kind, mut ffi_name) = (None, None);
        while !r.is_empty() {
            let (field, wire) = next_key(r, m)?;
            match field {
                1 => kind = Some(get_i32(r, wire, m, "kind")?),
                2 => ffi_name = Some(get_varint(r, wire, m, "ffiName")?),
                _ => skip(r, wire, m)?,
            }
        }
        Ok(OpKind {
            kind: required(kind, m, "kind")?,
            ffi_name,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.int(1, i64::from(self.kind));
        if let Some(n) = self.ffi_name {
            w.uint(2, n);
        }
    }
}

/// `Op` (its oneof).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpV2 {
    Value(TermV2),
    Unary(OpKind),
    Binary(OpKind),
    /// Parameter variable indices and the body.
    Closure(Vec<u32>, Vec<OpV2>),
}

impl OpV2 {
    fn read(r: &mut Reader<'_>) -> Result<OpV2, FormatError> {
        const M: &str = "Op";
        let mut content = None;
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            content = Some(match field {
                1 => OpV2::Value(TermV2::read(&mut get_message(r, wire, M, "value")?)?),
                2 => OpV2::Unary(OpKind::read(
                    &mut get_message(r, wire, M, "unary")?,
                    "OpUnary",
                )?),
                3 => OpV2::Binary(OpKind::read(
                    &mut get_message(r, wire, M, "Binary")?,
                    "OpBinary",
                )?),
                4 => {
                    let mut c = get_message(r, wire, M, "closure")?;
                    OpV2::read_closure(&mut c)?
                }
                _ => {
                    skip(r, wire, M)?;
                    continue;
                }
            });
        }
        required(content, M, "content")
    }

    fn read_closure(r: &mut Reader<'_>) -> Result<OpV2, FormatError> {
        const M: &str = "OpClosure";
        let (mut params, mut ops) = (Vec::new(), Vec::new());
        while !r.is_empty() {
            let (field, wire) = next_key(r, M)?;
            match field {
                1 if wire == WireType::LengthDelimited => {
                    // Packed form.
                    let mut packed = r.read_message().map_err(perr(M, Some("params")))?;
                    while !packed.is_empty() {
                        params.push(packed.read_varint().map_err(perr(M, Some("params")))? as u32);
                    }
                }
                1 => params.push(get_u32(r, wire, M, "params")?),
                2 => ops.push(OpV2::read(&mut get_message(r, wire, M, "ops")?)?),
                _ => skip(r, wire, M)?,
            }
        }
        Ok(OpV2::Closure(params, ops))
    }

    fn write(&self, w: &mut Writer) {
        match self {
            OpV2::Value(t) => w.message(1, |w| t.write(w)),
            OpV2::Unary(k) => w.message(2, |w| k.write(w)),
            OpV2::Binary(k) => w.message(3, |w| k.write(w)),
            OpV2::Closure(params, ops) => w.message(4, |w| {
                for p in params {
                    w.uint(1, u64::from(*p));
                }
                for op in ops {
                    w.message(2, |w| op.write(w));
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_round_trip_and_unknown_fields() {
        let block = BlockProto {
            symbols: vec!["a".into(), "é".into()],
            context: None,
            version: Some(6),
            facts: vec![FactV2 {
                predicate: PredicateV2 {
                    name: 0,
                    terms: vec![
                        TermV2::Integer(-5),
                        TermV2::Bool(false),
                        TermV2::Null,
                        TermV2::Set(vec![TermV2::Str(1024)]),
                        TermV2::Map(vec![MapEntry {
                            key: MapKeyV2::Integer(0),
                            value: TermV2::Array(vec![]),
                        }]),
                    ],
                },
            }],
            rules: vec![RuleV2 {
                head: PredicateV2 {
                    name: 27,
                    terms: vec![],
                },
                body: vec![],
                expressions: vec![ExpressionV2 {
                    ops: vec![
                        OpV2::Value(TermV2::Bool(true)),
                        OpV2::Closure(vec![1025, 1026], vec![OpV2::Value(TermV2::Variable(1025))]),
                        OpV2::Binary(OpKind {
                            kind: 23,
                            ffi_name: None,
                        }),
                        OpV2::Unary(OpKind {
                            kind: 4,
                            ffi_name: Some(1024),
                        }),
                    ],
                }],
                scopes: vec![ScopeV2::ScopeType(0), ScopeV2::PublicKey(0)],
            }],
            checks: vec![CheckV2 {
                queries: vec![],
                kind: Some(0),
            }],
            scopes: vec![ScopeV2::ScopeType(1)],
            public_keys: vec![PublicKeyProto {
                algorithm: 0,
                key: vec![1; 32],
            }],
        };
        let bytes = block.encode();
        let decoded = BlockProto::decode(&bytes).unwrap();
        assert_eq!(decoded, block);
        assert_eq!(decoded.encode(), bytes);

        // Unknown fields of every wire type are skipped.
        let mut extra = bytes.clone();
        extra.extend_from_slice(&[
            0x48, 0x01, 0x51, 0, 0, 0, 0, 0, 0, 0, 0, 0x5d, 0, 0, 0, 0, 0x62, 0x00,
        ]);
        assert_eq!(BlockProto::decode(&extra).unwrap(), block);
    }

    #[test]
    fn packed_closure_params() {
        // Op { closure = 4 { params (packed) = [1, 2] } }
        let bytes = [0x22, 0x04, 0x0a, 0x02, 0x01, 0x02];
        let op = OpV2::read(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(op, OpV2::Closure(vec![1, 2], vec![]));
    }

    #[test]
    fn missing_required_and_empty_oneof() {
        assert!(matches!(
            Biscuit::decode(&[]),
            Err(FormatError::MissingField {
                message: "Biscuit",
                field: "authority"
            })
        ));
        // TermV2 with no content.
        let bytes = [0x12, 0x00];
        let err =
            PredicateV2::read(&mut Reader::new(&[0x08, 0x00, bytes[0], bytes[1]])).unwrap_err();
        assert!(matches!(
            err,
            FormatError::MissingField {
                message: "TermV2",
                ..
            }
        ));
    }

    #[test]
    fn block_count_is_bounded() {
        let sb = SignedBlock {
            block: vec![],
            next_key: PublicKeyProto {
                algorithm: 0,
                key: vec![0; 32],
            },
            signature: vec![0; 64],
            external_signature: None,
            version: None,
        };
        let b = Biscuit {
            root_key_id: Some(1),
            authority: sb.clone(),
            blocks: vec![sb.clone(); 3],
            proof: Proof::Empty,
        };
        let bytes = b.encode();
        assert_eq!(Biscuit::decode(&bytes).unwrap(), b);
        assert!(matches!(
            Biscuit::decode_bounded(&bytes, 2),
            Err(FormatError::TooManyBlocks { .. })
        ));
    }
}
