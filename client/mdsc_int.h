/*
 * mdsc_int.h - libcairn internal: the metadata client's state, shared by
 * mdsc.c (connections, calls) and mdsc_map.c (the cluster map and its
 * watcher thread).  Nothing outside these two files includes it.
 */
#ifndef CAIRN_CLIENT_MDSC_INT_H
#define CAIRN_CLIENT_MDSC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/mdsc.h"
#include "common/cfg.h"

struct rpc_client;
struct rpc_engine;

/* "[" host "]:" port and a NUL */
#define MDSC_ADDR_MAX (CFG_HOST_MAX + 10)

#define MDSC_OSDS_MAX 4096

/* One OSD connection (data path), created on first use. */
struct mdsc_osd {
	char addr[MDSC_ADDR_MAX];
	struct rpc_client *cli;
};

struct mdsc {
	const struct cfg *cfg; /* borrowed */
	const struct auth_key *key; /* borrowed */
	int timeout_ms;
	uint16_t nshards;
	struct rpc_engine *eng;
	struct rpc_client *cli[CFG_MAX_SHARDS];
	char addr[CFG_MAX_SHARDS][MDSC_ADDR_MAX];

	/* The newest map: map under map_lock, epoch readable without it. */
	pthread_mutex_t map_lock;
	struct mdsc_map *map;
	_Atomic uint64_t epoch;

	/* The watcher thread and its one MAP_GET in flight (watch_lock). */
	bool watching; /* set before the thread starts, read at free */
	pthread_t watcher;
	pthread_mutex_t watch_lock;
	pthread_cond_t watch_cond;
	bool stop;
	bool w_inflight; /* a MAP_GET was submitted and is not done */
	bool w_done;	 /* its answer is in w_status / w_resp */
	int w_status;
	struct rpc_msg *w_resp;

	/* OSD connections (osd_lock): grow only, freed by mdsc_free(). */
	pthread_mutex_t osd_lock;
	struct mdsc_osd *osds;
	size_t nosds, osd_cap;
};

/* mdsc_map.c */
int mdsc_watch_start(struct mdsc *m);
/* Asks the watcher to stop and joins it; its call may still be in flight. */
void mdsc_watch_stop(struct mdsc *m);
/* After the clients are freed: drops what the watcher left, and the map. */
void mdsc_map_cleanup(struct mdsc *m);

#endif
