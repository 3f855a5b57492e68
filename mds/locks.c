/*
 * locks.c - the file lock table of a metadata shard (locks.h).
 *
 * Layout: two hash tables keyed by 64-bit ids, one of inodes that have
 * locks or waiters, one of sessions.  An inode holds an unordered list of
 * locks per kind and a FIFO of waiters; a session links every lock and
 * waiter it owns, so ending it touches only what it owns.  A lock or a
 * waiter is in exactly one inode list and one session list.  Inodes are
 * freed as soon as they hold nothing; sessions only when they end.
 *
 * Lists are scanned linearly: a file has few locks and few waiters in
 * practice, and the limits (locks.h) bound the worst case.
 *
 * Threads: none; the caller serialises all calls (locks.h).
 */
#include "mds/locks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- intrusive lists and hash tables ---- */

struct lk_link {
	struct lk_link *prev, *next;
};

#define lk_container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

static void lk_list_init(struct lk_link *h)
{
	h->prev = h->next = h;
}

static bool lk_list_empty(const struct lk_link *h)
{
	return h->next == h;
}

static void lk_list_add_tail(struct lk_link *h, struct lk_link *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static void lk_list_del(struct lk_link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

struct lk_hnode {
	struct lk_hnode *next;
	uint64_t key;
};

struct lk_hash {
	struct lk_hnode **b;
	size_t nb; /* a power of two */
	size_t n;
};

#define LK_HASH_MIN 64

static size_t lk_slot(uint64_t key, size_t nb)
{
	return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (nb - 1);
}

static int lk_hash_init(struct lk_hash *h)
{
	h->b = calloc(LK_HASH_MIN, sizeof(*h->b));
	h->nb = LK_HASH_MIN;
	h->n = 0;
	return h->b ? 0 : -ENOMEM;
}

static struct lk_hnode *lk_hash_find(const struct lk_hash *h, uint64_t key)
{
	struct lk_hnode *n = h->b[lk_slot(key, h->nb)];

	while (n && n->key != key)
		n = n->next;
	return n;
}

/* Doubles the buckets; on no memory keeps the old ones (longer chains). */
static void lk_hash_grow(struct lk_hash *h)
{
	size_t nb = h->nb * 2;
	struct lk_hnode **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < h->nb; i++) {
		while (h->b[i]) {
			struct lk_hnode *n = h->b[i];
			size_t s = lk_slot(n->key, nb);

			h->b[i] = n->next;
			n->next = b[s];
			b[s] = n;
		}
	}
	free(h->b);
	h->b = b;
	h->nb = nb;
}

static void lk_hash_add(struct lk_hash *h, struct lk_hnode *n)
{
	size_t s;

	if (h->n >= h->nb * 2)
		lk_hash_grow(h);
	s = lk_slot(n->key, h->nb);
	n->next = h->b[s];
	h->b[s] = n;
	h->n++;
}

static void lk_hash_del(struct lk_hash *h, struct lk_hnode *n)
{
	struct lk_hnode **p = &h->b[lk_slot(n->key, h->nb)];

	while (*p != n)
		p = &(*p)->next;
	*p = n->next;
	h->n--;
}

/* ---- the table ---- */

struct lk_session {
	struct lk_hnode h; /* key: the session id */
	int64_t seen_ms;
	struct lk_link locks;	/* struct lk_lock.s_link */
	struct lk_link waiters; /* struct lk_waiter.s_link */
	uint32_t nlocks;
	uint32_t nwaiters;
};

struct lk_inode {
	struct lk_hnode h;	 /* key: ino */
	struct lk_link locks[2]; /* by enum mds_lock_kind: struct lk_lock.i_link */
	struct lk_link waiters;	 /* FIFO: struct lk_waiter.i_link */
};

struct lk_lock {
	struct lk_link i_link;
	struct lk_link s_link;
	struct lk_inode *in;
	struct lk_session *s;
	uint64_t owner;
	uint64_t start;
	uint64_t end;
	uint32_t pid;
	uint8_t kind;
	uint8_t type;
};

struct lk_waiter {
	struct mds_lock_woken w; /* first: handed out as is */
	struct lk_link i_link;
	struct lk_link s_link;
	struct lk_inode *in;
	struct lk_session *s;
	struct mds_lock_req q; /* q.ctx unused: w.ctx */
};

struct mds_locks {
	struct mds_locks_limits lim;
	struct lk_hash inodes;
	struct lk_hash sessions;
	size_t nlocks;
	size_t nwaiters;
};

#define lk_lock_of_i(l) lk_container_of(l, struct lk_lock, i_link)
#define lk_lock_of_s(l) lk_container_of(l, struct lk_lock, s_link)
#define lk_waiter_of_i(l) lk_container_of(l, struct lk_waiter, i_link)
#define lk_waiter_of_s(l) lk_container_of(l, struct lk_waiter, s_link)

struct mds_locks *mds_locks_new(const struct mds_locks_limits *lim)
{
	struct mds_locks *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->lim = *lim;
	if (lk_hash_init(&t->inodes) || lk_hash_init(&t->sessions)) {
		free(t->inodes.b);
		free(t->sessions.b);
		free(t);
		return NULL;
	}
	return t;
}

void mds_locks_woken_free(struct mds_lock_woken *list)
{
	while (list) {
		struct mds_lock_woken *next = list->next;

		free(list); /* the struct lk_waiter it starts */
		list = next;
	}
}

/* ---- sessions and inodes ---- */

static struct lk_session *lk_session_find(const struct mds_locks *t, uint64_t id)
{
	struct lk_hnode *n = lk_hash_find(&t->sessions, id);

	return n ? lk_container_of(n, struct lk_session, h) : NULL;
}

static struct lk_session *lk_session_get(struct mds_locks *t, uint64_t id, int64_t now_ms,
					 bool *created)
{
	struct lk_session *s = lk_session_find(t, id);

	*created = false;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		s->h.key = id;
		lk_list_init(&s->locks);
		lk_list_init(&s->waiters);
		lk_hash_add(&t->sessions, &s->h);
		*created = true;
	}
	s->seen_ms = now_ms;
	return s;
}

