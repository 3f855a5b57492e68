/*
 * cfg.c - see cfg.h.  The only file that includes <libconfig.h>: it turns
 * libconfig's tree and CONFIG_TRUE/CONFIG_FALSE into struct cfg and -errno.
 *
 * cfg_load() reads the whole file into memory and pre-scans it for what
 * libconfig 1.5 would get silently wrong (an integer literal beyond 32 bits
 * without an L suffix wraps around) or what the schema forbids (@include:
 * cairn.conf is one file).  libconfig then parses the text, and the schema
 * tables below drive one walk over the tree: every member of a group must be
 * a known field of the right type and range, every required field must be
 * present.  Checks that relate two settings come last.  The result is built
 * in a heap copy and copied to the caller only when everything passed.
 *
 * Adding a setting: a member in cfg.h, one row in a table below (name,
 * member, default, what is valid), an entry in man/cairn.conf.5 and a line in
 * tools/cairn.conf.example.
 *
 * No global state; every call works on its own buffers.
 */
#include "common/cfg.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"

#define KIB 1024ull
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define TIB (1024 * GIB)

#define CFG_FILE_MAX (1u << 20) /* larger files are refused */
#define BODY_HEADROOM (64 * KIB) /* room for a message body next to a chunk */
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
#define MEDIA_CHARS "abcdefghijklmnopqrstuvwxyz0123456789"

enum kind {
	K_U32,	  /* integer in [min, max], stored as uint32_t */
	K_SIZE,	  /* integer or size string in [min, max], stored as uint64_t */
	K_BOOL,	  /* boolean, stored as bool */
	K_STRING, /* string converted by parse() */
	K_ENUM,	  /* string among names[], stored as an int (its index) */
	K_PATH,	  /* string resolved against the file's directory, char[PATH_MAX] */
	K_GROUP,  /* group whose members are sub's fields, same base */
	K_LIST,	  /* list of min..max groups, each a sub->elem_size element */
};

struct ctx {
	const char *file;    /* as given to cfg_load, for messages */
	char dir[PATH_MAX];  /* absolute directory of the file */
	char *err;	     /* caller's message buffer, may be NULL */
	size_t errlen;
};

/* ---- messages ---------------------------------------------------------- */

/* Writes "FILE[:LINE]: text" as one line; returns -CAIRN_ECONFIG. */
static __attribute__((format(printf, 3, 4))) int fail_at(struct ctx *c, unsigned line,
							  const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || c->errlen == 0)
		return -CAIRN_ECONFIG;
	if (line)
		n = snprintf(c->err, c->errlen, "%s:%u: ", c->file, line);
	else
		n = snprintf(c->err, c->errlen, "%s: ", c->file);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	for (char *p = c->err; *p; p++) /* values may hold "\n" escapes */
		if (iscntrl((unsigned char)*p))
			*p = '?';
	return -CAIRN_ECONFIG;
}

static unsigned line_of(const config_setting_t *s)
{
	return s ? config_setting_source_line(s) : 0;
}

/* A bound or value for messages: sizes as "64MiB" when exact, else digits. */
static const char *fmt_size(uint64_t v, char buf[32], int kind)
{
	static const char *const units[] = {"TiB", "GiB", "MiB", "KiB"};
	static const uint64_t muls[] = {TIB, GIB, MIB, KIB};

	for (unsigned i = 0; v && kind == K_SIZE && i < 4; i++) {
		if (v % muls[i] == 0) {
			snprintf(buf, 32, "%llu%s", (unsigned long long)(v / muls[i]), units[i]);
			return buf;
		}
	}
	snprintf(buf, 32, "%llu", (unsigned long long)v);
	return buf;
}

static const char *type_name(const config_setting_t *s)
{
	static const char *const names[] = {
		[CONFIG_TYPE_GROUP] = "a group",    [CONFIG_TYPE_INT] = "an integer",
		[CONFIG_TYPE_INT64] = "an integer", [CONFIG_TYPE_FLOAT] = "a float",
		[CONFIG_TYPE_STRING] = "a string",  [CONFIG_TYPE_BOOL] = "a boolean",
		[CONFIG_TYPE_ARRAY] = "an array",   [CONFIG_TYPE_LIST] = "a list",
	};
	unsigned t = (unsigned)config_setting_type(s);

	return t < sizeof(names) / sizeof(names[0]) && names[t] ? names[t] : "a value";
}

