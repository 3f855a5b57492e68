/*
 * ctl_out.c - cairnctl's tables and JSON (see ctl_out.h).
 *
 * Tables: a header row and rows of cells, each column as wide as its
 * widest cell, two spaces apart.  JSON: one document per command, written
 * field by field.
 */
#include "tools/ctl_out.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "client/cairn.h"
#include "common/error.h"

#define CELL 80

static void table_print(FILE *f, unsigned ncols, const char *const *hdr, char (*cells)[CELL],
			size_t nrows, int indent)
{
	size_t w[16] = {0};

	for (unsigned c = 0; c < ncols; c++) {
		w[c] = strlen(hdr[c]);
		for (size_t r = 0; r < nrows; r++)
			if (strlen(cells[r * ncols + c]) > w[c])
				w[c] = strlen(cells[r * ncols + c]);
	}
	for (size_t r = 0; r <= nrows; r++) {
		fprintf(f, "%*s", indent, "");
		for (unsigned c = 0; c < ncols; c++) {
			const char *s = r == 0 ? hdr[c] : cells[(r - 1) * ncols + c];

			if (c + 1 == ncols)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%-*s  ", (int)w[c], s);
		}
	}
}

void ctl_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void ctl_fmt_bytes(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", v);
		return;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", d, units[u]);
}

void ctl_fmt_chunk(uint32_t v, char *buf, size_t len)
{
	if (v && v % (1u << 20) == 0)
		snprintf(buf, len, "%uM", v >> 20);
	else if (v && v % 1024 == 0)
		snprintf(buf, len, "%uK", v >> 10);
	else
		snprintf(buf, len, "%u", v);
}

void ctl_fmt_scheme(const struct cairn_pool_info *p, char *buf, size_t len)
{
	if (p->scheme == CAIRN_SCHEME_REP)
		snprintf(buf, len, "rep:%u", p->m + 1u);
	else if (p->scheme == CAIRN_SCHEME_EC)
		snprintf(buf, len, "ec:%u+%u", p->k, p->m);
	else
		snprintf(buf, len, "?");
}

const char *ctl_health_name(int health)
{
	switch (health) {
	case CAIRN_HEALTH_OK:
		return "ok";
	case CAIRN_HEALTH_WARN:
		return "warn";
	case CAIRN_HEALTH_ERR:
		return "error";
	default:
		return "?";
	}
}

uint64_t ctl_pool_data_bytes(const struct cairn_pool_info *p)
{
	unsigned width = (unsigned)p->k + p->m;

	if (p->k == 0 || width == 0)
		return p->logical_bytes;
	/* logical * k / width without overflow for any 64-bit logical. */
	return p->logical_bytes / width * p->k + p->logical_bytes % width * p->k / width;
}

void ctl_fmt_ratio(const struct cairn_pool_info *p, char *buf, size_t len)
{
	double r;

	if (cairn_pool_ratio(p, &r) == 0)
		snprintf(buf, len, "%.2f", r);
	else
		snprintf(buf, len, "-");
}

static void pool_json(FILE *f, const struct cairn_pool_info *p)
{
	char scheme[32];
	double r;

	ctl_fmt_scheme(p, scheme, sizeof(scheme));
	fprintf(f, "{\"id\":%u,\"name\":", p->id);
	ctl_json_str(f, p->name);
	fprintf(f,
		",\"scheme\":\"%s\",\"k\":%u,\"m\":%u,\"chunk_size\":%u,\"media\":\"%s\","
		"\"pg_count\":%u,\"compression\":\"%s\",\"chunks\":%" PRIu64
		",\"data_bytes\":%" PRIu64 ",\"logical_bytes\":%" PRIu64
		",\"stored_bytes\":%" PRIu64 ",\"compression_ratio\":",
		scheme, p->k, p->m, p->chunk_size, cairn_media_name(p->media), p->pg_count,
		p->compression == CAIRN_COMPRESS_ZSTD ? "zstd" : "none", p->chunks,
		ctl_pool_data_bytes(p), p->logical_bytes, p->stored_bytes);
	if (cairn_pool_ratio(p, &r) == 0)
		fprintf(f, "%.3f}", r);
	else
		fputs("null}", f);
}

