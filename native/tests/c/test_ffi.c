/*
 * C test of the hessra_ffi.h ABI: every function, success and error paths
 * (NULL arguments, invalid UTF-8, garbage tokens, wrong keys, expired tokens,
 * configuration errors) and a threaded test. Built with
 *   cc -std=c99 -Wall -Wextra -Werror
 * and linked once against libhessra_ffi.so and once against libhessra_ffi.a;
 * run.sh runs both under valgrind.
 *
 * Usage: test_ffi SAMPLES_DIR   (the Biscuit conformance samples *.bc,
 * native/tests/data/biscuit-samples)
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hessra_ffi.h"

static int passed = 0;
static int failed = 0;

#define CHECK(cond, what)                                                        \
    do {                                                                         \
        if (cond) {                                                              \
            passed++;                                                            \
        } else {                                                                 \
            failed++;                                                            \
            fprintf(stderr, "FAIL %s:%d: %s  [%s]\n", __FILE__, __LINE__, what, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_CODE(got, want, what)                                              \
    do {                                                                         \
        HessraResult got_ = (got);                                               \
        if (got_ == (want)) {                                                    \
            passed++;                                                            \
        } else {                                                                 \
            failed++;                                                            \
            fprintf(stderr, "FAIL %s:%d: %s: got %d (%s), want %d\n", __FILE__,  \
                    __LINE__, what, (int)got_, hessra_error_message(got_), (int)(want)); \
        }                                                                        \
    } while (0)

static int contains(const char* haystack, const char* needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

static char* temp_file(const char* contents) {
    char* path = malloc(64);
    int fd;
    FILE* f;
    if (path == NULL) {
        return NULL;
    }
    strcpy(path, "/tmp/hessra-ffi-test-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        free(path);
        return NULL;
    }
    fputs(contents, f);
    fclose(f);
    return path;
}

static void remove_temp(char* path) {
    if (path != NULL) {
        unlink(path);
        free(path);
    }
}

static HessraVerifyRequest request(const char* subject, const char* resource, const char* operation) {
    HessraVerifyRequest r;
    memset(&r, 0, sizeof r);
    r.subject = subject;
    r.resource = resource;
    r.operation = operation;
    return r;
}

static HessraMintRequest mint_request(const char* subject, const char* resource, const char* operation,
                                      int64_t expires_at) {
    HessraMintRequest m;
    memset(&m, 0, sizeof m);
    m.subject = subject;
    m.resource = resource;
    m.operation = operation;
    m.expires_at = expires_at;
    m.root_key_id = -1;
    return m;
}

/* Mints a Hessra token and parses it into a handle. */
static HessraToken mint_token(HessraKeyPair kp, const HessraMintRequest* m) {
    char* text = NULL;
    HessraToken tok = NULL;
    HessraError err = {HESSRA_SUCCESS, NULL};
    if (hessra_token_mint_hessra(kp, m, &text, &err) != HESSRA_SUCCESS) {
        fprintf(stderr, "mint failed: %s\n", err.message ? err.message : "?");
        hessra_error_free(err.message);
        return NULL;
    }
    if (hessra_token_parse(text, &tok) != HESSRA_SUCCESS) {
        tok = NULL;
    }
    hessra_string_free(text);
    return tok;
}

static HessraToken parse_or_null(const char* text) {
    HessraToken t = NULL;
    if (text == NULL || hessra_token_parse(text, &t) != HESSRA_SUCCESS) {
        return NULL;
    }
    return t;
}

static int64_t now_s(void) {
    return (int64_t)time(NULL);
}

/* Copies the revocation id of the token's authority block (the first of
 * hessra_token_inspect's "revocation_ids") into buf; empty and 0 when there
 * is none or it does not fit. */
static int authority_revocation_id(HessraToken tok, char* buf, size_t size) {
    static const char key[] = "\"revocation_ids\":[\"";
    char* inspect = NULL;
    const char* at;
    const char* end;
    int ok = 0;
    buf[0] = '\0';
    if (tok == NULL || hessra_token_inspect(tok, &inspect) != HESSRA_SUCCESS) {
        return 0;
    }
    at = strstr(inspect, key);
    end = at ? strchr(at + strlen(key), '"') : NULL;
    if (end != NULL && (size_t)(end - (at + strlen(key))) < size) {
        memcpy(buf, at + strlen(key), (size_t)(end - (at + strlen(key))));
        buf[end - (at + strlen(key))] = '\0';
        ok = 1;
    }
    hessra_string_free(inspect);
    return ok;
}

/* ---------------------------------------------------------------------- */

static void test_static(void) {
    const int codes[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 99, 42, -1};
    size_t i;
    const char* v = hessra_version();
    CHECK(v != NULL && strlen(v) > 0, "hessra_version");
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char* m = hessra_error_message((HessraResult)codes[i]);
        CHECK(m != NULL && strlen(m) > 0, "hessra_error_message never NULL");
    }
    CHECK(contains(hessra_error_message(HESSRA_ERROR_EXPIRED), "expired"), "EXPIRED text");
    /* free functions accept NULL */
    hessra_token_free(NULL);
    hessra_public_key_free(NULL);
    hessra_config_free(NULL);
    hessra_keypair_free(NULL);
    hessra_string_free(NULL);
    hessra_error_free(NULL);
    CHECK(1, "free(NULL) is a no-op");
}

static void test_keys(void) {
    HessraKeyPair kp = NULL, kp2 = NULL, kp3 = NULL, p256 = NULL;
    HessraPublicKey pk = NULL, pk2 = NULL, pk3 = NULL, pk4 = NULL, bad = (HessraPublicKey)1;
    char *text = NULL, *pem = NULL, *priv = NULL, *text2 = NULL, *text3 = NULL, *text4 = NULL;
    char *path = NULL, *ppath = NULL;
    const char invalid_utf8[] = {'e', 'd', (char)0xff, (char)0xfe, 0};

    CHECK_CODE(hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp), HESSRA_SUCCESS, "generate ed25519");
    CHECK_CODE(hessra_keypair_generate(HESSRA_ALGORITHM_SECP256R1, &p256), HESSRA_SUCCESS, "generate p256");
    CHECK_CODE(hessra_keypair_generate((HessraAlgorithm)7, &kp2), HESSRA_ERROR_INVALID_PARAMETER, "generate bad alg");
    CHECK(kp2 == NULL, "out NULL on failure");
    CHECK_CODE(hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, NULL), HESSRA_ERROR_INVALID_PARAMETER, "generate NULL out");

    CHECK_CODE(hessra_keypair_public_key(kp, &pk), HESSRA_SUCCESS, "keypair_public_key");
    CHECK_CODE(hessra_keypair_public_key(NULL, &pk2), HESSRA_ERROR_INVALID_PARAMETER, "keypair_public_key NULL");
    CHECK(pk2 == NULL, "out NULL");
    CHECK(hessra_public_key_algorithm(pk) == HESSRA_ALGORITHM_ED25519, "algorithm ed25519");
    CHECK((int)hessra_public_key_algorithm(NULL) == -1, "algorithm NULL");

    CHECK_CODE(hessra_public_key_to_string(pk, &text), HESSRA_SUCCESS, "to_string");
    CHECK(text != NULL && strncmp(text, "ed25519/", 8) == 0 && strlen(text) == 8 + 64, "ed25519/<hex>");
    CHECK_CODE(hessra_public_key_to_string(NULL, &text2), HESSRA_ERROR_INVALID_PARAMETER, "to_string NULL key");
    CHECK_CODE(hessra_public_key_to_string(pk, NULL), HESSRA_ERROR_INVALID_PARAMETER, "to_string NULL out");
    CHECK_CODE(hessra_public_key_to_pem(pk, &pem), HESSRA_SUCCESS, "to_pem");
    CHECK(contains(pem, "-----BEGIN PUBLIC KEY-----"), "SPKI PEM");
    CHECK_CODE(hessra_public_key_to_pem(NULL, &text2), HESSRA_ERROR_INVALID_PARAMETER, "to_pem NULL");

    /* round trips */
    CHECK_CODE(hessra_public_key_from_string(text, &pk2), HESSRA_SUCCESS, "from_string text");
    CHECK_CODE(hessra_public_key_from_string(pem, &pk3), HESSRA_SUCCESS, "from_string PEM");
    CHECK_CODE(hessra_public_key_to_string(pk2, &text2), HESSRA_SUCCESS, "to_string 2");
    CHECK_CODE(hessra_public_key_to_string(pk3, &text3), HESSRA_SUCCESS, "to_string 3");
    CHECK(text2 && text3 && strcmp(text, text2) == 0 && strcmp(text, text3) == 0, "round trip equal");
    hessra_string_free(text3);
    text3 = NULL;
    /* bare hex = Ed25519 */
    CHECK_CODE(hessra_public_key_from_string(text + 8, &pk4), HESSRA_SUCCESS, "from_string bare hex");
    hessra_public_key_free(pk4);
    pk4 = NULL;

    /* errors */
    CHECK_CODE(hessra_public_key_from_string(
                   "ed25519/0200000000000000000000000000000000000000000000000000000000000000", &pk4),
               HESSRA_ERROR_INVALID_KEY, "ed25519 key not on the curve (y = 2)");
    CHECK(pk4 == NULL, "out NULL");
    CHECK_CODE(hessra_public_key_from_string(
                   "ed25519/0100000000000000000000000000000000000000000000000000000000000000", &pk4),
               HESSRA_ERROR_INVALID_KEY, "ed25519 key of small order (identity)");
    CHECK_CODE(hessra_public_key_from_string("ed25519/zz", &pk4), HESSRA_ERROR_INVALID_KEY, "bad hex");
    CHECK(pk4 == NULL, "out NULL");
    pk4 = bad;
    CHECK_CODE(hessra_public_key_from_string("", &pk4), HESSRA_ERROR_INVALID_KEY, "empty key");
    CHECK(pk4 == NULL, "out reset to NULL on failure");
    CHECK_CODE(hessra_public_key_from_string("secp256r1/0011", &pk4), HESSRA_ERROR_INVALID_KEY, "short p256");
    CHECK_CODE(hessra_public_key_from_string("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", &pk4),
               HESSRA_ERROR_INVALID_KEY, "bad PEM");
    CHECK_CODE(hessra_public_key_from_string(NULL, &pk4), HESSRA_ERROR_INVALID_PARAMETER, "NULL key string");
    CHECK_CODE(hessra_public_key_from_string(invalid_utf8, &pk4), HESSRA_ERROR_INVALID_PARAMETER, "invalid UTF-8");
    CHECK_CODE(hessra_public_key_from_string(text, NULL), HESSRA_ERROR_INVALID_PARAMETER, "NULL out");

    /* files */
    path = temp_file(pem);
    CHECK(path != NULL, "temp file");
    CHECK_CODE(hessra_public_key_from_file(path, &pk4), HESSRA_SUCCESS, "from_file");
    hessra_public_key_free(pk4);
    pk4 = NULL;
    CHECK_CODE(hessra_public_key_from_file("/nonexistent/hessra.pub", &pk4), HESSRA_ERROR_IO, "from_file missing");
    CHECK(pk4 == NULL, "out NULL");
    CHECK_CODE(hessra_public_key_from_file(NULL, &pk4), HESSRA_ERROR_INVALID_PARAMETER, "from_file NULL");

    /* P-256 */
    CHECK_CODE(hessra_keypair_public_key(p256, &pk4), HESSRA_SUCCESS, "p256 public");
    CHECK(hessra_public_key_algorithm(pk4) == HESSRA_ALGORITHM_SECP256R1, "algorithm p256");
    CHECK_CODE(hessra_public_key_to_string(pk4, &text4), HESSRA_SUCCESS, "p256 to_string");
    CHECK(text4 && strncmp(text4, "secp256r1/", 10) == 0 && strlen(text4) == 10 + 66, "secp256r1/<33 bytes>");

    /* private keys */
    CHECK_CODE(hessra_keypair_to_pem(kp, &priv), HESSRA_SUCCESS, "keypair_to_pem");
    CHECK(contains(priv, "PRIVATE KEY"), "PKCS#8 PEM");
    CHECK_CODE(hessra_keypair_from_string(priv, &kp2), HESSRA_SUCCESS, "keypair_from_string");
    hessra_public_key_free(pk2);
    pk2 = NULL;
    hessra_string_free(text2);
    text2 = NULL;
    CHECK_CODE(hessra_keypair_public_key(kp2, &pk2), HESSRA_SUCCESS, "public of reloaded");
    CHECK_CODE(hessra_public_key_to_string(pk2, &text2), HESSRA_SUCCESS, "to_string reloaded");
    CHECK(text2 && strcmp(text, text2) == 0, "private key round trip");
    ppath = temp_file(priv);
    CHECK_CODE(hessra_keypair_from_file(ppath, &kp3), HESSRA_SUCCESS, "keypair_from_file");
    hessra_keypair_free(kp3);
    kp3 = NULL;
    CHECK_CODE(hessra_keypair_from_file("/nonexistent/key.pem", &kp3), HESSRA_ERROR_IO, "keypair_from_file missing");
    CHECK_CODE(hessra_keypair_from_file(path, &kp3), HESSRA_ERROR_INVALID_KEY, "public key is not a private key");
    CHECK(kp3 == NULL, "out NULL");
    CHECK_CODE(hessra_keypair_from_string("ed25519-private/00", &kp3), HESSRA_ERROR_INVALID_KEY, "short private");
    CHECK_CODE(hessra_keypair_from_string(NULL, &kp3), HESSRA_ERROR_INVALID_PARAMETER, "NULL private");
    CHECK_CODE(hessra_keypair_to_pem(NULL, &text3), HESSRA_ERROR_INVALID_PARAMETER, "to_pem NULL");
    CHECK_CODE(hessra_keypair_to_pem(kp, NULL), HESSRA_ERROR_INVALID_PARAMETER, "to_pem NULL out");

    remove_temp(path);
    remove_temp(ppath);
    hessra_string_free(text);
    hessra_string_free(text2);
    hessra_string_free(text3);
    hessra_string_free(text4);
    hessra_string_free(pem);
    hessra_string_free(priv);
    hessra_public_key_free(pk);
    hessra_public_key_free(pk2);
    hessra_public_key_free(pk3);
    hessra_public_key_free(pk4);
    hessra_keypair_free(kp);
    hessra_keypair_free(kp2);
    hessra_keypair_free(p256);
}

static void test_parse(const char* samples_dir) {
    HessraToken t = (HessraToken)1;
    const char invalid_utf8[] = {'E', 'n', (char)0xc3, (char)0x28, 0};
    const uint8_t garbage[] = {0x12, 0x03, 0x0a, 0x01, 0x00, 0xff, 0xff};
    char path[4096];
    FILE* f;

    CHECK_CODE(hessra_token_parse("", &t), HESSRA_ERROR_INVALID_TOKEN, "empty token");
    CHECK(t == NULL, "out NULL on failure");
    CHECK_CODE(hessra_token_parse("   \n", &t), HESSRA_ERROR_INVALID_TOKEN, "blank token");
    CHECK_CODE(hessra_token_parse("not a token!", &t), HESSRA_ERROR_INVALID_TOKEN, "not base64");
    CHECK_CODE(hessra_token_parse("AAAA", &t), HESSRA_ERROR_INVALID_TOKEN, "base64 garbage");
    CHECK_CODE(hessra_token_parse("EgMKAQA", &t), HESSRA_ERROR_INVALID_TOKEN, "truncated protobuf");
    CHECK_CODE(hessra_token_parse(NULL, &t), HESSRA_ERROR_INVALID_PARAMETER, "NULL token string");
    CHECK_CODE(hessra_token_parse(invalid_utf8, &t), HESSRA_ERROR_INVALID_PARAMETER, "invalid UTF-8");
    CHECK_CODE(hessra_token_parse("AAAA", NULL), HESSRA_ERROR_INVALID_PARAMETER, "NULL out");
    CHECK_CODE(hessra_token_parse_bytes(garbage, sizeof garbage, &t), HESSRA_ERROR_INVALID_TOKEN, "garbage bytes");
    CHECK_CODE(hessra_token_parse_bytes(NULL, 3, &t), HESSRA_ERROR_INVALID_PARAMETER, "NULL bytes");
    CHECK_CODE(hessra_token_parse_bytes(garbage, 0, &t), HESSRA_ERROR_INVALID_TOKEN, "zero bytes");
    {
        /* a huge token text: LIMIT_EXCEEDED, not a crash */
        size_t n = 2u << 20;
        char* big = malloc(n + 1);
        if (big != NULL) {
            memset(big, 'A', n);
            big[n] = 0;
            CHECK_CODE(hessra_token_parse(big, &t), HESSRA_ERROR_LIMIT_EXCEEDED, "token too large");
            free(big);
        }
    }

    snprintf(path, sizeof path, "%s/test001_basic.bc", samples_dir);
    f = fopen(path, "rb");
    CHECK(f != NULL, "conformance sample test001_basic.bc readable");
    if (f == NULL) {
        return;
    }
    {
        uint8_t buf[65536];
        size_t n = fread(buf, 1, sizeof buf, f);
        char* json = NULL;
        HessraPublicKey root = NULL, other = NULL;
        HessraKeyPair kp = NULL;
        char* out = NULL;
        HessraError err = {HESSRA_SUCCESS, NULL};
        fclose(f);
        CHECK_CODE(hessra_token_parse_bytes(buf, n, &t), HESSRA_SUCCESS, "parse sample bytes");
        CHECK_CODE(hessra_token_inspect(t, &json), HESSRA_SUCCESS, "inspect sample");
        CHECK(contains(json, "\"verified\":false"), "inspect says unverified");
        CHECK(contains(json, "right(\\\"file1\\\", \\\"read\\\")"), "inspect shows the Datalog");
        hessra_string_free(json);
        json = NULL;
        /* the samples' root key */
        CHECK_CODE(hessra_public_key_from_string(
                       "ed25519/1055c750b1a1505937af1537c626ba3263995c33a64758aaafb1275b0312e284", &root),
                   HESSRA_SUCCESS, "sample root key");
        CHECK_CODE(hessra_token_inspect_verified(t, root, &json), HESSRA_SUCCESS, "inspect_verified sample");
        CHECK(contains(json, "\"verified\":true"), "verified true");
        hessra_string_free(json);
        json = NULL;
        CHECK_CODE(hessra_token_authorize(t, root,
                                          "resource(\"file1\"); operation(\"read\"); allow if true;", &out, &err),
                   HESSRA_SUCCESS, "authorize sample");
        CHECK(contains(out, "\"authorized\":true"), "authorized JSON");
        hessra_string_free(out);
        out = NULL;
        CHECK_CODE(hessra_token_authorize(t, root,
                                          "resource(\"file1\"); allow if true;", &out, &err),
                   HESSRA_ERROR_VERIFICATION_FAILED, "authorize sample denied");
        CHECK(contains(out, "\"authorized\":false") && contains(out, "failed_checks"), "denied JSON");
        CHECK(err.code == HESSRA_ERROR_VERIFICATION_FAILED && err.message != NULL, "out_error filled");
        hessra_string_free(out);
        hessra_error_free(err.message);
        out = NULL;
        err.message = NULL;
        hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp);
        hessra_keypair_public_key(kp, &other);
        CHECK_CODE(hessra_token_inspect_verified(t, other, &json), HESSRA_ERROR_VERIFICATION_FAILED,
                   "inspect_verified wrong key");
        CHECK(json == NULL, "out NULL");
        CHECK_CODE(hessra_token_inspect_verified_with_error(t, other, &json, &err), HESSRA_ERROR_VERIFICATION_FAILED,
                   "inspect_verified_with_error wrong key");
        CHECK(json == NULL, "out NULL (with_error)");
        CHECK(err.code == HESSRA_ERROR_VERIFICATION_FAILED && contains(err.message, "signature verification failed (block 0"),
              "the verifier's reason for a bad signature");
        hessra_error_free(err.message);
        err.message = NULL;
        CHECK_CODE(hessra_token_inspect_verified_with_error(t, root, &json, &err), HESSRA_SUCCESS,
                   "inspect_verified_with_error sample");
        CHECK(contains(json, "\"verified\":true") && err.message == NULL, "verified true, no message");
        hessra_string_free(json);
        json = NULL;
        hessra_token_free(t);
        t = NULL;

        snprintf(path, sizeof path, "%s/test004_random_block.bc", samples_dir);
        f = fopen(path, "rb");
        if (f != NULL) {
            n = fread(buf, 1, sizeof buf, f);
            fclose(f);
            if (hessra_token_parse_bytes(buf, n, &t) == HESSRA_SUCCESS) {
                CHECK_CODE(hessra_token_verify(t, root, "alice", "file1"), HESSRA_ERROR_VERIFICATION_FAILED,
                           "random block: bad signature");
            } else {
                CHECK(t == NULL, "random block rejected at parse");
            }
            hessra_token_free(t);
            t = NULL;
        }
        hessra_public_key_free(root);
        hessra_public_key_free(other);
        hessra_keypair_free(kp);
    }
}