static int wrong_type(struct ctx *c, const config_setting_t *s, const char *path,
		      const char *want)
{
	return fail_at(c, line_of(s), "setting '%s': expected %s, got %s", path, want,
		       type_name(s));
}

static bool is_int(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	       config_setting_type(s) == CONFIG_TYPE_INT64;
}

/* ---- value parsers ----------------------------------------------------- */

/* Decimal digits at s (at least one) up to max; *end is set after them. */
static int parse_digits(const char *s, const char **end, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*end = p;
	*out = v;
	return 0;
}

int cfg_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mul;
	} units[] = {
		{"", 1},	{"K", KIB},   {"KiB", KIB}, {"M", MIB}, {"MiB", MIB},
		{"G", GIB},	{"GiB", GIB}, {"T", TIB},   {"TiB", TIB},
	};
	const char *end;
	uint64_t v;
	int rc;

	rc = parse_digits(s, &end, UINT64_MAX, &v);
	if (rc)
		return rc;
	for (unsigned i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mul)
			return -ERANGE;
		*out = v * units[i].mul;
		return 0;
	}
	return -EINVAL;
}

static bool host_ok(const char *h, bool bracketed)
{
	struct in6_addr a6;
	struct in_addr a4;
	char ip[INET6_ADDRSTRLEN];
	const char *zone;
	size_t n;

	if (!bracketed) {
		if (!*h || strspn(h, NAME_CHARS ".") != strlen(h))
			return false;
		/* all digits and dots: must be an IPv4 address */
		return strspn(h, "0123456789.") != strlen(h) || inet_pton(AF_INET, h, &a4) == 1;
	}
	zone = strchr(h, '%');
	n = zone ? (size_t)(zone - h) : strlen(h);
	if (n == 0 || n >= sizeof(ip))
		return false;
	if (zone && (!zone[1] || strspn(zone + 1, NAME_CHARS ".") != strlen(zone + 1)))
		return false;
	memcpy(ip, h, n);
	ip[n] = '\0';
	return inet_pton(AF_INET6, ip, &a6) == 1;
}

int cfg_parse_addr(const char *s, struct cfg_addr *out)
{
	const char *host = s, *colon, *end;
	char buf[CFG_HOST_MAX];
	bool bracketed = s[0] == '[';
	uint64_t port;
	size_t hlen;

	if (bracketed) {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		host = s + 1;
		colon = close + 1;
		hlen = (size_t)(close - host);
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, host, hlen);
	buf[hlen] = '\0';
	if (!host_ok(buf, bracketed))
		return -EINVAL;
	if (parse_digits(colon + 1, &end, 65535, &port) || *end || port == 0)
		return -EINVAL;
	memcpy(out->host, buf, hlen + 1);
	out->port = (uint16_t)port;
	return 0;
}