void ctl_print_pools(FILE *f, const struct cairn_pool_info *pools, size_t n, bool json, int indent)
{
	static const char *const hdr[] = {"ID",	 "NAME",	"SCHEME", "CHUNK", "MEDIA",
					  "PGS", "COMPRESSION", "DATA",	  "USED",  "RATIO"};
	const unsigned ncols = sizeof(hdr) / sizeof(hdr[0]);
	char(*cells)[CELL];

	if (json) {
		fputc('[', f);
		for (size_t i = 0; i < n; i++) {
			fputs(i ? "," : "", f);
			pool_json(f, &pools[i]);
		}
		fputc(']', f);
		if (indent == 0)
			fputc('\n', f);
		return;
	}
	if (n == 0) {
		fprintf(f, "%*sno pools\n", indent, "");
		return;
	}
	cells = calloc(n * ncols, CELL);
	if (!cells)
		return;
	for (size_t i = 0; i < n; i++) {
		char(*row)[CELL] = cells + i * ncols;

		snprintf(row[0], CELL, "%u", pools[i].id);
		snprintf(row[1], CELL, "%s", pools[i].name);
		ctl_fmt_scheme(&pools[i], row[2], CELL);
		ctl_fmt_chunk(pools[i].chunk_size, row[3], CELL);
		snprintf(row[4], CELL, "%s", cairn_media_name(pools[i].media));
		snprintf(row[5], CELL, "%u", pools[i].pg_count);
		snprintf(row[6], CELL, "%s",
			 pools[i].compression == CAIRN_COMPRESS_ZSTD ? "zstd" : "none");
		ctl_fmt_bytes(ctl_pool_data_bytes(&pools[i]), row[7], CELL);
		ctl_fmt_bytes(pools[i].stored_bytes, row[8], CELL);
		ctl_fmt_ratio(&pools[i], row[9], CELL);
	}
	table_print(f, ncols, hdr, cells, n, indent);
	free(cells);
}

static void osd_json(FILE *f, const struct cairn_osd_info *o)
{
	fprintf(f, "{\"id\":%u,\"addr\":", o->id);
	ctl_json_str(f, o->addr);
	fputs(",\"host\":", f);
	ctl_json_str(f, o->host);
	fprintf(f,
		",\"media\":\"%s\",\"up\":%s,\"in\":%s,\"weight\":%u,\"capacity\":%" PRIu64
		",\"used\":%" PRIu64 ",\"scrubbed\":%" PRIu64 ",\"bad\":%" PRIu64
		",\"repaired\":%" PRIu64 ",\"unrepairable\":%" PRIu64 "}",
		cairn_media_name(o->media), o->up ? "true" : "false", o->in ? "true" : "false",
		o->weight, o->capacity, o->used, o->scrub.scrubbed, o->scrub.bad, o->scrub.repaired,
		o->scrub.unrepairable);
}

void ctl_print_osds(FILE *f, const struct cairn_osd_info *osds, size_t n, uint64_t epoch, bool json)
{
	static const char *const hdr[] = {"ID",	      "ADDRESS", "HOST",     "MEDIA",
					  "STATE",    "WEIGHT",	 "CAPACITY", "USED",
					  "SCRUBBED", "BAD",	 "REPAIRED", "UNREPAIRABLE"};
	const unsigned ncols = sizeof(hdr) / sizeof(hdr[0]);
	char(*cells)[CELL];

	if (json) {
		fprintf(f, "{\"epoch\":%" PRIu64 ",\"osds\":[", epoch);
		for (size_t i = 0; i < n; i++) {
			fputs(i ? "," : "", f);
			osd_json(f, &osds[i]);
		}
		fputs("]}\n", f);
		return;
	}
	if (n == 0) {
		fprintf(f, "no OSDs registered (map epoch %" PRIu64 ")\n", epoch);
		return;
	}
	cells = calloc(n * ncols, CELL);
	if (!cells)
		return;
	for (size_t i = 0; i < n; i++) {
		char(*row)[CELL] = cells + i * ncols;

		snprintf(row[0], CELL, "%u", osds[i].id);
		snprintf(row[1], CELL, "%s", osds[i].addr);
		snprintf(row[2], CELL, "%s", osds[i].host);
		snprintf(row[3], CELL, "%s", cairn_media_name(osds[i].media));
		snprintf(row[4], CELL, "%s,%s", osds[i].up ? "up" : "down",
			 osds[i].in ? "in" : "out");
		snprintf(row[5], CELL, "%u", osds[i].weight);
		ctl_fmt_bytes(osds[i].capacity, row[6], CELL);
		ctl_fmt_bytes(osds[i].used, row[7], CELL);
		snprintf(row[8], CELL, "%" PRIu64, osds[i].scrub.scrubbed);
		snprintf(row[9], CELL, "%" PRIu64, osds[i].scrub.bad);
		snprintf(row[10], CELL, "%" PRIu64, osds[i].scrub.repaired);
		snprintf(row[11], CELL, "%" PRIu64, osds[i].scrub.unrepairable);
	}
	table_print(f, ncols, hdr, cells, n, 0);
	fprintf(f, "map epoch %" PRIu64 "\n", epoch);
	free(cells);
}

