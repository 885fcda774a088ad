//! hessra-ffi: an independent Biscuit engine with the Hessra verification
//! rules on top, exposed through the C ABI in `include/hessra_ffi.h`.
//!
//! Module map (each is about one thing; see `ARCHITECTURE.md`):
//! - [`encoding`]: base64url, hex and PEM armour.
//! - [`json`]: a small bounded JSON reader and writer.
//! - [`crypto`]: keys and signatures over OpenSSL libcrypto.
//! - [`datalog`]: the data model, the evaluator and the authorizer.
//! - [`parser`]: Datalog source text to the data model.
//! - [`format`]: the Biscuit protobuf schema, decoding and encoding.
//! - [`token`]: the signature chain, verification and minting.
//! - [`hessra`]: what "verify a Hessra token" means.
//! - [`restrictions`]: multi-party and prefix restrictions of Hessra tokens.
//! - [`identity`]: Hessra identity tokens: shape, delegation, verification.
//! - [`classify`]: what kind of Hessra token this is, and how it is built.
//! - [`cache`]: the bounded cache of signature-checked tokens.
//! - [`config`]: the JSON configuration shared with the CLI and extension.
//! - [`verifier`]: configuration + cache + request in, one outcome out.
//! - [`granted`]: what a verified token grants (resources for an operation)
//!   and claims, each answer a set of full verifications.
//! - [`ffi`]: the C ABI, the only place raw pointers cross.

pub mod cache;
pub mod classify;
pub mod config;
pub mod crypto;
pub mod datalog;
pub mod encoding;
pub mod ffi;
pub mod format;
pub mod granted;
pub mod hessra;
pub mod identity;
pub mod json;
pub mod parser;
pub mod restrictions;
pub mod token;
pub mod verifier;
