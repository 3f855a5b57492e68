/*
 * test_cfg.c - cairn.conf loading: a full file round-trips into struct cfg, a
 * minimal one gets the documented defaults, relative paths resolve against
 * the file's directory, and every class of bad input gives -CAIRN_ECONFIG
 * with one line naming file, line and setting.  Also the size, address and
 * scheme parsers, and tools/cairn.conf.example (path given as argv[1]).
 *
 * Files are written under a mkdtemp() directory removed after each test.
 */
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/cfg.h"
#include "common/error.h"

#define KIB 1024ull
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

static const char *example_path; /* argv[1] */
static char tmpdir[PATH_MAX];	 /* this test's directory, realpath'd */
static char conf[PATH_MAX + 16]; /* tmpdir/cairn.conf */
static struct cfg *cfg;		 /* large: on the heap */
static char err[1024];

static int setup(void **state)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char tmpl[PATH_MAX];

	(void)state;
	snprintf(tmpl, sizeof(tmpl), "%s/cairn-cfg-XXXXXX", base);
	if (!mkdtemp(tmpl) || !realpath(tmpl, tmpdir))
		return -1;
	snprintf(conf, sizeof(conf), "%s/cairn.conf", tmpdir);
	cfg = malloc(sizeof(*cfg));
	err[0] = '\0';
	return cfg ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	free(cfg);
	cfg = NULL;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Writes text to tmpdir/cairn.conf and loads it. */
