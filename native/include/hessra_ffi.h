/*
 * hessra_ffi.h — C interface to the hessra engine: Biscuit token parsing,
 * signature verification, Datalog authorization, the Hessra verification
 * rules, and a small token dev kit (keys, minting, attenuation).
 *
 * Conventions (they hold for every function below unless it says otherwise):
 *
 *  - Handles (HessraToken, HessraPublicKey, HessraConfig, HessraKeyPair) are
 *    opaque pointers. Every handle written to an `out_*` parameter belongs to
 *    the caller and is released with exactly one call to its *_free function.
 *    *_free functions accept NULL and do nothing.
 *  - Every `char*` written to an `out_*` parameter is a NUL-terminated UTF-8
 *    string owned by the caller, released with hessra_string_free().
 *    HessraError.message is released with hessra_error_free().
 *  - On failure, `out_*` parameters are set to NULL (when non-NULL) and
 *    nothing needs freeing.
 *  - A required pointer argument that is NULL, or a string that is not valid
 *    UTF-8, gives HESSRA_ERROR_INVALID_PARAMETER.
 *  - Setters copy their inputs; the caller keeps ownership of what it passes.
 *  - Error messages never contain the token.
 *  - Thread safety: any function may be called from several threads at once
 *    on distinct handles. HessraPublicKey, HessraKeyPair and HessraConfig may
 *    be shared read-only across threads (HessraConfig's verification cache is
 *    internally synchronised). A HessraToken must not be used by two threads
 *    at once.
 *  - No function aborts the process: a panic inside the engine is caught and
 *    reported as HESSRA_ERROR_INTERNAL.
 *
 * Strings accepted as public keys: PEM SubjectPublicKeyInfo, "ed25519/<hex>",
 * "secp256r1/<hex>" (33-byte compressed or 65-byte uncompressed SEC1), or
 * bare hex of 32 bytes (Ed25519). Tokens: URL-safe base64 with or without
 * '=' padding; surrounding whitespace and a "Bearer " prefix are ignored.
 */
#ifndef HESSRA_FFI_H
#define HESSRA_FFI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct HessraToken_s* HessraToken;
typedef struct HessraConfig_s* HessraConfig;
typedef struct HessraPublicKey_s* HessraPublicKey;
typedef struct HessraKeyPair_s* HessraKeyPair;

typedef enum {
    HESSRA_SUCCESS = 0,
    HESSRA_ERROR_INVALID_TOKEN = 1,        /* not a token: encoding, protobuf, block format */
    HESSRA_ERROR_INVALID_KEY = 2,          /* key text or bytes not understood */
    HESSRA_ERROR_VERIFICATION_FAILED = 3,  /* bad signature, or a check/policy denied */
    HESSRA_ERROR_CONFIG_INVALID = 4,       /* configuration missing, malformed or incomplete */
    HESSRA_ERROR_MEMORY = 5,
    HESSRA_ERROR_IO = 6,                   /* a file could not be read or written */
    HESSRA_ERROR_INVALID_PARAMETER = 7,    /* NULL, invalid UTF-8, bad JSON/Datalog argument */
    HESSRA_ERROR_EXPIRED = 8,              /* only time bounds failed */
    HESSRA_ERROR_LIMIT_EXCEEDED = 9,       /* size, block count, facts, iterations or time limit */
    HESSRA_ERROR_INTERRUPTED = 10,         /* the interrupt check asked to stop (see
                                              hessra_set_interrupt_check) */
    HESSRA_ERROR_REVOKED = 11,             /* authentic, but a block's revocation id is in the
                                              configuration's revocation list (hessra_verify,
                                              hessra_config_verify_token_string,
                                              hessra_config_verified_subject; the seed function
                                              hessra_token_verify_with_config says
                                              VERIFICATION_FAILED) */
    HESSRA_ERROR_REVOCATION_LOOKUP = 12,   /* the host's revocation lookup failed (see
                                              hessra_config_set_revocation_lookup): whether
                                              the token is revoked is unknown; nothing was
                                              cached */
    HESSRA_ERROR_INTERNAL = 99
} HessraResult;

typedef struct {
    HessraResult code;
    char* message; /* owned by the caller: hessra_error_free(); may be NULL */
} HessraError;

typedef enum {
    HESSRA_ALGORITHM_ED25519 = 0,
    HESSRA_ALGORITHM_SECP256R1 = 1
} HessraAlgorithm;

/* ------------------------------------------------------------------------ */
/* Seed interface                                                           */
/* ------------------------------------------------------------------------ */

/* Decodes a token (base64url text). Signatures are not checked here; they are
 * checked by every verify/authorize call. Errors: INVALID_PARAMETER,
 * INVALID_TOKEN, LIMIT_EXCEEDED (larger than 1 MiB or more than 1024 blocks). */
HessraResult hessra_token_parse(const char* token_string, HessraToken* out_token);

/* As hessra_token_parse; out_error (may be NULL) receives why the text is
 * not a token, without quoting it: the base64 problem and its position
 * ("token is not valid base64url: invalid character '.' at position 36"),
 * the protobuf message and field that does not decode ("malformed token:
 * ..."), or the size limit that was exceeded. */
HessraResult hessra_token_parse_with_error(const char* token_string, HessraToken* out_token,
        HessraError* out_error);

/* Verifies signatures with public_key and the Hessra rules in identity mode
 * for `subject` on `resource`, accepting any operation the token grants,
 * at the current time. Errors: INVALID_PARAMETER, VERIFICATION_FAILED,
 * EXPIRED, LIMIT_EXCEEDED. */
HessraResult hessra_token_verify(HessraToken token, HessraPublicKey public_key,
                                 const char* subject, const char* resource);

void hessra_token_free(HessraToken token);

/* Parses a public key from text (see the formats above). Errors:
 * INVALID_PARAMETER, INVALID_KEY. */
