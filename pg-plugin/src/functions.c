/*
 * functions.c — the SQL-callable functions of the "hessra" extension.
 *
 * Every decision about a token is made by the engine's verifier
 * (hessra_verify, the call the CLI and the C ABI answer with too); this file
 * only moves arguments, picks "now" (the statement start time) and maps
 * results:
 *   SUCCESS                                  -> true
 *   INVALID_TOKEN, VERIFICATION_FAILED, EXPIRED, LIMIT_EXCEEDED,
 *   INVALID_KEY, INVALID_PARAMETER           -> false (never an error)
 *   CONFIG_INVALID, IO, MEMORY, INTERNAL     -> ERROR
 * A NULL or empty token is false without consulting anything.
 *
 * Hot path (RLS policies evaluate these per row): no file, SPI or network I/O;
 * the configuration file is stat()ed at most once per statement; the engine's
 * cache skips the signature check of a token it has seen; and a small
 * per-statement memo answers repeated identical calls of the same statement
 * (same token, arguments, configuration generation, leeway and statement start
 * time — so time checks are still evaluated once per statement).
 *
 * The token is never put into a message: engine messages do not contain it,
 * and hessra_explain() additionally scrubs it.
 */
#include "hessra_pg.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(pg_hessra_init);
PG_FUNCTION_INFO_V1(pg_hessra_reload_config);
PG_FUNCTION_INFO_V1(pg_hessra_verify_token);
PG_FUNCTION_INFO_V1(pg_hessra_verify_token_operation);
PG_FUNCTION_INFO_V1(pg_hessra_set_token);
PG_FUNCTION_INFO_V1(pg_hessra_current_token);
PG_FUNCTION_INFO_V1(pg_hessra_current_subject);
PG_FUNCTION_INFO_V1(pg_hessra_inspect);
PG_FUNCTION_INFO_V1(pg_hessra_explain);
PG_FUNCTION_INFO_V1(pg_hessra_stats);

/* Backend-lifetime counters. */
static uint64 stat_calls = 0;
static uint64 stat_memo_hits = 0;

/* ------------------------------------------------------------------------ */
/* Per-statement memo                                                       */
/* ------------------------------------------------------------------------ */

#define MEMO_SLOTS 8
#define MEMO_MAX_KEY (64 * 1024)
#define NARGS 7

typedef struct MemoSlot
{
	bool		valid;
	TimestampTz ts;
	uint64		gen;
	int64		leeway;
	int32		len[NARGS];		/* -1: NULL */
	char	   *buf;			/* concatenated argument bytes (TopMemoryContext) */
	Size		cap;
	bool		result;
} MemoSlot;

static MemoSlot memo[MEMO_SLOTS];
static int	memo_next = 0;
static int	memo_last = 0;		/* the slot that answered or was stored last */

typedef struct CallArgs
{
	const char *ptr[NARGS];		/* token, subject, resource, operation, domain, prefix,
								 * component (not NUL-terminated) */
	int32		len[NARGS];		/* -1: NULL */
} CallArgs;

static Size
args_total(const CallArgs *a)
{
	Size		t = 0;
	int			i;

	for (i = 0; i < NARGS; i++)
		if (a->len[i] > 0)
			t += a->len[i];
	return t;
}

/* Whether slot m holds exactly these arguments: the statement, generation,
 * leeway and every length are compared first, then the bytes, the token
 * last (the short arguments differ more often and cost less). */
static bool
memo_matches(const MemoSlot *m, const CallArgs *a, TimestampTz ts, uint64 gen, int64 leeway)
{
	const char *p;
	const char *tok;
	int			i;

	if (!m->valid || m->ts != ts || m->gen != gen || m->leeway != leeway)
		return false;
	for (i = 0; i < NARGS; i++)
		if (m->len[i] != a->len[i])
			return false;
	tok = m->buf;				/* the token is stored first */
	p = m->buf + a->len[0];
	for (i = 1; i < NARGS; i++)
	{
		if (a->len[i] > 0)
		{
			if (memcmp(p, a->ptr[i], a->len[i]) != 0)
				return false;
			p += a->len[i];
		}
	}
	return memcmp(tok, a->ptr[0], a->len[0]) == 0;
}

