# A send commits asynchronously (synchronous_commit off for its
# transaction, as the worker's ticks do): the producer is told its event was
# sent before a synchronous standby has it, and a failover loses it.
catches="script:failover"
mutate() {
    sub src/send.c '#include "utils/fmgrprotos.h"' '#include "utils/fmgrprotos.h"
#include "utils/guc.h"'
    sub src/send.c '	w->rel = table_open(w->relid, RowExclusiveLock);' '	(void) set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	w->rel = table_open(w->relid, RowExclusiveLock);'
}