HessraResult hessra_public_key_from_string(const char* key_string, HessraPublicKey* out_key);

/* Reads a file holding a public key in any text format (at most 64 KiB).
 * Errors: INVALID_PARAMETER, IO, INVALID_KEY. */
HessraResult hessra_public_key_from_file(const char* file_path, HessraPublicKey* out_key);

void hessra_public_key_free(HessraPublicKey key);

/* An empty configuration (no keys; verification with it fails with
 * CONFIG_INVALID until a key is set). */
HessraResult hessra_config_new(HessraConfig* out_config);

/* Reads the JSON configuration format ("version": 1) from a file of at most
 * 1 MiB. A relative public_key_file is resolved against the file's
 * directory. Errors: INVALID_PARAMETER, IO (the file or a key file cannot be
 * read), CONFIG_INVALID (the message names the offending field, e.g.
 * "keys[1].public_key: ..."). */
HessraResult hessra_config_from_file(const char* file_path, HessraConfig* out_config);

/* As hessra_config_from_file; out_error (may be NULL) receives the message:
 * the offending field and what is wrong with it ("keys[1].public_key:
 * invalid key: ...", "limits.max_facts: expected an integer, found
 * string"), the JSON syntax error with its line and column, or the file
 * that cannot be read and why. The message never quotes the file's content
 * beyond field names. */
HessraResult hessra_config_from_file_with_error(const char* file_path, HessraConfig* out_config,
        HessraError* out_error);

/* As hessra_config_from_file_with_error for a file that decides what a
 * server trusts: the configuration file and every public_key_file it names
 * must be a regular file owned by one of the owner_count uids in owner_uids
 * and not writable by group or others, or the call fails with IO and a
 * message naming the file, what is wrong (type, owner, mode) and the fix.
 * Each file is checked before it is opened and again once open. Errors as
 * hessra_config_from_file_with_error; INVALID_PARAMETER when owner_uids is
 * NULL or owner_count is 0. */
HessraResult hessra_config_from_trusted_file(const char* file_path, const uint32_t* owner_uids,
        size_t owner_count, HessraConfig* out_config, HessraError* out_error);

/* The same trust rule for a caller that reads a configuration file itself
 * (the CLI reads JSON, YAML and package.json): *out_text (free with
 * hessra_string_free) receives the content of file_path, which must be a
 * regular file owned by one of the owner_count uids in owner_uids and not
 * writable by group or others, checked before it is opened (a FIFO or a
 * device is never opened), opened without blocking, and checked again once
 * open; at most max_bytes bytes of UTF-8 (a NUL byte reads as U+FFFD).
 * Errors: INVALID_PARAMETER (owner_uids NULL or owner_count 0), IO (missing,
 * unreadable, not a regular file, wrong owner or mode: the message names the
 * file, what is wrong and the fix), CONFIG_INVALID (larger than max_bytes,
 * not UTF-8). */
HessraResult hessra_trusted_file_read(const char* file_path, const uint32_t* owner_uids,
        size_t owner_count, uint64_t max_bytes, char** out_text, HessraError* out_error);

/* As hessra_config_from_string, with every public_key_file and
 * revocation_file the configuration names held to the trust rule of
 * hessra_config_from_trusted_file (owner_uids). On failure *out_config is
 * NULL and *out_problem_json (may be NULL: not wanted) is
 * {"field":"..","message":".."} as for hessra_config_check. Errors:
 * INVALID_PARAMETER, CONFIG_INVALID, IO (a named file is missing,
 * unreadable or untrusted). */
HessraResult hessra_config_from_string_trusted(const char* json, const uint32_t* owner_uids,
        size_t owner_count, HessraConfig* out_config, char** out_problem_json);

/* Adds or replaces the key stored under key_id (copied). The first key set
 * becomes the default key when the configuration names none. */
HessraResult hessra_config_set_public_key(HessraConfig config, const char* key_id, HessraPublicKey key);

/* Looks a key up by id; *out_key is a new handle (free it). Errors:
 * INVALID_PARAMETER, CONFIG_INVALID (no such key). */
HessraResult hessra_config_get_public_key(HessraConfig config, const char* key_id, HessraPublicKey* out_key);

void hessra_config_free(HessraConfig config);

/* Static English text for a result code; never NULL, never freed. */
const char* hessra_error_message(HessraResult result);

/* Frees HessraError.message (or any message string from this library). */
void hessra_error_free(char* error_message);

/* ------------------------------------------------------------------------ */
/* Extensions                                                               */
/* ------------------------------------------------------------------------ */

/* Library version, e.g. "0.1.0"; static, never freed. */
const char* hessra_version(void);

/* Installs a process-global interrupt check (NULL removes it). Every
 * authorization polls it together with its time limit, which it checks
 * after each bounded amount of work (tens of microseconds: the engine
 * accounts for set, string, array and map sizes, comparisons, closures and
 * regex matches), so a call stops within a few milliseconds once `check`
 * returns non-zero. The call then fails with HESSRA_ERROR_INTERRUPTED (or,
 * for hessra_token_authorize, returns it with "kind":"interrupted" in the
 * JSON); nothing about the token is concluded and nothing is cached.
 *
 * `check` is called on the thread doing the work, possibly many thousand
 * times a second: it must be fast, must not call back into this library,
 * and must RETURN — never longjmp or throw across the engine's frames. In
 * PostgreSQL it only reads QueryCancelPending/ProcDiePending; the caller
 * runs CHECK_FOR_INTERRUPTS() after the engine has returned. */
void hessra_set_interrupt_check(int (*check)(void));

/* Decodes a token from raw protobuf bytes (or from base64 text passed as
 * bytes). Same errors as hessra_token_parse. */
HessraResult hessra_token_parse_bytes(const uint8_t* data, size_t len, HessraToken* out_token);