static void test_verify(void) {
    HessraKeyPair kp = NULL, kp2 = NULL;
    HessraPublicKey pk = NULL, wrong = NULL;
    HessraToken t = NULL, expired = NULL, t2 = NULL;
    HessraMintRequest m = mint_request("alice", "orders", "read", now_s() + 3600);
    HessraVerifyRequest r;
    HessraError err = {HESSRA_SUCCESS, NULL};
    char* text = NULL;

    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp);
    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp2);
    hessra_keypair_public_key(kp, &pk);
    hessra_keypair_public_key(kp2, &wrong);
    t = mint_token(kp, &m);
    CHECK(t != NULL, "mint + parse");

    CHECK_CODE(hessra_token_verify(t, pk, "alice", "orders"), HESSRA_SUCCESS, "verify");
    CHECK_CODE(hessra_token_verify(t, pk, "bob", "orders"), HESSRA_ERROR_VERIFICATION_FAILED, "wrong subject");
    CHECK_CODE(hessra_token_verify(t, pk, "alice", "users"), HESSRA_ERROR_VERIFICATION_FAILED, "wrong resource");
    CHECK_CODE(hessra_token_verify(t, wrong, "alice", "orders"), HESSRA_ERROR_VERIFICATION_FAILED, "wrong key");
    CHECK_CODE(hessra_token_verify(NULL, pk, "alice", "orders"), HESSRA_ERROR_INVALID_PARAMETER, "NULL token");
    CHECK_CODE(hessra_token_verify(t, NULL, "alice", "orders"), HESSRA_ERROR_INVALID_PARAMETER, "NULL key");
    CHECK_CODE(hessra_token_verify(t, pk, NULL, "orders"), HESSRA_ERROR_INVALID_PARAMETER, "NULL subject");
    CHECK_CODE(hessra_token_verify(t, pk, "alice", NULL), HESSRA_ERROR_INVALID_PARAMETER, "NULL resource");
    CHECK_CODE(hessra_token_verify_operation(t, pk, "alice", "orders", "read"), HESSRA_SUCCESS, "verify op");
    CHECK_CODE(hessra_token_verify_operation(t, pk, "alice", "orders", "write"), HESSRA_ERROR_VERIFICATION_FAILED,
               "wrong op");
    CHECK_CODE(hessra_token_verify_operation(t, pk, "alice", "orders", NULL), HESSRA_SUCCESS, "any op");

    /* the string form round trips; a "Bearer " prefix is accepted */
    CHECK_CODE(hessra_token_to_string(t, &text), HESSRA_SUCCESS, "to_string");
    hessra_string_free(text);
    text = NULL;
    CHECK_CODE(hessra_token_to_string(NULL, &text), HESSRA_ERROR_INVALID_PARAMETER, "to_string NULL");
    CHECK(text == NULL, "out NULL");
    hessra_token_to_string(t, &text);
    if (text != NULL) {
        size_t len = strlen(text);
        char* bearer = malloc(len + 16);
        sprintf(bearer, "  Bearer %s\n", text);
        t2 = parse_or_null(bearer);
        CHECK(t2 != NULL, "Bearer prefix");
        hessra_token_free(t2);
        t2 = NULL;
        /* unpadded */
        while (len > 0 && text[len - 1] == '=') {
            text[--len] = 0;
        }
        t2 = parse_or_null(text);
        CHECK(t2 != NULL, "unpadded base64");
        CHECK_CODE(hessra_token_verify(t2, pk, "alice", "orders"), HESSRA_SUCCESS, "verify reparsed");
        hessra_token_free(t2);
        t2 = NULL;
        /* as bytes (text) */
        CHECK_CODE(hessra_token_parse_bytes((const uint8_t*)text, len, &t2), HESSRA_SUCCESS, "parse_bytes text");
        hessra_token_free(t2);
        t2 = NULL;
        /* tampered: flip a character in the middle */
        text[len / 2] = text[len / 2] == 'A' ? 'B' : 'A';
        t2 = parse_or_null(text);
        if (t2 != NULL) {
            HessraResult rc = hessra_token_verify(t2, pk, "alice", "orders");
            CHECK(rc != HESSRA_SUCCESS, "tampered token rejected");
            hessra_token_free(t2);
            t2 = NULL;
        } else {
            CHECK(1, "tampered token rejected at parse");
        }
        free(bearer);
        hessra_string_free(text);
        text = NULL;
    }
    CHECK(hessra_token_root_key_id(t) == -1, "no root key id");
    CHECK(hessra_token_root_key_id(NULL) == -1, "root key id NULL");

    /* the full request: identity, capability, explicit time, leeway */
    r = request("alice", "orders", "read");
    CHECK_CODE(hessra_token_verify_request(t, pk, &r, &err), HESSRA_SUCCESS, "request identity");
    CHECK(err.code == HESSRA_SUCCESS && err.message == NULL, "no error on success");
    r = request(NULL, "orders", "read");
    CHECK_CODE(hessra_token_verify_request(t, pk, &r, NULL), HESSRA_SUCCESS, "capability mode");
    r = request(NULL, "orders", NULL);
    CHECK_CODE(hessra_token_verify_request(t, pk, &r, NULL), HESSRA_SUCCESS, "capability, any op");
    r = request(NULL, "orders", "delete");
    CHECK_CODE(hessra_token_verify_request(t, pk, &r, &err), HESSRA_ERROR_VERIFICATION_FAILED, "capability, wrong op");
    CHECK(err.code == HESSRA_ERROR_VERIFICATION_FAILED && contains(err.message, "check if"), "message names the check");
    CHECK(contains(err.message, "block 0"), "message names the block");
    hessra_error_free(err.message);
    err.message = NULL;
    r = request("alice", "orders", "read");
    r.now = now_s() + 7200;
    CHECK_CODE(hessra_token_verify_request(t, pk, &r, &err), HESSRA_ERROR_EXPIRED, "expired in the future");
    CHECK(contains(err.message, "expired at ") && contains(err.message, "(unix "), "expiry message");
    hessra_error_free(err.message);
    err.message = NULL;
    r.leeway_seconds = 3601 + 3600;
    CHECK_CODE(hessra_token_verify_request(t, pk, &r, NULL), HESSRA_SUCCESS, "leeway");
    r.leeway_seconds = -1;
    CHECK_CODE(hessra_token_verify_request(t, pk, &r, NULL), HESSRA_ERROR_INVALID_PARAMETER, "negative leeway");
    r = request("alice", NULL, "read");
    CHECK_CODE(hessra_token_verify_request(t, pk, &r, &err), HESSRA_ERROR_INVALID_PARAMETER, "NULL resource");
    CHECK(err.code == HESSRA_ERROR_INVALID_PARAMETER && err.message != NULL, "error message");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_token_verify_request(t, pk, NULL, NULL), HESSRA_ERROR_INVALID_PARAMETER, "NULL request");
    r = request("alice", "orders", "read");
    r.domain = "example.com";
    r.prefix = "tenant/";
    CHECK_CODE(hessra_token_verify_request(t, pk, &r, NULL), HESSRA_SUCCESS, "extra domain and prefix facts");
    r.service_chain_json = "not json";
    CHECK_CODE(hessra_token_verify_request(t, pk, &r, NULL), HESSRA_ERROR_INVALID_PARAMETER, "bad chain JSON");
    r.service_chain_json = "[]";
    r.component = "nobody";
    CHECK_CODE(hessra_token_verify_request(t, pk, &r, NULL), HESSRA_ERROR_INVALID_PARAMETER, "unknown component");

    /* an expired token */
    m.expires_at = now_s() - 60;
    expired = mint_token(kp, &m);
    CHECK(expired != NULL, "mint expired");
    CHECK_CODE(hessra_token_verify(expired, pk, "alice", "orders"), HESSRA_ERROR_EXPIRED, "expired");
    CHECK_CODE(hessra_token_verify(expired, pk, "bob", "orders"), HESSRA_ERROR_VERIFICATION_FAILED,
               "expired and denied: denied");
    r = request("alice", "orders", "read");
    CHECK_CODE(hessra_token_verify_request(expired, pk, &r, &err), HESSRA_ERROR_EXPIRED, "expired request");
    CHECK(err.code == HESSRA_ERROR_EXPIRED && contains(err.message, "expired at"), "expired message");
    hessra_error_free(err.message);
    err.message = NULL;

    /* domain-restricted token */
    m = mint_request("alice", "orders", "read", 0);
    m.domain = "example.com";
    t2 = mint_token(kp, &m);
    r = request("alice", "orders", "read");
    CHECK_CODE(hessra_token_verify_request(t2, pk, &r, NULL), HESSRA_ERROR_VERIFICATION_FAILED, "domain missing");
    r.domain = "example.com";
    CHECK_CODE(hessra_token_verify_request(t2, pk, &r, NULL), HESSRA_SUCCESS, "domain given");
    r.domain = "evil.com";
    CHECK_CODE(hessra_token_verify_request(t2, pk, &r, NULL), HESSRA_ERROR_VERIFICATION_FAILED, "wrong domain");
    hessra_token_free(t2);
    t2 = NULL;

    /* minting errors */
    m = mint_request(NULL, "orders", "read", 0);
    CHECK_CODE(hessra_token_mint_hessra(kp, &m, &text, &err), HESSRA_ERROR_INVALID_PARAMETER, "mint NULL subject");
    CHECK(text == NULL && err.message != NULL, "mint error");
    hessra_error_free(err.message);
    err.message = NULL;
    m = mint_request("alice", "orders", "read", 0);
    CHECK_CODE(hessra_token_mint_hessra(NULL, &m, &text, NULL), HESSRA_ERROR_INVALID_PARAMETER, "mint NULL key");
    CHECK_CODE(hessra_token_mint_hessra(kp, NULL, &text, NULL), HESSRA_ERROR_INVALID_PARAMETER, "mint NULL request");
    CHECK_CODE(hessra_token_mint_hessra(kp, &m, NULL, NULL), HESSRA_ERROR_INVALID_PARAMETER, "mint NULL out");
    m.service_nodes_json = "[{\"component\":\"a\"}]";
    CHECK_CODE(hessra_token_mint_hessra(kp, &m, &text, &err), HESSRA_ERROR_INVALID_PARAMETER, "mint bad nodes");
    CHECK(contains(err.message, "public_key"), "names the field");
    hessra_error_free(err.message);
    err.message = NULL;

    hessra_token_free(t);
    hessra_token_free(expired);
    hessra_public_key_free(pk);
    hessra_public_key_free(wrong);
    hessra_keypair_free(kp);
    hessra_keypair_free(kp2);
}

static void test_mint_datalog(void) {
    HessraKeyPair kp = NULL, p256 = NULL;
    HessraPublicKey pk = NULL, ppk = NULL;
    HessraToken t = NULL, t2 = NULL, sealed = NULL;
    HessraError err = {HESSRA_SUCCESS, NULL};
    char *text = NULL, *text2 = NULL, *json = NULL, *out = NULL;
    char params[256];
    HessraVerifyRequest r;

    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp);
    hessra_keypair_public_key(kp, &pk);
    snprintf(params, sizeof params, "{\"s\":\"alice\",\"exp\":%lld,\"b\":{\"$bytes\":\"00ff\"}}",
             (long long)(now_s() + 600));
    CHECK_CODE(hessra_token_mint(kp,
                                 "right({s}, \"orders\", \"read\");\n"
                                 "check if subject($s), resource($r), operation($o), right($s, $r, $o);\n"
                                 "check if time($t), $t < {exp};\n"
                                 "blob({b});\n",
                                 params, 7, &text, &err),
               HESSRA_SUCCESS, "mint from Datalog with params");
    t = parse_or_null(text);
    CHECK(t != NULL, "parse minted");
    CHECK(hessra_token_root_key_id(t) == 7, "root key id 7");
    CHECK_CODE(hessra_token_verify(t, pk, "alice", "orders"), HESSRA_SUCCESS, "verify Datalog-minted");
    CHECK_CODE(hessra_token_inspect(t, &json), HESSRA_SUCCESS, "inspect");
    CHECK(contains(json, "\"rights\":[{\"subject\":\"alice\",\"resource\":\"orders\",\"operation\":\"read\"}]"),
          "inspect rights");
    CHECK(contains(json, "\"root_key_id\":7") && contains(json, "\"expires_at\":"), "inspect root key id + expiry");
    CHECK(contains(json, "hex:00ff"), "bytes parameter");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_token_inspect(NULL, &json), HESSRA_ERROR_INVALID_PARAMETER, "inspect NULL");
    CHECK(json == NULL, "out NULL");
    CHECK_CODE(hessra_token_inspect(t, NULL), HESSRA_ERROR_INVALID_PARAMETER, "inspect NULL out");

    CHECK_CODE(hessra_token_mint(kp, "right(\"a\", ;", NULL, -1, &text2, &err), HESSRA_ERROR_INVALID_PARAMETER,
               "bad Datalog");
    CHECK(text2 == NULL && err.message != NULL && contains(err.message, "1:"), "message has line:column");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_token_mint(kp, "right({missing});", "{}", -1, &text2, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "missing parameter");
    CHECK_CODE(hessra_token_mint(kp, "right({s});", "[1]", -1, &text2, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "params not an object");
    CHECK_CODE(hessra_token_mint(kp, "right(1);", NULL, 1LL << 40, &text2, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "root key id too large");
    CHECK_CODE(hessra_token_mint(NULL, "right(1);", NULL, -1, &text2, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "mint NULL key");

    /* attenuation */
    CHECK_CODE(hessra_token_attenuate(t, pk, "check if operation(\"read\");", NULL, &text2, &err), HESSRA_SUCCESS,
               "attenuate");
    t2 = parse_or_null(text2);
    hessra_string_free(text2);
    text2 = NULL;
    r = request("alice", "orders", "read");
    CHECK_CODE(hessra_token_verify_request(t2, pk, &r, NULL), HESSRA_SUCCESS, "attenuated: read");
    r = request("alice", "orders", NULL);
    CHECK_CODE(hessra_token_verify_request(t2, pk, &r, NULL), HESSRA_SUCCESS, "attenuated: any");
    CHECK_CODE(hessra_token_inspect(t2, &json), HESSRA_SUCCESS, "inspect attenuated");
    CHECK(contains(json, "\"index\":1"), "two blocks");
    hessra_string_free(json);
    json = NULL;
    hessra_keypair_generate(HESSRA_ALGORITHM_SECP256R1, &p256);
    hessra_keypair_public_key(p256, &ppk);
    CHECK_CODE(hessra_token_attenuate(t, ppk, "check if true;", NULL, &text2, &err), HESSRA_ERROR_VERIFICATION_FAILED,
               "attenuate with wrong root");
    CHECK(text2 == NULL, "out NULL");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_token_attenuate(t, pk, "check if", NULL, &text2, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "attenuate bad Datalog");

    /* authorize */
    CHECK_CODE(hessra_token_authorize(t, pk,
                                      "subject(\"alice\"); resource(\"orders\"); operation(\"read\");\n"
                                      "time(1);\nallow if right($s, \"orders\", \"read\");",
                                      &out, &err),
               HESSRA_SUCCESS, "authorize");
    CHECK(contains(out, "{\"authorized\":true,\"policy\":0,\"policy_kind\":\"allow\",\"error\":null}"),
          "authorize JSON");
    hessra_string_free(out);
    out = NULL;
    CHECK_CODE(hessra_token_authorize(t, pk, "subject(\"alice\"); time(1); deny if true;", &out, &err),
               HESSRA_ERROR_VERIFICATION_FAILED, "authorize deny");
    CHECK(contains(out, "\"authorized\":false") && contains(out, "\"kind\":\"unauthorized\""), "deny JSON");
    CHECK(contains(out, "\"policy\":0,\"policy_kind\":\"deny\""), "deny policy kind");
    CHECK(contains(out, "\"block\":0"), "failed check of block 0");
    hessra_string_free(out);
    hessra_error_free(err.message);
    out = NULL;
    err.message = NULL;
    /* the same "policy" index for an allow policy whose checks failed: policy_kind tells them apart */
    CHECK_CODE(hessra_token_authorize(t, pk, "subject(\"alice\"); time(1); allow if true;", &out, &err),
               HESSRA_ERROR_VERIFICATION_FAILED, "authorize allow, checks failed");
    CHECK(contains(out, "\"authorized\":false,\"policy\":0,\"policy_kind\":\"allow\""), "allow policy kind");
    CHECK(contains(out, "\"kind\":\"unauthorized\"") && contains(out, "\"block\":0"), "allow: failed checks");
    hessra_string_free(out);
    hessra_error_free(err.message);
    out = NULL;
    err.message = NULL;
    CHECK_CODE(hessra_token_authorize(t, pk, "time(1);", &out, NULL), HESSRA_ERROR_VERIFICATION_FAILED,
               "no policy");
    CHECK(contains(out, "no_matching_policy"), "no policy JSON");
    CHECK(contains(out, "\"policy\":null,\"policy_kind\":null"), "no policy: null kind");
    hessra_string_free(out);
    out = NULL;
    CHECK_CODE(hessra_token_authorize(t, pk, "allow if", &out, &err), HESSRA_ERROR_INVALID_PARAMETER,
               "authorizer does not parse");
    CHECK(out == NULL && err.message != NULL, "parse error message");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_token_authorize(t, ppk, "allow if true;", &out, NULL), HESSRA_ERROR_VERIFICATION_FAILED,
               "authorize wrong key");
    CHECK(out == NULL, "no JSON before signatures are valid");
    CHECK_CODE(hessra_token_authorize(t, pk, NULL, &out, NULL), HESSRA_ERROR_INVALID_PARAMETER, "authorize NULL");
    {
        /* 40 facts and a cross product: 1600 derived facts > max_facts 1000 */
        char code[1024];
        size_t used = 0;
        int k;
        for (k = 0; k < 40; k++) {
            used += (size_t)snprintf(code + used, sizeof code - used, "v(%d); ", k);
        }
        snprintf(code + used, sizeof code - used, "p($a, $b) <- v($a), v($b); allow if true;");
        CHECK_CODE(hessra_token_authorize(t, pk, code, &out, NULL), HESSRA_ERROR_LIMIT_EXCEEDED,
                   "fact explosion hits a limit");
        CHECK(contains(out, "run_limit"), "run_limit JSON");
        hessra_string_free(out);
        out = NULL;
    }

    /* sealing */
    CHECK_CODE(hessra_token_seal(t, pk, &text2, &err), HESSRA_SUCCESS, "seal");
    sealed = parse_or_null(text2);
    hessra_string_free(text2);
    text2 = NULL;
    CHECK_CODE(hessra_token_verify(sealed, pk, "alice", "orders"), HESSRA_SUCCESS, "sealed verifies");
    CHECK_CODE(hessra_token_inspect(sealed, &json), HESSRA_SUCCESS, "inspect sealed");
    CHECK(contains(json, "\"sealed\":true"), "sealed flag");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_token_attenuate(sealed, pk, "check if true;", NULL, &text2, NULL), HESSRA_ERROR_INVALID_TOKEN,
               "attenuate sealed");
    CHECK_CODE(hessra_token_seal(sealed, pk, &text2, NULL), HESSRA_ERROR_INVALID_TOKEN, "seal sealed");
    CHECK_CODE(hessra_token_seal(NULL, pk, &text2, NULL), HESSRA_ERROR_INVALID_PARAMETER, "seal NULL");

    hessra_string_free(text);
    hessra_token_free(t);
    hessra_token_free(t2);
    hessra_token_free(sealed);
    hessra_public_key_free(pk);
    hessra_public_key_free(ppk);
    hessra_keypair_free(kp);
    hessra_keypair_free(p256);
}

