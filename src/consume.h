/*-------------------------------------------------------------------------
 *
 * consume.h
 *		Consumer cursors: receive, next_batch, ack (consume.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_CONSUME_H
#define PGQUE_CONSUME_H

#include "pgque.h"

extern void pgque_consume_init(void);

#endif							/* PGQUE_CONSUME_H */
