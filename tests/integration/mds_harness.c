/*
 * mds_harness.c - see mds_harness.h.  The registry of started pids is
 * process-wide so the atexit and signal handlers can reach it; the signal
 * handler only calls kill(2), waitpid(2) and _exit(2).
 */
#include "mds_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/auth.h"
#include "common/error.h"

#define MH_READY_MS 20000
#define MH_STOP_MS 10000

static struct mh_cluster *mh_cur;
static volatile pid_t mh_pids[MH_SHARDS_MAX];

int64_t mh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *mh_err(int rc)
{
	return rc ? error_name(rc) : "OK";
}

static void mh_kill_all(void)
{
	for (int i = 0; i < MH_SHARDS_MAX; i++) {
		pid_t p = mh_pids[i];

		if (p <= 0)
			continue;
		kill(p, SIGKILL);
		waitpid(p, NULL, 0);
		mh_pids[i] = 0;
	}
}

static void mh_on_signal(int sig)
{
	(void)sig;
	mh_kill_all();
	_exit(1);
}

static int mh_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void mh_atexit(void)
{
	struct mh_cluster *c = mh_cur;
	const char *keep = getenv("CAIRN_TEST_KEEP");

	if (!c)
		return;
	for (int i = 0; i < c->nshards; i++)
		if (c->pid[i] > 0)
			mh_shard_stop(c, i, SIGTERM);
	mh_kill_all();
	auth_key_free(c->auth);
	c->auth = NULL;
	if (keep && strcmp(keep, "1") == 0)
		fprintf(stderr, "harness: kept %s\n", c->dir);
	else if (c->dir[0])
		nftw(c->dir, mh_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	mh_cur = NULL;
}

void mh_log_path(const struct mh_cluster *c, int i, char *buf, size_t len)
{
	snprintf(buf, len, "%s/shard%d.log.%d", c->dir, i, c->starts[i]);
}

static void mh_print_tail(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	long size;
	size_t n;

	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	fprintf(stderr, "---- tail of %s ----\n%s----\n", path, buf);
}

void mh_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (mh_cur) {
		for (int i = 0; i < mh_cur->nshards; i++) {
			char path[400];

			if (mh_cur->starts[i] == 0)
				continue;
			mh_log_path(mh_cur, i, path, sizeof(path));
			mh_print_tail(path);
		}
	}
	exit(1);
}

/* A port that was free a moment ago (bound to port 0, then released). */
static int mh_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd, port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static const char *mh_or(const char *s)
{
	return s ? s : "";
}

static void mh_write_conf(struct mh_cluster *c, const struct mh_conf *x)
{
	static const struct mh_conf none;
	FILE *f = fopen(c->conf, "w");

	if (!x)
		x = &none;

	if (!f)
		mh_fail("cannot write %s: %s", c->conf, strerror(errno));
	fprintf(f,
		"cluster = { name = \"test\"; key_file = \"cairn.key\"; transport = \"tcp\"; };\n"
		"log = { level = \"info\"; };\n"
		"rpc = { timeout_ms = 4000; connect_timeout_ms = 2000; reconnect_min_ms = 20;\n"
		"        reconnect_max_ms = 200; io_threads = 1;\n%s };\n"
		"mds = {\n  shards = (\n",
		mh_or(x->rpc));
	for (int i = 0; i < c->nshards; i++)
		fprintf(f, "    { address = \"127.0.0.1:%d\"; data = \"mds%d\"; }%s\n", c->port[i],
			i, i + 1 < c->nshards ? "," : "");
	fprintf(f, "  );\n  workers = 4;\n%s\n};\n%s\n", mh_or(x->mds), mh_or(x->top));
	fclose(f);
}

