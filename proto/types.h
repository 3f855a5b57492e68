/*
 * types.h - sub-structures shared by the message codecs: strings, blobs,
 * credentials, inode attributes, file layouts, and the range checks every
 * decoder applies to names and modes.
 *
 * Each type T has void proto_T_encode(const T *, struct wire_enc *) and
 * void proto_T_decode(struct wire_dec *, T *).  They work on the cursor's
 * sticky error (they do not finish the cursor) so message codecs can chain
 * them and check once.  Encoders do not validate: the receiving decoder does.
 *
 * Zero copy: a proto_str or proto_blob filled by a decoder points into the
 * decoder's input buffer (it is not NUL-terminated) and is valid exactly as
 * long as that buffer; copy what must outlive it.
 *
 * Pure functions, no allocation, thread-safe.
 */
#ifndef CAIRN_PROTO_TYPES_H
#define CAIRN_PROTO_TYPES_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto/wire.h"

#define PROTO_NAME_MAX 255     /* a directory entry name */
#define PROTO_SYMLINK_MAX 4095 /* a symlink target */
#define PROTO_XATTR_NAME_MAX 255
#define PROTO_XATTR_VALUE_MAX 65536
#define PROTO_XATTR_LIST_MAX 65536
#define PROTO_CRED_GROUPS_MAX 64
#define PROTO_LAYOUT_K_MAX 32 /* data chunks per stripe */
#define PROTO_LAYOUT_M_MAX 16 /* parity chunks (replication: extra copies) */
#define PROTO_CHUNK_SIZE_MIN 4096u
#define PROTO_CHUNK_SIZE_MAX (64u << 20)
#define PROTO_CHUNKS_MAX (PROTO_LAYOUT_K_MAX + PROTO_LAYOUT_M_MAX)
#define PROTO_STRIPE_SIZE_MAX ((uint64_t)PROTO_LAYOUT_K_MAX * PROTO_CHUNK_SIZE_MAX)
#define PROTO_PG_MAX 65536 /* placement groups per pool; pg < PROTO_PG_MAX */
#define PROTO_NSEC_PER_SEC 1000000000u

/* File types of proto_attr.mode: the traditional POSIX values. */
#define PROTO_S_IFMT 0170000u
#define PROTO_S_IFSOCK 0140000u
#define PROTO_S_IFLNK 0120000u
#define PROTO_S_IFREG 0100000u
#define PROTO_S_IFBLK 0060000u
#define PROTO_S_IFDIR 0040000u
#define PROTO_S_IFCHR 0020000u
#define PROTO_S_IFIFO 0010000u
#define PROTO_S_PERM 07777u /* permission, setuid, setgid, sticky bits */

/* Directory entry types (readdir): the traditional DT_* values. */
enum proto_dtype {
	PROTO_DT_FIFO = 1,
	PROTO_DT_CHR = 2,
	PROTO_DT_DIR = 4,
	PROTO_DT_BLK = 6,
	PROTO_DT_REG = 8,
	PROTO_DT_LNK = 10,
	PROTO_DT_SOCK = 12,
};

/* Data scheme of a layout or pool. */
enum proto_scheme {
	PROTO_SCHEME_EC = 1,  /* k data + m parity chunks per stripe */
	PROTO_SCHEME_REP = 2, /* k == 1, m extra full copies (m + 1 replicas) */
};

/* proto_attr.flags */
enum proto_attr_flag {
	PROTO_ATTR_IMMUTABLE = 1u << 0, /* chattr +i */
	PROTO_ATTR_APPEND = 1u << 1,	/* chattr +a */
};
#define PROTO_ATTR_KNOWN (PROTO_ATTR_IMMUTABLE | PROTO_ATTR_APPEND)

/* Length-prefixed string (u16 length, bytes, no terminator). */
struct proto_str {
	const char *ptr;
	uint16_t len;
};

/* Length-prefixed byte string (u32 length, bytes). */
struct proto_blob {
	const uint8_t *ptr;
	uint32_t len;
};

struct proto_time {
	int64_t sec;
	uint32_t nsec; /* < PROTO_NSEC_PER_SEC */
};
#define PROTO_TIME_SIZE (8 + 4)

/* Who asks: carried by every metadata request. */
struct proto_cred {
	uint32_t uid;
	uint32_t gid;
	uint32_t ngroups; /* <= PROTO_CRED_GROUPS_MAX */
	uint32_t groups[PROTO_CRED_GROUPS_MAX];
};
#define PROTO_CRED_SIZE(ngroups) (4 + 4 + 4 + 4 * (ngroups))

