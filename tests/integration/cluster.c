/*
 * cluster.c - the loopback cluster of the integration tests (cluster.h).
 *
 * Process control: children are forked and exec'd with stdout and stderr
 * appended to a log file in the cluster directory, and PR_SET_PDEATHSIG so
 * that they die with the test.  The pids are the only handle used to stop
 * them.  One cluster per test process (tc_current), which the atexit and
 * signal handlers stop.
 */
#include "cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <isa-l/erasure_code.h>

#include "common/auth.h"
#include "common/error.h"
#include "common/log.h"
#include "proto/admin.h"
#include "proto/map_place.h"
#include "proto/osd.h"

#define STOP_TIMEOUT_MS 10000
#define MDS_READY_MS 15000
#define OSD_READY_MS 20000
#define CALL_TIMEOUT_MS 20000

static struct tc_cluster *tc_current;

int64_t tc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ---- failure and cleanup -------------------------------------------------------- */

static void print_tail(const char *path, int lines)
{
	char cmd[1200];

	if (access(path, R_OK) != 0)
		return;
	fprintf(stderr, "---- last lines of %s\n", path);
	snprintf(cmd, sizeof(cmd), "tail -n %d '%s' >&2", lines, path);
	if (system(cmd) != 0)
		fprintf(stderr, "(could not show %s)\n", path);
}

void tc_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (tc_current) {
		for (unsigned i = 0; i < tc_current->nshards; i++)
			print_tail(tc_current->mds_log[i], 15);
		for (unsigned i = 0; i < tc_current->nosds; i++)
			print_tail(tc_current->osd[i].log, 10);
	}
	exit(1);
}

static void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(77);
}

/* SIGTERM, then SIGKILL after timeout_ms; reaps.  Returns the wait status or -1. */
static int stop_pid(pid_t pid, int timeout_ms)
{
	int64_t end = tc_now_ms() + timeout_ms;
	int status = -1;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	while (tc_now_ms() < end) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return r == pid ? status : -1;
		sleep_ms(10);
	}
	fprintf(stderr, "pid %d did not stop within %d ms: SIGKILL\n", (int)pid, timeout_ms);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void clients_free(struct tc_cluster *c)
{
	rpc_client_free(c->mds);
	c->mds = NULL;
	for (unsigned i = 0; i < TC_MAX_OSDS; i++) {
		rpc_client_free(c->cli[i]);
		c->cli[i] = NULL;
	}
}

/* Stops everything; returns the number of OSDs that did not exit 0. */
static unsigned stop_all(struct tc_cluster *c)
{
	unsigned bad = 0;

	if (!c || !c->dir[0])
		return 0;
	clients_free(c);
	for (unsigned i = 0; i < c->nosds; i++) {
		int status;

		if (c->osd[i].pid <= 0)
			continue;
		status = stop_pid(c->osd[i].pid, STOP_TIMEOUT_MS);
		if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "osd %u did not exit 0 after SIGTERM (wait status %d)\n", i,
				status);
			print_tail(c->osd[i].log, 40);
			bad++;
		}
		c->osd[i].pid = 0;
	}
	for (unsigned i = c->nshards; i-- > 0;) {
		stop_pid(c->mds_pid[i], STOP_TIMEOUT_MS);
		c->mds_pid[i] = 0;
	}
	if (c->tmpfs_mounted)
		umount2(c->osd[c->tmpfs_osd].data, MNT_DETACH);
	c->tmpfs_mounted = false;
	proto_map_free(&c->map);
	auth_key_free(c->key);
	c->key = NULL;
	if (getenv("CAIRN_TEST_KEEP"))
		fprintf(stderr, "kept %s (CAIRN_TEST_KEEP)\n", c->dir);
	else
		nftw(c->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	c->dir[0] = '\0';
	tc_current = NULL;
	return bad;
}

void tc_stop(struct tc_cluster *c)
{
	unsigned bad = stop_all(c);

	if (bad)
		tc_fail("%u OSDs did not stop cleanly", bad);
}

static void at_exit(void)
{
	stop_all(tc_current);
}