static int load(const char *text)
{
	write_file(conf, text, strlen(text));
	return cfg_load(conf, cfg, err, sizeof(err));
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

/* The one-line message starts "FILE:LINE: " (or "FILE: " for line 0). */
static void assert_where(unsigned line)
{
	char prefix[PATH_MAX + 32];

	if (line)
		snprintf(prefix, sizeof(prefix), "%s:%u: ", conf, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", conf);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", err, prefix);
	assert_null(strchr(err, '\n'));
}

#define KEY "cluster = { key_file = \"/etc/cairn/cairn.key\"; };\n" /* line 1 */
#define SHARD0 "{ address = \"127.0.0.1:7400\"; data = \"/var/lib/cairn/mds0\"; }"
#define MDS "mds = { shards = ( " SHARD0 " ); };\n" /* line 2 */
#define BASE KEY MDS

static const char full_conf[] =
	"# every setting, none at its default\n"
	"cluster = { name = \"prod-1\"; key_file = \"/etc/cairn/k\"; transport = \"tcp\"; };\n"
	"log = { level = \"debug\"; syslog = true; };\n"
	"rpc = {\n"
	"  max_frame = \"128MiB\"; max_inflight = 1024; timeout_ms = 60000;\n"
	"  connect_timeout_ms = 2000; reconnect_min_ms = 10; reconnect_max_ms = 10;\n"
	"  socket_buffer = 8388608; io_threads = 8;\n"
	"};\n"
	"mds = {\n"
	"  shards = (\n"
	"    { address = \"10.0.0.1:7400\"; data = \"/srv/mds0\"; },\n"
	"    { address = \"[fd00::2]:7401\"; data = \"/srv/mds1\"; },\n"
	"    { address = \"mds-3.example.org:65535\"; data = \"/srv/mds2\"; }\n"
	"  );\n"
	"  workers = 16; block_cache = 8589934592L; heartbeat_ms = 500; osd_down_ms = 501;\n"
	"};\n"
	"osd = { direct_io = true; scrub_rate = 0; workers = 12; };\n"
	"client = { cache_size = \"2T\"; entry_timeout_ms = 0; attr_timeout_ms = 86400000;\n"
	"  readahead_max = \"0\"; cache_dir = \"/nvme/cache\"; };\n"
	"pools = (\n"
	"  { name = \"hot_A\"; scheme = \"ec:8+3\"; chunk_size = \"4K\"; media = \"nvme2\";\n"
	"    pg_count = 65536; compression = \"zstd\"; },\n"
	"  { name = \"cold\"; scheme = \"rep:3\"; chunk_size = 67108864; media = \"hdd\";\n"
	"    pg_count = 1; compression = \"none\"; }\n"
	");\n";

static void test_full_round_trip(void **state)
{
	(void)state;
	assert_int_equal(load(full_conf), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg->cluster.name, "prod-1");
	assert_string_equal(cfg->cluster.key_file, "/etc/cairn/k");
	assert_int_equal(cfg->cluster.transport, CFG_TRANSPORT_TCP);
	assert_int_equal(cfg->log.level, LOG_LVL_DEBUG);
	assert_true(cfg->log.syslog);
	assert_int_equal(cfg->rpc.max_frame, 128 * MIB);
	assert_int_equal(cfg->rpc.max_inflight, 1024);
	assert_int_equal(cfg->rpc.timeout_ms, 60000);
	assert_int_equal(cfg->rpc.connect_timeout_ms, 2000);
	assert_int_equal(cfg->rpc.reconnect_min_ms, 10);
	assert_int_equal(cfg->rpc.reconnect_max_ms, 10);
	assert_int_equal(cfg->rpc.socket_buffer, 8 * MIB);
	assert_int_equal(cfg->rpc.io_threads, 8);

	assert_int_equal(cfg->mds.shard_count, 3);
	assert_string_equal(cfg->mds.shards[0].addr.host, "10.0.0.1");
	assert_int_equal(cfg->mds.shards[0].addr.port, 7400);
	assert_string_equal(cfg->mds.shards[0].data, "/srv/mds0");
	assert_string_equal(cfg->mds.shards[1].addr.host, "fd00::2");
	assert_int_equal(cfg->mds.shards[1].addr.port, 7401);
	assert_string_equal(cfg->mds.shards[1].data, "/srv/mds1");
	assert_string_equal(cfg->mds.shards[2].addr.host, "mds-3.example.org");
	assert_int_equal(cfg->mds.shards[2].addr.port, 65535);
	assert_string_equal(cfg->mds.shards[2].data, "/srv/mds2");
	assert_int_equal(cfg->mds.workers, 16);
	assert_int_equal(cfg->mds.block_cache, 8 * GIB);
	assert_int_equal(cfg->mds.heartbeat_ms, 500);
	assert_int_equal(cfg->mds.osd_down_ms, 501);

	assert_true(cfg->osd.direct_io);
	assert_int_equal(cfg->osd.scrub_rate, 0);
	assert_int_equal(cfg->osd.workers, 12);
	assert_int_equal(cfg->client.cache_size, 2048 * GIB);
	assert_int_equal(cfg->client.entry_timeout_ms, 0);
	assert_int_equal(cfg->client.attr_timeout_ms, 86400000);
	assert_int_equal(cfg->client.readahead_max, 0);
	assert_string_equal(cfg->client.cache_dir, "/nvme/cache");

	assert_int_equal(cfg->pool_count, 2);
	assert_string_equal(cfg->pools[0].name, "hot_A");
	assert_int_equal(cfg->pools[0].scheme.kind, CFG_SCHEME_EC);
	assert_int_equal(cfg->pools[0].scheme.k, 8);
	assert_int_equal(cfg->pools[0].scheme.m, 3);
	assert_int_equal(cfg->pools[0].scheme.replicas, 0);
	assert_int_equal(cfg->pools[0].chunk_size, 4 * KIB);
	assert_string_equal(cfg->pools[0].media, "nvme2");
	assert_int_equal(cfg->pools[0].pg_count, 65536);
	assert_int_equal(cfg->pools[0].compression, CFG_COMPRESSION_ZSTD);
	assert_string_equal(cfg->pools[1].name, "cold");
	assert_int_equal(cfg->pools[1].scheme.kind, CFG_SCHEME_REP);
	assert_int_equal(cfg->pools[1].scheme.replicas, 3);
	assert_int_equal(cfg->pools[1].scheme.k, 0);
	assert_int_equal(cfg->pools[1].chunk_size, 64 * MIB);
	assert_string_equal(cfg->pools[1].media, "hdd");
	assert_int_equal(cfg->pools[1].pg_count, 1);
	assert_int_equal(cfg->pools[1].compression, CFG_COMPRESSION_NONE);
}

/* The documented defaults, written out (not taken from cfg_defaults()). */
static void assert_documented_defaults(const struct cfg *c)
{
	assert_string_equal(c->cluster.name, "cairn");
	assert_int_equal(c->cluster.transport, CFG_TRANSPORT_AUTO);
	assert_int_equal(c->log.level, LOG_LVL_INFO);
	assert_false(c->log.syslog);
	assert_int_equal(c->rpc.max_frame, 64 * MIB);
	assert_int_equal(c->rpc.max_inflight, 256);
	assert_int_equal(c->rpc.timeout_ms, 30000);
	assert_int_equal(c->rpc.connect_timeout_ms, 5000);
	assert_int_equal(c->rpc.reconnect_min_ms, 50);
	assert_int_equal(c->rpc.reconnect_max_ms, 5000);
	assert_int_equal(c->rpc.socket_buffer, 4 * MIB);
	assert_int_equal(c->rpc.io_threads, 2);
	assert_int_equal(c->mds.workers, 4);
	assert_int_equal(c->mds.block_cache, 64 * MIB);
	assert_int_equal(c->mds.heartbeat_ms, 1000);
	assert_int_equal(c->mds.osd_down_ms, 5000);
	assert_false(c->osd.direct_io);
	assert_int_equal(c->osd.scrub_rate, 32 * MIB);
	assert_int_equal(c->osd.workers, 2);
	assert_int_equal(c->client.cache_size, 1 * GIB);
	assert_int_equal(c->client.entry_timeout_ms, 1000);
	assert_int_equal(c->client.attr_timeout_ms, 1000);
	assert_int_equal(c->client.readahead_max, 64 * MIB);
	assert_string_equal(c->client.cache_dir, "");
}

static void test_minimal_defaults(void **state)
{
	(void)state;
	assert_int_equal(load(BASE "pools = ( { name = \"p\"; scheme = \"rep:1\"; } );\n"), 0);
	assert_documented_defaults(cfg);
	assert_string_equal(cfg->cluster.key_file, "/etc/cairn/cairn.key");
	assert_int_equal(cfg->mds.shard_count, 1);
	assert_int_equal(cfg->pool_count, 1);
	assert_int_equal(cfg->pools[0].chunk_size, 1 * MIB);
	assert_string_equal(cfg->pools[0].media, "nvme");
	assert_int_equal(cfg->pools[0].pg_count, 128);
	assert_int_equal(cfg->pools[0].compression, CFG_COMPRESSION_NONE);

	assert_int_equal(load(BASE), 0);
	assert_int_equal(cfg->pool_count, 0);
	assert_int_equal(load(BASE "# a last line without newline"), 0);

	cfg_defaults(cfg);
	assert_documented_defaults(cfg);
	assert_int_equal(cfg->mds.shard_count, 0);
	assert_string_equal(cfg->cluster.key_file, "");
}

static void test_relative_paths(void **state)
{
	char want[PATH_MAX + 64], cwd[PATH_MAX];

	(void)state;
	assert_int_equal(load("cluster = { key_file = \"keys/cairn.key\"; };\n"
			      "mds = { shards = ( { address = \"h:1\"; data = \"./mds0\"; } ); };\n"
			      "client = { cache_dir = \"cache\"; };\n"),
			 0);
	snprintf(want, sizeof(want), "%s/keys/cairn.key", tmpdir);
	assert_string_equal(cfg->cluster.key_file, want);
	snprintf(want, sizeof(want), "%s/./mds0", tmpdir);
	assert_string_equal(cfg->mds.shards[0].data, want);
	snprintf(want, sizeof(want), "%s/cache", tmpdir);
	assert_string_equal(cfg->client.cache_dir, want);

	/* a relative config path still yields absolute paths */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	assert_int_equal(cfg_load("cairn.conf", cfg, err, sizeof(err)), 0);
	assert_int_equal(chdir(cwd), 0);
	snprintf(want, sizeof(want), "%s/keys/cairn.key", tmpdir);
	assert_string_equal(cfg->cluster.key_file, want);
}

static void test_unreadable(void **state)
{
	size_t big_len = (1 << 20) + 1;
	char path[PATH_MAX + 32], *big = malloc(big_len);

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_int_equal(cfg_load(path, cfg, err, sizeof(err)), -ENOENT);
	assert_contains(err, path);
	assert_contains(err, "No such file or directory");
	assert_int_equal(cfg_load(tmpdir, cfg, err, sizeof(err)), -EISDIR);
	assert_contains(err, tmpdir);
	assert_int_equal(cfg_load(path, cfg, NULL, 0), -ENOENT);

	assert_non_null(big);
	memset(big, '#', big_len);
	write_file(conf, big, big_len - 1); /* exactly the limit: loads */
	assert_int_equal(cfg_load(conf, cfg, err, sizeof(err)), -CAIRN_ECONFIG);
	assert_contains(err, "missing required setting");
	write_file(conf, big, big_len);
	assert_int_equal(cfg_load(conf, cfg, err, sizeof(err)), -EFBIG);
	free(big);

	write_file(conf, BASE "\0x", sizeof(BASE) + 1);
	assert_int_equal(cfg_load(conf, cfg, err, sizeof(err)), -CAIRN_ECONFIG);
	assert_contains(err, "NUL byte");

	write_file(conf, BASE, strlen(BASE));
	assert_int_equal(chmod(conf, 0), 0);
	if (geteuid() == 0) {
		print_message("skipping the -EACCES check: running as root\n");
	} else {
		assert_int_equal(cfg_load(conf, cfg, err, sizeof(err)), -EACCES);
		assert_contains(err, "Permission denied");
	}
}

static void test_syntax_error(void **state)
{
	(void)state;
	assert_int_equal(load(BASE "rpc = {\n  timeout_ms = ;\n};\n"), -CAIRN_ECONFIG);
	assert_where(4);
	assert_contains(err, "syntax error");

	assert_int_equal(load(BASE "rpc = { io_threads = 2; io_threads = 3; };\n"), -CAIRN_ECONFIG);
	assert_where(3);
	assert_contains(err, "duplicate setting");
}

static void test_error_leaves_output_alone(void **state)
{
	struct cfg *before = malloc(sizeof(*before));

	(void)state;
	assert_non_null(before);
	memset(cfg, 0xa5, sizeof(*cfg));
	memcpy(before, cfg, sizeof(*cfg));
	assert_int_equal(load(BASE "rpc = { io_threads = 0; };\n"), -CAIRN_ECONFIG);
	assert_memory_equal(cfg, before, sizeof(*cfg));
	free(before);
}

struct bad {
	const char *text;
	unsigned line; /* 0: the message has no line */
	const char *what[2];
};

static const struct bad bad_cases[] = {
	/* wrong type */
	{BASE "rpc = { timeout_ms = \"30s\"; };\n", 3,
	 {"setting 'rpc.timeout_ms'", "expected an integer, got a string"}},
	{BASE "log = { syslog = 1; };\n", 3, {"setting 'log.syslog'", "expected a boolean"}},
	{BASE "rpc = { max_frame = 1.5; };\n", 3,
	 {"setting 'rpc.max_frame'", "expected an integer or a size string, got a float"}},
	{BASE "cluster2 = 1;\n", 3, {"unknown setting 'cluster2'", NULL}},
	{BASE "osd = 5;\n", 3, {"setting 'osd'", "expected a group, got an integer"}},
	{BASE "pools = { name = \"x\"; };\n", 3, {"setting 'pools'", "expected a list"}},
	{KEY "mds = { shards = [ 1, 2 ]; };\n", 2,
	 {"setting 'mds.shards'", "expected a list of groups, got an array"}},
	{KEY "mds = { shards = ( \"h:1\" ); };\n", 2,
	 {"setting 'mds.shards[0]'", "expected a group, got a string"}},
	{KEY "mds = { shards = ( { address = 7400; data = \"d\"; } ); };\n", 2,
	 {"setting 'mds.shards[0].address'", "expected a string, got an integer"}},
	/* out of range */
	{BASE "rpc = { max_frame = 12; };\n", 3,
	 {"setting 'rpc.max_frame'", "must be between 64KiB and 1GiB (got 12)"}},
	{BASE "rpc = { max_frame = \"2G\"; };\n", 3,
	 {"setting 'rpc.max_frame'", "must be between 64KiB and 1GiB (got 2GiB)"}},
	{BASE "rpc = { max_frame = -65536; };\n", 3, {"setting 'rpc.max_frame'", "(got -65536)"}},
	{BASE "rpc = { max_frame = 4294967296L; };\n", 3, {"'rpc.max_frame'", "(got 4GiB)"}},
	{BASE "rpc = { max_inflight = 0; };\n", 3,
	 {"setting 'rpc.max_inflight'", "must be between 1 and 65536 (got 0)"}},
	{BASE "rpc = { io_threads = -1; };\n", 3, {"setting 'rpc.io_threads'", "(got -1)"}},
	{BASE "client = { attr_timeout_ms = 86400001; };\n", 3,
	 {"setting 'client.attr_timeout_ms'", "between 0 and 86400000"}},
	{"cluster = { key_file = \"k\"; name = \"my cluster\"; };\n" MDS, 1,
	 {"setting 'cluster.name'", "(got \"my cluster\")"}},
	{"cluster = { key_file = \"k\";\n name = \"a1234567890123456789012345678901234567890"
	 "12345678901234567890123\"; };\n" MDS,
	 2, {"setting 'cluster.name'", "1 to 63 characters"}},
	{BASE "pools = ( { name = \"p\"; scheme = \"rep:2\"; chunk_size = \"3M\"; } );\n", 3,
	 {"setting 'pools[0].chunk_size'", "must be a power of two (got 3MiB)"}},
	{BASE "pools = ( { name = \"p\"; scheme = \"rep:2\"; pg_count = 0; } );\n", 3,
	 {"setting 'pools[0].pg_count'", "(got 0)"}},
	{BASE "pools = ( { name = \"p\"; scheme = \"rep:2\"; media = \"NVMe\"; } );\n", 3,
	 {"setting 'pools[0].media'", "a-z 0-9 (got \"NVMe\")"}},
	{BASE "pools = ( { name = \"p\"; scheme = \"rep:2\"; chunk_size = \"64M\"; } );\n", 3,
	 {"setting 'pools[0].chunk_size'", "must fit in rpc.max_frame (64MiB)"}},
	{BASE "rpc = { max_frame = 4294967296; };\n", 3,
	 {"integer 4294967296 does not fit in 32 bits", NULL}},
	{BASE "osd = { workers =\n  -2147483649; };\n", 4,
	 {"integer -2147483649 does not fit in 32 bits", NULL}},
	{BASE "osd = { workers = 0x80000000; };\n", 3, {"integer 0x80000000 does not fit", NULL}},
	{BASE "osd = { workers = 99999999999999999999L; };\n", 3,
	 {"does not fit in 64 bits", NULL}},
	/* bad enum */
	{"cluster = { key_file = \"k\"; transport = \"udp\"; };\n" MDS, 1,
	 {"setting 'cluster.transport'", "must be one of auto, tcp, rdma (got \"udp\")"}},
	{BASE "log = { level = \"verbose\"; };\n", 3,
	 {"setting 'log.level'", "one of error, warn, info, debug"}},
	{BASE "pools = ( { name = \"p\"; scheme = \"rep:2\"; compression = \"lz4\"; } );\n", 3,
	 {"setting 'pools[0].compression'", "one of none, zstd (got \"lz4\")"}},
	{BASE "pools = ( { name = \"p\"; scheme = \"raid5\"; } );\n", 3,
	 {"setting 'pools[0].scheme'", "ec:K+M"}},
	{BASE "pools = ( { name = \"p\"; scheme = \"ec:4+0\"; } );\n", 3,
	 {"setting 'pools[0].scheme'", "(got \"ec:4+0\")"}},
	/* bad size string */
	{BASE "rpc = { socket_buffer = \"64Q\"; };\n", 3,
	 {"setting 'rpc.socket_buffer'", "invalid size \"64Q\""}},
	{BASE "rpc = { socket_buffer = \"\"; };\n", 3, {"'rpc.socket_buffer'", "invalid size"}},
	{BASE "client = { cache_size = \"99999999999T\"; };\n", 3,
	 {"setting 'client.cache_size'", "too large a size"}},
	/* bad address */
	{KEY "mds = { shards = ( { address = \"127.0.0.1\"; data = \"d\"; } ); };\n", 2,
	 {"setting 'mds.shards[0].address'", "host:port"}},
	{KEY "mds = { shards = ( { address = \"h:0\"; data = \"d\"; } ); };\n", 2,
	 {"setting 'mds.shards[0].address'", "(got \"h:0\")"}},
	{KEY "mds = { shards = ( { address = \"::1:7400\"; data = \"d\"; } ); };\n", 2,
	 {"setting 'mds.shards[0].address'", "[IPv6]:port"}},
	/* duplicates and counts */
	{KEY "mds = { shards = (\n" SHARD0 ",\n{ address = \"[::1]:7400\"; data = \"b\"; },\n"
	     "{ address = \"127.0.0.1:7400\"; data = \"c\"; } ); };\n",
	 5, {"setting 'mds.shards[2].address'", "duplicate of mds.shards[0]"}},
	{BASE "pools = ( { name = \"a\"; scheme = \"rep:2\"; },\n"
	      "  { name = \"a\"; scheme = \"ec:2+1\"; } );\n",
	 4, {"setting 'pools[1].name'", "duplicate of pools[0] ('a')"}},
	{KEY "mds = { shards = (); };\n", 2,
	 {"setting 'mds.shards'", "must have between 1 and 64 entries (got 0)"}},
	/* unknown */
	{BASE "rpc = { timeot_ms = 5; };\n", 3, {"unknown setting 'rpc.timeot_ms'", NULL}},
	{BASE "pools = ( { name = \"a\"; scheme = \"rep:2\";\n chunksize = 5; } );\n", 4,
	 {"unknown setting 'pools[0].chunksize'", NULL}},
	{KEY "mds = { shards = ( { address = \"h:1\"; data = \"d\"; port = 1; } ); };\n", 2,
	 {"unknown setting 'mds.shards[0].port'", NULL}},
	/* missing required */
	{MDS, 0, {"missing required setting 'cluster.key_file'", NULL}},
	{"cluster = { name = \"x\"; };\n" MDS, 1, {"missing required setting 'cluster.key_file'"}},
	{KEY, 0, {"missing required setting 'mds.shards'", NULL}},
	{KEY "\nmds = { workers = 2; };\n", 3, {"missing required setting 'mds.shards'", NULL}},
	{KEY "mds = { shards = ( { address = \"h:1\"; } ); };\n", 2,
	 {"missing required setting 'mds.shards[0].data'", NULL}},
	{BASE "pools = ( { name = \"a\"; } );\n", 3,
	 {"missing required setting 'pools[0].scheme'", NULL}},
	{"cluster = { key_file = \"\"; };\n" MDS, 1,
	 {"setting 'cluster.key_file'", "must not be empty"}},
	/* relations */
	{BASE "rpc = { reconnect_min_ms = 6000; };\n", 3,
	 {"setting 'rpc.reconnect_min_ms'", "must not exceed rpc.reconnect_max_ms (6000 > 5000)"}},
	{BASE "rpc = {\n reconnect_max_ms = 20; };\n", 4,
	 {"setting 'rpc.reconnect_min_ms'", "(50 > 20)"}},
	{KEY "mds = { shards = ( " SHARD0 " );\n heartbeat_ms = 5000; };\n", 3,
	 {"setting 'mds.osd_down_ms'", "must be greater than mds.heartbeat_ms (5000 <= 5000)"}},
	{KEY "mds = { shards = ( " SHARD0 " );\n\n osd_down_ms = 900; };\n", 4,
	 {"setting 'mds.osd_down_ms'", "(900 <= 1000)"}},
	/* one file */
	{BASE "@include \"other.conf\"\n", 3, {"@include is not supported", NULL}},
};

static void test_bad_settings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad *b = &bad_cases[i];

		err[0] = '\0';
		if (load(b->text) != -CAIRN_ECONFIG)
			fail_msg("case %zu loaded (err \"%s\"):\n%s", i, err, b->text);
		assert_where(b->line);
		for (int j = 0; j < 2; j++)
			if (b->what[j])
				assert_contains(err, b->what[j]);
	}
}

