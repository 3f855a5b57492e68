/*
 * test_osd_stats.c - what OSD heartbeats report reaches libcairn and
 * cairnctl: pool usage and compression ratio, and scrub counts, on one
 * cairn-mds shard and 6 cairn-osd processes in 3 fake hosts with two 4+2
 * pools, "zst" (zstd) and "plain" (no compression); heartbeats every
 * 100 ms (the harness's mds.heartbeat_ms), no background scrub.
 *
 * Covers: after full stripes of compressible text to "zst" and of random
 * bytes to "plain", cairn_pool_list() reports every chunk (6 per stripe),
 * logical bytes of 6 chunks per stripe, a ratio above 1.5 for "zst" and
 * exactly 1 for "plain", and `cairnctl --json pool ls` shows the same
 * ratios; a bit flipped in a chunk file and a requested scrub with repair
 * show as bad=1 repaired=1 for that OSD (and 0 for the others) in
 * `cairnctl --json osd ls` and in cairn_osd_list(); three chunks of one
 * stripe damaged make the repair of one of them fail, which shows as
 * unrepairable=1, a "warn" health and a warning line in `cairnctl status`.
 *
 * Usage: test_osd_stats CAIRN-MDS CAIRN-OSD CAIRNCTL [SEED]; exits 77 if a
 * binary is missing.  Daemons are stopped by pid (cluster.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/cairn.h"
#include "client/cairn_admin.h"
#include "cluster.h"
#include "common/error.h"
#include "common/placement.h"
#include "proto/osd.h"

#define CS (64u * 1024)
#define K 4
#define M 2
#define STRIPE (K * CS)
#define NSTRIPES 3
#define WAIT_MS 10000
#define OUT_MAX (256u * 1024)

static struct tc_cluster cl;
static const char *ctl_bin;
static uint64_t seed;

/* Runs cairnctl -c CONF ARGS...; returns its exit status, stdout in out. */
static int ctl_run(char *out, size_t cap, const char *a1, const char *a2, const char *a3)
{
	char *argv[] = {(char *)ctl_bin, "-c", cl.conf, (char *)a1, (char *)a2, (char *)a3, NULL};
	size_t len = 0;
	int fds[2], st;
	pid_t pid;
	ssize_t n;

	TC_CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
	pid = fork();
	TC_CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(ctl_bin, argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	out[len] = '\0';
	TC_CHECK(waitpid(pid, &st, 0) == pid, "waitpid cairnctl");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The number after "key": in the JSON object that starts at obj. */
static int json_num(const char *obj, const char *key, double *v)
{
	char pat[64];
	const char *end = strchr(obj, '}'), *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(obj, pat);
	if (!p || (end && p > end))
		return -1;
	p += strlen(pat);
	if (strncmp(p, "null", 4) == 0)
		return 1;
	*v = strtod(p, NULL);
	return 0;
}

/* The object of `--json pool ls` whose name is name. */
static const char *json_pool(const char *doc, const char *name)
{
	char pat[96];
	const char *p;

	snprintf(pat, sizeof(pat), "\"name\":\"%s\"", name);
	p = strstr(doc, pat);
	TC_CHECK(p, "pool %s not in: %s", name, doc);
	while (p > doc && *p != '{')
		p--;
	return p;
}

/* The object of `--json osd ls` of OSD id. */
static const char *json_osd(const char *doc, uint32_t id)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "{\"id\":%u,", id);
	p = strstr(doc, pat);
	TC_CHECK(p, "osd %u not in: %s", id, doc);
	return p;
}

static const struct cairn_pool_info *find_pool(const struct cairn_pool_info *v, size_t n,
					       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	tc_fail("pool %s not listed", name);
}

