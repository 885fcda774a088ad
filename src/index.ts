/**
 * hessra — programmatic API for Node applications (the CLI is a thin shell over the same functions).
 *
 *   import {verifyToken, loadConfig} from 'hessra'
 *   const config = await loadConfig()
 *   const r = verifyToken(token, {config, subject: 'alice', resource: 'documents', operation: 'read'})
 *   if (!r.valid) console.log(r.status, r.reason)
 *
 * A request's queries under its token, through a node-postgres pool (the database's policies decide):
 *
 *   import {withToken} from 'hessra'
 *   const rows = await withToken(pool, bearerToken, async (client) => (await client.query('SELECT * FROM documents')).rows)
 *
 * Native handles (PublicKey, KeyPair, Token, Config) hold memory in the engine: call dispose() when done
 * (a FinalizationRegistry frees forgotten ones eventually).
 */
export {authorize, authorizerAt} from './tokens/authorize.js'
export {appendThirdPartyBlock, attenuateToken, attenuationDatalog, attestNamespace, attestToken, createThirdPartyBlockFor, mintFromDatalog, mintHessra, publicKeyText, restrictPrefix, sealToken, thirdPartyRequest, tokenToString} from './tokens/devkit.js'
export {inspectToken} from './tokens/inspect.js'
export {openToken} from './tokens/open.js'
export {assertValid, verifyToken} from './tokens/verify.js'
// PostgreSQL: a token per request, through a pool (docs/pg.md, "From an application")
export {TransactionAbortedError, withToken} from './db.js'
export type {RequestToken, WithTokenOptions} from './db.js'
// identity tokens
export {delegateIdentityToken, jitIdentityToken, mintIdentityToken, verifyIdentityToken} from './tokens/identity.js'
export {tokenKind} from './tokens/inspect.js'
export type {IdentityDelegateOptions, IdentityJitOptions, IdentityMintOptions, IdentityVerifyOptions, IdentityVerifyResult} from './tokens/identity.js'
export type {Classification} from './tokens/inspect.js'
export type {AuthorizeOptions, AuthorizeResult, PolicyKind} from './tokens/authorize.js'
export type {AttenuateOptions, AttestNamespaceOptions, AttestOptions, MintDatalogOptions, MintOptions, Party, RestrictPrefixOptions} from './tokens/devkit.js'
export type {InspectBlock, InspectOptions, InspectResult} from './tokens/inspect.js'
export type {KeyOptions, PrivateKeyLike, TokenLike} from './tokens/open.js'
export type {FailedCheck, VerifyOptions, VerifyResult, VerifyStatus} from './tokens/verify.js'

export {
  checkConfigShape,
  defaultConfig,
  getPath,
  loadConfig,
  SEARCH_PLACES,
  setPath,
  userConfigPath,
  writeConfig,
} from './config/index.js'
export type {ConfigProblem, ConfigSource, HessraConfig, KeyEntry, Limits, LoadedConfig, LoadOptions, ServiceNode} from './config/index.js'
export {isRevocationId} from './config/index.js'
export {revocationIdsFor, revoke, withRevokedIds} from './revocation.js'
export type {RevokedId, RevokeOptions, RevokeResult} from './revocation.js'
export {validateConfig} from './config/validate.js'
export type {ValidationReport} from './config/validate.js'

export {choosePublicKey, classifyKeyText, generateKeyPair, loadKeyPair, parsePublicKeySpec, writePrivateKeyFile} from './keys.js'
export type {KeyChoice, KeyTextKind, ResolvedPublicKey} from './keys.js'

export {Config, isAvailable as nativeAvailable, KeyPair, libraryPath, PublicKey, Token, version as nativeVersion} from './native/binding.js'
export type {Algorithm, MintRequest, VerifyRequest} from './native/binding.js'

export {classifyTokenBytes, normalizeTokenText, resolveTokenInput} from './input/token.js'
export type {TokenInput, TokenSources} from './input/token.js'
export {isoDate, parseAt, parseDuration, parseTtl, relativeTime} from './input/time.js'

export {
  ConfigError,
  DeniedError,
  EnvironmentError,
  ExitCode,
  exitCodeFor,
  ExpiredError,
  HessraError,
  InputError,
  InternalError,
  InvalidKeyError,
  InvalidSignatureError,
  InvalidTokenError,
  IoError,
  LimitExceededError,
  NativeCode,
  NativeLibraryMissingError,
  RevokedError,
  UsageError,
} from './errors.js'
export type {ErrorKind} from './errors.js'