/*
 * The memo slot answering these arguments, or NULL. The slot that answered
 * last is tried first: a policy evaluated for every row asks the same
 * question row after row, so a hit costs one comparison of the arguments
 * (a single memcmp of the token; nothing else scans it). The bytes must be
 * compared: the same argument pointer and length do not prove the same
 * token (a token column, a per-row memory context reused row after row).
 */
static MemoSlot *
memo_lookup(const CallArgs *a, TimestampTz ts, uint64 gen, int64 leeway)
{
	int			s;

	if (memo_matches(&memo[memo_last], a, ts, gen, leeway))
		return &memo[memo_last];
	for (s = 0; s < MEMO_SLOTS; s++)
	{
		if (s != memo_last && memo_matches(&memo[s], a, ts, gen, leeway))
		{
			memo_last = s;
			return &memo[s];
		}
	}
	return NULL;
}

static void
memo_store(const CallArgs *a, TimestampTz ts, uint64 gen, int64 leeway, bool result)
{
	Size		total = args_total(a);
	MemoSlot   *m;
	char	   *p;
	int			i;

	if (total > MEMO_MAX_KEY)
		return;
	memo_last = memo_next;
	m = &memo[memo_next];
	memo_next = (memo_next + 1) % MEMO_SLOTS;
	m->valid = false;
	if (m->buf == NULL || m->cap < total + 1)
	{
		Size		cap = Max(total + 1, (Size) 1024);

		if (m->buf != NULL)
			pfree(m->buf);
		m->buf = MemoryContextAlloc(TopMemoryContext, cap);
		m->cap = cap;
	}
	p = m->buf;
	for (i = 0; i < NARGS; i++)
	{
		m->len[i] = a->len[i];
		if (a->len[i] > 0)
		{
			memcpy(p, a->ptr[i], a->len[i]);
			p += a->len[i];
		}
	}
	m->ts = ts;
	m->gen = gen;
	m->leeway = leeway;
	m->result = result;
	m->valid = true;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static void
arg_text(FunctionCallInfo fcinfo, int argno, CallArgs *a, int slot)
{
	if (argno < 0 || PG_ARGISNULL(argno))
	{
		a->ptr[slot] = NULL;
		a->len[slot] = -1;
	}
	else
	{
		text	   *t = PG_GETARG_TEXT_PP(argno);

		a->ptr[slot] = VARDATA_ANY(t);
		a->len[slot] = VARSIZE_ANY_EXHDR(t);
	}
}

static char *
arg_cstring(const CallArgs *a, int slot)
{
	if (a->len[slot] < 0)
		return NULL;
	return pnstrdup(a->ptr[slot], a->len[slot]);
}

static bool
token_is_empty(const CallArgs *a)
{
	int			i;

	if (a->len[0] <= 0)
		return true;
	for (i = 0; i < a->len[0]; i++)
		if (!isspace((unsigned char) a->ptr[0][i]))
			return false;
	return true;
}

static bool
contains_nul(const CallArgs *a)
{
	int			i;

	for (i = 0; i < NARGS; i++)
		if (a->len[i] > 0 && memchr(a->ptr[i], '\0', a->len[i]) != NULL)
			return true;
	return false;
}

/* One engine verification (no memo): hessra_verify, the verifier every front
 * end asks. `fields` (NULL: none) are the request's domain, prefix and
 * component. Denials give false; configuration and engine failures raise an
 * ERROR with the engine's explanation, which comes with the same call. When
 * out_rc/out_msg are given, the result code and the explanation (palloc'd,
 * may be NULL) are returned. */
static bool
engine_verify(HessraConfig cfg, const char *token, const char *subject,
			  const char *resource, const char *operation, const char *const *fields,
			  HessraResult *out_rc, char **out_msg)
{
	HessraVerifyRequest req;
	HessraError err;
	HessraResult rc;
	char	   *msg = NULL;

	memset(&req, 0, sizeof(req));
	req.subject = subject;
	req.resource = resource;
	req.operation = operation;
	if (fields != NULL)
	{
		req.domain = fields[0];
		req.prefix = fields[1];
		req.component = fields[2];
	}
	hessra_request_time(&req);

	err.code = HESSRA_SUCCESS;
	err.message = NULL;
	rc = hessra_verify(cfg, NULL, NULL, (const uint8 *) token, strlen(token), &req,
					   NULL, &err);
	if (err.message != NULL)
	{
		msg = pstrdup(err.message);
		hessra_error_free(err.message);
		err.message = NULL;
	}
	if (out_rc)
		*out_rc = rc;
	if (out_msg)
		*out_msg = msg;
	if (rc == HESSRA_SUCCESS)
		return true;
	if (hessra_result_is_denial(rc))
		return false;
	hessra_report_engine_error(rc, msg, "verify a token");
	return false;				/* not reached */
}

/* One verification without any memo (rowsec.c's miss path). */
bool
hessra_verify_uncached(HessraConfig cfg, const char *token, const char *subject,
					   const char *resource, const char *operation)
{
	return engine_verify(cfg, token, subject, resource, operation, NULL, NULL, NULL);
}

/* Logs a hessra_verify_token decision (hessra.audit); `token` NULL: none. */
static void
audit_verify(const CallArgs *a, const char *token, bool ok)
{
	hessra_audit(&(HessraAuditDecision) {
		.function = "hessra_verify_token", .token = token, .subject = arg_cstring(a, 1),
			.resource = token != NULL ? arg_cstring(a, 2) : NULL,	/* no token: any resource */
			.operation = arg_cstring(a, 3), .domain = arg_cstring(a, 4), .prefix = arg_cstring(a, 5),
			.component = arg_cstring(a, 6), .allowed = ok
	});
}

/* Logs a decision about who the token is for (hessra.audit): the identity or subject asked for or found. */
static void
audit_identity(const char *function, const char *token, const char *identity,
			   const char *domain, bool ok)
{
	hessra_audit(&(HessraAuditDecision) {
		.function = function, .token = token, .subject = identity, .domain = domain, .allowed = ok
	});
}

/* The shared body of hessra_verify_token. */
static bool
verify_call(const CallArgs *a)
{
	HessraConfig cfg;
	TimestampTz ts;
	uint64		gen;
	int64		leeway;
	MemoSlot   *m;
	char	   *token;
	char	   *subject;
	char	   *resource;
	char	   *operation;
	char	   *fields[3];
	bool		ok;
	bool		use_memo;
	int			i;

	stat_calls++;

	/* token_is_empty stops at the first non-space byte: O(1) for a token */
	if (token_is_empty(a) || a->len[2] < 0)
	{
		/* no token: logged without consulting anything (a NULL resource with a
		 * token is no decision about the token) */
		if (token_is_empty(a) && hessra_audit_wanted(false))
			audit_verify(a, NULL, false);
		return false;
	}

	cfg = hessra_get_config();
	ts = GetCurrentStatementStartTimestamp();
	gen = hessra_config_generation();
	leeway = hessra_leeway_seconds;	/* the file's leeway is part of the generation */
	use_memo = hessra_cache_size > 0;

	/* Only arguments without NUL bytes are ever stored, so a hit needs no
	 * scan for them. A hit answers a call of this statement (the memo is
	 * keyed on its start), whose decision the audit log has already seen. */
	if (use_memo && (m = memo_lookup(a, ts, gen, leeway)) != NULL)
	{
		stat_memo_hits++;
		return m->result;
	}
	if (contains_nul(a))
		return false;

	token = arg_cstring(a, 0);
	subject = arg_cstring(a, 1);
	resource = arg_cstring(a, 2);
	operation = arg_cstring(a, 3);
	for (i = 0; i < 3; i++)
		fields[i] = arg_cstring(a, 4 + i);

	ok = engine_verify(cfg, token, subject, resource, operation, (const char *const *) fields, NULL, NULL);
	if (hessra_audit_wanted(ok))
		audit_verify(a, token, ok);

	pfree(token);
	if (subject)
		pfree(subject);
	pfree(resource);
	if (operation)
		pfree(operation);
	for (i = 0; i < 3; i++)
		if (fields[i])
			pfree(fields[i]);

	if (use_memo)
		memo_store(a, ts, gen, leeway, ok);
	return ok;
}

/* ------------------------------------------------------------------------ */
/* Superuser-only administration                                            */
/* ------------------------------------------------------------------------ */

static void
require_superuser(const char *fname)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function %s", fname),
				 errdetail("Only superusers may choose or reload the hessra configuration: it decides which keys are trusted.")));
}

