/*
 * fault.c - crash points armed from the environment (see fault.h).  Linked
 * only into test binaries.  The environment is read once, at the first
 * call; the hit counter is atomic, so any thread may reach a point.
 */
#include "common/fault.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

static pthread_once_t fault_once = PTHREAD_ONCE_INIT;
static const char *fault_names; /* CAIRN_FAULT, or NULL */
static long fault_skip;
static atomic_long fault_hits;

static void fault_init(void)
{
	const char *skip = getenv("CAIRN_FAULT_SKIP");

	fault_names = getenv("CAIRN_FAULT");
	if (fault_names && !*fault_names)
		fault_names = NULL;
	fault_skip = skip ? strtol(skip, NULL, 10) : 0;
}

static bool fault_armed(const char *name)
{
	size_t len = strlen(name);
	const char *p = fault_names;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == len && memcmp(p, name, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

void fault_point(const char *name)
{
	pthread_once(&fault_once, fault_init);
	if (!fault_names || !fault_armed(name))
		return;
	if (atomic_fetch_add(&fault_hits, 1) < fault_skip)
		return;
	log_warn("fault point '%s' reached: killing myself", name);
	raise(SIGKILL);
}

bool fault_enabled(void)
{
	return true;
}
