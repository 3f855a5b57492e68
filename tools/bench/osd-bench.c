/*
 * osd-bench.c - an OSD measured through the RPC layer against plain file
 * I/O of the same bytes in the same directory, in one run:
 *
 *   1 MiB writes   CHUNK_WRITE of whole chunks (then CHUNK_TRIM of the
 *                  previous version, not waited for), N in flight; plain:
 *                  T threads each open(O_TRUNC), pwrite 1 MiB, fdatasync,
 *                  close
 *   1 MiB reads    CHUNK_READ of whole chunks, N in flight; plain: T threads
 *                  each open, pread 1 MiB, close
 *   4 KiB reads    CHUNK_READ of a random 4 KiB-aligned range of a random
 *                  chunk, 32 in flight; plain: T threads doing the same with
 *                  pread
 *
 * Usage: osd-bench [--dir DIR] [--seconds S] [--rounds R] [--threads T]
 *                  [--inflight N] [--direct] [--chunks C]
 *                  [--only wrq] [--workers W]
 *        osd-bench --conf FILE --osd ID --dir DIR [same options]
 *
 * Without --conf, an OSD is started in this process on loopback (the same
 * server, store and RPC code as cairn-osd, with a one-OSD map installed by
 * hand instead of one from an MDS), its data in DIR/osd and the plain
 * files in DIR/plain (DIR default: a new directory under /var/tmp).  With
 * --conf, the map comes from shard 0 and the chunks go to OSD ID, which
 * must already run; DIR must then be on the same disk as that OSD's data.
 * --direct: O_DIRECT for the plain files and for the in-process store.
 * --only: a subset of the tests (w: writes, r: reads, q: 4 KiB reads).
 * --workers: the in-process OSD's worker threads (cfg osd.workers).
 *
 * Each test runs R rounds (default 3) of S seconds (default 2) split
 * between plain and RPC, alternating; the median round is printed.
 *
 * Threads: T plain I/O threads; RPC completions run on the client's I/O
 * thread and submit the next call themselves; the in-process OSD has its
 * usual threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/auth.h"
#include "common/cfg.h"
#include "common/error.h"
#include "common/log.h"
#include "common/rpc.h"
#include "osd/osd.h"
#include "osd/osdmap.h"
#include "osd/peers.h"
#include "osd/primary.h"
#include "osd/scrub.h"
#include "osd/store.h"
#include "proto/admin.h"
#include "proto/map_place.h"
#include "proto/osd.h"

#define BIG (1u << 20)
#define SMALL 4096u
#define MAX_CHUNKS 1024

struct bench {
	const char *dir;
	char plain[900];
	double seconds;
	int rounds, threads, inflight, chunks, workers;
	bool direct, made_dir;
	const char *only; /* tests to run: w, r, q */
	/* where the chunks go */
	struct rpc_client *cli;
	uint64_t epoch;
	uint32_t pool;
	struct proto_osd_chunk_id ids[MAX_CHUNKS];
	uint8_t *wbuf; /* BIG bytes, page aligned */
	atomic_uint_fast64_t version;
	/* the in-process OSD */
	struct osd o;
	struct cfg cfg;
	struct auth_key *key;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err) __attribute__((noreturn));