static void test_service_chain(void) {
    HessraKeyPair root = NULL, n1 = NULL, n2 = NULL, n3 = NULL, stranger = NULL;
    HessraPublicKey rpk = NULL, k1 = NULL, k2 = NULL, k3 = NULL;
    char *s1 = NULL, *s2 = NULL, *s3 = NULL;
    char chain[1024];
    HessraMintRequest m = mint_request("alice", "orders", "read", now_s() + 600);
    HessraToken t0 = NULL, t1 = NULL, t2 = NULL, t3 = NULL, bad = NULL;
    HessraVerifyRequest r;
    HessraError err = {HESSRA_SUCCESS, NULL};
    char *req = NULL, *block = NULL, *text = NULL, *json = NULL;

    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &root);
    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &n1);
    hessra_keypair_generate(HESSRA_ALGORITHM_SECP256R1, &n2);
    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &n3);
    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &stranger);
    hessra_keypair_public_key(root, &rpk);
    hessra_keypair_public_key(n1, &k1);
    hessra_keypair_public_key(n2, &k2);
    hessra_keypair_public_key(n3, &k3);
    hessra_public_key_to_string(k1, &s1);
    hessra_public_key_to_string(k2, &s2);
    hessra_public_key_to_string(k3, &s3);
    snprintf(chain, sizeof chain,
             "[{\"component\":\"gateway\",\"public_key\":\"%s\"},"
             "{\"component\":\"auth\",\"public_key\":\"%s\"},"
             "{\"component\":\"billing\",\"public_key\":\"%s\"}]",
             s1, s2, s3);
    m.service_nodes_json = chain;
    t0 = mint_token(root, &m);
    CHECK(t0 != NULL, "mint with service nodes");
    CHECK_CODE(hessra_token_inspect(t0, &json), HESSRA_SUCCESS, "inspect chain token");
    CHECK(contains(json, "\"service_nodes\":[{\"component\":\"gateway\""), "inspect service nodes");
    hessra_string_free(json);
    json = NULL;

    r = request("alice", "orders", "read");
    r.service_chain_json = chain;
    r.component = "gateway";
    CHECK_CODE(hessra_token_verify_request(t0, rpk, &r, NULL), HESSRA_SUCCESS, "first node needs nothing");
    r.component = "auth";
    CHECK_CODE(hessra_token_verify_request(t0, rpk, &r, &err), HESSRA_ERROR_VERIFICATION_FAILED, "not attested");
    CHECK(contains(err.message, "node(\\\"orders\\\", \\\"gateway\\\")") || contains(err.message, "node(\"orders\", \"gateway\")"),
          "message names the node check");
    hessra_error_free(err.message);
    err.message = NULL;

    /* attestation 1 by the three-step exchange */
    CHECK_CODE(hessra_token_third_party_request(t0, &req), HESSRA_SUCCESS, "third-party request");
    CHECK_CODE(hessra_third_party_block_create(req, n1, "service({r});", "{\"r\":\"orders\"}", &block, &err),
               HESSRA_SUCCESS, "third-party block");
    CHECK_CODE(hessra_token_append_third_party(t0, rpk, block, &text, &err), HESSRA_SUCCESS, "append third party");
    t1 = parse_or_null(text);
    hessra_string_free(text);
    text = NULL;
    CHECK_CODE(hessra_token_verify_request(t1, rpk, &r, NULL), HESSRA_SUCCESS, "1 attestation: auth ok");
    r.component = "billing";
    CHECK_CODE(hessra_token_verify_request(t1, rpk, &r, NULL), HESSRA_ERROR_VERIFICATION_FAILED, "billing needs 2");
    hessra_string_free(req);
    hessra_string_free(block);
    req = NULL;
    block = NULL;
    CHECK_CODE(hessra_token_third_party_request(NULL, &req), HESSRA_ERROR_INVALID_PARAMETER, "request NULL");
    CHECK_CODE(hessra_third_party_block_create("@@@", n1, "service(\"orders\");", NULL, &block, NULL),
               HESSRA_ERROR_INVALID_PARAMETER, "bad request text");
    CHECK(block == NULL, "out NULL");
    CHECK_CODE(hessra_token_append_third_party(t0, rpk, "AAAA", &text, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "bad block contents");

    /* attestations 2 and 3 in one call (P-256 node included) */
    CHECK_CODE(hessra_token_attest(t1, rpk, n2, NULL, &text, &err), HESSRA_SUCCESS, "attest 2");
    t2 = parse_or_null(text);
    hessra_string_free(text);
    text = NULL;
    CHECK_CODE(hessra_token_verify_request(t2, rpk, &r, NULL), HESSRA_SUCCESS, "2 attestations: billing ok");
    r.component = NULL;
    CHECK_CODE(hessra_token_verify_request(t2, rpk, &r, NULL), HESSRA_ERROR_VERIFICATION_FAILED, "all needs 3");
    CHECK_CODE(hessra_token_attest(t2, rpk, n3, "orders", &text, &err), HESSRA_SUCCESS, "attest 3");
    t3 = parse_or_null(text);
    hessra_string_free(text);
    text = NULL;
    CHECK_CODE(hessra_token_verify_request(t3, rpk, &r, NULL), HESSRA_SUCCESS, "3 attestations: all ok");
    r.subject = NULL;
    CHECK_CODE(hessra_token_verify_request(t3, rpk, &r, NULL), HESSRA_SUCCESS, "capability + chain");

    /* attested by a stranger */
    CHECK_CODE(hessra_token_attest(t0, rpk, stranger, NULL, &text, NULL), HESSRA_SUCCESS, "stranger attests");
    bad = parse_or_null(text);
    hessra_string_free(text);
    text = NULL;
    r = request("alice", "orders", "read");
    r.service_chain_json = chain;
    r.component = "auth";
    CHECK_CODE(hessra_token_verify_request(bad, rpk, &r, NULL), HESSRA_ERROR_VERIFICATION_FAILED, "wrong node key");
    CHECK_CODE(hessra_token_attest(t0, NULL, n1, NULL, &text, NULL), HESSRA_ERROR_INVALID_PARAMETER, "attest NULL");
    CHECK_CODE(hessra_token_attest(t0, k1, n1, NULL, &text, NULL), HESSRA_ERROR_VERIFICATION_FAILED,
               "attest with wrong root");

    hessra_string_free(req);
    hessra_string_free(block);
    hessra_string_free(s1);
    hessra_string_free(s2);
    hessra_string_free(s3);
    hessra_token_free(t0);
    hessra_token_free(t1);
    hessra_token_free(t2);
    hessra_token_free(t3);
    hessra_token_free(bad);
    hessra_public_key_free(rpk);
    hessra_public_key_free(k1);
    hessra_public_key_free(k2);
    hessra_public_key_free(k3);
    hessra_keypair_free(root);
    hessra_keypair_free(n1);
    hessra_keypair_free(n2);
    hessra_keypair_free(n3);
    hessra_keypair_free(stranger);
}

