/*
 * ctl_args.c - cairnctl's command-line grammar (see ctl_args.h).
 *
 * Two passes: the first sorts argv into global options, verb options (with
 * their values) and words; the second reads the verb from the words and
 * checks the options it allows.  No I/O, no state: callable from tests.
 */
#include "tools/ctl_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cairn_admin.h"
#include "common/cfg.h"

const char ctl_usage[] =
    "usage: cairnctl [-c FILE] [--json] [-t SECONDS] VERB [ARGS]\n"
    "\n"
    "verbs:\n"
    "  status                       shards, map epoch, OSDs, pools\n"
    "  osd ls                       the OSDs of the cluster map\n"
    "  osd out ID | osd in ID       stop or resume placing data on an OSD\n"
    "  pool ls                      the pools\n"
    "  pool create NAME --scheme ec:K+M|rep:R [--chunk-size SIZE]\n"
    "              [--media hdd|ssd|nvme] [--pg-count N] [--compression zstd|none]\n"
    "  fsck [--repair] [--no-progress]\n"
    "                               check (and repair) the namespace of every shard\n"
    "  keygen FILE                  write a new cluster key (mode 0600)\n"
    "\n"
    "options:\n"
    "  -c, --conf FILE      configuration (default $CAIRN_CONF, else /etc/cairn/cairn.conf)\n"
    "      --json           machine-readable output\n"
    "  -t, --timeout SECS   per-request timeout (default: rpc.timeout_ms of the file)\n"
    "  -h, --help           this text\n"
    "  -V, --version        the version\n";

enum opt_id {
	OPT_CONF,
	OPT_JSON,
	OPT_TIMEOUT,
	OPT_HELP,
	OPT_VERSION,
	OPT_SCHEME,
	OPT_CHUNK,
	OPT_MEDIA,
	OPT_PGS,
	OPT_COMPRESSION,
	OPT_REPAIR,
	OPT_NO_PROGRESS,
	OPT_COUNT,
};

struct opt_def {
	const char *lng;
	char shrt;
	bool has_arg;
};

static const struct opt_def opts[OPT_COUNT] = {
    [OPT_CONF] = {"conf", 'c', true},	     [OPT_JSON] = {"json", 0, false},
    [OPT_TIMEOUT] = {"timeout", 't', true},  [OPT_HELP] = {"help", 'h', false},
    [OPT_VERSION] = {"version", 'V', false}, [OPT_SCHEME] = {"scheme", 0, true},
    [OPT_CHUNK] = {"chunk-size", 0, true},   [OPT_MEDIA] = {"media", 0, true},
    [OPT_PGS] = {"pg-count", 0, true},	     [OPT_COMPRESSION] = {"compression", 0, true},
    [OPT_REPAIR] = {"repair", 0, false},     [OPT_NO_PROGRESS] = {"no-progress", 0, false},
};

#define WORDS_MAX 8

