/*
 * erasure.c - erasure coding through ISA-L (the only includer of
 * <isa-l/erasure_code.h>).
 *
 * The generator is the (k + m) x k matrix from gf_gen_cauchy1_matrix(): the
 * identity on top (data chunks are stored as they are) and a Cauchy matrix
 * below, 1 / (i ^ j) for parity row i and data column j.  Every square
 * submatrix of a Cauchy matrix is invertible, so any k rows of the generator
 * form an invertible matrix: any k survivors decode.
 *
 * erasure_new() keeps the generator and the expanded ISA-L tables of its m
 * parity rows; both are read-only afterwards, which is what lets threads
 * share a handle.  Decoding inverts the k x k matrix of the surviving rows in
 * per-call scratch memory, then computes each missing row (data or parity)
 * as a combination of the survivors in one ISA-L pass.
 *
 * ISA-L takes lengths as int; longer buffers are processed in slices, which
 * is correct because the code is bytewise.
 */
#include "common/erasure.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/erasure_code.h>

#include "common/log.h"

/* Bytes handed to one ISA-L call; must fit an int. */
#define EC_SLICE ((size_t)1 << 30)
/* Scratch buffer for the data delta of erasure_update(). */
#define EC_DELTA_MAX ((size_t)64 << 10)

_Static_assert(EC_SLICE <= INT_MAX, "slice must fit ISA-L's int length");

struct erasure {
	unsigned k;
	unsigned m;
	uint8_t *matrix; /* (k + m) x k generator, row-major; immutable */
	uint8_t *tables; /* ec_init_tables() of the m parity rows; immutable */
};

struct erasure *erasure_new(unsigned k, unsigned m)
{
	struct erasure *ec;
	size_t tables_len;

	if (k < 1 || k > ERASURE_MAX_K || m > ERASURE_MAX_M || k + m > ERASURE_MAX_CHUNKS)
		return NULL;
	ec = calloc(1, sizeof(*ec));
	if (!ec)
		return NULL;
	ec->k = k;
	ec->m = m;
	if (k == 1 || m == 0)
		return ec; /* copies or nothing: no matrix needed */

	ec->matrix = malloc((size_t)(k + m) * k);
	tables_len = (size_t)32 * k * m;
	if (!ec->matrix || posix_memalign((void **)&ec->tables, 64, tables_len) != 0)
		goto err_free;
	gf_gen_cauchy1_matrix(ec->matrix, (int)(k + m), (int)k);
	ec_init_tables((int)k, (int)m, ec->matrix + (size_t)k * k, ec->tables);
	return ec;

err_free:
	erasure_free(ec);
	return NULL;
}

void erasure_free(struct erasure *ec)
{
	if (!ec)
		return;
	free(ec->tables);
	free(ec->matrix);
	free(ec);
}

unsigned erasure_k(const struct erasure *ec)
{
	return ec->k;
}

unsigned erasure_m(const struct erasure *ec)
{
	return ec->m;
}

/*
 * dst[r] = sum over i of coefficient(r, i) * src[i], for the k sources and
 * `rows` outputs described by `tables`.  ISA-L only reads the sources; its
 * prototype is not const-qualified, hence the casts.
 */
static void ec_dot(unsigned k, unsigned rows, uint8_t *tables, const uint8_t *const *src,
		   uint8_t *const *dst, size_t len)
{
	unsigned char *s[ERASURE_MAX_K];
	unsigned char *d[ERASURE_MAX_CHUNKS];
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < EC_SLICE ? len - off : EC_SLICE;
		for (unsigned i = 0; i < k; i++)
			s[i] = (unsigned char *)src[i] + off;
		for (unsigned r = 0; r < rows; r++)
			d[r] = dst[r] + off;
		ec_encode_data((int)n, (int)k, (int)rows, tables, s, d);
	}
}

int erasure_encode(const struct erasure *ec, const uint8_t *const *data, uint8_t *const *parity,
		   size_t len)
{
	if (!ec || !data || (ec->m > 0 && !parity))
		return -EINVAL;
	for (unsigned i = 0; i < ec->k; i++)
		if (!data[i])
			return -EINVAL;
	for (unsigned j = 0; j < ec->m; j++)
		if (!parity[j])
			return -EINVAL;
	if (ec->m == 0 || len == 0)
		return 0;

	if (ec->k == 1) {
		for (unsigned j = 0; j < ec->m; j++)
			memcpy(parity[j], data[0], len);
		return 0;
	}
	ec_dot(ec->k, ec->m, ec->tables, data, parity, len);
	return 0;
}

/*
 * Coefficients of each missing row in terms of the survivors:
 * survivors = B * data, with B the surviving rows of the generator, so
 * data = B^-1 * survivors and row r of the code is G[r] * B^-1 * survivors.
 * Fills coef (nmiss x k).  Returns 0 or -EIO if B is singular, which the
 * Cauchy construction rules out.
 */
