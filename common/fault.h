/*
 * fault.h - crash points for tests.
 *
 * A daemon marks the places where a crash matters (between two steps of a
 * cross-shard operation, between a write and its acknowledgement, ...) with
 * fault_point("name").  In the binaries that tests build with fault.c,
 * setting CAIRN_FAULT=name[,name...] in the environment makes the process
 * kill itself with SIGKILL when it reaches one of those points, after
 * CAIRN_FAULT_SKIP=N earlier hits (default 0).  Installed binaries link
 * fault_none.c, where fault_point() does nothing.
 */
#ifndef CAIRN_COMMON_FAULT_H
#define CAIRN_COMMON_FAULT_H

#include <stdbool.h>

/* Dies with SIGKILL here if the test asked for this point. */
void fault_point(const char *name);

/* True when this binary was built with crash points. */
bool fault_enabled(void);

#endif
