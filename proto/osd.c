/*
 * osd.c - codecs of the object storage daemon messages (osd.h).  Decoders
 * end with wire_dec_finish() so trailing bytes fail.  Stateless; thread-safe.
 */
#include "proto/osd.h"

#include "common/error.h"

_Static_assert(PROTO_OSD_CHUNK_ID_SIZE == 8 + 8 + 1, "chunk id: ino, stripe, index");
_Static_assert(PROTO_CHUNK_SIZE_MAX <= UINT32_MAX && PROTO_STRIPE_SIZE_MAX <= UINT32_MAX,
	       "offsets and lengths within a chunk or stripe are u32 on the wire");

static void chunk_id_enc(const struct proto_osd_chunk_id *id, struct wire_enc *e)
{
	wire_enc_u64(e, id->ino);
	wire_enc_u64(e, id->stripe);
	wire_enc_u8(e, id->index);
}

/* A chunk id; a list cursor may have ino 0 (the start). */
static void chunk_id_dec(struct wire_dec *d, struct proto_osd_chunk_id *id, bool cursor)
{
	id->ino = wire_dec_u64(d);
	id->stripe = wire_dec_u64(d);
	id->index = wire_dec_u8(d);
	if ((!cursor && id->ino == 0) || id->index >= PROTO_CHUNKS_MAX)
		wire_dec_fail(d);
}

int proto_osd_chunk_id_cmp(const struct proto_osd_chunk_id *a, const struct proto_osd_chunk_id *b)
{
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	if (a->stripe != b->stripe)
		return a->stripe < b->stripe ? -1 : 1;
	return (int)a->index - (int)b->index;
}

/* A byte range inside one chunk (or stripe): non-empty and below max. */
static bool range_valid(uint64_t offset, uint64_t length, uint64_t max)
{
	return length >= 1 && offset + length <= max;
}

int proto_osd_chunk_write_req_encode(const struct proto_osd_chunk_write_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->map_epoch);
	wire_enc_u32(e, m->pool_id);
	chunk_id_enc(&m->id, e);
	wire_enc_u64(e, m->version);
	wire_enc_u32(e, m->offset);
	wire_enc_u32(e, m->length);
	wire_enc_u32(e, m->flags);
	wire_enc_u64(e, m->base_version);
	return proto_enc_status(e);
}

/* A base version is a precondition on an update: none with REPLACE, else older. */
static bool base_valid(uint32_t flags, uint64_t base, uint64_t version)
{
	if (flags & PROTO_OSD_W_REPLACE)
		return base == 0;
	return base < version;
}

int proto_osd_chunk_write_req_decode(struct wire_dec *d, struct proto_osd_chunk_write_req *m)
{
	m->map_epoch = wire_dec_u64(d);
	m->pool_id = wire_dec_u32(d);
	chunk_id_dec(d, &m->id, false);
	m->version = wire_dec_u64(d);
	m->offset = wire_dec_u32(d);
	m->length = wire_dec_u32(d);
	m->flags = proto_bits_decode(d, PROTO_OSD_W_KNOWN);
	m->base_version = wire_dec_u64(d);
	if (!range_valid(m->offset, m->length, PROTO_CHUNK_SIZE_MAX) ||
	    !base_valid(m->flags, m->base_version, m->version))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_osd_write_rep_encode(const struct proto_osd_write_rep *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->version);
	return proto_enc_status(e);
}

int proto_osd_write_rep_decode(struct wire_dec *d, struct proto_osd_write_rep *m)
{
	m->version = wire_dec_u64(d);
	return wire_dec_finish(d);
}

int proto_osd_chunk_read_req_encode(const struct proto_osd_chunk_read_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->map_epoch);
	wire_enc_u32(e, m->pool_id);
	chunk_id_enc(&m->id, e);
	wire_enc_u32(e, m->offset);
	wire_enc_u32(e, m->length);
	wire_enc_u64(e, m->version);
	return proto_enc_status(e);
}

int proto_osd_chunk_read_req_decode(struct wire_dec *d, struct proto_osd_chunk_read_req *m)
{
	m->map_epoch = wire_dec_u64(d);
	m->pool_id = wire_dec_u32(d);
	chunk_id_dec(d, &m->id, false);
	m->offset = wire_dec_u32(d);
	m->length = wire_dec_u32(d);
	m->version = wire_dec_u64(d);
	if (!range_valid(m->offset, m->length, PROTO_CHUNK_SIZE_MAX))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_osd_chunk_read_rep_encode(const struct proto_osd_chunk_read_rep *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->version);
	wire_enc_u32(e, m->length);
	return proto_enc_status(e);
}