static void write_stripes(const char *pool, bool compressible)
{
	struct proto_map_pool p = tc_pool(&cl, pool);
	uint8_t *data = malloc(STRIPE);
	uint64_t v;

	for (unsigned s = 0; s < NSTRIPES; s++) {
		if (compressible)
			for (size_t i = 0; i < STRIPE; i++)
				data[i] = (uint8_t)("checkpoint shard "[i % 17] + (i >> 14) % 3);
		else
			tc_fill(seed + s, data, STRIPE);
		TC_CHECK(tc_stripe_write(&cl, &p, 0x80000 + s, 0, 0, data, STRIPE, &v) == 0,
			 "write stripe %u of %s", s, pool);
	}
	free(data);
}

static void test_usage(struct cairn *c)
{
	const uint64_t chunks = NSTRIPES * (K + M), logical = chunks * CS;
	struct cairn_pool_info *v = NULL;
	const struct cairn_pool_info *z, *pl;
	int64_t end = tc_now_ms() + WAIT_MS;
	char *out = malloc(OUT_MAX);
	double rz, rp, jz, jp;
	size_t n = 0;

	printf("pool usage and compression ratio\n");
	write_stripes("zst", true);
	write_stripes("plain", false);
	for (;;) {
		TC_CHECK(cairn_pool_list(c, &v, &n) == 0, "cairn_pool_list");
		z = find_pool(v, n, "zst");
		pl = find_pool(v, n, "plain");
		if (z->chunks == chunks && pl->chunks == chunks && z->logical_bytes == logical &&
		    pl->logical_bytes == logical)
			break;
		TC_CHECK(tc_now_ms() < end,
			 "usage not reported within %d ms: zst %" PRIu64 " chunks %" PRIu64
			 " bytes, plain %" PRIu64 " chunks %" PRIu64 " bytes",
			 WAIT_MS, z->chunks, z->logical_bytes, pl->chunks, pl->logical_bytes);
		free(v);
		usleep(50 * 1000);
	}
	TC_CHECK(cairn_pool_ratio(z, &rz) == 0 && cairn_pool_ratio(pl, &rp) == 0, "ratios");
	printf("  zst: %" PRIu64 " logical, %" PRIu64 " stored, ratio %.2f; plain: ratio %.3f\n",
	       z->logical_bytes, z->stored_bytes, rz, rp);
	TC_CHECK(rz > 1.5, "zstd pool ratio %.3f", rz);
	TC_CHECK(pl->stored_bytes == pl->logical_bytes && rp == 1.0, "plain pool ratio %.3f", rp);
	free(v);

	TC_CHECK(ctl_run(out, OUT_MAX, "--json", "pool", "ls") == 0, "cairnctl pool ls: %s", out);
	TC_CHECK(json_num(json_pool(out, "zst"), "compression_ratio", &jz) == 0 &&
		     json_num(json_pool(out, "plain"), "compression_ratio", &jp) == 0,
		 "ratios in %s", out);
	TC_CHECK(jz > 1.5 && jp == 1.0, "cairnctl ratios %.3f and %.3f: %s", jz, jp, out);
	TC_CHECK(ctl_run(out, OUT_MAX, "pool", "ls", NULL) == 0 && strstr(out, "RATIO") &&
		     strstr(out, "1.00"),
		 "cairnctl pool ls table: %s", out);
	fputs(out, stdout);
	free(out);
}

/* The file of the newest version of chunk idx of (ino, stripe 0) on its OSD. */
static void chunk_path(const struct proto_map_pool *p, uint32_t osd, uint64_t ino, unsigned idx,
		       char *path, size_t cap)
{
	uint8_t buf[1];
	uint32_t got;
	uint64_t v;

	TC_CHECK(tc_chunk_read(&cl, osd, p, ino, 0, idx, 0, 1, 0, buf, &got, &v) == 0,
		 "read chunk %u", idx);
	snprintf(path, cap, "%s/chunks/%u/%u/%016" PRIx64 ".0.%u.v%" PRIu64, cl.osd[osd].data,
		 p->id, placement_pg(ino, 0, p->pg_count), ino, idx, v);
}

