/*
 * harness.c — coverage-guided fuzzing of the engine through its C ABI.
 *
 * One input drives one target, chosen by its first byte (modulo the number
 * of targets); the rest of the input is the target's data:
 *
 *   0 token text      hessra_token_parse_with_error, inspect, to_string
 *   1 token bytes     hessra_token_parse_bytes, inspect, root key id
 *   2 key text        public key and key pair parsing, printing
 *   3 config JSON     hessra_config_from_string_with_error, describe
 *   4 block Datalog   mint an authority block from it, verify it through a
 *                     configuration (engine time limit FUZZ_LIMIT_MS)
 *   5 block Datalog   the same as an attenuation block of a Hessra token
 *   6 authorizer      hessra_token_authorize of a fixed token with it
 *   7 token text      hessra_config_verify_token_string and
 *                     hessra_config_verified_subject
 *
 * Built two ways (native/fuzz/run.sh): with libFuzzer and sanitizers for the
 * campaign (`npm run fuzz`), and with FUZZ_REPLAY as a plain program that
 * replays the corpus and fails on an input slower than FUZZ_REPLAY_MAX_MS
 * (`npm test`). Every token the engine verifies here runs under a
 * FUZZ_LIMIT_MS time limit, so an input that takes much longer (libFuzzer's
 * -timeout) is work the engine does not account for.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hessra_ffi.h"

#define FUZZ_LIMIT_MS 50
#define TARGETS 8

static HessraKeyPair root;
static HessraPublicKey root_pub;
static HessraConfig config;
static char *base_token;		/* right("alice", "orders", "read") and a time check */

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz harness setup failed: %s\n", what);
	abort();
}

static void
setup(void)
{
	char	   *pub_text = NULL;
	char		json[512];
	HessraMintRequest mint;

	if (root != NULL)
		return;
	/* fixed key: reproducible inputs and tokens across runs */
	if (hessra_keypair_from_string("ed25519-private/"
								   "0101010101010101010101010101010101010101010101010101010101010101",
								   &root) != HESSRA_SUCCESS)
		fail("key pair");
	if (hessra_keypair_public_key(root, &root_pub) != HESSRA_SUCCESS ||
		hessra_public_key_to_string(root_pub, &pub_text) != HESSRA_SUCCESS)
		fail("public key");
	snprintf(json, sizeof json,
			 "{\"version\": 1, \"keys\": [{\"id\": \"root\", \"public_key\": \"%s\"}],"
			 " \"limits\": {\"max_time_ms\": %d}}", pub_text, FUZZ_LIMIT_MS);
	hessra_string_free(pub_text);
	if (hessra_config_from_string(json, &config) != HESSRA_SUCCESS)
		fail("configuration");
	memset(&mint, 0, sizeof mint);
	mint.subject = "alice";
	mint.resource = "orders";
	mint.operation = "read";
	mint.expires_at = 4102444800;	/* 2100-01-01 */
	mint.root_key_id = -1;
	if (hessra_token_mint_hessra(root, &mint, &base_token, NULL) != HESSRA_SUCCESS)
		fail("base token");
}