/* hessra_init(config_path text) RETURNS boolean
 * Sets hessra.config_path for this session (like SET: rolled back with the
 * transaction, propagated to parallel workers) and loads the file now. */
Datum
pg_hessra_init(PG_FUNCTION_ARGS)
{
	char	   *path;

	require_superuser("hessra_init");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("hessra_init() needs a configuration path")));
	path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (path[0] == '\0' || !is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hessra configuration path must be absolute"),
				 errhint("Call hessra_init('/absolute/path/to/hessra.json').")));

	(void) set_config_option("hessra.config_path", path,
							 PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SET, true, 0, false);
	hessra_force_reload();
	PG_RETURN_BOOL(true);
}

/* hessra_reload_config() RETURNS boolean */
Datum
pg_hessra_reload_config(PG_FUNCTION_ARGS)
{
	require_superuser("hessra_reload_config");
	hessra_force_reload();
	PG_RETURN_BOOL(true);
}

/* ------------------------------------------------------------------------ */
/* Verification                                                             */
/* ------------------------------------------------------------------------ */

/* The arguments of a hessra_verify_token form: its first `given` arguments
 * fill the first slots, its next ones the request fields from slot
 * `first_field` on (domain 4, prefix 5, component 6); the rest are NULL. */
static void
verify_token_args(FunctionCallInfo fcinfo, CallArgs *a, int given, int first_field)
{
	int			slot;

	for (slot = 0; slot < NARGS; slot++)
	{
		int			argno = slot < given ? slot
			: slot >= first_field ? given + slot - first_field : -1;

		arg_text(fcinfo, argno < PG_NARGS() ? argno : -1, a, slot);
	}
}

