/*
 * runner.c — feeds the hostile-input corpus through the engine's C ABI.
 *
 *   runner CASES.TSV DIR [--valgrind-subset] [--only NAME]
 *
 * CASES.TSV is written by generate.mjs (one case a line, tab separated):
 *   name kind encoding file key subject resource operation c_codes c_config_codes sql max_ms valgrind
 *
 * For a "key" case: hessra_public_key_from_string(file contents) must return
 * one of c_codes.
 * For a "token" case:
 *   (a) hessra_token_parse (text) or hessra_token_parse_bytes (binary), then
 *       hessra_token_verify_request with `key` — result in c_codes; then
 *       hessra_token_inspect must not crash (any result); the error message
 *       must not contain the token;
 *   (b) text cases only: hessra_config_verify_token_string with a configuration
 *       trusting `key` (default limits, like the PostgreSQL hot path) — result
 *       in c_config_codes, twice (the second call may hit the cache and must
 *       agree).
 * Every case must finish within max_ms (wall clock, both paths; ignored under
 * valgrind). Prints one line per case and "N passed, M failed".
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hessra_ffi.h"

static int passed, failed;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static unsigned char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	unsigned char *buf;
	long		n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t) n + 1);
	if (!buf || fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = (size_t) n;
	return buf;
}

static int
code_in(int code, const char *list)
{
	char		tmp[128];
	char	   *tok,
			   *save = NULL;

	snprintf(tmp, sizeof tmp, "%s", list);
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (atoi(tok) == code)
			return 1;
	return 0;
}

/* Does the engine's message contain (a 24-character piece of) the token? */
static int
leaks(const char *msg, const unsigned char *content, size_t len)
{
	char		probe[25];
	size_t		off;

	if (!msg || len < 40)
		return 0;
	for (off = 0; off + 24 <= len && off < 4096; off += 97)
	{
		memcpy(probe, content + off, 24);
		probe[24] = 0;
		if (strlen(probe) == 24 && strstr(msg, probe))
			return 1;
	}
	return 0;
}

#define NFIELDS 13

