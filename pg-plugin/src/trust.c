/*
 * trust.c — the database's trust state: the extension's tables of trusted
 * keys (hessra_trusted_keys) and revoked ids (hessra_revocations), changed
 * only by superusers and effective at commit in every backend and on hot
 * standbys (docs/DESIGN.md, "Trust in the database").
 *
 *   - Finding them: through the extension's catalog entry (pg_extension:
 *     its schema and version), never a search_path lookup; from 0.5.0 on
 *     they must exist, be owned by a superuser (whoever owns a table can
 *     change it) and have the expected columns and primary key, else every
 *     verification raises an ERROR (fail closed).
 *   - Reading them with the extension's own access: relation and index
 *     scans in C under a fresh catalog snapshot, so every role's
 *     verification sees the same rows whatever its privileges, and no
 *     search_path or user code is involved.
 *   - Keys, few, are read when the configuration is (re)loaded and added to
 *     it (the engine's one rule: hessra_config_add_key).
 *   - Revocations, possibly many, are never copied: the engine asks
 *     trust_lookup() about each block's revocation id of a token whose
 *     signatures verified (one primary-key probe each), combines it with the
 *     configuration file's list, and caches the verdict with the token.
 *   - Effective at commit: a plain INSERT/UPDATE/DELETE/TRUNCATE sends no
 *     relcache invalidation by itself, so a statement-level AFTER trigger
 *     (hessra_trust_changed) queues one for the table. PostgreSQL sends it
 *     to every backend at commit and writes it into the commit record, which
 *     a hot standby replays. The relcache callback registered in _PG_init
 *     sees it (or a reset of every cache) and marks the configuration dirty:
 *     the next call reloads it, with a new generation and an empty engine
 *     cache, and every memo keyed on the generation is dropped. The
 *     callback does no I/O and raises nothing.
 *
 * No PostgreSQL error may longjmp across the engine's Rust frames: the
 * lookup runs under PG_TRY, keeps the error, and returns a failure code; the
 * engine then fails the verification (HESSRA_ERROR_REVOCATION_LOOKUP, nothing
 * cached) and hessra_report_engine_error() raises it once the engine has
 * returned. Interrupts are held during the probe (it neither waits for a
 * lock — hessra_trust_statement() took them before the engine was entered —
 * nor runs long), so a cancel or termination is processed after the engine
 * returned, never inside it.
 */
#include "hessra_pg.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_opfamily_d.h"
#include "catalog/pg_type_d.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#define EXTENSION_NAME "hessra"
#define KEYS_TABLE "hessra_trusted_keys"
#define REVOCATIONS_TABLE "hessra_revocations"
#define MAX_REVOCATION_ID 128	/* the table's CHECK; the engine's bound */

PG_FUNCTION_INFO_V1(pg_hessra_trust_guard);
PG_FUNCTION_INFO_V1(pg_hessra_trust_changed);
PG_FUNCTION_INFO_V1(pg_hessra_trusted_key_check);
PG_FUNCTION_INFO_V1(pg_hessra_trust_summary);

/*
 * What the last load found. keys_relid and revocations_relid are valid
 * exactly when the tables are in use (extension 0.5.0 or later); otherwise
 * ext_namespace, when valid, is where they would appear (after ALTER
 * EXTENSION UPDATE in another session, which no invalidation announces).
 */
static Oid	ext_namespace = InvalidOid;
static Oid	keys_relid = InvalidOid;
static Oid	revocations_relid = InvalidOid;
static Oid	revocations_indexid = InvalidOid;

/* The error a failed lookup kept for hessra_report_engine_error(). */
static ErrorData *lookup_error = NULL;

/* Reset before each probe; never holds anything after it. */
static MemoryContext probe_cxt = NULL;

/* Extension versions created before the tables existed. */
static const char *const versions_without_tables[] = {"0.1.0", "0.2.0", "0.3.0", "0.4.0"};

/* ------------------------------------------------------------------------ */
/* Invalidation                                                             */
/* ------------------------------------------------------------------------ */

/* Relcache callback: no I/O, no error, no allocation. */
static void
trust_relcache_callback(Datum arg, Oid relid)
{
	(void) arg;
	if (relid == InvalidOid ||
		(OidIsValid(keys_relid) &&
		 (relid == keys_relid || relid == revocations_relid || relid == revocations_indexid)))
		hessra_mark_config_dirty();
}

void
hessra_trust_init(void)
{
	CacheRegisterRelcacheCallback(trust_relcache_callback, (Datum) 0);
}

/* hessra_trust_changed() RETURNS trigger: AFTER INSERT/UPDATE/DELETE/TRUNCATE
 * FOR EACH STATEMENT. Queues the relcache invalidation that makes the change
 * count at commit everywhere (see the top of this file). */