static struct lk_inode *lk_inode_find(const struct mds_locks *t, uint64_t ino)
{
	struct lk_hnode *n = lk_hash_find(&t->inodes, ino);

	return n ? lk_container_of(n, struct lk_inode, h) : NULL;
}

static struct lk_inode *lk_inode_get(struct mds_locks *t, uint64_t ino)
{
	struct lk_inode *in = lk_inode_find(t, ino);

	if (in)
		return in;
	in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->h.key = ino;
	lk_list_init(&in->locks[MDS_LOCK_POSIX]);
	lk_list_init(&in->locks[MDS_LOCK_FLOCK]);
	lk_list_init(&in->waiters);
	lk_hash_add(&t->inodes, &in->h);
	return in;
}

/* Frees in once it holds nothing. */
static void lk_inode_put(struct mds_locks *t, struct lk_inode *in)
{
	if (!in || !lk_list_empty(&in->locks[MDS_LOCK_POSIX]) ||
	    !lk_list_empty(&in->locks[MDS_LOCK_FLOCK]) || !lk_list_empty(&in->waiters))
		return;
	lk_hash_del(&t->inodes, &in->h);
	free(in);
}

/* ---- locks ---- */

static bool lk_same_owner(const struct lk_lock *l, uint64_t session, uint64_t owner)
{
	return l->s->h.key == session && l->owner == owner;
}

static bool lk_overlap(uint64_t s1, uint64_t e1, uint64_t s2, uint64_t e2)
{
	return s1 <= e2 && s2 <= e1;
}

/* Overlapping or touching (ends are at most MDS_LOCK_EOF: no overflow). */
static bool lk_touch(uint64_t s1, uint64_t e1, uint64_t s2, uint64_t e2)
{
	return lk_overlap(s1, e1, s2, e2) || e1 + 1 == s2 || e2 + 1 == s1;
}

static bool lk_conflicts(const struct lk_lock *l, const struct mds_lock_req *q)
{
	if (lk_same_owner(l, q->session, q->owner))
		return false;
	if (l->type != MDS_LOCK_WR && q->type != MDS_LOCK_WR)
		return false;
	return lk_overlap(l->start, l->end, q->start, q->end);
}