static void flip(const char *path)
{
	struct stat st;
	uint8_t b;
	int fd = open(path, O_RDWR);

	TC_CHECK(fd >= 0 && fstat(fd, &st) == 0, "open %s: %s", path, strerror(errno));
	TC_CHECK(pread(fd, &b, 1, st.st_size - 100) == 1, "read %s", path);
	b ^= 0x10;
	TC_CHECK(pwrite(fd, &b, 1, st.st_size - 100) == 1, "write %s", path);
	close(fd);
}

/* Waits until `cairnctl --json osd ls` shows bad and repaired for osd. */
static void wait_osd_counts(uint32_t osd, double bad, double repaired, double unrep, char *out)
{
	int64_t end = tc_now_ms() + WAIT_MS;
	double b = -1, r = -1, u = -1;

	for (;;) {
		const char *o;

		TC_CHECK(ctl_run(out, OUT_MAX, "--json", "osd", "ls") == 0, "osd ls: %s", out);
		o = json_osd(out, osd);
		TC_CHECK(json_num(o, "bad", &b) == 0 && json_num(o, "repaired", &r) == 0 &&
			     json_num(o, "unrepairable", &u) == 0,
			 "scrub counts of osd %u in %s", osd, out);
		if (b == bad && r == repaired && u == unrep)
			return;
		TC_CHECK(tc_now_ms() < end, "osd %u: bad %.0f repaired %.0f unrepairable %.0f: %s",
			 osd, b, r, u, out);
		usleep(50 * 1000);
	}
}

static void test_scrub_counts(struct cairn *c)
{
	struct proto_map_pool p = tc_pool(&cl, "plain");
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	struct proto_osd_scrub_rep rep;
	struct cairn_osd_info *osds = NULL;
	char *out = malloc(OUT_MAX);
	char path[1024];
	double v;
	size_t n = 0;

	printf("scrub counts in cairnctl osd ls\n");
	tc_acting(&cl, &p, 0x80000, 0, ids, up);
	chunk_path(&p, ids[2], 0x80000, 2, path, sizeof(path));
	flip(path);
	TC_CHECK(tc_scrub(&cl, ids[2], p.id, PROTO_OSD_SCRUB_REPAIR, &rep) == 0, "scrub");
	TC_CHECK(rep.bad == 1 && rep.repaired == 1, "scrub: %" PRIu64 " bad, %" PRIu64 " repaired",
		 rep.bad, rep.repaired);
	wait_osd_counts(ids[2], 1, 1, 0, out);
	for (uint32_t i = 0; i < cl.nosds; i++) {
		TC_CHECK(json_num(json_osd(out, i), "bad", &v) == 0, "osd %u", i);
		TC_CHECK(v == (i == ids[2] ? 1 : 0), "osd %u: bad %.0f", i, v);
	}
	TC_CHECK(json_num(json_osd(out, ids[2]), "scrubbed", &v) == 0 && v >= NSTRIPES,
		 "scrubbed %.0f", v);
	TC_CHECK(cairn_osd_list(c, &osds, &n, NULL) == 0 && n == cl.nosds, "cairn_osd_list");
	TC_CHECK(osds[ids[2]].scrub.bad == 1 && osds[ids[2]].scrub.repaired == 1 &&
		     osds[ids[2]].scrub.unrepairable == 0,
		 "cairn_osd_list scrub counts");
	free(osds);
	TC_CHECK(ctl_run(out, OUT_MAX, "--json", "status", NULL) == 0 &&
		     strstr(out, "\"health\":\"ok\"") && strstr(out, "\"osds_unrepairable\":0"),
		 "status after a repair: %s", out);
	free(out);
}

