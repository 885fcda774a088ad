/*
 * hessra_pg.h — shared declarations of the "hessra" PostgreSQL extension.
 *
 * The extension is a thin shell over the native engine (hessra_ffi.h): it
 * never decides by itself whether a token is valid. It owns the per-backend
 * state: the settings, the loaded configuration handle (with the engine's
 * verification cache inside it), the configuration generation and a tiny
 * per-statement memo of answers.
 */
#ifndef HESSRA_PG_H
#define HESSRA_PG_H

#include "postgres.h"

#include "hessra_ffi.h"

/* ---- settings (guc.c) ---- */
extern char *hessra_config_path;   /* hessra.config_path (PGC_SUSET) */
extern char *hessra_token_setting; /* hessra.token (PGC_USERSET) */
extern int	hessra_leeway_seconds; /* hessra.leeway_seconds (PGC_SUSET), -1 = config's */
extern int	hessra_cache_size;     /* hessra.cache_size (PGC_SUSET) */
extern int	hessra_audit_level;    /* hessra.audit (PGC_SUSET): a HessraAuditLevel */

/* Defines the settings if loading the library inside a parallel operation
 * left them undefined (hessra.c); raises an ERROR while still inside it.
 * Until then the setting variables above are NULL. */
extern void hessra_require_settings(void);

/* ---- configuration lifecycle (config.c) ---- */

/* The loaded configuration, (re)loading it when needed. Never returns NULL:
 * raises an ERROR (SQLSTATE F0000) when no valid configuration is available.
 * stat()s the file at most once per statement. */
extern HessraConfig hessra_get_config(void);

/* Drops the loaded configuration and loads it again now. */
extern void hessra_force_reload(void);

/* Marks the configuration as needing a reload / the cache as needing a resize
 * (GUC assign hooks: no I/O, no errors there). */
extern void hessra_mark_config_dirty(void);
extern void hessra_mark_cache_size_dirty(void);

/* Incremented on every successful load in this backend (0 = never loaded). */
extern uint64 hessra_config_generation(void);
extern bool hessra_config_loaded(void);

/* Backend-lifetime engine counters, including those of configurations
 * replaced by a reload. Returns false when nothing was ever loaded. */
extern void hessra_engine_stats(HessraCacheStats *out);

/* Registers exit cleanup. */
extern void hessra_config_init(void);

/* Unix seconds of the current statement's start ("now" for every check). */
extern int64 hessra_statement_now(void);

/* Fills request->now (the statement start time) and request->leeway_seconds
 * (hessra.leeway_seconds, or HESSRA_LEEWAY_UNSET: the engine applies the
 * configuration file's). */
extern void hessra_request_time(HessraVerifyRequest *request);

/* Raises the ERROR for an engine result that is not about the token itself
 * (configuration, memory, internal). `msg` is the engine's explanation
 * (palloc'd copy, may be NULL); `what` names the operation. */
#if defined(pg_attribute_noreturn)
extern void hessra_report_engine_error(HessraResult rc, const char *msg,
									   const char *what) pg_attribute_noreturn();
#else
pg_noreturn extern void hessra_report_engine_error(HessraResult rc, const char *msg,
												   const char *what);
#endif

/* jsonb of JSON text from the engine (rewritten in place: a NUL character,
 * which jsonb cannot hold, becomes U+FFFD). Never fails for the engine's
 * JSON. */
extern Datum hessra_engine_jsonb(char *json);

/* True when an engine result means "this token is not acceptable" (→ false). */
extern bool hessra_result_is_denial(HessraResult rc);

/* One engine verification without any memo: true when allowed, false on a
 * denial; configuration and engine failures raise an ERROR (functions.c). */
extern bool hessra_verify_uncached(HessraConfig cfg, const char *token, const char *subject,
								   const char *resource, const char *operation);

/* ---- per-row hessra_row_security (rowsec.c) ---- */

/* hessra.token was assigned (GUC assign hook: no I/O, no errors). */
extern void hessra_token_assigned(void);

/* Adds rowsec.c's call and memo-hit counters to *calls and *memo_hits. */
extern void hessra_rowsec_counters(uint64 *calls, uint64 *memo_hits);

/* ---- granted resources and claims (granted.c) ---- */

/* Adds granted.c's engine questions and memo hits to *calls and *memo_hits. */
extern void hessra_granted_counters(uint64 *calls, uint64 *memo_hits);

/* ---- the session token (functions.c) ---- */

/* hessra.token's value, or NULL when it is unset, empty or blank. */
extern const char *hessra_session_token(void);

/* ---- audit log (audit.c) ---- */

typedef enum HessraAuditLevel
{
	HESSRA_AUDIT_OFF,
	HESSRA_AUDIT_DENIALS,
	HESSRA_AUDIT_ALL
} HessraAuditLevel;

/* Whether a decision with this verdict goes to the audit log: test it before
 * gathering anything for hessra_audit(), it costs one comparison. */
static inline bool
hessra_audit_wanted(bool allowed)
{
	return hessra_audit_level == HESSRA_AUDIT_ALL ||
		(hessra_audit_level == HESSRA_AUDIT_DENIALS && !allowed);
}

/* One decision. Strings are NUL-terminated, NULL when absent. */
typedef struct HessraAuditDecision
{
	const char *function;		/* the SQL function */
	const char *token;			/* NULL: no token */
	const char *subject;		/* asked for; NULL: the token's verified one */
	const char *resource;
	const char *operation;		/* NULL: any */
	const char *domain;			/* request fields, NULL: not given */
	const char *prefix;
	const char *component;
	const char *granted;		/* hessra_granted_resources: the JSON array */
	bool		allowed;
} HessraAuditDecision;

/* Logs the decision unless this statement logged it already (audit.c). */
extern void hessra_audit(const HessraAuditDecision *d);

/* ---- one token per statement (statement.c) ---- */

/* Installs the executor hooks that delimit statements (_PG_init). */
extern void hessra_statement_init(void);

/* hessra.token was assigned (GUC assign hook: no I/O, no errors). */
extern void hessra_statement_token_assigned(void);

/* The statement read hessra.token (its show hook: never raises). */
extern void hessra_statement_token_read(void);

/* A hessra call is about to use the token: raises an ERROR (55P02) when the
 * running statement read hessra.token and then assigned it again. */
extern void hessra_statement_token_use(void);

#endif							/* HESSRA_PG_H */