/* The conflicting lock of the lowest start, or NULL. */
static struct lk_lock *lk_first_conflict(const struct lk_inode *in, const struct mds_lock_req *q)
{
	const struct lk_link *h = &in->locks[q->kind];
	struct lk_lock *best = NULL;

	for (struct lk_link *p = h->next; p != h; p = p->next) {
		struct lk_lock *l = lk_lock_of_i(p);

		if (lk_conflicts(l, q) && (!best || l->start < best->start))
			best = l;
	}
	return best;
}

static void lk_lock_link(struct mds_locks *t, struct lk_inode *in, struct lk_session *s,
			 struct lk_lock *l)
{
	l->in = in;
	l->s = s;
	lk_list_add_tail(&in->locks[l->kind], &l->i_link);
	lk_list_add_tail(&s->locks, &l->s_link);
	s->nlocks++;
	t->nlocks++;
}

static void lk_lock_del(struct mds_locks *t, struct lk_lock *l)
{
	lk_list_del(&l->i_link);
	lk_list_del(&l->s_link);
	l->s->nlocks--;
	t->nlocks--;
	free(l);
}

/*
 * How the owner's lock count changes if POSIX request q is applied, and
 * whether one of its locks must be split (needs a second allocation).
 */
static int lk_posix_delta(const struct lk_inode *in, const struct mds_lock_req *q, bool *split)
{
	const struct lk_link *h = &in->locks[MDS_LOCK_POSIX];
	int delta = q->type == MDS_LOCK_UN ? 0 : 1;

	*split = false;
	for (struct lk_link *p = h->next; p != h; p = p->next) {
		struct lk_lock *l = lk_lock_of_i(p);

		if (!lk_same_owner(l, q->session, q->owner))
			continue;
		if (q->type == l->type) {
			if (lk_touch(l->start, l->end, q->start, q->end))
				delta--; /* merged into the new lock */
		} else if (!lk_overlap(l->start, l->end, q->start, q->end)) {
			continue;
		} else if (l->start < q->start && l->end > q->end) {
			delta++;
			*split = true;
		} else if (l->start >= q->start && l->end <= q->end) {
			delta--;
		}
	}
	return delta;
}

/*
 * Applies POSIX request q (checked by lk_posix_delta) with the structs in
 * spare: spare[0] for the new lock (not for F_UNLCK), spare[1] for the
 * right half of a split.  Takes the ones it uses (sets them to NULL).
 */
static void lk_posix_apply(struct mds_locks *t, struct lk_inode *in, struct lk_session *s,
			   const struct mds_lock_req *q, struct lk_lock *spare[2])
{
	struct lk_link *h = &in->locks[MDS_LOCK_POSIX];
	uint64_t start = q->start, end = q->end;

	for (struct lk_link *p = h->next, *next; p != h; p = next) {
		struct lk_lock *l = lk_lock_of_i(p), *r;

		next = p->next;
		if (!lk_same_owner(l, q->session, q->owner))
			continue;
		if (q->type == l->type) {
			if (!lk_touch(l->start, l->end, q->start, q->end))
				continue;
			start = l->start < start ? l->start : start;
			end = l->end > end ? l->end : end;
			lk_lock_del(t, l);
		} else if (!lk_overlap(l->start, l->end, q->start, q->end)) {
			continue;
		} else if (l->start < q->start && l->end > q->end) {
			r = spare[1];
			spare[1] = NULL;
			*r = *l;
			r->start = q->end + 1;
			l->end = q->start - 1;
			lk_lock_link(t, in, s, r);
		} else if (l->start >= q->start && l->end <= q->end) {
			lk_lock_del(t, l);
		} else if (l->start < q->start) {
			l->end = q->start - 1;
		} else {
			l->start = q->end + 1;
		}
	}
	if (q->type == MDS_LOCK_UN)
		return;
	*spare[0] = (struct lk_lock){.owner = q->owner,
				     .start = start,
				     .end = end,
				     .pid = q->pid,
				     .kind = MDS_LOCK_POSIX,
				     .type = q->type};
	lk_lock_link(t, in, s, spare[0]);
	spare[0] = NULL;
}

static struct lk_lock *lk_flock_own(const struct lk_inode *in, uint64_t session, uint64_t owner)
{
	const struct lk_link *h = &in->locks[MDS_LOCK_FLOCK];

