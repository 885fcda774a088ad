/*
 * audit.c — the audit log of hessra decisions (hessra.audit = off | denials | all).
 *
 * One server log line per distinct decision and statement: a policy checked
 * for each of a million rows logs each distinct answer once, not a million
 * times. A decision is the SQL function, the token, the subject or identity
 * asked for, the resource, the operation, the request fields (domain,
 * prefix, component) and the verdict; "statement" is the top-level
 * statement (GetCurrentStatementStartTimestamp), so the calls of a PL/pgSQL
 * function count for the statement that called it. Parallel workers keep
 * their own sets: a decision made in several processes is logged by each.
 *
 * The line:
 *
 *   hessra audit: denied (expired): role="app" subject="alice" function=hessra_row_security
 *       resource="orders" operation="read" revocation_id=5f1c...
 *
 * role is current_user; subject is the one asked for, else the token's
 * verified subject or identity (its claims, hessra_config_claims: never what
 * an unverified token merely says); the reason of a denial is the token's
 * status (no_token, malformed, invalid, revoked, expired), none for a valid
 * token that does not grant this; revocation_id is that of the token's
 * last block (what `hessra revoke TOKEN` lists), also for a token that does
 * not verify, to correlate its uses.
 *
 * Never the token: its text is in no field (a value that contains it is
 * written <token>), values are quoted with control characters escaped (a
 * resource from a table cannot forge a log line), and the message is
 * LOG_SERVER_ONLY with errhidestmt/errhidecontext: PostgreSQL attaches no
 * STATEMENT or CONTEXT line, which could quote a statement holding the token.
 *
 * Bounded: at most AUDIT_MAX_DECISIONS lines per statement (then one line
 * saying how many were not logged), each value at most AUDIT_MAX_VALUE bytes.
 * Decisions are told apart by a 64-bit hash of their fields: two distinct
 * decisions of one statement share a line only on a hash collision.
 */
#include "hessra_pg.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#define AUDIT_MAX_DECISIONS 256
#define AUDIT_MAX_VALUE 256
#define TOKEN_INFO_SLOTS 4

/* The statement the sets below are for. */
static TimestampTz audit_statement = 0;
static uint64 logged[AUDIT_MAX_DECISIONS];
static int	nlogged = 0;
static uint64 not_logged = 0;

/* What the token's claims say, per token (and request) of this statement. */
typedef struct TokenInfo
{
	bool		valid;
	uint64		hash;			/* of the token and the request fields */
	char	   *status;			/* TopMemoryContext; "malformed" when it does not decode */
	char	   *subject;		/* TopMemoryContext, NULL: none verified */
	char	   *revocation_id;	/* TopMemoryContext, NULL: none */
} TokenInfo;

static TokenInfo token_info[TOKEN_INFO_SLOTS];
static int	token_info_next = 0;

static void
free_token_info(TokenInfo *t)
{
	if (t->status)
		pfree(t->status);
	if (t->subject)
		pfree(t->subject);
	if (t->revocation_id)
		pfree(t->revocation_id);
	memset(t, 0, sizeof(*t));
}

static void
new_statement(TimestampTz ts)
{
	int			i;

	audit_statement = ts;
	nlogged = 0;
	not_logged = 0;
	for (i = 0; i < TOKEN_INFO_SLOTS; i++)
		free_token_info(&token_info[i]);
}

/* Folds a nullable string into a hash, length first (so fields cannot run
 * into each other). */
static uint64
hash_field(uint64 h, const char *s)
{
	uint64		len = s == NULL ? UINT64_MAX : strlen(s);

	h = hash_combine64(h, len);
	if (s != NULL)
		h = hash_combine64(h, hash_bytes_extended((const unsigned char *) s, (int) len, 0));
	return h;
}

static uint64
request_hash(const HessraAuditDecision *d)
{
	uint64		h = hash_field(0, d->token);

	h = hash_field(h, d->domain);
	h = hash_field(h, d->prefix);
	return hash_field(h, d->component);
}

static uint64
decision_hash(const HessraAuditDecision *d)
{
	uint64		h = request_hash(d);

	h = hash_field(h, d->function);
	h = hash_field(h, d->subject);
	h = hash_field(h, d->resource);
	h = hash_field(h, d->operation);
	h = hash_field(h, d->granted);
	return hash_combine64(h, d->allowed ? 1 : 2);
}

/* A jsonb string value as a NUL-terminated copy in TopMemoryContext. */
static char *
keep_string(const JsonbValue *v)
{
	char	   *s = MemoryContextAlloc(TopMemoryContext, v->val.string.len + 1);

	memcpy(s, v->val.string.val, v->val.string.len);
	s[v->val.string.len] = '\0';
	return s;
}

/* A string member of a jsonb object (TopMemoryContext); NULL when absent or
 * not a string. */
static char *
json_string(JsonbContainer *obj, const char *key)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(obj, key, strlen(key), &v) == NULL || v.type != jbvString)
		return NULL;
	return keep_string(&v);
}

/* The claims of the decision's token: its status, verified subject or
 * identity and last revocation id (one engine call per token and request
 * fields per statement). */