static void test_config(void) {
    HessraKeyPair a = NULL, b = NULL;
    HessraPublicKey apk = NULL, bpk = NULL, got = NULL;
    char *as = NULL, *bs = NULL, *json = NULL, *text = NULL, *path = NULL, *keypath = NULL;
    char cfgtext[2048];
    HessraConfig cfg = NULL, empty = NULL, tmp = (HessraConfig)1;
    HessraToken ta = NULL, tb = NULL, tbig = NULL;
    HessraMintRequest m = mint_request("alice", "orders", "read", now_s() + 600);
    HessraVerifyRequest r = request("alice", "orders", "read");
    HessraError err = {HESSRA_SUCCESS, NULL};
    HessraCacheStats st;
    int i;

    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &a);
    hessra_keypair_generate(HESSRA_ALGORITHM_SECP256R1, &b);
    hessra_keypair_public_key(a, &apk);
    hessra_keypair_public_key(b, &bpk);
    hessra_public_key_to_string(apk, &as);
    hessra_public_key_to_string(bpk, &bs);
    m.root_key_id = 7;
    ta = mint_token(a, &m); /* root key id 7 → key "a" */
    m.root_key_id = -1;
    tb = mint_token(b, &m); /* no id → default key "b" */

    snprintf(cfgtext, sizeof cfgtext,
             "{\"version\":1,\"default_key\":\"b\",\"keys\":["
             "{\"id\":\"a\",\"public_key\":\"%s\",\"root_key_id\":7},"
             "{\"id\":\"b\",\"public_key\":\"%s\"}],"
             "\"domain\":null,\"service_chains\":{},\"leeway_seconds\":0,"
             "\"limits\":{\"max_token_bytes\":65536,\"max_facts\":1000,\"max_iterations\":100,\"max_time_ms\":60000}}",
             as, bs);
    CHECK_CODE(hessra_config_from_string(cfgtext, &cfg), HESSRA_SUCCESS, "config from string");
    CHECK_CODE(hessra_token_verify_with_config(ta, cfg, &r, &err), HESSRA_SUCCESS, "key by root key id");
    CHECK_CODE(hessra_token_verify_with_config(tb, cfg, &r, &err), HESSRA_SUCCESS, "default key");
    CHECK_CODE(hessra_token_verify_with_config(NULL, cfg, &r, NULL), HESSRA_ERROR_INVALID_PARAMETER, "NULL token");
    CHECK_CODE(hessra_token_verify_with_config(ta, NULL, &r, NULL), HESSRA_ERROR_INVALID_PARAMETER, "NULL config");
    CHECK_CODE(hessra_token_verify_with_config(ta, cfg, NULL, NULL), HESSRA_ERROR_INVALID_PARAMETER, "NULL request");
    r.subject = "mallory";
    CHECK_CODE(hessra_token_verify_with_config(ta, cfg, &r, &err), HESSRA_ERROR_VERIFICATION_FAILED, "denied via config");
    hessra_error_free(err.message);
    err.message = NULL;
    r.subject = "alice";

    /* the cache */
    CHECK_CODE(hessra_config_cache_stats(cfg, &st), HESSRA_SUCCESS, "stats");
    CHECK(st.cache_capacity == 1024 && st.cache_entries == 2, "default capacity, 2 entries");
    for (i = 0; i < 5; i++) {
        hessra_token_verify_with_config(ta, cfg, &r, NULL);
    }
    hessra_config_cache_stats(cfg, &st);
    CHECK(st.cache_hits >= 5 && st.verifications >= 8, "cache hits counted");
    hessra_token_to_string(ta, &text);
    CHECK_CODE(hessra_config_verify_token_string(cfg, text, &r, &err), HESSRA_SUCCESS, "verify token string");
    CHECK_CODE(hessra_config_verify_token_string(cfg, "garbage!", &r, &err), HESSRA_ERROR_INVALID_TOKEN,
               "verify garbage string");
    CHECK(err.code == HESSRA_ERROR_INVALID_TOKEN && err.message != NULL && !contains(err.message, "garbage"),
          "message does not echo the token");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_config_verify_token_string(cfg, NULL, &r, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "verify NULL string");

    /* hessra_config_verified_subject */
    {
        HessraVerifyRequest any = request(NULL, NULL, NULL);
        HessraCacheStats before, after;
        char *subject = (char*)1, *two = NULL, *one = NULL, *old = NULL;
        HessraMintRequest mo = mint_request("alice", "orders", "read", now_s() - 10);
        any.subject = "ignored";
        CHECK_CODE(hessra_config_cache_stats(cfg, &before), HESSRA_SUCCESS, "stats before");
        CHECK_CODE(hessra_config_verified_subject(cfg, text, &any, &subject, &err), HESSRA_SUCCESS,
                   "verified subject");
        CHECK(subject != NULL && strcmp(subject, "alice") == 0, "subject is alice");
        hessra_string_free(subject);
        subject = NULL;
        CHECK_CODE(hessra_config_cache_stats(cfg, &after), HESSRA_SUCCESS, "stats after");
        CHECK(after.verifications == before.verifications + 1 && after.cache_hits == before.cache_hits + 1,
              "one right evaluated, signature check from the cache");
        any.resource = "orders";
        any.operation = "read";
        CHECK_CODE(hessra_config_verified_subject(cfg, text, &any, &subject, NULL), HESSRA_SUCCESS, "filtered");
        CHECK(subject != NULL && strcmp(subject, "alice") == 0, "filtered: alice");
        hessra_string_free(subject);
        subject = NULL;
        any.operation = "write";
        CHECK_CODE(hessra_config_verified_subject(cfg, text, &any, &subject, NULL), HESSRA_SUCCESS,
                   "no right for write");
        CHECK(subject == NULL, "no right for write: NULL");
        any.resource = "users";
        any.operation = NULL;
        CHECK_CODE(hessra_config_verified_subject(cfg, text, &any, &subject, NULL), HESSRA_SUCCESS,
                   "no right on users");
        CHECK(subject == NULL, "no right on users: NULL");
        any.resource = NULL;
        /* two subjects verify: ambiguous; a check that only alice passes: alice */
        CHECK_CODE(hessra_token_mint(a, "right(\"alice\", \"orders\", \"read\"); right(\"bob\", \"orders\", \"read\");",
                                     NULL, 7, &two, NULL), HESSRA_SUCCESS, "mint two subjects");
        CHECK_CODE(hessra_config_verified_subject(cfg, two, &any, &subject, NULL), HESSRA_SUCCESS, "ambiguous");
        CHECK(subject == NULL, "ambiguous: NULL");
        CHECK_CODE(hessra_token_mint(a, "right(\"alice\", \"orders\", \"read\"); right(\"bob\", \"orders\", \"read\");"
                                        "check if subject(\"alice\");", NULL, 7, &one, NULL),
                   HESSRA_SUCCESS, "mint two rights, one subject passes");
        CHECK_CODE(hessra_config_verified_subject(cfg, one, &any, &subject, NULL), HESSRA_SUCCESS, "one of two");
        CHECK(subject != NULL && strcmp(subject, "alice") == 0, "only alice verifies");
        hessra_string_free(subject);
        subject = NULL;
        /* expired: no right verifies now */
        mo.root_key_id = 7;
        CHECK_CODE(hessra_token_mint_hessra(a, &mo, &old, NULL), HESSRA_SUCCESS, "mint expired");
        CHECK_CODE(hessra_config_verified_subject(cfg, old, &any, &subject, NULL), HESSRA_SUCCESS, "expired");
        CHECK(subject == NULL, "expired: NULL");
        /* token errors */
        CHECK_CODE(hessra_config_verified_subject(cfg, "garbage!", &any, &subject, NULL), HESSRA_ERROR_INVALID_TOKEN,
                   "verified subject: garbage");
        CHECK(subject == NULL, "garbage: NULL");
        hessra_string_free(old);
        old = NULL;
        mo.root_key_id = -1;
        mo.expires_at = now_s() + 600;
        CHECK_CODE(hessra_token_mint_hessra(a, &mo, &old, NULL), HESSRA_SUCCESS, "mint for the default key b");
        CHECK_CODE(hessra_config_verified_subject(cfg, old, &any, &subject, NULL), HESSRA_ERROR_VERIFICATION_FAILED,
                   "verified subject: wrong key");
        CHECK_CODE(hessra_config_verified_subject(cfg, text, &any, NULL, NULL), HESSRA_ERROR_INVALID_PARAMETER,
                   "verified subject: NULL out");
        CHECK_CODE(hessra_config_verified_subject(cfg, text, NULL, &subject, NULL), HESSRA_ERROR_INVALID_PARAMETER,
                   "verified subject: NULL request");
        CHECK_CODE(hessra_config_verified_subject(NULL, text, &any, &subject, NULL), HESSRA_ERROR_INVALID_PARAMETER,
                   "verified subject: NULL config");
        CHECK(subject == NULL, "NULL on errors");
        hessra_string_free(two);
        hessra_string_free(one);
        hessra_string_free(old);
    }
    CHECK_CODE(hessra_config_set_cache_size(cfg, 0), HESSRA_SUCCESS, "disable cache");
    hessra_token_verify_with_config(ta, cfg, &r, NULL);
    hessra_config_cache_stats(cfg, &st);
    CHECK(st.cache_capacity == 0 && st.cache_entries == 0, "cache disabled");
    CHECK_CODE(hessra_config_set_cache_size(cfg, 16), HESSRA_SUCCESS, "re-enable cache");
    CHECK_CODE(hessra_config_set_cache_size(NULL, 16), HESSRA_ERROR_INVALID_PARAMETER, "cache size NULL");
    CHECK_CODE(hessra_config_cache_stats(cfg, NULL), HESSRA_ERROR_INVALID_PARAMETER, "stats NULL out");
    CHECK_CODE(hessra_config_cache_stats(NULL, &st), HESSRA_ERROR_INVALID_PARAMETER, "stats NULL config");

    /* describe, get */
    CHECK_CODE(hessra_config_describe(cfg, &json), HESSRA_SUCCESS, "describe");
    CHECK(contains(json, "\"default_key\":\"b\"") && contains(json, "\"root_key_id\":7") &&
              contains(json, "\"cache_size\":16"),
          "describe JSON");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_config_describe(NULL, &json), HESSRA_ERROR_INVALID_PARAMETER, "describe NULL");
    CHECK_CODE(hessra_config_get_public_key(cfg, "a", &got), HESSRA_SUCCESS, "get key");
    hessra_public_key_to_string(got, &json);
    CHECK(json && strcmp(json, as) == 0, "got the right key");
    hessra_string_free(json);
    json = NULL;
    hessra_public_key_free(got);
    got = NULL;
    CHECK_CODE(hessra_config_get_public_key(cfg, "zz", &got), HESSRA_ERROR_CONFIG_INVALID, "get missing key");
    CHECK(got == NULL, "out NULL");
    CHECK_CODE(hessra_config_get_public_key(cfg, NULL, &got), HESSRA_ERROR_INVALID_PARAMETER, "get NULL id");

    /* an empty configuration, then set a key */
    CHECK_CODE(hessra_config_new(&empty), HESSRA_SUCCESS, "config_new");
    CHECK_CODE(hessra_token_verify_with_config(tb, empty, &r, &err), HESSRA_ERROR_CONFIG_INVALID, "no key yet");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_config_set_public_key(empty, "main", bpk), HESSRA_SUCCESS, "set key");
    CHECK_CODE(hessra_token_verify_with_config(tb, empty, &r, NULL), HESSRA_SUCCESS, "first key is default");
    CHECK_CODE(hessra_token_verify_with_config(ta, empty, &r, NULL), HESSRA_ERROR_VERIFICATION_FAILED,
               "other root: wrong key");
    CHECK_CODE(hessra_config_set_public_key(empty, NULL, bpk), HESSRA_ERROR_INVALID_PARAMETER, "set NULL id");
    CHECK_CODE(hessra_config_set_public_key(empty, "x", NULL), HESSRA_ERROR_INVALID_PARAMETER, "set NULL key");
    CHECK_CODE(hessra_config_set_public_key(NULL, "x", bpk), HESSRA_ERROR_INVALID_PARAMETER, "set NULL config");
    CHECK_CODE(hessra_config_new(NULL), HESSRA_ERROR_INVALID_PARAMETER, "config_new NULL");

    /* configuration errors */
    CHECK_CODE(hessra_config_from_string("{\"version\":2}", &tmp), HESSRA_ERROR_CONFIG_INVALID, "bad version");
    CHECK(tmp == NULL, "out NULL");
    CHECK_CODE(hessra_config_from_string("{\"version\":1,\"colour\":1}", &tmp), HESSRA_ERROR_CONFIG_INVALID,
               "unknown field");
    CHECK_CODE(hessra_config_from_string("{\"version\":1,\"keys\":[{\"id\":\"a\",\"public_key\":\"ed25519/00\"}]}",
                                         &tmp),
               HESSRA_ERROR_CONFIG_INVALID, "bad key");
    CHECK_CODE(hessra_config_from_string("{", &tmp), HESSRA_ERROR_CONFIG_INVALID, "bad JSON");
    CHECK_CODE(hessra_config_from_string(NULL, &tmp), HESSRA_ERROR_INVALID_PARAMETER, "NULL JSON");
    CHECK_CODE(hessra_config_from_file("/nonexistent/hessra.json", &tmp), HESSRA_ERROR_IO, "missing file");
    CHECK_CODE(hessra_config_from_file(NULL, &tmp), HESSRA_ERROR_INVALID_PARAMETER, "NULL path");

    /* from a file, with a key file next to it */
    keypath = temp_file(as);
    snprintf(cfgtext, sizeof cfgtext,
             "{\"version\":1,\"keys\":[{\"id\":\"f\",\"public_key_file\":\"%s\",\"root_key_id\":7}],"
             "\"leeway_seconds\":30,\"limits\":{\"max_token_bytes\":100}}",
             keypath);
    path = temp_file(cfgtext);
    CHECK_CODE(hessra_config_from_file(path, &tmp), HESSRA_SUCCESS, "config from file");
    CHECK_CODE(hessra_token_verify_with_config(ta, tmp, &r, &err), HESSRA_ERROR_LIMIT_EXCEEDED, "max_token_bytes");
    CHECK(contains(err.message, "max_token_bytes"), "limit message");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_config_verify_token_string(tmp, text, &r, NULL), HESSRA_ERROR_LIMIT_EXCEEDED,
               "max_token_bytes (string)");
    hessra_config_free(tmp);
    tmp = NULL;
    remove_temp(path);
    path = temp_file("{\"version\":1,\"keys\":[{\"id\":\"f\",\"public_key_file\":\"/nonexistent/k.pub\"}]}");
    CHECK_CODE(hessra_config_from_file(path, &tmp), HESSRA_ERROR_IO, "missing key file");
    remove_temp(path);
    path = temp_file("{\"version\":1,\"keys\":[{\"id\":\"a\",\"public_key\":\"ed25519/00\"}]}");
    CHECK_CODE(hessra_config_from_file(path, &tmp), HESSRA_ERROR_CONFIG_INVALID, "bad key in file");
    remove_temp(path);
    path = NULL;

    /* the configuration's leeway and service chains apply */
    {
        HessraToken old = NULL;
        HessraMintRequest mo = mint_request("alice", "orders", "read", now_s() - 10);
        mo.root_key_id = 7;
        old = mint_token(a, &mo);
        snprintf(cfgtext, sizeof cfgtext,
                 "{\"version\":1,\"keys\":[{\"id\":\"a\",\"public_key\":\"%s\"}],\"leeway_seconds\":60,"
                 "\"limits\":{\"max_time_ms\":60000},"
                 "\"service_chains\":{\"payments\":[{\"component\":\"gw\",\"public_key\":\"%s\"}]}}",
                 as, bs);
        CHECK_CODE(hessra_config_from_string(cfgtext, &tmp), HESSRA_SUCCESS, "config with leeway");
        CHECK_CODE(hessra_token_verify_with_config(old, tmp, &r, NULL), HESSRA_SUCCESS, "config leeway applies");
        CHECK_CODE(hessra_token_verify_with_config(old, cfg, &r, NULL), HESSRA_ERROR_EXPIRED, "no leeway: expired");
        r.resource = "payments";
        r.component = "nobody";
        CHECK_CODE(hessra_token_verify_with_config(old, tmp, &r, NULL), HESSRA_ERROR_INVALID_PARAMETER,
                   "component not in the configured chain");
        r.resource = "orders";
        r.component = NULL;
        hessra_config_free(tmp);
        tmp = NULL;
        hessra_token_free(old);
    }

    /* a token larger than the default limit */
    {
        size_t n = 70000, k;
        char* big = malloc(n + 64);
        char* bigtok = NULL;
        memcpy(big, "blob(\"", 6);
        for (k = 6; k < n; k++) {
            big[k] = 'x';
        }
        strcpy(big + n, "\");");
        if (hessra_token_mint(b, big, NULL, -1, &bigtok, NULL) == HESSRA_SUCCESS) {
            tbig = parse_or_null(bigtok);
            CHECK_CODE(hessra_token_verify_with_config(tbig, cfg, &r, NULL), HESSRA_ERROR_LIMIT_EXCEEDED,
                       "default max_token_bytes");
        } else {
            CHECK(0, "mint big token");
        }
        hessra_string_free(bigtok);
        free(big);
    }

    remove_temp(keypath);
    hessra_string_free(text);
    hessra_string_free(as);
    hessra_string_free(bs);
    hessra_token_free(ta);
    hessra_token_free(tb);
    hessra_token_free(tbig);
    hessra_config_free(cfg);
    hessra_config_free(empty);
    hessra_public_key_free(apk);
    hessra_public_key_free(bpk);
    hessra_keypair_free(a);
    hessra_keypair_free(b);
}

/* ---- threads ------------------------------------------------------------ */

#define THREADS 8
#define ITERATIONS 40

struct shared {
    HessraPublicKey key;
    HessraConfig config;
    const char* token_text;
    const char* expired_text;
    int failures[THREADS];
    int timeouts[THREADS];
};

struct arg {
    struct shared* s;
    int index;
};

static void note(struct shared* s, int index, const char* what, HessraResult rc) {
    s->failures[index]++;
    fprintf(stderr, "thread %d: %s: %d (%s)\n", index, what, (int)rc, hessra_error_message(rc));
}

/* hessra_token_verify takes no configuration, so its Datalog wall-clock cap
 * is the engine's default (1 s). valgrind runs one thread at a time, and on a
 * loaded machine a thread can wait longer than that between two of its
 * slices. The token is trivial: its facts and iterations are far below their
 * limits, which are deterministic (an exceeded one would fail every try), so
 * LIMIT_EXCEEDED here can only be the wall-clock cap: try again (at most 5
 * times). Everything else in the worker goes through s->config, whose cap is
 * 60 s. */
static HessraResult verify_plain(struct shared* s, int index, HessraToken t, const char* subject) {
    HessraResult rc = HESSRA_ERROR_LIMIT_EXCEEDED;
    int tries;
    for (tries = 0; tries < 5 && rc == HESSRA_ERROR_LIMIT_EXCEEDED; tries++) {
        rc = hessra_token_verify(t, s->key, subject, "orders");
        if (rc == HESSRA_ERROR_LIMIT_EXCEEDED) {
            s->timeouts[index]++;
        }
    }
    return rc;
}

static void* worker(void* p) {
    struct arg* a = p;
    struct shared* s = a->s;
    int i;
    HessraResult rc;
    for (i = 0; i < ITERATIONS; i++) {
        HessraToken t = NULL;
        HessraVerifyRequest r = request(i % 2 ? "alice" : NULL, "orders", i % 3 ? "read" : NULL);
        HessraError err = {HESSRA_SUCCESS, NULL};
        if ((rc = hessra_token_parse(s->token_text, &t)) != HESSRA_SUCCESS) {
            note(s, a->index, "parse", rc);
            continue;
        }
        if ((rc = verify_plain(s, a->index, t, "alice")) != HESSRA_SUCCESS) note(s, a->index, "verify", rc);
        if ((rc = verify_plain(s, a->index, t, "bob")) != HESSRA_ERROR_VERIFICATION_FAILED)
            note(s, a->index, "verify bob", rc);
        if ((rc = hessra_token_verify_with_config(t, s->config, &r, NULL)) != HESSRA_SUCCESS)
            note(s, a->index, "verify_with_config", rc);
        if ((rc = hessra_config_verify_token_string(s->config, s->token_text, &r, NULL)) != HESSRA_SUCCESS)
            note(s, a->index, "verify_token_string", rc);
        if ((rc = hessra_config_verify_token_string(s->config, s->expired_text, &r, &err)) != HESSRA_ERROR_EXPIRED)
            note(s, a->index, "verify_token_string expired", rc);
        hessra_error_free(err.message);
        hessra_token_free(t);
    }
    return NULL;
}

static void test_threads(void) {
    HessraKeyPair kp = NULL;
    struct shared s;
    struct arg args[THREADS];
    pthread_t th[THREADS];
    HessraMintRequest m = mint_request("alice", "orders", "read", now_s() + 600);
    char *tok = NULL, *exp = NULL, *keytext = NULL;
    char cfgtext[512];
    HessraCacheStats st;
    int i, total = 0, timeouts = 0;

    memset(&s, 0, sizeof s);
    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp);
    hessra_keypair_public_key(kp, &s.key);
    /* A 60 s wall-clock cap: under valgrind the 8 threads run one at a time,
     * and the default 1 s cap was hit on a loaded 2-core machine. The
     * deterministic limits (facts, iterations) stay at their defaults. */
    hessra_public_key_to_string(s.key, &keytext);
    snprintf(cfgtext, sizeof cfgtext,
             "{\"version\":1,\"keys\":[{\"id\":\"k\",\"public_key\":\"%s\"}],\"limits\":{\"max_time_ms\":60000}}",
             keytext ? keytext : "");
    CHECK_CODE(hessra_config_from_string(cfgtext, &s.config), HESSRA_SUCCESS, "threads: config");
    hessra_string_free(keytext);
    hessra_token_mint_hessra(kp, &m, &tok, NULL);
    m.expires_at = now_s() - 5;
    hessra_token_mint_hessra(kp, &m, &exp, NULL);
    s.token_text = tok;
    s.expired_text = exp;
    for (i = 0; i < THREADS; i++) {
        args[i].s = &s;
        args[i].index = i;
        CHECK(pthread_create(&th[i], NULL, worker, &args[i]) == 0, "pthread_create");
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        total += s.failures[i];
        timeouts += s.timeouts[i];
    }
    if (timeouts > 0) {
        fprintf(stderr, "note: %d plain verification(s) hit the 1 s wall-clock cap and were retried\n", timeouts);
    }
    CHECK(total == 0, "8 threads verify with a shared key and config");
    hessra_config_cache_stats(s.config, &st);
    CHECK(st.verifications == (uint64_t)THREADS * ITERATIONS * 3, "verification count");
    CHECK(st.cache_entries == 2 && st.cache_hits + st.cache_misses == st.verifications, "shared cache consistent");
    hessra_string_free(tok);
    hessra_string_free(exp);
    hessra_config_free(s.config);
    hessra_public_key_free(s.key);
    hessra_keypair_free(kp);
}

/* The *_with_error variants: same results as the plain functions, plus a
 * message that names the problem without quoting the input. */
/* hessra_config_from_trusted_file: the key files a configuration names get
 * the checks of the configuration file itself (regular, owner, no group or
 * world write). */
static void test_trusted_config_files(const char* pktext) {
    HessraConfig cfg = NULL;
    HessraError err = {HESSRA_SUCCESS, NULL};
    uint32_t me = (uint32_t) geteuid();
    uint32_t someone_else = me + 1;
    char cfgtext[512];
    char* key = temp_file(pktext);
    char* path;

    snprintf(cfgtext, sizeof cfgtext, "{\"version\":1,\"keys\":[{\"id\":\"k\",\"public_key_file\":\"%s\"}]}",
             key);
    path = temp_file(cfgtext);
    chmod(key, 0644);
    chmod(path, 0644);
    CHECK_CODE(hessra_config_from_trusted_file(path, &me, 1, &cfg, &err), HESSRA_SUCCESS, "trusted: owned, 0644");
    hessra_config_free(cfg);
    cfg = NULL;

    chmod(key, 0666);
    CHECK_CODE(hessra_config_from_trusted_file(path, &me, 1, &cfg, &err), HESSRA_ERROR_IO,
               "trusted: world-writable key file refused");
    CHECK(cfg == NULL, "trusted: out NULL on failure");
    CHECK(contains(err.message, "keys[0].public_key_file") && contains(err.message, "mode 0666"),
          "trusted: names the field and the mode");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_config_from_file_with_error(path, &cfg, NULL), HESSRA_SUCCESS,
               "untrusted loader keeps reading it");
    hessra_config_free(cfg);
    cfg = NULL;

    chmod(key, 0644);
    CHECK_CODE(hessra_config_from_trusted_file(path, &someone_else, 1, &cfg, &err), HESSRA_ERROR_IO,
               "trusted: other owner refused");
    CHECK(contains(err.message, "owned by uid"), "trusted: says who owns it");
    hessra_error_free(err.message);
    err.message = NULL;

    CHECK_CODE(hessra_config_from_trusted_file(path, NULL, 1, &cfg, &err), HESSRA_ERROR_INVALID_PARAMETER,
               "trusted: NULL owners");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_config_from_trusted_file(path, &me, 0, &cfg, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "trusted: no owner");
    remove_temp(path);
    remove_temp(key);
}

/* hessra_trusted_file_read and hessra_config_from_string_trusted: the same
 * rule for a caller that reads configurations itself (the CLI, issue 23),
 * a FIFO refused without hanging. */