	for (struct lk_link *p = h->next; p != h; p = p->next)
		if (lk_same_owner(lk_lock_of_i(p), session, owner))
			return lk_lock_of_i(p);
	return NULL;
}

static bool lk_over_limit(const struct mds_locks *t, const struct lk_session *s, int delta)
{
	if (delta <= 0)
		return false;
	return t->nlocks + (size_t)delta > t->lim.locks ||
	       s->nlocks + (uint64_t)delta > t->lim.session_locks;
}

/*
 * Gives q (which conflicts with nobody) its lock, or releases its range.
 * Returns 0, -ENOLCK (a limit) or -ENOMEM; nothing changed on an error.
 */
static int lk_grant(struct mds_locks *t, struct lk_inode *in, struct lk_session *s,
		    const struct mds_lock_req *q)
{
	struct lk_lock *spare[2] = {NULL, NULL}, *old;
	bool split = false;
	int delta;

	if (q->kind == MDS_LOCK_FLOCK) {
		old = lk_flock_own(in, q->session, q->owner);
		if (old && q->type != MDS_LOCK_UN) {
			old->type = q->type;
			old->pid = q->pid;
		} else if (old) {
			lk_lock_del(t, old);
		} else if (q->type != MDS_LOCK_UN) {
			if (lk_over_limit(t, s, 1))
				return -ENOLCK;
			old = calloc(1, sizeof(*old));
			if (!old)
				return -ENOMEM;
			*old = (struct lk_lock){.owner = q->owner,
						.end = MDS_LOCK_EOF,
						.pid = q->pid,
						.kind = MDS_LOCK_FLOCK,
						.type = q->type};
			lk_lock_link(t, in, s, old);
		}
		return 0;
	}
	delta = lk_posix_delta(in, q, &split);
	if (lk_over_limit(t, s, delta))
		return -ENOLCK;
	if (q->type != MDS_LOCK_UN)
		spare[0] = malloc(sizeof(*spare[0]));
	if (split)
		spare[1] = malloc(sizeof(*spare[1]));
	if ((q->type != MDS_LOCK_UN && !spare[0]) || (split && !spare[1])) {
		free(spare[0]);
		free(spare[1]);
		return -ENOMEM;
	}
	lk_posix_apply(t, in, s, q, spare);
	return 0;
}

/* ---- waiters ---- */

/* Takes w out of the table and appends it to out with status. */
static void lk_waiter_out(struct mds_locks *t, struct lk_waiter *w, int status,
			  struct mds_lock_wakeups *out)
{
	lk_list_del(&w->i_link);
	lk_list_del(&w->s_link);
	w->s->nwaiters--;
	t->nwaiters--;
	w->w.status = status;
	w->w.next = NULL;
	*out->tail = &w->w;
	out->tail = &w->w.next;
}

/*
 * Grants, in queue order, every waiter of in that no longer conflicts,
 * until a pass grants nothing more (a grant that converts its owner's
 * lock may free room for a waiter looked at before).
 */
static void lk_wake(struct mds_locks *t, struct lk_inode *in, struct mds_lock_wakeups *out)
{
	bool progress = true;

	while (progress) {
		progress = false;
		for (struct lk_link *p = in->waiters.next, *next; p != &in->waiters; p = next) {
			struct lk_waiter *w = lk_waiter_of_i(p);
			int rc;

			next = p->next;
			if (lk_first_conflict(in, &w->q))
				continue;
			rc = lk_grant(t, in, w->s, &w->q);
			lk_waiter_out(t, w, rc, out);
			progress = progress || rc == 0;
		}
	}
}

static struct lk_waiter *lk_waiter_find(const struct lk_session *s, uint64_t wait_id)
{
	for (struct lk_link *p = s->waiters.next; p != &s->waiters; p = p->next)
		if (lk_waiter_of_s(p)->q.wait_id == wait_id)
			return lk_waiter_of_s(p);
	return NULL;
}