/* "N" with N in lo..hi, ending at *end. */
static int parse_count(const char *s, const char **end, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v;
	int rc = parse_digits(s, end, UINT32_MAX, &v);

	if (rc)
		return rc;
	if (v < lo || v > hi)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int cfg_parse_scheme(const char *s, struct cfg_scheme *out)
{
	struct cfg_scheme sc = {0};
	const char *p;
	int rc;

	if (strncmp(s, "ec:", 3) == 0) {
		sc.kind = CFG_SCHEME_EC;
		rc = parse_count(s + 3, &p, 1, 32, &sc.k);
		if (!rc && *p != '+')
			rc = -EINVAL;
		if (!rc)
			rc = parse_count(p + 1, &p, 1, 16, &sc.m);
	} else if (strncmp(s, "rep:", 4) == 0) {
		sc.kind = CFG_SCHEME_REP;
		rc = parse_count(s + 4, &p, 1, 8, &sc.replicas);
	} else {
		return -EINVAL;
	}
	if (!rc && *p)
		rc = -EINVAL;
	if (rc)
		return rc;
	*out = sc;
	return 0;
}

/*
 * Parsers of string settings for the tables: each checks s and stores it at
 * dst, a member of the given size.  0 or -EINVAL/-ERANGE.
 */
static int parse_charset(const char *s, void *dst, size_t size, const char *set)
{
	size_t n = strlen(s);

	if (n == 0 || n >= size || strspn(s, set) != n)
		return -EINVAL;
	memcpy(dst, s, n + 1);
	return 0;
}

static int parse_name(const char *s, void *dst, size_t size)
{
	return parse_charset(s, dst, size, NAME_CHARS);
}

static int parse_media(const char *s, void *dst, size_t size)
{
	return parse_charset(s, dst, size, MEDIA_CHARS);
}

static int parse_level(const char *s, void *dst, size_t size)
{
	assert(size == sizeof(enum log_level));
	return log_level_parse(s, dst);
}

static int parse_addr_field(const char *s, void *dst, size_t size)
{
	assert(size == sizeof(struct cfg_addr));
	return cfg_parse_addr(s, dst);
}

static int parse_scheme_field(const char *s, void *dst, size_t size)
{
	assert(size == sizeof(struct cfg_scheme));
	return cfg_parse_scheme(s, dst);
}

/* ---- schema ------------------------------------------------------------ */


#define F_REQUIRED 0x1 /* an error when absent */
#define F_POW2 0x2     /* K_SIZE: a power of two */
#define F_EMPTY_OK 0x4 /* K_PATH: "" allowed, kept as "" */

struct schema;

struct field {
	const char *name;
	enum kind kind;
	unsigned flags;
	size_t off;  /* of the value from the base (struct cfg or a list element) */
	size_t size; /* of the value, checked against the kind */
	uint64_t min, max;
	uint64_t def;		  /* K_U32, K_SIZE, K_BOOL, K_ENUM: default */
	const char *def_str;	  /* K_STRING: default, or NULL for "" */
	int (*parse)(const char *s, void *dst, size_t size); /* K_STRING */
	const char *expect; /* K_STRING: what parse() accepts, for messages */
	const char *const *names; /* K_ENUM: the choices, NULL-terminated */
	const struct schema *sub; /* K_GROUP, K_LIST */
	size_t count_off;	  /* K_LIST: uint32_t element count */
};

struct schema {
	const struct field *fields;
	unsigned count;
	size_t elem_size; /* list elements only */
};

/* Table rows: setting name, struct and member, default, then what is valid. */
#define AT(T, m) .off = offsetof(T, m), .size = sizeof(((T *)0)->m)
#define U32(n, T, m, d, lo, hi) {n, K_U32, AT(T, m), .def = d, .min = lo, .max = hi}
#define SIZE(n, T, m, d, lo, hi, ...)                                                              \
	{n, K_SIZE, AT(T, m), .def = d, .min = lo, .max = hi, __VA_ARGS__}
#define BOOL(n, T, m, d) {n, K_BOOL, AT(T, m), .def = d}
#define STR(n, T, m, d, fn, what, ...)                                                             \
	{n, K_STRING, AT(T, m), .def_str = d, .parse = fn, .expect = what, __VA_ARGS__}
#define ENUM(n, T, m, d, ...)                                                                      \
	{n, K_ENUM, AT(T, m), .def = d, .names = (const char *const[]){__VA_ARGS__, NULL}}
#define PATH(n, T, m, ...) {n, K_PATH, AT(T, m), __VA_ARGS__}
#define SCHEMA(f, elem_size) {f, sizeof(f) / sizeof((f)[0]), elem_size}

#define NAME_EXPECT "1 to 63 characters of A-Z a-z 0-9 _ -"
#define MS_MAX 3600000 /* one hour */
#define C struct cfg

static const struct field cluster_fields[] = {
	STR("name", C, cluster.name, "cairn", parse_name, NAME_EXPECT),
	PATH("key_file", C, cluster.key_file, .flags = F_REQUIRED),
	ENUM("transport", C, cluster.transport, CFG_TRANSPORT_AUTO, "auto", "tcp", "rdma"),
};

static const struct field log_fields[] = {
	STR("level", C, log.level, "info", parse_level, "one of error, warn, info, debug"),
	BOOL("syslog", C, log.syslog, false),
};

static const struct field rpc_fields[] = {
	SIZE("max_frame", C, rpc.max_frame, 64 * MIB, 64 * KIB, 1 * GIB), /* PROTO_FRAME_MAX */
	U32("max_inflight", C, rpc.max_inflight, 256, 1, 65536),
	U32("timeout_ms", C, rpc.timeout_ms, 30000, 1, MS_MAX),
	U32("connect_timeout_ms", C, rpc.connect_timeout_ms, 5000, 1, MS_MAX),
	U32("reconnect_min_ms", C, rpc.reconnect_min_ms, 50, 1, MS_MAX),
	U32("reconnect_max_ms", C, rpc.reconnect_max_ms, 5000, 1, MS_MAX),
	SIZE("socket_buffer", C, rpc.socket_buffer, 4 * MIB, 64 * KIB, 256 * MIB),
	U32("io_threads", C, rpc.io_threads, 2, 1, 64),
};

static const struct field shard_fields[] = {
	STR("address", struct cfg_shard, addr, NULL, parse_addr_field,
	    "host:port or [IPv6]:port with a port in 1..65535", .flags = F_REQUIRED),
	PATH("data", struct cfg_shard, data, .flags = F_REQUIRED),
};

static const struct schema shard_schema = SCHEMA(shard_fields, sizeof(struct cfg_shard));

static const struct field mds_fields[] = {
	{"shards", K_LIST, F_REQUIRED, AT(C, mds.shards), .min = 1, .max = CFG_MAX_SHARDS,
	 .sub = &shard_schema, .count_off = offsetof(C, mds.shard_count)},
	U32("workers", C, mds.workers, 4, 1, 256),
	SIZE("block_cache", C, mds.block_cache, 64 * MIB, 1 * MIB, 64 * GIB),
	U32("heartbeat_ms", C, mds.heartbeat_ms, 1000, 10, 60000),
	U32("osd_down_ms", C, mds.osd_down_ms, 5000, 20, MS_MAX),
};

static const struct field osd_fields[] = {
	BOOL("direct_io", C, osd.direct_io, false),
	SIZE("scrub_rate", C, osd.scrub_rate, 32 * MIB, 0, 1 * TIB),
	U32("workers", C, osd.workers, 2, 1, 256),
};

static const struct field client_fields[] = {
	SIZE("cache_size", C, client.cache_size, 1 * GIB, 1 * MIB, 16 * TIB),
	U32("entry_timeout_ms", C, client.entry_timeout_ms, 1000, 0, 86400000),
	U32("attr_timeout_ms", C, client.attr_timeout_ms, 1000, 0, 86400000),
	SIZE("readahead_max", C, client.readahead_max, 64 * MIB, 0, 1 * GIB),
	PATH("cache_dir", C, client.cache_dir, .flags = F_EMPTY_OK),
};

#undef C
#define P struct cfg_pool

static const struct field pool_fields[] = {
	STR("name", P, name, NULL, parse_name, NAME_EXPECT, .flags = F_REQUIRED),
	STR("scheme", P, scheme, NULL, parse_scheme_field,
	    "ec:K+M (K 1..32, M 1..16) or rep:R (R 1..8)", .flags = F_REQUIRED),
	SIZE("chunk_size", P, chunk_size, 1 * MIB, 4 * KIB, 64 * MIB, .flags = F_POW2),
	STR("media", P, media, "nvme", parse_media, "1 to 15 characters of a-z 0-9"),
	U32("pg_count", P, pg_count, 128, 1, 65536),
	ENUM("compression", P, compression, CFG_COMPRESSION_NONE, "none", "zstd"),
};

#undef P

static const struct schema cluster_schema = SCHEMA(cluster_fields, 0);
static const struct schema log_schema = SCHEMA(log_fields, 0);
static const struct schema rpc_schema = SCHEMA(rpc_fields, 0);
static const struct schema mds_schema = SCHEMA(mds_fields, 0);
static const struct schema osd_schema = SCHEMA(osd_fields, 0);
static const struct schema client_schema = SCHEMA(client_fields, 0);
static const struct schema pool_schema = SCHEMA(pool_fields, sizeof(struct cfg_pool));

static const struct field root_fields[] = {
	{"cluster", K_GROUP, .sub = &cluster_schema},
	{"log", K_GROUP, .sub = &log_schema},
	{"rpc", K_GROUP, .sub = &rpc_schema},
	{"mds", K_GROUP, .sub = &mds_schema},
	{"osd", K_GROUP, .sub = &osd_schema},
	{"client", K_GROUP, .sub = &client_schema},
	{"pools", K_LIST, AT(struct cfg, pools), .min = 0, .max = CFG_MAX_POOLS,
	 .sub = &pool_schema, .count_off = offsetof(struct cfg, pool_count)},
};

static const struct schema root_schema = SCHEMA(root_fields, 0);

/* Writes the defaults of sch's fields at base; paths and lists start empty. */
static void set_defaults(const struct schema *sch, char *base)
{
	for (unsigned i = 0; i < sch->count; i++) {
		const struct field *f = &sch->fields[i];
		void *dst = base + f->off;

		if (f->kind == K_U32)
			*(uint32_t *)dst = (uint32_t)f->def;
		else if (f->kind == K_SIZE)
			*(uint64_t *)dst = f->def;
		else if (f->kind == K_BOOL)
			*(bool *)dst = f->def != 0;
		else if (f->kind == K_ENUM)
			*(int *)dst = (int)f->def;
		else if (f->kind == K_STRING && f->def_str && f->parse(f->def_str, dst, f->size))
			assert(0 && "invalid default in the schema");
		else if (f->kind == K_GROUP)
			set_defaults(f->sub, base);
	}
}

/* ---- loading one setting per kind -------------------------------------- */

/* K_U32 (an integer) or K_SIZE (an integer or a size string), in range. */
static int load_number(struct ctx *c, const config_setting_t *s, const struct field *f,
		       void *dst, const char *path)
{
	char lo[32], hi[32], got[32];
	long long i = 0;
	uint64_t v = 0;

	if (config_setting_type(s) == CONFIG_TYPE_STRING && f->kind == K_SIZE) {
		int rc = cfg_parse_size(config_setting_get_string(s), &v);

		if (rc)
			return fail_at(c, line_of(s),
				       "setting '%s': %s size \"%s\" (expected bytes, or a number "
				       "with suffix K, M, G, T, KiB, MiB, GiB or TiB)",
				       path, rc == -ERANGE ? "too large a" : "invalid",
				       config_setting_get_string(s));
	} else if (is_int(s)) {
		i = config_setting_get_int64(s);
		v = i < 0 ? 0 : (uint64_t)i;
	} else {
		return wrong_type(c, s, path,
				  f->kind == K_SIZE ? "an integer or a size string" : "an integer");
	}
	if (i < 0 || v < f->min || v > f->max) {
		if (i < 0 || f->kind == K_U32)
			snprintf(got, sizeof(got), "%lld", i < 0 ? i : (long long)v);
		return fail_at(c, line_of(s), "setting '%s': must be between %s and %s (got %s)",
			       path, fmt_size(f->min, lo, f->kind), fmt_size(f->max, hi, f->kind),
			       (i < 0 || f->kind == K_U32) ? got : fmt_size(v, got, K_SIZE));
	}
	if ((f->flags & F_POW2) && (v & (v - 1)))
		return fail_at(c, line_of(s), "setting '%s': must be a power of two (got %s)",
			       path, fmt_size(v, got, K_SIZE));
	if (f->kind == K_U32)
		*(uint32_t *)dst = (uint32_t)v;
	else
		*(uint64_t *)dst = v;
	return 0;
}

static int load_string(struct ctx *c, const config_setting_t *s, const struct field *f,
		       void *dst, const char *path)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return wrong_type(c, s, path, "a string");
	v = config_setting_get_string(s);
	if (f->parse(v, dst, f->size))
		return fail_at(c, line_of(s), "setting '%s': must be %s (got \"%s\")", path,
			       f->expect, v);
	return 0;
}