static void test_trusted_reads(void) {
    HessraConfig cfg = NULL;
    HessraError err = {HESSRA_SUCCESS, NULL};
    uint32_t owners[2] = {(uint32_t) geteuid(), 0};
    uint32_t someone_else = (uint32_t) geteuid() + 1;
    char* text = NULL;
    char* problem = NULL;
    char cfgtext[512];
    char fifo[64];
    char* revoked = temp_file("# revoked\nabababababababababababababababababababababababababababababababababab\n");
    char* plain = temp_file("{\"version\": 1}");

    chmod(plain, 0644);
    CHECK_CODE(hessra_trusted_file_read(plain, owners, 2, 1024, &text, &err), HESSRA_SUCCESS, "trusted read: own file");
    CHECK(text != NULL && strcmp(text, "{\"version\": 1}") == 0, "trusted read: the content");
    hessra_string_free(text);
    text = NULL;
    CHECK_CODE(hessra_trusted_file_read(plain, owners, 2, 4, &text, &err), HESSRA_ERROR_CONFIG_INVALID,
               "trusted read: over max_bytes");
    CHECK(text == NULL && contains(err.message, "larger than 4 bytes"), "trusted read: says the bound");
    hessra_error_free(err.message);
    err.message = NULL;
    chmod(plain, 0664);
    CHECK_CODE(hessra_trusted_file_read(plain, owners, 2, 1024, &text, &err), HESSRA_ERROR_IO,
               "trusted read: group-writable refused");
    CHECK(text == NULL && contains(err.message, "mode 0664"), "trusted read: names the mode");
    hessra_error_free(err.message);
    err.message = NULL;
    chmod(plain, 0644);
    CHECK_CODE(hessra_trusted_file_read(plain, &someone_else, 1, 1024, &text, &err), HESSRA_ERROR_IO,
               "trusted read: another owner refused");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_trusted_file_read(plain, NULL, 1, 1024, &text, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "trusted read: NULL owners");
    snprintf(fifo, sizeof fifo, "/tmp/hessra-ffi-fifo-%d", (int) getpid());
    if (mkfifo(fifo, 0644) == 0) {
        CHECK_CODE(hessra_trusted_file_read(fifo, owners, 2, 1024, &text, &err), HESSRA_ERROR_IO,
                   "trusted read: a FIFO refused, no hang");
        CHECK(contains(err.message, "not a regular file"), "trusted read: says why");
        hessra_error_free(err.message);
        err.message = NULL;
        snprintf(cfgtext, sizeof cfgtext, "{\"version\":1,\"revocation_file\":\"%s\"}", fifo);
        CHECK_CODE(hessra_config_from_string_trusted(cfgtext, owners, 2, &cfg, &problem), HESSRA_ERROR_IO,
                   "string trusted: a FIFO revocation file refused, no hang");
        CHECK(cfg == NULL && contains(problem, "\"field\":\"revocation_file\""), "string trusted: the field");
        hessra_string_free(problem);
        problem = NULL;
        unlink(fifo);
    } else {
        CHECK(0, "mkfifo");
    }

    snprintf(cfgtext, sizeof cfgtext, "{\"version\":1,\"revocation_file\":\"%s\"}", revoked);
    chmod(revoked, 0644);
    CHECK_CODE(hessra_config_from_string_trusted(cfgtext, owners, 2, &cfg, &problem), HESSRA_SUCCESS,
               "string trusted: own revocation file");
    CHECK(cfg != NULL && problem == NULL, "string trusted: a configuration, no problem");
    hessra_config_free(cfg);
    cfg = NULL;
    chmod(revoked, 0646);
    CHECK_CODE(hessra_config_from_string_trusted(cfgtext, owners, 2, &cfg, &problem), HESSRA_ERROR_IO,
               "string trusted: world-writable revocation file refused");
    CHECK(cfg == NULL && contains(problem, "mode 0646"), "string trusted: the problem");
    hessra_string_free(problem);
    problem = NULL;
    CHECK_CODE(hessra_config_from_string_trusted(cfgtext, owners, 2, &cfg, NULL), HESSRA_ERROR_IO,
               "string trusted: problem not wanted");
    CHECK_CODE(hessra_config_from_string(cfgtext, &cfg), HESSRA_SUCCESS, "the untrusted loader still reads it");
    hessra_config_free(cfg);
    cfg = NULL;
    CHECK_CODE(hessra_config_from_string_trusted(cfgtext, owners, 0, &cfg, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "string trusted: no owner");
    remove_temp(revoked);
    remove_temp(plain);
}

static void test_with_error(void) {
    HessraError err = {HESSRA_ERROR_INTERNAL, NULL};
    HessraToken t = (HessraToken)1;
    HessraConfig cfg = (HessraConfig)1;
    HessraKeyPair kp = NULL;
    HessraPublicKey pk = NULL;
    char* pktext = NULL;
    char* text = NULL;
    char* path = NULL;
    char cfgtext[1024];
    HessraMintRequest m = mint_request("alice", "orders", "read", 0);
    const char* secret_field = "{\"version\":1,\"keys\":[{\"id\":\"a\",\"public_key\":\"ed25519/0123456789abcdef\"}]}";

    /* ---- tokens */
    CHECK_CODE(hessra_token_parse_with_error("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", &t, &err),
               HESSRA_ERROR_INVALID_TOKEN, "JWT is not a token");
    CHECK(t == NULL, "out NULL on failure");
    CHECK(err.code == HESSRA_ERROR_INVALID_TOKEN, "error code set");
    CHECK(contains(err.message, "base64") && contains(err.message, "position 20"), "base64 position");
    CHECK(!contains(err.message, "eyJ"), "message does not quote the token");
    hessra_error_free(err.message);
    err.message = NULL;

    CHECK_CODE(hessra_token_parse_with_error("  Bearer AAAAA", &t, &err), HESSRA_ERROR_INVALID_TOKEN, "bad length");
    CHECK(contains(err.message, "length"), "length message");
    hessra_error_free(err.message);
    err.message = NULL;

    CHECK_CODE(hessra_token_parse_with_error("EgMKAQA", &t, &err), HESSRA_ERROR_INVALID_TOKEN, "truncated protobuf");
    CHECK(contains(err.message, "malformed token"), "protobuf message");
    hessra_error_free(err.message);
    err.message = NULL;

    CHECK_CODE(hessra_token_parse_with_error("", &t, &err), HESSRA_ERROR_INVALID_TOKEN, "empty");
    CHECK(contains(err.message, "empty"), "empty message");
    hessra_error_free(err.message);
    err.message = NULL;

    {
        size_t n = 2u << 20;
        char* big = malloc(n + 1);
        if (big != NULL) {
            memset(big, 'A', n);
            big[n] = 0;
            CHECK_CODE(hessra_token_parse_with_error(big, &t, &err), HESSRA_ERROR_LIMIT_EXCEEDED, "too large");
            CHECK(contains(err.message, "larger than"), "size limit message");
            hessra_error_free(err.message);
            err.message = NULL;
            free(big);
        }
    }
    CHECK_CODE(hessra_token_parse_with_error(NULL, &t, &err), HESSRA_ERROR_INVALID_PARAMETER, "NULL text");
    CHECK(contains(err.message, "token_string"), "names the argument");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_token_parse_with_error("AAAA", NULL, NULL), HESSRA_ERROR_INVALID_PARAMETER, "NULL out");

    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp);
    CHECK_CODE(hessra_token_mint_hessra(kp, &m, &text, NULL), HESSRA_SUCCESS, "mint");
    CHECK_CODE(hessra_token_parse_with_error(text, &t, &err), HESSRA_SUCCESS, "valid token");
    CHECK(t != NULL && err.code == HESSRA_SUCCESS && err.message == NULL, "no error on success");
    hessra_token_free(t);
    t = NULL;
    CHECK_CODE(hessra_token_parse_with_error(text, &t, NULL), HESSRA_SUCCESS, "out_error may be NULL");
    hessra_token_free(t);

    /* ---- configuration */
    CHECK_CODE(hessra_config_from_string_with_error(secret_field, &cfg, &err), HESSRA_ERROR_CONFIG_INVALID,
               "bad key");
    CHECK(cfg == NULL, "out NULL on failure");
    CHECK(err.code == HESSRA_ERROR_CONFIG_INVALID, "error code set");
    CHECK(contains(err.message, "keys[0].public_key: "), "names the field");
    CHECK(!contains(err.message, "0123456789abcdef"), "does not quote the value");
    hessra_error_free(err.message);
    err.message = NULL;

    CHECK_CODE(hessra_config_from_string_with_error("{\"version\":1,\"limits\":{\"max_facts\":\"many\"}}", &cfg,
                                                    &err),
               HESSRA_ERROR_CONFIG_INVALID, "bad limit");
    CHECK(contains(err.message, "limits.max_facts: "), "names the nested field");
    CHECK(!contains(err.message, "many"), "does not quote the value");
    hessra_error_free(err.message);
    err.message = NULL;

    CHECK_CODE(hessra_config_from_string_with_error("{\"version\":1,\n \"keys\": [,]}", &cfg, &err),
               HESSRA_ERROR_CONFIG_INVALID, "bad JSON");
    CHECK(contains(err.message, "line 2"), "JSON error has the line");
    hessra_error_free(err.message);
    err.message = NULL;

    CHECK_CODE(hessra_config_from_string_with_error(NULL, &cfg, &err), HESSRA_ERROR_INVALID_PARAMETER, "NULL json");
    hessra_error_free(err.message);
    err.message = NULL;

    hessra_keypair_public_key(kp, &pk);
    hessra_public_key_to_string(pk, &pktext);
    snprintf(cfgtext, sizeof cfgtext, "{\"version\":1,\"keys\":[{\"id\":\"k\",\"public_key\":\"%s\"}]}", pktext);
    CHECK_CODE(hessra_config_from_string_with_error(cfgtext, &cfg, &err), HESSRA_SUCCESS, "valid config");
    CHECK(cfg != NULL && err.message == NULL, "no error on success");
    hessra_config_free(cfg);
    cfg = NULL;

    path = temp_file(cfgtext);
    CHECK_CODE(hessra_config_from_file_with_error(path, &cfg, NULL), HESSRA_SUCCESS, "valid file, NULL out_error");
    hessra_config_free(cfg);
    cfg = NULL;
    remove_temp(path);

    path = temp_file("{\"version\":1,\"keys\":[{\"id\":\"a\",\"public_key\":\"ed25519/00\"},"
                     "{\"id\":\"b\",\"public_key\":\"secp256r1/02ff\"}]}");
    CHECK_CODE(hessra_config_from_file_with_error(path, &cfg, &err), HESSRA_ERROR_CONFIG_INVALID, "bad key in file");
    CHECK(contains(err.message, "keys[0].public_key: "), "file: names the field");
    hessra_error_free(err.message);
    err.message = NULL;
    remove_temp(path);

    path = temp_file("{\"version\":1,\"keys\":[{\"id\":\"a\",\"public_key_file\":\"/nonexistent/k.pub\"}]}");
    CHECK_CODE(hessra_config_from_file_with_error(path, &cfg, &err), HESSRA_ERROR_IO, "missing key file");
    CHECK(contains(err.message, "keys[0].public_key_file") && contains(err.message, "/nonexistent/k.pub"),
          "IO error names the field and the file");
    hessra_error_free(err.message);
    err.message = NULL;
    remove_temp(path);

    CHECK_CODE(hessra_config_from_file_with_error("/nonexistent/hessra.json", &cfg, &err), HESSRA_ERROR_IO,
               "missing file");
    CHECK(contains(err.message, "/nonexistent/hessra.json"), "names the file");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_config_from_file_with_error("/nonexistent/hessra.json", NULL, &err),
               HESSRA_ERROR_INVALID_PARAMETER, "NULL out_config");
    hessra_error_free(err.message);

    test_trusted_config_files(pktext);
    test_trusted_reads();

    hessra_string_free(pktext);
    hessra_public_key_free(pk);
    hessra_string_free(text);
    hessra_keypair_free(kp);
}

/* test_ffi --mint SUBJECT RESOURCE OPERATION: mints a Hessra token (valid for
 * 10 minutes) with a fresh Ed25519 key through the ABI and prints the token
 * on the first line and the public key ("ed25519/<hex>") on the second; used
 * by run.sh to feed seed_example.c. */
static int mint_mode(int argc, char** argv) {
    HessraKeyPair kp = NULL;
    HessraPublicKey pk = NULL;
    HessraMintRequest m;
    HessraError err = {HESSRA_SUCCESS, NULL};
    char *token = NULL, *key = NULL;
    HessraResult rc;
    int status = 1;
    if (argc != 5) {
        fprintf(stderr, "usage: %s --mint SUBJECT RESOURCE OPERATION\n", argv[0]);
        return 2;
    }
    m = mint_request(argv[2], argv[3], argv[4], now_s() + 600);
    rc = hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp);
    if (rc == HESSRA_SUCCESS) rc = hessra_keypair_public_key(kp, &pk);
    if (rc == HESSRA_SUCCESS) rc = hessra_public_key_to_string(pk, &key);
    if (rc == HESSRA_SUCCESS) rc = hessra_token_mint_hessra(kp, &m, &token, &err);
    if (rc == HESSRA_SUCCESS) {
        printf("%s\n%s\n", token, key);
        status = 0;
    } else {
        fprintf(stderr, "mint: %s%s%s\n", hessra_error_message(rc), err.message ? ": " : "",
                err.message ? err.message : "");
    }
    hessra_error_free(err.message);
    hessra_string_free(token);
    hessra_string_free(key);
    hessra_public_key_free(pk);
    hessra_keypair_free(kp);
    return status;
}

/* hessra_verify: one call, the outcome as JSON; an explicit leeway wins on
 * every key path, "not given" takes the configuration's. */
static void test_verifier(void) {
    HessraKeyPair kp = NULL, other = NULL;
    HessraPublicKey pk = NULL;
    HessraConfig cfg = NULL;
    HessraError err = {HESSRA_SUCCESS, NULL};
    char* key = NULL;
    char* expired = NULL;
    char* forged = NULL;
    char* json = NULL;
    char config_json[512];
    int64_t now = now_s();
    HessraMintRequest m = mint_request("alice", "documents", "read", now - 3);
    HessraVerifyRequest r = request("alice", "documents", "read");
    const char* key_ids[2] = {NULL, "dev"};
    int i;

    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp);
    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &other);
    hessra_keypair_public_key(kp, &pk);
    hessra_public_key_to_string(pk, &key);
    snprintf(config_json, sizeof config_json,
             "{\"version\":1,\"keys\":[{\"id\":\"dev\",\"public_key\":\"%s\"}],\"leeway_seconds\":60}", key);
    CHECK_CODE(hessra_config_from_string(config_json, &cfg), HESSRA_SUCCESS, "verifier: config");
    CHECK_CODE(hessra_token_mint_hessra(kp, &m, &expired, NULL), HESSRA_SUCCESS, "verifier: mint expired 3 s ago");
    m.expires_at = now + 600;
    CHECK_CODE(hessra_token_mint_hessra(other, &m, &forged, NULL), HESSRA_SUCCESS, "verifier: mint with another key");
    r.now = now;

    /* leeway not given: the configuration's 60 s; given 0: expired. The
     * default key, the key id and the given key all agree. */
    for (i = 0; i < 3; i++) {
        HessraPublicKey given = i == 2 ? pk : NULL;
        const char* id = i < 2 ? key_ids[i] : NULL;
        r.leeway_seconds = HESSRA_LEEWAY_UNSET;
        CHECK_CODE(hessra_verify(i == 2 ? NULL : cfg, given, id, (const uint8_t*)expired, strlen(expired), &r,
                                 &json, &err),
                   i == 2 ? HESSRA_ERROR_EXPIRED : HESSRA_SUCCESS, "verifier: leeway not given");
        CHECK(json != NULL && contains(json, i == 2 ? "\"status\":\"expired\"" : "\"status\":\"valid\""),
              "verifier: status for leeway not given");
        hessra_string_free(json);
        json = NULL;
        hessra_error_free(err.message);
        err.message = NULL;
        r.leeway_seconds = 0;
        CHECK_CODE(hessra_verify(cfg, given, id, (const uint8_t*)expired, strlen(expired), &r, &json, &err),
                   HESSRA_ERROR_EXPIRED, "verifier: explicit leeway 0 wins");
        CHECK(json != NULL && contains(json, "\"status\":\"expired\"") && contains(json, "\"leeway_seconds\":0") &&
                  contains(json, "\"failed_checks\":[{\"block\":0,\"check\":1,"),
              "verifier: expired outcome with the failed check");
        CHECK(err.message != NULL && contains(err.message, "expired at"), "verifier: reason in out_error");
        hessra_string_free(json);
        json = NULL;
        hessra_error_free(err.message);
        err.message = NULL;
    }

    /* forged: invalid, no expiry, no rights */
    r.leeway_seconds = HESSRA_LEEWAY_UNSET;
    CHECK_CODE(hessra_verify(cfg, NULL, NULL, (const uint8_t*)forged, strlen(forged), &r, &json, NULL),
               HESSRA_ERROR_VERIFICATION_FAILED, "verifier: forged");
    CHECK(json != NULL && contains(json, "\"status\":\"invalid\"") && contains(json, "\"expires_at\":null") &&
              contains(json, "\"rights\":[]"),
          "verifier: forged is invalid without an expiry");
    hessra_string_free(json);
    json = NULL;
    /* garbage: malformed; out_outcome_json may be NULL */
    CHECK_CODE(hessra_verify(cfg, NULL, NULL, (const uint8_t*)"garbage!", 8, &r, &json, NULL),
               HESSRA_ERROR_INVALID_TOKEN, "verifier: malformed");
    CHECK(json != NULL && contains(json, "\"status\":\"malformed\"") && contains(json, "\"key\":null"),
          "verifier: malformed outcome");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_verify(cfg, NULL, NULL, (const uint8_t*)forged, strlen(forged), &r, NULL, NULL),
               HESSRA_ERROR_VERIFICATION_FAILED, "verifier: no outcome wanted");
    /* not about the token: no outcome */
    CHECK_CODE(hessra_verify(cfg, NULL, "prod", (const uint8_t*)expired, strlen(expired), &r, &json, &err),
               HESSRA_ERROR_CONFIG_INVALID, "verifier: unknown key id");
    CHECK(json == NULL && err.message != NULL && contains(err.message, "keys: dev"), "verifier: names the known ids");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_verify(cfg, pk, "dev", (const uint8_t*)expired, strlen(expired), &r, &json, NULL),
               HESSRA_ERROR_INVALID_PARAMETER, "verifier: key and key id");
    CHECK_CODE(hessra_verify(NULL, NULL, NULL, (const uint8_t*)expired, strlen(expired), &r, &json, NULL),
               HESSRA_ERROR_CONFIG_INVALID, "verifier: no key at all");
    CHECK_CODE(hessra_verify(cfg, NULL, NULL, NULL, 0, &r, &json, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "verifier: NULL token");
    CHECK_CODE(hessra_verify(cfg, NULL, NULL, (const uint8_t*)expired, strlen(expired), NULL, &json, NULL),
               HESSRA_ERROR_INVALID_PARAMETER, "verifier: NULL request");
    CHECK(json == NULL, "verifier: out NULL on errors");

    hessra_string_free(key);
    hessra_string_free(expired);
    hessra_string_free(forged);
    hessra_config_free(cfg);
    hessra_public_key_free(pk);
    hessra_keypair_free(kp);
    hessra_keypair_free(other);
}