/* A POSIX waiter of (session, owner), or NULL. */
static struct lk_waiter *lk_waiter_of_owner(const struct lk_session *s, uint64_t owner)
{
	for (struct lk_link *p = s->waiters.next; p != &s->waiters; p = p->next) {
		struct lk_waiter *w = lk_waiter_of_s(p);

		if (w->q.owner == owner && w->q.kind == MDS_LOCK_POSIX)
			return w;
	}
	return NULL;
}

/*
 * Whether q, blocked by lock b, would close a cycle: b's owner waits for
 * a lock whose owner waits ... for a lock of q's owner.
 */
static bool lk_deadlock(const struct mds_lock_req *q, const struct lk_lock *b)
{
	for (int i = 0; i < MDS_LOCKS_DEADLOCK_DEPTH; i++) {
		struct lk_waiter *w = lk_waiter_of_owner(b->s, b->owner);

		if (!w)
			return false;
		b = lk_first_conflict(w->in, &w->q);
		if (!b)
			return false;
		if (lk_same_owner(b, q->session, q->owner))
			return true;
	}
	return false;
}

/* ---- requests ---- */

static bool lk_req_valid(const struct mds_lock_req *q)
{
	if (q->session == 0 || q->start > q->end || q->end > MDS_LOCK_EOF)
		return false;
	if (q->type < MDS_LOCK_RD || q->type > MDS_LOCK_UN)
		return false;
	if (q->kind == MDS_LOCK_FLOCK)
		return q->start == 0 && q->end == MDS_LOCK_EOF;
	return q->kind == MDS_LOCK_POSIX;
}

int mds_locks_get(struct mds_locks *t, const struct mds_lock_req *q, struct mds_lock_info *out)
{
	struct lk_inode *in;
	struct lk_lock *l;

	if (!lk_req_valid(q) || q->kind != MDS_LOCK_POSIX || q->type == MDS_LOCK_UN)
		return -EINVAL;
	in = lk_inode_find(t, q->ino);
	l = in ? lk_first_conflict(in, q) : NULL;
	if (!l)
		return 0;
	*out = (struct mds_lock_info){.session = l->s->h.key,
				      .owner = l->owner,
				      .start = l->start,
				      .end = l->end,
				      .pid = l->pid,
				      .kind = l->kind,
				      .type = l->type};
	return 1;
}

/*
 * q->wait with a wait id the session already has queued: q takes the
 * waiter's place in the queue, and the replaced ctx leaves with -EALREADY.
 */
static int lk_requeue(struct mds_locks *t, struct lk_waiter *w, const struct mds_lock_req *q,
		      struct mds_lock_wakeups *out)
{
	struct lk_waiter *old;

	if (w->q.ino != q->ino || w->q.kind != q->kind || w->q.owner != q->owner)
		return -EINVAL;
	old = malloc(sizeof(*old));
	if (!old)
		return -ENOMEM;
	*old = *w;
	old->w.status = -EALREADY;
	old->w.next = NULL;
	*out->tail = &old->w;
	out->tail = &old->w.next;
	w->q = *q;
	w->q.ctx = NULL;
	w->w.ctx = q->ctx;
	/* A changed request may conflict with nobody now. */
	lk_wake(t, w->in, out);
	return MDS_LOCKS_QUEUED;
}

static int lk_enqueue(struct mds_locks *t, struct lk_inode *in, struct lk_session *s,
		      const struct mds_lock_req *q)
{
	struct lk_waiter *w;

	if (s->nwaiters >= t->lim.session_waiters)
		return -ENOLCK;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->q = *q;
	w->q.ctx = NULL;
	w->w.ctx = q->ctx;
	w->in = in;
	w->s = s;
	lk_list_add_tail(&in->waiters, &w->i_link);
	lk_list_add_tail(&s->waiters, &w->s_link);
	s->nwaiters++;
	t->nwaiters++;
	return MDS_LOCKS_QUEUED;
}