/* Async-signal-safe: kill every child at once and leave. */
static void on_signal(int sig)
{
	struct tc_cluster *c = tc_current;

	if (c) {
		for (unsigned i = 0; i < c->nosds; i++)
			if (c->osd[i].pid > 0)
				kill(c->osd[i].pid, SIGKILL);
		for (unsigned i = 0; i < c->nshards; i++)
			if (c->mds_pid[i] > 0)
				kill(c->mds_pid[i], SIGKILL);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- processes ------------------------------------------------------------------- */

static pid_t spawn(char *const argv[], const char *log, const char *env)
{
	pid_t parent = getpid(), pid = fork();
	int fd;

	if (pid < 0)
		tc_fail("fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	if (env)
		putenv((char *)env);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		tc_fail("no free port: %s", strerror(errno));
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

void tc_osd_start(struct tc_cluster *c, unsigned i)
{
	tc_osd_start_env(c, i, NULL);
}

void tc_osd_start_env(struct tc_cluster *c, unsigned i, const char *env)
{
	char id[16];
	char *argv[] = {c->osd_bin, "-c", c->conf, "--id", id, "--data", c->osd[i].data,
			"--host", c->osd[i].host, NULL};

	snprintf(id, sizeof(id), "%u", i);
	if (c->osd[i].pid > 0)
		tc_fail("osd %u is already running", i);
	c->osd[i].pid = spawn(argv, c->osd[i].log, env);
}

int tc_osd_wait_exit(struct tc_cluster *c, unsigned i, int timeout_ms)
{
	int64_t end = tc_now_ms() + timeout_ms;
	int status = 0;

	for (;;) {
		pid_t r = waitpid(c->osd[i].pid, &status, WNOHANG);

		if (r == c->osd[i].pid)
			break;
		if (r < 0 || tc_now_ms() > end)
			tc_fail("osd %u did not exit within %d ms", i, timeout_ms);
		sleep_ms(10);
	}
	c->osd[i].pid = 0;
	return status;
}

void tc_osd_stop(struct tc_cluster *c, unsigned i)
{
	int status = stop_pid(c->osd[i].pid, STOP_TIMEOUT_MS);

	c->osd[i].pid = 0;
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		tc_fail("osd %u did not exit 0 after SIGTERM (wait status %d)", i, status);
}

/* ---- RPC ------------------------------------------------------------------------- */

static int mds_call(struct tc_cluster *c, const struct rpc_call *call, struct rpc_msg **resp)
{
	return rpc_call_sync(c->mds, call, resp);
}

/* MAP_GET with known epoch 0: the whole map.  0 or -errno. */
static int map_fetch(struct tc_cluster *c)
{
	struct proto_admin_map_get_req q = {.known_epoch = 0};
	struct proto_admin_map_get_rep rep;
	struct proto_map map;
	struct rpc_msg *resp = NULL;
	uint8_t body[16];
	struct wire_enc e;
	struct wire_dec d;
	size_t len = 0;
	int ret;

	wire_enc_init(&e, body, sizeof(body));
	proto_admin_map_get_req_encode(&q, &e);
	wire_enc_finish(&e, &len);
	ret = mds_call(c,
		       &(struct rpc_call){.opcode = PROTO_OP_ADMIN_MAP_GET, .body = body,
					  .body_len = (uint32_t)len, .timeout_ms = 5000},
		       &resp);
	if (ret == 0) {
		wire_dec_init(&d, resp->body, resp->body_len);
		ret = proto_admin_map_get_rep_decode(&d, &rep);
	}
	if (ret == 0) {
		wire_dec_init(&d, rep.map.ptr, rep.map.len);
		ret = proto_map_decode(&d, &map);
	}
	if (ret == 0) {
		pthread_mutex_lock(&c->lock);
		proto_map_free(&c->map);
		c->map = map;
		pthread_mutex_unlock(&c->lock);
	}
	rpc_msg_free(resp);
	return ret;
}

uint64_t tc_map_refresh(struct tc_cluster *c)
{
	int ret = map_fetch(c);

	if (ret)
		tc_fail("MAP_GET from shard 0 failed: %s", error_str(ret));
	return c->map.epoch;
}

void tc_wait_osd(struct tc_cluster *c, uint32_t id, bool up, int timeout_ms)
{
	int64_t end = tc_now_ms() + timeout_ms;

	for (;;) {
		const struct proto_map_osd *o;
		bool is_up;

		tc_map_refresh(c);
		o = proto_map_osd_find(&c->map, id);
		is_up = o && (o->flags & PROTO_MAP_OSD_UP);
		if (is_up == up)
			return;
		if (tc_now_ms() > end)
			tc_fail("osd %u not %s in the map after %d ms", id, up ? "up" : "down",
				timeout_ms);
		sleep_ms(50);
	}
}

struct proto_map_pool tc_pool(struct tc_cluster *c, const char *name)
{
	for (uint32_t i = 0; i < c->map.npools; i++) {
		const struct proto_map_pool *p = &c->map.pools[i];

		if (p->name.len == strlen(name) && memcmp(p->name.ptr, name, p->name.len) == 0) {
			struct proto_map_pool copy = *p;

			copy.name = (struct proto_str){NULL, 0}; /* not kept */
			return copy;
		}
	}
	tc_fail("pool '%s' is not in the map", name);
}

int tc_acting(struct tc_cluster *c, const struct proto_map_pool *pool, uint64_t ino,
	      uint64_t stripe, uint32_t *ids, bool *up)
{
	const struct proto_map_pool *mp;
	int ret, prim;

	pthread_mutex_lock(&c->lock);
	mp = proto_map_pool_find(&c->map, pool->id);
	ret = mp ? proto_map_acting(&c->map, mp, placement_pg(ino, stripe, mp->pg_count), ids, up)
		 : -ENOENT;
	prim = ret > 0 ? proto_map_primary(ids, up, (unsigned)mp->k + mp->m) : -1;
	pthread_mutex_unlock(&c->lock);
	if (ret < 0)
		tc_fail("no acting set for pool %u: %s", pool->id, error_str(ret));
	return prim;
}

/* The client of OSD id at its current address (lock held). */
static struct rpc_client *osd_client(struct tc_cluster *c, uint32_t id)
{
	const struct proto_map_osd *o = proto_map_osd_find(&c->map, id);
	char addr[PROTO_ADDR_MAX + 1];

	if (!o || id >= TC_MAX_OSDS)
		return NULL;
	snprintf(addr, sizeof(addr), "%.*s", (int)o->addr.len, o->addr.ptr);
	if (c->cli[id] && strcmp(c->cli_addr[id], addr) == 0)
		return c->cli[id];
	rpc_client_free(c->cli[id]);
	c->cli[id] = NULL;
	if (rpc_client_new(addr, &c->rpc, &c->cli[id]) != 0)
		return NULL;
	snprintf(c->cli_addr[id], sizeof(c->cli_addr[id]), "%s", addr);
	return c->cli[id];
}

int tc_osd_call(struct tc_cluster *c, uint32_t id, const struct rpc_call *call,
		struct rpc_msg **resp)
{
	struct rpc_client *cli;
	struct rpc_call cl = *call;

	pthread_mutex_lock(&c->lock);
	cli = osd_client(c, id);
	pthread_mutex_unlock(&c->lock);
	*resp = NULL;
	if (!cli)
		return -EHOSTUNREACH;
	if (!cl.timeout_ms)
		cl.timeout_ms = CALL_TIMEOUT_MS;
	return rpc_call_sync(cli, &cl, resp);
}

static uint64_t map_epoch(struct tc_cluster *c)
{
	uint64_t e;

	pthread_mutex_lock(&c->lock);
	e = c->map.epoch;
	pthread_mutex_unlock(&c->lock);
	return e;
}

int tc_stripe_write(struct tc_cluster *c, const struct proto_map_pool *pool, uint64_t ino,
		    uint64_t stripe, uint32_t off, const void *data, uint32_t len,
		    uint64_t *version)
{
	struct proto_osd_stripe_write_req q = {.map_epoch = map_epoch(c), .pool_id = pool->id,
					       .ino = ino, .stripe = stripe, .offset = off,
					       .length = len};
	struct proto_osd_write_rep rep = {0};
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	struct iovec iov = {(void *)data, len};
	struct rpc_msg *resp = NULL;
	uint8_t body[64];
	struct wire_enc e;
	struct wire_dec d;
	size_t blen = 0;
	int prim = tc_acting(c, pool, ino, stripe, ids, up), ret;

	if (prim < 0)
		return -EHOSTDOWN;
	wire_enc_init(&e, body, sizeof(body));
	proto_osd_stripe_write_req_encode(&q, &e);
	wire_enc_finish(&e, &blen);
	ret = tc_osd_call(c, ids[prim],
			  &(struct rpc_call){.opcode = PROTO_OP_OSD_STRIPE_WRITE, .body = body,
					     .body_len = (uint32_t)blen, .data = &iov,
					     .data_cnt = 1},
			  &resp);
	if (ret == 0) {
		wire_dec_init(&d, resp->body, resp->body_len);
		ret = proto_osd_write_rep_decode(&d, &rep);
	}
	if (version)
		*version = rep.version;
	rpc_msg_free(resp);
	return ret;
}

int tc_chunk_read(struct tc_cluster *c, uint32_t id, const struct proto_map_pool *pool,
		  uint64_t ino, uint64_t stripe, unsigned idx, uint32_t off, uint32_t len,
		  uint64_t version, void *buf, uint32_t *got, uint64_t *version_out)
{
	struct proto_osd_chunk_read_req q = {.map_epoch = map_epoch(c), .pool_id = pool->id,
					     .id = {ino, stripe, (uint8_t)idx}, .offset = off,
					     .length = len, .version = version};
	struct proto_osd_chunk_read_rep rep = {0};
	struct rpc_msg *resp = NULL;
	uint8_t body[64];
	struct wire_enc e;
	struct wire_dec d;
	size_t blen = 0;
	int ret;

	wire_enc_init(&e, body, sizeof(body));
	proto_osd_chunk_read_req_encode(&q, &e);
	wire_enc_finish(&e, &blen);
	ret = tc_osd_call(c, id,
			  &(struct rpc_call){.opcode = PROTO_OP_OSD_CHUNK_READ, .body = body,
					     .body_len = (uint32_t)blen, .rx_buf = buf,
					     .rx_cap = len},
			  &resp);
	if (ret == 0) {
		wire_dec_init(&d, resp->body, resp->body_len);
		ret = proto_osd_chunk_read_rep_decode(&d, &rep);
	}
	if (ret == 0 && rep.length != resp->data_len)
		ret = -CAIRN_EBADFRAME;
	if (ret == 0 && rep.length && resp->data != buf)
		memcpy(buf, resp->data, rep.length);
	if (got)
		*got = ret ? 0 : rep.length;
	if (version_out)
		*version_out = rep.version;
	rpc_msg_free(resp);
	return ret;
}

int tc_scrub(struct tc_cluster *c, uint32_t id, uint32_t pool_id, uint32_t flags,
	     struct proto_osd_scrub_rep *rep)
{
	struct proto_osd_scrub_req q = {.pool_id = pool_id, .flags = flags};
	struct rpc_msg *resp = NULL;
	uint8_t body[16];
	struct wire_enc e;
	struct wire_dec d;
	size_t blen = 0;
	int ret;

	wire_enc_init(&e, body, sizeof(body));
	proto_osd_scrub_req_encode(&q, &e);
	wire_enc_finish(&e, &blen);
	ret = tc_osd_call(c, id,
			  &(struct rpc_call){.opcode = PROTO_OP_OSD_SCRUB, .body = body,
					     .body_len = (uint32_t)blen, .timeout_ms = 60000},
			  &resp);
	if (ret == 0) {
		wire_dec_init(&d, resp->body, resp->body_len);
		ret = proto_osd_scrub_rep_decode(&d, rep);
	}
	rpc_msg_free(resp);
	return ret;
}

/* ---- data helpers ------------------------------------------------------------------ */

void tc_fill(uint64_t seed, void *buf, size_t len)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		p[i] = (uint8_t)(s >> 24);
	}
}

void tc_parity(unsigned k, unsigned m, uint8_t *const *data, uint8_t *const *parity, size_t len)
{
	unsigned char matrix[48 * 32], tables[32 * 32 * 16];

	if (k == 1) {
		for (unsigned q = 0; q < m; q++)
			memcpy(parity[q], data[0], len);
		return;
	}
	gf_gen_cauchy1_matrix(matrix, (int)(k + m), (int)k);
	ec_init_tables((int)k, (int)m, matrix + k * k, tables);
	ec_encode_data((int)len, (int)k, (int)m, tables, (unsigned char **)data,
		       (unsigned char **)parity);
}

/* ---- start --------------------------------------------------------------------------- */

/* cairn.conf: the mds group lists every shard (c->mds_addr) in order. */
static void write_conf(struct tc_cluster *c, const struct tc_opts *o)
{
	FILE *f = fopen(c->conf, "w");

	if (!f)
		tc_fail("cannot write %s: %s", c->conf, strerror(errno));
	fprintf(f,
		"cluster = { name = \"osdtest\"; key_file = \"cairn.key\"; transport = \"tcp\"; };\n"
		"log = { level = \"info\"; };\n"
		"rpc = { timeout_ms = 10000; reconnect_max_ms = 500; };\n"
		"mds = { shards = (\n");
	for (unsigned i = 0; i < c->nshards; i++)
		fprintf(f, "          { address = \"%s\"; data = \"mds%u\"; }%s\n", c->mds_addr[i],
			i, i + 1 < c->nshards ? "," : "");
	fprintf(f,
		"        );\n"
		"        heartbeat_ms = 100; osd_down_ms = 1000; workers = 2; };\n"
		"osd = { %s };\n"
		"pools = ( %s );\n",
		o->osd_cfg ? o->osd_cfg : "", o->pools);
	if (fclose(f) != 0)
		tc_fail("cannot write %s: %s", c->conf, strerror(errno));
}

static void check_binary(const char *path, const char *what)
{
	if (access(path, X_OK) != 0)
		skip("%s binary %s is not available (%s)", what, path, strerror(errno));
}

static void setup_dirs(struct tc_cluster *c, const struct tc_opts *o)
{
	char dir[sizeof(c->dir)];

	memcpy(dir, c->dir, sizeof(dir));
	for (unsigned i = 0; i < o->osds; i++) {
		snprintf(c->osd[i].data, sizeof(c->osd[i].data), "%s/osd%u", dir, i);
		snprintf(c->osd[i].log, sizeof(c->osd[i].log), "%s/osd%u.log", dir, i);
		snprintf(c->osd[i].host, sizeof(c->osd[i].host), "host%u",
			 i % (o->hosts ? o->hosts : 1));
	}
	if (o->tmpfs_osd < 0)
		return;
	if (mkdir(c->osd[o->tmpfs_osd].data, 0750) != 0 ||
	    mount("tmpfs", c->osd[o->tmpfs_osd].data, "tmpfs", 0,
		  o->tmpfs_size ? o->tmpfs_size : "size=1m") != 0)
		skip("cannot mount a small tmpfs on %s: %s (needs root)", c->osd[o->tmpfs_osd].data,
		     strerror(errno));
	c->tmpfs_mounted = true;
	c->tmpfs_osd = o->tmpfs_osd;
}

/*
 * MAP_GET to shard i: shard 0 answers with the map, the others with
 * -EREMOTE (they do not hold it); either shows the shard serving.
 */
static int shard_probe(struct tc_cluster *c, unsigned i, struct rpc_client *cli)
{
	uint8_t body[16];
	struct proto_admin_map_get_req q = {.known_epoch = 0};
	struct rpc_msg *resp = NULL;
	struct wire_enc e;
	size_t len = 0;
	int ret;

	if (i == 0)
		return map_fetch(c);
	wire_enc_init(&e, body, sizeof(body));
	proto_admin_map_get_req_encode(&q, &e);
	wire_enc_finish(&e, &len);
	ret = rpc_call_sync(cli,
			    &(struct rpc_call){.opcode = PROTO_OP_ADMIN_MAP_GET, .body = body,
					       .body_len = (uint32_t)len, .timeout_ms = 2000},
			    &resp);
	rpc_msg_free(resp);
	return ret == -EREMOTE ? 0 : ret ? ret : -EPROTO;
}

/* Waits until shard i answers; fails the test if it exits or stays silent. */
static void wait_shard(struct tc_cluster *c, unsigned i, struct rpc_client *cli)
{
	int64_t end = tc_now_ms() + MDS_READY_MS;
	int ret;

	while ((ret = shard_probe(c, i, cli)) != 0) {
		if (waitpid(c->mds_pid[i], NULL, WNOHANG) == c->mds_pid[i]) {
			c->mds_pid[i] = 0;
			tc_fail("cairn-mds shard %u exited during start-up", i);
		}
		if (tc_now_ms() > end)
			tc_fail("shard %u at %s not answering MAP_GET: %s", i, c->mds_addr[i],
				error_str(ret));
		sleep_ms(50);
	}
}

/* Starts every shard, then waits for each (the client of shard 0 is kept). */
static void start_mds(struct tc_cluster *c)
{
	char shard[16];
	char *argv[] = {c->mds_bin, "-c", c->conf, "--shard", shard, NULL};

	for (unsigned i = 0; i < c->nshards; i++) {
		snprintf(shard, sizeof(shard), "%u", i);
		c->mds_pid[i] = spawn(argv, c->mds_log[i], NULL);
	}
	if (rpc_client_new(c->mds_addr[0], &c->rpc, &c->mds) != 0)
		tc_fail("no client for shard 0 at %s", c->mds_addr[0]);
	wait_shard(c, 0, c->mds);
	for (unsigned i = 1; i < c->nshards; i++) {
		struct rpc_client *cli = NULL;

		if (rpc_client_new(c->mds_addr[i], &c->rpc, &cli) != 0)
			tc_fail("no client for shard %u at %s", i, c->mds_addr[i]);
		wait_shard(c, i, cli);
		rpc_client_free(cli);
	}
}

/* Paths and ports (free a moment ago, each different) of the shards. */
static void setup_shards(struct tc_cluster *c, const struct tc_opts *o)
{
	char dir[sizeof(c->dir)];
	int port[TC_MAX_SHARDS];

	memcpy(dir, c->dir, sizeof(dir));
	c->nshards = o->shards ? o->shards : 1;
	if (c->nshards > TC_MAX_SHARDS)
		tc_fail("too many shards (%u, at most %d)", c->nshards, TC_MAX_SHARDS);
	for (unsigned i = 0; i < c->nshards; i++) {
		bool dup;

		do {
			port[i] = free_port();
			dup = false;
			for (unsigned j = 0; j < i; j++)
				dup = dup || port[j] == port[i];
		} while (dup);
		snprintf(c->mds_log[i], sizeof(c->mds_log[i]), "%s/mds%u.log", dir, i);
		snprintf(c->mds_addr[i], sizeof(c->mds_addr[i]), "127.0.0.1:%d", port[i]);
	}
}

void tc_start(struct tc_cluster *c, int argc, char **argv, const struct tc_opts *o)
{
	char key[600];

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	log_setup("test", LOG_LVL_WARN, false);
	if (argc < 3)
		skip("usage: %s CAIRN-MDS CAIRN-OSD", argv[0]);
	snprintf(c->mds_bin, sizeof(c->mds_bin), "%s", argv[1]);
	snprintf(c->osd_bin, sizeof(c->osd_bin), "%s", argv[2]);
	check_binary(c->mds_bin, "cairn-mds");
	check_binary(c->osd_bin, "cairn-osd");
	if (o->osds > TC_MAX_OSDS)
		tc_fail("too many OSDs");
	snprintf(c->dir, sizeof(c->dir), "/tmp/cairn-it-XXXXXX");
	if (!mkdtemp(c->dir))
		tc_fail("mkdtemp: %s", strerror(errno));
	tc_current = c;
	atexit(at_exit);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGALRM, on_signal);
	c->nosds = o->osds;
	c->tmpfs_osd = -1;
	snprintf(c->conf, sizeof(c->conf), "%s/cairn.conf", c->dir);
	snprintf(key, sizeof(key), "%s/cairn.key", c->dir);
	if (auth_key_generate(key) != 0 || auth_key_load(key, &c->key) != 0)
		tc_fail("cannot create the cluster key %s", key);
	setup_shards(c, o);
	write_conf(c, o);
	setup_dirs(c, o);
	c->rpc = rpc_opts_default();
	c->rpc.key = c->key;
	c->rpc.timeout_ms = CALL_TIMEOUT_MS;
	c->rpc.reconnect_max_ms = 200;
	printf("cluster in %s: %u shard%s (shard 0 at %s), %u OSDs\n", c->dir, c->nshards,
	       c->nshards == 1 ? "" : "s", c->mds_addr[0], o->osds);
	start_mds(c);
	for (unsigned i = 0; i < o->osds; i++)
		tc_osd_start(c, i);
	for (unsigned i = 0; i < o->osds; i++)
		tc_wait_osd(c, i, true, OSD_READY_MS);
}