int
main(int argc, char **argv)
{
	FILE	   *tsv;
	char	   *line = NULL;
	size_t		cap = 0;
	int			subset = 0;
	const char *only = NULL;
	int			under_valgrind = getenv("CORPUS_VALGRIND") != NULL;
	int			i;

	if (argc < 3)
	{
		fprintf(stderr, "usage: runner CASES.TSV DIR [--valgrind-subset] [--only NAME]\n");
		return 2;
	}
	for (i = 3; i < argc; i++)
	{
		if (strcmp(argv[i], "--valgrind-subset") == 0)
			subset = 1;
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
	}
	tsv = fopen(argv[1], "r");
	if (!tsv)
	{
		perror(argv[1]);
		return 2;
	}
	printf("engine %s\n", hessra_version());
	while (getline(&line, &cap, tsv) > 0)
	{
		char	   *f[NFIELDS];
		char	   *save = NULL;
		char		path[4096];
		unsigned char *content;
		size_t		len = 0;
		int			n = 0,
					ok = 1,
					code = -1,
					ccode = -1;
		double		t0,
					ms;
		char		why[512] = "";

		line[strcspn(line, "\n")] = 0;
		for (char *p = strtok_r(line, "\t", &save); p && n < NFIELDS; p = strtok_r(NULL, "\t", &save))
			f[n++] = p;
		if (n != NFIELDS)
			continue;
		if (only && strcmp(only, f[0]) != 0)
			continue;
		if (subset && strcmp(f[12], "1") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", argv[2], f[3]);
		content = read_file(path, &len);
		if (!content)
		{
			printf("FAIL %s: cannot read %s\n", f[0], path);
			failed++;
			continue;
		}
		t0 = now_ms();
		if (strcmp(f[1], "key") == 0)
		{
			HessraPublicKey key = NULL;

			code = hessra_public_key_from_string((const char *) content, &key);
			if (code == HESSRA_SUCCESS)
			{
				char	   *txt = NULL;

				if (hessra_public_key_to_string(key, &txt) == HESSRA_SUCCESS)
					hessra_string_free(txt);
			}
			else if (key != NULL)
			{
				ok = 0;
				snprintf(why, sizeof why, "out_key not NULL on failure");
			}
			hessra_public_key_free(key);
			if (!code_in(code, f[8]))
			{
				ok = 0;
				snprintf(why, sizeof why, "key result %d, expected %s", code, f[8]);
			}
		}
		else
		{
			HessraToken tok = NULL;
			HessraPublicKey key = NULL;
			HessraError err = {HESSRA_SUCCESS, NULL};
			HessraVerifyRequest req;
			int			text = strcmp(f[2], "text") == 0;

			memset(&req, 0, sizeof req);
			req.subject = f[5];
			req.resource = f[6];
			req.operation = f[7];
			if (hessra_public_key_from_string(f[4], &key) != HESSRA_SUCCESS)
				key = NULL;
			code = text ? hessra_token_parse((const char *) content, &tok)
				: hessra_token_parse_bytes(content, len, &tok);
			if (code == HESSRA_SUCCESS)
			{
				char	   *json = NULL;

				if (hessra_token_inspect(tok, &json) == HESSRA_SUCCESS)
					hessra_string_free(json);
				if (key)
					code = hessra_token_verify_request(tok, key, &req, &err);
				else
					code = HESSRA_ERROR_INVALID_KEY;
				if (leaks(err.message, content, len))
				{
					ok = 0;
					snprintf(why, sizeof why, "error message contains the token");
				}
				hessra_error_free(err.message);
				err.message = NULL;
			}
			else if (tok != NULL)
			{
				ok = 0;
				snprintf(why, sizeof why, "out_token not NULL on failure");
			}
			hessra_token_free(tok);
			if (ok && !code_in(code, f[8]))
			{
				ok = 0;
				snprintf(why, sizeof why, "direct result %d, expected %s", code, f[8]);
			}
			if (text && strcmp(f[9], "-") != 0)
			{
				HessraConfig cfg = NULL;
				char		json[512];
				int			round;

				snprintf(json, sizeof json,
						 "{\"version\": 1, \"default_key\": \"k\", \"keys\": [{\"id\": \"k\", \"public_key\": \"%s\"}]}", f[4]);
				if (hessra_config_from_string(json, &cfg) != HESSRA_SUCCESS)
				{
					/* an untrusted key the config refuses: nothing to verify with */
					ccode = HESSRA_ERROR_INVALID_KEY;
				}
				else
				{
					for (round = 0; round < 2; round++)
					{
						int			c = hessra_config_verify_token_string(cfg, (const char *) content, &req, &err);

						if (leaks(err.message, content, len))
						{
							ok = 0;
							snprintf(why, sizeof why, "config-path error message contains the token");
						}
						hessra_error_free(err.message);
						err.message = NULL;
						if (round == 1 && c != ccode && ok)
						{
							ok = 0;
							snprintf(why, sizeof why, "config path: second call gave %d, first %d", c, ccode);
						}
						ccode = c;
					}
					hessra_config_free(cfg);
				}
				if (ok && !code_in(ccode, f[9]))
				{
					ok = 0;
					snprintf(why, sizeof why, "config result %d, expected %s", ccode, f[9]);
				}
			}
			hessra_public_key_free(key);
		}
		ms = now_ms() - t0;
		if (ok && !under_valgrind && ms > atof(f[11]))
		{
			ok = 0;
			snprintf(why, sizeof why, "took %.1f ms, bound %s ms", ms, f[11]);
		}
		if (ok)
		{
			passed++;
			{
				char		cc[32] = "";

				if (ccode >= 0)
					snprintf(cc, sizeof cc, " config=%d", ccode);
				printf("ok   %-40s c=%d%s %.1f ms\n", f[0], code, cc, ms);
			}
		}
		else
		{
			failed++;
			printf("FAIL %-40s %s\n", f[0], why);
		}
		free(content);
	}
	free(line);
	fclose(tsv);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
