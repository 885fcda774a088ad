/**
 * The C ABI as koffi sees it: the struct types (registered once per process: koffi names are global)
 * and every function's prototype, as in native/include/hessra_ffi.h.
 */
import koffi from 'koffi'

// Types are registered once per process (koffi names are global).
const TokenT = koffi.pointer('HessraToken', koffi.opaque('HessraToken_s'))
const PublicKeyT = koffi.pointer('HessraPublicKey', koffi.opaque('HessraPublicKey_s'))
const ConfigT = koffi.pointer('HessraConfig', koffi.opaque('HessraConfig_s'))
const KeyPairT = koffi.pointer('HessraKeyPair', koffi.opaque('HessraKeyPair_s'))
koffi.struct('HessraError', {code: 'int', message: 'void *'})
koffi.struct('HessraVerifyRequest', {
  subject: 'const char *',
  resource: 'const char *',
  operation: 'const char *',
  domain: 'const char *',
  prefix: 'const char *',
  now: 'int64_t',
  leeway_seconds: 'int64_t',
  service_chain_json: 'const char *',
  component: 'const char *',
})
koffi.struct('HessraMintRequest', {
  subject: 'const char *',
  resource: 'const char *',
  operation: 'const char *',
  expires_at: 'int64_t',
  domain: 'const char *',
  service_nodes_json: 'const char *',
  root_key_id: 'int64_t',
  operations_json: 'const char *',
})
koffi.struct('HessraIdentityRequest', {
  actor: 'int',
  identity: 'const char *',
  domain: 'const char *',
  subject_in_domain: 'int',
  now: 'int64_t',
  leeway_seconds: 'int64_t',
})
koffi.struct('HessraIdentityMintRequest', {
  subject: 'const char *',
  delegatable: 'int',
  domain: 'const char *',
  expires_at: 'int64_t',
  root_key_id: 'int64_t',
})
koffi.struct('HessraCacheStats', {
  verifications: 'uint64_t',
  cache_hits: 'uint64_t',
  cache_misses: 'uint64_t',
  cache_entries: 'uint64_t',
  cache_capacity: 'uint64_t',
})
void TokenT
void PublicKeyT
void ConfigT
void KeyPairT

/**
 * C prototypes, as in hessra_ffi.h (char** outputs as void** so we can free them): the one copy on the
 * JavaScript side (koffi needs them as text). test/unit/binding-prototypes.test.ts checks them against the header.
 */