/* Like hessra_token_verify with an explicit operation (NULL: any granted). */
HessraResult hessra_token_verify_operation(HessraToken token, HessraPublicKey public_key,
        const char* subject, const char* resource, const char* operation);

typedef struct {
    const char* subject;            /* NULL: capability mode */
    const char* resource;           /* required */
    const char* operation;          /* NULL: any granted operation */
    const char* domain;             /* optional */
    const char* prefix;             /* optional */
    int64_t now;                    /* unix seconds; 0 = current time; < 0 is INVALID_PARAMETER */
    int64_t leeway_seconds;         /* tolerated clock skew: time bounds are checked
                                       against now - leeway_seconds (>= 0; for
                                       hessra_verify, HESSRA_LEEWAY_UNSET too) */
    const char* service_chain_json; /* optional: [{"component":..,"public_key":..}] */
    const char* component;          /* optional */
} HessraVerifyRequest;

/* The full Hessra verification. out_error (may be NULL) receives a message
 * saying what failed: the failing check and its block, or the expiry bound
 * ("expired at 2026-11-26T10:00:00Z (unix 1764151200): block 0 check 1
 * failed: check if time($t), $t < 1764151200"). A component that is not in
 * the service chain gives INVALID_PARAMETER; a malformed service_chain_json
 * too. */
HessraResult hessra_token_verify_request(HessraToken token, HessraPublicKey public_key,
        const HessraVerifyRequest* request, HessraError* out_error);

/* Picks the key by the token's root key id when the configuration maps one,
 * else the default key (CONFIG_INVALID when there is none); uses the
 * configuration's leeway when the request's is 0 (with these seed functions
 * 0 reads as "not given"; hessra_verify can say an explicit 0), its domain when the
 * request has none, its service chain for the resource when the request has
 * no service_chain_json, its limits (LIMIT_EXCEEDED for a token larger than
 * max_token_bytes) and its verification cache. */
HessraResult hessra_token_verify_with_config(HessraToken token, HessraConfig config,
        const HessraVerifyRequest* request, HessraError* out_error);

/* General Biscuit authorization with authorizer Datalog (facts, rules,
 * checks, policies). On HESSRA_SUCCESS *out_result_json is
 *   {"authorized":true|false,"policy":N|null,"policy_kind":"allow"|"deny"|null,
 *    "error":null|{"kind":..,"message":..,
 *    "failed_checks":[{"block":N|null,"check":N,"rule":"..","rule_bytes":N,"truncated":bool}]}}
 * ("rule" as for hessra_verify's "failed_checks"; "kind" is one of "unauthorized", "no_matching_policy", "run_limit",
 * "execution", "invalid_block_rule", "interrupted"; "policy" is the index of the allow or
 * deny policy that matched, and "policy_kind" says which of the two it is:
 * "allow" when authorized, and when not authorized because an allow policy
 * matched but checks failed; "deny" when a deny policy matched; null exactly
 * when "policy" is null) and the return code says whether it was
 * authorized (SUCCESS) or not
 * (VERIFICATION_FAILED, LIMIT_EXCEEDED, INTERRUPTED); the JSON is written in both cases
 * once the signatures are valid. Errors before that: INVALID_PARAMETER
 * (authorizer does not parse: message has line and column), VERIFICATION_FAILED
 * (bad signature), INVALID_TOKEN. */
HessraResult hessra_token_authorize(HessraToken token, HessraPublicKey root_key,
        const char* authorizer_datalog, char** out_result_json, HessraError* out_error);

/* Decodes without checking signatures. JSON:
 *   {"verified":false,"root_key_id":N|null,"sealed":bool,"revocation_ids":["hex",..],
 *    "blocks":[{"index":N,"code":"..","code_bytes":N,"truncated":bool,"symbols":[..],
 *               "public_keys":[..],"external_key":"ed25519/.."|null,"version":N,
 *               "context":".."|null,"expires_at":N|null}],
 *    "rights":[{"subject":..,"resource":..,"operation":..}],"expires_at":N|null,
 *    "expires_at_rfc3339":".."|null,"service_nodes":[{"component":..,"public_key":..}],
 *    "classification":{"kind":"identity"|"authorization"|"other",
 *      "structure":{"type":"base"|"delegated"|"service_chain"|"multi_party"|
 *                   "time_attenuated"|"prefix_restricted"|"attenuated"|"mixed",
 *                   "depth":N (delegated) | "nodes":N (service_chain) | "parties":N (multi_party)},
 *      "blocks":[{"index":N,"role":"authority"|"delegation"|"service_attestation"|
 *                 "multi_party_attestation"|"prefix_restriction"|"time_attenuation"|"other",
 *                 "identity"|"service"|"namespace"|"prefix":..  (by role)}],
 *      "base_identity":".."|null,"identity":".."|null,"delegatable":bool|null,"domain":".."|null}}
 * rights and service_nodes come from the authority block; expires_at is the
 * earliest `check if time($t), $t < N` bound of any block (a block's own
 * expires_at: of its checks). "classification"
 * is read from the blocks' Datalog: "kind" identity when the authority block
 * holds subject(S) and an actor check, authorization when it holds right
 * facts; a delegation block restricts the actor, an attestation is a
 * third-party block holding service(R) or namespace(NS); "identity" is the
 * narrowest delegated identity (the base subject when not delegated).
 * "code" is kept up to 1 MiB for all the blocks together (each block gets
 * what the earlier ones left): beyond, it is cut at a character boundary and
 * ends with " ... [N bytes, truncated]", "truncated" is true and
 * "code_bytes" is the size of the whole rendering. Rendering charges the
 * engine's work meter: it stops with INTERRUPTED when the interrupt check
 * asks (see hessra_set_interrupt_check) and with LIMIT_EXCEEDED after the
 * default time limit. Errors: INVALID_TOKEN, LIMIT_EXCEEDED (also: the
 * blocks decode to more than 32 times the token's size, and 16 MiB, of
 * text), INTERRUPTED. */
