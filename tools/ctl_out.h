/*
 * ctl_out.h - cairnctl's output: aligned tables for people, JSON for
 * scripts, and the formatting of sizes and schemes both use.
 *
 * Pure formatting onto a FILE; no state.  Strings are escaped for JSON by
 * ctl_json_str(), so names and addresses from the cluster never break the
 * document.
 */
#ifndef CAIRN_TOOLS_CTL_OUT_H
#define CAIRN_TOOLS_CTL_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "client/cairn_admin.h"

#define CTL_SHARDS_MAX 64

/* Everything `cairnctl status` shows. */
struct ctl_status {
	const char *name; /* cluster name */
	unsigned nshards;
	const char *shard_addr[CTL_SHARDS_MAX];
	int shard_status[CTL_SHARDS_MAX]; /* 0 reachable, else why not */
	int status_rc;			  /* of cairn_admin_status(); st valid if 0 */
	struct cairn_status st;
	int pools_rc; /* of cairn_pool_list(); pools valid if 0 */
	struct cairn_pool_info *pools;
	size_t npools;
};

void ctl_print_status(FILE *f, const struct ctl_status *s, bool json);
void ctl_print_osds(FILE *f, const struct cairn_osd_info *osds, size_t n, uint64_t epoch,
		    bool json);
/* indent: spaces before each table line (0 at top level). */
void ctl_print_pools(FILE *f, const struct cairn_pool_info *pools, size_t n, bool json, int indent);

/* A JSON string literal, quotes included. */
void ctl_json_str(FILE *f, const char *s);

/* "512 B", "1.5 KiB", ..., "2.0 EiB". */
void ctl_fmt_bytes(uint64_t v, char *buf, size_t len);
/* A chunk size as pool create takes it: "4K", "1M", "64M". */
void ctl_fmt_chunk(uint32_t v, char *buf, size_t len);
/* "ec:4+2", "rep:3". */
void ctl_fmt_scheme(const struct cairn_pool_info *p, char *buf, size_t len);
/*
 * The logical bytes of a pool's data: its chunks' logical bytes times
 * k / (k + m), leaving out parity and extra replicas (exact for whole
 * stripes; a partial stripe's parity is as long as its longest data chunk).
 */
uint64_t ctl_pool_data_bytes(const struct cairn_pool_info *p);
/* The compression ratio "2.31" (cairn_pool_ratio), or "-" when nothing is stored. */
void ctl_fmt_ratio(const struct cairn_pool_info *p, char *buf, size_t len);
/* "ok", "warn", "error". */
const char *ctl_health_name(int health);

#endif
