/**
 * The binding: src/native/ is the one place that talks to libhessra_ffi through koffi (see
 * native/include/hessra_ffi.h), and this file is its entry; everything else imports the typed
 * wrappers from here. It is split by what it does:
 *  - library.ts: finding and loading the library, binding functions on first use;
 *  - prototypes.ts: the C structs and prototypes, as koffi reads them;
 *  - handles.ts: the engine's objects (token, public key, key pair, config) as NativeHandles: call
 *    dispose() (or use `using`) in hot paths; a FinalizationRegistry frees anything forgotten;
 *  - calls.ts: the calls themselves; every `char*` the library hands out is copied into a JS string
 *    and freed immediately, so no native string outlives the call that made it.
 */
export {engineStaticLibrary, isAvailable, libraryPath, packageRoot, platformTag, rawFunction, version} from './library.js'
export {PROTOTYPES, type FnName, type NativeFn} from './prototypes.js'
export {Config, KeyPair, PublicKey, Token, type Algorithm, type CacheStats} from './handles.js'
export {
  createThirdPartyBlock,
  IdentityActor,
  mintHessraToken,
  mintIdentity,
  mintToken,
  readTrustedFile,
  verify,
  verifyIdentity,
  type IdentityMintRequest,
  type IdentityRequest,
  type MintRequest,
  type VerifyRequest,
} from './calls.js'