Datum
pg_hessra_trust_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hessra_trust_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/* hessra_trust_guard() RETURNS trigger: BEFORE INSERT/UPDATE/DELETE/TRUNCATE
 * FOR EACH STATEMENT. Only a superuser changes which keys are trusted and
 * which tokens are revoked, whatever privileges were granted on the table or
 * whoever owns it. */
Datum
pg_hessra_trust_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hessra_trust_guard() must be called as a trigger")));
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to change %s", RelationGetRelationName(trigdata->tg_relation)),
				 errdetail("Only superusers may change the keys hessra trusts and the tokens it refuses.")));
	return PointerGetDatum(NULL);
}

/* hessra_trusted_key_check() RETURNS trigger: BEFORE INSERT OR UPDATE FOR
 * EACH ROW of hessra_trusted_keys. A key the engine cannot read is refused
 * when it is written, not when every verification would fail after commit. */
Datum
pg_hessra_trusted_key_check(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	bool		isnull;
	Datum		d;
	char	   *text_key;
	HessraPublicKey key = NULL;
	HessraResult rc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hessra_trusted_key_check() must be called as a row trigger")));
	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	d = heap_getattr(tuple, 2, RelationGetDescr(trigdata->tg_relation), &isnull);
	if (!isnull)
	{
		text_key = TextDatumGetCString(d);
		rc = hessra_public_key_from_string(text_key, &key);
		hessra_public_key_free(key);
		if (rc != HESSRA_SUCCESS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("public_key is not a public key hessra can read (%s)", hessra_error_message(rc)),
					 errhint("Give a PEM public key, ed25519/<hex>, secp256r1/<hex> or 64 hex digits (Ed25519).")));
	}
	return PointerGetDatum(tuple);
}

/* ------------------------------------------------------------------------ */
/* Finding and checking the tables                                          */
/* ------------------------------------------------------------------------ */

/* The extension's schema and version (palloc'd), from pg_extension. False
 * when the extension is not created in this database. */
static bool
extension_entry(Oid *nsp, char **version)
{
	Oid			ext = get_extension_oid(EXTENSION_NAME, true);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found = false;

	if (!OidIsValid(ext))
		return false;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(ext));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		v = heap_getattr(tuple, Anum_pg_extension_extversion, RelationGetDescr(rel), &isnull);

		*nsp = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
		*version = isnull ? pstrdup("") : TextDatumGetCString(v);
		found = true;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

static bool
version_has_tables(const char *version)
{
	int			i;

	for (i = 0; i < lengthof(versions_without_tables); i++)
		if (strcmp(version, versions_without_tables[i]) == 0)
			return false;
	return true;
}

#if defined(pg_attribute_noreturn)
static void table_problem(const char *table, const char *problem) pg_attribute_noreturn();
#else
pg_noreturn static void table_problem(const char *table, const char *problem);
#endif

static void
table_problem(const char *table, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("hessra cannot use its table %s: %s", table, problem),
			 errdetail("The keys hessra trusts and the tokens it refuses are kept there; "
					   "verification fails closed while it cannot be used."),
			 errhint("Recreate it as the extension defines it (ALTER EXTENSION hessra UPDATE, "
					 "or DROP and CREATE EXTENSION hessra after saving its rows).")));
}

/* The table's OID in the extension's schema, locked for the transaction;
 * raises when it is missing or not what the extension created. */
static Oid
find_table(const char *table, Oid nsp, const Oid *types, int ntypes)
{
	Oid			relid = get_relname_relid(table, nsp);
	Relation	rel;
	TupleDesc	desc;
	int			i;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("hessra cannot find its table %s in schema %s", table, get_namespace_name(nsp)),
				 errdetail("The keys hessra trusts and the tokens it refuses are kept there; "
						   "verification fails closed without it."),
				 errhint("It was dropped or renamed: rename it back, or run ALTER EXTENSION hessra UPDATE.")));
	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		table_problem(table, "it is not a table");
	if (!superuser_arg(rel->rd_rel->relowner))
		table_problem(table, psprintf("it is owned by %s, who is not a superuser (whoever owns it decides what is trusted)",
									  GetUserNameFromId(rel->rd_rel->relowner, false)));
	desc = RelationGetDescr(rel);
	if (desc->natts < ntypes)
		table_problem(table, "columns are missing");
	for (i = 0; i < ntypes; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->atttypid != types[i])
			table_problem(table, psprintf("column %d is not of type %s", i + 1, format_type_be(types[i])));
	}
	table_close(rel, NoLock);	/* the lock stays until the end of the transaction */
	return relid;
}