static unsigned shards_up(const struct ctl_status *s)
{
	unsigned up = 0;

	for (unsigned i = 0; i < s->nshards; i++)
		up += s->shard_status[i] == 0;
	return up;
}

static void status_json(FILE *f, const struct ctl_status *s)
{
	const struct cairn_status *t = &s->st;

	fputs("{\"cluster\":", f);
	ctl_json_str(f, s->name);
	fputs(",\"shards\":[", f);
	for (unsigned i = 0; i < s->nshards; i++) {
		fprintf(f, "%s{\"id\":%u,\"addr\":", i ? "," : "", i);
		ctl_json_str(f, s->shard_addr[i]);
		fprintf(f, ",\"reachable\":%s,\"error\":", s->shard_status[i] ? "false" : "true");
		if (s->shard_status[i])
			ctl_json_str(f, error_str(s->shard_status[i]));
		else
			fputs("null", f);
		fputc('}', f);
	}
	fprintf(f, "],\"shards_reachable\":%u", shards_up(s));
	if (s->status_rc == 0) {
		fprintf(f,
			",\"health\":\"%s\",\"epoch\":%" PRIu64 ",\"osds\":{\"total\":%u,"
			"\"up\":%u,\"down\":%u,\"in\":%u,\"out\":%u},\"capacity\":%" PRIu64
			",\"used\":%" PRIu64,
			ctl_health_name(t->health), t->epoch, t->nosds, t->osds_up,
			t->nosds - t->osds_up, t->osds_in, t->nosds - t->osds_in, t->capacity,
			t->used);
		fprintf(f,
			",\"scrub\":{\"scrubbed\":%" PRIu64 ",\"bad\":%" PRIu64
			",\"repaired\":%" PRIu64 ",\"unrepairable\":%" PRIu64
			",\"osds_unrepairable\":%u}",
			t->scrub.scrubbed, t->scrub.bad, t->scrub.repaired, t->scrub.unrepairable,
			t->osds_unrepairable);
	}
	if (s->status_rc == 0 && s->pools_rc == 0) {
		fputs(",\"pools\":", f);
		ctl_print_pools(f, s->pools, s->npools, true, 1);
	}
	fputs("}\n", f);
}

static void status_text(FILE *f, const struct ctl_status *s)
{
	const struct cairn_status *t = &s->st;
	char cap[32], used[32];

	fprintf(f, "cluster:  %s\n", s->name);
	fprintf(f, "shards:   %u of %u reachable\n", shards_up(s), s->nshards);
	for (unsigned i = 0; i < s->nshards; i++)
		fprintf(f, "  shard %-3u %-24s %s\n", i, s->shard_addr[i],
			s->shard_status[i] ? "unreachable" : "ok");
	if (s->status_rc)
		return;
	ctl_fmt_bytes(t->capacity, cap, sizeof(cap));
	ctl_fmt_bytes(t->used, used, sizeof(used));
	fprintf(f, "health:   %s\n", ctl_health_name(t->health));
	fprintf(f, "map:      epoch %" PRIu64 "\n", t->epoch);
	fprintf(f, "osds:     %u total: %u up, %u down; %u in, %u out\n", t->nosds, t->osds_up,
		t->nosds - t->osds_up, t->osds_in, t->nosds - t->osds_in);
	fprintf(f, "space:    %s used of %s\n", used, cap);
	fprintf(f,
		"scrub:    %" PRIu64 " chunks verified, %" PRIu64 " bad, %" PRIu64
		" repaired, %" PRIu64 " unrepairable\n",
		t->scrub.scrubbed, t->scrub.bad, t->scrub.repaired, t->scrub.unrepairable);
	if (t->osds_unrepairable)
		fprintf(f,
			"warning:  %u OSD%s report%s chunks scrub could not repair "
			"(cairnctl osd ls)\n",
			t->osds_unrepairable, t->osds_unrepairable == 1 ? "" : "s",
			t->osds_unrepairable == 1 ? "s" : "");
	if (s->pools_rc)
		return;
	fprintf(f, "pools:    %zu\n", s->npools);
	if (s->npools)
		ctl_print_pools(f, s->pools, s->npools, false, 2);
}

void ctl_print_status(FILE *f, const struct ctl_status *s, bool json)
{
	if (json)
		status_json(f, s);
	else
		status_text(f, s);
}
