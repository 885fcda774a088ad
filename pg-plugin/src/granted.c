/*
 * granted.c — what the session's token grants, and what it claims:
 *
 *   hessra_granted_resources(operation)                        token = hessra.token
 *   hessra_granted_resources(token, operation, domain, prefix, component)
 *   hessra_current_claims(domain, prefix, component)            token = hessra.token
 *
 * The engine decides (hessra_config_granted_resources, hessra_config_claims):
 * every candidate right of the token's authority block is verified in full,
 * as each hessra_verify_token call would verify it. This file maps the
 * answers: a token that grants nothing (none, malformed, forged, revoked,
 * expired, or denied) gives an empty array or NULL claims, never an error; a
 * missing or broken configuration is the usual ERROR.
 *
 * A policy calls hessra_granted_resources as an uncorrelated subquery,
 *
 *   col = ANY ((SELECT hessra_granted_resources('read')))
 *
 * which PostgreSQL runs once per statement (an InitPlan) and passes to the
 * scan as a parameter: the planner turns the comparison into an Index Cond,
 * so the statement costs what the granted rows cost, not what the table
 * holds.
 *
 * Answers of recent statements are kept (Answer below). The engine is given
 * "now" in whole seconds (hessra_request_time), so the same question in the
 * same second — token bytes, operation, request fields, leeway, configuration
 * generation — has the same answer: a transaction per request (set the
 * token, one query) asks the engine about once a second per token, not once
 * per statement. Keys are compared in full, never by hash alone (a token is
 * a bearer credential). hessra.cache_size = 0 disables it, as it disables
 * the other memos.
 */
#include "hessra_pg.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(pg_hessra_granted_resources_session);
PG_FUNCTION_INFO_V1(pg_hessra_granted_resources);
PG_FUNCTION_INFO_V1(pg_hessra_current_claims);

typedef enum Question
{
	ASK_GRANTED,				/* hessra_config_granted_resources */
	ASK_CLAIMS					/* hessra_config_claims */
} Question;

/* The fields of a question besides the token. */
enum
{
	F_OPERATION,
	F_DOMAIN,
	F_PREFIX,
	F_COMPONENT,
	NFIELDS
};

#define ANSWER_SLOTS 8
#define ANSWER_MAX_KEY (64 * 1024)

typedef struct Answer
{
	bool		valid;
	Question	question;
	int64		now;			/* HessraVerifyRequest.now */
	int64		leeway_seconds; /* HessraVerifyRequest.leeway_seconds */
	uint64		config_gen;
	int32		token_len;
	int32		len[NFIELDS];	/* -1: NULL */
	char	   *key;			/* token, then the fields (TopMemoryContext) */
	Size		cap;
	bool		allowed;		/* something granted / the claims hold */
	char	   *json;			/* the engine's JSON, NULL when none (TopMemoryContext) */
} Answer;

static Answer answers[ANSWER_SLOTS];
static int	answers_next = 0;

/* Backend-lifetime counters (reported by hessra_stats()). */
static uint64 granted_calls = 0;
static uint64 granted_memo_hits = 0;

void
hessra_granted_counters(uint64 *calls, uint64 *memo_hits)
{
	*calls += granted_calls;
	*memo_hits += granted_memo_hits;
}

static int32
field_len(const char *s)
{
	return s == NULL ? -1 : (int32) strlen(s);
}

static Answer *
answer_lookup(Question question, const char *token, const char *const *fields,
			  const HessraVerifyRequest *times, uint64 gen)
{
	int32		token_len = (int32) strlen(token);
	int			i;
	int			f;

	for (i = 0; i < ANSWER_SLOTS; i++)
	{
		Answer	   *a = &answers[i];
		const char *p;
		bool		same;

		if (!a->valid || a->question != question || a->now != times->now ||
			a->leeway_seconds != times->leeway_seconds || a->config_gen != gen ||
			a->token_len != token_len)
			continue;
		same = true;
		p = a->key + token_len;
		for (f = 0; f < NFIELDS && same; f++)
		{
			int32		len = field_len(fields[f]);

			same = a->len[f] == len && (len <= 0 || memcmp(p, fields[f], len) == 0);
			p += Max(len, 0);
		}
		if (same && memcmp(a->key, token, token_len) == 0)
			return a;
	}
	return NULL;
}