static void die(const char *what, int err)
{
	fprintf(stderr, "osd-bench: %s: %s\n", what, error_str(err));
	exit(1);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- plain file I/O -------------------------------------------------------------- */

enum op { OP_WRITE, OP_READ, OP_RAND };

struct pjob {
	struct bench *b;
	enum op op;
	int t;
	double end;
	unsigned long done;
	int err;
};

static int plain_io(struct bench *b, enum op op, int file, uint64_t off, uint8_t *buf)
{
	char path[1000];
	size_t len = op == OP_RAND ? SMALL : BIG;
	int flags = (op == OP_WRITE ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY) |
		    (b->direct ? O_DIRECT : 0);
	int fd, ret = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/f%d", b->plain, file);
	fd = open(path, flags, 0640);
	if (fd < 0)
		return -errno;
	n = op == OP_WRITE ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
	if (n != (ssize_t)len)
		ret = n < 0 ? -errno : -EIO;
	if (ret == 0 && op == OP_WRITE && fdatasync(fd) != 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void *plain_main(void *arg)
{
	struct pjob *j = arg;
	struct bench *b = j->b;
	uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(j->t + 1);
	uint8_t *buf = NULL;

	if (posix_memalign((void **)&buf, 4096, BIG) != 0) {
		j->err = -ENOMEM;
		return NULL;
	}
	memcpy(buf, b->wbuf, BIG);
	while (!j->err && now_s() < j->end) {
		int file = (int)(j->op == OP_RAND ? rnd(&s) % (uint64_t)b->chunks
						  : (j->done * (uint64_t)b->threads + (uint64_t)j->t) %
							    (uint64_t)b->chunks);
		uint64_t off = j->op == OP_RAND ? rnd(&s) % (BIG / SMALL) * SMALL : 0;

		j->err = plain_io(b, j->op, file, off, buf);
		j->done++;
	}
	free(buf);
	return NULL;
}

/* Runs the plain variant of op for secs; returns operations/s. */
static double plain_run(struct bench *b, enum op op, double secs)
{
	pthread_t th[64];
	struct pjob jobs[64];
	double t0 = now_s();
	unsigned long total = 0;

	for (int t = 0; t < b->threads; t++) {
		jobs[t] = (struct pjob){.b = b, .op = op, .t = t, .end = t0 + secs};
		pthread_create(&th[t], NULL, plain_main, &jobs[t]);
	}
	for (int t = 0; t < b->threads; t++) {
		pthread_join(th[t], NULL);
		if (jobs[t].err)
			die("plain file I/O", jobs[t].err);
		total += jobs[t].done;
	}
	return (double)total / (now_s() - t0);
}

/* ---- RPC -------------------------------------------------------------------------- */

struct slot {
	struct driver *d;
	uint8_t body[96];
	uint32_t body_len;
	struct iovec iov;
	uint8_t *rx; /* BIG bytes */
	uint64_t version;
	int chunk;
};

struct driver {
	struct bench *b;
	enum op op;
	double end;
	uint64_t seed;
	atomic_ulong done, errors;
	atomic_int first_err;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int outstanding; /* lock */
	atomic_ulong next;
	struct slot slots[64];
};

static void submit(struct driver *d, struct slot *sl);

static void trim_done(void *arg, int status, struct rpc_msg *resp)
{
	(void)arg;
	(void)status;
	rpc_msg_free(resp);
}

/* After a chunk write: drop its previous version, as a primary would. */
static void send_trim(struct driver *d, const struct slot *sl)
{
	struct proto_osd_chunk_trim_req q = {.map_epoch = d->b->epoch, .pool_id = d->b->pool,
					     .id = d->b->ids[sl->chunk], .version = sl->version};
	uint8_t body[64];
	struct wire_enc e;
	size_t len = 0;

	wire_enc_init(&e, body, sizeof(body));
	proto_osd_chunk_trim_req_encode(&q, &e);
	wire_enc_finish(&e, &len);
	rpc_call_async(d->b->cli,
		       &(struct rpc_call){.opcode = PROTO_OP_OSD_CHUNK_TRIM, .body = body,
					  .body_len = (uint32_t)len},
		       trim_done, NULL);
}

static void call_done(void *arg, int status, struct rpc_msg *resp)
{
	struct slot *sl = arg;
	struct driver *d = sl->d;

	rpc_msg_free(resp);
	if (status) {
		atomic_fetch_add(&d->errors, 1);
		atomic_store(&d->first_err, status);
	} else if (d->op == OP_WRITE) {
		send_trim(d, sl);
	}
	atomic_fetch_add(&d->done, 1);
	if (status == 0 && now_s() < d->end) {
		submit(d, sl);
		return;
	}
	pthread_mutex_lock(&d->lock);
	d->outstanding--;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static void encode_call(struct driver *d, struct slot *sl, uint64_t n)
{
	struct bench *b = d->b;
	struct wire_enc e;
	size_t len = 0;
	uint64_t s = d->seed ^ (n * 0x9e3779b97f4a7c15ull);

	wire_enc_init(&e, sl->body, sizeof(sl->body));
	if (d->op == OP_WRITE) {
		struct proto_osd_chunk_write_req q = {
			.map_epoch = b->epoch, .pool_id = b->pool, .id = b->ids[sl->chunk],
			.version = sl->version, .offset = 0, .length = BIG,
			.flags = PROTO_OSD_W_REPLACE};

		proto_osd_chunk_write_req_encode(&q, &e);
	} else {
		struct proto_osd_chunk_read_req q = {.map_epoch = b->epoch, .pool_id = b->pool,
						     .id = b->ids[sl->chunk], .offset = 0,
						     .length = BIG};

		if (d->op == OP_RAND) {
			q.offset = (uint32_t)(rnd(&s) % (BIG / SMALL) * SMALL);
			q.length = SMALL;
		}
		proto_osd_chunk_read_req_encode(&q, &e);
	}
	wire_enc_finish(&e, &len);
	sl->body_len = (uint32_t)len;
}

static void submit(struct driver *d, struct slot *sl)
{
	uint64_t n = atomic_fetch_add(&d->next, 1), s = d->seed ^ (n * 0xbf58476d1ce4e5b9ull);
	struct rpc_call c = {.opcode = d->op == OP_WRITE ? PROTO_OP_OSD_CHUNK_WRITE
							 : PROTO_OP_OSD_CHUNK_READ};
	int ret;

	sl->chunk = (int)(d->op == OP_RAND ? rnd(&s) % (uint64_t)d->b->chunks
					   : n % (uint64_t)d->b->chunks);
	sl->version = atomic_fetch_add(&d->b->version, 1);
	encode_call(d, sl, n);
	c.body = sl->body;
	c.body_len = sl->body_len;
	if (d->op == OP_WRITE) {
		sl->iov = (struct iovec){d->b->wbuf, BIG};
		c.data = &sl->iov;
		c.data_cnt = 1;
	} else {
		c.rx_buf = sl->rx;
		c.rx_cap = BIG;
	}
	ret = rpc_call_async(d->b->cli, &c, call_done, sl);
	if (ret) {
		atomic_store(&d->first_err, ret);
		pthread_mutex_lock(&d->lock);
		d->outstanding--;
		pthread_cond_signal(&d->cond);
		pthread_mutex_unlock(&d->lock);
	}
}

/* Keeps depth calls of op in flight for secs; returns completions/s. */
static double rpc_run(struct bench *b, enum op op, int depth, double secs, uint64_t seed)
{
	struct driver *d = calloc(1, sizeof(*d));
	double t0 = now_s(), rate;

	d->b = b;
	d->op = op;
	d->end = t0 + secs;
	d->seed = seed;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->outstanding = depth;
	for (int i = 0; i < depth; i++) {
		d->slots[i].d = d;
		if (posix_memalign((void **)&d->slots[i].rx, 4096, BIG) != 0)
			die("memory", -ENOMEM);
	}
	for (int i = 0; i < depth; i++)
		submit(d, &d->slots[i]);
	pthread_mutex_lock(&d->lock);
	while (d->outstanding > 0)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
	rate = (double)atomic_load(&d->done) / (now_s() - t0);
	if (atomic_load(&d->errors) || atomic_load(&d->first_err))
		die("RPC", atomic_load(&d->first_err));
	for (int i = 0; i < depth; i++)
		free(d->slots[i].rx);
	free(d);
	return rate;
}

/* ---- where the chunks go ------------------------------------------------------------- */

/* A one-OSD map: OSD 0 at addr, one replicated pool (k 1, m 0) of 1 MiB chunks. */
static int hand_map(const char *addr, struct proto_map *out)
{
	static const char *shard = "127.0.0.1:1";
	struct proto_str sh = {shard, (uint16_t)strlen(shard)};
	struct proto_map_osd osd = {.id = 0, .addr = {addr, (uint16_t)strlen(addr)},
				    .host = {"bench", 5}, .media = PROTO_MEDIA_NVME,
				    .flags = PROTO_MAP_OSD_UP | PROTO_MAP_OSD_IN, .weight = 1,
				    .capacity = 1ull << 40};
	struct proto_map_pool pool = {.id = 1, .name = {"bench", 5}, .scheme = PROTO_SCHEME_REP,
				      .k = 1, .m = 0, .media = PROTO_MEDIA_NVME,
				      .chunk_size = BIG, .pg_count = 64};
	struct proto_map m = {.epoch = 1, .nshards = 1, .shards = &sh, .nosds = 1, .osds = &osd,
			      .npools = 1, .pools = &pool};
	uint8_t buf[1024];
	struct wire_enc e;
	struct wire_dec d;
	size_t len = 0;

	wire_enc_init(&e, buf, sizeof(buf));
	if (proto_map_encode(&m, &e) || wire_enc_finish(&e, &len))
		return -ENOSPC;
	wire_dec_init(&d, buf, len);
	return proto_map_decode(&d, out);
}

static void start_local_osd(struct bench *b, struct rpc_opts *ro)
{
	struct osd_store_opts so = {.direct_io = b->direct};
	struct proto_map m;
	char sdir[1000];
	int ret;

	cfg_defaults(&b->cfg);
	b->o = (struct osd){.cfg = &b->cfg, .id = 0, .media = PROTO_MEDIA_NVME, .rpc = *ro,
			    .call_timeout_ms = 30000};
	snprintf(b->o.host, sizeof(b->o.host), "bench");
	if (b->workers)
		b->cfg.osd.workers = (uint32_t)b->workers;
	b->o.rpc.workers = (int)b->cfg.osd.workers;
	snprintf(sdir, sizeof(sdir), "%s/osd", b->dir);
	ret = osd_store_format(sdir, 0);
	if (ret == 0)
		ret = osd_store_open(sdir, 0, &so, &b->o.st);
	if (ret)
		die("store", ret);
	b->o.map = osd_map_new(0);
	b->o.peers = osd_peers_new(&b->o.rpc);
	ret = osd_primary_start(&b->o, 2, &b->o.primary);
	if (ret == 0)
		ret = osd_scrub_start(&b->o, 0, &b->o.scrub);
	if (ret == 0)
		ret = osd_server_start(&b->o, "127.0.0.1:0");
	if (ret == 0)
		ret = hand_map(b->o.addr, &m);
	if (ret == 0)
		ret = osd_map_install(b->o.map, &m);
	if (ret)
		die("starting the OSD", ret);
	b->epoch = 1;
	b->pool = 1;
	for (int i = 0; i < b->chunks; i++)
		b->ids[i] = (struct proto_osd_chunk_id){.ino = 0xbe00, .stripe = (uint64_t)i};
	ret = rpc_client_new(b->o.addr, ro, &b->cli);
	if (ret)
		die("client", ret);
	printf("in-process OSD on %s (%s I/O, %u workers), data in %s\n", b->o.addr,
	       b->direct ? "O_DIRECT" : "buffered", b->cfg.osd.workers, sdir);
}

static void stop_local_osd(struct bench *b)
{
	rpc_client_free(b->cli);
	if (!b->o.st)
		return;
	osd_primary_quiesce(b->o.primary);
	osd_scrub_quiesce(b->o.scrub);
	rpc_server_stop(b->o.server);
	osd_primary_stop(b->o.primary);
	osd_scrub_stop(b->o.scrub);
	osd_peers_free(b->o.peers);
	osd_map_free(b->o.map);
	osd_store_close(b->o.st);
}

/* MAP_GET from shard 0 of the configured cluster. */
static void fetch_map(const struct cfg *cfg, const struct rpc_opts *ro, struct proto_map *m)
{
	struct proto_admin_map_get_req q = {.known_epoch = 0};
	struct proto_admin_map_get_rep rep;
	const struct cfg_addr *a = &cfg->mds.shards[0].addr;
	struct rpc_client *mds = NULL;
	struct rpc_msg *resp = NULL;
	char addr[CFG_HOST_MAX + 16];
	uint8_t body[16];
	struct wire_enc e;
	struct wire_dec d;
	size_t len = 0;
	int ret;

	snprintf(addr, sizeof(addr), strchr(a->host, ':') ? "[%s]:%u" : "%s:%u", a->host, a->port);
	wire_enc_init(&e, body, sizeof(body));
	proto_admin_map_get_req_encode(&q, &e);
	wire_enc_finish(&e, &len);
	ret = rpc_client_new(addr, ro, &mds);
	if (ret == 0)
		ret = rpc_call_sync(mds,
				    &(struct rpc_call){.opcode = PROTO_OP_ADMIN_MAP_GET, .body = body,
						       .body_len = (uint32_t)len},
				    &resp);
	if (ret == 0) {
		wire_dec_init(&d, resp->body, resp->body_len);
		ret = proto_admin_map_get_rep_decode(&d, &rep);
	}
	if (ret == 0) {
		wire_dec_init(&d, rep.map.ptr, rep.map.len);
		ret = proto_map_decode(&d, m);
	}
	rpc_msg_free(resp);
	rpc_client_free(mds);
	if (ret)
		die("fetching the map from shard 0", ret);
}

/* Chunks of a 1 MiB-chunk pool that OSD id holds, at their positions. */
static void connect_osd(struct bench *b, const char *conf, long id, struct rpc_opts *ro)
{
	const struct proto_map_pool *pool = NULL;
	const struct proto_map_osd *osd;
	struct proto_map m;
	char err[512], addr[PROTO_ADDR_MAX + 1];
	int ret, n = 0;

	ret = cfg_load(conf, &b->cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "osd-bench: %s\n", err);
		exit(1);
	}
	ret = auth_key_load(b->cfg.cluster.key_file, &b->key);
	if (ret)
		die(b->cfg.cluster.key_file, ret);
	ro->key = b->key;
	fetch_map(&b->cfg, ro, &m);
	osd = proto_map_osd_find(&m, (uint32_t)id);
	for (uint32_t i = 0; i < m.npools && !pool; i++)
		if (m.pools[i].chunk_size == BIG && m.pools[i].compression == PROTO_COMPRESS_NONE)
			pool = &m.pools[i];
	if (!osd || !pool)
		die(!osd ? "no such OSD in the map" : "no uncompressed pool of 1 MiB chunks", -ENOENT);
	for (uint64_t s = 0; n < b->chunks && s < 1000000; s++) {
		uint32_t ids[PLACEMENT_MAX_WIDTH];
		int pos = -1;

		if (proto_map_acting(&m, pool, placement_pg(0x7fff0000be00ull, s, pool->pg_count),
				     ids, NULL) < 0)
			break;
		for (unsigned i = 0; i < (unsigned)pool->k + pool->m; i++)
			if (ids[i] == (uint32_t)id)
				pos = (int)i;
		if (pos >= 0)
			b->ids[n++] = (struct proto_osd_chunk_id){0x7fff0000be00ull, s, (uint8_t)pos};
	}
	if (n < b->chunks)
		die("OSD holds no position of the pool's PGs", -ENOENT);
	b->epoch = m.epoch;
	b->pool = pool->id;
	snprintf(addr, sizeof(addr), "%.*s", (int)osd->addr.len, osd->addr.ptr);
	ret = rpc_client_new(addr, ro, &b->cli);
	if (ret)
		die("client", ret);
	printf("OSD %ld at %s, pool %u, plain files in %s\n", id, addr, pool->id, b->plain);
	proto_map_free(&m);
}

/* Removes the benchmark's chunks from a cluster OSD. */
static void delete_chunks(struct bench *b)
{
	for (int i = 0; i < b->chunks; i++) {
		struct proto_osd_chunk_delete_req q = {.map_epoch = b->epoch, .pool_id = b->pool,
						       .id = b->ids[i]};
		struct rpc_msg *resp = NULL;
		uint8_t body[64];
		struct wire_enc e;
		size_t len = 0;

		wire_enc_init(&e, body, sizeof(body));
		proto_osd_chunk_delete_req_encode(&q, &e);
		wire_enc_finish(&e, &len);
		rpc_call_sync(b->cli,
			      &(struct rpc_call){.opcode = PROTO_OP_OSD_CHUNK_DELETE, .body = body,
						 .body_len = (uint32_t)len},
			      &resp);
		rpc_msg_free(resp);
	}
}

/* ---- main ------------------------------------------------------------------------------ */

/* Writes every chunk and plain file once, so that the reads have bytes to read. */
static void fill(struct bench *b)
{
	for (int i = 0; i < b->chunks; i++) {
		struct proto_osd_chunk_write_req q = {
			.map_epoch = b->epoch, .pool_id = b->pool, .id = b->ids[i],
			.version = atomic_fetch_add(&b->version, 1), .offset = 0, .length = BIG,
			.flags = PROTO_OSD_W_REPLACE};
		struct iovec iov = {b->wbuf, BIG};
		struct rpc_msg *resp = NULL;
		uint8_t body[96];
		struct wire_enc e;
		size_t len = 0;
		int ret;

		wire_enc_init(&e, body, sizeof(body));
		proto_osd_chunk_write_req_encode(&q, &e);
		wire_enc_finish(&e, &len);
		ret = rpc_call_sync(b->cli,
				    &(struct rpc_call){.opcode = PROTO_OP_OSD_CHUNK_WRITE,
						       .body = body, .body_len = (uint32_t)len,
						       .data = &iov, .data_cnt = 1},
				    &resp);
		rpc_msg_free(resp);
		if (ret == 0)
			ret = plain_io(b, OP_WRITE, i, 0, b->wbuf);
		if (ret)
			die("filling", ret);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median over rounds of plain and RPC rates of op, alternating. */
static void measure(struct bench *b, enum op op, int depth, double *plain, double *rpc)
{
	double p[16], r[16], half = b->seconds / 2 / b->rounds;

	for (int i = 0; i < b->rounds; i++) {
		p[i] = plain_run(b, op, half);
		r[i] = rpc_run(b, op, depth, half, (uint64_t)i * 7919 + 1);
	}
	qsort(p, (size_t)b->rounds, sizeof(double), cmp_double);
	qsort(r, (size_t)b->rounds, sizeof(double), cmp_double);
	*plain = p[b->rounds / 2];
	*rpc = r[b->rounds / 2];
}

static void report(const char *what, double plain, double rpc, double unit, const char *uname,
		   const char *target)
{
	printf("%-20s %12.2f %-5s %12.2f %-5s %6.0f%%   %s\n", what, plain / unit, uname, rpc / unit,
	       uname, 100.0 * rpc / plain, target);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void usage(void)
{
	fprintf(stderr, "usage: osd-bench [--conf FILE --osd ID] [--dir DIR] [--seconds S] "
			"[--rounds R]\n                 [--threads T] [--inflight N] [--chunks C] "
			"[--direct] [--only wrq]\n                 [--workers W]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct bench *b, const char **conf, long *osd)
{
	static const struct option opts[] = {
		{"conf", required_argument, NULL, 'c'}, {"osd", required_argument, NULL, 'o'},
		{"dir", required_argument, NULL, 'd'},	{"seconds", required_argument, NULL, 's'},
		{"rounds", required_argument, NULL, 'r'}, {"threads", required_argument, NULL, 't'},
		{"inflight", required_argument, NULL, 'n'}, {"chunks", required_argument, NULL, 'k'},
		{"direct", no_argument, NULL, 'D'},	{"only", required_argument, NULL, 'O'},
		{"workers", required_argument, NULL, 'W'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': *conf = optarg; break;
		case 'o': *osd = strtol(optarg, NULL, 10); break;
		case 'd': b->dir = optarg; break;
		case 's': b->seconds = atof(optarg); break;
		case 'r': b->rounds = atoi(optarg); break;
		case 't': b->threads = atoi(optarg); break;
		case 'n': b->inflight = atoi(optarg); break;
		case 'k': b->chunks = atoi(optarg); break;
		case 'D': b->direct = true; break;
		case 'O': b->only = optarg; break;
		case 'W': b->workers = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind < argc || b->seconds <= 0 || b->rounds < 1 || b->rounds > 15 ||
	    b->threads < 1 || b->threads > 64 || b->inflight < 1 || b->inflight > 64 ||
	    b->chunks < 8 || b->chunks > MAX_CHUNKS || b->workers < 0 || b->workers > 256 ||
	    (*conf && (*osd < 0 || !b->dir)))
		usage();
}

static void prepare(struct bench *b)
{
	static char tmpl[] = "/var/tmp/osd-bench-XXXXXX";

	if (!b->dir) {
		b->dir = mkdtemp(tmpl);
		if (!b->dir)
			die("mkdtemp", -errno);
		b->made_dir = true;
	}
	snprintf(b->plain, sizeof(b->plain), "%s/plain", b->dir);
	if (mkdir(b->plain, 0750) != 0 && errno != EEXIST)
		die(b->plain, -errno);
	if (posix_memalign((void **)&b->wbuf, 4096, BIG) != 0)
		die("memory", -ENOMEM);
	for (uint32_t i = 0; i < BIG; i++)
		b->wbuf[i] = (uint8_t)(i * 2654435761u >> 13);
}

int main(int argc, char **argv)
{
	static struct bench b = {.seconds = 2, .rounds = 3, .threads = 2, .inflight = 4,
				 .chunks = 64, .only = "wrq"};
	struct rpc_opts ro = rpc_opts_default();
	const char *conf = NULL;
	static struct cfg defaults;
	double pw = 0, rw = 0, pr = 0, rr = 0, pq = 0, rq = 0;
	uint8_t raw[32] = {7};
	long osd = -1;

	parse(argc, argv, &b, &conf, &osd);
	cfg_defaults(&defaults); /* the daemons' RPC settings */
	ro.socket_buffer = (int)defaults.rpc.socket_buffer;
	ro.max_inflight = defaults.rpc.max_inflight;
	log_setup("osd-bench", LOG_LVL_WARN, false);
	prepare(&b);
	atomic_init(&b.version, 1);
	if (conf) {
		connect_osd(&b, conf, osd, &ro);
	} else {
		if (auth_key_from_bytes(raw, sizeof(raw), &b.key) != 0)
			die("key", -ENOMEM);
		ro.key = b.key;
		if (rpc_engine_new(2, &ro.engine) != 0)
			die("engine", -ENOMEM);
		start_local_osd(&b, &ro);
	}
	fill(&b);
	printf("%d chunks of 1 MiB, %d plain threads, %d RPCs in flight (32 for 4 KiB), "
	       "%d rounds of %.1f s, median\n",
	       b.chunks, b.threads, b.inflight, b.rounds, b.seconds);
	if (strchr(b.only, 'w'))
		measure(&b, OP_WRITE, b.inflight, &pw, &rw);
	if (strchr(b.only, 'r'))
		measure(&b, OP_READ, b.inflight, &pr, &rr);
	if (strchr(b.only, 'q'))
		measure(&b, OP_RAND, 32, &pq, &rq);
	printf("%-20s %18s %18s %7s\n", "test", "plain", "RPC", "ratio");
	if (strchr(b.only, 'w'))
		report("1 MiB writes", pw * BIG, rw * BIG, 1e9, "GB/s", "(target >= 60%)");
	if (strchr(b.only, 'r'))
		report("1 MiB reads", pr * BIG, rr * BIG, 1e9, "GB/s", "(target >= 70%)");
	if (strchr(b.only, 'q'))
		report("4 KiB random reads", pq, rq, 1, "/s", "(target >= 40,000/s)");
	if (conf)
		delete_chunks(&b);
	else
		stop_local_osd(&b);
	rpc_engine_free(ro.engine);
	auth_key_free(b.key);
	if (b.made_dir)
		nftw(b.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		nftw(b.plain, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(b.wbuf);
	return 0;
}