/* argv sorted by the first pass. */
struct sorted {
	const char *val[OPT_COUNT]; /* value of each option given ("" if none) */
	const char *words[WORDS_MAX];
	int nwords;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct sorted *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (s->err && s->errlen)
		vsnprintf(s->err, s->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Which option arg names; *inline_val is the part after '=' if any. */
static int find_opt(const char *arg, const char **inline_val)
{
	size_t n;

	*inline_val = NULL;
	if (arg[1] != '-') {
		for (int i = 0; i < OPT_COUNT; i++)
			if (opts[i].shrt && arg[1] == opts[i].shrt && arg[2] == '\0')
				return i;
		return -1;
	}
	arg += 2;
	n = strcspn(arg, "=");
	for (int i = 0; i < OPT_COUNT; i++) {
		if (strlen(opts[i].lng) == n && strncmp(arg, opts[i].lng, n) == 0) {
			if (arg[n] == '=')
				*inline_val = arg + n + 1;
			return i;
		}
	}
	return -1;
}

static int sort_args(int argc, char *const argv[], struct sorted *s)
{
	bool words_only = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int id;

		if (words_only || a[0] != '-' || a[1] == '\0') {
			if (s->nwords == WORDS_MAX)
				return fail(s, "too many arguments");
			s->words[s->nwords++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			words_only = true;
			continue;
		}
		id = find_opt(a, &v);
		if (id < 0)
			return fail(s, "unknown option '%s'", a);
		if (!opts[id].has_arg && v)
			return fail(s, "option '--%s' takes no value", opts[id].lng);
		if (opts[id].has_arg && !v) {
			if (i + 1 >= argc)
				return fail(s, "option '%s' needs a value", a);
			v = argv[++i];
		}
		s->val[id] = v ? v : "";
	}
	return 0;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int pool_scheme(struct sorted *s, struct ctl_pool_args *p)
{
	struct cfg_scheme sc;
	const char *v = s->val[OPT_SCHEME];

	if (!v)
		return fail(s, "pool create: --scheme ec:K+M or rep:R is required");
	if (cfg_parse_scheme(v, &sc))
		return fail(s,
			    "pool create: bad scheme '%s' (ec:K+M with K 1..32 and M 1..16, "
			    "or rep:R with R 1..8)",
			    v);
	if (sc.kind == CFG_SCHEME_EC) {
		p->scheme = CAIRN_SCHEME_EC;
		p->k = (uint8_t)sc.k;
		p->m = (uint8_t)sc.m;
	} else {
		p->scheme = CAIRN_SCHEME_REP;
		p->k = 1;
		p->m = (uint8_t)(sc.replicas - 1);
	}
	return 0;
}

static int pool_options(struct sorted *s, struct ctl_pool_args *p)
{
	uint64_t size;
	const char *v;

	v = s->val[OPT_CHUNK];
	if (v) {
		if (cfg_parse_size(v, &size) || size < 4096 || size > (64u << 20) ||
		    (size & (size - 1)))
			return fail(s,
				    "pool create: bad chunk size '%s' (a power of two, "
				    "4K..64M)",
				    v);
		p->chunk_size = (uint32_t)size;
	}
	v = s->val[OPT_MEDIA];
	if (v && cairn_media_parse(v, &p->media))
		return fail(s, "pool create: bad media '%s' (hdd, ssd or nvme)", v);
	v = s->val[OPT_PGS];
	if (v && parse_u32(v, 1, 65536, &p->pg_count))
		return fail(s, "pool create: bad pg count '%s' (1..65536)", v);
	v = s->val[OPT_COMPRESSION];
	if (v && strcmp(v, "zstd") == 0)
		p->compression = CAIRN_COMPRESS_ZSTD;
	else if (v && strcmp(v, "none") != 0)
		return fail(s, "pool create: bad compression '%s' (zstd or none)", v);
	return 0;
}

static bool pool_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > CAIRN_POOL_NAME_MAX)
		return false;
	return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       len;
}

static int parse_pool_create(struct sorted *s, struct ctl_cmd *cmd)
{
	struct ctl_pool_args *p = &cmd->pool;
	int rc;

	if (s->nwords != 3)
		return fail(s, "pool create: expected one pool NAME");
	p->name = s->words[2];
	if (!pool_name_ok(p->name))
		return fail(s, "pool create: bad name '%s' (1..63 of A-Z a-z 0-9 . _ -)", p->name);
	p->chunk_size = CTL_POOL_CHUNK_DEFAULT;
	p->media = CAIRN_MEDIA_NVME;
	p->pg_count = CTL_POOL_PG_DEFAULT;
	p->compression = CAIRN_COMPRESS_NONE;
	rc = pool_scheme(s, p);
	return rc ? rc : pool_options(s, p);
}

static int parse_osd(struct sorted *s, struct ctl_cmd *cmd)
{
	const char *sub = s->nwords > 1 ? s->words[1] : "";

	if (strcmp(sub, "ls") == 0 && s->nwords == 2) {
		cmd->verb = CTL_OSD_LS;
		return 0;
	}
	if (strcmp(sub, "out") != 0 && strcmp(sub, "in") != 0)
		return fail(s, "osd: expected 'ls', 'out ID' or 'in ID'");
	cmd->verb = strcmp(sub, "out") == 0 ? CTL_OSD_OUT : CTL_OSD_IN;
	if (s->nwords != 3 || parse_u32(s->words[2], 0, UINT32_MAX, &cmd->osd_id))
		return fail(s, "osd %s: expected one numeric OSD id", sub);
	return 0;
}

static int parse_pool(struct sorted *s, struct ctl_cmd *cmd)
{
	const char *sub = s->nwords > 1 ? s->words[1] : "";

	if (strcmp(sub, "ls") == 0 && s->nwords == 2) {
		cmd->verb = CTL_POOL_LS;
		return 0;
	}
	if (strcmp(sub, "create") == 0) {
		cmd->verb = CTL_POOL_CREATE;
		return parse_pool_create(s, cmd);
	}
	return fail(s, "pool: expected 'ls' or 'create NAME --scheme ...'");
}

/* Single-word verbs and the ones of later releases. */
static int parse_simple(struct sorted *s, struct ctl_cmd *cmd, const char *verb)
{
	static const char *const later[] = {"quota", "tier", "warmup", "scrub"};

	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
		if (strcmp(verb, later[i]) == 0) {
			cmd->verb = CTL_LATER;
			cmd->later = later[i];
			return 0;
		}
	}
	if (strcmp(verb, "status") == 0)
		cmd->verb = CTL_STATUS;
	else if (strcmp(verb, "fsck") == 0)
		cmd->verb = CTL_FSCK;
	else if (strcmp(verb, "keygen") == 0)
		cmd->verb = CTL_KEYGEN;
	else if (strcmp(verb, "help") == 0)
		cmd->verb = CTL_HELP;
	else
		return fail(s, "unknown verb '%s'", verb);
	if (cmd->verb == CTL_KEYGEN) {
		if (s->nwords != 2)
			return fail(s, "keygen: expected one FILE");
		cmd->keyfile = s->words[1];
	} else if (s->nwords != 1) {
		return fail(s, "%s: unexpected argument '%s'", verb, s->words[1]);
	}
	return 0;
}