export const PROTOTYPES = {
  hessra_version: 'const char *hessra_version(void)',
  hessra_error_message: 'const char *hessra_error_message(int result)',
  hessra_error_free: 'void hessra_error_free(void *message)',
  hessra_string_free: 'void hessra_string_free(void *s)',

  hessra_token_parse: 'int hessra_token_parse(const char *token_string, _Out_ HessraToken *out_token)',
  hessra_token_parse_with_error:
    'int hessra_token_parse_with_error(const char *token_string, _Out_ HessraToken *out_token, _Out_ HessraError *out_error)',
  hessra_token_parse_bytes: 'int hessra_token_parse_bytes(const uint8_t *data, size_t len, _Out_ HessraToken *out_token)',
  hessra_token_free: 'void hessra_token_free(HessraToken token)',
  hessra_token_verify: 'int hessra_token_verify(HessraToken token, HessraPublicKey key, const char *subject, const char *resource)',
  hessra_token_verify_operation:
    'int hessra_token_verify_operation(HessraToken token, HessraPublicKey key, const char *subject, const char *resource, const char *operation)',
  hessra_verify:
    'int hessra_verify(HessraConfig config, HessraPublicKey key, const char *key_id, const uint8_t *token, size_t token_len, const HessraVerifyRequest *request, _Out_ void **out_json, _Out_ HessraError *out_error)',
  hessra_token_authorize:
    'int hessra_token_authorize(HessraToken token, HessraPublicKey key, const char *authorizer, _Out_ void **out_json, _Out_ HessraError *out_error)',
  hessra_token_inspect: 'int hessra_token_inspect(HessraToken token, _Out_ void **out_json)',
  hessra_token_inspect_verified: 'int hessra_token_inspect_verified(HessraToken token, HessraPublicKey key, _Out_ void **out_json)',
  hessra_token_inspect_verified_with_error:
    'int hessra_token_inspect_verified_with_error(HessraToken token, HessraPublicKey key, _Out_ void **out_json, _Out_ HessraError *out_error)',
  hessra_token_to_string: 'int hessra_token_to_string(HessraToken token, _Out_ void **out)',
  hessra_token_root_key_id: 'int64_t hessra_token_root_key_id(HessraToken token)',

  hessra_public_key_from_string: 'int hessra_public_key_from_string(const char *key, _Out_ HessraPublicKey *out_key)',
  hessra_public_key_from_file: 'int hessra_public_key_from_file(const char *path, _Out_ HessraPublicKey *out_key)',
  hessra_public_key_free: 'void hessra_public_key_free(HessraPublicKey key)',
  hessra_public_key_to_string: 'int hessra_public_key_to_string(HessraPublicKey key, _Out_ void **out)',
  hessra_public_key_to_pem: 'int hessra_public_key_to_pem(HessraPublicKey key, _Out_ void **out)',
  hessra_public_key_algorithm: 'int hessra_public_key_algorithm(HessraPublicKey key)',

  hessra_keypair_generate: 'int hessra_keypair_generate(int algorithm, _Out_ HessraKeyPair *out)',
  hessra_keypair_from_string: 'int hessra_keypair_from_string(const char *private_key, _Out_ HessraKeyPair *out)',
  hessra_keypair_from_file: 'int hessra_keypair_from_file(const char *path, _Out_ HessraKeyPair *out)',
  hessra_keypair_to_pem: 'int hessra_keypair_to_pem(HessraKeyPair kp, _Out_ void **out)',
  hessra_keypair_public_key: 'int hessra_keypair_public_key(HessraKeyPair kp, _Out_ HessraPublicKey *out)',
  hessra_keypair_free: 'void hessra_keypair_free(HessraKeyPair kp)',

  hessra_config_new: 'int hessra_config_new(_Out_ HessraConfig *out)',
  hessra_config_from_file: 'int hessra_config_from_file(const char *path, _Out_ HessraConfig *out)',
  hessra_config_from_string: 'int hessra_config_from_string(const char *json, _Out_ HessraConfig *out)',
  hessra_config_from_file_with_error:
    'int hessra_config_from_file_with_error(const char *path, _Out_ HessraConfig *out, _Out_ HessraError *out_error)',
  hessra_config_from_string_with_error:
    'int hessra_config_from_string_with_error(const char *json, _Out_ HessraConfig *out, _Out_ HessraError *out_error)',
  hessra_config_set_public_key: 'int hessra_config_set_public_key(HessraConfig config, const char *key_id, HessraPublicKey key)',
  hessra_config_get_public_key: 'int hessra_config_get_public_key(HessraConfig config, const char *key_id, _Out_ HessraPublicKey *out)',
  hessra_config_describe: 'int hessra_config_describe(HessraConfig config, _Out_ void **out_json)',
  hessra_config_check: 'int hessra_config_check(const char *json, _Out_ void **out_problem_json)',
  hessra_config_from_string_trusted:
    'int hessra_config_from_string_trusted(const char *json, const uint32_t *owner_uids, size_t owner_count, _Out_ HessraConfig *out, _Out_ void **out_problem_json)',
  hessra_trusted_file_read:
    'int hessra_trusted_file_read(const char *path, const uint32_t *owner_uids, size_t owner_count, uint64_t max_bytes, _Out_ void **out_text, _Out_ HessraError *out_error)',
  hessra_config_select_key:
    'int hessra_config_select_key(HessraConfig config, int64_t root_key_id, const char *key_id, _Out_ HessraPublicKey *out_key, _Out_ void **out_key_id, _Out_ HessraError *out_error)',
  hessra_config_cache_stats: 'int hessra_config_cache_stats(HessraConfig config, _Out_ HessraCacheStats *out_stats)',
  hessra_config_set_cache_size: 'int hessra_config_set_cache_size(HessraConfig config, size_t capacity)',
  hessra_config_verify_token_string:
    'int hessra_config_verify_token_string(HessraConfig config, const char *token_string, const HessraVerifyRequest *request, _Out_ HessraError *out_error)',
  hessra_config_free: 'void hessra_config_free(HessraConfig config)',

  hessra_token_mint:
    'int hessra_token_mint(HessraKeyPair kp, const char *datalog, const char *params_json, int64_t root_key_id, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_mint_hessra:
    'int hessra_token_mint_hessra(HessraKeyPair kp, const HessraMintRequest *request, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_attenuate:
    'int hessra_token_attenuate(HessraToken token, HessraPublicKey root_key, const char *datalog, const char *params_json, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_third_party_request: 'int hessra_token_third_party_request(HessraToken token, _Out_ void **out_request)',
  hessra_third_party_block_create:
    'int hessra_third_party_block_create(const char *request, HessraKeyPair node_kp, const char *datalog, const char *params_json, _Out_ void **out_block, _Out_ HessraError *out_error)',
  hessra_token_append_third_party:
    'int hessra_token_append_third_party(HessraToken token, HessraPublicKey root_key, const char *block, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_attest:
    'int hessra_token_attest(HessraToken token, HessraPublicKey root_key, HessraKeyPair node_kp, const char *resource, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_seal:
    'int hessra_token_seal(HessraToken token, HessraPublicKey root_key, _Out_ void **out_token, _Out_ HessraError *out_error)',

  hessra_token_mint_hessra_restricted:
    'int hessra_token_mint_hessra_restricted(HessraKeyPair kp, const HessraMintRequest *request, const char *restrictions_json, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_attest_namespace:
    'int hessra_token_attest_namespace(HessraToken token, HessraPublicKey root_key, HessraKeyPair party_kp, const char *namespace_, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_restrict_prefix:
    'int hessra_token_restrict_prefix(HessraToken token, HessraPublicKey root_key, HessraKeyPair prefix_kp, const char *prefix, _Out_ void **out_token, _Out_ HessraError *out_error)',
  // identity tokens
  hessra_identity_verify:
    'int hessra_identity_verify(HessraConfig config, HessraPublicKey key, const char *key_id, const uint8_t *token, size_t token_len, const HessraIdentityRequest *request, _Out_ void **out_json, _Out_ HessraError *out_error)',
  hessra_identity_mint:
    'int hessra_identity_mint(HessraKeyPair kp, const HessraIdentityMintRequest *request, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_identity_delegate:
    'int hessra_identity_delegate(HessraToken token, HessraPublicKey root_key, const char *identity, int64_t expires_at, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_identity_jit:
    'int hessra_identity_jit(HessraToken token, HessraPublicKey root_key, int64_t expires_at, _Out_ void **out_token, _Out_ HessraError *out_error)',
} as const

export type FnName = keyof typeof PROTOTYPES
export type NativeFn = (...args: unknown[]) => unknown