/* hessra_verify_token(token, subject, resource): identity mode when subject is
 * given, capability mode when it is NULL; any operation the token grants. */
Datum
pg_hessra_verify_token(PG_FUNCTION_ARGS)
{
	CallArgs	a;

	verify_token_args(fcinfo, &a, 3, NARGS);
	PG_RETURN_BOOL(verify_call(&a));
}

/* hessra_verify_token(token, subject, resource, operation) */
Datum
pg_hessra_verify_token_operation(PG_FUNCTION_ARGS)
{
	CallArgs	a;

	verify_token_args(fcinfo, &a, 4, NARGS);
	PG_RETURN_BOOL(verify_call(&a));
}

/*
 * The request fields of `hessra verify --domain --prefix --component` as
 * named arguments (issue 24), leaving the seed's two forms as they are: a
 * DEFAULT on a new overload would make their calls ambiguous (PostgreSQL
 * cannot choose between f(a, b, c, d) and f(a, b, c, d, e DEFAULT NULL)). So
 * each overload starts with one required field and defaults only the ones
 * after it, and every combination of named fields reaches exactly one:
 *
 *   hessra_verify_token(token, subject, resource, operation, domain, prefix DEFAULT NULL, component DEFAULT NULL)
 *   hessra_verify_token(token, subject, resource, operation, prefix, component DEFAULT NULL)
 *   hessra_verify_token(token, subject, resource, operation, component)
 *
 * NULL operation: any operation; a NULL field: not given (the configuration's
 * domain, the resource's service chain apply).
 */
PG_FUNCTION_INFO_V1(pg_hessra_verify_token_domain);
PG_FUNCTION_INFO_V1(pg_hessra_verify_token_prefix);
PG_FUNCTION_INFO_V1(pg_hessra_verify_token_component);

Datum
pg_hessra_verify_token_domain(PG_FUNCTION_ARGS)
{
	CallArgs	a;

	verify_token_args(fcinfo, &a, 4, 4);
	PG_RETURN_BOOL(verify_call(&a));
}

Datum
pg_hessra_verify_token_prefix(PG_FUNCTION_ARGS)
{
	CallArgs	a;

	verify_token_args(fcinfo, &a, 4, 5);
	PG_RETURN_BOOL(verify_call(&a));
}

Datum
pg_hessra_verify_token_component(PG_FUNCTION_ARGS)
{
	CallArgs	a;

	verify_token_args(fcinfo, &a, 4, 6);
	PG_RETURN_BOOL(verify_call(&a));
}

/* hessra_row_security(): rowsec.c */

