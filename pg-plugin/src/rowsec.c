/*
 * rowsec.c — the per-row paths of hessra_row_security().
 *
 *   hessra_row_security(resource, operation)            token = hessra.token
 *   hessra_row_security(token, table_name, operation)   the seed's form
 *
 * A policy calls these once per row, so everything here is about making a
 * repeated question cost a few comparisons. Each call site (the FmgrInfo of
 * one expression in one executing plan) owns a memo in fn_extra:
 *
 *   - what its answers are valid for: the statement start time (time bounds
 *     are evaluated once per statement), the configuration generation, the
 *     effective leeway, the operation and the token;
 *   - up to RESOURCE_SLOTS answers, one per resource, in a direct-mapped
 *     table: the resource that answered last is compared first (one length
 *     check and a short memcmp), any other one costs a hash of the resource.
 *
 * The token is identified without reading it per row:
 *   - hessra.token (the two-argument form): its assign hook bumps
 *     token_generation on every SET, SET LOCAL, RESET, rollback, reload and
 *     parallel-worker restore; the memo keeps the generation and the
 *     setting's pointer it was built for;
 *   - a token argument that is current_setting('hessra.token'[, missing_ok])
 *     (the built-in function, a constant name) never gets here: the planner
 *     support function hessra_row_security_support rewrites such a call into
 *     the two-argument form, so PostgreSQL does not build the token's text for
 *     every row (the three-argument form otherwise costs that on every call);
 *   - a constant token argument: the same value on every call of the site;
 *   - any other token argument (a column, a parameter): compared in full
 *     (length, then memcmp). A hash of it would not do: a token is a bearer
 *     credential, and two tokens with equal hashes must still never share an
 *     answer.
 *
 * A miss then looks at the answers of recent statements (see RecentAnswer:
 * the engine's clock has a one-second resolution, so the same question in
 * the same second has the same answer) before asking the engine.
 *
 * Answers are never shared between tokens, configurations, leeways or
 * seconds; hessra.cache_size = 0 disables both memos (every call goes to the
 * engine), as for the other functions. The decisions themselves are the
 * engine's (hessra_verify_uncached).
 */
#include "hessra_pg.h"

#include <ctype.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
#include "nodes/primnodes.h"
#include "nodes/supportnodes.h"
#include "parser/parse_func.h"
#include "utils/lsyscache.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* current_setting(text) and current_setting(text, boolean) */
#if PG_VERSION_NUM >= 140000
#define CURRENT_SETTING_OID F_CURRENT_SETTING_TEXT
#define CURRENT_SETTING_MISSING_OK_OID F_CURRENT_SETTING_TEXT_BOOL
#else
#define CURRENT_SETTING_OID F_SHOW_CONFIG_BY_NAME
#define CURRENT_SETTING_MISSING_OK_OID F_SHOW_CONFIG_BY_NAME_MISSING_OK
#endif

PG_FUNCTION_INFO_V1(pg_hessra_row_security);
PG_FUNCTION_INFO_V1(pg_hessra_row_security_session);
PG_FUNCTION_INFO_V1(pg_hessra_row_security_support);

/* Bumped by hessra.token's assign hook; 0 is never a valid generation. */
static uint64 token_generation = 1;

/* Backend-lifetime counters (reported by hessra_stats()). */
static uint64 rowsec_calls = 0;
static uint64 rowsec_memo_hits = 0;

#define RESOURCE_SLOTS 64		/* a power of two */
#define MAX_MEMO_RESOURCE 1024	/* longer resources are not memoised */

typedef enum TokenSource
{
	TOKEN_SESSION_SETTING,		/* hessra.token, read directly */
	TOKEN_CONSTANT_ARG,			/* argument is a Const */
	TOKEN_OTHER_ARG				/* anything else: compared in full */
} TokenSource;

typedef struct ResourceSlot
{
	uint64		epoch;			/* the slot is valid when this is memo->epoch */
	uint32		hash;
	int32		len;
	bool		allowed;
	char	   *key;			/* resource bytes (fn_mcxt), cap bytes */
	int32		cap;
} ResourceSlot;