/* Revocation: the configuration's revoked_ids and revocation_file make an
 * authentic token "revoked" (HESSRA_ERROR_REVOKED) for hessra_verify,
 * hessra_config_verify_token_string and hessra_config_verified_subject; the
 * seed function hessra_token_verify_with_config keeps its codes
 * (VERIFICATION_FAILED). A missing revocation file fails closed (IO). */
static void test_revocation(void) {
    HessraKeyPair kp = NULL;
    HessraPublicKey pk = NULL;
    HessraConfig cfg = NULL, plain = NULL, tmp = NULL;
    HessraError err = {HESSRA_SUCCESS, NULL};
    HessraToken tok = NULL;
    char* key = NULL;
    char* text = NULL;
    char* json = NULL;
    char* subject = NULL;
    char* list = NULL;
    char revoked_id[300] = {0};
    char config_json[1024];
    int64_t now = now_s();
    HessraMintRequest m = mint_request("alice", "documents", "read", now + 600);
    HessraVerifyRequest r = request("alice", "documents", "read");
    r.now = now;

    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp);
    hessra_keypair_public_key(kp, &pk);
    hessra_public_key_to_string(pk, &key);
    CHECK_CODE(hessra_token_mint_hessra(kp, &m, &text, NULL), HESSRA_SUCCESS, "revocation: mint");
    CHECK_CODE(hessra_token_parse(text, &tok), HESSRA_SUCCESS, "revocation: parse");
    CHECK(authority_revocation_id(tok, revoked_id, sizeof revoked_id), "revocation: id in inspect");
    if (revoked_id[0] == '\0') {
        goto done;
    }

    snprintf(config_json, sizeof config_json,
             "{\"version\":1,\"keys\":[{\"id\":\"dev\",\"public_key\":\"%s\"}],\"revoked_ids\":[\"%s\"]}", key,
             revoked_id);
    CHECK_CODE(hessra_config_from_string(config_json, &cfg), HESSRA_SUCCESS, "revocation: config");
    CHECK_CODE(hessra_verify(cfg, NULL, NULL, (const uint8_t*)text, strlen(text), &r, &json, &err),
               HESSRA_ERROR_REVOKED, "revocation: hessra_verify");
    CHECK(contains(json, "\"status\":\"revoked\"") && contains(json, "\"code\":\"revoked\"") &&
              contains(json, "\"revoked\":{\"block\":0,\"revocation_id\":\"") && contains(json, revoked_id),
          "revocation: outcome JSON");
    CHECK(err.message != NULL && contains(err.message, "revoked"), "revocation: reason");
    CHECK(strcmp(hessra_error_message(HESSRA_ERROR_REVOKED), "token revoked") == 0, "revocation: static message");
    hessra_string_free(json);
    json = NULL;
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_config_verify_token_string(cfg, text, &r, NULL), HESSRA_ERROR_REVOKED,
               "revocation: hessra_config_verify_token_string");
    CHECK_CODE(hessra_token_verify_with_config(tok, cfg, &r, NULL), HESSRA_ERROR_VERIFICATION_FAILED,
               "revocation: seed function says VERIFICATION_FAILED");
    CHECK_CODE(hessra_config_verified_subject(cfg, text, &r, &subject, NULL), HESSRA_ERROR_REVOKED,
               "revocation: hessra_config_verified_subject");
    CHECK(subject == NULL, "revocation: no subject");

    /* the same id from a revocation file; without it, valid */
    list = temp_file("# revoked tokens\n\n");
    snprintf(config_json, sizeof config_json,
             "{\"version\":1,\"keys\":[{\"id\":\"dev\",\"public_key\":\"%s\"}],\"revocation_file\":\"%s\"}", key,
             list ? list : "");
    CHECK_CODE(hessra_config_from_string(config_json, &plain), HESSRA_SUCCESS, "revocation: empty file");
    CHECK_CODE(hessra_verify(plain, NULL, NULL, (const uint8_t*)text, strlen(text), &r, NULL, NULL), HESSRA_SUCCESS,
               "revocation: not listed, valid");
    if (list != NULL) {
        FILE* f = fopen(list, "a");
        if (f != NULL) {
            fprintf(f, "%s\n", revoked_id);
            fclose(f);
        }
    }
    CHECK_CODE(hessra_config_from_string(config_json, &tmp), HESSRA_SUCCESS, "revocation: file with the id");
    CHECK_CODE(hessra_verify(tmp, NULL, NULL, (const uint8_t*)text, strlen(text), &r, NULL, NULL),
               HESSRA_ERROR_REVOKED, "revocation: listed in the file");
    hessra_config_free(tmp);
    tmp = NULL;
    remove_temp(list);
    list = NULL;
    CHECK_CODE(hessra_config_from_string(config_json, &tmp), HESSRA_ERROR_IO, "revocation: missing file fails closed");
    CHECK(tmp == NULL, "revocation: no configuration without its file");

done:
    hessra_string_free(key);
    hessra_string_free(text);
    hessra_token_free(tok);
    hessra_config_free(cfg);
    hessra_config_free(plain);
    hessra_public_key_free(pk);
    hessra_keypair_free(kp);
}

/* A host's revocation lookup: counts its calls; revokes the id in `revoked`
 * (hex); fails (returns 7) when `fail` is set. */
typedef struct {
    int calls;
    int fail;
    char revoked[300];
} LookupState;

static int test_lookup(void* context, const uint8_t* id, size_t len, int* out_revoked) {
    LookupState* st = (LookupState*)context;
    char hex[300];
    size_t i;
    st->calls++;
    if (st->fail) {
        return 7;
    }
    if (len * 2 + 1 > sizeof hex) {
        return 1;
    }
    for (i = 0; i < len; i++) {
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    }
    hex[2 * len] = '\0';
    *out_revoked = strcmp(hex, st->revoked) == 0;
    return 0;
}

/* Trust a host adds (the PostgreSQL extension's tables): keys by the one
 * rule, the revocation lookup (revoked, not revoked, cached verdict, failure
 * never cached), files changed. */
static void test_trust(void) {
    HessraKeyPair kp = NULL, other = NULL;
    HessraPublicKey pk = NULL, opk = NULL;
    HessraConfig cfg = NULL, empty = NULL;
    HessraError err = {HESSRA_SUCCESS, NULL};
    HessraToken tok = NULL;
    char* key = NULL;
    char* okey = NULL;
    char* text = NULL;
    char* json = NULL;
    char* subject = NULL;
    char* path = NULL;
    char config_json[1024];
    int changed = -1;
    LookupState st;
    int64_t now = now_s();
    HessraMintRequest m = mint_request("alice", "documents", "read", now + 600);
    HessraVerifyRequest r = request("alice", "documents", "read");
    r.now = now;
    memset(&st, 0, sizeof st);

    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp);
    hessra_keypair_public_key(kp, &pk);
    hessra_public_key_to_string(pk, &key);
    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &other);
    hessra_keypair_public_key(other, &opk);
    hessra_public_key_to_string(opk, &okey);
    CHECK_CODE(hessra_token_mint_hessra(kp, &m, &text, NULL), HESSRA_SUCCESS, "trust: mint");
    tok = parse_or_null(text);
    CHECK(authority_revocation_id(tok, st.revoked, sizeof st.revoked), "trust: revocation id");

    /* keys: a database key beside the file's; conflicts refused */
    snprintf(config_json, sizeof config_json,
             "{\"version\":1,\"default_key\":\"file\",\"keys\":[{\"id\":\"file\",\"public_key\":\"%s\",\"root_key_id\":1}]}",
             okey);
    CHECK_CODE(hessra_config_from_string(config_json, &cfg), HESSRA_SUCCESS, "trust: config");
    CHECK_CODE(hessra_verify(cfg, NULL, NULL, (const uint8_t*)text, strlen(text), &r, NULL, NULL),
               HESSRA_ERROR_VERIFICATION_FAILED, "trust: the file's key does not verify the token");
    CHECK_CODE(hessra_config_add_key(cfg, "file", key, -1, 0, &err), HESSRA_ERROR_CONFIG_INVALID,
               "trust: an id in both is an error");
    CHECK(contains(err.message, "configuration file"), "trust: the error names the other source");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_config_add_key(cfg, "db", key, 1, 0, NULL), HESSRA_ERROR_CONFIG_INVALID,
               "trust: a root key id in both is an error");
    CHECK_CODE(hessra_config_add_key(cfg, "db", "not a key", -1, 0, &err), HESSRA_ERROR_CONFIG_INVALID,
               "trust: a bad key");
    CHECK(err.message != NULL && !contains(err.message, "not a key"), "trust: key text not echoed");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_config_add_key(cfg, NULL, key, -1, 0, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "trust: NULL id");
    CHECK_CODE(hessra_config_add_key(cfg, "db", key, (int64_t)1 << 33, 0, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "trust: root key id out of range");
    CHECK_CODE(hessra_config_add_key(cfg, "db", key, -1, 1, NULL), HESSRA_SUCCESS, "trust: database default key");
    CHECK(hessra_config_key_count(cfg) == 2, "trust: two keys");
    CHECK_CODE(hessra_config_describe(cfg, &json), HESSRA_SUCCESS, "trust: describe");
    CHECK(contains(json, "\"default_key\":\"db\"") && contains(json, "\"source\":\"database\"") &&
              contains(json, "\"source\":\"file\""),
          "trust: describe shows the default and the sources");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_verify(cfg, NULL, NULL, (const uint8_t*)text, strlen(text), &r, NULL, NULL), HESSRA_SUCCESS,
               "trust: the database default verifies");

    /* the lookup: not revoked, asked once, then the cached verdict */
    st.revoked[0] ^= 1; /* not this token's id */
    CHECK_CODE(hessra_config_set_revocation_lookup(cfg, test_lookup, &st), HESSRA_SUCCESS, "trust: set lookup");
    CHECK_CODE(hessra_verify(cfg, NULL, NULL, (const uint8_t*)text, strlen(text), &r, NULL, NULL), HESSRA_SUCCESS,
               "trust: not revoked");
    CHECK_CODE(hessra_config_verify_token_string(cfg, text, &r, NULL), HESSRA_SUCCESS, "trust: not revoked (cached)");
    CHECK(st.calls == 1, "trust: one block asked once, the verdict cached");
    /* revoked: a fresh cache (set the lookup again) */
    st.revoked[0] ^= 1;
    CHECK_CODE(hessra_config_set_revocation_lookup(cfg, test_lookup, &st), HESSRA_SUCCESS, "trust: set lookup again");
    CHECK_CODE(hessra_verify(cfg, NULL, NULL, (const uint8_t*)text, strlen(text), &r, &json, NULL),
               HESSRA_ERROR_REVOKED, "trust: revoked by the host");
    CHECK(contains(json, "\"revoked\":{\"block\":0") && contains(json, st.revoked), "trust: outcome names the block");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_config_verified_subject(cfg, text, &r, &subject, NULL), HESSRA_ERROR_REVOKED,
               "trust: no subject for a revoked token");
    CHECK_CODE(hessra_token_verify_with_config(tok, cfg, &r, NULL), HESSRA_ERROR_VERIFICATION_FAILED,
               "trust: the seed function says VERIFICATION_FAILED");
    CHECK_CODE(hessra_config_granted_resources(cfg, text, &r, &json, NULL), HESSRA_ERROR_REVOKED,
               "trust: nothing granted to a token the host revoked");
    CHECK(json != NULL && strcmp(json, "[]") == 0, "trust: granted resources empty");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_config_claims(cfg, text, &r, &json, NULL), HESSRA_ERROR_REVOKED, "trust: claims of a revoked token");
    CHECK(contains(json, "\"status\":\"revoked\""), "trust: claims say revoked");
    hessra_string_free(json);
    json = NULL;
    /* a failing lookup: an error every time (nothing cached), never valid */
    st.fail = 1;
    st.calls = 0;
    CHECK_CODE(hessra_config_set_revocation_lookup(cfg, test_lookup, &st), HESSRA_SUCCESS, "trust: set failing lookup");
    CHECK_CODE(hessra_verify(cfg, NULL, NULL, (const uint8_t*)text, strlen(text), &r, &json, &err),
               HESSRA_ERROR_REVOCATION_LOOKUP, "trust: lookup failure is an error");
    CHECK(json == NULL && contains(err.message, "revocation list could not be consulted"),
          "trust: no outcome, a reason");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_config_verify_token_string(cfg, text, &r, NULL), HESSRA_ERROR_REVOCATION_LOOKUP,
               "trust: again (not cached)");
    CHECK_CODE(hessra_config_verified_subject(cfg, text, &r, &subject, NULL), HESSRA_ERROR_REVOCATION_LOOKUP,
               "trust: verified_subject too");
    CHECK_CODE(hessra_config_granted_resources(cfg, text, &r, &json, NULL), HESSRA_ERROR_REVOCATION_LOOKUP,
               "trust: granted resources fail with the lookup");
    CHECK(json == NULL, "trust: nothing granted without an answer");
    CHECK_CODE(hessra_config_claims(cfg, text, &r, &json, NULL), HESSRA_ERROR_REVOCATION_LOOKUP,
               "trust: claims fail with the lookup");
    CHECK(json == NULL, "trust: no claims without an answer");
    CHECK(st.calls == 5 && subject == NULL, "trust: the host was asked every time");
    CHECK(strcmp(hessra_error_message(HESSRA_ERROR_REVOCATION_LOOKUP), "revocation list unavailable") == 0,
          "trust: static message");
    CHECK_CODE(hessra_config_set_revocation_lookup(cfg, NULL, NULL), HESSRA_SUCCESS, "trust: remove the lookup");
    CHECK_CODE(hessra_verify(cfg, NULL, NULL, (const uint8_t*)text, strlen(text), &r, NULL, NULL), HESSRA_SUCCESS,
               "trust: without a lookup");
    CHECK_CODE(hessra_config_set_revocation_lookup(NULL, test_lookup, &st), HESSRA_ERROR_INVALID_PARAMETER,
               "trust: NULL config");

    /* without a file, the first database key is the default */
    CHECK_CODE(hessra_config_new(&empty), HESSRA_SUCCESS, "trust: empty config");
    CHECK_CODE(hessra_config_add_key(empty, "only", key, -1, 0, NULL), HESSRA_SUCCESS, "trust: add to empty");
    CHECK_CODE(hessra_verify(empty, NULL, NULL, (const uint8_t*)text, strlen(text), &r, NULL, NULL), HESSRA_SUCCESS,
               "trust: database key alone");
    CHECK_CODE(hessra_config_files_changed(empty, &changed), HESSRA_SUCCESS, "trust: files_changed");
    CHECK(changed == 0, "trust: no files, not changed");
    CHECK_CODE(hessra_config_files_changed(empty, NULL), HESSRA_ERROR_INVALID_PARAMETER, "trust: NULL out");
    hessra_config_free(empty);
    empty = NULL;

    /* files changed: a configuration file written again */
    snprintf(config_json, sizeof config_json, "{\"version\":1,\"keys\":[{\"id\":\"k\",\"public_key\":\"%s\"}]}",
             key);
    path = temp_file(config_json);
    CHECK_CODE(hessra_config_from_file(path ? path : "", &empty), HESSRA_SUCCESS, "trust: from file");
    changed = -1;
    CHECK_CODE(hessra_config_files_changed(empty, &changed), HESSRA_SUCCESS, "trust: files_changed (file)");
    CHECK(changed == 0, "trust: unchanged");
    if (path != NULL) {
        FILE* f = fopen(path, "a");
        if (f != NULL) {
            fputs("\n", f);
            fclose(f);
        }
    }
    CHECK_CODE(hessra_config_files_changed(empty, &changed), HESSRA_SUCCESS, "trust: files_changed again");
    CHECK(changed == 1, "trust: an edited file is changed");
    remove_temp(path);

    hessra_config_free(empty);
    hessra_config_free(cfg);
    hessra_token_free(tok);
    hessra_string_free(key);
    hessra_string_free(okey);
    hessra_string_free(text);
    hessra_public_key_free(pk);
    hessra_public_key_free(opk);
    hessra_keypair_free(kp);
    hessra_keypair_free(other);
}

/* Multi-party and prefix restrictions through the ABI: a restricted mint is
 * denied until the party attested and the prefix was added; a namespace or
 * key the token does not name is INVALID_PARAMETER. */
