/*
 * ns_test.h - fixtures and short helpers shared by the namespace tests:
 * a shard database in a scratch directory, a few credentials, and
 * create/mkdir/lookup wrappers that assert success.
 */
#ifndef CAIRN_TESTS_NS_TEST_H
#define CAIRN_TESTS_NS_TEST_H

#include <string.h>
#include <sys/stat.h>

#include "mds/ns.h"
#include "mds_test.h"

#define N(s) (s), strlen(s)

static const uint32_t nt_alice_groups[] = {1000, 2000};
static const uint32_t nt_carol_groups[] = {2000};
static const struct ns_cred nt_root = {0, 0, 0, NULL};
static const struct ns_cred nt_alice = {1000, 1000, 2, nt_alice_groups};
static const struct ns_cred nt_bob = {1001, 1001, 0, NULL};
static const struct ns_cred nt_carol = {1002, 1002, 1, nt_carol_groups};

struct nt_fx {
	char *dir;
	char path[2][512];
	struct ns *ns;	/* shard 0 at path[0] */
	struct ns *ns1; /* shard 1 at path[1], opened by tests that need it */
};

static inline int nt_open(const char *path, uint16_t shard, struct ns **out)
{
	struct ns_options o = {.shard = shard,
			       .create_if_missing = true,
			       .block_cache_bytes = 4 << 20,
			       .write_buffer_bytes = 8 << 20};

	return ns_db_open(path, &o, out);
}

static inline int nt_setup(void **state)
{
	struct nt_fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->dir = mt_tmpdir();
	if (!f->dir)
		return -1;
	snprintf(f->path[0], sizeof(f->path[0]), "%s/shard0", f->dir);
	snprintf(f->path[1], sizeof(f->path[1]), "%s/shard1", f->dir);
	if (nt_open(f->path[0], 0, &f->ns))
		return -1;
	*state = f;
	return 0;
}

static inline int nt_teardown(void **state)
{
	struct nt_fx *f = *state;

	ns_db_close(f->ns);
	ns_db_close(f->ns1);
	if (mt_rmtree(f->dir))
		return -1;
	free(f->dir);
	free(f);
	return 0;
}

static inline uint64_t nt_mkdir(struct ns *ns, const struct ns_cred *c, uint64_t parent,
				const char *name, uint32_t mode)
{
	struct ns_attr a;

	assert_int_equal(ns_mkdir(ns, c, parent, N(name), mode, ns_shard(ns), false, &a), 0);
	return a.ino;
}

static inline uint64_t nt_create(struct ns *ns, const struct ns_cred *c, uint64_t parent,
				 const char *name, uint32_t mode)
{
	struct ns_attr a;

	assert_int_equal(ns_create(ns, c, parent, N(name), mode, NULL, false, &a), 0);
	return a.ino;
}

static inline struct ns_attr nt_get(struct ns *ns, uint64_t ino)
{
	struct ns_attr a;

	assert_int_equal(ns_getattr(ns, ino, &a), 0);
	return a;
}

/* Field by field: struct padding is not part of the value. */
static inline void nt_attr_eq(const struct ns_attr *a, const struct ns_attr *b)
{
	assert_true(a->ino == b->ino && a->generation == b->generation);
	assert_true(a->mode == b->mode && a->uid == b->uid && a->gid == b->gid);
	assert_true(a->nlink == b->nlink && a->size == b->size && a->rdev == b->rdev);
	assert_true(a->atime.sec == b->atime.sec && a->atime.nsec == b->atime.nsec);
	assert_true(a->mtime.sec == b->mtime.sec && a->mtime.nsec == b->mtime.nsec);
	assert_true(a->ctime.sec == b->ctime.sec && a->ctime.nsec == b->ctime.nsec);
	assert_true(a->flags == b->flags && a->parent == b->parent);
	assert_true(a->layout.pool_id == b->layout.pool_id &&
		    a->layout.chunk_size == b->layout.chunk_size && a->layout.k == b->layout.k &&
		    a->layout.m == b->layout.m);
}

static inline int nt_lookup(struct ns *ns, uint64_t parent, const char *name, uint64_t *ino)
{
	struct ns_attr a;
	int rc = ns_lookup(ns, &nt_root, parent, N(name), &a);

	if (ino)
		*ino = (rc == 0 || rc == -EREMOTE) ? a.ino : 0;
	return rc;
}

static inline int nt_chmod(struct ns *ns, const struct ns_cred *c, uint64_t ino, uint32_t mode)
{
	struct ns_setattr sa = {.valid = NS_SET_MODE, .mode = mode};

	return ns_setattr(ns, c, ino, &sa, false, NULL);
}

static inline int nt_chown(struct ns *ns, uint64_t ino, uint32_t uid, uint32_t gid)
{
	struct ns_setattr sa = {.valid = NS_SET_UID | NS_SET_GID, .uid = uid, .gid = gid};

	return ns_setattr(ns, &nt_root, ino, &sa, false, NULL);
}

#endif
