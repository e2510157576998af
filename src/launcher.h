/*-------------------------------------------------------------------------
 *
 * launcher.h
 *		The launcher: one worker for every database with pgque (launcher.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGQUE_LAUNCHER_H
#define PGQUE_LAUNCHER_H

#include "pgque.h"

#define PGQUE_LAUNCHER_TYPE "pgque launcher"

extern void pgque_launcher_init(void);
PGDLLEXPORT void pgque_launcher_main(Datum arg);

#endif							/* PGQUE_LAUNCHER_H */
