/*
 * cluster_run.c - see cluster_run.h.
 */
#include "cluster_run.h"

#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int cluster_run_cmd(char *const argv[], char *out, size_t len)
{
	int fd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(fd))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		close(fd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	while (got + 1 < len && (n = read(fd[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	while (got && out[got - 1] == '\n')
		out[--got] = '\0';
	close(fd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int cluster_run_rmtree(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/* Set before the cluster starts, read by the signal handler. */
static const char *guard_script;
static char guard_dir[PATH_MAX];
static char guard_file[PATH_MAX];

/* Async-signal-safe: fork, execv, waitpid. */
static void run_wait(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void on_signal(int sig)
{
	char *down[] = {"/bin/bash", (char *)guard_script, "down", "--dir", guard_dir, NULL};
	char *rm[] = {"/bin/rm", "-rf", "--", guard_dir, NULL};

	if (guard_file[0])
		unlink(guard_file);
	if (guard_dir[0]) {
		run_wait(down);
		run_wait(rm);
	}
	_exit(128 + sig);
}

void cluster_run_guard_signals(const char *script)
{
	struct sigaction sa = {.sa_handler = on_signal};

	guard_script = script;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void cluster_run_guard_dir(const char *dir)
{
	snprintf(guard_dir, sizeof(guard_dir), "%s", dir ? dir : "");
}

void cluster_run_guard_file(const char *path)
{
	snprintf(guard_file, sizeof(guard_file), "%s", path ? path : "");
}