HessraResult hessra_token_inspect(HessraToken token, char** out_json);

/* As hessra_token_inspect, after checking every signature with root_key
 * ("verified":true). Errors: VERIFICATION_FAILED, INVALID_TOKEN. */
HessraResult hessra_token_inspect_verified(HessraToken token, HessraPublicKey root_key, char** out_json);

/* As hessra_token_inspect_verified, saying in out_error why it failed: for
 * VERIFICATION_FAILED the verifier's reason for status "invalid" (which
 * block's signature, never the token). */
HessraResult hessra_token_inspect_verified_with_error(HessraToken token, HessraPublicKey root_key,
        char** out_json, HessraError* out_error);

void hessra_string_free(char* s);

/* The token as URL-safe base64 with padding. */
HessraResult hessra_token_to_string(HessraToken token, char** out_token_string);

/* The root key id stored in the token, or -1 when there is none (or the
 * token is NULL). */
int64_t hessra_token_root_key_id(HessraToken token);

/* ---- public keys and key pairs ---- */

/* "ed25519/<hex>" or "secp256r1/<hex>" (compressed). */
HessraResult hessra_public_key_to_string(HessraPublicKey key, char** out_string);
/* PEM SubjectPublicKeyInfo. */
HessraResult hessra_public_key_to_pem(HessraPublicKey key, char** out_pem);
/* The key's algorithm; (HessraAlgorithm)-1 for a NULL key. */
HessraAlgorithm hessra_public_key_algorithm(HessraPublicKey key);

/* A fresh key pair from the system CSPRNG. */
HessraResult hessra_keypair_generate(HessraAlgorithm algorithm, HessraKeyPair* out_keypair);
/* PEM PKCS#8 private key ("BEGIN PRIVATE KEY"), or "ed25519-private/<hex>",
 * "secp256r1-private/<hex>". Errors: INVALID_KEY. */
HessraResult hessra_keypair_from_string(const char* private_key, HessraKeyPair* out_keypair);
HessraResult hessra_keypair_from_file(const char* file_path, HessraKeyPair* out_keypair);
/* PEM PKCS#8. The returned string holds a secret: free it promptly. */
HessraResult hessra_keypair_to_pem(HessraKeyPair keypair, char** out_pem);
HessraResult hessra_keypair_public_key(HessraKeyPair keypair, HessraPublicKey* out_key);
/* Zeroes the secret before releasing it. */
void hessra_keypair_free(HessraKeyPair keypair);

/* ---- configuration ---- */

/* Parses configuration JSON from a string (same format and errors as
 * hessra_config_from_file; relative key files resolve against the working
 * directory). */
HessraResult hessra_config_from_string(const char* json, HessraConfig* out_config);
/* As hessra_config_from_string, with the message in out_error (may be NULL),
 * as hessra_config_from_file_with_error. */
HessraResult hessra_config_from_string_with_error(const char* json, HessraConfig* out_config,
        HessraError* out_error);
/* Checks configuration JSON (as hessra_config_from_string). SUCCESS when it
 * is usable; else CONFIG_INVALID or IO with *out_problem_json =
 * {"field":"keys[1].public_key","message":".."} ("field" is "" for the
 * document itself): the problem as data, for tools that point at the field. */
HessraResult hessra_config_check(const char* json, char** out_problem_json);
/* The key hessra_verify would use: key_id's when not NULL, else the key for
 * root_key_id (< 0: none; see hessra_token_root_key_id), else the default
 * key. *out_key_id (may be NULL: not wanted) is its id. Errors:
 * CONFIG_INVALID (no such key, no default key), INVALID_PARAMETER. */
HessraResult hessra_config_select_key(HessraConfig config, int64_t root_key_id, const char* key_id,
        HessraPublicKey* out_key, char** out_key_id, HessraError* out_error);
/* The number of keys in the configuration, or -1 for NULL. */
int64_t hessra_config_key_count(HessraConfig config);
/* Summary JSON: {"default_key":..,"keys":[{"id":..,"public_key":..,"root_key_id":N|null,
 *  "source":"file"|"database"}],
 *  "domain":..,"leeway_seconds":N,"limits":{..},"service_chains":{..},"cache_size":N,
 *  "revoked_id_count":N,"revocation_file":".."|null}
 * Revocation: the configuration's "revoked_ids" (hex revocation ids, as
 * hessra_token_inspect's "revocation_ids") and the lines of its
 * "revocation_file" (one id per line; blank lines and "#" comments ignored;
 * at most 8 MiB; a relative path resolves as public_key_file does, and the
 * file is held to the same trust rules). A file that cannot be read makes
 * the configuration unusable (IO): the list fails closed. A token is revoked
 * when any of its blocks' revocation ids is listed (its authority block's id
 * revokes it and every token attenuated from it). */
HessraResult hessra_config_describe(HessraConfig config, char** out_json);
/* Size of the verification cache of parsed, signature-checked tokens
 * (default 1024 entries; 0 disables it; at most 16777216, else
 * INVALID_PARAMETER). Clears the cache. The cache is also bounded in memory,
 * at 1800 bytes per entry of capacity (1 843 200 bytes at the default), by an
 * estimate of what each decoded token holds: least recently used tokens are
 * evicted to stay within both bounds (about 750 typical Hessra tokens of
 * ~300 bytes fit at the default size; large tokens evict more), and a token
 * heavier than the whole budget is verified but not cached. */
HessraResult hessra_config_set_cache_size(HessraConfig config, size_t capacity);