/* Verb options given to a verb that does not take them. */
static int check_verb_opts(struct sorted *s, const struct ctl_cmd *cmd)
{
	for (int i = OPT_SCHEME; i < OPT_COUNT; i++) {
		bool ok = (cmd->verb == CTL_POOL_CREATE && i <= OPT_COMPRESSION) ||
			  (cmd->verb == CTL_FSCK && i >= OPT_REPAIR);

		if (s->val[i] && !ok)
			return fail(s, "option '--%s' does not apply to this verb", opts[i].lng);
	}
	return 0;
}

static int parse_globals(struct sorted *s, struct ctl_cmd *cmd)
{
	uint32_t secs;

	cmd->conf = s->val[OPT_CONF];
	if (cmd->conf && !*cmd->conf)
		return fail(s, "option '--conf' needs a file name");
	cmd->json = s->val[OPT_JSON] != NULL;
	if (s->val[OPT_TIMEOUT]) {
		if (parse_u32(s->val[OPT_TIMEOUT], 1, 3600, &secs))
			return fail(s, "bad timeout '%s' (whole seconds, 1..3600)",
				    s->val[OPT_TIMEOUT]);
		cmd->timeout_ms = (int)secs * 1000;
	}
	return 0;
}

int ctl_parse(int argc, char *const argv[], struct ctl_cmd *cmd, char *err, size_t errlen)
{
	struct sorted s = {.err = err, .errlen = errlen};
	int rc;

	memset(cmd, 0, sizeof(*cmd));
	rc = sort_args(argc, argv, &s);
	if (!rc)
		rc = parse_globals(&s, cmd);
	if (rc)
		return rc;
	if (s.val[OPT_HELP]) {
		cmd->verb = CTL_HELP;
		return 0;
	}
	if (s.val[OPT_VERSION]) {
		cmd->verb = CTL_VERSION;
		return 0;
	}
	if (s.nwords == 0)
		return fail(&s, "no verb given");
	if (strcmp(s.words[0], "osd") == 0)
		rc = parse_osd(&s, cmd);
	else if (strcmp(s.words[0], "pool") == 0)
		rc = parse_pool(&s, cmd);
	else
		rc = parse_simple(&s, cmd, s.words[0]);
	if (!rc && cmd->verb != CTL_LATER)
		rc = check_verb_opts(&s, cmd);
	if (!rc) {
		cmd->repair = s.val[OPT_REPAIR] != NULL;
		cmd->no_progress = s.val[OPT_NO_PROGRESS] != NULL;
	}
	return rc;
}