static int load_enum(struct ctx *c, const config_setting_t *s, const struct field *f, void *dst,
		     const char *path)
{
	char list[128] = "";
	const char *v;

	assert(f->size == sizeof(int));
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return wrong_type(c, s, path, "a string");
	v = config_setting_get_string(s);
	for (int i = 0; f->names[i]; i++) {
		if (strcmp(v, f->names[i]) == 0) {
			*(int *)dst = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 f->names[i]);
	}
	return fail_at(c, line_of(s), "setting '%s': must be one of %s (got \"%s\")", path, list,
		       v);
}

static int load_path(struct ctx *c, const config_setting_t *s, const struct field *f, void *dst,
		     const char *path)
{
	const char *v;
	int n;

	assert(f->size == PATH_MAX);
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return wrong_type(c, s, path, "a string");
	v = config_setting_get_string(s);
	if (v[0] == '\0' && !(f->flags & F_EMPTY_OK))
		return fail_at(c, line_of(s), "setting '%s': must not be empty", path);
	if (v[0] == '/' || v[0] == '\0')
		n = snprintf(dst, PATH_MAX, "%s", v);
	else
		n = snprintf(dst, PATH_MAX, "%s/%s", c->dir, v);
	if (n < 0 || n >= PATH_MAX)
		return fail_at(c, line_of(s), "setting '%s': path too long (at most %d bytes)",
			       path, PATH_MAX - 1);
	return 0;
}

