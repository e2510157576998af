/*-------------------------------------------------------------------------
 *
 * pgque.c
 *		Module entry point.
 *
 * _PG_init only hands over to the modules: GUCs and the commit callback in
 * every backend that loads the library; shared memory and the launcher only
 * when the library is preloaded.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "queue_cache.h"
#include "shmem.h"
#include "worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	pgque_plans_init();
	pgque_catalog_init();
	pgque_consume_init();
	pgque_worker_init();
	pgque_wakeup_init();
	queue_cache_init();
	if (process_shared_preload_libraries_in_progress)
	{
		pgque_shmem_settings_init();	/* PGC_POSTMASTER: preload only */
		pgque_shmem_init();
		pgque_launcher_register();
	}
	/* after every module defined its settings: the rest of pgque.* is a typo */
	MarkGUCPrefixReserved("pgque");
}
