/*
 * osdcheck.c - stripe models and checks of the OSD integration tests
 * (osdcheck.h).  Single-threaded use per model.
 */
#include "osdcheck.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

void model_init(struct model *md, unsigned k, unsigned m, uint32_t cs)
{
	md->k = k;
	md->m = m;
	md->cs = cs;
	md->bytes = calloc(k, cs);
	memset(md->lens, 0, sizeof(md->lens));
	TC_CHECK(md->bytes != NULL, "out of memory");
}

void model_free(struct model *md)
{
	free(md->bytes);
	md->bytes = NULL;
}

void model_write(struct model *md, uint32_t off, const uint8_t *data, uint32_t len)
{
	memcpy(md->bytes + off, data, len);
	for (unsigned j = 0; j < md->k; j++) {
		uint64_t lo = (uint64_t)j * md->cs, hi = lo + md->cs;

		if (off + len > lo && off < hi) {
			uint32_t end = (uint32_t)((off + len < hi ? off + len : hi) - lo);

			if (end > md->lens[j])
				md->lens[j] = end;
		}
	}
}

void check_stripe(struct tc_cluster *c, const struct proto_map_pool *p, uint64_t ino,
		  uint64_t stripe, const struct model *md, uint64_t version)
{
	uint32_t ids[PLACEMENT_MAX_WIDTH], lp = 0, got;
	bool up[PLACEMENT_MAX_WIDTH];
	unsigned w = md->k + md->m;
	uint8_t *par[PLACEMENT_MAX_WIDTH], *dat[PLACEMENT_MAX_WIDTH], *buf = malloc(md->cs);
	uint64_t v;

	tc_acting(c, p, ino, stripe, ids, up);
	for (unsigned j = 0; j < md->k; j++) {
		dat[j] = md->bytes + (size_t)j * md->cs;
		lp = md->lens[j] > lp ? md->lens[j] : lp;
	}
	for (unsigned q = 0; q < md->m; q++)
		par[q] = malloc(md->cs);
	if (md->m)
		tc_parity(md->k, md->m, dat, par, lp);
	for (unsigned i = 0; i < w; i++) {
		uint32_t want = i < md->k ? md->lens[i] : lp;
		const uint8_t *exp = i < md->k ? dat[i] : par[i - md->k];
		int ret = tc_chunk_read(c, ids[i], p, ino, stripe, i, 0, md->cs, 0, buf, &got, &v);

		TC_CHECK(ret == 0, "chunk %u of %" PRIx64 ".%" PRIu64 " on osd %u: %s", i, ino,
			 stripe, ids[i], error_str(ret));
		TC_CHECK(v == version, "chunk %u at v%" PRIx64 ", expected v%" PRIx64, i, v,
			 version);
		TC_CHECK(got == want, "chunk %u is %u bytes long, expected %u", i, got, want);
		TC_CHECK(memcmp(buf, exp, got) == 0, "chunk %u of %" PRIx64 ".%" PRIu64 " differs",
			 i, ino, stripe);
	}
	for (unsigned q = 0; q < md->m; q++)
		free(par[q]);
	free(buf);
}
