/*-------------------------------------------------------------------------
 *
 * wakeup.c
 *		Telling the ticker that a transaction that sent events has committed.
 *
 * Without the background worker there is nobody to wake; this module only
 * remembers which queues the current transaction wrote to.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

void
pgque_note_event_insert(int32 queue_id)
{
	(void) queue_id;
}