/* mds_locks_set() once the session and the inode exist. */
static int lk_set(struct mds_locks *t, struct lk_inode *in, struct lk_session *s,
		  const struct mds_lock_req *q, struct mds_lock_wakeups *out)
{
	struct lk_lock *b;
	int rc;

	if (q->kind == MDS_LOCK_FLOCK) {
		struct lk_lock *old = lk_flock_own(in, q->session, q->owner);

		if (old && old->type == q->type)
			return 0;
		if (old) {
			/* Linux: a conversion first drops the old lock. */
			lk_lock_del(t, old);
			lk_wake(t, in, out);
		}
		if (q->type == MDS_LOCK_UN)
			return 0;
	}
	b = q->type == MDS_LOCK_UN ? NULL : lk_first_conflict(in, q);
	if (b && !q->wait)
		return -EAGAIN;
	if (b && q->kind == MDS_LOCK_POSIX && lk_deadlock(q, b))
		return -EDEADLK;
	if (b)
		return lk_enqueue(t, in, s, q);
	rc = lk_grant(t, in, s, q);
	if (!rc)
		lk_wake(t, in, out);
	return rc;
}

int mds_locks_set(struct mds_locks *t, const struct mds_lock_req *q, int64_t now_ms,
		  struct mds_lock_wakeups *w)
{
	struct lk_session *s;
	struct lk_inode *in;
	struct lk_waiter *old;
	bool created;
	int rc;

	if (!lk_req_valid(q) || (q->wait && (q->wait_id == 0 || q->type == MDS_LOCK_UN)))
		return -EINVAL;
	s = lk_session_get(t, q->session, now_ms, &created);
	if (!s)
		return -ENOMEM;
	old = q->wait ? lk_waiter_find(s, q->wait_id) : NULL;
	if (old)
		return lk_requeue(t, old, q, w);
	if (q->type == MDS_LOCK_UN && !lk_inode_find(t, q->ino))
		return 0;
	in = lk_inode_get(t, q->ino);
	if (!in)
		return -ENOMEM;
	rc = lk_set(t, in, s, q, w);
	lk_inode_put(t, in);
	return rc;
}

int mds_locks_cancel(struct mds_locks *t, uint64_t session, uint64_t wait_id,
		     struct mds_lock_wakeups *w)
{
	struct lk_session *s = lk_session_find(t, session);
	struct lk_waiter *wt = s ? lk_waiter_find(s, wait_id) : NULL;
	struct lk_inode *in;

	if (!wt)
		return -ENOENT;
	in = wt->in;
	lk_waiter_out(t, wt, -EINTR, w);
	lk_inode_put(t, in);
	return 0;
}

/* Releases the locks of (session, owner; any owner if !one) on in. */
static size_t lk_release(struct mds_locks *t, struct lk_inode *in, uint64_t session, uint64_t owner,
			 bool one)
{
	size_t n = 0;

	for (int k = MDS_LOCK_POSIX; k <= MDS_LOCK_FLOCK; k++) {
		struct lk_link *h = &in->locks[k];

		for (struct lk_link *p = h->next, *next; p != h; p = next) {
			struct lk_lock *l = lk_lock_of_i(p);

			next = p->next;
			if (l->s->h.key != session || (one && l->owner != owner))
				continue;
			lk_lock_del(t, l);
			n++;
		}
	}
	return n;
}

size_t mds_locks_release_owner(struct mds_locks *t, uint64_t ino, uint64_t session, uint64_t owner,
			       struct mds_lock_wakeups *w)
{
	struct lk_inode *in = lk_inode_find(t, ino);
	size_t n;

	if (!in)
		return 0;
	for (struct lk_link *p = in->waiters.next, *next; p != &in->waiters; p = next) {
		struct lk_waiter *wt = lk_waiter_of_i(p);

		next = p->next;
		if (wt->q.session == session && wt->q.owner == owner)
			lk_waiter_out(t, wt, -EBADF, w);
	}
	n = lk_release(t, in, session, owner, true);
	lk_wake(t, in, w);
	lk_inode_put(t, in);
	return n;
}

/* ---- sessions ---- */

int mds_locks_touch(struct mds_locks *t, uint64_t session, int64_t now_ms)
{
	bool created;

	if (!lk_session_get(t, session, now_ms, &created))
		return -ENOMEM;
	return created ? 1 : 0;
}

bool mds_locks_session_info(const struct mds_locks *t, uint64_t session, uint32_t *locks,
			    uint32_t *waiters)
{
	const struct lk_session *s = lk_session_find(t, session);

	*locks = s ? s->nlocks : 0;
	*waiters = s ? s->nwaiters : 0;
	return s != NULL;
}