typedef struct RowsecMemo
{
	/* answers of the current epoch are valid for all of these */
	uint64		epoch;
	TimestampTz ts;
	uint64		config_gen;
	int64		leeway;
	int32		op_len;			/* -1: NULL operation */
	char	   *op;				/* NUL-terminated copy (fn_mcxt) */
	int32		op_cap;

	/* the token */
	TokenSource source;
	bool		token_known;	/* the fields below describe the current token */
	bool		token_usable;	/* not blank, no NUL byte */
	uint64		token_gen;		/* setting sources: token_generation seen */
	const char *token_setting;	/* setting sources: hessra_token_setting seen */
	char	   *token;			/* argument sources: NUL-terminated copy */
	int32		token_len;
	int32		token_cap;

	int			last;			/* slot that answered last */
	ResourceSlot slots[RESOURCE_SLOTS];

	/* hessra.audit: the statement whose "no token" denial this site logged */
	TimestampTz no_token_audited;
} RowsecMemo;

/*
 * Answers of recent statements. The engine is given "now" in whole seconds
 * (HessraVerifyRequest.now, from the statement start), so statements that
 * start in the same second and ask the same question — same token bytes,
 * resource, operation, configuration generation and request time fields —
 * give the engine identical inputs: the answer is taken from here instead.
 * A transaction per request (set the token, one query) then costs an engine
 * verification about once a second per token and resource, not once per
 * statement. Keys are compared in full, never by hash alone.
 */
#define RECENT_SLOTS 16
#define RECENT_MAX_KEY (16 * 1024)

typedef struct RecentAnswer
{
	bool		valid;
	int64		now;			/* HessraVerifyRequest.now */
	int64		leeway_seconds; /* HessraVerifyRequest.leeway_seconds */
	uint64		config_gen;
	int32		token_len;
	int32		resource_len;
	int32		op_len;			/* -1: NULL operation */
	char	   *key;			/* token, resource, operation bytes (TopMemoryContext) */
	Size		cap;
	bool		allowed;
} RecentAnswer;

static RecentAnswer recent[RECENT_SLOTS];
static int	recent_next = 0;

typedef struct Question
{
	const char *token;
	int32		token_len;
	const char *resource;
	int32		resource_len;
	const char *op;
	int32		op_len;			/* -1: NULL */
	int64		now;
	int64		leeway_seconds;
	uint64		config_gen;
} Question;

static RecentAnswer *
recent_lookup(const Question *q)
{
	int			i;

	for (i = 0; i < RECENT_SLOTS; i++)
	{
		RecentAnswer *r = &recent[i];

		if (r->valid && r->now == q->now && r->leeway_seconds == q->leeway_seconds &&
			r->config_gen == q->config_gen && r->token_len == q->token_len &&
			r->resource_len == q->resource_len && r->op_len == q->op_len &&
			memcmp(r->key + r->token_len, q->resource, q->resource_len) == 0 &&
			(q->op_len <= 0 || memcmp(r->key + r->token_len + r->resource_len, q->op, q->op_len) == 0) &&
			memcmp(r->key, q->token, q->token_len) == 0)
			return r;
	}
	return NULL;
}

static void
recent_store(const Question *q, bool allowed)
{
	Size		total = (Size) q->token_len + q->resource_len + Max(q->op_len, 0);
	RecentAnswer *r;

	if (total > RECENT_MAX_KEY)
		return;
	r = &recent[recent_next];
	recent_next = (recent_next + 1) % RECENT_SLOTS;
	r->valid = false;
	if (r->key == NULL || r->cap < total + 1)
	{
		if (r->key != NULL)
			pfree(r->key);
		r->cap = Max(total + 1, (Size) 512);
		r->key = MemoryContextAlloc(TopMemoryContext, r->cap);
	}
	memcpy(r->key, q->token, q->token_len);
	memcpy(r->key + q->token_len, q->resource, q->resource_len);
	if (q->op_len > 0)
		memcpy(r->key + q->token_len + q->resource_len, q->op, q->op_len);
	r->now = q->now;
	r->leeway_seconds = q->leeway_seconds;
	r->config_gen = q->config_gen;
	r->token_len = q->token_len;
	r->resource_len = q->resource_len;
	r->op_len = q->op_len;
	r->allowed = allowed;
	r->valid = true;
}

/* Logs a decision of hessra_row_security (hessra.audit); `token` NULL: none. */
static void
audit_row(const char *token, const char *resource, const char *op, bool allowed)
{
	hessra_audit(&(HessraAuditDecision) {
		.function = "hessra_row_security", .token = token, .resource = resource, .operation = op,
			.allowed = allowed
	});
}

/* Logs this call site's "no token" denial once per statement (one decision,
 * whatever the resource), at the cost of one comparison per row. */
