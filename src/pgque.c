/*-------------------------------------------------------------------------
 *
 * pgque.c
 *		Module entry point.
 *
 * _PG_init only hands over to the modules, each of which defines its own
 * settings and, when the library is preloaded, requests its own shared
 * memory (shmem.c, queue_cache.c) or background worker (launcher.c).
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

#include "utils/guc.h"

#include "consume.h"
#include "launcher.h"
#include "queue_cache.h"
#include "shmem.h"
#include "wakeup.h"
#include "worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	pgque_plans_init();
	pgque_catalog_init();
	pgque_consume_init();
	pgque_queue_cache_init();
	pgque_wakeup_init();
	pgque_worker_init();
	pgque_shmem_init();
	pgque_launcher_init();
	/* after every module defined its settings: the rest of pgque.* is a typo */
	MarkGUCPrefixReserved("pgque");
}
