/*
 * error.c - names and descriptions for error numbers (see error.h).
 * Stateless and thread-safe.
 */
#include "common/error.h"

#include <errno.h>
#include <string.h>

struct error_desc {
	const char *name;
	const char *text;
};

static const struct error_desc cairn_errors[CAIRN_ERRNO_END - CAIRN_ERRNO_BASE] = {
	[CAIRN_EBADFRAME - CAIRN_ERRNO_BASE] = {"EBADFRAME", "Malformed message"},
	[CAIRN_ECHECKSUM - CAIRN_ERRNO_BASE] = {"ECHECKSUM", "Checksum mismatch"},
	[CAIRN_EAUTH - CAIRN_ERRNO_BASE] = {"EAUTH", "Authentication failed"},
	[CAIRN_EPROTOVER - CAIRN_ERRNO_BASE] = {"EPROTOVER", "Protocol version not supported"},
	[CAIRN_ESTALEMAP - CAIRN_ERRNO_BASE] = {"ESTALEMAP", "Cluster map epoch is stale"},
	[CAIRN_ENOTPRIMARY - CAIRN_ERRNO_BASE] = {"ENOTPRIMARY", "Not the primary OSD of the PG"},
	[CAIRN_ECONFIG - CAIRN_ERRNO_BASE] = {"ECONFIG", "Invalid configuration"},
};

static int error_abs(int err)
{
	return err < 0 ? -err : err;
}

const char *error_name(int err)
{
	const char *name;

	err = error_abs(err);
	if (err >= CAIRN_ERRNO_BASE && err < CAIRN_ERRNO_END)
		return cairn_errors[err - CAIRN_ERRNO_BASE].name;
	if (err == 0)
		return "OK";
	name = strerrorname_np(err);
	return name ? name : "E?";
}

const char *error_str(int err)
{
	const char *text;

	err = error_abs(err);
	if (err >= CAIRN_ERRNO_BASE && err < CAIRN_ERRNO_END)
		return cairn_errors[err - CAIRN_ERRNO_BASE].text;
	if (err == 0)
		return "Success";
	text = strerrordesc_np(err);
	return text ? text : "Unknown error";
}