/* The input as a NUL-terminated string (the ABI takes C strings). */
static char *
cstring(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static void
free_error(HessraError *err)
{
	hessra_error_free(err->message);
	err->message = NULL;
}

static void
verify_text(const char *token)
{
	HessraVerifyRequest req;
	HessraError err = {HESSRA_SUCCESS, NULL};
	char	   *subject = NULL;

	memset(&req, 0, sizeof req);
	req.subject = "alice";
	req.resource = "orders";
	(void) hessra_config_verify_token_string(config, token, &req, &err);
	free_error(&err);
	(void) hessra_config_verified_subject(config, token, &req, &subject, &err);
	hessra_string_free(subject);
	free_error(&err);
}

static void
inspect(HessraToken tok)
{
	char	   *out = NULL;

	if (hessra_token_inspect(tok, &out) == HESSRA_SUCCESS)
		hessra_string_free(out);
	if (hessra_token_to_string(tok, &out) == HESSRA_SUCCESS)
		hessra_string_free(out);
	(void) hessra_token_root_key_id(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	HessraError err = {HESSRA_SUCCESS, NULL};
	HessraToken tok = NULL;
	char	   *text;
	char	   *out = NULL;
	unsigned	target;

	if (size == 0)
		return 0;
	setup();
	target = data[0] % TARGETS;
	text = cstring(data + 1, size - 1);

	switch (target)
	{
		case 0:
			if (hessra_token_parse_with_error(text, &tok, &err) == HESSRA_SUCCESS)
				inspect(tok);
			free_error(&err);
			break;
		case 1:
			if (hessra_token_parse_bytes(data + 1, size - 1, &tok) == HESSRA_SUCCESS)
				inspect(tok);
			break;
		case 2:
			{
				HessraPublicKey key = NULL;
				HessraKeyPair kp = NULL;

				if (hessra_public_key_from_string(text, &key) == HESSRA_SUCCESS)
				{
					if (hessra_public_key_to_pem(key, &out) == HESSRA_SUCCESS)
						hessra_string_free(out);
					hessra_public_key_free(key);
				}
				if (hessra_keypair_from_string(text, &kp) == HESSRA_SUCCESS)
					hessra_keypair_free(kp);
				break;
			}
		case 3:
			{
				HessraConfig cfg = NULL;

				if (hessra_config_from_string_with_error(text, &cfg, &err) == HESSRA_SUCCESS)
				{
					if (hessra_config_describe(cfg, &out) == HESSRA_SUCCESS)
						hessra_string_free(out);
					hessra_config_free(cfg);
				}
				free_error(&err);
				break;
			}
		case 4:
			if (hessra_token_mint(root, text, NULL, -1, &out, &err) == HESSRA_SUCCESS)
			{
				verify_text(out);
				hessra_string_free(out);
			}
			free_error(&err);
			break;
		case 5:
			if (hessra_token_parse(base_token, &tok) == HESSRA_SUCCESS &&
				hessra_token_attenuate(tok, root_pub, text, NULL, &out, &err) == HESSRA_SUCCESS)
			{
				verify_text(out);
				hessra_string_free(out);
			}
			free_error(&err);
			break;
		case 6:
			if (hessra_token_parse(base_token, &tok) == HESSRA_SUCCESS)
				(void) hessra_token_authorize(tok, root_pub, text, &out, &err);
			hessra_string_free(out);
			free_error(&err);
			break;
		default:
			verify_text(text);
			break;
	}
	hessra_token_free(tok);
	free(text);
	return 0;
}

#ifdef FUZZ_REPLAY
/*
 * Corpus replay without libFuzzer: runs every file named on the command
 * line once and fails when one crashes (the process dies) or takes longer
 * than FUZZ_REPLAY_MAX_MS.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>

#ifndef FUZZ_REPLAY_MAX_MS
#define FUZZ_REPLAY_MAX_MS 1000
#endif

/* Seconds after which a single input counts as hung: the replay then ends
 * at once instead of holding `npm test`. */
#define FUZZ_REPLAY_HANG_S 20

static const char *current_input = "";

static void
on_alarm(int sig)
{
	static const char msg[] = "HUNG: an input ran for 20 s: ";

	(void) sig;
	(void) write(2, msg, sizeof msg - 1);
	(void) write(2, current_input, strlen(current_input));
	(void) write(2, "\n", 1);
	_exit(1);
}

static uint8_t *
read_file(const char *path, size_t *size)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf = NULL;
	size_t		cap = 0;
	size_t		n;

	*size = 0;
	if (f == NULL)
		return NULL;
	for (;;)
	{
		if (*size == cap)
		{
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		n = fread(buf + *size, 1, cap - *size, f);
		if (n == 0)
			break;
		*size += n;
	}
	fclose(f);
	return buf;
}

int
main(int argc, char **argv)
{
	int			slow = 0;
	int			i;

	signal(SIGALRM, on_alarm);
	for (i = 1; i < argc; i++)
	{
		size_t		size;
		uint8_t    *data = read_file(argv[i], &size);
		struct timespec t0, t1;
		long		ms;

		if (data == NULL)
		{
			fprintf(stderr, "cannot read %s\n", argv[i]);
			return 2;
		}
		current_input = argv[i];
		alarm(FUZZ_REPLAY_HANG_S);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		LLVMFuzzerTestOneInput(data, size);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		alarm(0);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms > FUZZ_REPLAY_MAX_MS)
		{
			fprintf(stderr, "SLOW: %s took %ld ms (bound %d ms)\n", argv[i], ms, FUZZ_REPLAY_MAX_MS);
			slow++;
		}
		free(data);
	}
	printf("replayed %d inputs, %d slow\n", argc - 1, slow);
	return slow == 0 ? 0 : 1;
}
#endif