/* ------------------------------------------------------------------------ */
/* The session token                                                        */
/* ------------------------------------------------------------------------ */

/* hessra_set_token(token text) RETURNS void: SET LOCAL hessra.token. */
Datum
pg_hessra_set_token(PG_FUNCTION_ARGS)
{
	char	   *value = PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0));

	(void) set_config_option("hessra.token", value,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	PG_RETURN_VOID();
}

static const char *
current_token_or_null(void)
{
	const char *t = hessra_token_setting;
	const char *p;

	hessra_statement_token_use();

	if (t == NULL)
	{
		/* settings not defined yet: the library was loaded in a parallel operation */
		hessra_require_settings();
		t = hessra_token_setting;
		if (t == NULL)
			return NULL;
	}
	for (p = t; *p; p++)
		if (!isspace((unsigned char) *p))
			return t;
	return NULL;
}

const char *
hessra_session_token(void)
{
	return current_token_or_null();
}

/* hessra_current_token() RETURNS text: hessra.token, NULL when unset/empty. */
Datum
pg_hessra_current_token(PG_FUNCTION_ARGS)
{
	const char *t = current_token_or_null();

	if (t == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(t));
}

/* Inspect JSON of a token (palloc'd), or NULL when it does not decode. */
static char *
inspect_token(const char *token)
{
	HessraToken tok = NULL;
	char	   *json = NULL;
	char	   *copy;
	HessraResult rc;

	rc = hessra_token_parse(token, &tok);
	if (rc != HESSRA_SUCCESS)
	{
		if (hessra_result_is_denial(rc))
			return NULL;
		hessra_report_engine_error(rc, NULL, "decode a token");
	}
	rc = hessra_token_inspect(tok, &json);
	hessra_token_free(tok);
	if (rc != HESSRA_SUCCESS)
	{
		if (hessra_result_is_denial(rc))
			return NULL;
		hessra_report_engine_error(rc, NULL, "inspect a token");
	}
	copy = pstrdup(json);
	hessra_string_free(json);
	return copy;
}

/*
 * Memo of hessra_current_subject(): the last answer and what it was for. The
 * engine is given "now" in whole seconds (hessra_request_time), so statements
 * of the same second with the same token, configuration and leeway give the
 * engine identical inputs: a transaction per request (set the token, one
 * query) then verifies about once a second per token, not once per statement.
 */
static struct
{
	bool		valid;
	int64		now;			/* HessraVerifyRequest.now */
	int64		leeway_seconds; /* HessraVerifyRequest.leeway_seconds */
	uint64		gen;
	char	   *token;			/* TopMemoryContext */
	char	   *subject;		/* TopMemoryContext, NULL = no subject */
} subject_memo;

/*
 * hessra_current_subject() RETURNS text
 *
 * The subject of the token in hessra.token: the first argument of its
 * right(subject, resource, operation) facts, counted only for rights the
 * token actually verifies for right now (signature against the configured
 * key, every check passing for that subject/resource/operation at the
 * statement start time, with the configured leeway). Returns NULL when
 * hessra.token is unset, does not decode, no right verifies, or verifying
 * rights name more than one distinct subject (ambiguous).
 *
 * One engine call (hessra_config_verified_subject) through the
 * configuration's cache: no inspection JSON, no jsonb parsing.
 */
