/*
 * test_auth.c - cluster key files (load, permissions, bad content,
 * generate), HMAC-SHA256 against RFC 4231, and the handshake proofs.
 * Key files live in a private mkdtemp() directory removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/auth.h"
#include "common/log.h"

static char dir[64];

static const char good_hex[] =
	"00112233445566778899aabbccddeeff0123456789abcdefFEDCBA9876543210";

static void path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[128];
	int fd;

	path_of(path, sizeof(path), name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int load(const char *name, struct auth_key **key)
{
	char path[128];

	path_of(path, sizeof(path), name);
	return auth_key_load(path, key);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cairn-test-auth-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_load_good(void **state)
{
	struct auth_key *key = NULL, *same = NULL;
	uint8_t raw[32], n1[32] = {1}, n2[32] = {2}, p1[32], p2[32];

	(void)state;
	write_file("good", good_hex, 0600);
	assert_int_equal(load("good", &key), 0);
	/* Surrounding whitespace and a newline are fine; 0400 is stricter than 0600. */
	write_file("spaced", "  \n00112233445566778899aabbccddeeff0123456789abcdef"
			     "FEDCBA9876543210\n\n",
		   0400);
	assert_int_equal(load("spaced", &same), 0);
	/* Same bytes as the raw key: identical proofs. */
	for (int i = 0; i < 32; i++)
		raw[i] = (uint8_t)strtoul((char[]){good_hex[2 * i], good_hex[2 * i + 1], 0}, NULL, 16);
	assert_int_equal(auth_proof_client(key, n1, n2, p1), 0);
	assert_int_equal(auth_proof_client(same, n1, n2, p2), 0);
	assert_true(auth_proof_equal(p1, p2));
	auth_key_free(same);
	assert_int_equal(auth_key_from_bytes(raw, sizeof(raw), &same), 0);
	assert_int_equal(auth_proof_client(same, n1, n2, p2), 0);
	assert_true(auth_proof_equal(p1, p2));
	auth_key_free(same);
	auth_key_free(key);
}

static void test_load_bad_mode(void **state)
{
	struct auth_key *key = NULL;

	(void)state;
	write_file("open", good_hex, 0644);
	assert_int_equal(load("open", &key), -EPERM);
	write_file("groupw", good_hex, 0620);
	assert_int_equal(load("groupw", &key), -EPERM);
	write_file("otherx", good_hex, 0601);
	assert_int_equal(load("otherx", &key), -EPERM);
	assert_null(key);
}

static void test_load_bad_content(void **state)
{
	struct auth_key *key = NULL;
	char big[300];

	(void)state;
	write_file("nothex", "zz112233445566778899aabbccddeeff0123456789abcdef", 0600);
	assert_int_equal(load("nothex", &key), -EINVAL);
	/* 30 hex characters: shorter than the 32 minimum. */
	write_file("short", "00112233445566778899aabbccddee", 0600);
	assert_int_equal(load("short", &key), -EINVAL);
	write_file("odd", "00112233445566778899aabbccddeeff0", 0600);
	assert_int_equal(load("odd", &key), -EINVAL);
	write_file("empty", "", 0600);
	assert_int_equal(load("empty", &key), -EINVAL);
	write_file("inner", "0011223344556677 8899aabbccddeeff00112233", 0600);
	assert_int_equal(load("inner", &key), -EINVAL);
	memset(big, 'a', 130);
	big[130] = '\0';
	write_file("long", big, 0600);
	assert_int_equal(load("long", &key), -EINVAL);
	/* Exactly 32 and 128 characters are accepted. */
	big[32] = '\0';
	write_file("min", big, 0600);
	assert_int_equal(load("min", &key), 0);
	auth_key_free(key);
	memset(big, 'b', 128);
	big[128] = '\0';
	write_file("max", big, 0600);
	assert_int_equal(load("max", &key), 0);
	auth_key_free(key);
}

static void test_load_missing_and_dir(void **state)
{
	struct auth_key *key = NULL;
	char path[128];

	(void)state;
	assert_int_equal(load("does-not-exist", &key), -ENOENT);
	path_of(path, sizeof(path), "subdir");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(load("subdir", &key), -EINVAL);
	assert_null(key);
}

