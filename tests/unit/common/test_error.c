/* test_error.c - error names and texts for errno and Cairn codes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/error.h"

static void test_errno_names(void **state)
{
	(void)state;
	assert_string_equal(error_name(-ENOENT), "ENOENT");
	assert_string_equal(error_name(EIO), "EIO");
	assert_string_equal(error_name(0), "OK");
	assert_string_equal(error_str(-ENOENT), "No such file or directory");
}

static void test_cairn_codes(void **state)
{
	(void)state;
	for (int e = CAIRN_ERRNO_BASE; e < CAIRN_ERRNO_END; e++) {
		assert_non_null(error_name(-e));
		assert_true(error_name(-e)[0] == 'E');
		assert_non_null(error_str(e));
		assert_string_not_equal(error_str(e), "Unknown error");
	}
	assert_string_equal(error_name(-CAIRN_ECHECKSUM), "ECHECKSUM");
	assert_string_equal(error_str(-CAIRN_EAUTH), "Authentication failed");
}

static void test_unknown(void **state)
{
	(void)state;
	assert_string_equal(error_name(-999), "E?");
	assert_string_equal(error_name(CAIRN_ERRNO_END + 5), "E?");
	assert_string_equal(error_str(CAIRN_ERRNO_END + 5), "Unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_names),
		cmocka_unit_test(test_cairn_codes),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