Datum
pg_hessra_current_subject(PG_FUNCTION_ARGS)
{
	const char *token = current_token_or_null();
	HessraConfig cfg;
	uint64		gen;
	HessraVerifyRequest req;
	HessraError err;
	HessraResult rc;
	char	   *subject = NULL;
	char	   *found = NULL;

	stat_calls++;
	if (token == NULL)
	{
		if (hessra_audit_wanted(false))
			audit_identity("hessra_current_subject", NULL, NULL, NULL, false);
		PG_RETURN_NULL();
	}

	cfg = hessra_get_config();
	gen = hessra_config_generation();	/* covers the file's leeway */
	memset(&req, 0, sizeof(req));
	hessra_request_time(&req);

	if (subject_memo.valid && subject_memo.now == req.now &&
		subject_memo.leeway_seconds == req.leeway_seconds && subject_memo.gen == gen &&
		strcmp(subject_memo.token, token) == 0)
	{
		stat_memo_hits++;
		if (hessra_audit_wanted(subject_memo.subject != NULL))
			audit_identity("hessra_current_subject", token, subject_memo.subject, NULL,
						   subject_memo.subject != NULL);
		if (subject_memo.subject == NULL)
			PG_RETURN_NULL();
		PG_RETURN_TEXT_P(cstring_to_text(subject_memo.subject));
	}

	/* every right of the token (resource and operation NULL: no filter) */
	err.code = HESSRA_SUCCESS;
	err.message = NULL;
	rc = hessra_config_verified_subject(cfg, token, &req, &subject, &err);
	if (rc == HESSRA_SUCCESS)
	{
		if (subject != NULL)
		{
			found = pstrdup(subject);
			hessra_string_free(subject);
		}
	}
	else if (!hessra_result_is_denial(rc))
	{
		char	   *msg = err.message ? pstrdup(err.message) : NULL;

		hessra_error_free(err.message);
		hessra_report_engine_error(rc, msg, "find the subject of a token");
	}
	hessra_error_free(err.message);

	/* remember */
	subject_memo.valid = false;
	if (subject_memo.token)
		pfree(subject_memo.token);
	if (subject_memo.subject)
		pfree(subject_memo.subject);
	subject_memo.token = MemoryContextStrdup(TopMemoryContext, token);
	subject_memo.subject = found ? MemoryContextStrdup(TopMemoryContext, found) : NULL;
	subject_memo.now = req.now;
	subject_memo.leeway_seconds = req.leeway_seconds;
	subject_memo.gen = gen;
	subject_memo.valid = true;

	if (hessra_audit_wanted(found != NULL))
		audit_identity("hessra_current_subject", token, found, NULL, found != NULL);
	if (found == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(found));
}

/* ------------------------------------------------------------------------ */
/* Diagnostics                                                              */
/* ------------------------------------------------------------------------ */

/*
 * jsonb of JSON text written by the engine (modified in place). jsonb cannot
 * hold the NUL character, which a token's strings may (the engine writes it
 * as \u0000): jsonb_in would raise an ERROR, and the failing statement, token
 * included, would reach the server log. NUL is shown as U+FFFD instead, as
 * the engine does in every C string it returns; both escapes are six bytes.
 */
Datum
hessra_engine_jsonb(char *json)
{
	char	   *p = json;

	while ((p = strchr(p, '\\')) != NULL && p[1] != '\0')
	{
		if (strncmp(p + 1, "u0000", 5) == 0)
			memcpy(p + 1, "ufffd", 5);
		p += 2;					/* past the escaped character */
	}
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
}

/* hessra_inspect(token text) RETURNS jsonb: the decoded token, signatures NOT
 * checked ("verified": false). NULL when the text is not a token. */
