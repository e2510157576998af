/*-------------------------------------------------------------------------
 *
 * pgque.c
 *		Module entry point.
 *
 * _PG_init only hands over to the modules that need initialization.
 *
 *-------------------------------------------------------------------------
 */
#include "pgque.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
}
