/*
 * Micro-benchmark of verification through the C ABI, next to the OpenSSL
 * primitives the same token needs (measured in the same process, on the
 * token's own keys). Not part of the test suite; used to profile.
 *
 *   cc -O2 -I native/include native/tests/c/bench_verify.c \
 *      native/target/release/libhessra_ffi.a -lcrypto -lpcre2-8 -lpthread -ldl -lm \
 *      -o /tmp/bench_verify && /tmp/bench_verify [ITERATIONS] [uncached|cached|floor|all|paired] [0=Ed25519|1=P-256]
 *
 * Prints median microseconds per operation over 7 batches.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/sha.h>

#include "hessra_ffi.h"

/* Thread CPU time: robust against other processes competing for the cores. */
static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

typedef int (*op_fn)(void* ctx, int i);

static double measure(op_fn f, void* ctx, int iters) {
    double t[7];
    int b, i;
    for (i = 0; i < iters / 10 + 1; i++) {
        if (f(ctx, i) != 0) {
            fprintf(stderr, "operation failed\n");
            exit(1);
        }
    }
    for (b = 0; b < 7; b++) {
        double s = now_us();
        for (i = 0; i < iters; i++) {
            f(ctx, i);
        }
        t[b] = (now_us() - s) / iters;
    }
    qsort(t, 7, sizeof t[0], cmp_d);
    return t[3];
}

struct ctx {
    const char* text;
    HessraPublicKey pk;
    HessraConfig cfg;
    HessraToken held;
    HessraVerifyRequest req[2];
    /* floor */
    EVP_PKEY* ed;
    EC_KEY* ec;
    unsigned char payload[4096];
    size_t payload_len;
    unsigned char sig[80];
    size_t sig_len;
    unsigned char seed[32];
    int p256;
};

static int uncached(void* p, int i) {
    struct ctx* c = p;
    HessraToken t = NULL;
    int rc = hessra_token_parse(c->text, &t);
    if (rc) return rc;
    rc = hessra_token_verify_request(t, c->pk, &c->req[0], NULL);
    hessra_token_free(t);
    (void)i;
    return rc;
}

static int cached(void* p, int i) {
    struct ctx* c = p;
    return hessra_token_verify_with_config(c->held, c->cfg, &c->req[i & 1], NULL);
}

static int cached_string(void* p, int i) {
    struct ctx* c = p;
    return hessra_config_verify_token_string(c->cfg, c->text, &c->req[i & 1], NULL);
}

/* The crypto floor of a one-block token with a next secret: one signature
 * verification with the root key, one Ed25519 public key from the seed. */
static int floor_op(void* p, int i) {
    struct ctx* c = p;
    int ok;
    EVP_PKEY* k;
    unsigned char pub[32];
    size_t pub_len = 32;
    (void)i;
    if (c->p256) {
        unsigned char d[32];
        SHA256(c->payload, c->payload_len, d);
        ok = ECDSA_verify(0, d, 32, c->sig, (int)c->sig_len, c->ec) == 1;
    } else {
        EVP_MD_CTX* m = EVP_MD_CTX_new();
        ok = EVP_DigestVerifyInit(m, NULL, NULL, NULL, c->ed) == 1 &&
             EVP_DigestVerify(m, c->sig, c->sig_len, c->payload, c->payload_len) == 1;
        EVP_MD_CTX_free(m);
    }
    k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, c->seed, 32);
    ok = ok && k != NULL && EVP_PKEY_get_raw_public_key(k, pub, &pub_len) == 1;
    EVP_PKEY_free(k);
    return ok ? 0 : 1;
}

/* Minimal protobuf walk to get block 0's payload (v1), signature and the
 * next secret. */
static size_t varint(const unsigned char* b, size_t* pos) {
    size_t x = 0;
    int s = 0;
    while (b[*pos] & 0x80) {
        x |= (size_t)(b[(*pos)++] & 0x7f) << s;
        s += 7;
    }
    x |= (size_t)b[(*pos)++] << s;
    return x;
}

static int b64val(char ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '-' || ch == '+') return 62;
    if (ch == '_' || ch == '/') return 63;
    return -1;
}

