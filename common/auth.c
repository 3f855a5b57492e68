/*
 * auth.c - cluster key files and handshake proofs (see auth.h), on OpenSSL
 * libcrypto.  No state of its own; keys are immutable after construction.
 */
#include "common/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/log.h"

#define KEY_FILE_MAX 4096 /* a key file is a short hex line; anything longer is wrong */

struct auth_key {
	size_t len;
	uint8_t bytes[AUTH_KEY_MAX];
};

static const char client_label[] = "cairn-auth-client";
static const char server_label[] = "cairn-auth-server";

int auth_key_from_bytes(const void *bytes, size_t len, struct auth_key **out)
{
	struct auth_key *key;

	if (len < AUTH_KEY_MIN || len > AUTH_KEY_MAX)
		return -EINVAL;
	key = calloc(1, sizeof(*key));
	if (!key)
		return -ENOMEM;
	memcpy(key->bytes, bytes, len);
	key->len = len;
	*out = key;
	return 0;
}

void auth_key_free(struct auth_key *key)
{
	if (!key)
		return;
	OPENSSL_cleanse(key, sizeof(*key));
	free(key);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parses the trimmed hex text of a key file into raw bytes. */
static int parse_hex_key(const char *text, size_t n, uint8_t *raw, size_t *raw_len)
{
	size_t start = 0, end = n;

	while (start < end && is_space(text[start]))
		start++;
	while (end > start && is_space(text[end - 1]))
		end--;
	n = end - start;
	if (n % 2 || n < 2 * AUTH_KEY_MIN || n > 2 * AUTH_KEY_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_value(text[start + i]);
		int lo = hex_value(text[start + i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		raw[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*raw_len = n / 2;
	return 0;
}

/* Reads at most cap bytes of fd; a file that does not fit is refused. */
static int read_small_file(int fd, char *buf, size_t cap, size_t *len)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap)
			return -EINVAL;
	}
	*len = got;
	return 0;
}

static int check_key_file_mode(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		log_error("key file %s is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		log_error("key file %s has mode %04o: it must not be accessible by group or "
			  "others (chmod 600 %s)",
			  path, (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

int auth_key_load(const char *path, struct auth_key **out)
{
	char text[KEY_FILE_MAX];
	uint8_t raw[AUTH_KEY_MAX];
	size_t text_len = 0, raw_len = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ret = check_key_file_mode(fd, path);
	if (ret)
		goto out_close;
	ret = read_small_file(fd, text, sizeof(text), &text_len);
	if (ret)
		goto out_wipe;
	ret = parse_hex_key(text, text_len, raw, &raw_len);
	if (ret) {
		log_error("key file %s: expected %d to %d hex characters", path, 2 * AUTH_KEY_MIN,
			  2 * AUTH_KEY_MAX);
		goto out_wipe;
	}
	ret = auth_key_from_bytes(raw, raw_len, out);
out_wipe:
	OPENSSL_cleanse(text, sizeof(text));
	OPENSSL_cleanse(raw, sizeof(raw));
out_close:
	close(fd);
	return ret;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int auth_key_generate(const char *path)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t raw[AUTH_KEY_GEN];
	char text[2 * AUTH_KEY_GEN + 1];
	int fd, ret;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	for (size_t i = 0; i < sizeof(raw); i++) {
		text[2 * i] = digits[raw[i] >> 4];
		text[2 * i + 1] = digits[raw[i] & 15];
	}
	text[2 * AUTH_KEY_GEN] = '\n';

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out_wipe;
	}
	ret = write_all(fd, text, sizeof(text));
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (ret)
		unlink(path);
out_wipe:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(text, sizeof(text));
	return ret;
}

int auth_nonce(uint8_t nonce[AUTH_NONCE_SIZE])
{
	return RAND_bytes(nonce, AUTH_NONCE_SIZE) == 1 ? 0 : -EIO;
}

int auth_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
		     uint8_t mac[32])
{
	unsigned int mac_len = 0;

	if (key_len > INT32_MAX)
		return -EINVAL;
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, mac, &mac_len) || mac_len != 32)
		return -EIO;
	return 0;
}

/* HMAC(key, label || a || b): the shape of both proofs. */
static int proof(const struct auth_key *key, const char *label, size_t label_len,
		 const uint8_t a[AUTH_NONCE_SIZE], const uint8_t b[AUTH_NONCE_SIZE],
		 uint8_t out[AUTH_PROOF_SIZE])
{
	uint8_t msg[32 + 2 * AUTH_NONCE_SIZE];

	_Static_assert(sizeof(client_label) - 1 <= 32, "label fits the proof buffer");
	memcpy(msg, label, label_len);
	memcpy(msg + label_len, a, AUTH_NONCE_SIZE);
	memcpy(msg + label_len + AUTH_NONCE_SIZE, b, AUTH_NONCE_SIZE);
	return auth_hmac_sha256(key->bytes, key->len, msg, label_len + 2 * AUTH_NONCE_SIZE, out);
}

int auth_proof_client(const struct auth_key *key, const uint8_t server_nonce[AUTH_NONCE_SIZE],
		      const uint8_t client_nonce[AUTH_NONCE_SIZE], uint8_t out[AUTH_PROOF_SIZE])
{
	return proof(key, client_label, sizeof(client_label) - 1, server_nonce, client_nonce, out);
}

int auth_proof_server(const struct auth_key *key, const uint8_t client_nonce[AUTH_NONCE_SIZE],
		      const uint8_t server_nonce[AUTH_NONCE_SIZE], uint8_t out[AUTH_PROOF_SIZE])
{
	return proof(key, server_label, sizeof(server_label) - 1, client_nonce, server_nonce, out);
}

bool auth_proof_equal(const uint8_t a[AUTH_PROOF_SIZE], const uint8_t b[AUTH_PROOF_SIZE])
{
	return CRYPTO_memcmp(a, b, AUTH_PROOF_SIZE) == 0;
}