/* ---- walking groups and lists ------------------------------------------ */

static int load_group(struct ctx *c, const config_setting_t *g, const struct schema *sch,
		      char *base, const char *path);

#define NAME_BUF 192

/* Dotted names for messages ("mds.shards[1].address"); truncation is harmless. */
static __attribute__((format(printf, 2, 3))) void name_of(char buf[NAME_BUF], const char *fmt,
							   ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, NAME_BUF, fmt, ap);
	va_end(ap);
}

static const struct field *find_field(const struct schema *sch, const char *name)
{
	for (unsigned i = 0; i < sch->count; i++)
		if (strcmp(sch->fields[i].name, name) == 0)
			return &sch->fields[i];
	return NULL;
}

static int load_list(struct ctx *c, const config_setting_t *s, const struct field *f, char *base,
		     const char *path)
{
	const struct schema *sch = f->sub;
	char epath[NAME_BUF];
	int n;

	if (!config_setting_is_list(s))
		return wrong_type(c, s, path, "a list of groups");
	n = config_setting_length(s);
	if ((uint64_t)n < f->min || (uint64_t)n > f->max)
		return fail_at(c, line_of(s),
			       "setting '%s': must have between %llu and %llu entries (got %d)",
			       path, (unsigned long long)f->min, (unsigned long long)f->max, n);
	assert(f->size == (size_t)f->max * sch->elem_size);
	for (int i = 0; i < n; i++) {
		char *elem = base + f->off + (size_t)i * sch->elem_size;
		int rc;

		name_of(epath, "%s[%d]", path, i);
		memset(elem, 0, sch->elem_size);
		set_defaults(sch, elem);
		rc = load_group(c, config_setting_get_elem(s, (unsigned)i), sch, elem, epath);
		if (rc)
			return rc;
	}
	*(uint32_t *)(base + f->count_off) = (uint32_t)n;
	return 0;
}