static void
audit_no_token(FunctionCallInfo fcinfo, RowsecMemo *memo, int operation_arg)
{
	TimestampTz ts = GetCurrentStatementStartTimestamp();

	if (memo->no_token_audited == ts)
		return;
	memo->no_token_audited = ts;
	audit_row(NULL, NULL, PG_ARGISNULL(operation_arg) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(operation_arg)),
			  false);
}

/* The engine's answer, or a recent statement's answer to the same question. */
static bool
engine_answer(HessraConfig cfg, const char *token, const char *rp, int32 rlen,
			  const char *op, int32 op_len, uint64 config_gen, bool use_memo)
{
	HessraVerifyRequest times;
	Question	q;
	RecentAnswer *r;
	char	   *resource_str;
	bool		allowed;

	if (memchr(rp, '\0', rlen) != NULL || (op_len > 0 && memchr(op, '\0', op_len) != NULL))
		return false;

	memset(&times, 0, sizeof(times));
	hessra_request_time(&times);
	q.token = token;
	q.token_len = (int32) strlen(token);
	q.resource = rp;
	q.resource_len = rlen;
	q.op = op;
	q.op_len = op_len;
	q.now = times.now;
	q.leeway_seconds = times.leeway_seconds;
	q.config_gen = config_gen;
	resource_str = pnstrdup(rp, rlen);
	if (use_memo && (r = recent_lookup(&q)) != NULL)
	{
		rowsec_memo_hits++;
		allowed = r->allowed;
	}
	else
	{
		allowed = hessra_verify_uncached(cfg, token, NULL, resource_str, op);
		if (use_memo)
			recent_store(&q, allowed);
	}
	/* Each resource reaches here once per statement and call site (the
	 * site's memo is per statement); the audit log keeps one line each. */
	if (hessra_audit_wanted(allowed))
		audit_row(token, resource_str, op, allowed);
	pfree(resource_str);
	return allowed;
}

void
hessra_token_assigned(void)
{
	token_generation++;
}

void
hessra_rowsec_counters(uint64 *calls, uint64 *memo_hits)
{
	*calls += rowsec_calls;
	*memo_hits += rowsec_memo_hits;
}

/* Whether a token is usable at all: not blank (only whitespace) and free of
 * NUL bytes. Blank scans stop at the first non-space byte. */
static bool
token_bytes_usable(const char *p, int32 len)
{
	int32		i;

	for (i = 0; i < len; i++)
		if (!isspace((unsigned char) p[i]))
			return memchr(p + i, '\0', len - i) == NULL;
	return false;
}

/* Copies bytes into a NUL-terminated buffer of the memo's context. */
static void
copy_bytes(MemoryContext cxt, char **buf, int32 *cap, const char *p, int32 len)
{
	if (*buf == NULL || *cap < len + 1)
	{
		int32		newcap = Max(len + 1, 32);

		if (*buf != NULL)
			pfree(*buf);
		*buf = MemoryContextAlloc(cxt, newcap);
		*cap = newcap;
	}
	memcpy(*buf, p, len);
	(*buf)[len] = '\0';
}

/* Invalidates every answer of the memo. */
static inline void
new_epoch(RowsecMemo *memo)
{
	memo->epoch++;
}

/* Whether an expression is current_setting('hessra.token'[, missing_ok]):
 * the built-in function with a constant setting name. */
static bool
is_token_setting_call(Node *expr)
{
	FuncExpr   *call;
	Const	   *name;
	char	   *setting;
	bool		is_token_setting;

	if (!IsA(expr, FuncExpr))
		return false;
	call = (FuncExpr *) expr;
	if ((call->funcid != CURRENT_SETTING_OID && call->funcid != CURRENT_SETTING_MISSING_OK_OID) ||
		list_length(call->args) < 1 || !IsA(linitial(call->args), Const))
		return false;
	name = (Const *) linitial(call->args);
	if (name->constisnull || name->consttype != TEXTOID)
		return false;
	setting = TextDatumGetCString(name->constvalue);
	is_token_setting = pg_strcasecmp(setting, "hessra.token") == 0;
	pfree(setting);
	return is_token_setting;
}

/* Which kind of token argument the calling expression passes (argument 0). */
static TokenSource
token_argument_source(FunctionCallInfo fcinfo)
{
	Node	   *expr = fcinfo->flinfo != NULL ? fcinfo->flinfo->fn_expr : NULL;

	if (expr != NULL && IsA(expr, FuncExpr) && list_length(((FuncExpr *) expr)->args) >= 1 &&
		IsA(linitial(((FuncExpr *) expr)->args), Const))
		return TOKEN_CONSTANT_ARG;
	return TOKEN_OTHER_ARG;
}

