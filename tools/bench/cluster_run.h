/*
 * cluster_run.h - what the benchmarks that start their own local cluster
 * with tools/cairn-cluster share: running the script, removing the
 * cluster's directory, and stopping the cluster if the benchmark is
 * interrupted.  Single-threaded use from main(); the signal handler only
 * reads state set before the cluster starts.
 */
#ifndef CAIRN_BENCH_CLUSTER_RUN_H
#define CAIRN_BENCH_CLUSTER_RUN_H

#include <stddef.h>

/*
 * Runs argv (NULL-terminated, argv[0] a path), capturing up to len - 1
 * bytes of its standard output in out without the final newlines.
 * Returns its exit status, or -1 if it could not run.
 */
int cluster_run_cmd(char *const argv[], char *out, size_t len);

/* Removes dir and everything below it; 0 or -1. */
int cluster_run_rmtree(const char *dir);

/*
 * On SIGINT, SIGTERM or SIGHUP: unlink the guarded file if any, run
 * `script down --dir DIR` and remove DIR for the guarded directory if any,
 * then exit with 128 + signal.
 */
void cluster_run_guard_signals(const char *script);
/* Sets (or with NULL clears) the directory and the file the guard cleans. */
void cluster_run_guard_dir(const char *dir);
void cluster_run_guard_file(const char *path);

#endif
