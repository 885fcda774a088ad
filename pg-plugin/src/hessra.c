/*
 * hessra.c — module entry point and settings of the "hessra" extension.
 *
 * _PG_init only defines settings, registers exit cleanup and the engine's
 * interrupt check: no DDL, no I/O.
 *
 * A library loaded for the first time inside a parallel operation (a
 * PARALLEL SAFE function running dynamic SQL in a parallel query) cannot
 * define its settings there: PostgreSQL refuses to apply the session's values
 * ("cannot be set during a parallel operation") and drops them for the rest
 * of the session — hessra.config_path from postgresql.conf or ALTER DATABASE,
 * a SET hessra.token. So _PG_init then leaves them as placeholders, which keep
 * every value with its source, and the first call outside the parallel
 * operation defines them (hessra_require_settings). Preloading the library
 * (session_preload_libraries) avoids the case entirely.
 */
#include "hessra_pg.h"

#include <limits.h>

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

char	   *hessra_config_path = NULL;
char	   *hessra_token_setting = NULL;
int			hessra_leeway_seconds = -1;
int			hessra_cache_size = 1024;
int			hessra_audit_level = HESSRA_AUDIT_OFF;

static const struct config_enum_entry audit_levels[] = {
	{"off", HESSRA_AUDIT_OFF, false},
	{"denials", HESSRA_AUDIT_DENIALS, false},
	{"all", HESSRA_AUDIT_ALL, false},
	{NULL, 0, false}
};

/* Whether the settings above are defined (see the top of this file). */
static bool settings_defined = false;
/* True while define_settings() turns hessra.token's placeholder into the
 * setting: its value is applied again, which changes nothing. */
static bool settings_defining = false;

void		_PG_init(void);

/*
 * The engine's interrupt check (hessra_set_interrupt_check), polled every
 * few tens of microseconds of Datalog work. It only reads the flags the
 * signal handlers set (statement_timeout and pg_cancel_backend set
 * QueryCancelPending, pg_terminate_backend ProcDiePending): the engine then
 * returns HESSRA_ERROR_INTERRUPTED and hessra_report_engine_error() runs
 * CHECK_FOR_INTERRUPTS() — no ereport/longjmp ever crosses the engine.
 */
static int
hessra_interrupt_pending(void)
{
	return QueryCancelPending || ProcDiePending;
}

static void
assign_config_path(const char *newval, void *extra)
{
	(void) newval;
	(void) extra;
	hessra_mark_config_dirty();
}

static void
assign_token(const char *newval, void *extra)
{
	(void) newval;
	(void) extra;
	hessra_token_assigned();
	if (!settings_defining)
		hessra_statement_token_assigned();
}

/* current_setting('hessra.token') and SHOW read the token (statement.c). */
static const char *
show_token(void)
{
	hessra_statement_token_read();
	return hessra_token_setting != NULL ? hessra_token_setting : "";
}

static void
assign_cache_size(int newval, void *extra)
{
	(void) newval;
	(void) extra;
	hessra_mark_cache_size_dirty();
}

static void
define_settings(void)
{
	DefineCustomStringVariable("hessra.config_path",
							   "Path of the hessra JSON configuration file (trusted public keys).",
							   "Only superusers may change it: it decides which token issuers are trusted. "
							   "The file must not be writable by group or others.",
							   &hessra_config_path,
							   "",
							   PGC_SUSET,
							   0,
							   NULL,
							   assign_config_path,
							   NULL);

	settings_defining = true;
	PG_TRY();
	{
		DefineCustomStringVariable("hessra.token",
								   "The hessra token of the current session or transaction.",
								   "Any role may set it: the token is signed, so setting it grants nothing by itself.",
								   &hessra_token_setting,
								   "",
								   PGC_USERSET,
								   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
								   NULL,
								   assign_token,
								   show_token);
	}
	PG_FINALLY();
	{
		settings_defining = false;
	}
	PG_END_TRY();

	DefineCustomIntVariable("hessra.leeway_seconds",
							"Tolerated clock skew, in seconds, on token time bounds.",
							"-1 uses the configuration file's leeway_seconds.",
							&hessra_leeway_seconds,
							-1,
							-1,
							86400,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL,
							NULL,
							NULL);

	DefineCustomIntVariable("hessra.cache_size",
							"Entries in the per-backend cache of signature-checked tokens.",
							"0 disables the cache (every call checks signatures again).",
							&hessra_cache_size,
							1024,
							0,
							1000000,
							PGC_SUSET,
							0,
							NULL,
							assign_cache_size,
							NULL);

	DefineCustomEnumVariable("hessra.audit",
							 "Logs hessra decisions: off, denials, or all.",
							 "One server log line per distinct decision and statement (role, subject or identity, "
							 "resource, operation, verdict, the token's last revocation id), never the token. "
							 "Only superusers may change it.",
							 &hessra_audit_level,
							 HESSRA_AUDIT_OFF,
							 audit_levels,
							 PGC_SUSET,
							 0,
							 NULL,
							 NULL,
							 NULL);

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("hessra");
#else
	EmitWarningsOnPlaceholders("hessra");
#endif

	settings_defined = true;
}

void
hessra_require_settings(void)
{
	if (settings_defined)
		return;
	if (IsInParallelMode())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("hessra settings are not available yet in this session"),
				 errdetail("The hessra library was loaded for the first time inside a parallel operation, "
						   "where PostgreSQL cannot apply the session's hessra.* settings."),
				 errhint("Run the statement again: the next hessra call outside a parallel operation applies them. "
						 "Add hessra to session_preload_libraries to avoid this.")));
	define_settings();
}

void
_PG_init(void)
{
	/* A parallel worker loads the leader's libraries before it enters
	 * parallel mode; only an on-demand load can happen inside it. */
	if (!IsInParallelMode())
		define_settings();
	hessra_set_interrupt_check(hessra_interrupt_pending);
	hessra_config_init();
	hessra_statement_init();
}