static RowsecMemo *
get_memo(FunctionCallInfo fcinfo, bool token_argument)
{
	RowsecMemo *memo = (RowsecMemo *) fcinfo->flinfo->fn_extra;

	if (likely(memo != NULL))
		return memo;
	memo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RowsecMemo));
	memo->epoch = 1;			/* slots start at epoch 0: empty */
	memo->source = token_argument ? token_argument_source(fcinfo) : TOKEN_SESSION_SETTING;
	fcinfo->flinfo->fn_extra = memo;
	return memo;
}

/* Whether the memo's token is still hessra.token's current value. */
static inline bool
session_token_current(const RowsecMemo *memo)
{
	return memo->token_known && memo->token_gen == token_generation &&
		memo->token_setting == hessra_token_setting;
}

/* Takes hessra.token's current value as the memo's token. */
static void
take_session_token(RowsecMemo *memo)
{
	const char *t = hessra_token_setting;

	if (t == NULL)
	{
		/* First call of a session whose library loaded inside a parallel
		 * operation: define the settings (or raise) rather than deny. */
		hessra_require_settings();
		t = hessra_token_setting;
	}
	memo->token_gen = token_generation;
	memo->token_setting = t;
	memo->token_usable = t != NULL && token_bytes_usable(t, (int32) strlen(t));
	memo->token_known = true;
	new_epoch(memo);
}

/* Takes a token argument's bytes as the memo's token. */
static void
take_token_argument(FunctionCallInfo fcinfo, RowsecMemo *memo, const char *p, int32 len)
{
	copy_bytes(fcinfo->flinfo->fn_mcxt, &memo->token, &memo->token_cap, p, len);
	memo->token_len = len;
	memo->token_usable = token_bytes_usable(p, len);
	memo->token_known = true;
	new_epoch(memo);
}

/*
 * The answer for the resource and operation arguments, the token settled:
 * the memo's answer when it has one, else the engine's (then remembered).
 * `token` is the NUL-terminated token, used only on a miss.
 */
static bool
resource_answer(FunctionCallInfo fcinfo, RowsecMemo *memo, const char *token,
				int resource_arg, int operation_arg)
{
	text	   *resource = PG_GETARG_TEXT_PP(resource_arg);
	const char *rp = VARDATA_ANY(resource);
	int32		rlen = VARSIZE_ANY_EXHDR(resource);
	const char *op = NULL;
	int32		op_len = -1;
	HessraConfig cfg;
	TimestampTz ts;
	uint64		gen;
	int64		leeway;
	ResourceSlot *slot;
	uint32		hash = 0;
	bool		allowed;

	/* raises the configuration's ERROR even when the memo could answer */
	cfg = hessra_get_config();
	ts = GetCurrentStatementStartTimestamp();
	gen = hessra_config_generation();
	/* the setting (-1: the configuration's, which config_gen covers) */
	leeway = hessra_leeway_seconds;
	if (!PG_ARGISNULL(operation_arg))
	{
		text	   *t = PG_GETARG_TEXT_PP(operation_arg);

		op = VARDATA_ANY(t);
		op_len = VARSIZE_ANY_EXHDR(t);
	}

	if (unlikely(memo->ts != ts || memo->config_gen != gen || memo->leeway != leeway ||
				 memo->op_len != op_len ||
				 (op_len > 0 && memcmp(memo->op, op, op_len) != 0)))
	{
		memo->ts = ts;
		memo->config_gen = gen;
		memo->leeway = leeway;
		memo->op_len = op_len;
		copy_bytes(fcinfo->flinfo->fn_mcxt, &memo->op, &memo->op_cap, op != NULL ? op : "", Max(op_len, 0));
		new_epoch(memo);
	}

	if (unlikely(hessra_cache_size <= 0))
		slot = NULL;
	else
	{
		slot = &memo->slots[memo->last];
		if (slot->epoch == memo->epoch && slot->len == rlen && memcmp(slot->key, rp, rlen) == 0)
		{
			rowsec_memo_hits++;
			return slot->allowed;
		}
		if (rlen > MAX_MEMO_RESOURCE)
			slot = NULL;
		else
		{
			hash = hash_bytes((const unsigned char *) rp, rlen);
			memo->last = hash & (RESOURCE_SLOTS - 1);
			slot = &memo->slots[memo->last];
			if (slot->epoch == memo->epoch && slot->hash == hash && slot->len == rlen &&
				memcmp(slot->key, rp, rlen) == 0)
			{
				rowsec_memo_hits++;
				return slot->allowed;
			}
		}
	}

	/* a miss: ask the engine (or a recent statement) */
	allowed = engine_answer(cfg, token, rp, rlen, op_len < 0 ? NULL : memo->op, op_len, gen,
							hessra_cache_size > 0);

	if (slot != NULL)
	{
		copy_bytes(fcinfo->flinfo->fn_mcxt, &slot->key, &slot->cap, rp, rlen);
		slot->len = rlen;
		slot->hash = hash;
		slot->allowed = allowed;
		slot->epoch = memo->epoch;
	}
	return allowed;
}