static void test_restrictions(void) {
    HessraKeyPair root = NULL, party = NULL, pfx = NULL;
    HessraPublicKey root_pk = NULL, party_pk = NULL, pfx_pk = NULL;
    HessraToken tok = NULL, attested = NULL;
    HessraError err = {HESSRA_SUCCESS, NULL};
    char* party_key = NULL;
    char* pfx_key = NULL;
    char* text = NULL;
    char* next = NULL;
    char* last = NULL;
    char* json = NULL;
    char restrictions[512];
    int64_t now = now_s();
    HessraMintRequest m = mint_request("alice", "orders", "read", now + 600);
    HessraVerifyRequest r = request("alice", "orders", "read");
    r.now = now;
    r.prefix = "tenant/1/";
    r.leeway_seconds = HESSRA_LEEWAY_UNSET;

    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &root);
    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &party);
    hessra_keypair_generate(HESSRA_ALGORITHM_SECP256R1, &pfx);
    hessra_keypair_public_key(root, &root_pk);
    hessra_keypair_public_key(party, &party_pk);
    hessra_keypair_public_key(pfx, &pfx_pk);
    hessra_public_key_to_string(party_pk, &party_key);
    hessra_public_key_to_string(pfx_pk, &pfx_key);
    snprintf(restrictions, sizeof restrictions,
             "{\"multi_party\":[{\"namespace\":\"a.example\",\"public_key\":\"%s\"}],\"prefix_key\":\"%s\"}",
             party_key, pfx_key);
    CHECK_CODE(hessra_token_mint_hessra_restricted(root, &m, restrictions, &text, &err), HESSRA_SUCCESS,
               "restrictions: mint");
    CHECK_CODE(hessra_token_mint_hessra_restricted(root, &m, "{\"multi_party\":[{}]}", &next, &err),
               HESSRA_ERROR_INVALID_PARAMETER, "restrictions: malformed JSON names the field");
    CHECK(next == NULL && err.message != NULL && contains(err.message, "multi_party[0].namespace"),
          "restrictions: field in the message");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_verify(NULL, root_pk, NULL, (const uint8_t*)text, text ? strlen(text) : 0, &r, &json, NULL),
               HESSRA_ERROR_VERIFICATION_FAILED, "restrictions: denied before attestation");
    CHECK(contains(json, "check if namespace(\\\"a.example\\\") trusting ed25519/") &&
              contains(json, "check if prefix_added(true) trusting secp256r1/"),
          "restrictions: the failed checks name the party and the prefix key");
    hessra_string_free(json);
    json = NULL;

    tok = parse_or_null(text);
    CHECK_CODE(hessra_token_attest_namespace(tok, root_pk, party, "b.example", &next, &err),
               HESSRA_ERROR_INVALID_PARAMETER, "restrictions: unknown namespace");
    CHECK(next == NULL && contains(err.message, "it requires: a.example"), "restrictions: names the parties");
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_token_attest_namespace(tok, root_pk, pfx, "a.example", &next, NULL),
               HESSRA_ERROR_INVALID_PARAMETER, "restrictions: wrong party key");
    CHECK_CODE(hessra_token_attest_namespace(tok, root_pk, party, "a.example", &next, NULL), HESSRA_SUCCESS,
               "restrictions: attest");
    attested = parse_or_null(next);
    CHECK_CODE(hessra_token_restrict_prefix(attested, root_pk, party, "tenant/1/", &last, NULL),
               HESSRA_ERROR_INVALID_PARAMETER, "restrictions: wrong prefix key");
    CHECK_CODE(hessra_token_restrict_prefix(attested, root_pk, pfx, "tenant/1/", &last, NULL), HESSRA_SUCCESS,
               "restrictions: prefix");
    CHECK_CODE(hessra_verify(NULL, root_pk, NULL, (const uint8_t*)last, last ? strlen(last) : 0, &r, NULL, NULL),
               HESSRA_SUCCESS, "restrictions: valid for its prefix");
    r.prefix = "tenant/2/";
    CHECK_CODE(hessra_verify(NULL, root_pk, NULL, (const uint8_t*)last, last ? strlen(last) : 0, &r, NULL, NULL),
               HESSRA_ERROR_VERIFICATION_FAILED, "restrictions: denied for another prefix");

    hessra_string_free(party_key);
    hessra_string_free(pfx_key);
    hessra_string_free(text);
    hessra_string_free(next);
    hessra_string_free(last);
    hessra_token_free(tok);
    hessra_token_free(attested);
    hessra_public_key_free(root_pk);
    hessra_public_key_free(party_pk);
    hessra_public_key_free(pfx_pk);
    hessra_keypair_free(root);
    hessra_keypair_free(party);
    hessra_keypair_free(pfx);
}

/* ---- identity tokens ---- */

static HessraIdentityRequest identity_request(int actor, const char* identity, int64_t now) {
    HessraIdentityRequest r;
    memset(&r, 0, sizeof r);
    r.actor = actor;
    r.identity = identity;
    r.now = now;
    r.leeway_seconds = HESSRA_LEEWAY_UNSET;
    return r;
}

/* A delegatable identity mint request, no domain, no root key id. */
static HessraIdentityMintRequest identity_mint_request(const char* subject, int64_t expires_at) {
    HessraIdentityMintRequest m;
    memset(&m, 0, sizeof m);
    m.subject = subject;
    m.delegatable = 1;
    m.expires_at = expires_at;
    m.root_key_id = -1;
    return m;
}

/* A configuration trusting `key` as "dev", with `extra` (",\"field\":..."
 * or "") appended to its fields; NULL when it does not load. */
static HessraConfig config_trusting(const char* key, const char* extra) {
    char json[1024];
    HessraConfig cfg = NULL;
    snprintf(json, sizeof json, "{\"version\":1,\"keys\":[{\"id\":\"dev\",\"public_key\":\"%s\"}]%s}", key, extra);
    if (hessra_config_from_string(json, &cfg) != HESSRA_SUCCESS) {
        return NULL;
    }
    return cfg;
}

/* hessra_identity_verify of `text` for `identity` (HESSRA_IDENTITY_GIVEN)
 * with the given key, without an outcome. */
static HessraResult verify_identity_as(HessraPublicKey pk, const char* text, const char* identity, int64_t now) {
    HessraIdentityRequest r = identity_request(HESSRA_IDENTITY_GIVEN, identity, now);
    return hessra_identity_verify(NULL, pk, NULL, (const uint8_t*)text, text ? strlen(text) : 0, &r, NULL, NULL);
}

/* A non-NULL pointer that is not a string: an out parameter must be cleared
 * over it on failure. */
static char sentinel_byte;
#define SENTINEL (&sentinel_byte)

/* A failing call that returns a token must clear *out_token and fill out_error. */
#define CHECK_TOKEN_ERROR(call, out, err, want, what)                              \
    do {                                                                           \
        (out) = SENTINEL;                                                          \
        CHECK_CODE(call, want, what);                                              \
        CHECK((out) == NULL && (err).code == (want) && (err).message != NULL,      \
              what ": out cleared, error filled");                                 \
        hessra_error_free((err).message);                                          \
        (err).message = NULL;                                                      \
    } while (0)

/* NULL and bad arguments of the identity functions: the documented code,
 * out parameters cleared, the message freed. */