static int ec_decode_matrix(const struct erasure *ec, const unsigned *surv, const unsigned *miss,
			    unsigned nmiss, uint8_t *b, uint8_t *inv, uint8_t *coef)
{
	unsigned k = ec->k;

	for (unsigned i = 0; i < k; i++)
		memcpy(b + (size_t)i * k, ec->matrix + (size_t)surv[i] * k, k);
	if (gf_invert_matrix(b, inv, (int)k) != 0) {
		log_error("erasure: %u+%u decode matrix is singular", k, ec->m);
		return -EIO;
	}
	for (unsigned r = 0; r < nmiss; r++) {
		const uint8_t *g = ec->matrix + (size_t)miss[r] * k;

		for (unsigned t = 0; t < k; t++) {
			uint8_t c = 0;

			for (unsigned j = 0; j < k; j++)
				c ^= gf_mul(g[j], inv[(size_t)j * k + t]);
			coef[(size_t)r * k + t] = c;
		}
	}
	return 0;
}

/* Reed-Solomon decode of nmiss rows from the first k survivors. */
static int ec_decode_rs(const struct erasure *ec, uint8_t *const *chunks, const unsigned *surv,
			const unsigned *miss, unsigned nmiss, size_t len)
{
	const uint8_t *src[ERASURE_MAX_K];
	uint8_t *dst[ERASURE_MAX_CHUNKS];
	size_t kk = (size_t)ec->k * ec->k;
	size_t tables_len = (size_t)32 * ec->k * nmiss;
	uint8_t *tables, *b, *inv, *coef;
	int ret;

	/* One block: tables first (aligned), then B, B^-1 and coefficients. */
	if (posix_memalign((void **)&tables, 64, tables_len + 2 * kk + (size_t)nmiss * ec->k))
		return -ENOMEM;
	b = tables + tables_len;
	inv = b + kk;
	coef = inv + kk;

	ret = ec_decode_matrix(ec, surv, miss, nmiss, b, inv, coef);
	if (ret < 0)
		goto out_free;
	ec_init_tables((int)ec->k, (int)nmiss, coef, tables);
	for (unsigned i = 0; i < ec->k; i++)
		src[i] = chunks[surv[i]];
	for (unsigned r = 0; r < nmiss; r++)
		dst[r] = chunks[miss[r]];
	ec_dot(ec->k, nmiss, tables, src, dst, len);

out_free:
	free(tables);
	return ret;
}

int erasure_decode(const struct erasure *ec, uint8_t *const *chunks, const bool *present,
		   size_t len)
{
	unsigned surv[ERASURE_MAX_CHUNKS], miss[ERASURE_MAX_CHUNKS];
	unsigned nsurv = 0, nmiss = 0, n;

	if (!ec || !chunks || !present)
		return -EINVAL;
	n = ec->k + ec->m;
	for (unsigned i = 0; i < n; i++) {
		if (!chunks[i])
			return -EINVAL;
		if (present[i])
			surv[nsurv++] = i;
		else
			miss[nmiss++] = i;
	}
	if (nsurv < ec->k)
		return -EIO;
	if (nmiss == 0 || len == 0)
		return 0;

	if (ec->k == 1) {
		for (unsigned r = 0; r < nmiss; r++)
			memcpy(chunks[miss[r]], chunks[surv[0]], len);
		return 0;
	}
	return ec_decode_rs(ec, chunks, surv, miss, nmiss, len);
}

static int ec_update_rs(const struct erasure *ec, unsigned index, const uint8_t *old_data,
			const uint8_t *new_data, uint8_t *const *parity, size_t len)
{
	unsigned char *d[ERASURE_MAX_M];
	size_t cap = len < EC_DELTA_MAX ? len : EC_DELTA_MAX;
	uint8_t *delta;
	size_t off, n;

	delta = malloc(cap);
	if (!delta)
		return -ENOMEM;
	/* parity += G[parity row][index] * (old ^ new), slice by slice. */
	for (off = 0; off < len; off += n) {
		n = len - off < cap ? len - off : cap;
		for (size_t x = 0; x < n; x++)
			delta[x] = old_data[off + x] ^ new_data[off + x];
		for (unsigned j = 0; j < ec->m; j++)
			d[j] = parity[j] + off;
		ec_encode_data_update((int)n, (int)ec->k, (int)ec->m, (int)index, ec->tables, delta,
				      d);
	}
	free(delta);
	return 0;
}

int erasure_update(const struct erasure *ec, unsigned index, const uint8_t *old_data,
		   const uint8_t *new_data, uint8_t *const *parity, size_t len)
{
	if (!ec || index >= ec->k || !old_data || !new_data || (ec->m > 0 && !parity))
		return -EINVAL;
	for (unsigned j = 0; j < ec->m; j++)
		if (!parity[j])
			return -EINVAL;
	if (ec->m == 0 || len == 0)
		return 0;

	if (ec->k == 1) {
		for (unsigned j = 0; j < ec->m; j++)
			if (parity[j] != new_data)
				memcpy(parity[j], new_data, len);
		return 0;
	}
	return ec_update_rs(ec, index, old_data, new_data, parity, len);
}
