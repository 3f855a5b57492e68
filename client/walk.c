/*
 * walk.c - path resolution over lookup/readlink callbacks (see walk.h).
 *
 * The path is copied into a work buffer; a symlink met on the way replaces
 * the components consumed so far by its target, so the rest of the path
 * follows the target, and the walk goes on from the start of the buffer.
 * Pure: the state lives on the caller's stack.
 */
#include "client/walk.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

struct walk {
	const struct walk_ops *ops;
	void *arg;
	uint64_t root;
	unsigned flags;
	char buf[WALK_PATH_MAX + 1]; /* the path still to walk, from pos */
	size_t len;
	size_t pos;
	uint64_t cur; /* the directory reached so far */
	uint32_t mode;
	bool looked_up;
	int links;
};

static size_t skip_slashes(const struct walk *w, size_t pos)
{
	while (pos < w->len && w->buf[pos] == '/')
		pos++;
	return pos;
}

/*
 * Replaces buf[0..end) by the target of symlink ino: the walk continues
 * with the target followed by the rest of the path.
 */
static int expand(struct walk *w, uint64_t ino, size_t end)
{
	char tmp[WALK_PATH_MAX + 1];
	size_t tlen = 0, rest = w->len - end;
	int rc;

	if (++w->links > WALK_SYMLINK_MAX)
		return -ELOOP;
	rc = w->ops->readlink(w->arg, ino, tmp, sizeof(tmp), &tlen);
	if (rc == -ERANGE)
		return -ENAMETOOLONG;
	if (rc)
		return rc;
	if (tlen == 0)
		return -ENOENT;
	if (tlen + rest > WALK_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(tmp + tlen, w->buf + end, rest);
	memcpy(w->buf, tmp, tlen + rest);
	w->len = tlen + rest;
	w->buf[w->len] = '\0';
	w->pos = 0;
	if (w->buf[0] == '/') {
		w->cur = w->root;
		w->mode = S_IFDIR;
		w->looked_up = false;
	}
	return 0;
}

/*
 * One component at w->pos.  Returns 0 to go on, 1 when the walk is over
 * (WALK_PARENT reached the last name, copied into out), or -errno.
 */
static int step(struct walk *w, struct walk_result *out)
{
	size_t end = w->pos, clen;
	uint32_t mode;
	uint64_t ino;
	bool last;
	int rc;

	while (end < w->len && w->buf[end] != '/')
		end++;
	clen = end - w->pos;
	if (clen > WALK_NAME_MAX)
		return -ENAMETOOLONG;
	last = skip_slashes(w, end) == w->len;
	memcpy(out->name, w->buf + w->pos, clen);
	out->name[clen] = '\0';
	if (last && (w->flags & WALK_PARENT))
		return 1;
	rc = w->ops->lookup(w->arg, w->cur, out->name, &ino, &mode);
	if (rc)
		return rc;
	if (S_ISLNK(mode) && (!last || (w->flags & WALK_FOLLOW) || end < w->len))
		return expand(w, ino, end);
	if (!last && !S_ISDIR(mode))
		return -ENOTDIR;
	w->cur = ino;
	w->mode = mode;
	w->looked_up = true;
	w->pos = end;
	return 0;
}

int walk_path(const struct walk_ops *ops, void *arg, uint64_t root, const char *path,
	      unsigned flags, struct walk_result *out)
{
	struct walk w = {
	    .ops = ops, .arg = arg, .root = root, .flags = flags, .cur = root, .mode = S_IFDIR};
	int rc = 0;

	if (!ops || !path || !out || (flags & ~(unsigned)(WALK_FOLLOW | WALK_PARENT)))
		return -EINVAL;
	w.len = strnlen(path, WALK_PATH_MAX + 1);
	if (w.len == 0)
		return -ENOENT;
	if (w.len > WALK_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(w.buf, path, w.len);
	w.buf[w.len] = '\0';
	out->name[0] = '\0';
	for (;;) {
		w.pos = skip_slashes(&w, w.pos);
		if (w.pos == w.len) {
			out->name[0] = '\0';
			break;
		}
		rc = step(&w, out);
		if (rc)
			break;
	}
	if (rc < 0)
		return rc;
	out->ino = w.cur;
	out->mode = w.mode;
	out->looked_up = w.looked_up;
	out->trailing = w.buf[w.len - 1] == '/';
	if (out->trailing && !(flags & WALK_PARENT) && !S_ISDIR(w.mode))
		return -ENOTDIR;
	return 0;
}
