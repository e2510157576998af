/*-------------------------------------------------------------------------
 *
 * access.h
 *		Who may use a restricted queue (access.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_ACCESS_H
#define PGQUE_ACCESS_H

#include "pgque.h"

extern void pgque_check_access(int32 queue_id, const char *privilege, int32 sub_id);

#endif							/* PGQUE_ACCESS_H */