void mh_cluster_init(struct mh_cluster *c, const char *binary, int nshards,
		     const struct mh_conf *conf)
{
	const char *tmp = getenv("TMPDIR");
	struct sigaction sa = {.sa_handler = mh_on_signal};
	int rc;

	memset(c, 0, sizeof(*c));
	if (nshards < 1 || nshards > MH_SHARDS_MAX)
		mh_fail("bad shard count %d", nshards);
	if (access(binary, X_OK))
		mh_fail("cannot run %s: %s", binary, strerror(errno));
	c->binary = binary;
	c->nshards = nshards;
	snprintf(c->dir, sizeof(c->dir), "%s/cairn-mdsd-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(c->dir))
		mh_fail("mkdtemp: %s", strerror(errno));
	mh_cur = c;
	atexit(mh_atexit);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	snprintf(c->conf, sizeof(c->conf), "%s/cairn.conf", c->dir);
	snprintf(c->key, sizeof(c->key), "%s/cairn.key", c->dir);
	rc = auth_key_generate(c->key);
	if (!rc)
		rc = auth_key_load(c->key, &c->auth);
	if (rc)
		mh_fail("key %s: %s", c->key, mh_err(rc));
	for (int i = 0; i < nshards; i++) {
		c->port[i] = mh_free_port();
		if (c->port[i] <= 0) {
			printf("SKIP: no loopback TCP (cannot bind 127.0.0.1)\n");
			exit(77);
		}
	}
	mh_write_conf(c, conf);
}

static pid_t mh_spawn(struct mh_cluster *c, int i, char *const env[], const char *log)
{
	char shard[16];
	pid_t pid;

	snprintf(shard, sizeof(shard), "%d", i);
	pid_t parent = getpid();

	pid = fork();
	if (pid != 0)
		return pid;
	/*
	 * A test killed outright (SIGKILL, a test-runner timeout) cannot stop
	 * its shards by pid: let the kernel do it when the test goes away.
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	for (int k = 0; env && env[k]; k++)
		putenv(env[k]);
	execl(c->binary, c->binary, "-c", c->conf, "--shard", shard, (char *)NULL);
	_exit(127);
}

int mh_shard_start(struct mh_cluster *c, int i, char *const env[])
{
	char log[400], ready[64];
	int64_t deadline = mh_now_ms() + MH_READY_MS;
	int status;
	pid_t pid;

	c->starts[i]++;
	mh_log_path(c, i, log, sizeof(log));
	pid = mh_spawn(c, i, env, log);
	if (pid < 0)
		mh_fail("fork: %s", strerror(errno));
	c->pid[i] = pid;
	mh_pids[i] = pid;
	snprintf(ready, sizeof(ready), "shard %d serving on", i);
	while (mh_now_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			c->pid[i] = 0;
			mh_pids[i] = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 0x100 | WTERMSIG(status);
		}
		if (mh_log_has(c, i, ready))
			return 0;
		usleep(10000);
	}
	mh_fail("shard %d did not come up within %d ms", i, MH_READY_MS);
}

void mh_shard_up(struct mh_cluster *c, int i)
{
	int rc = mh_shard_start(c, i, NULL);

	if (rc)
		mh_fail("shard %d exited at start with status %#x", i, rc);
}

int mh_shard_stop(struct mh_cluster *c, int i, int sig)
{
	int64_t deadline = mh_now_ms() + MH_STOP_MS;
	pid_t pid = c->pid[i];
	int status = 0;

	rpc_client_free(c->cli[i]);
	c->cli[i] = NULL;
	if (pid <= 0)
		return -1;
	kill(pid, sig);
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (mh_now_ms() > deadline) {
			fprintf(stderr, "harness: shard %d ignored signal %d: SIGKILL\n", i, sig);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(5000);
	}
	c->pid[i] = 0;
	mh_pids[i] = 0;
	return status;
}

struct rpc_client *mh_client(struct mh_cluster *c, int i)
{
	struct rpc_opts o = rpc_opts_default();
	char addr[64];
	int rc;

	if (c->cli[i])
		return c->cli[i];
	o.key = c->auth;
	o.timeout_ms = 8000;
	o.reconnect_min_ms = 20;
	o.reconnect_max_ms = 200;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", c->port[i]);
	rc = rpc_client_new(addr, &o, &c->cli[i]);
	if (rc)
		mh_fail("client of shard %d: %s", i, mh_err(rc));
	return c->cli[i];
}

bool mh_log_has(const struct mh_cluster *c, int i, const char *s)
{
	char path[400], *buf;
	bool found = false;
	FILE *f;
	long size;

	mh_log_path(c, i, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return false;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)size + 1);
	if (buf && fread(buf, 1, (size_t)size, f) == (size_t)size) {
		buf[size] = '\0';
		found = strstr(buf, s) != NULL;
	}
	free(buf);
	fclose(f);
	return found;
}

int mh_call(struct rpc_client *cli, uint16_t op, const void *body, size_t len,
	    struct rpc_msg **resp)
{
	struct rpc_call call = {.opcode = op, .body = body, .body_len = (uint32_t)len};

	*resp = NULL;
	return rpc_call_sync(cli, &call, resp);
}