static void test_too_many_shards(void **state)
{
	size_t cap = 64 * 1024, n;
	char *text = malloc(cap);

	(void)state;
	assert_non_null(text);
	n = (size_t)snprintf(text, cap, KEY "mds = {\n shards = (\n");
	for (int i = 0; i <= CFG_MAX_SHARDS; i++)
		n += (size_t)snprintf(text + n, cap - n,
				      "%s{ address = \"h%d:7400\"; data = \"d\"; }\n", i ? "," : "",
				      i);
	snprintf(text + n, cap - n, "); };\n");
	assert_int_equal(load(text), -CAIRN_ECONFIG);
	assert_where(3);
	assert_contains(err, "setting 'mds.shards': must have between 1 and 64 entries (got 65)");

	/* exactly the maximum is fine */
	strcpy(strstr(text, ",{ address = \"h64:"), "); };\n");
	assert_int_equal(load(text), 0);
	assert_int_equal(cfg->mds.shard_count, CFG_MAX_SHARDS);
	assert_string_equal(cfg->mds.shards[63].addr.host, "h63");
	free(text);
}

static uint64_t rng_state;

static uint32_t rng(void) /* xorshift64 */
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/* Invariants every successfully loaded cfg holds. */
static void assert_valid(const struct cfg *c)
{
	assert_in_range(c->mds.shard_count, 1, CFG_MAX_SHARDS);
	assert_in_range(c->pool_count, 0, CFG_MAX_POOLS);
	assert_true(c->rpc.reconnect_min_ms <= c->rpc.reconnect_max_ms);
	assert_true(c->mds.osd_down_ms > c->mds.heartbeat_ms);
	assert_in_range(c->rpc.max_frame, 64 * KIB, GIB);
	assert_true(c->cluster.key_file[0] == '/');
	for (uint32_t i = 0; i < c->mds.shard_count; i++)
		assert_true(c->mds.shards[i].addr.port != 0 && c->mds.shards[i].data[0] == '/');
	for (uint32_t i = 0; i < c->pool_count; i++) {
		uint64_t cs = c->pools[i].chunk_size;

		assert_true(cs >= 4 * KIB && (cs & (cs - 1)) == 0);
		assert_true(c->pools[i].name[0] != '\0');
	}
}