/* The table's primary key index (the table is locked); raises without one. */
static Oid
primary_key_of(Oid relid, const char *table)
{
	Relation	rel = table_open(relid, NoLock);
	Oid			indexid = RelationGetPrimaryKeyIndex(rel);

	table_close(rel, NoLock);
	if (!OidIsValid(indexid))
		table_problem(table, "it has no primary key");
	return indexid;
}

/* The revocations' primary key index: a valid btree on revocation_id with
 * bytea's equality (what trust_lookup probes), locked. */
static Oid
find_revocation_index(Oid relid)
{
	Oid			indexid = primary_key_of(relid, REVOCATIONS_TABLE);
	Relation	index;
	bool		usable;

	index = index_open(indexid, AccessShareLock);
	usable = index->rd_rel->relam == BTREE_AM_OID &&
		index->rd_index->indnkeyatts == 1 && index->rd_index->indkey.values[0] == 1 &&
		index->rd_index->indisvalid && index->rd_index->indisready && index->rd_index->indislive &&
		index->rd_opfamily[0] == BYTEA_BTREE_FAM_OID;
	index_close(index, NoLock);
	if (!usable)
		table_problem(REVOCATIONS_TABLE, "its primary key is not a valid btree index on revocation_id");
	return indexid;
}

/* Adds the rows of hessra_trusted_keys, in key_id order, to cfg. */
static void
add_database_keys(HessraConfig cfg)
{
	Oid			pkey = primary_key_of(keys_relid, KEYS_TABLE);
	Relation	rel = table_open(keys_relid, NoLock);
	SysScanDesc scan;
	HeapTuple	tuple;
	TupleDesc	desc = RelationGetDescr(rel);

	scan = systable_beginscan(rel, pkey, true, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		null_id,
					null_key,
					null_root,
					null_default;
		Datum		id = heap_getattr(tuple, 1, desc, &null_id);
		Datum		key = heap_getattr(tuple, 2, desc, &null_key);
		Datum		root = heap_getattr(tuple, 3, desc, &null_root);
		Datum		is_default = heap_getattr(tuple, 4, desc, &null_default);
		HessraError err = {HESSRA_SUCCESS, NULL};
		HessraResult rc;
		char	   *detail;

		if (null_id || null_key)
			table_problem(KEYS_TABLE, "a row has no key_id or public_key");
		rc = hessra_config_add_key(cfg, TextDatumGetCString(id), TextDatumGetCString(key),
								   null_root ? -1 : DatumGetInt64(root),
								   !null_default && DatumGetBool(is_default), &err);
		if (rc == HESSRA_SUCCESS)
			continue;
		detail = pstrdup(err.message != NULL ? err.message : hessra_error_message(rc));
		hessra_error_free(err.message);
		if (rc != HESSRA_ERROR_CONFIG_INVALID && rc != HESSRA_ERROR_INVALID_PARAMETER)
			hessra_report_engine_error(rc, detail, "add the database's trusted keys");
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("hessra cannot combine the table %s with its configuration file", KEYS_TABLE),
				 errdetail("%s", detail),
				 errhint("Each key id and root key id is trusted from one place: "
						 "remove the row or the configuration file's entry.")));
	}
	systable_endscan(scan);
	table_close(rel, NoLock);
}

/* ------------------------------------------------------------------------ */
/* Loading and the per-statement check                                      */
/* ------------------------------------------------------------------------ */

void
hessra_trust_load(HessraConfig cfg)
{
	static const Oid key_columns[] = {TEXTOID, TEXTOID, INT8OID, BOOLOID};
	static const Oid revocation_columns[] = {BYTEAOID};
	Oid			nsp = InvalidOid;
	char	   *version = NULL;

	keys_relid = revocations_relid = revocations_indexid = InvalidOid;
	ext_namespace = InvalidOid;
	if (!extension_entry(&nsp, &version))
		return;
	ext_namespace = nsp;
	if (!version_has_tables(version))
		return;

	keys_relid = find_table(KEYS_TABLE, nsp, key_columns, lengthof(key_columns));
	revocations_relid = find_table(REVOCATIONS_TABLE, nsp, revocation_columns, lengthof(revocation_columns));
	revocations_indexid = find_revocation_index(revocations_relid);
	add_database_keys(cfg);
	if (hessra_config_set_revocation_lookup(cfg, hessra_trust_lookup, NULL) != HESSRA_SUCCESS)
		hessra_report_engine_error(HESSRA_ERROR_INTERNAL, NULL, "install the revocation lookup");
}

