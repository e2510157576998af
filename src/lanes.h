/*-------------------------------------------------------------------------
 *
 * lanes.h
 *		Priority lanes: the hidden queues that hold a queue's events sent
 *		with a priority above 0 (lanes.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_LANES_H
#define PGQUE_LANES_H

#include "pgque.h"

extern void pgque_check_priority(int priority);
extern int32 lane_for_send(const PgqueQueue *parent, int priority);
extern int	lanes_of(const char *queue_name, char ***names);
extern int	lane_ids_of(int32 queue_id, int32 **ids);

#endif							/* PGQUE_LANES_H */
