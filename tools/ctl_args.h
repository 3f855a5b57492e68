/*
 * ctl_args.h - cairnctl's command line, parsed into a struct ctl_cmd.
 *
 * Kept apart from cairnctl.c so the grammar is tested on its own
 * (tests/unit/tools/test_ctl_args.c): the parser does no I/O and keeps no
 * state; strings in the result point into argv.
 *
 *   cairnctl [-c FILE] [--json] [-t SECONDS] VERB [ARGS]
 *     status
 *     osd ls | osd out ID | osd in ID
 *     pool ls
 *     pool create NAME --scheme ec:K+M|rep:R [--chunk-size SIZE]
 *                      [--media hdd|ssd|nvme] [--pg-count N]
 *                      [--compression zstd|none]
 *     fsck [--repair] [--no-progress]
 *     keygen FILE
 *   Verbs of later releases (quota, tier, warmup, scrub) are recognised.
 * Global options may also follow the verb; "--opt=value" equals "--opt value".
 */
#ifndef CAIRN_TOOLS_CTL_ARGS_H
#define CAIRN_TOOLS_CTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ctl_verb {
	CTL_HELP = 0, /* -h, --help, or "help" */
	CTL_VERSION,
	CTL_STATUS,
	CTL_OSD_LS,
	CTL_OSD_OUT,
	CTL_OSD_IN,
	CTL_POOL_LS,
	CTL_POOL_CREATE,
	CTL_FSCK,
	CTL_KEYGEN,
	CTL_LATER, /* a verb of a later release: cmd->later names it */
};

struct ctl_pool_args {
	const char *name;
	int scheme; /* enum cairn_scheme */
	uint8_t k;
	uint8_t m;
	uint32_t chunk_size;
	int media;	 /* enum cairn_media */
	int compression; /* enum cairn_compress */
	uint32_t pg_count;
};

struct ctl_cmd {
	enum ctl_verb verb;
	const char *conf; /* -c: NULL for the default */
	bool json;
	int timeout_ms; /* -t: 0 for the configuration's */
	uint32_t osd_id;
	bool repair;	  /* fsck */
	bool no_progress; /* fsck */
	const char *keyfile;
	const char *later;
	struct ctl_pool_args pool;
};

/* Defaults of pool create. */
#define CTL_POOL_CHUNK_DEFAULT (1u << 20)
#define CTL_POOL_PG_DEFAULT 128u

/*
 * Parses argv[1..argc).  Returns 0 and *cmd, or -EINVAL with a one-line
 * reason in err (no program name, no newline).
 */
int ctl_parse(int argc, char *const argv[], struct ctl_cmd *cmd, char *err, size_t errlen);

/* The usage text. */
extern const char ctl_usage[];

#endif