static int load_field(struct ctx *c, const config_setting_t *s, const struct field *f,
		      char *base, const char *path)
{
	switch (f->kind) {
	case K_U32:
		assert(f->size == sizeof(uint32_t) && f->max <= UINT32_MAX);
		return load_number(c, s, f, base + f->off, path);
	case K_SIZE:
		assert(f->size == sizeof(uint64_t));
		return load_number(c, s, f, base + f->off, path);
	case K_BOOL:
		assert(f->size == sizeof(bool));
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return wrong_type(c, s, path, "a boolean (true or false)");
		*(bool *)(base + f->off) = config_setting_get_bool(s);
		return 0;
	case K_STRING:
		return load_string(c, s, f, base + f->off, path);
	case K_ENUM:
		return load_enum(c, s, f, base + f->off, path);
	case K_PATH:
		return load_path(c, s, f, base + f->off, path);
	case K_GROUP:
		return load_group(c, s, f->sub, base, path);
	case K_LIST:
		return load_list(c, s, f, base, path);
	}
	assert(0 && "unknown field kind");
	return -EINVAL;
}

/* Checks every member of g against sch, then loads the members sch knows. */
static int load_group(struct ctx *c, const config_setting_t *g, const struct schema *sch,
		      char *base, const char *path)
{
	const char *dot = path[0] ? "." : "";
	char sub[NAME_BUF];
	int rc;

	if (g && !config_setting_is_group(g))
		return wrong_type(c, g, path, "a group");
	for (int i = 0; g && i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);

		if (!find_field(sch, config_setting_name(m)))
			return fail_at(c, line_of(m), "unknown setting '%s%s%s'", path, dot,
				       config_setting_name(m));
	}
	for (unsigned i = 0; i < sch->count; i++) {
		const struct field *f = &sch->fields[i];
		const config_setting_t *m = g ? config_setting_get_member(g, f->name) : NULL;

		name_of(sub, "%s%s%s", path, dot, f->name);
		if (!m && f->kind == K_GROUP) /* absent: its required fields still are */
			rc = load_group(c, NULL, f->sub, base, sub);
		else if (!m && (f->flags & F_REQUIRED))
			return fail_at(c, line_of(g), "missing required setting '%s'", sub);
		else
			rc = m ? load_field(c, m, f, base, sub) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- checks across settings -------------------------------------------- */

/* Line of path (e.g. "rpc.timeout_ms"), else of fallback, else 0. */
static unsigned lookup_line(const config_t *cf, const char *path, const char *fallback)
{
	const config_setting_t *s = config_lookup(cf, path);

	if (!s && fallback)
		s = config_lookup(cf, fallback);
	return line_of(s);
}

/* Line of member of element i of the list at path. */
static unsigned elem_line(const config_t *cf, const char *path, int i, const char *member)
{
	const config_setting_t *list = config_lookup(cf, path);
	const config_setting_t *e = list ? config_setting_get_elem(list, (unsigned)i) : NULL;
	const config_setting_t *m = e ? config_setting_get_member(e, member) : NULL;

	return line_of(m ? m : e);
}

static int check_unique(struct ctx *c, const config_t *cf, const struct cfg *t)
{
	char a[32];

	for (uint32_t j = 1; j < t->mds.shard_count; j++) {
		const struct cfg_addr *y = &t->mds.shards[j].addr;

		for (uint32_t i = 0; i < j; i++) {
			const struct cfg_addr *x = &t->mds.shards[i].addr;

			if (x->port == y->port && strcasecmp(x->host, y->host) == 0)
				return fail_at(c, elem_line(cf, "mds.shards", (int)j, "address"),
					       "setting 'mds.shards[%u].address': duplicate of "
					       "mds.shards[%u] (%s port %u)",
					       j, i, y->host, y->port);
		}
	}
	for (uint32_t j = 1; j < t->pool_count; j++) {
		for (uint32_t i = 0; i < j; i++) {
			if (strcmp(t->pools[i].name, t->pools[j].name) == 0)
				return fail_at(c, elem_line(cf, "pools", (int)j, "name"),
					       "setting 'pools[%u].name': duplicate of pools[%u] "
					       "('%s')",
					       j, i, t->pools[j].name);
		}
	}
	for (uint32_t i = 0; i < t->pool_count; i++) {
		if (t->pools[i].chunk_size + BODY_HEADROOM > t->rpc.max_frame)
			return fail_at(c, elem_line(cf, "pools", (int)i, "chunk_size"),
				       "setting 'pools[%u].chunk_size': a chunk plus 64KiB "
				       "must fit in rpc.max_frame (%s)",
				       i, fmt_size(t->rpc.max_frame, a, K_SIZE));
	}
	return 0;
}

static int check_relations(struct ctx *c, const config_t *cf, const struct cfg *t)
{
	if (t->rpc.reconnect_min_ms > t->rpc.reconnect_max_ms)
		return fail_at(c, lookup_line(cf, "rpc.reconnect_min_ms", "rpc.reconnect_max_ms"),
			       "setting 'rpc.reconnect_min_ms': must not exceed "
			       "rpc.reconnect_max_ms (%u > %u)",
			       t->rpc.reconnect_min_ms, t->rpc.reconnect_max_ms);
	if (t->mds.osd_down_ms <= t->mds.heartbeat_ms)
		return fail_at(c, lookup_line(cf, "mds.osd_down_ms", "mds.heartbeat_ms"),
			       "setting 'mds.osd_down_ms': must be greater than mds.heartbeat_ms "
			       "(%u <= %u)",
			       t->mds.osd_down_ms, t->mds.heartbeat_ms);
	return check_unique(c, cf, t);
}

/* ---- the file ---------------------------------------------------------- */

/*
 * Number at *pp (skipped on return): libconfig 1.5 converts an integer without
 * an L suffix with atoi(), so it must fit in 32 bits; with L, in 64 bits.
 */
static int scan_number(struct ctx *c, const char **pp, unsigned line)
{
	const char *start = *pp, *p = *pp + (**pp == '-' || **pp == '+');
	bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X'), wide;
	size_t n = strspn(p, "0123456789.eE+-");
	unsigned long long v, lim;
	char *end;

	if (!hex && (memchr(p, '.', n) || memchr(p, 'e', n) || memchr(p, 'E', n))) {
		*pp = p + n; /* a float */
		return 0;
	}
	errno = 0;
	v = strtoull(p, &end, hex ? 16 : 10);
	wide = *end == 'L';
	for (*pp = end; **pp == 'L';)
		(*pp)++;
	lim = (wide ? (unsigned long long)INT64_MAX : INT32_MAX) + (*start == '-');
	if (errno == ERANGE || v > lim)
		return fail_at(c, line, "integer %.*s does not fit in %s", (int)(*pp - start),
			       start, wide ? "64 bits" : "32 bits (write it with an L suffix)");
	return 0;
}

/* Pre-scan described at the top; syntax errors are left to libconfig. */
static int prescan(struct ctx *c, const char *p)
{
	unsigned line = 1;
	int rc;

	while (*p) {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");

			if (!e)
				return 0;
			for (; p < e + 2; p++)
				line += *p == '\n';
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				line += *p == '\n';
			}
			p += *p != '\0';
		} else if (strncmp(p, "@include", 8) == 0) {
			return fail_at(c, line,
				       "@include is not supported (cairn.conf is one file)");
		} else if (isalpha((unsigned char)*p) || *p == '*') {
			while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '*')
				p++;
		} else if (isdigit((unsigned char)*p) ||
			   (strchr("+-.", *p) && (isdigit((unsigned char)p[1]) || p[1] == '.'))) {
			rc = scan_number(c, &p, line);
			if (rc)
				return rc;
		} else {
			p++;
		}
	}
	return 0;
}