typedef struct {
    uint64_t verifications;   /* verify calls made with this configuration */
    uint64_t cache_hits;      /* signature checks skipped thanks to the cache */
    uint64_t cache_misses;
    uint64_t cache_entries;
    uint64_t cache_capacity;
} HessraCacheStats;
HessraResult hessra_config_cache_stats(HessraConfig config, HessraCacheStats* out_stats);

/* ---- trust a host adds to a configuration (the PostgreSQL extension's tables) ---- */

/* Adds a trusted key kept outside the configuration file (a database's table
 * of keys), by one rule: keys = the configuration's plus the added ones; a key
 * id or root_key_id (< 0: none; at most 2^32-1) already configured is an
 * error (CONFIG_INVALID, the message names the key and where the other one
 * comes from); is_default != 0 makes it the default key (a second added
 * default is an error); without a default from either, the first key added
 * is the default. public_key is any accepted key text (INVALID_PARAMETER for
 * NULL; an unparseable key is CONFIG_INVALID, its text never echoed).
 * hessra_config_describe lists it with "source":"database". Clears the
 * cache. out_error may be NULL. */
HessraResult hessra_config_add_key(HessraConfig config, const char* key_id, const char* public_key,
        int64_t root_key_id, int is_default, HessraError* out_error);

/* A host's list of revoked block ids: called by the verifier after a token's
 * signatures verified (so never for a forged token), block by block in order
 * for each block id the configuration's own revoked_ids / revocation_file do
 * not list, until one is revoked. It looks revocation_id (a block's
 * signature bytes, revocation_id_len of them; the hex of those bytes is what
 * hessra_token_inspect shows) up, sets *out_revoked to 1 (revoked) or 0 and
 * returns 0; any other return value means it could not tell: the
 * verification then fails with HESSRA_ERROR_REVOCATION_LOOKUP (never "not
 * revoked") and the verdict is not cached. A verdict is kept with the
 * token's cache entry until the cache is cleared (by
 * hessra_config_set_revocation_lookup, hessra_config_set_cache_size,
 * hessra_config_add_key) or the configuration is freed: a host whose list
 * changed starts a new configuration or clears the cache. The function must
 * return normally: never longjmp or throw across the engine (a host with
 * such errors, like PostgreSQL's ereport, catches them itself and returns
 * non-zero). It runs on the verifying thread; a host verifying on several
 * threads makes it thread-safe. */
typedef int (*HessraRevocationLookup)(void* context, const uint8_t* revocation_id,
        size_t revocation_id_len, int* out_revoked);
/* Sets the lookup (NULL removes it) and the context handed to it; clears
 * the cache. INVALID_PARAMETER for a NULL configuration. */
HessraResult hessra_config_set_revocation_lookup(HessraConfig config, HessraRevocationLookup lookup,
        void* context);

/* *out_changed = 1 when a file the configuration was read from (the file
 * itself, its public_key_files, its revocation_file) is no longer what was
 * read: written, replaced, its mode or owner changed, or gone; else 0 (also
 * for a configuration not read from files). One stat() per file: a host
 * calls it, e.g. once per statement, to read the configuration again. */
HessraResult hessra_config_files_changed(HessraConfig config, int* out_changed);

/* Parse + verify in one call, through the configuration's cache (keyed by a
 * hash of the token text and the chosen key). The hot path of the PostgreSQL
 * extension. Errors as hessra_token_verify_with_config, plus INVALID_TOKEN. */
HessraResult hessra_config_verify_token_string(HessraConfig config, const char* token_string,
        const HessraVerifyRequest* request, HessraError* out_error);

/* ---- the verifier: one call, one structured outcome ---- */

/* request->leeway_seconds for hessra_verify: "not given", i.e. the
 * configuration's leeway_seconds (0 without a configuration). Any value
 * >= 0 is explicit and wins over the configuration, 0 included. */
#define HESSRA_LEEWAY_UNSET ((int64_t) -1)

/* Verifies a token for a request and says everything about the answer.
 * Every front end (CLI, Node library, PostgreSQL extension) asks this.
 *   config      may be NULL (then public_key is required); else its keys,
 *               domain, leeway, service chains, limits and cache are used.
 *   public_key  the key to verify with, or NULL: key_id, else the configured
 *               key for the token's root key id, else the default key.
 *   key_id      a configured key id, or NULL. Not both public_key and key_id.
 *   token       token_len bytes: base64url text (surrounding and embedded
 *               whitespace, a "Bearer " and a "biscuit:" prefix and padding
 *               are accepted) or a raw token (detected).
 *   request     as for hessra_token_verify_request, except leeway_seconds
 *               (see HESSRA_LEEWAY_UNSET); domain NULL: the configuration's;
 *               service_chain_json NULL: the configuration's chain for the
 *               resource.
 * When the token could be judged, *out_outcome_json (may be NULL: not
 * wanted) is
 *   {"status":"valid"|"denied"|"expired"|"invalid"|"malformed"|"revoked",
 *    "code":null|"denied"|"expired"|"limit_exceeded"|"invalid_signature"|"invalid_token"|"revoked",
 *    "reason":null|"..",
 *    "failed_checks":[{"block":N|null,"check":N,"rule":"..","rule_bytes":N,"truncated":bool}],
 *    "expired_at":N|null,
 *    "key":{"id":".."|null,"origin":"given"|"key_id"|"root_key_id"|"default_key"}|null,
 *    "checked_at":N,"leeway_seconds":N,
 *    "subject":".."|null,"root_key_id":N|null,"expires_at":N|null,
 *    "rights":[{"subject":..,"resource":..,"operation":..}],
 *    "token_kind":null|"identity"|"authorization"|"other",
 *    "revoked":null|{"block":N,"revocation_id":"hex"}}
 * status "invalid": a signature does not verify with the key (forged, or the
 * wrong key); "malformed": not a token; "revoked": the signatures verify but
 * the revocation id of block "revoked.block" is in the configuration's
 * revocation list (checked before the rules). More statuses may be added:
 * treat an unknown one as not valid. "reason" renders the
 * failure (the same text as out_error); "failed_checks" (block null: an
 * authorizer check) is empty unless denied or expired; a check's "rule" text
 * is kept up to 4 KiB, and up to 64 KiB for all the failed checks together:
 * beyond, it is cut at a character boundary and ends with
 * " ... [N bytes, truncated]", "truncated" is true and "rule_bytes" is the
 * size of the whole rendering; "expired_at" is the
 * time bound that failed (expired only); "key" is null when the token did
 * not decode; "subject" is the subject the token is verified for (capability
 * mode: the one its rights name for the resource), null unless valid;
 * "expires_at" (the token's earliest time bound), "rights" (the authority
 * block's) and "token_kind" (what the authority block makes it) are only
 * given once the signatures verified (else null / [] / null). An identity
 * token verified here is denied with the reason "not an authorization
 * token" (its actor check refuses any subject).
 * The return code follows the outcome: SUCCESS (valid), VERIFICATION_FAILED
 * (denied, invalid), REVOKED, EXPIRED, LIMIT_EXCEEDED (a Datalog limit, or a token
 * larger than limits.max_token_bytes: status "denied"; a token whose blocks
 * decode to more than 32 times its size, and 16 MiB, of text: status
 * "malformed"), INVALID_TOKEN (malformed). Errors without an outcome (*out_outcome_json NULL):
 * INVALID_PARAMETER (bad arguments, an unknown component), CONFIG_INVALID
 * (no key to verify with, unknown key_id). */