void
hessra_trust_statement(void)
{
	/* A commit's invalidations may not have been read yet inside a
	 * transaction block: read them now, once per statement (cheap when
	 * there are none). */
	AcceptInvalidationMessages();
	if (OidIsValid(revocations_relid))
	{
		/* Taken here, outside the engine, so that trust_lookup() never waits
		 * for a lock; held until the end of the transaction. A table dropped
		 * meanwhile is reported by the invalidation this processes. */
		LockRelationOid(revocations_relid, AccessShareLock);
		LockRelationOid(revocations_indexid, AccessShareLock);
	}
	else if (OidIsValid(ext_namespace) && OidIsValid(get_relname_relid(REVOCATIONS_TABLE, ext_namespace)))
		hessra_mark_config_dirty(); /* created since the load (ALTER EXTENSION UPDATE elsewhere) */
}

/* ------------------------------------------------------------------------ */
/* The revocation lookup (called by the engine)                             */
/* ------------------------------------------------------------------------ */

/* Whether the id is a row of hessra_revocations: one primary-key probe
 * under a fresh catalog snapshot. May raise (caught by the caller). */
static bool
probe(const uint8 *id, size_t len)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	bytea	   *value;
	bool		found;

	if (probe_cxt == NULL)
		probe_cxt = AllocSetContextCreate(TopMemoryContext, "hessra revocation lookup",
										  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(probe_cxt);
	MemoryContextSwitchTo(probe_cxt);
	if (len == 0 || len > MAX_REVOCATION_ID)
		return false;			/* no such row can exist (the table's CHECK) */

	value = palloc(VARHDRSZ + len);
	SET_VARSIZE(value, VARHDRSZ + len);
	memcpy(VARDATA(value), id, len);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_BYTEAEQ, PointerGetDatum(value));
	rel = table_open(revocations_relid, NoLock);	/* locked by hessra_trust_statement */
	scan = systable_beginscan(rel, revocations_indexid, true, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, NoLock);
	return found;
}

int
hessra_trust_lookup(void *context, const uint8_t *revocation_id, size_t revocation_id_len,
					int *out_revoked)
{
	MemoryContext caller_cxt = CurrentMemoryContext;
	uint32		holdoff = InterruptHoldoffCount;
	volatile int rc = 0;

	(void) context;
	if (lookup_error != NULL)
	{
		FreeErrorData(lookup_error);
		lookup_error = NULL;
	}
	if (!OidIsValid(revocations_relid))
		return 2;				/* no table to ask: fail closed */

	HOLD_INTERRUPTS();
	PG_TRY();
	{
		*out_revoked = probe(revocation_id, revocation_id_len) ? 1 : 0;
	}
	PG_CATCH();
	{
		/* Kept for hessra_report_engine_error(), which raises it after the
		 * engine returned; the transaction's abort then releases what the
		 * probe held. */
		MemoryContextSwitchTo(TopMemoryContext);
		lookup_error = CopyErrorData();
		FlushErrorState();
		rc = 1;
	}
	PG_END_TRY();
	InterruptHoldoffCount = holdoff;	/* an ERROR reset it to 0 */
	MemoryContextSwitchTo(caller_cxt);
	return rc;
}

void
hessra_trust_raise_lookup_error(const char *engine_msg, const char *what)
{
	ErrorData  *edata = lookup_error;
	int			sqlstate = edata != NULL ? edata->sqlerrcode : ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
	char	   *cause = edata != NULL && edata->message != NULL ? pstrdup(edata->message)
		: pstrdup(engine_msg != NULL ? engine_msg : "the revocation lookup failed");

	if (edata != NULL)
	{
		FreeErrorData(edata);
		lookup_error = NULL;
	}
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("hessra could not read its table %s to %s", REVOCATIONS_TABLE, what),
			 errdetail("%s", cause),
			 errhint("Verification fails closed while the table of revoked tokens cannot be read: "
					 "whether the token is revoked is unknown.")));
}

/* ------------------------------------------------------------------------ */
/* hessra_trust_summary()                                                   */
/* ------------------------------------------------------------------------ */

/* hessra_trust_summary() RETURNS jsonb: the configuration in effect (the
 * file's and the table's keys with their source, the default key, the
 * file's revocation list) as the engine describes it. */
Datum
pg_hessra_trust_summary(PG_FUNCTION_ARGS)
{
	HessraConfig cfg = hessra_get_config();
	char	   *json = NULL;
	char	   *copy;
	HessraResult rc = hessra_config_describe(cfg, &json);

	if (rc != HESSRA_SUCCESS)
		hessra_report_engine_error(rc, NULL, "describe the configuration");
	copy = pstrdup(json);
	hessra_string_free(json);
	PG_RETURN_DATUM(hessra_engine_jsonb(copy));
}