/*
 * Reads the file into a NUL-terminated heap buffer of *len bytes, ending in a
 * newline (libconfig 1.5 calls a comment on a last line without one a syntax
 * error).
 */
static int read_text(const char *path, char **out, size_t *len)
{
	char *buf = NULL;
	FILE *f;
	int rc;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	rc = -ENOMEM;
	buf = malloc(CFG_FILE_MAX + 2);
	if (!buf)
		goto out_close;
	errno = 0;
	*len = fread(buf, 1, CFG_FILE_MAX + 1, f);
	rc = ferror(f) ? (errno ? -errno : -EIO) : *len > CFG_FILE_MAX ? -EFBIG : 0;
	if (rc)
		goto out_close;
	if (*len == 0 || buf[*len - 1] != '\n')
		buf[(*len)++] = '\n';
	buf[*len] = '\0';
	*out = buf;
	buf = NULL;
out_close:
	free(buf);
	fclose(f);
	return rc;
}

/* Absolute directory of the file, against which relative paths resolve. */
static int file_dir(const char *path, char dir[PATH_MAX])
{
	char copy[PATH_MAX];

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	if (!realpath(dirname(copy), dir))
		return -errno;
	return 0;
}

/* Parses text and fills t; the libconfig tree lives only in here. */
static int load_text(struct ctx *c, const char *text, struct cfg *t)
{
	config_t cf;
	int rc;

	rc = prescan(c, text);
	if (rc)
		return rc;
	config_init(&cf);
	if (config_read_string(&cf, text) != CONFIG_TRUE) {
		rc = fail_at(c, (unsigned)config_error_line(&cf), "%s", config_error_text(&cf));
		goto out_destroy;
	}
	cfg_defaults(t);
	rc = load_group(c, config_root_setting(&cf), &root_schema, (char *)t, "");
	if (!rc)
		rc = check_relations(c, &cf, t);
out_destroy:
	config_destroy(&cf);
	return rc;
}

int cfg_load(const char *path, struct cfg *out, char *err, size_t errlen)
{
	struct ctx c = {.file = path, .err = err, .errlen = errlen};
	struct cfg *t = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	rc = read_text(path, &text, &len);
	if (!rc)
		rc = file_dir(path, c.dir);
	if (rc) {
		fail_at(&c, 0, "cannot read: %s", error_str(rc));
		goto out_free;
	}
	if (strlen(text) != len) {
		rc = fail_at(&c, 0, "contains a NUL byte");
		goto out_free;
	}
	rc = -ENOMEM;
	t = malloc(sizeof(*t));
	if (!t) {
		fail_at(&c, 0, "cannot load: %s", error_str(rc));
		goto out_free;
	}
	rc = load_text(&c, text, t);
	if (!rc)
		memcpy(out, t, sizeof(*t));
out_free:
	free(t);
	free(text);
	return rc;
}

void cfg_defaults(struct cfg *out)
{
	memset(out, 0, sizeof(*out));
	set_defaults(&root_schema, (char *)out);
}
