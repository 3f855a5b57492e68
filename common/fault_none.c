/*
 * fault_none.c - crash points compiled out (installed binaries); see
 * fault.h.
 */
#include "common/fault.h"

void fault_point(const char *name)
{
	(void)name;
}

bool fault_enabled(void)
{
	return false;
}