Datum
pg_hessra_inspect(PG_FUNCTION_ARGS)
{
	char	   *token = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *json;

	json = inspect_token(token);
	if (json == NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(hessra_engine_jsonb(json));
}

static const char *
result_name(HessraResult rc)
{
	switch (rc)
	{
		case HESSRA_SUCCESS:
			return "success";
		case HESSRA_ERROR_INVALID_TOKEN:
			return "invalid_token";
		case HESSRA_ERROR_INVALID_KEY:
			return "invalid_key";
		case HESSRA_ERROR_VERIFICATION_FAILED:
			return "verification_failed";
		case HESSRA_ERROR_CONFIG_INVALID:
			return "config_invalid";
		case HESSRA_ERROR_MEMORY:
			return "memory";
		case HESSRA_ERROR_IO:
			return "io";
		case HESSRA_ERROR_INVALID_PARAMETER:
			return "invalid_parameter";
		case HESSRA_ERROR_EXPIRED:
			return "expired";
		case HESSRA_ERROR_LIMIT_EXCEEDED:
			return "limit_exceeded";
		case HESSRA_ERROR_REVOKED:
			return "revoked";
		default:
			return "internal";
	}
}

/* Replaces every occurrence of needle in haystack by "<token>". */
static char *
scrub(const char *haystack, const char *needle, int nlen)
{
	StringInfoData out;
	const char *p = haystack;
	const char *hit;

	if (nlen < 8)
		return pstrdup(haystack);
	initStringInfo(&out);
	while ((hit = strstr(p, needle)) != NULL)
	{
		appendBinaryStringInfo(&out, p, hit - p);
		appendStringInfoString(&out, "<token>");
		p = hit + nlen;
	}
	appendStringInfoString(&out, p);
	return out.data;
}

/*
 * hessra_explain(token, subject, resource, operation) RETURNS text
 * 'allowed', or 'denied (<reason>): <engine explanation>'. Never contains the
 * token. Configuration problems raise the same ERROR as the verify functions.
 */
Datum
pg_hessra_explain(PG_FUNCTION_ARGS)
{
	CallArgs	a;
	HessraConfig cfg;
	HessraResult rc;
	char	   *msg = NULL;
	char	   *token;
	char	   *subject;
	char	   *resource;
	char	   *operation;
	bool		ok;

	verify_token_args(fcinfo, &a, 4, NARGS);

	if (token_is_empty(&a))
		PG_RETURN_TEXT_P(cstring_to_text("denied (no_token): no token was given"));
	if (a.len[2] < 0)
		PG_RETURN_TEXT_P(cstring_to_text("denied (invalid_parameter): no resource was given"));
	if (contains_nul(&a))
		PG_RETURN_TEXT_P(cstring_to_text("denied (invalid_parameter): an argument contains a NUL byte"));

	cfg = hessra_get_config();
	token = arg_cstring(&a, 0);
	subject = arg_cstring(&a, 1);
	resource = arg_cstring(&a, 2);
	operation = arg_cstring(&a, 3);

	ok = engine_verify(cfg, token, subject, resource, operation, NULL, &rc, &msg);
	if (ok)
		PG_RETURN_TEXT_P(cstring_to_text("allowed"));

	if (msg == NULL)
		msg = pstrdup(hessra_error_message(rc));
	/* engine messages never quote the token; scrubbing is a second guard */
	msg = scrub(msg, token, strlen(token));
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("denied (%s): %s", result_name(rc), msg)));
}

/*
 * hessra_stats() RETURNS record: counters of this backend.
 *   calls                 SQL verification calls (verify/row_security/current_subject/
 *                         granted_resources/current_claims with a token)
 *   statement_cache_hits  calls answered by the per-statement memo
 *   verifications         engine verifications (time and checks evaluated)
 *   cache_hits            engine verifications that skipped the signature check
 *   cache_misses          engine verifications that checked signatures
 *   cache_entries, cache_capacity   of the current configuration's cache
 *   config_generation     configurations loaded by this backend (0: none yet)
 *   config_loaded         whether a configuration is loaded now
 */
Datum
pg_hessra_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[9];
	bool		nulls[9];
	HessraCacheStats s;
	HeapTuple	tuple;
	uint64		calls;
	uint64		memo_hits;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hessra_stats() must be called in a context that accepts a record")));
	tupdesc = BlessTupleDesc(tupdesc);

	memset(&s, 0, sizeof(s));
	hessra_engine_stats(&s);
	calls = stat_calls;
	memo_hits = stat_memo_hits;
	hessra_rowsec_counters(&calls, &memo_hits);
	hessra_granted_counters(&calls, &memo_hits);
	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum((int64) calls);
	values[1] = Int64GetDatum((int64) memo_hits);
	values[2] = Int64GetDatum((int64) s.verifications);
	values[3] = Int64GetDatum((int64) s.cache_hits);
	values[4] = Int64GetDatum((int64) s.cache_misses);
	values[5] = Int64GetDatum((int64) s.cache_entries);
	values[6] = Int64GetDatum((int64) s.cache_capacity);
	values[7] = Int64GetDatum((int64) hessra_config_generation());
	values[8] = BoolGetDatum(hessra_config_loaded());
	tuple = heap_form_tuple(tupdesc, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}

/* ==== identity tokens (issue 12) ========================================= */

PG_FUNCTION_INFO_V1(pg_hessra_verify_identity);
PG_FUNCTION_INFO_V1(pg_hessra_current_identity);

/* The time and leeway of an identity request, as hessra_request_time. */
static void
identity_request_time(HessraIdentityRequest *req)
{
	HessraVerifyRequest v;

	memset(&v, 0, sizeof(v));
	hessra_request_time(&v);
	req->now = v.now;
	req->leeway_seconds = v.leeway_seconds;
}

