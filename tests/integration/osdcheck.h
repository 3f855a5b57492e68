/*
 * osdcheck.h - what a stripe should hold (a model of its bytes and chunk
 * lengths, per the rules of proto/osd.h) and the check that reads every
 * chunk back from its acting set and compares, parity included (computed
 * here with ISA-L directly).  Shared by the OSD integration tests.
 */
#ifndef CAIRN_TESTS_OSDCHECK_H
#define CAIRN_TESTS_OSDCHECK_H

#include <stdint.h>

#include "cluster.h"
#include "common/placement.h"

struct model {
	unsigned k, m;
	uint32_t cs;
	uint8_t *bytes; /* k * cs, zeros where never written */
	uint32_t lens[PLACEMENT_MAX_WIDTH];
};

/* An empty stripe of k data and m parity chunks of cs bytes. */
void model_init(struct model *md, unsigned k, unsigned m, uint32_t cs);
void model_free(struct model *md);

/* Records a write of len bytes at stripe offset off. */
void model_write(struct model *md, uint32_t off, const uint8_t *data, uint32_t len);

/*
 * Reads every chunk of the stripe (newest version) from its acting set and
 * fails the test unless each is at `version`, as long as the model says,
 * and holds the model's bytes (data) or their ISA-L parity.
 */
void check_stripe(struct tc_cluster *c, const struct proto_map_pool *p, uint64_t ino,
		  uint64_t stripe, const struct model *md, uint64_t version);

#endif