static size_t b64dec(const char* s, unsigned char* out) {
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0, v;
    for (; *s; s++) {
        if ((v = b64val(*s)) < 0) continue;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

static void prepare_floor(struct ctx* c, HessraKeyPair kp) {
    unsigned char raw[4096];
    size_t len = b64dec(c->text, raw), pos = 0;
    const unsigned char *block = NULL, *nk = NULL, *sig = NULL;
    size_t block_len = 0, nk_len = 0, sig_len = 0;
    int nk_alg = 0, version = 0;
    char* pktext = NULL;
    unsigned char pkbytes[65];
    size_t pklen = 0, i;
    while (pos < len) {
        size_t key = varint(raw, &pos), l = varint(raw, &pos);
        const unsigned char* v = raw + pos;
        if ((key >> 3) == 2) { /* authority SignedBlock */
            size_t q = 0;
            while (q < l) {
                size_t k2 = varint(v, &q);
                if ((k2 & 7) == 0) { size_t x = varint(v, &q); if ((k2 >> 3) == 5) version = (int)x; continue; }
                {
                    size_t l2 = varint(v, &q);
                    if ((k2 >> 3) == 1) { block = v + q; block_len = l2; }
                    if ((k2 >> 3) == 3) { sig = v + q; sig_len = l2; }
                    if ((k2 >> 3) == 2) {
                        size_t r = 0;
                        const unsigned char* w = v + q;
                        while (r < l2) {
                            size_t k3 = varint(w, &r);
                            if ((k3 & 7) == 0) { nk_alg = (int)varint(w, &r); continue; }
                            { size_t l3 = varint(w, &r); nk = w + r; nk_len = l3; r += l3; }
                        }
                    }
                    q += l2;
                }
            }
        }
        if ((key >> 3) == 4) { /* proof: nextSecret */
            size_t q = 0;
            varint(v, &q);
            varint(v, &q);
            memcpy(c->seed, v + q, 32);
        }
        pos += l;
    }
    if (version == 0) { /* v0: block + alg(next) + key(next) */
        int32_t alg = nk_alg;
        unsigned char* p = c->payload;
        memcpy(p, block, block_len); p += block_len;
        memcpy(p, &alg, 4); p += 4;
        memcpy(p, nk, nk_len); p += nk_len;
        c->payload_len = (size_t)(p - c->payload);
    } else { /* v1 payload of the authority block */
        unsigned char* p = c->payload;
        int32_t alg = nk_alg;
        memcpy(p, "\0BLOCK\0\0VERSION\0", 16); p += 16;
        memcpy(p, "\1\0\0\0", 4); p += 4;
        memcpy(p, "\0PAYLOAD\0", 9); p += 9;
        memcpy(p, block, block_len); p += block_len;
        memcpy(p, "\0ALGORITHM\0", 11); p += 11;
        memcpy(p, &alg, 4); p += 4;
        memcpy(p, "\0NEXTKEY\0", 9); p += 9;
        memcpy(p, nk, nk_len); p += nk_len;
        c->payload_len = (size_t)(p - c->payload);
    }
    memcpy(c->sig, sig, sig_len);
    c->sig_len = sig_len;
    {
        HessraPublicKey pk = NULL;
        hessra_keypair_public_key(kp, &pk);
        hessra_public_key_to_string(pk, &pktext);
        hessra_public_key_free(pk);
    }
    {
        const char* hex = strchr(pktext, '/') + 1;
        for (i = 0; hex[2 * i]; i++) {
            unsigned x;
            sscanf(hex + 2 * i, "%2x", &x);
            pkbytes[i] = (unsigned char)x;
        }
        pklen = i;
    }
    if (c->p256) {
        const unsigned char* q = pkbytes;
        c->ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
        EC_KEY_oct2key(c->ec, q, pklen, NULL);
    } else {
        c->ed = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pkbytes, 32);
    }
    hessra_string_free(pktext);
}

/* Interleaved batches of two operations; prints both medians and the
 * median of the per-round ratios b/a. */
static void paired(const char* label, op_fn a, op_fn b, void* ctx, int iters) {
    double ta[15], tb[15], r[15];
    int k, i;
    for (k = 0; k < 15; k++) {
        double s = now_us();
        for (i = 0; i < iters; i++) a(ctx, i);
        ta[k] = (now_us() - s) / iters;
        s = now_us();
        for (i = 0; i < iters; i++) b(ctx, i);
        tb[k] = (now_us() - s) / iters;
        r[k] = tb[k] / ta[k];
    }
    qsort(ta, 15, sizeof ta[0], cmp_d);
    qsort(tb, 15, sizeof tb[0], cmp_d);
    qsort(r, 15, sizeof r[0], cmp_d);
    printf("  %-40s floor %7.2f us  verify %7.2f us  ratio %.3f (median of per-round ratios; IQR %.3f-%.3f)\n",
           label, ta[7], tb[7], r[7], r[3], r[11]);
}

int main(int argc, char** argv) {
    int iters = argc > 1 ? atoi(argv[1]) : 2000;
    const char* what = argc > 2 ? argv[2] : "all";
    int only = argc > 3 ? atoi(argv[3]) : -1;
    int alg;
    for (alg = 0; alg < 2; alg++) {
        struct ctx c;
        HessraKeyPair kp = NULL;
        if (only >= 0 && only != alg) continue;
        HessraMintRequest m;
        char* text = NULL;
        char* pktext = NULL;
        char cfgjson[512];
        HessraError err = {HESSRA_SUCCESS, NULL};
        memset(&c, 0, sizeof c);
        c.p256 = alg;
        hessra_keypair_generate(alg ? HESSRA_ALGORITHM_SECP256R1 : HESSRA_ALGORITHM_ED25519, &kp);
        hessra_keypair_public_key(kp, &c.pk);
        memset(&m, 0, sizeof m);
        m.subject = "alice";
        m.resource = "res1";
        m.operation = "read";
        m.expires_at = (int64_t)time(NULL) + 3600;
        m.root_key_id = -1;
        if (hessra_token_mint_hessra(kp, &m, &text, &err) != HESSRA_SUCCESS) {
            fprintf(stderr, "mint: %s\n", err.message);
            return 1;
        }
        c.text = text;
        c.req[0].subject = "alice";
        c.req[0].resource = "res1";
        c.req[0].operation = "read";
        c.req[1] = c.req[0];
        c.req[1].operation = NULL;
        hessra_public_key_to_string(c.pk, &pktext);
        snprintf(cfgjson, sizeof cfgjson,
                 "{\"version\":1,\"keys\":[{\"id\":\"k\",\"public_key\":\"%s\"}]}", pktext);
        hessra_string_free(pktext);
        if (hessra_config_from_string(cfgjson, &c.cfg) != HESSRA_SUCCESS) return 1;
        hessra_token_parse(text, &c.held);
        prepare_floor(&c, kp);
        printf("%s, 1 block (%zu chars)\n", alg ? "P-256" : "Ed25519", strlen(text));
        if (!strcmp(what, "paired")) {
            uncached(&c, 0);
            floor_op(&c, 0);
            paired("uncached vs floor (thread CPU time)", floor_op, uncached, &c, iters);
        }
        if (!strcmp(what, "all") || !strcmp(what, "floor"))
            printf("  crypto floor (verify + key from seed)   %8.2f us\n", measure(floor_op, &c, iters));
        if (!strcmp(what, "all") || !strcmp(what, "uncached"))
            printf("  parse + verify_request (uncached)       %8.2f us\n", measure(uncached, &c, iters));
        if (!strcmp(what, "all") || !strcmp(what, "cached")) {
            printf("  verify_with_config (cache hit)          %8.2f us\n", measure(cached, &c, iters * 20));
            printf("  config_verify_token_string (cache hit)  %8.2f us\n", measure(cached_string, &c, iters * 20));
        }
        hessra_token_free(c.held);
        hessra_config_free(c.cfg);
        hessra_public_key_free(c.pk);
        hessra_keypair_free(kp);
        hessra_string_free(text);
        EVP_PKEY_free(c.ed);
        EC_KEY_free(c.ec);
    }
    return 0;
}