/*
 * hessra_row_security(resource text, operation text) RETURNS boolean
 *
 * hessra_row_security(current_setting('hessra.token', true), resource,
 * operation) without the token argument: no text datum is built per row.
 */
Datum
pg_hessra_row_security_session(PG_FUNCTION_ARGS)
{
	RowsecMemo *memo = get_memo(fcinfo, false);

	rowsec_calls++;
	hessra_statement_token_use();
	if (unlikely(!session_token_current(memo)))
		take_session_token(memo);
	if (!memo->token_usable || PG_ARGISNULL(0))
	{
		if (!memo->token_usable && unlikely(hessra_audit_wanted(false)))
			audit_no_token(fcinfo, memo, 1);
		PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(resource_answer(fcinfo, memo, memo->token_setting, 0, 1));
}

/*
 * hessra_row_security(token text, table_name text, operation text)
 * RETURNS boolean: capability mode, the resource is the table name.
 */
Datum
pg_hessra_row_security(PG_FUNCTION_ARGS)
{
	RowsecMemo *memo = get_memo(fcinfo, true);
	text	   *token;
	const char *tp;
	int32		tlen;

	rowsec_calls++;
	if (PG_ARGISNULL(0))
	{
		if (unlikely(hessra_audit_wanted(false)))
			audit_no_token(fcinfo, get_memo(fcinfo, true), 2);
		PG_RETURN_BOOL(false);
	}

	if (memo->source != TOKEN_CONSTANT_ARG || unlikely(!memo->token_known))
	{
		token = PG_GETARG_TEXT_PP(0);
		tp = VARDATA_ANY(token);
		tlen = VARSIZE_ANY_EXHDR(token);
		if (!memo->token_known || memo->token_len != tlen || memcmp(memo->token, tp, tlen) != 0)
			take_token_argument(fcinfo, memo, tp, tlen);
	}

	if (!memo->token_usable || PG_ARGISNULL(1))
	{
		if (!memo->token_usable && unlikely(hessra_audit_wanted(false)))
			audit_no_token(fcinfo, memo, 2);
		PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(resource_answer(fcinfo, memo, memo->token, 1, 2));
}

/*
 * hessra_row_security_support(internal) RETURNS internal: planner support of
 * hessra_row_security(token, table_name, operation).
 *
 * hessra_row_security(current_setting('hessra.token'[, missing_ok]), r, op)
 * is simplified into hessra_row_security(r, op) of the same schema. The two
 * read the same setting when the row is checked and give the same answers
 * (sql/rowsec.sql compares them): a blank or unset token denies either way,
 * and hessra.token always exists once this library is loaded — which it is,
 * since this function is running. What the rewrite saves is the token's text
 * datum that PostgreSQL would otherwise build for the argument on every row.
 * EXPLAIN shows the two-argument call. Any other token argument is left alone.
 */
Datum
pg_hessra_row_security_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	FuncExpr   *call;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Oid			session_form;
	char	   *schema;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	call = ((SupportRequestSimplify *) rawreq)->fcall;
	if (list_length(call->args) != 3 || !is_token_setting_call(linitial(call->args)))
		PG_RETURN_POINTER(NULL);

	/* the two-argument form beside this one (the extension is relocatable) */
	schema = get_namespace_name(get_func_namespace(call->funcid));
	if (schema == NULL)
		PG_RETURN_POINTER(NULL);
	session_form = LookupFuncName(list_make2(makeString(schema), makeString("hessra_row_security")),
								  2, argtypes, true);
	if (!OidIsValid(session_form))
		PG_RETURN_POINTER(NULL);
	PG_RETURN_POINTER(makeFuncExpr(session_form, BOOLOID,
								   list_make2(lsecond(call->args), lthird(call->args)),
								   call->funccollid, call->inputcollid, call->funcformat));
}
