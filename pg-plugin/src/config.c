/*
 * config.c — loading, checking and reloading the hessra configuration file.
 *
 * The configuration file named by hessra.config_path is loaded lazily, on the
 * first call that needs it, and loaded again when
 *   - hessra.config_path is assigned (SET by a superuser, hessra_init(), or a
 *     configuration reload after SIGHUP — the assign hook marks it dirty),
 *   - the file's identity changes (device, inode, size, mtime, ctime), which
 *     is checked with one stat() at most once per statement,
 *   - hessra_reload_config() is called.
 *
 * A configuration file or key file (public_key_file) that is not a regular
 * file, is writable by group or others, or is owned by someone other than the
 * server's OS user or root is refused: whoever can write it decides which keys
 * are trusted. The engine applies that rule (hessra_config_from_trusted_file)
 * to every file it reads for the configuration.
 *
 * The HessraConfig handle is allocated by the engine (not in a memory
 * context): it is freed when replaced and at process exit. Failing closed: a
 * configuration that became unreadable or unsafe is dropped, never kept.
 */
#include "hessra_pg.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* The loaded configuration and what it was loaded from. */
static HessraConfig loaded_config = NULL;
static char *loaded_path = NULL;	/* TopMemoryContext */
static struct stat loaded_stat;
static uint64 generation = 0;

/* Statement whose start time we last checked the file at. */
static TimestampTz last_check_ts = 0;
static bool last_check_valid = false;

static bool config_dirty = true;
static bool cache_size_dirty = false;

/* Engine counters of configurations already freed (backend lifetime). */
static HessraCacheStats retired_stats;

void
hessra_mark_config_dirty(void)
{
	config_dirty = true;
}

void
hessra_mark_cache_size_dirty(void)
{
	cache_size_dirty = true;
}

uint64
hessra_config_generation(void)
{
	return generation;
}

bool
hessra_config_loaded(void)
{
	return loaded_config != NULL;
}

int64
hessra_statement_now(void)
{
	return (int64) timestamptz_to_time_t(GetCurrentStatementStartTimestamp());
}

/*
 * "now" and the leeway of every verification: the statement start time, and
 * hessra.leeway_seconds when set (>= 0, an explicit 0 included), else "not
 * given" (-1 = HESSRA_LEEWAY_UNSET): the engine then applies the
 * configuration file's leeway_seconds.
 */
void
hessra_request_time(HessraVerifyRequest *request)
{
	request->now = hessra_statement_now();
	request->leeway_seconds = hessra_leeway_seconds < 0 ? HESSRA_LEEWAY_UNSET
		: (int64) hessra_leeway_seconds;
}

bool
hessra_result_is_denial(HessraResult rc)
{
	switch (rc)
	{
		case HESSRA_ERROR_INVALID_TOKEN:
		case HESSRA_ERROR_INVALID_KEY:
		case HESSRA_ERROR_VERIFICATION_FAILED:
		case HESSRA_ERROR_INVALID_PARAMETER:
		case HESSRA_ERROR_EXPIRED:
		case HESSRA_ERROR_LIMIT_EXCEEDED:
		case HESSRA_ERROR_REVOKED:	/* listed by the configuration's revocation list */
			return true;
		default:
			return false;
	}
}

void
hessra_report_engine_error(HessraResult rc, const char *engine_msg, const char *what)
{
	const char *msg = engine_msg != NULL ? engine_msg : hessra_error_message(rc);

	if (rc == HESSRA_ERROR_INTERRUPTED)
	{
		/* The engine stopped because hessra_interrupt_pending() saw a
		 * pending cancel (pg_cancel_backend, statement_timeout) or
		 * termination: process it now that no engine frame is on the
		 * stack. Should PostgreSQL not act on it here, fail the same way. */
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling hessra verification: interrupt pending while trying to %s", what)));
	}

	if (rc == HESSRA_ERROR_CONFIG_INVALID)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("hessra configuration cannot be used to %s", what),
				 errdetail("%s", msg),
				 errhint("Fix the configuration file named by hessra.config_path "
						 "(it needs a usable default key), then call hessra_reload_config().")));
	if (rc == HESSRA_ERROR_MEMORY)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory in the hessra engine while trying to %s", what),
				 errdetail("%s", msg)));
	if (rc == HESSRA_ERROR_IO)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("hessra engine could not read a file while trying to %s", what),
				 errdetail("%s", msg),
				 errhint("Check the key files named by the configuration file.")));
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("hessra engine failed to %s", what),
			 errdetail("%s (code %d)", msg, (int) rc),
			 errhint("This is a bug in the hessra engine; please report it.")));
	pg_unreachable();
}

