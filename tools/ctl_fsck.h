/*
 * ctl_fsck.h - `cairnctl fsck`: runs the namespace check of client/fsck.h
 * over every shard of an open cluster, shows its progress on a terminal,
 * and prints the problems and the summary as a table or JSON.
 *
 * Runs on the caller's thread.
 */
#ifndef CAIRN_TOOLS_CTL_FSCK_H
#define CAIRN_TOOLS_CTL_FSCK_H

#include <stdbool.h>

struct cairn;

/*
 * Returns the exit code: 0 clean, 1 problems found (or left after repair),
 * 2 the check could not complete (the reason is printed on stderr).
 * progress: draw a progress line on stderr if it is a terminal.
 */
int ctl_fsck(struct cairn *c, bool repair, bool progress, bool json);

#endif
