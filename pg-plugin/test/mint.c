/*
 * mint.c — TEST-ONLY token minting helper for the pg_regress tests.
 *
 *   mint pubkey KEYFILE
 *       prints the public key ("ed25519/<hex>") of the private key in KEYFILE
 *   mint token KEYFILE SUBJECT RESOURCE OPERATION TTL [ROOT_KEY_ID]
 *       prints a Hessra token right(SUBJECT, RESOURCE, OPERATION) expiring
 *       TTL seconds from now (TTL may be negative: already expired; 0: no
 *       time bound)
 *   mint datalog KEYFILE DATALOG [ROOT_KEY_ID [PARAMS_JSON]]
 *       prints a token whose authority block is DATALOG (ROOT_KEY_ID -1:
 *       none), its {name} placeholders replaced by the values of PARAMS_JSON
 *       (which can carry strings Datalog text cannot, e.g. "\u0000")
 *   mint identity KEYFILE SUBJECT TTL [DELEGATE_TO...]
 *       prints a delegatable identity token for SUBJECT expiring TTL seconds
 *       from now, delegated in turn to each DELEGATE_TO (same expiry)
 *   mint identity-in-domain KEYFILE SUBJECT TTL DOMAIN
 *       prints an identity token for SUBJECT restricted to DOMAIN
 *   mint attenuate KEYFILE TOKEN DATALOG
 *       prints TOKEN (minted with KEYFILE's key) with a block DATALOG appended
 *
 * Everything goes through the engine's C ABI (hessra_ffi.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hessra_ffi.h"

static void
die(const char *what, HessraResult rc, HessraError *err)
{
	fprintf(stderr, "mint: %s: %s%s%s\n", what, hessra_error_message(rc),
			err && err->message ? ": " : "", err && err->message ? err->message : "");
	if (err && err->message)
		hessra_error_free(err->message);
	exit(1);
}

static HessraKeyPair
load_key(const char *path)
{
	HessraKeyPair kp = NULL;
	HessraResult rc = hessra_keypair_from_file(path, &kp);

	if (rc != HESSRA_SUCCESS)
		die(path, rc, NULL);
	return kp;
}

int
main(int argc, char **argv)
{
	HessraError err = {HESSRA_SUCCESS, NULL};
	HessraResult rc;
	char	   *out = NULL;

	if (argc >= 3 && strcmp(argv[1], "pubkey") == 0)
	{
		HessraKeyPair kp = load_key(argv[2]);
		HessraPublicKey pk = NULL;

		rc = hessra_keypair_public_key(kp, &pk);
		if (rc != HESSRA_SUCCESS)
			die("public key", rc, NULL);
		rc = hessra_public_key_to_string(pk, &out);
		if (rc != HESSRA_SUCCESS)
			die("public key text", rc, NULL);
		printf("%s\n", out);
		hessra_string_free(out);
		hessra_public_key_free(pk);
		hessra_keypair_free(kp);
		return 0;
	}
	if (argc >= 7 && strcmp(argv[1], "token") == 0)
	{
		HessraKeyPair kp = load_key(argv[2]);
		HessraMintRequest req;
		long long	ttl = atoll(argv[6]);

		memset(&req, 0, sizeof(req));
		req.subject = argv[3];
		req.resource = argv[4];
		req.operation = argv[5];
		req.expires_at = ttl == 0 ? 0 : (int64_t) time(NULL) + ttl;
		req.root_key_id = argc >= 8 ? atoll(argv[7]) : -1;
		rc = hessra_token_mint_hessra(kp, &req, &out, &err);
		if (rc != HESSRA_SUCCESS)
			die("mint", rc, &err);
		printf("%s\n", out);
		hessra_string_free(out);
		hessra_keypair_free(kp);
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "datalog") == 0)
	{
		HessraKeyPair kp = load_key(argv[2]);
		int64_t		root_key_id = argc >= 5 ? atoll(argv[4]) : -1;
		const char *params = argc >= 6 ? argv[5] : NULL;

		rc = hessra_token_mint(kp, argv[3], params, root_key_id, &out, &err);
		if (rc != HESSRA_SUCCESS)
			die("mint datalog", rc, &err);
		printf("%s\n", out);
		hessra_string_free(out);
		hessra_keypair_free(kp);
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "identity") == 0)
	{
		HessraKeyPair kp = load_key(argv[2]);
		HessraPublicKey pk = NULL;
		HessraIdentityMintRequest req;
		int64_t		expires_at = (int64_t) time(NULL) + atoll(argv[4]);
		int			i;

		memset(&req, 0, sizeof(req));
		req.subject = argv[3];
		req.delegatable = 1;
		req.expires_at = expires_at;
		req.root_key_id = -1;
		rc = hessra_identity_mint(kp, &req, &out, &err);
		if (rc != HESSRA_SUCCESS)
			die("mint identity", rc, &err);
		rc = hessra_keypair_public_key(kp, &pk);
		if (rc != HESSRA_SUCCESS)
			die("public key", rc, NULL);
		for (i = 5; i < argc; i++)
		{
			HessraToken t = NULL;
			char	   *next = NULL;

			rc = hessra_token_parse(out, &t);
			if (rc != HESSRA_SUCCESS)
				die("parse", rc, NULL);
			rc = hessra_identity_delegate(t, pk, argv[i], expires_at, &next, &err);
			if (rc != HESSRA_SUCCESS)
				die("delegate", rc, &err);
			hessra_token_free(t);
			hessra_string_free(out);
			out = next;
		}
		printf("%s\n", out);
		hessra_string_free(out);
		hessra_public_key_free(pk);
		hessra_keypair_free(kp);
		return 0;
	}
	if (argc >= 6 && strcmp(argv[1], "identity-in-domain") == 0)
	{
		HessraKeyPair kp = load_key(argv[2]);
		HessraIdentityMintRequest req;

		memset(&req, 0, sizeof(req));
		req.subject = argv[3];
		req.domain = argv[5];
		req.expires_at = (int64_t) time(NULL) + atoll(argv[4]);
		req.root_key_id = -1;
		rc = hessra_identity_mint(kp, &req, &out, &err);
		if (rc != HESSRA_SUCCESS)
			die("mint identity-in-domain", rc, &err);
		printf("%s\n", out);
		hessra_string_free(out);
		hessra_keypair_free(kp);
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "attenuate") == 0)
	{
		HessraKeyPair kp = load_key(argv[2]);
		HessraPublicKey pk = NULL;
		HessraToken t = NULL;

		rc = hessra_keypair_public_key(kp, &pk);
		if (rc != HESSRA_SUCCESS)
			die("public key", rc, NULL);
		rc = hessra_token_parse(argv[3], &t);
		if (rc != HESSRA_SUCCESS)
			die("parse", rc, NULL);
		rc = hessra_token_attenuate(t, pk, argv[4], NULL, &out, &err);
		if (rc != HESSRA_SUCCESS)
			die("attenuate", rc, &err);
		printf("%s\n", out);
		hessra_string_free(out);
		hessra_token_free(t);
		hessra_public_key_free(pk);
		hessra_keypair_free(kp);
		return 0;
	}
	fprintf(stderr,
			"usage: mint pubkey KEYFILE\n"
			"       mint token KEYFILE SUBJECT RESOURCE OPERATION TTL [ROOT_KEY_ID]\n"
			"       mint datalog KEYFILE DATALOG [ROOT_KEY_ID [PARAMS_JSON]]\n"
			"       mint identity KEYFILE SUBJECT TTL [DELEGATE_TO...]\n"
			"       mint identity-in-domain KEYFILE SUBJECT TTL DOMAIN\n"
			"       mint attenuate KEYFILE TOKEN DATALOG\n");
	return 2;
}