/*
 * hessra_verify_identity(token text, identity text) RETURNS boolean
 * hessra_verify_identity(token text, identity text, domain text) RETURNS boolean
 *
 * True when the token is an identity token that proves `identity` now (its
 * delegations narrow it: a token delegated to alice:laptop proves neither
 * alice nor alice:phone), with the configured key and leeway, and the
 * domain given (NULL or the two-argument form: the configuration's). Every
 * refusal is false, never an error; a NULL or empty token or a NULL identity
 * is false.
 */
Datum
pg_hessra_verify_identity(PG_FUNCTION_ARGS)
{
	CallArgs	a;
	HessraIdentityRequest req;
	HessraError err = {HESSRA_SUCCESS, NULL};
	HessraResult rc;
	HessraConfig cfg;
	char	   *token;
	char	   *msg;

	stat_calls++;
	verify_token_args(fcinfo, &a, 2, 4);	/* a third argument is the domain */
	if (token_is_empty(&a) || a.len[1] < 0 || contains_nul(&a))
	{
		if (token_is_empty(&a) && hessra_audit_wanted(false))
			audit_identity("hessra_verify_identity", NULL, arg_cstring(&a, 1), arg_cstring(&a, 4), false);
		PG_RETURN_BOOL(false);
	}

	cfg = hessra_get_config();
	token = arg_cstring(&a, 0);
	memset(&req, 0, sizeof(req));
	req.actor = HESSRA_IDENTITY_GIVEN;
	req.identity = arg_cstring(&a, 1);
	req.domain = arg_cstring(&a, 4);
	identity_request_time(&req);
	rc = hessra_identity_verify(cfg, NULL, NULL, (const uint8 *) token, strlen(token), &req,
								NULL, &err);
	msg = err.message ? pstrdup(err.message) : NULL;
	hessra_error_free(err.message);
	if (rc != HESSRA_SUCCESS && !hessra_result_is_denial(rc))
		hessra_report_engine_error(rc, msg, "verify an identity token");
	if (hessra_audit_wanted(rc == HESSRA_SUCCESS))
		audit_identity("hessra_verify_identity", token, req.identity, req.domain, rc == HESSRA_SUCCESS);
	pfree(token);
	PG_RETURN_BOOL(rc == HESSRA_SUCCESS);
}

/*
 * hessra_current_identity() RETURNS text
 *
 * The identity the identity token in hessra.token proves now: its narrowest
 * delegated identity, or its subject when it is not delegated. NULL when
 * hessra.token is unset or empty, is not an identity token, or does not
 * verify. One engine call (hessra_config_verified_identity) through the
 * configuration's cache; a policy calls it as an InitPlan,
 * (SELECT hessra_current_identity()), so once per statement.
 */
Datum
pg_hessra_current_identity(PG_FUNCTION_ARGS)
{
	const char *token = current_token_or_null();
	HessraIdentityRequest req;
	HessraError err = {HESSRA_SUCCESS, NULL};
	HessraResult rc;
	char	   *identity = NULL;
	char	   *found;

	stat_calls++;
	if (token == NULL)
	{
		if (hessra_audit_wanted(false))
			audit_identity("hessra_current_identity", NULL, NULL, NULL, false);
		PG_RETURN_NULL();
	}
	memset(&req, 0, sizeof(req));
	req.actor = HESSRA_IDENTITY_DELEGATED;
	identity_request_time(&req);
	rc = hessra_config_verified_identity(hessra_get_config(), token, &req, &identity, &err);
	if (rc != HESSRA_SUCCESS)
	{
		char	   *msg = err.message ? pstrdup(err.message) : NULL;

		hessra_error_free(err.message);
		if (!hessra_result_is_denial(rc))
			hessra_report_engine_error(rc, msg, "find the identity of a token");
		if (hessra_audit_wanted(false))
			audit_identity("hessra_current_identity", token, NULL, NULL, false);
		PG_RETURN_NULL();
	}
	hessra_error_free(err.message);
	found = pstrdup(identity);
	hessra_string_free(identity);
	if (hessra_audit_wanted(true))
		audit_identity("hessra_current_identity", token, found, NULL, true);
	PG_RETURN_TEXT_P(cstring_to_text(found));
}

/* ==== end identity tokens ================================================ */