static size_t lk_session_drop(struct mds_locks *t, struct lk_session *s, struct mds_lock_wakeups *w)
{
	size_t n = 0;

	while (!lk_list_empty(&s->waiters)) {
		struct lk_waiter *wt = lk_waiter_of_s(s->waiters.next);
		struct lk_inode *in = wt->in;

		lk_waiter_out(t, wt, -ENOLCK, w);
		lk_inode_put(t, in);
	}
	while (!lk_list_empty(&s->locks)) {
		struct lk_inode *in = lk_lock_of_s(s->locks.next)->in;

		n += lk_release(t, in, s->h.key, 0, false);
		lk_wake(t, in, w);
		lk_inode_put(t, in);
	}
	lk_hash_del(&t->sessions, &s->h);
	free(s);
	return n;
}

size_t mds_locks_session_end(struct mds_locks *t, uint64_t session, struct mds_lock_wakeups *w)
{
	struct lk_session *s = lk_session_find(t, session);

	return s ? lk_session_drop(t, s, w) : 0;
}

size_t mds_locks_expire(struct mds_locks *t, int64_t now_ms, int64_t lease_ms, size_t *locks,
			struct mds_lock_wakeups *w)
{
	size_t ended = 0, released = 0;

	for (size_t i = 0; i < t->sessions.nb; i++) {
		struct lk_hnode *n = t->sessions.b[i], *next;

		for (; n; n = next) {
			struct lk_session *s = lk_container_of(n, struct lk_session, h);

			next = n->next;
			if (now_ms - s->seen_ms <= lease_ms)
				continue;
			released += lk_session_drop(t, s, w);
			ended++;
		}
	}
	if (locks)
		*locks = released;
	return ended;
}

void mds_locks_drain(struct mds_locks *t, int status, struct mds_lock_wakeups *w)
{
	for (size_t i = 0; i < t->sessions.nb; i++) {
		for (struct lk_hnode *n = t->sessions.b[i]; n; n = n->next) {
			struct lk_session *s = lk_container_of(n, struct lk_session, h);

			while (!lk_list_empty(&s->waiters)) {
				struct lk_waiter *wt = lk_waiter_of_s(s->waiters.next);
				struct lk_inode *in = wt->in;

				lk_waiter_out(t, wt, status, w);
				lk_inode_put(t, in);
			}
		}
	}
}

void mds_locks_free(struct mds_locks *t)
{
	struct mds_lock_wakeups w;

	if (!t)
		return;
	mds_lock_wakeups_init(&w);
	while (t->sessions.n) {
		for (size_t i = 0; i < t->sessions.nb; i++)
			if (t->sessions.b[i])
				lk_session_drop(
				    t, lk_container_of(t->sessions.b[i], struct lk_session, h), &w);
	}
	mds_locks_woken_free(w.head);
	free(t->inodes.b);
	free(t->sessions.b);
	free(t);
}

void mds_locks_stats(const struct mds_locks *t, struct mds_locks_stats *out)
{
	out->sessions = t->sessions.n;
	out->inodes = t->inodes.n;
	out->locks = t->nlocks;
	out->waiters = t->nwaiters;
}

static int lk_info_cmp(const void *a, const void *b)
{
	const struct mds_lock_info *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->session != y->session)
		return x->session < y->session ? -1 : 1;
	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	return 0;
}

size_t mds_locks_list(const struct mds_locks *t, uint64_t ino, uint8_t kind,
		      struct mds_lock_info *out, size_t cap)
{
	const struct lk_inode *in = lk_inode_find(t, ino);
	size_t n = 0;

	if (!in || kind > MDS_LOCK_FLOCK)
		return 0;
	for (struct lk_link *p = in->locks[kind].next; p != &in->locks[kind]; p = p->next) {
		const struct lk_lock *l = lk_lock_of_i(p);

		if (n < cap)
			out[n] = (struct mds_lock_info){.session = l->s->h.key,
							.owner = l->owner,
							.start = l->start,
							.end = l->end,
							.pid = l->pid,
							.kind = l->kind,
							.type = l->type};
		n++;
	}
	qsort(out, n < cap ? n : cap, sizeof(*out), lk_info_cmp);
	return n;
}
