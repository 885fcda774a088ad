/*
 * statement.c — a statement sees one token (issue 23, item 4).
 *
 * A policy from `hessra pg policy generate --owner-column` asks two
 * questions, each in its own InitPlan: does the token grant the right
 * (hessra_row_security) and whose rows may it see (hessra_current_subject).
 * Each reads hessra.token when it is first evaluated, and the plan decides
 * when that is: in a LATERAL join one can run for the first outer row and
 * the other for a later one. A per-row set_config('hessra.token', ..., true)
 * between them made one statement answer with one token's subject and
 * another token's rights (mallory's token for the right, a token naming bob
 * for the subject: bob's rows).
 *
 * So within a statement the token may be read but not changed: the first
 * read (any hessra function that verifies, hessra_current_token(), or
 * current_setting('hessra.token'), through the setting's show hook) pins
 * it, and any hessra call after the setting was assigned again — by
 * set_config, SET LOCAL, RESET or hessra_set_token run inside the statement,
 * or a subtransaction rolled back — raises an ERROR (SQLSTATE 55P02). An
 * assignment of the same value counts too: otherwise a statement could
 * read a second token in between and put the first one back.
 *
 * A statement is an executor run (ExecutorRun, and ExecutorFinish for its
 * AFTER triggers). Each run pins the token at its own first read and
 * checks its own later uses; an assignment anywhere, in a function or SPI
 * query nested in the run included, counts against every run in progress,
 * so a per-row function that changes the token trips the query calling it.
 * A nested run (the queries of a function) pins afresh: a function may set
 * a token and then run a query under it, statement after statement, like a
 * DO block, a procedure, or SET LOCAL / set_config() / hessra_set_token()
 * in a statement of its own; each FETCH of a cursor is its own run. The
 * library is loaded while a query using it is planned or started, so the
 * hooks are in place before the first run that can call it.
 *
 * Functions given the token as an argument (hessra_verify_token(token, ...),
 * the three-argument hessra_row_security with a column) are not affected:
 * a per-row token argument is not the setting.
 */
#include "hessra_pg.h"

#include "executor/executor.h"
#include "utils/guc.h"

/* One executor run in progress: whether it read the token, and when. */
typedef struct Run
{
	bool		pinned;
	uint64		pinned_assignments;
	struct Run *outer;
} Run;

/* The innermost run in progress (NULL: none), a frame of the hooks below. */
static Run *current_run = NULL;

/* Bumped by every assignment of hessra.token. */
static uint64 token_assignments = 0;

static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;

void
hessra_statement_token_assigned(void)
{
	token_assignments++;
}

void
hessra_statement_token_read(void)
{
	if (current_run != NULL && !current_run->pinned)
	{
		current_run->pinned = true;
		current_run->pinned_assignments = token_assignments;
	}
}

void
hessra_statement_token_use(void)
{
	if (current_run == NULL)
		return;
	if (!current_run->pinned)
	{
		hessra_statement_token_read();
		return;
	}
	if (likely(current_run->pinned_assignments == token_assignments))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM),
			 errmsg("hessra.token was changed by the statement that is using it"),
			 errdetail("A statement sees one token: this one read hessra.token, then set it again "
					   "(set_config, SET LOCAL, RESET or hessra_set_token inside the statement), "
					   "so its checks could answer for different tokens."),
			 errhint("Set the token in a statement of its own before the query, "
					 "e.g. SELECT hessra_set_token($1); then run the query.")));
}

#if PG_VERSION_NUM >= 180000
static void
hessra_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count)
#else
static void
hessra_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
				   bool execute_once)
#endif
{
	Run			run = {false, 0, current_run};

	current_run = &run;
	PG_TRY();
	{
#if PG_VERSION_NUM >= 180000
		if (prev_ExecutorRun)
			prev_ExecutorRun(queryDesc, direction, count);
		else
			standard_ExecutorRun(queryDesc, direction, count);
#else
		if (prev_ExecutorRun)
			prev_ExecutorRun(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
#endif
	}
	PG_FINALLY();
	{
		current_run = run.outer;
	}
	PG_END_TRY();
}

static void
hessra_ExecutorFinish(QueryDesc *queryDesc)
{
	Run			run = {false, 0, current_run};

	current_run = &run;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		current_run = run.outer;
	}
	PG_END_TRY();
}

void
hessra_statement_init(void)
{
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = hessra_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = hessra_ExecutorFinish;
}
