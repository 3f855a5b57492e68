/*
 * peers.c - the table of RPC clients to other OSDs (peers.h).
 *
 * Entries live in a singly linked list (clusters have thousands of OSDs at
 * most and an OSD talks to the members of its PGs; a lookup is a short walk
 * under the mutex).  A retired entry leaves the list at once and is freed
 * when its references drop to zero.
 */
#include "osd/peers.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "proto/map.h"

struct osd_peer {
	struct osd_peer *next; /* lock */
	uint32_t id;
	char addr[PROTO_ADDR_MAX + 1];
	struct rpc_client *cli;
	int refs;     /* lock; the table holds one while listed */
};

struct osd_peers {
	struct rpc_opts opts;
	pthread_mutex_t lock;
	struct osd_peer *list; /* lock */
};

struct osd_peers *osd_peers_new(const struct rpc_opts *opts)
{
	struct osd_peers *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->opts = *opts;
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

static void peer_free(struct osd_peer *e)
{
	rpc_client_free(e->cli);
	free(e);
}

void osd_peers_free(struct osd_peers *p)
{
	struct osd_peer *e, *next;

	if (!p)
		return;
	for (e = p->list; e; e = next) {
		next = e->next;
		peer_free(e);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Unlinks e from the list (lock held); returns true if it is to be freed now. */
static bool peer_retire(struct osd_peers *p, struct osd_peer *e)
{
	struct osd_peer **link = &p->list;

	while (*link != e)
		link = &(*link)->next;
	*link = e->next;
	return --e->refs == 0;
}

int osd_peers_get(struct osd_peers *p, uint32_t id, const char *addr, size_t len,
		  struct osd_peer **out)
{
	struct osd_peer *e, *stale = NULL, *fresh;
	int ret;

	if (!addr || len == 0 || len > PROTO_ADDR_MAX)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	for (e = p->list; e; e = e->next) {
		if (e->id != id)
			continue;
		if (strlen(e->addr) == len && memcmp(e->addr, addr, len) == 0) {
			e->refs++;
			*out = e;
			pthread_mutex_unlock(&p->lock);
			return 0;
		}
		if (peer_retire(p, e))
			stale = e;
		break;
	}
	pthread_mutex_unlock(&p->lock);
	if (stale)
		peer_free(stale);
	/* Create outside the lock (resolving a name may block), then publish. */
	fresh = calloc(1, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	fresh->id = id;
	memcpy(fresh->addr, addr, len);
	ret = rpc_client_new(fresh->addr, &p->opts, &fresh->cli);
	if (ret) {
		log_warn("peers: no client for OSD %u at %s: %s", id, fresh->addr, error_str(ret));
		free(fresh);
		return ret;
	}
	fresh->refs = 2; /* the table's and the caller's */
	pthread_mutex_lock(&p->lock);
	for (e = p->list; e; e = e->next)
		if (e->id == id && strcmp(e->addr, fresh->addr) == 0)
			break;
	if (e) { /* another thread won: use its client */
		e->refs++;
		pthread_mutex_unlock(&p->lock);
		rpc_client_free(fresh->cli);
		free(fresh);
		*out = e;
		return 0;
	}
	fresh->next = p->list;
	p->list = fresh;
	pthread_mutex_unlock(&p->lock);
	*out = fresh;
	return 0;
}

struct rpc_client *osd_peer_client(const struct osd_peer *peer)
{
	return peer->cli;
}

void osd_peers_put(struct osd_peers *p, struct osd_peer *peer)
{
	bool last;

	if (!peer)
		return;
	pthread_mutex_lock(&p->lock);
	last = --peer->refs == 0;
	pthread_mutex_unlock(&p->lock);
	if (last)
		peer_free(peer);
}
