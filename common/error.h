/*
 * error.h - Cairn's error convention.
 *
 * Every action returns 0 on success or a negative error number: a Linux
 * errno (-ENOENT, -EIO, ...) or one of Cairn's own codes below, which sit
 * above the errno range so the two never collide.  The same numbers travel in
 * the status field of RPC responses.
 */
#ifndef CAIRN_COMMON_ERROR_H
#define CAIRN_COMMON_ERROR_H

#define CAIRN_ERRNO_BASE 1000

enum cairn_errno {
	CAIRN_EBADFRAME = CAIRN_ERRNO_BASE, /* malformed frame or message body */
	CAIRN_ECHECKSUM,		    /* data failed its checksum */
	CAIRN_EAUTH,			    /* peer failed authentication */
	CAIRN_EPROTOVER,		    /* protocol version not supported */
	CAIRN_ESTALEMAP,		    /* sender's cluster map epoch too old */
	CAIRN_ENOTPRIMARY,		    /* OSD is not the primary of the PG */
	CAIRN_ECONFIG,			    /* invalid configuration */
	CAIRN_ERRNO_END
};

/*
 * Symbolic name of an error ("ENOENT", "ECHECKSUM"); accepts err or -err.
 * Returns "E?" for numbers that are neither errno nor Cairn codes.
 */
const char *error_name(int err);

/* strerror-like text for err or -err; thread-safe, never NULL. */
const char *error_str(int err);

#endif