/* Random edits of a valid file: each loads or fails with a one-line error. */
static void test_mutations(void **state)
{
	static const char alphabet[] = "0123456789LxX-+.;=:,{}()[]\"#/*\n @eEKMGTiBabz\\\0";
	size_t n = sizeof(full_conf) - 1;
	char *text = malloc(2 * n + 64);
	int loaded = 0;

	(void)state;
	assert_non_null(text);
	rng_state = getenv("CFG_TEST_SEED") ? strtoull(getenv("CFG_TEST_SEED"), NULL, 0)
					    : 0x5eed5eedcafef00dull;
	print_message("seed 0x%llx (set CFG_TEST_SEED to repeat)\n",
		      (unsigned long long)rng_state);
	for (int iter = 0; iter < 3000; iter++) {
		size_t len = n;
		int rc;

		memcpy(text, full_conf, n);
		for (uint32_t edits = 1 + rng() % 4; edits; edits--) {
			size_t at = rng() % len;
			uint32_t op = rng() % 3;

			if (op == 0) {
				text[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
			} else if (op == 1 && len > 1) {
				memmove(text + at, text + at + 1, len - at - 1);
				len--;
			} else if (len < 2 * n) {
				size_t span = 1 + rng() % 16;

				span = span > len - at ? len - at : span;
				memmove(text + at + span, text + at, len - at);
				len += span;
			}
		}
		write_file(conf, text, len);
		memset(err, 'x', sizeof(err));
		rc = cfg_load(conf, cfg, err, sizeof(err));
		if (rc == 0) {
			loaded++;
			assert_valid(cfg);
			continue;
		}
		if (rc != -CAIRN_ECONFIG)
			fail_msg("iteration %d: rc %d (%s)", iter, rc, err);
		assert_int_equal(strncmp(err, conf, strlen(conf)), 0);
		assert_null(strchr(err, '\n'));
	}
	print_message("%d of 3000 mutated files loaded\n", loaded);
	free(text);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} cases[] = {
		{"0", 0, 0},
		{"123", 0, 123},
		{"4K", 0, 4096},
		{"4KiB", 0, 4096},
		{"64M", 0, 64 * MIB},
		{"64MiB", 0, 64 * MIB},
		{"1G", 0, GIB},
		{"3GiB", 0, 3 * GIB},
		{"2T", 0, 2048 * GIB},
		{"2TiB", 0, 2048 * GIB},
		{"007K", 0, 7 * KIB},
		{"18446744073709551615", 0, UINT64_MAX},
		{"16777215T", 0, 16777215ull * 1024 * GIB},
		{"18446744073709551616", -ERANGE, 0},
		{"99999999999999999999999", -ERANGE, 0},
		{"16777216T", -ERANGE, 0},
		{"17179869184G", -ERANGE, 0},
		{"", -EINVAL, 0},
		{"K", -EINVAL, 0},
		{"12 ", -EINVAL, 0},
		{" 12", -EINVAL, 0},
		{"12 K", -EINVAL, 0},
		{"12k", -EINVAL, 0},
		{"12KB", -EINVAL, 0},
		{"12Ki", -EINVAL, 0},
		{"12KiBx", -EINVAL, 0},
		{"-1", -EINVAL, 0},
		{"+1", -EINVAL, 0},
		{"1.5G", -EINVAL, 0},
		{"0x10", -EINVAL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0xdeadbeef;
		int rc = cfg_parse_size(cases[i].s, &v);

		if (rc != cases[i].rc)
			fail_msg("\"%s\": rc %d, want %d", cases[i].s, rc, cases[i].rc);
		assert_int_equal(v, rc ? 0xdeadbeef : cases[i].v);
	}
}

static void test_parse_addr(void **state)
{
	static const struct {
		const char *s;
		const char *host;
		int port; /* 0: -EINVAL */
	} cases[] = {
		{"127.0.0.1:7400", "127.0.0.1", 7400},
		{"mds-0.example.org:1", "mds-0.example.org", 1},
		{"h_1:65535", "h_1", 65535},
		{"[::1]:7400", "::1", 7400},
		{"[fe80::1%eth0]:7400", "fe80::1%eth0", 7400},
		{"[::ffff:10.0.0.1]:80", "::ffff:10.0.0.1", 80},
		{"h:007", "h", 7},
		{"h:0", NULL, 0},
		{"h:65536", NULL, 0},
		{"h:99999999999999999999999", NULL, 0},
		{"h:", NULL, 0},
		{":7400", NULL, 0},
		{"h", NULL, 0},
		{"", NULL, 0},
		{"h:+80", NULL, 0},
		{"h:-1", NULL, 0},
		{"h:80x", NULL, 0},
		{"h:80 ", NULL, 0},
		{"host name:80", NULL, 0},
		{"::1:7400", NULL, 0},
		{"[::1]7400", NULL, 0},
		{"[::1]:", NULL, 0},
		{"[::1:7400", NULL, 0},
		{"[]:7400", NULL, 0},
		{"[zz::1]:7400", NULL, 0},
		{"[1.2.3.4]:80", NULL, 0},
		{"[::1%]:80", NULL, 0},
		{"999.1.1.1:80", NULL, 0},
		{"1.2.3:80", NULL, 0},
	};
	struct cfg_addr a;
	char longhost[300];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		memset(&a, 0x5a, sizeof(a));
		rc = cfg_parse_addr(cases[i].s, &a);
		if (rc != (cases[i].port ? 0 : -EINVAL))
			fail_msg("\"%s\": rc %d", cases[i].s, rc);
		if (rc == 0) {
			assert_string_equal(a.host, cases[i].host);
			assert_int_equal(a.port, cases[i].port);
		} else {
			assert_int_equal((unsigned char)a.host[0], 0x5a); /* untouched */
		}
	}
	memset(longhost, 'a', 255);
	strcpy(longhost + 255, ":80");
	assert_int_equal(cfg_parse_addr(longhost, &a), 0);
	assert_int_equal(strlen(a.host), 255);
	memset(longhost, 'a', 256);
	strcpy(longhost + 256, ":80");
	assert_int_equal(cfg_parse_addr(longhost, &a), -EINVAL);
}