static void
answer_store(Question question, const char *token, const char *const *fields,
			 const HessraVerifyRequest *times, uint64 gen, bool allowed, const char *json)
{
	Size		total = strlen(token);
	Answer	   *a;
	char	   *p;
	int			f;

	for (f = 0; f < NFIELDS; f++)
		total += Max(field_len(fields[f]), 0);
	if (total > ANSWER_MAX_KEY)
		return;
	a = &answers[answers_next];
	answers_next = (answers_next + 1) % ANSWER_SLOTS;
	a->valid = false;
	if (a->json != NULL)
		pfree(a->json);
	a->json = json != NULL ? MemoryContextStrdup(TopMemoryContext, json) : NULL;
	if (a->key == NULL || a->cap < total + 1)
	{
		if (a->key != NULL)
			pfree(a->key);
		a->cap = Max(total + 1, (Size) 512);
		a->key = MemoryContextAlloc(TopMemoryContext, a->cap);
	}
	a->token_len = (int32) strlen(token);
	memcpy(a->key, token, a->token_len);
	p = a->key + a->token_len;
	for (f = 0; f < NFIELDS; f++)
	{
		a->len[f] = field_len(fields[f]);
		if (a->len[f] > 0)
		{
			memcpy(p, fields[f], a->len[f]);
			p += a->len[f];
		}
	}
	a->question = question;
	a->now = times->now;
	a->leeway_seconds = times->leeway_seconds;
	a->config_gen = gen;
	a->allowed = allowed;
	a->valid = true;
}

/*
 * The engine's answer to a question about `token` (a recent statement's when
 * it asked the same): whether something is granted / the claims hold, and
 * the engine's JSON (palloc'd; NULL when it wrote none). Denials are answers;
 * configuration and engine failures raise the usual ERROR.
 */
static bool
ask(Question question, const char *token, const char *const *fields, char **out_json)
{
	HessraConfig cfg = hessra_get_config();
	uint64		gen = hessra_config_generation();
	HessraVerifyRequest req;
	HessraError err = {HESSRA_SUCCESS, NULL};
	HessraResult rc;
	Answer	   *a;
	char	   *json = NULL;
	bool		use_memo = hessra_cache_size > 0;

	granted_calls++;
	memset(&req, 0, sizeof(req));
	hessra_request_time(&req);
	if (use_memo && (a = answer_lookup(question, token, fields, &req, gen)) != NULL)
	{
		granted_memo_hits++;
		*out_json = a->json != NULL ? pstrdup(a->json) : NULL;
		return a->allowed;
	}

	req.operation = fields[F_OPERATION];
	req.domain = fields[F_DOMAIN];
	req.prefix = fields[F_PREFIX];
	req.component = fields[F_COMPONENT];
	rc = question == ASK_GRANTED
		? hessra_config_granted_resources(cfg, token, &req, &json, &err)
		: hessra_config_claims(cfg, token, &req, &json, &err);
	if (rc != HESSRA_SUCCESS && !hessra_result_is_denial(rc))
	{
		char	   *msg = err.message ? pstrdup(err.message) : NULL;

		hessra_error_free(err.message);
		hessra_string_free(json);
		hessra_report_engine_error(rc, msg, question == ASK_GRANTED
								   ? "find the resources a token grants"
								   : "read the claims of a token");
	}
	hessra_error_free(err.message);
	*out_json = json != NULL ? pstrdup(json) : NULL;
	hessra_string_free(json);
	if (use_memo)
		answer_store(question, token, fields, &req, gen, rc == HESSRA_SUCCESS, *out_json);
	return rc == HESSRA_SUCCESS;
}