static void test_unrepairable(struct cairn *c)
{
	struct proto_map_pool p = tc_pool(&cl, "plain");
	uint32_t ids[PLACEMENT_MAX_WIDTH];
	bool up[PLACEMENT_MAX_WIDTH];
	struct proto_osd_scrub_rep rep;
	struct cairn_status st;
	char *out = malloc(OUT_MAX);
	char path[1024];
	double b0 = 0, r0 = 0;

	printf("unrepairable chunks turn health to warn\n");
	tc_acting(&cl, &p, 0x80001, 0, ids, up);
	TC_CHECK(ctl_run(out, OUT_MAX, "--json", "osd", "ls") == 0, "osd ls");
	json_num(json_osd(out, ids[0]), "bad", &b0);
	json_num(json_osd(out, ids[0]), "repaired", &r0);
	/* Three of six chunks bad: a 4+2 stripe cannot rebuild any of them. */
	for (unsigned idx = 0; idx < 3; idx++) {
		chunk_path(&p, ids[idx], 0x80001, idx, path, sizeof(path));
		flip(path);
	}
	TC_CHECK(tc_scrub(&cl, ids[0], p.id, PROTO_OSD_SCRUB_REPAIR, &rep) == 0, "scrub");
	TC_CHECK(rep.bad == 1 && rep.repaired == 0, "scrub: %" PRIu64 " bad, %" PRIu64 " repaired",
		 rep.bad, rep.repaired);
	wait_osd_counts(ids[0], b0 + 1, r0, 1, out);
	TC_CHECK(cairn_admin_status(c, &st) == 0, "cairn_admin_status");
	TC_CHECK(st.health == CAIRN_HEALTH_WARN && st.osds_unrepairable == 1 &&
		     st.scrub.unrepairable == 1,
		 "status: health %d, %u OSDs with unrepairable chunks", st.health,
		 st.osds_unrepairable);
	TC_CHECK(ctl_run(out, OUT_MAX, "--json", "status", NULL) == 0, "status: %s", out);
	TC_CHECK(strstr(out, "\"health\":\"warn\"") && strstr(out, "\"osds_unrepairable\":1"),
		 "status json: %s", out);
	TC_CHECK(ctl_run(out, OUT_MAX, "status", NULL, NULL) == 0, "status: %s", out);
	TC_CHECK(strstr(out, "health:   warn") && strstr(out, "warning:  1 OSD reports chunks"),
		 "status text: %s", out);
	fputs(out, stdout);
	TC_CHECK(ctl_run(out, OUT_MAX, "osd", "ls", NULL) == 0 && strstr(out, "UNREPAIRABLE"),
		 "osd ls table: %s", out);
	fputs(out, stdout);
	free(out);
}

int main(int argc, char **argv)
{
	struct tc_opts o = {
	    .osds = 6,
	    .hosts = 3,
	    .tmpfs_osd = -1,
	    .osd_cfg = "scrub_rate = \"0\"; workers = 2;",
	    .pools =
		"{ name = \"zst\"; scheme = \"ec:4+2\"; chunk_size = \"64K\"; media = \"nvme\";"
		"  pg_count = 8; compression = \"zstd\"; },"
		"{ name = \"plain\"; scheme = \"ec:4+2\"; chunk_size = \"64K\"; media = \"nvme\";"
		"  pg_count = 8; compression = \"none\"; }",
	};
	struct cairn *c = NULL;
	int ret;

	if (argc < 4 || access(argv[3], X_OK) != 0) {
		printf("SKIP: usage: %s CAIRN-MDS CAIRN-OSD CAIRNCTL [SEED]\n", argv[0]);
		return 77;
	}
	ctl_bin = argv[3];
	seed = argc > 4 ? strtoull(argv[4], NULL, 0) : (uint64_t)time(NULL);
	printf("seed %" PRIu64 "\n", seed);
	alarm(110);
	tc_start(&cl, argc, argv, &o);
	ret = cairn_open_conf(cl.conf, &c);
	TC_CHECK(ret == 0, "cairn_open_conf: %s", error_str(ret));
	test_usage(c);
	test_scrub_counts(c);
	test_unrepairable(c);
	cairn_close(c);
	tc_stop(&cl);
	printf("ok\n");
	return 0;
}
