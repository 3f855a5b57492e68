/*
 * buf.c - the pool of read buffers (buf.h).  Classes are powers of two from
 * 4 KiB to 64 MiB; classes below 64 KiB are not kept (malloc is cheap
 * there).  Each class keeps at most KEEP_BYTES / size buffers, at least 2.
 */
#include "osd/buf.h"

#include <pthread.h>
#include <stdlib.h>

#define MIN_SHIFT 12
#define MAX_SHIFT 26
#define KEEP_FROM_SHIFT 16
#define KEEP_BYTES (64u << 20)

struct cls {
	pthread_mutex_t lock;
	struct osd_buf *free;
	unsigned n;
};

static struct cls classes[MAX_SHIFT + 1] = {
#define C(i) [i] = {PTHREAD_MUTEX_INITIALIZER, NULL, 0}
	C(12), C(13), C(14), C(15), C(16), C(17), C(18), C(19),
	C(20), C(21), C(22), C(23), C(24), C(25), C(26),
#undef C
};

static unsigned class_of(size_t len)
{
	unsigned s = MIN_SHIFT;

	while (s < MAX_SHIFT && ((size_t)1 << s) < len)
		s++;
	return s;
}

static unsigned keep_max(unsigned cls)
{
	size_t n = KEEP_BYTES >> cls;

	return n < 2 ? 2 : (unsigned)n;
}

struct osd_buf *osd_buf_get(size_t len)
{
	unsigned cls;
	struct osd_buf *b = NULL;

	if (len > ((size_t)1 << MAX_SHIFT))
		return NULL;
	cls = class_of(len);
	if (cls >= KEEP_FROM_SHIFT) {
		pthread_mutex_lock(&classes[cls].lock);
		b = classes[cls].free;
		if (b) {
			classes[cls].free = b->next;
			classes[cls].n--;
		}
		pthread_mutex_unlock(&classes[cls].lock);
		if (b)
			return b;
	}
	b = malloc(sizeof(*b));
	if (!b)
		return NULL;
	b->cap = (size_t)1 << cls;
	b->cls = cls;
	b->next = NULL;
	if (posix_memalign(&b->data, 4096, b->cap) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

void osd_buf_put(struct osd_buf *b)
{
	struct cls *c;

	if (!b)
		return;
	c = &classes[b->cls];
	if (b->cls >= KEEP_FROM_SHIFT) {
		pthread_mutex_lock(&c->lock);
		if (c->n < keep_max(b->cls)) {
			b->next = c->free;
			c->free = b;
			c->n++;
			b = NULL;
		}
		pthread_mutex_unlock(&c->lock);
	}
	if (b) {
		free(b->data);
		free(b);
	}
}

void osd_buf_release(void *b)
{
	osd_buf_put(b);
}