/* text[] of the engine's JSON array of resources; empty for NULL. */
static ArrayType *
resources_array(char *json)
{
	Jsonb	   *jb;
	Datum	   *elems;
	int			n;
	int			i;

	if (json == NULL)
		return construct_empty_array(TEXTOID);
	jb = DatumGetJsonbP(hessra_engine_jsonb(json));
	n = JsonContainerSize(&jb->root);
	if (n == 0 || !JsonContainerIsArray(&jb->root))
		return construct_empty_array(TEXTOID);
	elems = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
	{
		JsonbValue *v = getIthJsonbValueFromContainer(&jb->root, i);

		if (v == NULL || v->type != jbvString)
			elog(ERROR, "hessra engine returned a resource that is not a string");
		elems[i] = PointerGetDatum(cstring_to_text_with_len(v->val.string.val, v->val.string.len));
	}
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

static const char *
arg_or_null(FunctionCallInfo fcinfo, int argno)
{
	if (argno >= PG_NARGS() || PG_ARGISNULL(argno))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* Logs a decision of this file (hessra.audit). */
static void
audit(const char *token, const char *const *fields, const char *function, const char *granted, bool allowed)
{
	hessra_audit(&(HessraAuditDecision) {
		.function = function, .token = token, .operation = fields[F_OPERATION], .domain = fields[F_DOMAIN],
			.prefix = fields[F_PREFIX], .component = fields[F_COMPONENT], .granted = granted, .allowed = allowed
	});
}

/* The body of both forms: the token (NULL: none), the question's fields. */
static Datum
granted_resources(const char *token, const char *const *fields)
{
	char	   *json = NULL;
	bool		granted = false;

	if (token != NULL)
		granted = ask(ASK_GRANTED, token, fields, &json);
	if (hessra_audit_wanted(granted))
		audit(token, fields, "hessra_granted_resources", json != NULL ? json : "[]", granted);
	return PointerGetDatum(resources_array(granted ? json : NULL));
}

/*
 * hessra_granted_resources(operation text) RETURNS text[]
 *
 * The resources hessra.token verifies for `operation` now (NULL: for any
 * operation it grants), sorted, each once; '{}' when it grants none or is
 * unset. See the top of this file.
 */
Datum
pg_hessra_granted_resources_session(PG_FUNCTION_ARGS)
{
	const char *fields[NFIELDS] = {arg_or_null(fcinfo, 0), NULL, NULL, NULL};

	PG_RETURN_DATUM(granted_resources(hessra_session_token(), fields));
}

/*
 * hessra_granted_resources(token text, operation text, domain text DEFAULT
 * NULL, prefix text DEFAULT NULL, component text DEFAULT NULL) RETURNS text[]
 *
 * As the one-argument form for the token given, with the request fields of
 * `hessra verify --domain --prefix --component` (NULL: not given; the
 * configuration's domain and each resource's service chain apply).
 */
Datum
pg_hessra_granted_resources(PG_FUNCTION_ARGS)
{
	const char *token = arg_or_null(fcinfo, 0);
	const char *fields[NFIELDS] = {
		arg_or_null(fcinfo, 1), arg_or_null(fcinfo, 2), arg_or_null(fcinfo, 3), arg_or_null(fcinfo, 4)
	};
	const char *p;

	/* a blank token is no token, as everywhere */
	for (p = token; p != NULL && *p != '\0' && isspace((unsigned char) *p); p++)
		;
	PG_RETURN_DATUM(granted_resources(p != NULL && *p != '\0' ? token : NULL, fields));
}

/*
 * hessra_current_claims(domain text DEFAULT NULL, prefix text DEFAULT NULL,
 * component text DEFAULT NULL) RETURNS jsonb
 *
 * What hessra.token says once verified — kind, subject or identity, the
 * rights that verify now, expiry, root key id, key id, domain, revocation
 * ids, block count (hessra_config_claims' JSON) — or NULL when it is unset
 * or does not verify now.
 */
Datum
pg_hessra_current_claims(PG_FUNCTION_ARGS)
{
	const char *token = hessra_session_token();
	const char *fields[NFIELDS] = {NULL, arg_or_null(fcinfo, 0), arg_or_null(fcinfo, 1), arg_or_null(fcinfo, 2)};
	char	   *json = NULL;
	bool		holds = false;

	if (token != NULL)
		holds = ask(ASK_CLAIMS, token, fields, &json);
	if (hessra_audit_wanted(holds))
		audit(token, fields, "hessra_current_claims", NULL, holds);
	if (!holds || json == NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(hessra_engine_jsonb(json));
}