HessraResult hessra_verify(HessraConfig config, HessraPublicKey public_key, const char* key_id,
        const uint8_t* token, size_t token_len, const HessraVerifyRequest* request,
        char** out_outcome_json, HessraError* out_error);

/* The subject the token is verified for now, through the configuration's
 * cache (its signatures are checked once): for each right(subject, resource,
 * operation) fact of the authority block — only those whose resource equals
 * request->resource and whose operation equals request->operation, when
 * these are non-NULL — the verification of hessra_verify in identity mode
 * for that subject, resource and operation (request->now, leeway, domain,
 * prefix, service chain and component as given, with the configuration's
 * defaults; leeway_seconds as for hessra_verify: HESSRA_LEEWAY_UNSET is the
 * configuration's, 0 is an explicit 0). request->subject is ignored. On HESSRA_SUCCESS
 * *out_subject is the subject when the rights that verify name exactly one
 * distinct subject, else NULL (none verifies, or several subjects do:
 * ambiguous). Each right evaluated counts as a verification in
 * HessraCacheStats. Errors (*out_subject NULL): INVALID_PARAMETER,
 * INVALID_TOKEN, REVOKED (a block's revocation id is listed), LIMIT_EXCEEDED (token larger than max_token_bytes),
 * VERIFICATION_FAILED (signatures do not verify with the configured key),
 * CONFIG_INVALID. The hessra_current_subject() of the PostgreSQL extension. */
HessraResult hessra_config_verified_subject(HessraConfig config, const char* token_string,
        const HessraVerifyRequest* request, char** out_subject, HessraError* out_error);

/* ---- what a token grants, and its claims ---- */

/* The resources the token verifies for request->operation now, through the
 * configuration's keys, defaults, limits and cache. Candidates are the
 * right(subject, resource, operation) facts of the authority block (what the
 * root key signed; rights in later blocks or derived by rules are never
 * candidates), those of request->operation (NULL: any operation) and, when
 * request->subject is given, of that subject (NULL: capability mode, any
 * subject, as hessra_row_security). Each candidate resource is then verified
 * in full as hessra_verify verifies it (time with leeway, revocation, every
 * block's checks: an attenuated copy narrowed to one resource grants only
 * that one; domain, prefix, component; service_chain_json NULL: the
 * configuration's chain of that resource — a component not in a
 * resource's chain makes that resource not granted). request->resource is
 * ignored (may be NULL); now and leeway_seconds as for hessra_verify.
 * Bounded: at most limits.max_facts candidates (LIMIT_EXCEEDED beyond), one
 * limits.max_time deadline for all the runs (LIMIT_EXCEEDED, nothing
 * granted), a host interrupt stops it (INTERRUPTED, nothing written).
 * When the token was judged, *out_resources_json is a JSON array of the
 * granted resources, sorted by their bytes, each once: ["r1","r2"], and []
 * when nothing is granted. The return code: SUCCESS when at least one
 * resource is granted; otherwise why none is (out_error says it in words):
 * VERIFICATION_FAILED (no candidate right for the operation, every candidate
 * denied, or a forged signature), EXPIRED (the first candidate expired),
 * REVOKED, LIMIT_EXCEEDED, INVALID_TOKEN (not a token: nothing is written
 * when the text does not decode at all).
 * Errors without an answer: INVALID_PARAMETER, CONFIG_INVALID (no key to
 * verify with). Each candidate verified counts as a verification in
 * HessraCacheStats. The hessra_granted_resources() of the PostgreSQL
 * extension. */
HessraResult hessra_config_granted_resources(HessraConfig config, const char* token_string,
        const HessraVerifyRequest* request, char** out_resources_json, HessraError* out_error);

