/*
 * mds_test.h - helpers shared by the mds test programs: a scratch
 * directory for a real RocksDB database, removed afterwards.
 */
#ifndef CAIRN_TESTS_MDS_TEST_H
#define CAIRN_TESTS_MDS_TEST_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int mt_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes a directory tree; returns 0 or -1. */
static inline int mt_rmtree(const char *path)
{
	return nftw(path, mt_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new empty directory (free() the result after mt_rmtree), or NULL. */
static inline char *mt_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (!base || !*base)
		base = "/tmp";
	path = malloc(strlen(base) + 32);
	if (!path)
		return NULL;
	sprintf(path, "%s/cairn-mds-XXXXXX", base);
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

#endif
