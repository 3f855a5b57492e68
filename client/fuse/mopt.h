/*
 * mopt.h - cairn-fuse and mount.cairn: mount options.
 *
 * `-o a,b=c` lists are split here: the options cairn-fuse understands
 * itself (timeouts, threads, splice, direct_io) are taken out, the options
 * only mount(8) uses (rw, defaults, auto, _netdev, x-*, ...) and the access
 * time flags libfuse does not know (relatime, nodiratime, ...: the kernel
 * does not update access times on FUSE mounts anyway) are dropped, and the
 * rest (allow_other, default_permissions, ro, nosuid, ...) are kept for
 * libfuse.  Also the name-or-path argument of mount.cairn.
 *
 * Pure functions on caller-owned memory; any thread.
 */
#ifndef CAIRN_CLIENT_FUSE_MOPT_H
#define CAIRN_CLIENT_FUSE_MOPT_H

#include <stdbool.h>
#include <stddef.h>

#define MOPT_LEN 4096		 /* bytes of the options kept for libfuse */
#define MOPT_TIMEOUT_MAX 86400.0 /* seconds */
#define MOPT_THREADS_MAX 1024

/* What the options of one command line say. */
struct mopt {
	double entry_timeout; /* seconds; < 0: cairn.conf's client.entry_timeout_ms */
	double attr_timeout;  /* seconds; < 0: cairn.conf's client.attr_timeout_ms */
	unsigned max_threads; /* FUSE worker threads */
	bool splice;	      /* splice transfers with the kernel (default on) */
	bool direct_io;	      /* bypass the page cache (default off; no mmap then) */
	char fuse[MOPT_LEN];  /* "opt,opt=val" for libfuse, maybe empty */
};

/* The defaults: timeouts from cairn.conf, 32 threads, splice on. */
void mopt_init(struct mopt *m);

/*
 * Adds one comma-separated list (empty items are skipped).  Returns 0, or
 * -EINVAL (a bad value of one of our options; err names it) or -E2BIG (the
 * libfuse options do not fit in MOPT_LEN).
 */
int mopt_parse(struct mopt *m, const char *list, char *err, size_t errlen);

/* True for an option only mount(8) acts on (rw, defaults, noauto, _netdev, x-*, ...). */
bool mopt_mount_only(const char *opt, size_t len);

/* True for an option that cairn-fuse or libfuse accepts. */
bool mopt_known(const char *opt, size_t len);

/*
 * Copies list without the mount(8)-only options and, when sloppy, without
 * unknown ones, into out.  Returns 0, or -E2BIG when out is too small.
 */
int mopt_filter(const char *list, bool sloppy, char *out, size_t outlen);

/*
 * The configuration mount.cairn means by arg: arg itself when it contains
 * a '/', else confdir/arg.conf for a name of [A-Za-z0-9._-] (not starting
 * with '.').  Returns 0, -EINVAL (a bad name) or -ENAMETOOLONG.
 */
int mopt_conf_path(const char *arg, const char *confdir, char *out, size_t outlen);

#endif