static void test_parse_scheme(void **state)
{
	static const struct {
		const char *s;
		int rc;
		int kind;
		uint32_t k, m, r;
	} cases[] = {
		{"ec:4+2", 0, CFG_SCHEME_EC, 4, 2, 0},
		{"ec:1+1", 0, CFG_SCHEME_EC, 1, 1, 0},
		{"ec:32+16", 0, CFG_SCHEME_EC, 32, 16, 0},
		{"rep:1", 0, CFG_SCHEME_REP, 0, 0, 1},
		{"rep:8", 0, CFG_SCHEME_REP, 0, 0, 8},
		{"ec:0+2", -ERANGE, 0, 0, 0, 0},
		{"ec:33+1", -ERANGE, 0, 0, 0, 0},
		{"ec:4+0", -ERANGE, 0, 0, 0, 0},
		{"ec:4+17", -ERANGE, 0, 0, 0, 0},
		{"ec:99999999999+1", -ERANGE, 0, 0, 0, 0},
		{"rep:0", -ERANGE, 0, 0, 0, 0},
		{"rep:9", -ERANGE, 0, 0, 0, 0},
		{"ec:4", -EINVAL, 0, 0, 0, 0},
		{"ec:4+", -EINVAL, 0, 0, 0, 0},
		{"ec:+2", -EINVAL, 0, 0, 0, 0},
		{"ec:4+2x", -EINVAL, 0, 0, 0, 0},
		{"ec:4-2", -EINVAL, 0, 0, 0, 0},
		{"EC:4+2", -EINVAL, 0, 0, 0, 0},
		{"rep:", -EINVAL, 0, 0, 0, 0},
		{"rep:3 ", -EINVAL, 0, 0, 0, 0},
		{"rep3", -EINVAL, 0, 0, 0, 0},
		{"", -EINVAL, 0, 0, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg_scheme sc = {.kind = CFG_SCHEME_REP, .k = 77, .m = 77, .replicas = 77};
		int rc = cfg_parse_scheme(cases[i].s, &sc);

		if (rc != cases[i].rc)
			fail_msg("\"%s\": rc %d, want %d", cases[i].s, rc, cases[i].rc);
		if (rc) {
			assert_int_equal(sc.k, 77);
			continue;
		}
		assert_int_equal(sc.kind, cases[i].kind);
		assert_int_equal(sc.k, cases[i].k);
		assert_int_equal(sc.m, cases[i].m);
		assert_int_equal(sc.replicas, cases[i].r);
	}
}

/* tools/cairn.conf.example parses and shows every default as it is. */
static void test_example(void **state)
{
	char dir[PATH_MAX], want[PATH_MAX + 32];

	(void)state;
	if (!example_path)
		fail_msg("usage: test_common_cfg PATH/tools/cairn.conf.example");
	if (cfg_load(example_path, cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_documented_defaults(cfg);
	snprintf(dir, sizeof(dir), "%s", example_path);
	assert_non_null(realpath(dirname(dir), want));
	strcat(want, "/cairn.key");
	assert_string_equal(cfg->cluster.key_file, want);
	assert_int_equal(cfg->mds.shard_count, 2);
	assert_int_equal(cfg->mds.shards[1].addr.port, 7401);
	assert_int_equal(cfg->pool_count, 2);
	assert_int_equal(cfg->pools[0].scheme.k, 4);
	assert_int_equal(cfg->pools[0].scheme.m, 2);
	assert_int_equal(cfg->pools[1].scheme.replicas, 2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_minimal_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_leaves_output_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_shards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mutations, setup, teardown),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_parse_scheme),
		cmocka_unit_test_setup_teardown(test_example, setup, teardown),
	};

	example_path = argc > 1 ? argv[1] : NULL;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
