/*
 * auth.h - the cluster key and the proofs of the connection handshake.
 *
 * Every daemon and client of a cluster shares one secret key, kept in a file
 * readable by its owner only (like an ssh private key).  The RPC handshake
 * (proto/conn.h) proves knowledge of the key in both directions with
 * HMAC-SHA256 over fresh random nonces, so the key never crosses the network
 * and a recorded handshake cannot be replayed.
 *
 * A struct auth_key is immutable once loaded: any number of threads may use
 * one concurrently.  Its bytes are wiped when it is freed.
 */
#ifndef CAIRN_COMMON_AUTH_H
#define CAIRN_COMMON_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_NONCE_SIZE 32
#define AUTH_PROOF_SIZE 32
#define AUTH_KEY_MIN 16 /* bytes: 32 hex characters */
#define AUTH_KEY_MAX 64 /* bytes: 128 hex characters */
#define AUTH_KEY_GEN 32 /* bytes written by auth_key_generate() */

struct auth_key;

/*
 * Loads a key file: one hex string of 32..128 characters (an even number),
 * surrounding whitespace allowed.  The file must be a regular file that
 * neither group nor others may read or write (mode 0600 or stricter).
 * Returns 0 and *out (free with auth_key_free), or
 *   -EPERM   the file is accessible by group or others (logged with the mode)
 *   -EINVAL  not a regular file, or bad content (not hex, odd or bad length)
 *   -ENOMEM  out of memory
 *   -errno   from open(2) or read(2) (-ENOENT, -EACCES, ...)
 */
int auth_key_load(const char *path, struct auth_key **out);

/*
 * Creates path with mode 0600 holding a fresh random AUTH_KEY_GEN-byte key
 * in hex.  Never overwrites: returns -EEXIST if path exists.  Returns 0,
 * -EIO if the random generator fails, or -errno from open/write/fsync (a
 * partly written file is removed).
 */
int auth_key_generate(const char *path);

/*
 * Builds a key from raw bytes (len in [AUTH_KEY_MIN, AUTH_KEY_MAX]).
 * Returns 0, -EINVAL for a bad length, or -ENOMEM.
 */
int auth_key_from_bytes(const void *bytes, size_t len, struct auth_key **out);

/* Wipes and frees; NULL is allowed. */
void auth_key_free(struct auth_key *key);

/* Fills a nonce from the cryptographic generator.  Returns 0 or -EIO. */
int auth_nonce(uint8_t nonce[AUTH_NONCE_SIZE]);

/*
 * The client's proof: HMAC-SHA256(key, "cairn-auth-client" || server_nonce
 * || client_nonce).  Returns 0 or -EIO (crypto library failure).
 */
int auth_proof_client(const struct auth_key *key, const uint8_t server_nonce[AUTH_NONCE_SIZE],
		      const uint8_t client_nonce[AUTH_NONCE_SIZE], uint8_t proof[AUTH_PROOF_SIZE]);

/*
 * The server's proof: HMAC-SHA256(key, "cairn-auth-server" || client_nonce
 * || server_nonce).  Returns 0 or -EIO.
 */
int auth_proof_server(const struct auth_key *key, const uint8_t client_nonce[AUTH_NONCE_SIZE],
		      const uint8_t server_nonce[AUTH_NONCE_SIZE], uint8_t proof[AUTH_PROOF_SIZE]);

/* Compares two proofs in constant time. */
bool auth_proof_equal(const uint8_t a[AUTH_PROOF_SIZE], const uint8_t b[AUTH_PROOF_SIZE]);

/* Plain HMAC-SHA256, exposed for tests.  Returns 0 or -EIO. */
int auth_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
		     uint8_t mac[32]);

#endif