static void test_identity_arguments(void) {
    HessraKeyPair kp = NULL, other = NULL;
    HessraPublicKey pk = NULL, other_pk = NULL;
    HessraConfig cfg = NULL;
    HessraToken tok = NULL, authz = NULL, fixed = NULL;
    HessraError err = {HESSRA_SUCCESS, NULL};
    char* key = NULL;
    char* text = NULL;
    char* fixed_text = NULL;
    char* out = NULL;
    char* json = NULL;
    int64_t now = now_s();
    HessraIdentityMintRequest m = identity_mint_request("urn:hessra:alice", now + 600);
    HessraIdentityMintRequest bad;
    HessraIdentityRequest r = identity_request(HESSRA_IDENTITY_GIVEN, "urn:hessra:alice", now);
    HessraMintRequest am = mint_request("alice", "orders", "read", now + 600);

    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp);
    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &other);
    hessra_keypair_public_key(kp, &pk);
    hessra_keypair_public_key(other, &other_pk);
    hessra_public_key_to_string(pk, &key);
    cfg = config_trusting(key, "");
    CHECK(cfg != NULL, "identity args: config");
    CHECK_CODE(hessra_identity_mint(kp, &m, &text, NULL), HESSRA_SUCCESS, "identity args: mint");
    tok = parse_or_null(text);
    authz = mint_token(kp, &am);

    /* hessra_identity_mint */
    CHECK_TOKEN_ERROR(hessra_identity_mint(NULL, &m, &out, &err), out, err, HESSRA_ERROR_INVALID_PARAMETER,
                      "identity_mint: NULL keypair");
    CHECK_TOKEN_ERROR(hessra_identity_mint(kp, NULL, &out, &err), out, err, HESSRA_ERROR_INVALID_PARAMETER,
                      "identity_mint: NULL request");
    CHECK_CODE(hessra_identity_mint(kp, &m, NULL, &err), HESSRA_ERROR_INVALID_PARAMETER,
               "identity_mint: NULL out_token");
    CHECK(contains(err.message, "out_token"), "identity_mint: names out_token");
    hessra_error_free(err.message);
    err.message = NULL;
    bad = m;
    bad.subject = NULL;
    CHECK_TOKEN_ERROR(hessra_identity_mint(kp, &bad, &out, &err), out, err, HESSRA_ERROR_INVALID_PARAMETER,
                      "identity_mint: NULL subject");
    bad = m;
    bad.subject = "\xff\xfe";
    CHECK_TOKEN_ERROR(hessra_identity_mint(kp, &bad, &out, &err), out, err, HESSRA_ERROR_INVALID_PARAMETER,
                      "identity_mint: subject not UTF-8");
    bad = m;
    bad.expires_at = 0;
    CHECK_TOKEN_ERROR(hessra_identity_mint(kp, &bad, &out, &err), out, err, HESSRA_ERROR_INVALID_PARAMETER,
                      "identity_mint: expires_at 0");
    bad = m;
    bad.root_key_id = (int64_t)1 << 32;
    out = SENTINEL;
    CHECK_CODE(hessra_identity_mint(kp, &bad, &out, &err), HESSRA_ERROR_INVALID_PARAMETER,
               "identity_mint: root_key_id too large");
    CHECK(out == NULL && contains(err.message, "request.root_key_id must be at most 4294967295"),
          "identity_mint: names request.root_key_id");
    hessra_error_free(err.message);
    err.message = NULL;
    bad = m;
    bad.root_key_id = 7;
    CHECK_CODE(hessra_identity_mint(kp, &bad, &fixed_text, NULL), HESSRA_SUCCESS, "identity_mint: root_key_id 7");
    fixed = parse_or_null(fixed_text);
    CHECK(fixed != NULL && hessra_token_root_key_id(fixed) == 7, "identity_mint: root_key_id in the token");

    /* hessra_identity_delegate */
    CHECK_TOKEN_ERROR(hessra_identity_delegate(NULL, pk, "urn:hessra:alice:laptop", now + 60, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_PARAMETER, "identity_delegate: NULL token");
    CHECK_TOKEN_ERROR(hessra_identity_delegate(tok, NULL, "urn:hessra:alice:laptop", now + 60, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_PARAMETER, "identity_delegate: NULL root_key");
    CHECK_TOKEN_ERROR(hessra_identity_delegate(tok, pk, NULL, now + 60, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_PARAMETER, "identity_delegate: NULL identity");
    CHECK_TOKEN_ERROR(hessra_identity_delegate(tok, pk, "urn:hessra:alice:laptop", 0, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_PARAMETER, "identity_delegate: expires_at 0");
    CHECK_CODE(hessra_identity_delegate(tok, pk, "urn:hessra:alice:laptop", now + 60, NULL, NULL),
               HESSRA_ERROR_INVALID_PARAMETER, "identity_delegate: NULL out_token");
    CHECK_TOKEN_ERROR(hessra_identity_delegate(tok, other_pk, "urn:hessra:alice:laptop", now + 60, &out, &err), out,
                      err, HESSRA_ERROR_VERIFICATION_FAILED, "identity_delegate: wrong root key");
    CHECK_TOKEN_ERROR(hessra_identity_delegate(authz, pk, "alice:laptop", now + 60, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_PARAMETER, "identity_delegate: an authorization token");
    CHECK_TOKEN_ERROR(hessra_identity_delegate(tok, pk, "urn:hessra:alice2", now + 60, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_PARAMETER, "identity_delegate: not below (prefix attack)");
    CHECK_TOKEN_ERROR(hessra_identity_delegate(tok, pk, "urn:hessra:bob", now + 60, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_PARAMETER, "identity_delegate: another identity");
    CHECK_TOKEN_ERROR(hessra_identity_delegate(tok, pk, "urn:hessra:alice:laptop", now - 10, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_PARAMETER, "identity_delegate: already expired");
    bad = m;
    bad.delegatable = 0;
    {
        char* fixed_subject = NULL;
        HessraToken leaf = NULL;
        CHECK_CODE(hessra_identity_mint(kp, &bad, &fixed_subject, NULL), HESSRA_SUCCESS,
                   "identity_mint: not delegatable");
        leaf = parse_or_null(fixed_subject);
        CHECK_TOKEN_ERROR(hessra_identity_delegate(leaf, pk, "urn:hessra:alice:laptop", now + 60, &out, &err), out, err,
                          HESSRA_ERROR_INVALID_PARAMETER, "identity_delegate: not delegatable");
        CHECK_CODE(verify_identity_as(pk, fixed_subject, "urn:hessra:alice", now), HESSRA_SUCCESS,
                   "identity: not delegatable, valid for its subject");
        CHECK_CODE(verify_identity_as(pk, fixed_subject, "urn:hessra:alice:laptop", now),
                   HESSRA_ERROR_VERIFICATION_FAILED, "identity: not delegatable, denied below its subject");
        hessra_token_free(leaf);
        hessra_string_free(fixed_subject);
    }

    /* hessra_identity_jit */
    CHECK_TOKEN_ERROR(hessra_identity_jit(NULL, pk, now + 60, &out, &err), out, err, HESSRA_ERROR_INVALID_PARAMETER,
                      "identity_jit: NULL token");
    CHECK_TOKEN_ERROR(hessra_identity_jit(tok, NULL, now + 60, &out, &err), out, err, HESSRA_ERROR_INVALID_PARAMETER,
                      "identity_jit: NULL root_key");
    CHECK_TOKEN_ERROR(hessra_identity_jit(tok, pk, -5, &out, &err), out, err, HESSRA_ERROR_INVALID_PARAMETER,
                      "identity_jit: negative expires_at");
    CHECK_CODE(hessra_identity_jit(tok, pk, now + 60, NULL, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "identity_jit: NULL out_token");
    CHECK_TOKEN_ERROR(hessra_identity_jit(tok, other_pk, now + 60, &out, &err), out, err,
                      HESSRA_ERROR_VERIFICATION_FAILED, "identity_jit: wrong root key");
    CHECK_TOKEN_ERROR(hessra_identity_jit(authz, pk, now + 60, &out, &err), out, err, HESSRA_ERROR_INVALID_PARAMETER,
                      "identity_jit: an authorization token");

    /* hessra_identity_verify */
    json = SENTINEL;
    CHECK_CODE(hessra_identity_verify(NULL, pk, NULL, (const uint8_t*)text, strlen(text), NULL, &json, &err),
               HESSRA_ERROR_INVALID_PARAMETER, "identity_verify: NULL request");
    CHECK(json == NULL && contains(err.message, "request"), "identity_verify: NULL request, no outcome");
    hessra_error_free(err.message);
    err.message = NULL;
    json = SENTINEL;
    CHECK_CODE(hessra_identity_verify(NULL, pk, NULL, NULL, 0, &r, &json, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "identity_verify: NULL token");
    CHECK(json == NULL, "identity_verify: NULL token, no outcome");
    {
        const struct {
            int actor;
            const char* identity;
            int64_t now;
            const char* what;
        } cases[] = {
            {HESSRA_IDENTITY_GIVEN, NULL, 0, "identity_verify: GIVEN without identity"},
            {HESSRA_IDENTITY_BEARER, "urn:hessra:alice", 0, "identity_verify: BEARER with identity"},
            {HESSRA_IDENTITY_DELEGATED, "urn:hessra:alice", 0, "identity_verify: DELEGATED with identity"},
            {7, NULL, 0, "identity_verify: unknown actor"},
            {HESSRA_IDENTITY_GIVEN, "urn:hessra:alice", -1, "identity_verify: negative now"},
            {HESSRA_IDENTITY_GIVEN, "\xc3\x28", 0, "identity_verify: identity not UTF-8"},
        };
        size_t i;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            HessraIdentityRequest br = identity_request(cases[i].actor, cases[i].identity, cases[i].now);
            json = SENTINEL;
            CHECK_CODE(hessra_identity_verify(NULL, pk, NULL, (const uint8_t*)text, strlen(text), &br, &json, &err),
                       HESSRA_ERROR_INVALID_PARAMETER, cases[i].what);
            CHECK(json == NULL && err.code == HESSRA_ERROR_INVALID_PARAMETER && err.message != NULL, cases[i].what);
            hessra_error_free(err.message);
            err.message = NULL;
        }
    }
    CHECK_CODE(hessra_identity_verify(NULL, pk, "dev", (const uint8_t*)text, strlen(text), &r, NULL, NULL),
               HESSRA_ERROR_INVALID_PARAMETER, "identity_verify: public_key and key_id");
    CHECK_CODE(hessra_identity_verify(NULL, NULL, NULL, (const uint8_t*)text, strlen(text), &r, NULL, NULL),
               HESSRA_ERROR_CONFIG_INVALID, "identity_verify: no key at all");
    CHECK_CODE(hessra_identity_verify(cfg, NULL, "nope", (const uint8_t*)text, strlen(text), &r, NULL, NULL),
               HESSRA_ERROR_CONFIG_INVALID, "identity_verify: unknown key_id");
    CHECK_CODE(hessra_identity_verify(NULL, pk, NULL, (const uint8_t*)"garbage!", 8, &r, &json, NULL),
               HESSRA_ERROR_INVALID_TOKEN, "identity_verify: garbage");
    CHECK(contains(json, "\"status\":\"malformed\""), "identity_verify: garbage, outcome malformed");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_identity_verify(NULL, other_pk, NULL, (const uint8_t*)text, strlen(text), &r, &json, NULL),
               HESSRA_ERROR_VERIFICATION_FAILED, "identity_verify: wrong key");
    CHECK(contains(json, "\"status\":\"invalid\""), "identity_verify: wrong key, outcome invalid");
    hessra_string_free(json);
    json = NULL;
    {
        char* authz_text = NULL;
        hessra_token_to_string(authz, &authz_text);
        CHECK_CODE(hessra_identity_verify(NULL, pk, NULL, (const uint8_t*)authz_text,
                                          authz_text ? strlen(authz_text) : 0, &r, &json, NULL),
                   HESSRA_ERROR_VERIFICATION_FAILED, "identity_verify: an authorization token is denied");
        CHECK(contains(json, "\"status\":\"denied\""), "identity_verify: authorization token, outcome denied");
        hessra_string_free(json);
        json = NULL;
        hessra_string_free(authz_text);
    }

    /* hessra_config_verified_identity */
    CHECK_TOKEN_ERROR(hessra_config_verified_identity(NULL, text, &r, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_PARAMETER, "verified_identity: NULL config");
    CHECK_TOKEN_ERROR(hessra_config_verified_identity(cfg, NULL, &r, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_PARAMETER, "verified_identity: NULL token_string");
    CHECK_TOKEN_ERROR(hessra_config_verified_identity(cfg, text, NULL, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_PARAMETER, "verified_identity: NULL request");
    CHECK_CODE(hessra_config_verified_identity(cfg, text, &r, NULL, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "verified_identity: NULL out_identity");
    r.now = -1;
    CHECK_TOKEN_ERROR(hessra_config_verified_identity(cfg, text, &r, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_PARAMETER, "verified_identity: negative now");
    r.now = now;
    CHECK_TOKEN_ERROR(hessra_config_verified_identity(cfg, "garbage!", &r, &out, &err), out, err,
                      HESSRA_ERROR_INVALID_TOKEN, "verified_identity: garbage");

    hessra_string_free(key);
    hessra_string_free(text);
    hessra_string_free(fixed_text);
    hessra_token_free(tok);
    hessra_token_free(authz);
    hessra_token_free(fixed);
    hessra_config_free(cfg);
    hessra_public_key_free(pk);
    hessra_public_key_free(other_pk);
    hessra_keypair_free(kp);
    hessra_keypair_free(other);
}

/* mint -> delegate -> jit -> verify: the delegated token proves its identity
 * (and below it) only, not the delegator's, a sibling's or a prefix
 * look-alike's (urn:hessra:alice2); through a configuration its verified
 * identity is the narrowest; a revoked one is REVOKED. Every string freed. */
static void test_identity_round_trip(void) {
    HessraKeyPair kp = NULL;
    HessraPublicKey pk = NULL;
    HessraConfig cfg = NULL, revoking = NULL;
    HessraToken base = NULL, laptop = NULL;
    HessraError err = {HESSRA_SUCCESS, NULL};
    char* key = NULL;
    char* base_text = NULL;
    char* laptop_text = NULL;
    char* jit_text = NULL;
    char* json = NULL;
    char* who = NULL;
    char revoked_id[300] = {0};
    char revoked_ids[340];
    int64_t now = now_s();
    HessraIdentityMintRequest m = identity_mint_request("urn:hessra:alice", now + 600);
    HessraIdentityRequest r = identity_request(HESSRA_IDENTITY_DELEGATED, NULL, now);
    const char* delegated_denied[] = {"urn:hessra:alice", "urn:hessra:alice:phone", "urn:hessra:alice2",
                                      "urn:hessra:alice:laptop2", "urn:hessra:bob"};
    size_t i;

    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp);
    hessra_keypair_public_key(kp, &pk);
    hessra_public_key_to_string(pk, &key);
    cfg = config_trusting(key, "");
    CHECK(cfg != NULL, "identity: config");

    CHECK_CODE(hessra_identity_mint(kp, &m, &base_text, NULL), HESSRA_SUCCESS, "identity: mint");
    base = parse_or_null(base_text);
    CHECK_CODE(verify_identity_as(pk, base_text, "urn:hessra:alice", now), HESSRA_SUCCESS, "identity: base, itself");
    CHECK_CODE(verify_identity_as(pk, base_text, "urn:hessra:alice:laptop", now), HESSRA_SUCCESS,
               "identity: base, below it (delegatable)");
    CHECK_CODE(verify_identity_as(pk, base_text, "urn:hessra:alice2", now), HESSRA_ERROR_VERIFICATION_FAILED,
               "identity: base, prefix look-alike denied");
    CHECK_CODE(verify_identity_as(pk, base_text, "urn:hessra:alice", now + 601), HESSRA_ERROR_EXPIRED,
               "identity: base, expired later");

    CHECK_CODE(hessra_identity_delegate(base, pk, "urn:hessra:alice:laptop", now + 300, &laptop_text, &err),
               HESSRA_SUCCESS, "identity: delegate");
    CHECK(err.message == NULL, "identity: delegate, no error message");
    laptop = parse_or_null(laptop_text);
    CHECK_CODE(hessra_identity_jit(laptop, pk, now + 60, &jit_text, NULL), HESSRA_SUCCESS, "identity: jit");

    {
        const char* delegated[] = {laptop_text, jit_text};
        const char* names[] = {"delegated", "jit"};
        size_t t;
        for (t = 0; t < 2; t++) {
            char what[160];
            snprintf(what, sizeof what, "identity: %s, valid for urn:hessra:alice:laptop", names[t]);
            CHECK_CODE(verify_identity_as(pk, delegated[t], "urn:hessra:alice:laptop", now), HESSRA_SUCCESS, what);
            for (i = 0; i < sizeof delegated_denied / sizeof delegated_denied[0]; i++) {
                snprintf(what, sizeof what, "identity: %s, denied for %s", names[t], delegated_denied[i]);
                CHECK_CODE(verify_identity_as(pk, delegated[t], delegated_denied[i], now),
                           HESSRA_ERROR_VERIFICATION_FAILED, what);
            }
        }
    }
    CHECK_CODE(verify_identity_as(pk, jit_text, "urn:hessra:alice:laptop", now + 120), HESSRA_ERROR_EXPIRED,
               "identity: jit, expired after its own bound");
    CHECK_CODE(verify_identity_as(pk, laptop_text, "urn:hessra:alice:laptop", now + 120), HESSRA_SUCCESS,
               "identity: delegated, still valid then");

    /* the outcome JSON names the identity proven */
    CHECK_CODE(hessra_identity_verify(NULL, pk, NULL, (const uint8_t*)jit_text, strlen(jit_text), &r, &json, &err),
               HESSRA_SUCCESS, "identity: jit, delegated actor");
    CHECK(contains(json, "\"status\":\"valid\"") && contains(json, "\"subject\":\"urn:hessra:alice:laptop\""),
          "identity: outcome names the narrowest identity");
    hessra_string_free(json);
    json = NULL;
    r.actor = HESSRA_IDENTITY_BEARER;
    CHECK_CODE(hessra_identity_verify(NULL, pk, NULL, (const uint8_t*)laptop_text, strlen(laptop_text), &r, NULL,
                                      NULL),
               HESSRA_ERROR_VERIFICATION_FAILED, "identity: a delegated token does not verify as bearer");
    CHECK_CODE(hessra_identity_verify(NULL, pk, NULL, (const uint8_t*)base_text, strlen(base_text), &r, NULL, NULL),
               HESSRA_SUCCESS, "identity: base verifies as bearer");
    r.actor = HESSRA_IDENTITY_DELEGATED;

    /* through the configuration */
    CHECK_CODE(hessra_config_verified_identity(cfg, base_text, &r, &who, NULL), HESSRA_SUCCESS,
               "verified_identity: base");
    CHECK(who != NULL && strcmp(who, "urn:hessra:alice") == 0, "verified_identity: base subject");
    hessra_string_free(who);
    who = NULL;
    CHECK_CODE(hessra_config_verified_identity(cfg, jit_text, &r, &who, NULL), HESSRA_SUCCESS,
               "verified_identity: jit");
    CHECK(who != NULL && strcmp(who, "urn:hessra:alice:laptop") == 0, "verified_identity: narrowest");
    hessra_string_free(who);
    who = NULL;
    r.now = now + 120;
    who = SENTINEL;
    CHECK_CODE(hessra_config_verified_identity(cfg, jit_text, &r, &who, &err), HESSRA_ERROR_EXPIRED,
               "verified_identity: jit expired");
    CHECK(who == NULL && err.message != NULL, "verified_identity: expired, no identity");
    hessra_error_free(err.message);
    err.message = NULL;
    r.now = now;

    /* revoked: the base token's authority block revokes the whole chain */
    CHECK(authority_revocation_id(base, revoked_id, sizeof revoked_id), "identity: revocation id");
    snprintf(revoked_ids, sizeof revoked_ids, ",\"revoked_ids\":[\"%s\"]", revoked_id);
    revoking = config_trusting(key, revoked_ids);
    CHECK(revoking != NULL, "identity: revoking config");
    r.actor = HESSRA_IDENTITY_GIVEN;
    r.identity = "urn:hessra:alice:laptop";
    CHECK_CODE(hessra_identity_verify(revoking, NULL, NULL, (const uint8_t*)jit_text, strlen(jit_text), &r, &json,
                                      &err),
               HESSRA_ERROR_REVOKED, "identity_verify: revoked");
    CHECK(contains(json, "\"status\":\"revoked\"") && contains(json, revoked_id) &&
              contains(err.message, "revoked"),
          "identity_verify: revoked outcome and reason");
    hessra_string_free(json);
    json = NULL;
    hessra_error_free(err.message);
    err.message = NULL;
    CHECK_CODE(hessra_identity_verify(cfg, NULL, NULL, (const uint8_t*)jit_text, strlen(jit_text), &r, NULL, NULL),
               HESSRA_SUCCESS, "identity_verify: not revoked without the list");
    r.actor = HESSRA_IDENTITY_DELEGATED;
    r.identity = NULL;
    who = SENTINEL;
    CHECK_CODE(hessra_config_verified_identity(revoking, base_text, &r, &who, NULL), HESSRA_ERROR_REVOKED,
               "verified_identity: revoked");
    CHECK(who == NULL, "verified_identity: revoked, no identity");

    hessra_string_free(key);
    hessra_string_free(base_text);
    hessra_string_free(laptop_text);
    hessra_string_free(jit_text);
    hessra_token_free(base);
    hessra_token_free(laptop);
    hessra_config_free(cfg);
    hessra_config_free(revoking);
    hessra_public_key_free(pk);
    hessra_keypair_free(kp);
}

/* What a token grants (hessra_config_granted_resources) and its claims
 * (hessra_config_claims): candidates from the authority block, each verified
 * in full; nothing granted for tokens that do not verify; JSON as data. */
static void test_granted_and_claims(void) {
    HessraKeyPair kp = NULL, other = NULL;
    HessraPublicKey pk = NULL;
    HessraConfig cfg = NULL, tight = NULL;
    HessraError err = {HESSRA_SUCCESS, NULL};
    HessraToken tok = NULL;
    HessraCacheStats before, after;
    char *key = NULL, *two = NULL, *narrowed = NULL, *old = NULL, *forged = NULL, *json = NULL;
    char config_json[1024];
    int64_t now = now_s();
    HessraVerifyRequest r = request(NULL, NULL, "read");
    const char* rights = "right(\"alice\", \"r2\", \"read\"); right(\"alice\", \"r1\", \"read\");"
                         "right(\"alice\", \"r1\", \"write\");"
                         "check if subject($s), resource($r), operation($o), right($s, $r, $o);"
                         "check if time($t), $t < {exp};";
    char params[64];

    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &kp);
    hessra_keypair_generate(HESSRA_ALGORITHM_ED25519, &other);
    hessra_keypair_public_key(kp, &pk);
    hessra_public_key_to_string(pk, &key);
    snprintf(config_json, sizeof config_json, "{\"version\":1,\"keys\":[{\"id\":\"dev\",\"public_key\":\"%s\"}]}", key);
    CHECK_CODE(hessra_config_from_string(config_json, &cfg), HESSRA_SUCCESS, "granted: config");
    snprintf(params, sizeof params, "{\"exp\": %lld}", (long long)(now + 600));
    CHECK_CODE(hessra_token_mint(kp, rights, params, -1, &two, NULL), HESSRA_SUCCESS, "granted: mint");
    CHECK_CODE(hessra_token_mint(other, rights, params, -1, &forged, NULL), HESSRA_SUCCESS, "granted: mint forged");
    snprintf(params, sizeof params, "{\"exp\": %lld}", (long long)(now - 5));
    CHECK_CODE(hessra_token_mint(kp, rights, params, -1, &old, NULL), HESSRA_SUCCESS, "granted: mint expired");
    tok = parse_or_null(two);
    CHECK_CODE(hessra_token_attenuate(tok, pk, "check if resource(\"r2\");", NULL, &narrowed, NULL), HESSRA_SUCCESS,
               "granted: attenuate");

    CHECK_CODE(hessra_config_cache_stats(cfg, &before), HESSRA_SUCCESS, "granted: stats");
    CHECK_CODE(hessra_config_granted_resources(cfg, two, &r, &json, &err), HESSRA_SUCCESS, "granted: two resources");
    CHECK(json != NULL && strcmp(json, "[\"r1\",\"r2\"]") == 0, "granted: sorted array");
    hessra_string_free(json);
    json = NULL;
    hessra_config_cache_stats(cfg, &after);
    CHECK(after.verifications == before.verifications + 2, "granted: one verification per candidate");
    CHECK_CODE(hessra_config_granted_resources(cfg, narrowed, &r, &json, NULL), HESSRA_SUCCESS, "granted: narrowed");
    CHECK(json != NULL && strcmp(json, "[\"r2\"]") == 0, "granted: attenuation narrows");
    hessra_string_free(json);
    json = NULL;
    r.operation = "write";
    CHECK_CODE(hessra_config_granted_resources(cfg, narrowed, &r, &json, &err), HESSRA_ERROR_VERIFICATION_FAILED,
               "granted: narrowed away from write");
    CHECK(json != NULL && strcmp(json, "[]") == 0 && err.message != NULL, "granted: [] and a reason");
    hessra_string_free(json);
    json = NULL;
    hessra_error_free(err.message);
    err.message = NULL;
    r.operation = "delete";
    CHECK_CODE(hessra_config_granted_resources(cfg, two, &r, &json, &err), HESSRA_ERROR_VERIFICATION_FAILED,
               "granted: no right for the operation");
    CHECK(contains(err.message, "\"delete\""), "granted: the reason names the operation");
    hessra_string_free(json);
    json = NULL;
    hessra_error_free(err.message);
    err.message = NULL;
    r.operation = "read";
    CHECK_CODE(hessra_config_granted_resources(cfg, old, &r, &json, NULL), HESSRA_ERROR_EXPIRED, "granted: expired");
    CHECK(json != NULL && strcmp(json, "[]") == 0, "granted: expired grants nothing");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_config_granted_resources(cfg, forged, &r, &json, NULL), HESSRA_ERROR_VERIFICATION_FAILED,
               "granted: forged");
    CHECK(json != NULL && strcmp(json, "[]") == 0, "granted: forged grants nothing");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_config_granted_resources(cfg, "garbage!", &r, &json, &err), HESSRA_ERROR_INVALID_TOKEN,
               "granted: garbage");
    CHECK(json == NULL && !contains(err.message, "garbage"), "granted: nothing written, token not echoed");
    hessra_error_free(err.message);
    err.message = NULL;
    snprintf(config_json, sizeof config_json,
             "{\"version\":1,\"keys\":[{\"id\":\"dev\",\"public_key\":\"%s\"}],\"limits\":{\"max_facts\":1}}", key);
    CHECK_CODE(hessra_config_from_string(config_json, &tight), HESSRA_SUCCESS, "granted: tight config");
    CHECK_CODE(hessra_config_granted_resources(tight, two, &r, &json, NULL), HESSRA_ERROR_LIMIT_EXCEEDED,
               "granted: more candidates than max_facts");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_config_granted_resources(NULL, two, &r, &json, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "granted: NULL config");
    CHECK_CODE(hessra_config_granted_resources(cfg, NULL, &r, &json, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "granted: NULL token");
    CHECK_CODE(hessra_config_granted_resources(cfg, two, NULL, &json, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "granted: NULL request");
    CHECK_CODE(hessra_config_granted_resources(cfg, two, &r, NULL, NULL), HESSRA_ERROR_INVALID_PARAMETER,
               "granted: NULL out");
    CHECK(json == NULL, "granted: NULL on errors");

    /* claims */
    CHECK_CODE(hessra_config_claims(cfg, narrowed, &r, &json, &err), HESSRA_SUCCESS, "claims: narrowed");
    CHECK(contains(json, "{\"status\":\"valid\",\"kind\":\"authorization\",\"subject\":\"alice\",\"identity\":null,"
                         "\"rights\":[{\"subject\":\"alice\",\"resource\":\"r2\",\"operation\":\"read\"}]") &&
              contains(json, "\"key_id\":\"dev\"") && contains(json, "\"blocks\":2"),
          "claims: JSON of the verified rights");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_config_claims(cfg, old, &r, &json, NULL), HESSRA_ERROR_EXPIRED, "claims: expired");
    CHECK(contains(json, "\"status\":\"expired\"") && contains(json, "\"subject\":null") &&
              contains(json, "\"rights\":[]") && contains(json, "\"revocation_ids\":[\""),
          "claims: expired claims nothing, describes the container");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_config_claims(cfg, forged, &r, &json, NULL), HESSRA_ERROR_VERIFICATION_FAILED, "claims: forged");
    CHECK(contains(json, "\"status\":\"invalid\"") && contains(json, "\"kind\":null"), "claims: forged JSON");
    hessra_string_free(json);
    json = NULL;
    CHECK_CODE(hessra_config_claims(cfg, "garbage!", &r, &json, NULL), HESSRA_ERROR_INVALID_TOKEN, "claims: garbage");
    CHECK_CODE(hessra_config_claims(cfg, two, &r, NULL, NULL), HESSRA_ERROR_INVALID_PARAMETER, "claims: NULL out");
    CHECK(json == NULL, "claims: NULL on errors");

    hessra_string_free(key);
    hessra_string_free(two);
    hessra_string_free(narrowed);
    hessra_string_free(old);
    hessra_string_free(forged);
    hessra_token_free(tok);
    hessra_config_free(cfg);
    hessra_config_free(tight);
    hessra_public_key_free(pk);
    hessra_keypair_free(kp);
    hessra_keypair_free(other);
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "--mint") == 0) {
        return mint_mode(argc, argv);
    }
    if (argc != 2) {
        fprintf(stderr, "usage: test_ffi SAMPLES_DIR | test_ffi --mint ...\n");
        return 2;
    }
    const char* samples = argv[1];
    test_static();
    test_keys();
    test_parse(samples);
    test_verify();
    test_mint_datalog();
    test_service_chain();
    test_config();
    test_verifier();
    test_revocation();
    test_trust();
    test_granted_and_claims();
    test_restrictions();
    test_identity_arguments();
    test_identity_round_trip();
    test_with_error();
    test_threads();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