static void
accumulate_stats(HessraConfig cfg)
{
	HessraCacheStats s;

	if (cfg == NULL)
		return;
	memset(&s, 0, sizeof(s));
	if (hessra_config_cache_stats(cfg, &s) == HESSRA_SUCCESS)
	{
		retired_stats.verifications += s.verifications;
		retired_stats.cache_hits += s.cache_hits;
		retired_stats.cache_misses += s.cache_misses;
	}
}

void
hessra_engine_stats(HessraCacheStats *out)
{
	HessraCacheStats s;

	*out = retired_stats;
	out->cache_entries = 0;
	out->cache_capacity = 0;
	if (loaded_config == NULL)
		return;
	memset(&s, 0, sizeof(s));
	if (hessra_config_cache_stats(loaded_config, &s) == HESSRA_SUCCESS)
	{
		out->verifications += s.verifications;
		out->cache_hits += s.cache_hits;
		out->cache_misses += s.cache_misses;
		out->cache_entries = s.cache_entries;
		out->cache_capacity = s.cache_capacity;
	}
}

static void
drop_config(void)
{
	if (loaded_config != NULL)
	{
		accumulate_stats(loaded_config);
		hessra_config_free(loaded_config);
		loaded_config = NULL;
	}
	if (loaded_path != NULL)
	{
		pfree(loaded_path);
		loaded_path = NULL;
	}
	last_check_valid = false;
}

static void
cleanup_at_exit(int code, Datum arg)
{
	(void) code;
	(void) arg;
	if (loaded_config != NULL)
	{
		hessra_config_free(loaded_config);
		loaded_config = NULL;
	}
}

void
hessra_config_init(void)
{
	memset(&retired_stats, 0, sizeof(retired_stats));
	on_proc_exit(cleanup_at_exit, (Datum) 0);
}

static bool
same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev &&
		a->st_ino == b->st_ino &&
		a->st_size == b->st_size &&
		a->st_mtime == b->st_mtime &&
		a->st_ctime == b->st_ctime &&
#if defined(__linux__)
		a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
		a->st_ctim.tv_nsec == b->st_ctim.tv_nsec &&
#endif
		a->st_mode == b->st_mode &&
		a->st_uid == b->st_uid;
}

/* stat() of the configuration file, for its identity. Raises ERROR (after
 * dropping any loaded configuration) when it cannot be stat()ed. Whether the
 * file may be trusted (type, owner, mode) is the engine's rule, applied when
 * it loads the file and every key file the file names (load_config). */
static void
stat_config_file(const char *path, struct stat *st)
{
	if (stat(path, st) != 0)
	{
		int			save_errno = errno;

		drop_config();
		errno = save_errno;
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("could not access hessra configuration file \"%s\": %m", path),
				 errdetail("hessra.config_path names a file the server cannot read."),
				 errhint("Check hessra.config_path, or call hessra_init() with the path of a readable file.")));
	}
}

static void
apply_cache_size(HessraConfig cfg)
{
	HessraResult rc = hessra_config_set_cache_size(cfg, (size_t) hessra_cache_size);

	if (rc != HESSRA_SUCCESS)
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hessra: could not set the verification cache size to %d", hessra_cache_size),
				 errdetail("%s", hessra_error_message(rc))));
}