/* What the token says once verified with the configured key: an
 * authorization token holds when a right of its authority block verifies
 * now (each right for its own subject, resource and operation; request's
 * domain, prefix, service chain, component, now and leeway_seconds as for
 * hessra_verify; its subject, resource and operation are ignored), an
 * identity token when it proves its narrowest delegated identity
 * (request->domain applies, as for hessra_identity_verify). When the token
 * decoded, *out_claims_json is
 *   {"status":"valid"|"denied"|"expired"|"invalid"|"malformed"|"revoked",
 *    "kind":"authorization"|"identity"|"other"|null,
 *    "subject":".."|null, "identity":".."|null,
 *    "rights":[{"subject":..,"resource":..,"operation":..}],
 *    "expires_at":N|null, "root_key_id":N|null, "key_id":".."|null,
 *    "domain":".."|null, "revocation_ids":["hex",..], "blocks":N}
 * "subject" (authorization: the one subject the verified rights name, null
 * when several; identity: the token's subject), "identity" (identity tokens:
 * the identity proven) and "rights" (the rights that verify now) are only
 * given when valid; "kind", "expires_at" (the earliest time bound) and
 * "domain" (the authority block's `check if domain(D)`) once the signatures
 * verified; the key used, "root_key_id", "revocation_ids" (each block's,
 * authority first, as hessra inspect shows them) and "blocks" whatever the
 * status. The return code follows "status" as hessra_verify's does
 * (SUCCESS, VERIFICATION_FAILED, EXPIRED, REVOKED, LIMIT_EXCEEDED; a token
 * that holds no right or is of no Hessra kind is VERIFICATION_FAILED,
 * malformed INVALID_TOKEN); text that does not decode at all (INVALID_TOKEN),
 * INTERRUPTED, INVALID_PARAMETER and CONFIG_INVALID write nothing. The hessra_current_claims() of the
 * PostgreSQL extension, and its audit log's subject and revocation id. */
HessraResult hessra_config_claims(HessraConfig config, const char* token_string,
        const HessraVerifyRequest* request, char** out_claims_json, HessraError* out_error);

/* ---- token dev kit ---- */

/* Mints a token whose authority block is `authority_datalog`. params_json
 * (may be NULL) is a JSON object whose values replace {name} placeholders in
 * the Datalog (strings, integers, booleans, null; {"$bytes":"hex"} for
 * bytes; {"$date":unix|"RFC 3339"} for dates).
 * root_key_id < 0 means none. Errors: INVALID_PARAMETER (Datalog does not
 * parse: message has line and column), INVALID_KEY. */
HessraResult hessra_token_mint(HessraKeyPair root_keypair, const char* authority_datalog,
        const char* params_json, int64_t root_key_id, char** out_token, HessraError* out_error);

typedef struct {
    const char* subject;             /* required */
    const char* resource;            /* required */
    const char* operation;           /* required, unless operations_json */
    int64_t expires_at;              /* unix seconds; 0: no time bound */
    const char* domain;              /* optional */
    const char* service_nodes_json;  /* optional: [{"component":..,"public_key":..}] */
    int64_t root_key_id;             /* < 0: none */
    const char* operations_json;     /* instead of operation: ["read","write"] */
} HessraMintRequest;

/* Mints the Hessra token shape: right(S, R, O) for each operation (operation,
 * or each string of operations_json; giving both or neither is
 * INVALID_PARAMETER); the subject/resource/operation
 * check; check if time($t), $t < EXPIRY; check if domain(D); and one
 * node($s, C) <- service($s) trusting KEY rule per service node. */
HessraResult hessra_token_mint_hessra(HessraKeyPair root_keypair, const HessraMintRequest* request,
        char** out_token, HessraError* out_error);

/* Verifies the token with root_key, then appends a first-party block.
 * Errors: VERIFICATION_FAILED, INVALID_PARAMETER (Datalog), INVALID_TOKEN
 * (sealed token). */
HessraResult hessra_token_attenuate(HessraToken token, HessraPublicKey root_key,
        const char* block_datalog, const char* params_json, char** out_token, HessraError* out_error);

/* A third-party block request for the token's last block (base64url). */
HessraResult hessra_token_third_party_request(HessraToken token, char** out_request);

/* Signs a third-party block for a request with the node's key; returns the
 * block contents (base64url) to hand back to the token holder. */
HessraResult hessra_third_party_block_create(const char* request, HessraKeyPair node_keypair,
        const char* block_datalog, const char* params_json, char** out_block, HessraError* out_error);

/* Verifies the token with root_key, checks the block's external signature
 * against the token's last signature, and appends it. */
HessraResult hessra_token_append_third_party(HessraToken token, HessraPublicKey root_key,
        const char* block, char** out_token, HessraError* out_error);

/* Hessra service-chain attestation in one call: request, a third-party block
 * `service(RESOURCE)` signed by node_keypair, append. `resource` is the
 * resource the token grants (the first right's resource when NULL). */
HessraResult hessra_token_attest(HessraToken token, HessraPublicKey root_key,
        HessraKeyPair node_keypair, const char* resource, char** out_token, HessraError* out_error);

/* ---- multi-party and prefix-restricted tokens (Hessra's SDK shapes) ---- */

/* As hessra_token_mint_hessra, with the authority block's restrictions from
 * restrictions_json (required; every field optional):
 *   {"multi_party":[{"namespace":"NS","public_key":"KEY"}],"prefix_key":"KEY"|null}
 * adding, per party, check if namespace(NS) trusting KEY (the token is only
 * valid once that party attested, see hessra_token_attest_namespace), and
 * with prefix_key, check if prefix_added(true) trusting KEY (only valid once
 * narrowed by hessra_token_restrict_prefix, and then only for a request
 * whose prefix equals the one added). Verification needs nothing more: a
 * missing attestation is a denial whose failed check names it. Errors:
 * INVALID_PARAMETER (restrictions_json malformed: the message names the
 * field), INVALID_KEY, as hessra_token_mint_hessra. */
HessraResult hessra_token_mint_hessra_restricted(HessraKeyPair root_keypair, const HessraMintRequest* request,
        const char* restrictions_json, char** out_token, HessraError* out_error);

