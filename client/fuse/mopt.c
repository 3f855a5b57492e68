/*
 * mopt.c - mount options of cairn-fuse and mount.cairn (see mopt.h).
 */
#include "client/fuse/mopt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MOPT_THREADS_DEFAULT 64 /* blocked lock requests each hold one */

void mopt_init(struct mopt *m)
{
	memset(m, 0, sizeof(*m));
	m->entry_timeout = -1;
	m->attr_timeout = -1;
	m->max_threads = MOPT_THREADS_DEFAULT;
	m->splice = true;
}

/* Does the item opt[0..len) name key (a flag) or start with "key="? */
static bool is(const char *opt, size_t len, const char *key)
{
	size_t k = strlen(key);

	if (k && key[k - 1] == '=')
		return len >= k && memcmp(opt, key, k) == 0;
	return len == k && memcmp(opt, key, k) == 0;
}

static bool is_any(const char *opt, size_t len, const char *const *keys)
{
	for (; *keys; keys++)
		if (is(opt, len, *keys))
			return true;
	return false;
}

bool mopt_mount_only(const char *opt, size_t len)
{
	static const char *const keys[] = {
	    "rw",    "defaults", "auto",    "noauto", "user",	  "users", "nouser",
	    "owner", "group",	 "_netdev", "nofail", "comment=", NULL,
	};

	if (len >= 2 && strncasecmp(opt, "x-", 2) == 0)
		return true;
	return is_any(opt, len, keys);
}

/*
 * Access-time flags libfuse 3.14 does not know.  The kernel never updates
 * access times on a FUSE mount by itself, so they change nothing: dropped.
 */
static bool is_atime_flag(const char *opt, size_t len)
{
	static const char *const keys[] = {
	    "diratime",	     "nodiratime", "relatime",	 "norelatime", "strictatime",
	    "nostrictatime", "lazytime",   "nolazytime", NULL,
	};

	return is_any(opt, len, keys);
}

/* Ours: consumed by cairn-fuse. */
static bool is_ours(const char *opt, size_t len)
{
	static const char *const keys[] = {
	    "entry_timeout=", "attr_timeout=", "max_threads=", "splice",
	    "no_splice",      "direct_io",     NULL,
	};

	return is_any(opt, len, keys);
}

bool mopt_known(const char *opt, size_t len)
{
	/* What libfuse 3.14 takes as mount or session options. */
	static const char *const keys[] = {
	    "allow_other",  "allow_root",   "default_permissions",
	    "ro",	    "suid",	    "nosuid",
	    "dev",	    "nodev",	    "exec",
	    "noexec",	    "async",	    "sync",
	    "dirsync",	    "atime",	    "noatime",
	    "fsname=",	    "subtype=",	    "max_read=",
	    "blksize=",	    "context=",	    "fscontext=",
	    "defcontext=",  "rootcontext=", "debug",
	    "auto_unmount", NULL,
	};

	return is_ours(opt, len) || mopt_mount_only(opt, len) || is_atime_flag(opt, len) ||
	       is_any(opt, len, keys);
}

/* Parses seconds (decimal, fraction allowed) in [0, MOPT_TIMEOUT_MAX]. */
static int parse_seconds(const char *s, size_t len, double *out)
{
	char buf[64], *end;
	double v;

	if (len == 0 || len >= sizeof(buf) || !strchr("0123456789.", s[0]))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	v = strtod(buf, &end);
	if (*end || !isfinite(v) || v < 0 || v > MOPT_TIMEOUT_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_threads(const char *s, size_t len, unsigned *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 4)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > MOPT_THREADS_MAX)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* Takes one of our options.  Returns 0 or -EINVAL with err set. */
static int take_ours(struct mopt *m, const char *opt, size_t len, char *err, size_t errlen)
{
	const char *eq = memchr(opt, '=', len);
	const char *val = eq ? eq + 1 : opt + len;
	size_t vlen = (size_t)(opt + len - val);
	const char *expected = "expected seconds 0..86400 (e.g. 1 or 0.5)";
	int rc = 0;

	if (is(opt, len, "entry_timeout=")) {
		rc = parse_seconds(val, vlen, &m->entry_timeout);
	} else if (is(opt, len, "attr_timeout=")) {
		rc = parse_seconds(val, vlen, &m->attr_timeout);
	} else if (is(opt, len, "max_threads=")) {
		rc = parse_threads(val, vlen, &m->max_threads);
		expected = "expected a thread count 1..1024";
	} else if (is(opt, len, "splice") || is(opt, len, "no_splice")) {
		m->splice = is(opt, len, "splice");
	} else if (is(opt, len, "direct_io")) {
		m->direct_io = true;
	}
	if (rc && err)
		snprintf(err, errlen, "bad option '%.*s': %s", (int)len, opt, expected);
	return rc;
}

/* Appends item to out (comma-separated).  Returns 0 or -E2BIG. */
static int append(char *out, size_t outlen, const char *item, size_t len)
{
	size_t used = strlen(out);
	size_t need = used + (used ? 1 : 0) + len + 1;

	if (need > outlen)
		return -E2BIG;
	if (used)
		out[used++] = ',';
	memcpy(out + used, item, len);
	out[used + len] = '\0';
	return 0;
}

int mopt_parse(struct mopt *m, const char *list, char *err, size_t errlen)
{
	const char *p = list, *end;
	size_t len;
	int rc = 0;

	while (rc == 0 && *p) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0)
			; /* ",," */
		else if (is_ours(p, len))
			rc = take_ours(m, p, len, err, errlen);
		else if (!mopt_mount_only(p, len) && !is_atime_flag(p, len))
			rc = append(m->fuse, sizeof(m->fuse), p, len);
		if (rc == -E2BIG && err)
			snprintf(err, errlen, "too many options (more than %d bytes)",
				 MOPT_LEN - 1);
		p += len + (end ? 1 : 0);
	}
	return rc;
}

int mopt_filter(const char *list, bool sloppy, char *out, size_t outlen)
{
	const char *p = list, *end;
	size_t len;
	int rc = 0;

	if (outlen == 0)
		return -E2BIG;
	out[0] = '\0';
	while (rc == 0 && *p) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len && !mopt_mount_only(p, len) && (!sloppy || mopt_known(p, len)))
			rc = append(out, outlen, p, len);
		p += len + (end ? 1 : 0);
	}
	return rc;
}

int mopt_conf_path(const char *arg, const char *confdir, char *out, size_t outlen)
{
	static const char ok[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	int n;

	if (!arg || !*arg)
		return -EINVAL;
	if (strchr(arg, '/'))
		n = snprintf(out, outlen, "%s", arg);
	else if (arg[0] == '.' || strspn(arg, ok) != strlen(arg))
		return -EINVAL;
	else
		n = snprintf(out, outlen, "%s/%s.conf", confdir, arg);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}
