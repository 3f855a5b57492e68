/*
 * commit.c - the group committer (commit.h).
 *
 * State is process-wide (one shard per process).  The dirty flag is set
 * with a relaxed store after a plain load, so writers that find it already
 * set do not bounce its cache line; the committer clears it with an
 * exchange *before* syncing, so a write noted during the sync is synced at
 * the next round, never lost.  The thread sleeps on a condition variable
 * with a monotonic deadline so mds_commit_stop() wakes it at once.
 */
#include "mds/commit.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "mds/ns.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running; /* lock */
	bool stop;    /* lock */
	struct ns *ns;
	unsigned interval_ms;
	atomic_bool dirty;
	bool failed; /* committer thread only: a sync failed, logged once */
} commit = {.lock = PTHREAD_MUTEX_INITIALIZER};

void mds_commit_note(void)
{
	if (!atomic_load_explicit(&commit.dirty, memory_order_relaxed))
		atomic_store_explicit(&commit.dirty, true, memory_order_relaxed);
}

/* Syncs if anything was noted.  Returns 0 or the error of ns_sync(). */
static int commit_round(void)
{
	int rc;

	if (!atomic_exchange(&commit.dirty, false))
		return 0;
	rc = ns_sync(commit.ns);
	if (rc) {
		/* Keep the writes pending: the next round retries. */
		atomic_store(&commit.dirty, true);
		if (!commit.failed)
			log_error("mds: group commit failed: %s", strerror(-rc));
		commit.failed = true;
	} else if (commit.failed) {
		log_info("mds: group commit works again");
		commit.failed = false;
	}
	return rc;
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	ts->tv_sec += ms / 1000 + ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

static void *commit_main(void *arg)
{
	struct timespec ts;
	bool stop;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&commit.lock);
		deadline_after(&ts, commit.interval_ms);
		while (!commit.stop && pthread_cond_timedwait(&commit.cond, &commit.lock, &ts) == 0)
			;
		stop = commit.stop;
		pthread_mutex_unlock(&commit.lock);
		if (stop)
			break;
		commit_round();
	}
	return NULL;
}

int mds_commit_start(struct ns *ns, unsigned interval_ms)
{
	pthread_condattr_t ca;
	int rc;

	if (!ns || interval_ms == 0)
		return -EINVAL;
	pthread_mutex_lock(&commit.lock);
	if (commit.running) {
		pthread_mutex_unlock(&commit.lock);
		return -EBUSY;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&commit.cond, &ca);
	pthread_condattr_destroy(&ca);
	commit.ns = ns;
	commit.interval_ms = interval_ms;
	commit.stop = false;
	commit.failed = false;
	rc = -pthread_create(&commit.thread, NULL, commit_main, NULL);
	if (rc)
		pthread_cond_destroy(&commit.cond);
	else
		commit.running = true;
	pthread_mutex_unlock(&commit.lock);
	return rc;
}

int mds_commit_stop(void)
{
	pthread_mutex_lock(&commit.lock);
	if (!commit.running) {
		pthread_mutex_unlock(&commit.lock);
		return 0;
	}
	commit.stop = true;
	pthread_cond_signal(&commit.cond);
	pthread_mutex_unlock(&commit.lock);
	pthread_join(commit.thread, NULL);

	pthread_mutex_lock(&commit.lock);
	commit.running = false;
	pthread_cond_destroy(&commit.cond);
	pthread_mutex_unlock(&commit.lock);
	return commit_round();
}