/* A party's attestation of a multi-party token: verifies the token with
 * root_key, then appends the third-party block `namespace(NS);` signed by
 * party_keypair. INVALID_PARAMETER when the token requires no attestation
 * for that namespace, or names another key for it. */
HessraResult hessra_token_attest_namespace(HessraToken token, HessraPublicKey root_key,
        HessraKeyPair party_keypair, const char* namespace_, char** out_token, HessraError* out_error);

/* Narrows a prefix-restricted token: verifies it with root_key, then
 * appends the third-party block `check if prefix(P); prefix_added(true);`
 * signed by prefix_keypair. INVALID_PARAMETER when the token is not
 * prefix-restricted or names another prefix key. */
HessraResult hessra_token_restrict_prefix(HessraToken token, HessraPublicKey root_key,
        HessraKeyPair prefix_keypair, const char* prefix, char** out_token, HessraError* out_error);

/* Seals the token (no block can be appended afterwards). */
HessraResult hessra_token_seal(HessraToken token, HessraPublicKey root_key,
        char** out_token, HessraError* out_error);

/* ---- identity tokens ---- */

/* Hessra identity tokens (see docs/DESIGN.md, "Identity tokens"): the
 * authority block holds subject(S), an actor check (`$a == S`, or when
 * delegatable `$a == S || $a.starts_with(S + ":")`), a time bound and,
 * domain-restricted, `check if domain(D)`. Delegation and just-in-time
 * blocks are third-party blocks signed by an ephemeral key. */

/* HessraIdentityRequest.actor: who the token must prove to be. */
typedef enum {
    HESSRA_IDENTITY_GIVEN = 0,     /* request.identity (actor(IDENTITY)) */
    HESSRA_IDENTITY_BEARER = 1,    /* the token's subject (actor($a) <- subject($a));
                                      a delegated token does not verify this way */
    HESSRA_IDENTITY_DELEGATED = 2  /* its narrowest delegated identity, else its subject */
} HessraIdentityActor;

typedef struct {
    int actor;                 /* a HessraIdentityActor */
    const char* identity;      /* required with HESSRA_IDENTITY_GIVEN, else NULL */
    const char* domain;        /* optional: domain(D); NULL: the configuration's */
    int subject_in_domain;     /* nonzero: the token's subject must belong to the domain */
    int64_t now;               /* unix seconds; 0 = current time; < 0 is INVALID_PARAMETER */
    int64_t leeway_seconds;    /* as for hessra_verify (HESSRA_LEEWAY_UNSET: the configuration's) */
} HessraIdentityRequest;

/* Verifies an identity token: as hessra_verify (config, public_key, key_id,
 * token, the outcome JSON and the return codes), with the authorizer
 * time(now - leeway), actor(...) per request->actor, domain(D) when given,
 * and `allow if true` (or, subject_in_domain, `allow if subject($d, $s),
 * domain($d), subject($s)`). A token that is not an identity token is
 * denied (status "denied", code "denied": without an actor check any
 * identity would pass). When valid, the outcome's "subject" is the identity
 * proven and "rights" is []. */
HessraResult hessra_identity_verify(HessraConfig config, HessraPublicKey public_key, const char* key_id,
        const uint8_t* token, size_t token_len, const HessraIdentityRequest* request,
        char** out_outcome_json, HessraError* out_error);

/* The identity the token proves now, through the configuration's keys,
 * defaults and cache: hessra_identity_verify with HESSRA_IDENTITY_DELEGATED
 * (request->actor and request->identity are ignored; domain,
 * subject_in_domain, now and leeway_seconds are read). On HESSRA_SUCCESS
 * *out_identity is its narrowest delegated identity (its subject when not
 * delegated). Otherwise *out_identity is NULL and the result code is the
 * outcome's (VERIFICATION_FAILED, EXPIRED, INVALID_TOKEN, REVOKED, LIMIT_EXCEEDED) or
 * an error (CONFIG_INVALID, INVALID_PARAMETER). The
 * hessra_current_identity() of the PostgreSQL extension. */
HessraResult hessra_config_verified_identity(HessraConfig config, const char* token_string,
        const HessraIdentityRequest* request, char** out_identity, HessraError* out_error);

typedef struct {
    const char* subject;       /* required: the identity, e.g. "urn:hessra:alice" */
    int delegatable;           /* nonzero: identities below it (subject + ":...") pass too */
    const char* domain;        /* optional: domain-restricted */
    int64_t expires_at;        /* unix seconds, > 0 */
    int64_t root_key_id;       /* < 0: none */
} HessraIdentityMintRequest;

/* Mints an identity token. Errors: INVALID_PARAMETER, INVALID_KEY. */
HessraResult hessra_identity_mint(HessraKeyPair root_keypair, const HessraIdentityMintRequest* request,
        char** out_token, HessraError* out_error);

/* Delegates an identity token to `identity` until expires_at (> 0): a
 * third-party block `check if actor($a), $a == ID || $a.starts_with(ID + ":");
 * check if time($time), $time < EXPIRES_AT;` signed by a fresh ephemeral key.
 * The result must verify for `identity` now, else INVALID_PARAMETER saying
 * why (not delegatable, not below the current identity, expired); also
 * INVALID_PARAMETER for a token that is not an identity token;
 * VERIFICATION_FAILED when root_key does not verify the token. */
HessraResult hessra_identity_delegate(HessraToken token, HessraPublicKey root_key,
        const char* identity, int64_t expires_at, char** out_token, HessraError* out_error);

/* Just-in-time: appends a third-party block `check if time($time), $time <
 * EXPIRES_AT;` signed by a fresh ephemeral key. Errors as
 * hessra_identity_delegate. */
HessraResult hessra_identity_jit(HessraToken token, HessraPublicKey root_key,
        int64_t expires_at, char** out_token, HessraError* out_error);

#ifdef __cplusplus
}
#endif

#endif /* HESSRA_FFI_H */