struct proto_attr {
	uint64_t ino;  /* != 0 */
	uint64_t gen;  /* generation: (ino, gen) never names two inodes */
	uint32_t mode; /* a known file type | PROTO_S_PERM bits */
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint64_t rdev; /* non-zero only for character and block devices */
	uint64_t size;
	uint64_t blocks; /* 512-byte units */
	struct proto_time atime;
	struct proto_time mtime;
	struct proto_time ctime;
	uint32_t flags; /* enum proto_attr_flag */
};
#define PROTO_ATTR_SIZE (8 + 8 + 4 + 4 + 4 + 4 + 8 + 8 + 8 + 3 * PROTO_TIME_SIZE + 4)
_Static_assert(PROTO_ATTR_SIZE == 96, "proto_attr is 96 bytes on the wire");

/*
 * Where a regular file's data lives.  Stripe s holds file bytes
 * [s * k * chunk_size, (s + 1) * k * chunk_size).
 */
struct proto_layout {
	uint32_t pool_id;
	uint8_t scheme;	     /* enum proto_scheme */
	uint8_t k;	     /* 1..PROTO_LAYOUT_K_MAX; 1 for replication */
	uint8_t m;	     /* 0..PROTO_LAYOUT_M_MAX */
	uint32_t chunk_size; /* power of two in [CHUNK_SIZE_MIN, CHUNK_SIZE_MAX] */
};
#define PROTO_LAYOUT_SIZE (4 + 1 + 1 + 1 + 4)
_Static_assert(PROTO_LAYOUT_SIZE == 11, "proto_layout is 11 bytes on the wire");

/* Rules for proto_name_decode(). */
enum proto_name_rule {
	PROTO_NAME_EXISTING = 0, /* may be "." or ".." (lookup, readdir) */
	PROTO_NAME_NEW = 1,	 /* names an entry to create, remove or rename */
};

/* The result of a message encoder: 0, or -ENOSPC if the buffer overflowed. */
static inline int proto_enc_status(const struct wire_enc *e)
{
	return e->overflow ? -ENOSPC : 0;
}

void proto_str_encode(const struct proto_str *s, struct wire_enc *e);
void proto_blob_encode(const struct proto_blob *b, struct wire_enc *e);
void proto_time_encode(const struct proto_time *t, struct wire_enc *e);
void proto_cred_encode(const struct proto_cred *c, struct wire_enc *e);
void proto_attr_encode(const struct proto_attr *a, struct wire_enc *e);
void proto_layout_encode(const struct proto_layout *l, struct wire_enc *e);

/*
 * Decoders of the sub-structures.  Each fails the cursor (wire_dec_fail) on
 * truncation or any value out of range:
 *  name: 1..PROTO_NAME_MAX bytes, no '/' or NUL; with PROTO_NAME_NEW also
 *        not "." or "..".
 *  xattr name: 1..PROTO_XATTR_NAME_MAX bytes, no NUL.
 *  symlink target: 1..PROTO_SYMLINK_MAX bytes, no NUL.
 *  time: nsec < 10^9.
 *  cred: ngroups <= PROTO_CRED_GROUPS_MAX.
 *  attr: ino != 0, known file type, no mode bits outside type|PERM, rdev
 *        only on devices, valid times, known flags.
 *  layout: see proto_layout_valid().
 */
void proto_name_decode(struct wire_dec *d, struct proto_str *s, enum proto_name_rule rule);
void proto_xattr_name_decode(struct wire_dec *d, struct proto_str *s);
void proto_symlink_decode(struct wire_dec *d, struct proto_str *s);
void proto_blob_decode(struct wire_dec *d, struct proto_blob *b, uint32_t max);
void proto_time_decode(struct wire_dec *d, struct proto_time *t);
void proto_cred_decode(struct wire_dec *d, struct proto_cred *c);
void proto_attr_decode(struct wire_dec *d, struct proto_attr *a);
void proto_layout_decode(struct wire_dec *d, struct proto_layout *l);
/* An inode number: fails the cursor on 0, which never names an inode. */
uint64_t proto_ino_decode(struct wire_dec *d);
/* A u32 that may only have bits of mask set; fails the cursor otherwise. */
uint32_t proto_bits_decode(struct wire_dec *d, uint32_t mask);
/* A u8 that is 0 or 1. */
bool proto_bool_decode(struct wire_dec *d);

/* Predicates used by the decoders and by the services' own checks. */
bool proto_mode_type_valid(uint32_t mode); /* one of the PROTO_S_IF* types */
bool proto_dtype_valid(uint8_t dtype);
/* The d_type matching mode's file type (0 if the type is unknown). */
uint8_t proto_dtype_of_mode(uint32_t mode);
/* scheme known; EC: k 1..K_MAX, m 0..M_MAX; REP: k == 1; chunk_size ok. */
bool proto_layout_valid(uint8_t scheme, uint8_t k, uint8_t m, uint32_t chunk_size);

#endif