static TokenInfo *
token_info_for(const HessraAuditDecision *d)
{
	uint64		hash = request_hash(d);
	TokenInfo  *t;
	HessraVerifyRequest req;
	HessraError err = {HESSRA_SUCCESS, NULL};
	HessraResult rc;
	char	   *json = NULL;
	int			i;

	for (i = 0; i < TOKEN_INFO_SLOTS; i++)
		if (token_info[i].valid && token_info[i].hash == hash)
			return &token_info[i];

	t = &token_info[token_info_next];
	token_info_next = (token_info_next + 1) % TOKEN_INFO_SLOTS;
	free_token_info(t);

	memset(&req, 0, sizeof(req));
	req.domain = d->domain;
	req.prefix = d->prefix;
	req.component = d->component;
	hessra_request_time(&req);
	rc = hessra_config_claims(hessra_get_config(), d->token, &req, &json, &err);
	if (json == NULL)
	{
		char	   *msg = err.message ? pstrdup(err.message) : NULL;

		hessra_error_free(err.message);
		if (!hessra_result_is_denial(rc))
			hessra_report_engine_error(rc, msg, "read the claims of a token for the audit log");
		t->status = MemoryContextStrdup(TopMemoryContext, "malformed");
	}
	else
	{
		Jsonb	   *claims = DatumGetJsonbP(hessra_engine_jsonb(json));
		JsonbValue	ids;

		hessra_error_free(err.message);
		t->status = json_string(&claims->root, "status");
		t->subject = json_string(&claims->root, "identity");
		if (t->subject == NULL)
			t->subject = json_string(&claims->root, "subject");
		if (getKeyJsonValueFromContainer(&claims->root, "revocation_ids", 14, &ids) != NULL &&
			ids.type == jbvBinary && JsonContainerSize(ids.val.binary.data) > 0)
		{
			JsonbValue *last = getIthJsonbValueFromContainer(ids.val.binary.data,
															 JsonContainerSize(ids.val.binary.data) - 1);

			if (last != NULL && last->type == jbvString)
				t->revocation_id = keep_string(last);
		}
		hessra_string_free(json);
	}
	t->hash = hash;
	t->valid = true;
	return t;
}

/* Appends key=value: value quoted, \ and " escaped, control characters as
 * \xNN, cut at AUDIT_MAX_VALUE bytes (on a character boundary); a value
 * holding the token is written <token>; NULL is "-". */
static void
append_field(StringInfo out, const char *key, const char *value, const char *token)
{
	int			len;
	int			i;

	appendStringInfo(out, " %s=", key);
	if (value == NULL)
	{
		appendStringInfoChar(out, '-');
		return;
	}
	if (token != NULL && strlen(token) >= 8 && strstr(value, token) != NULL)
	{
		appendStringInfoString(out, "<token>");
		return;
	}
	len = strlen(value);
	if (len > AUDIT_MAX_VALUE)
		len = pg_mbcliplen(value, len, AUDIT_MAX_VALUE);
	appendStringInfoChar(out, '"');
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) value[i];

		if (c == '"' || c == '\\')
			appendStringInfo(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			appendStringInfo(out, "\\x%02x", c);
		else
			appendStringInfoChar(out, (char) c);
	}
	appendStringInfoChar(out, '"');
	if (len < (int) strlen(value))
		appendStringInfoString(out, "...");
}

void
hessra_audit(const HessraAuditDecision *d)
{
	TimestampTz ts = GetCurrentStatementStartTimestamp();
	uint64		hash;
	StringInfoData line;
	TokenInfo  *info = NULL;
	const char *reason;
	int			i;

	if (!hessra_audit_wanted(d->allowed))
		return;
	if (ts != audit_statement)
		new_statement(ts);
	hash = decision_hash(d);
	for (i = 0; i < nlogged; i++)
		if (logged[i] == hash)
			return;
	if (nlogged == AUDIT_MAX_DECISIONS)
	{
		if (not_logged++ == 0)
			ereport(LOG_SERVER_ONLY,
					(errmsg("hessra audit: more than %d distinct decisions in this statement; the others are not logged",
							AUDIT_MAX_DECISIONS),
					 errhidestmt(true), errhidecontext(true)));
		return;
	}
	logged[nlogged++] = hash;

	if (d->token != NULL)
		info = token_info_for(d);
	if (d->allowed)
		reason = NULL;
	else if (info == NULL)
		reason = "no_token";
	else if (info->status == NULL || strcmp(info->status, "valid") == 0)
		reason = NULL;			/* a valid token that does not grant this */
	else
		reason = info->status;

	initStringInfo(&line);
	appendStringInfoString(&line, d->allowed ? "allowed" : "denied");
	if (reason != NULL)
		appendStringInfo(&line, " (%s)", reason);
	appendStringInfoChar(&line, ':');
	append_field(&line, "role", GetUserNameFromId(GetUserId(), true), d->token);
	append_field(&line, "subject", d->subject != NULL ? d->subject : info ? info->subject : NULL, d->token);
	appendStringInfo(&line, " function=%s", d->function);
	if (d->granted != NULL)
		append_field(&line, "resources", d->granted, d->token);
	else
		append_field(&line, "resource", d->resource, d->token);
	append_field(&line, "operation", d->operation, d->token);
	if (d->domain != NULL)
		append_field(&line, "domain", d->domain, d->token);
	if (d->prefix != NULL)
		append_field(&line, "prefix", d->prefix, d->token);
	if (d->component != NULL)
		append_field(&line, "component", d->component, d->token);
	/* hex from the engine: written as it is */
	if (info != NULL && info->revocation_id != NULL &&
		strspn(info->revocation_id, "0123456789abcdef") == strlen(info->revocation_id))
		appendStringInfo(&line, " revocation_id=%.*s", AUDIT_MAX_VALUE, info->revocation_id);
	else
		append_field(&line, "revocation_id", info ? info->revocation_id : NULL, d->token);

	ereport(LOG_SERVER_ONLY,
			(errmsg("hessra audit: %s", line.data),
			 errhidestmt(true), errhidecontext(true)));
	pfree(line.data);
}