int proto_osd_chunk_read_rep_decode(struct wire_dec *d, struct proto_osd_chunk_read_rep *m)
{
	m->version = wire_dec_u64(d);
	m->length = wire_dec_u32(d);
	if (m->length > PROTO_CHUNK_SIZE_MAX)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_osd_stripe_write_req_encode(const struct proto_osd_stripe_write_req *m,
				      struct wire_enc *e)
{
	wire_enc_u64(e, m->map_epoch);
	wire_enc_u32(e, m->pool_id);
	wire_enc_u64(e, m->ino);
	wire_enc_u64(e, m->stripe);
	wire_enc_u32(e, m->offset);
	wire_enc_u32(e, m->length);
	wire_enc_u32(e, m->flags);
	return proto_enc_status(e);
}

int proto_osd_stripe_write_req_decode(struct wire_dec *d, struct proto_osd_stripe_write_req *m)
{
	m->map_epoch = wire_dec_u64(d);
	m->pool_id = wire_dec_u32(d);
	m->ino = proto_ino_decode(d);
	m->stripe = wire_dec_u64(d);
	m->offset = wire_dec_u32(d);
	m->length = wire_dec_u32(d);
	m->flags = proto_bits_decode(d, PROTO_OSD_W_SYNC);
	if (!range_valid(m->offset, m->length, PROTO_STRIPE_SIZE_MAX))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_osd_chunk_delete_req_encode(const struct proto_osd_chunk_delete_req *m,
				      struct wire_enc *e)
{
	wire_enc_u64(e, m->map_epoch);
	wire_enc_u32(e, m->pool_id);
	chunk_id_enc(&m->id, e);
	return proto_enc_status(e);
}

int proto_osd_chunk_delete_req_decode(struct wire_dec *d, struct proto_osd_chunk_delete_req *m)
{
	m->map_epoch = wire_dec_u64(d);
	m->pool_id = wire_dec_u32(d);
	chunk_id_dec(d, &m->id, false);
	return wire_dec_finish(d);
}

int proto_osd_chunk_truncate_req_encode(const struct proto_osd_chunk_truncate_req *m,
					struct wire_enc *e)
{
	wire_enc_u64(e, m->map_epoch);
	wire_enc_u32(e, m->pool_id);
	chunk_id_enc(&m->id, e);
	wire_enc_u64(e, m->version);
	wire_enc_u32(e, m->size);
	wire_enc_u32(e, m->flags);
	wire_enc_u64(e, m->base_version);
	return proto_enc_status(e);
}

int proto_osd_chunk_truncate_req_decode(struct wire_dec *d, struct proto_osd_chunk_truncate_req *m)
{
	m->map_epoch = wire_dec_u64(d);
	m->pool_id = wire_dec_u32(d);
	chunk_id_dec(d, &m->id, false);
	m->version = wire_dec_u64(d);
	m->size = wire_dec_u32(d);
	m->flags = proto_bits_decode(d, PROTO_OSD_W_KNOWN);
	m->base_version = wire_dec_u64(d);
	if (m->size > PROTO_CHUNK_SIZE_MAX || !base_valid(m->flags, m->base_version, m->version))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_osd_chunk_list_req_encode(const struct proto_osd_chunk_list_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->map_epoch);
	wire_enc_u32(e, m->pool_id);
	wire_enc_u32(e, m->pg);
	chunk_id_enc(&m->cursor, e);
	wire_enc_u32(e, m->max);
	return proto_enc_status(e);
}

int proto_osd_chunk_list_req_decode(struct wire_dec *d, struct proto_osd_chunk_list_req *m)
{
	m->map_epoch = wire_dec_u64(d);
	m->pool_id = wire_dec_u32(d);
	m->pg = wire_dec_u32(d);
	chunk_id_dec(d, &m->cursor, true);
	m->max = wire_dec_u32(d);
	if (m->pg >= PROTO_PG_MAX || m->max == 0 || m->max > PROTO_OSD_LIST_MAX)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_osd_chunk_list_rep_encode(const struct proto_osd_chunk_list_rep *m, struct wire_enc *e)
{
	wire_enc_u32(e, m->flags);
	chunk_id_enc(&m->next, e);
	wire_enc_u32(e, m->count);
	for (uint32_t i = 0; i < m->count && !e->overflow; i++) {
		chunk_id_enc(&m->entries[i].id, e);
		wire_enc_u64(e, m->entries[i].version);
		wire_enc_u32(e, m->entries[i].size);
	}
	return proto_enc_status(e);
}

static void chunk_info_dec(struct wire_dec *d, struct proto_osd_chunk_info *c)
{
	chunk_id_dec(d, &c->id, false);
	c->version = wire_dec_u64(d);
	c->size = wire_dec_u32(d);
	if (c->size > PROTO_CHUNK_SIZE_MAX)
		wire_dec_fail(d);
}

/* next: zero at the end, else a real id not before the last entry. */
static bool list_next_valid(const struct proto_osd_chunk_list_rep *m)
{
	static const struct proto_osd_chunk_id zero;

	if (m->flags & PROTO_OSD_LIST_END)
		return proto_osd_chunk_id_cmp(&m->next, &zero) == 0;
	if (m->next.ino == 0)
		return false;
	return m->count == 0 || proto_osd_chunk_id_cmp(&m->next, &m->entries[m->count - 1].id) >= 0;
}

int proto_osd_chunk_list_rep_decode(struct wire_dec *d, struct proto_osd_chunk_list_rep *m)
{
	m->flags = proto_bits_decode(d, PROTO_OSD_LIST_END);
	chunk_id_dec(d, &m->next, true);
	m->count = wire_dec_u32(d);
	if (m->count > m->cap || m->count > PROTO_OSD_LIST_MAX) {
		wire_dec_fail(d);
		m->count = 0;
	}
	for (uint32_t i = 0; i < m->count && !d->err; i++) {
		chunk_info_dec(d, &m->entries[i]);
		if (i > 0 && proto_osd_chunk_id_cmp(&m->entries[i - 1].id, &m->entries[i].id) >= 0)
			wire_dec_fail(d);
	}
	if (!d->err && !list_next_valid(m))
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_osd_chunk_trim_req_encode(const struct proto_osd_chunk_trim_req *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->map_epoch);
	wire_enc_u32(e, m->pool_id);
	chunk_id_enc(&m->id, e);
	wire_enc_u64(e, m->version);
	wire_enc_u32(e, m->flags);
	return proto_enc_status(e);
}

int proto_osd_chunk_trim_req_decode(struct wire_dec *d, struct proto_osd_chunk_trim_req *m)
{
	m->map_epoch = wire_dec_u64(d);
	m->pool_id = wire_dec_u32(d);
	chunk_id_dec(d, &m->id, false);
	m->version = wire_dec_u64(d);
	m->flags = proto_bits_decode(d, PROTO_OSD_TRIM_ROLLBACK);
	if (m->version == 0)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}

int proto_osd_scrub_req_encode(const struct proto_osd_scrub_req *m, struct wire_enc *e)
{
	wire_enc_u32(e, m->pool_id);
	wire_enc_u32(e, m->flags);
	return proto_enc_status(e);
}

int proto_osd_scrub_req_decode(struct wire_dec *d, struct proto_osd_scrub_req *m)
{
	m->pool_id = wire_dec_u32(d);
	m->flags = proto_bits_decode(d, PROTO_OSD_SCRUB_REPAIR);
	return wire_dec_finish(d);
}

int proto_osd_scrub_rep_encode(const struct proto_osd_scrub_rep *m, struct wire_enc *e)
{
	wire_enc_u64(e, m->versions);
	wire_enc_u64(e, m->bytes);
	wire_enc_u64(e, m->bad);
	wire_enc_u64(e, m->repaired);
	return proto_enc_status(e);
}

int proto_osd_scrub_rep_decode(struct wire_dec *d, struct proto_osd_scrub_rep *m)
{
	m->versions = wire_dec_u64(d);
	m->bytes = wire_dec_u64(d);
	m->bad = wire_dec_u64(d);
	m->repaired = wire_dec_u64(d);
	if (m->repaired > m->bad || m->bad > m->versions)
		wire_dec_fail(d);
	return wire_dec_finish(d);
}