static void
load_config(const char *path)
{
	struct stat before;
	struct stat after;
	HessraConfig cfg = NULL;
	HessraResult rc;
	int			attempt;

	/*
	 * Whoever can write the configuration file or a key file it names decides
	 * which keys are trusted: the engine refuses files not owned by the
	 * server's OS user or root, or writable by group or others.
	 */
	const uint32_t trusted_owners[] = {0, (uint32_t) geteuid()};

	if (!is_absolute_path(path))
	{
		drop_config();
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("hessra configuration path \"%s\" is not absolute", path),
				 errhint("Set hessra.config_path to an absolute path.")));
	}

	for (attempt = 0;; attempt++)
	{
		HessraError err = {HESSRA_SUCCESS, NULL};
		char	   *detail;

		stat_config_file(path, &before);
		rc = hessra_config_from_trusted_file(path, trusted_owners,
											 trusted_owners[1] == 0 ? 1 : 2, &cfg, &err);
		if (rc != HESSRA_SUCCESS)
		{
			/*
			 * The engine's message names the offending field ("keys[1].public_key:
			 * ...") or the file it could not read, never the file's content.
			 * Copy it out of the engine's allocation before ereport() jumps.
			 */
			detail = pstrdup(err.message != NULL ? err.message : hessra_error_message(rc));
			hessra_error_free(err.message);
			drop_config();
			if (rc == HESSRA_ERROR_IO)
				ereport(ERROR,
						(errcode(ERRCODE_CONFIG_FILE_ERROR),
						 errmsg("could not use hessra configuration file \"%s\"", path),
						 errdetail("%s", detail),
						 errhint("The configuration file and every public_key_file and revocation_file it names must be regular files "
								 "readable by the database server's OS user, owned by that user or root, "
								 "and not writable by group or others.")));
			if (rc == HESSRA_ERROR_MEMORY || rc == HESSRA_ERROR_INTERNAL)
				hessra_report_engine_error(rc, detail, "load the configuration");
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("invalid hessra configuration file \"%s\"", path),
					 errdetail("%s", detail),
					 errhint("Validate it with \"hessra config validate --config %s\"; "
							 "the format is JSON with \"version\": 1 and at least one key.", path)));
		}
		/* Make sure what we checked is what the engine read. */
		if (stat(path, &after) == 0 && same_file_state(&before, &after))
			break;
		hessra_config_free(cfg);
		cfg = NULL;
		if (attempt >= 3)
		{
			drop_config();
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("hessra configuration file \"%s\" keeps changing while being read", path),
					 errhint("Replace the file atomically (write a new file, then rename it).")));
		}
	}

	/* A configuration the engine accepts may still hold no key at all. */
	if (hessra_config_key_count(cfg) == 0)
	{
		hessra_config_free(cfg);
		drop_config();
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("hessra configuration file \"%s\" has no keys", path),
				 errdetail("Without a trusted public key no token can be verified."),
				 errhint("Add at least one entry to \"keys\" (and name it in \"default_key\").")));
	}

	apply_cache_size(cfg);
	cache_size_dirty = false;

	drop_config();
	loaded_config = cfg;
	loaded_path = MemoryContextStrdup(TopMemoryContext, path);
	loaded_stat = before;
	generation++;
	config_dirty = false;

	ereport(DEBUG1,
			(errmsg_internal("hessra: loaded configuration \"%s\" (generation " UINT64_FORMAT ")",
							 path, generation)));
}

static const char *
current_path(void)
{
	const char *path = hessra_config_path;

	if (path == NULL)
	{
		/* settings not defined yet: the library was loaded in a parallel operation */
		hessra_require_settings();
		path = hessra_config_path;
	}
	if (path == NULL || path[0] == '\0')
	{
		drop_config();
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("hessra is not configured"),
				 errdetail("hessra.config_path is empty and hessra_init() has not been called in this session."),
				 errhint("Set hessra.config_path in postgresql.conf (or with ALTER SYSTEM / ALTER DATABASE) and reload, "
						 "or call hessra_init('/path/to/hessra.json') as a superuser.")));
	}
	return path;
}

HessraConfig
hessra_get_config(void)
{
	TimestampTz now = GetCurrentStatementStartTimestamp();
	const char *path;

	/* every verification goes through here: one token per statement */
	hessra_statement_token_use();

	if (loaded_config != NULL && !config_dirty &&
		last_check_valid && last_check_ts == now)
	{
		if (cache_size_dirty)
		{
			apply_cache_size(loaded_config);
			cache_size_dirty = false;
		}
		return loaded_config;
	}

	path = current_path();

	if (loaded_config == NULL || config_dirty ||
		loaded_path == NULL || strcmp(loaded_path, path) != 0)
		load_config(path);
	else
	{
		struct stat st;

		stat_config_file(path, &st);
		if (!same_file_state(&st, &loaded_stat))
			load_config(path);
	}

	if (cache_size_dirty)
	{
		apply_cache_size(loaded_config);
		cache_size_dirty = false;
	}
	last_check_ts = now;
	last_check_valid = true;
	return loaded_config;
}

void
hessra_force_reload(void)
{
	config_dirty = true;
	last_check_valid = false;
	(void) hessra_get_config();
}