static void test_generate(void **state)
{
	struct auth_key *k1 = NULL, *k2 = NULL;
	uint8_t n1[32] = {7}, n2[32] = {8}, p1[32], p2[32];
	char path[128], path2[128];
	struct stat st;

	(void)state;
	path_of(path, sizeof(path), "gen1");
	path_of(path2, sizeof(path2), "gen2");
	assert_int_equal(auth_key_generate(path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 2 * AUTH_KEY_GEN + 1);
	assert_int_equal(auth_key_generate(path), -EEXIST);
	assert_int_equal(auth_key_load(path, &k1), 0);
	assert_int_equal(auth_key_generate(path2), 0);
	assert_int_equal(auth_key_load(path2, &k2), 0);
	/* Two generated keys differ: their proofs over the same nonces differ. */
	assert_int_equal(auth_proof_client(k1, n1, n2, p1), 0);
	assert_int_equal(auth_proof_client(k2, n1, n2, p2), 0);
	assert_false(auth_proof_equal(p1, p2));
	auth_key_free(k1);
	auth_key_free(k2);
	path_of(path, sizeof(path), "no-such-dir/key");
	assert_int_equal(auth_key_generate(path), -ENOENT);
}

/* RFC 4231 test cases 1, 2 and 6 (a key longer than the block size). */
static void test_hmac_rfc4231(void **state)
{
	static const uint8_t mac1[32] = {
		0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53, 0x5c, 0xa8, 0xaf,
		0xce, 0xaf, 0x0b, 0xf1, 0x2b, 0x88, 0x1d, 0xc2, 0x00, 0xc9, 0x83,
		0x3d, 0xa7, 0x26, 0xe9, 0x37, 0x6c, 0x2e, 0x32, 0xcf, 0xf7};
	static const uint8_t mac2[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
		0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
		0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
	static const uint8_t mac6[32] = {
		0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0, 0xb6, 0x7f, 0x0d, 0x8a, 0x26,
		0xaa, 0xcb, 0xf5, 0xb7, 0x7f, 0x8e, 0x0b, 0xc6, 0x21, 0x37, 0x28,
		0xc5, 0x14, 0x05, 0x46, 0x04, 0x0f, 0x0e, 0xe3, 0x7f, 0x54};
	static const char msg6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	uint8_t key[131], mac[32];

	(void)state;
	memset(key, 0x0b, 20);
	assert_int_equal(auth_hmac_sha256(key, 20, "Hi There", 8, mac), 0);
	assert_memory_equal(mac, mac1, 32);
	assert_int_equal(auth_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac), 0);
	assert_memory_equal(mac, mac2, 32);
	memset(key, 0xaa, sizeof(key));
	assert_int_equal(auth_hmac_sha256(key, sizeof(key), msg6, strlen(msg6), mac), 0);
	assert_memory_equal(mac, mac6, 32);
}

static void test_proofs(void **state)
{
	uint8_t raw[32], sn[32], cn[32], other[32];
	uint8_t pc[32], ps[32], p[32], manual[32], msg[17 + 64];
	struct auth_key *key, *key2;

	(void)state;
	for (int i = 0; i < 32; i++)
		raw[i] = (uint8_t)(i * 3 + 1);
	assert_int_equal(auth_key_from_bytes(raw, sizeof(raw), &key), 0);
	raw[0] ^= 1;
	assert_int_equal(auth_key_from_bytes(raw, sizeof(raw), &key2), 0);
	raw[0] ^= 1;
	assert_int_equal(auth_nonce(sn), 0);
	assert_int_equal(auth_nonce(cn), 0);
	assert_int_equal(auth_nonce(other), 0);
	assert_memory_not_equal(sn, cn, 32);

	/* The client proof is exactly HMAC(key, label || server || client). */
	assert_int_equal(auth_proof_client(key, sn, cn, pc), 0);
	memcpy(msg, "cairn-auth-client", 17);
	memcpy(msg + 17, sn, 32);
	memcpy(msg + 49, cn, 32);
	assert_int_equal(auth_hmac_sha256(raw, sizeof(raw), msg, sizeof(msg), manual), 0);
	assert_memory_equal(pc, manual, 32);

	/* Server and client proofs differ even over the same nonces. */
	assert_int_equal(auth_proof_server(key, cn, sn, ps), 0);
	assert_false(auth_proof_equal(pc, ps));
	/* Another key, another nonce: another proof. */
	assert_int_equal(auth_proof_client(key2, sn, cn, p), 0);
	assert_false(auth_proof_equal(pc, p));
	assert_int_equal(auth_proof_client(key, sn, other, p), 0);
	assert_false(auth_proof_equal(pc, p));
	assert_int_equal(auth_proof_client(key, other, cn, p), 0);
	assert_false(auth_proof_equal(pc, p));
	auth_key_free(key);
	auth_key_free(key2);

	assert_int_equal(auth_key_from_bytes(raw, AUTH_KEY_MIN - 1, &key), -EINVAL);
	assert_int_equal(auth_key_from_bytes(raw, AUTH_KEY_MAX + 1, &key), -EINVAL);
	auth_key_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_load_bad_mode),
		cmocka_unit_test(test_load_bad_content),
		cmocka_unit_test(test_load_missing_and_dir),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_proofs),
	};

	log_setup("test_auth", LOG_LVL_ERROR, false);
	return cmocka_run_group_tests(tests, setup, teardown);
}
