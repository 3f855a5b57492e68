/*
 * ctl_fsck.c - `cairnctl fsck` (see ctl_fsck.h) over cairn_fsck_run().
 *
 * Problems are printed as they are found (one line each, or one JSON
 * object each inside the "problems" array, so a long run streams); the
 * progress line is redrawn at most ten times a second on stderr when it is
 * a terminal and erased before anything else is printed.  Single-threaded:
 * the callbacks run on the caller's thread.
 */
#include "tools/ctl_fsck.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "client/cairn.h"
#include "client/cairn_int.h"
#include "client/fsck.h"
#include "client/mdsc.h"
#include "common/error.h"
#include "tools/ctl_out.h"

struct fsck_ui {
	bool json;
	bool tty;	    /* draw the progress line */
	bool line_shown;    /* a progress line is on the screen */
	int64_t last_ms;    /* when it was drawn */
	uint64_t nproblems; /* printed so far */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void erase_line(struct fsck_ui *ui)
{
	if (ui->line_shown) {
		fputs("\r\033[K", stderr);
		ui->line_shown = false;
	}
}

static void on_progress(void *arg, const struct cairn_fsck_progress *p)
{
	struct fsck_ui *ui = arg;
	int64_t t = now_ms();

	if (!ui->tty || t - ui->last_ms < 100)
		return;
	ui->last_ms = t;
	fprintf(stderr, "\r\033[Kfsck: pass %u, %s: %" PRIu64 " records (shard %u)", p->pass + 1,
		p->stage, p->done, p->shard);
	ui->line_shown = true;
}

static void problem_text(const struct cairn_fsck_problem *p)
{
	printf("%-12s shard %-3u", cairn_fsck_kind_name(p->kind), p->shard);
	switch (p->kind) {
	case CAIRN_FSCK_DANGLING:
		printf(" entry %#" PRIx64 "/%.*s -> missing inode %#" PRIx64, p->parent,
		       (int)p->nlen, p->name ? p->name : "", p->ino);
		break;
	case CAIRN_FSCK_NLINK:
		printf(" inode %#" PRIx64 ": %" PRIu64 " links stored, %" PRIu64 " found", p->ino,
		       p->found, p->expected);
		break;
	case CAIRN_FSCK_PARENT:
		printf(" directory %#" PRIx64 ": parent %#" PRIx64 " stored, %#" PRIx64 " holds it",
		       p->ino, p->found, p->expected);
		break;
	case CAIRN_FSCK_STALE_INTENT:
		printf(" operation %#" PRIx64 " (kind %u, phase %u) pending for %" PRIu64 " s",
		       p->op_id, p->op_kind, p->op_phase, p->age_sec);
		break;
	case CAIRN_FSCK_STALE_PIN:
		if (p->name)
			printf(" entry %#" PRIx64 "/%.*s", p->parent, (int)p->nlen, p->name);
		else
			printf(" directory %#" PRIx64, p->ino);
		printf(" held by finished operation %#" PRIx64, p->op_id);
		break;
	default:
		printf(" inode %#" PRIx64 " has no entry", p->ino);
		break;
	}
	if (p->repaired)
		printf(" [repaired]");
	else if (p->repair_error)
		printf(" [repair failed: %s]", error_str(p->repair_error));
	putchar('\n');
}

static void problem_json(const struct cairn_fsck_problem *p, bool first)
{
	char name[CAIRN_NAME_MAX + 1];
	size_t n = p->nlen < CAIRN_NAME_MAX ? p->nlen : CAIRN_NAME_MAX;

	printf("%s{\"kind\":\"%s\",\"pass\":%u,\"shard\":%u,\"ino\":%" PRIu64 ",\"parent\":%" PRIu64
	       ",\"name\":",
	       first ? "" : ",", cairn_fsck_kind_name(p->kind), p->pass, p->shard, p->ino,
	       p->parent);
	if (p->name) {
		snprintf(name, sizeof(name), "%.*s", (int)n, p->name);
		ctl_json_str(stdout, name);
	} else {
		fputs("null", stdout);
	}
	printf(",\"expected\":%" PRIu64 ",\"found\":%" PRIu64 ",\"op_id\":%" PRIu64
	       ",\"age_sec\":%" PRIu64 ",\"repaired\":%s,\"repair_error\":",
	       p->expected, p->found, p->op_id, p->age_sec, p->repaired ? "true" : "false");
	if (p->repair_error)
		ctl_json_str(stdout, error_str(p->repair_error));
	else
		fputs("null", stdout);
	putchar('}');
}

static void on_problem(void *arg, const struct cairn_fsck_problem *p)
{
	struct fsck_ui *ui = arg;

	erase_line(ui);
	if (ui->json)
		problem_json(p, ui->nproblems == 0);
	else
		problem_text(p);
	ui->nproblems++;
	fflush(stdout);
}

static void counts_json(const char *key, const uint64_t *v)
{
	printf(",\"%s\":{", key);
	for (int k = 0; k < CAIRN_FSCK_KINDS; k++)
		printf("%s\"%s\":%" PRIu64, k ? "," : "",
		       cairn_fsck_kind_name((enum cairn_fsck_kind)k), v[k]);
	putchar('}');
}

static void summary(const struct cairn_fsck_report *r, bool json, bool repair)
{
	uint64_t left = cairn_fsck_remaining(r);

	if (json) {
		printf("],\"clean\":%s,\"inodes\":%" PRIu64 ",\"dentries\":%" PRIu64
		       ",\"intents\":%" PRIu64 ",\"in_progress\":%" PRIu64 ",\"passes\":%u",
		       left ? "false" : "true", r->inodes, r->dentries, r->intents, r->in_progress,
		       r->passes);
		counts_json("found", r->found);
		counts_json("repaired", r->repaired);
		counts_json("failed", r->failed);
		counts_json("remaining", r->remaining);
		puts("}");
		return;
	}
	printf("scanned %" PRIu64 " inodes, %" PRIu64 " entries, %" PRIu64 " intents (%" PRIu64
	       " in progress) in %u pass%s\n",
	       r->inodes, r->dentries, r->intents, r->in_progress, r->passes,
	       r->passes == 1 ? "" : "es");
	for (int k = 0; k < CAIRN_FSCK_KINDS; k++) {
		if (!r->found[k] && !r->remaining[k])
			continue;
		printf("  %-12s found %" PRIu64, cairn_fsck_kind_name((enum cairn_fsck_kind)k),
		       r->found[k]);
		if (repair)
			printf(", repaired %" PRIu64 ", failed %" PRIu64, r->repaired[k],
			       r->failed[k]);
		printf(", remaining %" PRIu64 "\n", r->remaining[k]);
	}
	if (left)
		printf("fsck: %" PRIu64 " problem(s) remain\n", left);
	else
		printf("fsck: clean\n");
}

int ctl_fsck(struct cairn *c, bool repair, bool progress, bool json)
{
	struct fsck_ui ui = {.json = json, .tty = progress && !json && isatty(STDERR_FILENO)};
	struct cairn_fsck_opts o = {
	    .repair = repair, .progress = on_progress, .problem = on_problem, .arg = &ui};
	struct rpc_client *shards[64];
	struct cairn_fsck_report r = {0};
	unsigned n = cairn_shard_count(c);
	int rc;

	for (unsigned i = 0; i < n; i++)
		shards[i] = mdsc_client(cairn_mdsc(c), (uint16_t)i);
	if (json)
		fputs("{\"problems\":[", stdout);
	rc = cairn_fsck_run(shards, n, &o, &r);
	erase_line(&ui);
	if (rc) {
		if (json)
			puts("]}");
		fprintf(stderr,
			"cairnctl: fsck: stopped after %" PRIu64 " inodes and %" PRIu64
			" entries: %s\n",
			r.inodes, r.dentries, error_str(rc));
		return 2;
	}
	summary(&r, json, repair);
	return cairn_fsck_remaining(&r) ? 1 : 0;
}
